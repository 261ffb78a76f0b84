/**
 * `LightResponse`: the `FastResponse` of Node. Constructing undici's `Response` is costly (a
 * large part of a hello-world request; see docs/BENCHMARKS.md), and reading a byte body back out
 * copies it twice more. A `LightResponse` made from a string or bytes keeps just the body, status
 * and headers; it validates its arguments as `Response` does, and copies a byte body once, as the
 * Fetch standard requires (into a buffer the server can send directly, `body_pool.ts`). It is
 * `instanceof Response`, and every member of `Response` works on it: the cheap ones directly, the
 * rest (`body`, `clone()`, `blob()`, …) through a real `Response` made on first such use. A body
 * of any other kind (a stream, a Blob, form data) makes the real `Response` at once. It gives the
 * server its parts through the outgoing-response protocol (`outgoing.ts`).
 *
 * The limit: runtime code that checks a `Response`'s internal brand does not accept it. On Node
 * nothing that takes a `Response` does so (`WebAssembly.compileStreaming` uses `instanceof`), which
 * is why it is used there only; on Deno and Bun, where `Deno.serve`, `Bun.serve` and `caches`
 * check the brand and a real `Response` is cheap, `FastResponse` is a subclass of the real class.
 *
 * @module
 */

import { isFinalStatus } from "../core/framing.ts";
import { bodyPool } from "./body_pool.ts";
import {
  contentTypeFields,
  type FieldList,
  JSON_FIELDS,
  NO_FIELDS,
  OUTGOING,
  type OutgoingResponse,
  type SendableResponse,
  TEXT_FIELDS,
} from "./outgoing.ts";
import { standIn } from "./stand_in.ts";

const NativeResponse = globalThis.Response;

/**
 * Whether a value is a `Response`: a real one of this runtime (made before or after any global
 * replacement, or by a subclass) or a light one. `instanceof` on the fast classes answers this.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isResponse, LightResponse } from "./light_response.ts";
 *
 * assert.ok(isResponse(new Response("a")) && isResponse(new LightResponse("b")));
 * assert.ok(!isResponse({ status: 200 }));
 * ```
 */
export function isResponse(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    Object.prototype.isPrototypeOf.call(NativeResponse.prototype, value);
}

/**
 * A value as `Response.json`'s body text.
 *
 * @param data The value to serialize.
 * @returns The JSON text.
 * @throws {TypeError} If the value cannot be serialized (`undefined`, a function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonText } from "./light_response.ts";
 *
 * assert.equal(jsonText({ a: [1] }), '{"a":[1]}');
 * assert.throws(() => jsonText(undefined), TypeError);
 * ```
 */
export function jsonText(data: unknown): string {
  const text = JSON.stringify(data);
  if (text === undefined) throw new TypeError("the value cannot be serialized to JSON");
  return text;
}

/**
 * The body and init of a JSON response, as `Response.json` makes them: the value serialized,
 * and Content-Type `application/json` unless the init sets one.
 *
 * @param data The value to serialize.
 * @param init Status, status text and headers.
 * @returns The arguments for the response constructor.
 * @throws {TypeError} If the value cannot be serialized (`undefined`, a function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonBody } from "./light_response.ts";
 *
 * const [text, init] = jsonBody({ a: 1 }, { status: 201 });
 * assert.equal(text, '{"a":1}');
 * assert.equal(new Headers(init.headers).get("content-type"), "application/json");
 * ```
 */
export function jsonBody(data: unknown, init: ResponseInit): [string, ResponseInit] {
  const text = jsonText(data);
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  return [text, { status: init.status, statusText: init.statusText, headers }];
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** reason-phrase of RFC 9112 §4: HTAB, SP, VCHAR and obs-text. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A `Response` that holds a string or byte body itself.
 *
 * @example It is a Response
 * ```ts
 * import assert from "node:assert/strict";
 * import { LightResponse } from "./light_response.ts";
 *
 * const response = new LightResponse("hi", { status: 201, headers: { "x-a": "1" } });
 * assert.ok(response instanceof Response);
 * assert.equal(response.status, 201);
 * assert.equal(response.headers.get("x-a"), "1");
 * assert.equal(await response.clone().text(), "hi");
 * assert.equal(await response.text(), "hi");
 * assert.throws(() => response.clone(), TypeError);
 * ```
 */
export class LightResponse implements SendableResponse {
  /** The string the body was made from, while this object holds the body unread. */
  #text: string | undefined;
  /** The copy of the bytes the body was made from, while this object holds the body unread. */
  #bytes: Uint8Array | undefined;
  readonly #status: number;
  readonly #statusText: string;
  /** The fields a response gets when its handler gives none (a string's Content-Type, or JSON's). */
  #defaults: FieldList;
  #headers: Headers | null = null;
  #defaultsSet = false;
  #bodyUsed = false;
  #real: Response | null = null;

  /**
   * Makes a response, as `new Response(body, init)` does, with the same checks.
   * @param body The body.
   * @param init Status, status text and headers.
   */
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    const status = init?.status ?? 200;
    const statusText = init?.statusText ?? "";
    if (!isFinalStatus(status)) {
      throw new RangeError(`the status ${status} is not in the range 200 to 599`);
    }
    if (!REASON_PHRASE.test(statusText)) throw new TypeError("the status text is not a valid reason phrase");
    if (body !== null && body !== undefined && NULL_BODY_STATUSES.has(status)) {
      throw new TypeError(`a response with status ${status} cannot have a body`);
    }
    this.#status = status;
    this.#statusText = statusText;
    this.#defaults = typeof body === "string" ? TEXT_FIELDS : NO_FIELDS;
    this.#text = typeof body === "string" ? body : undefined;
    this.#bytes = undefined;
    // Byte bodies are copied, as the Fetch standard's "extract a body" does: the handler may reuse
    // its buffer once the response is made.
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      this.#bytes = bodyPool.copy(body);
    } else if (body !== null && body !== undefined && typeof body !== "string") {
      this.#real = new NativeResponse(body, init); // a stream, Blob or form data: the real thing
      return;
    }
    if (init?.headers !== undefined) {
      // A record of one Content-Type is a constant list, made once (and checked then); any other
      // headers are a Headers, validated now, as Response does.
      const fields = contentTypeFields(init.headers);
      if (fields !== null) this.#defaults = fields;
      else this.#headers = new Headers(init.headers);
    }
  }

  /** The status code. */
  get status(): number {
    return this.#status;
  }

  /** The status text. */
  get statusText(): string {
    return this.#statusText;
  }

  /** Whether the status is 200 to 299. */
  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }

  /** `"default"`, as for every response a handler makes. */
  get type(): ResponseType {
    return "default";
  }

  /** `""`, as for every response a handler makes. */
  get url(): string {
    return "";
  }

  /** `false`, as for every response a handler makes. */
  get redirected(): boolean {
    return false;
  }

  /** The header fields, with the Content-Type a string body implies. */
  get headers(): Headers {
    if (this.#real !== null) return this.#real.headers;
    this.#headers ??= new Headers();
    if (!this.#defaultsSet) {
      this.#defaultsSet = true;
      for (const [name, value] of this.#defaults) {
        if (!this.#headers.has(name)) this.#headers.set(name, value);
      }
    }
    return this.#headers;
  }

  /**
   * The parts for the server: constant fields while no `Headers` exists, and the body while this
   * object holds it. A byte body is given up: it counts as read from then on.
   * @returns The status, fields and body.
   */
  [OUTGOING](): OutgoingResponse {
    const fields = this.#real === null && this.#headers === null ? this.#defaults : this.headers;
    let body: string | Uint8Array | null = null;
    if (this.#real === null && !this.#bodyUsed) {
      body = this.#text ?? this.#bytes ?? null;
      if (this.#bytes !== undefined) {
        this.#bytes = undefined;
        this.#bodyUsed = true;
      }
    }
    return { status: this.#status, statusText: this.#statusText, fields, body };
  }

  /** Whether the body has been read. */
  get bodyUsed(): boolean {
    return this.#bodyUsed || (this.#real?.bodyUsed ?? false);
  }

  /** The body as a stream (made by a real `Response`). */
  get body(): ReadableStream<Uint8Array> | null {
    return this.toResponse().body;
  }

  /** Reads the whole body as text. */
  async text(): Promise<string> {
    if (this.#real !== null) return await this.#real.text();
    const body = this.#take();
    if (typeof body === "string") return body;
    const text = new TextDecoder().decode(body);
    bodyPool.recycle(body);
    return text;
  }

  /** Reads the whole body as bytes. */
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#real !== null) return new Uint8Array(await this.#real.arrayBuffer());
    const body = this.#take();
    if (typeof body === "string") return new TextEncoder().encode(body);
    // The copy has room in front and may be pooled: the reader gets an array of its own.
    const own = body.slice();
    bodyPool.recycle(body);
    return own;
  }

  /** Reads the whole body. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer;
  }

  /** Reads the whole body as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** A copy of the response, body included. */
  clone(): Response {
    if (this.bodyUsed) throw new TypeError("the response body has already been read");
    return this.toResponse().clone();
  }

  /** The body taken for a whole read: marks it used, or throws if it was. */
  #take(): string | Uint8Array<ArrayBuffer> {
    if (this.#bodyUsed) throw new TypeError("the response body has already been read");
    this.#bodyUsed = true;
    const body = this.#text ?? this.#bytes ?? new Uint8Array(0);
    this.#text = undefined;
    this.#bytes = undefined;
    return body as string | Uint8Array<ArrayBuffer>;
  }

  /** The real `Response`, made on first need, with this one's status, headers and unread body. */
  toResponse(): Response {
    if (this.#real === null) {
      const init = { status: this.#status, statusText: this.#statusText, headers: this.headers };
      if (this.#bodyUsed) {
        // The body was read here: the real response's is read too, so that it says so.
        this.#real = new NativeResponse("", init);
        this.#real.arrayBuffer().catch(() => {});
      } else if (this.#bytes !== undefined) {
        this.#real = new NativeResponse(this.#bytes as Uint8Array<ArrayBuffer>, init); // copies it
        bodyPool.recycle(this.#bytes);
      } else {
        this.#real = new NativeResponse(this.#text ?? null, init);
      }
      // From now on the real response owns the body.
      this.#text = undefined;
      this.#bytes = undefined;
    }
    return this.#real;
  }

  /**
   * A JSON response, as `Response.json` makes it.
   * @param data The value to serialize.
   * @param init Status, status text and headers; Content-Type defaults to `application/json`.
   * @returns The response.
   */
  static json(data: unknown, init: ResponseInit = {}): LightResponse {
    if (init.headers !== undefined) return new LightResponse(...jsonBody(data, init));
    // No fields given: JSON's Content-Type is a constant list until the headers are first read.
    const response = new LightResponse(jsonText(data), { status: init.status, statusText: init.statusText });
    response.#defaults = JSON_FIELDS;
    return response;
  }

  /**
   * A network error response, as `Response.error` makes it.
   * @returns The response.
   */
  static error(): Response {
    return NativeResponse.error();
  }

  /**
   * A redirect, as `Response.redirect` makes it.
   * @param url Where to.
   * @param status 301, 302, 303, 307 or 308.
   * @returns The response.
   */
  static redirect(url: string | URL, status?: number): Response {
    return NativeResponse.redirect(url, status);
  }

  /** `instanceof` holds for every `Response`, real or light. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isResponse(value);
  }
}

// `instanceof Response` holds, and every other member of Response is answered by the real one.
standIn(
  LightResponse.prototype,
  NativeResponse.prototype,
  "Response",
  (self) => (self as LightResponse).toResponse(),
);
