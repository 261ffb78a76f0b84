/**
 * The request object handlers receive: `instanceof Request`, with every property and method of
 * the Web `Request`, but built lazily. A real `Request` costs more to construct than the rest of
 * a hello-world exchange (docs/BENCHMARKS.md), so only the parts a handler touches are made: `url` is one string concatenation, `headers` a `Headers`
 * made on first use (`request_headers.ts`: where the runtime allows, one that answers `get` and `has`
 * from the parsed fields), `signal` an `AbortController` created on first use, and the body is the
 * stream the connection feeds. Anything else (`clone()`, `formData()`, `cache`, …) is answered
 * by a real `Request` created on demand from the same parts.
 *
 * One limit: runtime functions that check the internal brand of a `Request` (`fetch(request)`,
 * `new Request(request)`) do not accept it, as it is not the runtime's own object. Pass
 * `request.clone()`, which is a real `Request`, or use it as the init: `new Request(url, request)`.
 *
 * @module
 */

import type { RequestHead } from "../core/parser.ts";
import type { RequestBody } from "./request_body.ts";
import { requestHeaders } from "./request_headers.ts";
import { standIn } from "./stand_in.ts";

/** The connection's side of a request: what the lazy object is built from. */
export interface RequestSource {
  /** The parsed head. */
  readonly head: RequestHead;
  /** The absolute URL, as the connection builds it from the target and authority. */
  readonly url: string;
  /** The body, or `null` when the request has no body. */
  readonly body: RequestBody | null;
}

const NativeRequest = globalThis.Request;

/**
 * Where a server's requests are: the scheme its listener speaks, and the authority to use for a
 * request that names none (HTTP/1.0 without Host): the listener's `host:port`, or `localhost` on a
 * unix socket.
 *
 * @example
 * ```ts
 * import type { RequestOrigin } from "./request.ts";
 *
 * const origin: RequestOrigin = { scheme: "https", authority: "127.0.0.1:8443" };
 * ```
 */
export interface RequestOrigin {
  /** `http` or, on a TLS listener, `https`. */
  readonly scheme: "http" | "https";
  /** The authority for requests that name none. */
  readonly authority: string;
}

/**
 * The absolute URL of a request: its target when that is absolute, else the target under the
 * server's scheme and the authority the request names (its Host), or the server's own when it
 * names none (HTTP/1.0 without Host).
 *
 * @param head The request head.
 * @param origin The server's scheme and fallback authority.
 * @returns The URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser } from "../core/mod.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "../core/limits.ts";
 * import { requestUrl } from "./request.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
 * const bytes = new TextEncoder().encode("GET /a?b HTTP/1.0\r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * assert.equal(requestUrl(parser.head!, { scheme: "http", authority: "[::1]:8000" }), "http://[::1]:8000/a?b");
 * assert.equal(requestUrl(parser.head!, { scheme: "https", authority: "a.test" }), "https://a.test/a?b");
 * ```
 */
export function requestUrl(head: RequestHead, origin: RequestOrigin): string {
  switch (head.targetForm) {
    case "origin":
      return `${origin.scheme}://${head.authority ?? origin.authority}${head.target}`;
    case "absolute":
      return head.target;
    case "asterisk":
      return `${origin.scheme}://${head.authority ?? origin.authority}/*`;
    case "authority":
      return `${origin.scheme}://${head.target}/`;
    default:
      throw new Error(`unreachable target form ${head.targetForm satisfies never}`);
  }
}

/**
 * A lazily built Web `Request` for one received request head.
 *
 * @example The handler sees a Request
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "../server/serve.ts";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) => {
 *   assert.ok(request instanceof Request);
 *   return new Response(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("x-a")}`);
 * });
 * const { port } = await server.ready;
 * const response = await fetch(`http://127.0.0.1:${port}/p`, { headers: { "x-a": "1" } });
 * assert.equal(await response.text(), "GET /p 1");
 * await server.shutdown();
 * ```
 */
export class ServerRequest {
  readonly #source: RequestSource;
  #headers: Headers | null = null;
  #controller: AbortController | null = null;
  #abortReason: unknown = undefined;
  #aborted = false;
  #real: Request | null = null;
  #bodyUsed = false;
  #realHasBody = false;

  /**
   * Wraps a received head. Made by the server, not by handlers.
   * @param source The head, URL and body stream.
   */
  constructor(source: RequestSource) {
    this.#source = source;
  }

  /**
   * The parsed head of a request that the server made, for the server's own modules (such as the
   * WebSocket upgrade).
   * @param request Any value.
   * @returns Its head, or `null` when it is not a request of this server.
   */
  static headOf(request: unknown): RequestHead | null {
    return typeof request === "object" && request !== null && #source in request
      ? (request as ServerRequest).#source.head
      : null;
  }

  /** The method exactly as sent. */
  get method(): string {
    return this.#source.head.method;
  }

  /** The absolute URL of the request. */
  get url(): string {
    return this.#source.url;
  }

  /**
   * The header fields, made into a `Headers` on first use. Repeated fields are joined with `, `,
   * except Cookie, whose values are joined with `; ` (RFC 9113 §8.2.3; what Node's and Bun's
   * `Headers` and `Deno.serve` do too).
   */
  get headers(): Headers {
    return this.#headers ??= requestHeaders(this.#source.head.fields);
  }

  /** Aborted when the connection closes before the response is complete. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** The body stream; `null` for a request without a body (and always for GET and HEAD). */
  get body(): ReadableStream<Uint8Array> | null {
    return this.#realHasBody ? this.#real!.body : (this.#source.body?.stream ?? null);
  }

  /** Whether the body has been read. */
  get bodyUsed(): boolean {
    if (this.#realHasBody) return this.#real!.bodyUsed;
    return this.#bodyUsed || (this.#source.body?.locked ?? false);
  }

  /** Reads the whole body. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer as ArrayBuffer;
  }

  /** Reads the whole body into one array. */
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#realHasBody) return new Uint8Array(await this.#real!.arrayBuffer());
    const body = this.#takeBody();
    return body === null ? new Uint8Array(0) : await body.readAll();
  }

  /** Reads the whole body as UTF-8 text. */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  /** Reads the whole body as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** Aborts {@link ServerRequest.signal}, now or whenever it is first read. Called by the server. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** The body for a whole-body read, which marks it used; throws if it was read. */
  #takeBody(): RequestBody | null {
    if (this.bodyUsed) throw new TypeError("the request body has already been read");
    this.#bodyUsed = true;
    return this.#source.body;
  }

  /**
   * The real `Request`, made on first need with this one's headers and signal, and its body
   * stream unless that has been read already (then this object keeps answering for the body).
   */
  toRequest(): Request {
    if (this.#real === null) {
      const method = this.method;
      const init: RequestInit & { duplex?: "half" } = { method, headers: this.headers, signal: this.signal };
      const body = this.#source.body;
      if (body !== null && method !== "GET" && method !== "HEAD" && !this.bodyUsed) {
        init.body = body.stream;
        init.duplex = "half";
      }
      const real = new NativeRequest(this.url, init);
      if (real.method !== method) {
        // Bun's Request turns methods it does not know into GET: never show a different method.
        throw new TypeError(`this runtime's Request cannot carry the method ${method}`);
      }
      this.#real = real;
      this.#realHasBody = init.body !== undefined;
    }
    return this.#real;
  }
}

// `instanceof Request` holds, and every other member of Request is answered by the real one.
standIn(
  ServerRequest.prototype,
  NativeRequest.prototype,
  "Request",
  (self) => (self as ServerRequest).toRequest(),
);
