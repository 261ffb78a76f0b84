/**
 * The body of a request as the connection delivers it to the handler's `Request`: kept as a list
 * of pieces until someone asks for them, joined for a whole-body read, or fed to a
 * `ReadableStream` made on first use, with backpressure back to the connection.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";

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
 * import { RequestBody } from "./request_body.ts";
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
    // A copy even of one chunk: the reader gets its `buffer`, and chunks are views into input.
    const joined = concatBytes(this.#chunks, true);
    this.#chunks = [];
    this.#buffered = 0;
    return joined;
  }
}

async function readWhole(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(read.value);
  return concatBytes(chunks, true);
}
