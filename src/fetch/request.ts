/**
 * The request object handlers receive: `instanceof Request`, with every property and method of
 * the Web `Request`, but built lazily. A real `Request` costs 1.5–4 µs to construct (Deno and
 * Node, more with an abort signal), more than the rest of a hello-world exchange, so only the
 * parts a handler touches are made: `url` is one string concatenation, `headers` a `Headers`
 * built on first use, `signal` an `AbortController` created on first use, and the body is the
 * stream the connection feeds. Anything else (`clone()`, `formData()`, `cache`, …) is answered
 * by a real `Request` created on demand from the same parts.
 *
 * One limit: runtime functions that check the internal brand of a `Request` (`fetch(request)`,
 * `new Request(request)`) do not accept it, as it is not the runtime's own object. Pass
 * `request.clone()`, which is a real `Request`, or use it as the init: `new Request(url, request)`.
 *
 * @module
 */

import type { RequestHead } from "./core/parser.ts";
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

const BODY_HIGH_WATER = 64 * 1024;

/**
 * A request body as the connection delivers it. Its bytes are kept in a list until someone asks
 * for them: a whole-body read (`text()`, `json()`, `arrayBuffer()`) gets them joined, with no
 * stream; `stream` makes the `ReadableStream` (on first use) and feeds it from then on.
 * Backpressure: `push` returns `false` once the reader is 64 KiB behind, or at once for an
 * `Expect: 100-continue` body nobody asked for; `onPull` is called whenever the reader wants more.
 *
 * @example Deliver a body in two pieces and read it whole
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestBody } from "./request.ts";
 *
 * const body = new RequestBody(() => {}, false);
 * body.push(new TextEncoder().encode("hel"));
 * const whole = body.readAll();
 * body.push(new TextEncoder().encode("lo"));
 * body.end();
 * assert.equal(new TextDecoder().decode(await whole), "hello");
 * ```
 */
export class RequestBody {
  /** Set once the reader went away (the stream was cancelled) or the body failed: data is dropped. */
  cancelled = false;
  readonly #onPull: () => void;
  readonly #expectContinue: boolean;
  #stream: ReadableStream<Uint8Array> | null = null;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #state: "open" | "ended" | "failed" = "open";
  #error: Error | null = null;
  #whole: { resolve(bytes: Uint8Array<ArrayBuffer>): void; reject(error: Error): void } | null = null;

  /**
   * Makes an empty body.
   * @param onPull Called when the reader wants more (to resume reading, or send 100 Continue).
   * @param expectContinue Whether the client waits for 100 Continue: then nothing is buffered ahead.
   */
  constructor(onPull: () => void, expectContinue: boolean) {
    this.#onPull = onPull;
    this.#expectContinue = expectContinue;
  }

  /** The body as a stream, made on first use from what has arrived so far. */
  get stream(): ReadableStream<Uint8Array> {
    if (this.#stream === null) {
      const chunks = this.#chunks;
      this.#chunks = [];
      this.#buffered = 0;
      this.#stream = new ReadableStream<Uint8Array>(
        {
          start: (controller) => {
            this.#controller = controller;
            for (const chunk of chunks) controller.enqueue(chunk);
            if (this.#state === "ended") controller.close();
            else if (this.#state === "failed") controller.error(this.#error);
          },
          pull: () => this.#onPull(),
          cancel: () => {
            this.cancelled = true;
            this.#onPull();
          },
        },
        this.#expectContinue
          ? { highWaterMark: 0 }
          : new ByteLengthQueuingStrategy({ highWaterMark: BODY_HIGH_WATER }),
      );
    }
    return this.#stream;
  }

  /** Whether the stream exists and is locked to a reader. */
  get locked(): boolean {
    return this.#stream?.locked ?? false;
  }

  /** Hands data to the reader; returns `false` when the reader is behind and input should pause. */
  push(data: Uint8Array): boolean {
    if (this.cancelled) return true;
    if (this.#controller !== null) {
      this.#controller.enqueue(data);
      return (this.#controller.desiredSize ?? 0) >= 0;
    }
    this.#chunks.push(data);
    this.#buffered += data.byteLength;
    // A whole-body read wants everything (the body size limit bounds it); otherwise hold at most
    // the high-water mark, and nothing of a body the client sends only once it is asked for.
    return this.#whole !== null || (!this.#expectContinue && this.#buffered < BODY_HIGH_WATER);
  }

  /** The body is complete. */
  end(): void {
    if (this.cancelled || this.#state !== "open") return;
    this.#state = "ended";
    if (this.#controller !== null) this.#controller.close();
    this.#whole?.resolve(this.#joined());
    this.#whole = null;
  }

  /** The body cannot be completed: the reader gets the error. */
  fail(error: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.#state === "open") {
      this.#state = "failed";
      this.#error = error;
    }
    try {
      this.#controller?.error(error);
    } catch { /* already closed */ }
    this.#whole?.reject(error);
    this.#whole = null;
  }

  /** The whole body, once it has arrived. */
  readAll(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#stream !== null) return readWhole(this.#stream);
    if (this.#state === "ended") return Promise.resolve(this.#joined());
    if (this.#state === "failed") return Promise.reject(this.#error);
    const promise = new Promise<Uint8Array<ArrayBuffer>>((
      resolve,
      reject,
    ) => (this.#whole = { resolve, reject }));
    this.#onPull();
    return promise;
  }

  #joined(): Uint8Array<ArrayBuffer> {
    const joined = joinChunks(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    return joined;
  }
}

function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  // Over an explicit ArrayBuffer: JavaScriptCore makes `.buffer` of an array made by length lazily,
  // with a copy, and `arrayBuffer()` asks for it.
  const out = new Uint8Array(new ArrayBuffer(total));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function readWhole(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    chunks.push(read.value);
    total += read.value.byteLength;
  }
  return joinChunks(chunks, total);
}

const NativeRequest = globalThis.Request;

/**
 * A lazily built Web `Request` for one received request head.
 *
 * @example The handler sees a Request
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
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

  /** The method exactly as sent. */
  get method(): string {
    return this.#source.head.method;
  }

  /** The absolute URL of the request. */
  get url(): string {
    return this.#source.url;
  }

  /** The header fields, made into a `Headers` on first use. */
  get headers(): Headers {
    if (this.#headers === null) {
      const fields = this.#source.head.fields;
      const headers = new Headers();
      for (let i = 0; i < fields.length; i += 2) headers.append(fields[i], fields[i + 1]);
      this.#headers = headers;
    }
    return this.#headers;
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
