/**
 * The compressors of response bodies, on `node:zlib`, which Deno, Bun and Node all have: a body in
 * memory is compressed in one call ({@link compressBody}; synchronously up to
 * {@link SYNC_COMPRESS_LIMIT}, else on zlib's own thread where the runtime has one); a streamed body
 * goes through a {@link BodyCompressor}, flushed after each chunk so that every chunk can be
 * decompressed as soon as it arrives.
 *
 * A stream's memory is bounded by its window: 32 KiB for gzip (with zlib's default memLevel 8, about
 * 256 KiB of state in all), 256 KiB for Brotli and Zstandard (in place of Brotli's 4 MiB and
 * Zstandard's up to 8 MiB at higher levels). One-shot calls use the whole body as their window.
 *
 * This is the one file of `src/compression/` that uses a runtime API.
 *
 * @module
 */

import { nextTick } from "node:process";
import * as zlib from "node:zlib";
import { concatBytes } from "../core/_bytes.ts";
import type { ContentCoding } from "./negotiate.ts";

/**
 * The codings this runtime's `node:zlib` can apply, in the default order of preference: Brotli,
 * Zstandard (when `node:zlib` has it: Deno 2.9, Bun 1.4 and Node 26 do), gzip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AVAILABLE_CODINGS } from "./encoder.ts";
 *
 * assert.ok(AVAILABLE_CODINGS.includes("gzip"));
 * assert.ok(AVAILABLE_CODINGS.includes("br"));
 * ```
 */
export const AVAILABLE_CODINGS: readonly ContentCoding[] = Object.freeze(
  typeof zlib.createZstdCompress === "function" && typeof zlib.zstdCompressSync === "function"
    ? ["br", "zstd", "gzip"]
    : ["br", "gzip"],
);

/**
 * Bodies up to this many bytes are compressed synchronously: at these sizes a call costs less
 * than a trip to another thread. Larger ones are compressed asynchronously.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SYNC_COMPRESS_LIMIT } from "./encoder.ts";
 *
 * assert.equal(SYNC_COMPRESS_LIMIT, 256 * 1024);
 * ```
 */
export const SYNC_COMPRESS_LIMIT = 256 * 1024;

/** The window of a streamed body, in bits: 256 KiB. */
const STREAM_WINDOW_BITS = 18;

type Compressor = zlib.Gzip | zlib.BrotliCompress | zlib.ZstdCompress;

/** The options of a one-shot call for a body of `size` bytes. */
function wholeOptions(
  coding: ContentCoding,
  level: number,
  size: number,
): zlib.ZlibOptions & zlib.BrotliOptions {
  const { constants } = zlib;
  if (coding === "gzip") return { level };
  if (coding === "br") {
    return { params: { [constants.BROTLI_PARAM_QUALITY]: level, [constants.BROTLI_PARAM_SIZE_HINT]: size } };
  }
  return {
    params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_contentSizeFlag]: 1 },
  } as zlib.ZlibOptions;
}

/**
 * Compresses a whole body: synchronously up to {@link SYNC_COMPRESS_LIMIT} bytes, else with a
 * promise.
 *
 * @param coding The coding.
 * @param body The body.
 * @param level The coding's level.
 * @returns The compressed body, or a promise of it for a large body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzipSync } from "node:zlib";
 * import { compressBody } from "./encoder.ts";
 *
 * const body = new TextEncoder().encode("hello ".repeat(100));
 * const compressed = compressBody("gzip", body, 6) as Uint8Array;
 * assert.ok(compressed.byteLength < body.byteLength);
 * assert.deepEqual(new Uint8Array(gunzipSync(compressed)), body);
 * ```
 */
export function compressBody(
  coding: ContentCoding,
  body: Uint8Array,
  level: number,
): Uint8Array | Promise<Uint8Array> {
  const options = wholeOptions(coding, level, body.byteLength);
  if (body.byteLength <= SYNC_COMPRESS_LIMIT) {
    if (coding === "gzip") return zlib.gzipSync(body, options);
    if (coding === "br") return zlib.brotliCompressSync(body, options);
    return zlib.zstdCompressSync(body, options as zlib.ZstdOptions);
  }
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: Uint8Array) => (error ? reject(error) : resolve(result));
    if (coding === "gzip") zlib.gzip(body, options, done);
    else if (coding === "br") zlib.brotliCompress(body, options, done);
    else zlib.zstdCompress(body, options as zlib.ZstdOptions, done);
  });
}

/** A streaming compressor of `coding` at `level`, with a bounded window. */
function createCompressor(coding: ContentCoding, level: number): Compressor {
  const { constants } = zlib;
  if (coding === "gzip") return zlib.createGzip({ level, windowBits: 15, memLevel: 8 });
  if (coding === "br") {
    return zlib.createBrotliCompress({
      params: { [constants.BROTLI_PARAM_QUALITY]: level, [constants.BROTLI_PARAM_LGWIN]: STREAM_WINDOW_BITS },
    });
  }
  return zlib.createZstdCompress({
    params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_windowLog]: STREAM_WINDOW_BITS },
  });
}

/** The flush that ends a chunk's output on a byte the client can decompress up to. */
function flushKind(coding: ContentCoding): number {
  const { constants } = zlib;
  if (coding === "gzip") return constants.Z_SYNC_FLUSH;
  if (coding === "br") return constants.BROTLI_OPERATION_FLUSH;
  return constants.ZSTD_e_flush;
}

/**
 * Compresses one streamed body, a chunk at a time: each chunk's output is flushed, so the client
 * can decompress everything sent so far. One chunk is in the compressor at a time: the caller
 * writes the output of one before it reads the next from the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { brotliDecompressSync, constants } from "node:zlib";
 * import { BodyCompressor } from "./encoder.ts";
 *
 * const compressor = new BodyCompressor("br", 4);
 * const first = await compressor.compress(new TextEncoder().encode("data: one\n\n"));
 * const partial = brotliDecompressSync(first, { finishFlush: constants.BROTLI_OPERATION_FLUSH });
 * assert.equal(new TextDecoder().decode(partial), "data: one\n\n");
 * const rest = await compressor.finish();
 * assert.equal(new TextDecoder().decode(brotliDecompressSync(Buffer.concat([first, rest]))), "data: one\n\n");
 * ```
 */
export class BodyCompressor {
  readonly #stream: Compressor;
  readonly #flush: number;
  #output: Uint8Array[] = [];
  #failure: Error | null = null;

  /**
   * @param coding The coding.
   * @param level Its level.
   */
  constructor(coding: ContentCoding, level: number) {
    this.#stream = createCompressor(coding, level);
    this.#flush = flushKind(coding);
    this.#stream.on("data", (chunk: Uint8Array) => this.#output.push(chunk));
    this.#stream.on("error", (error: Error) => (this.#failure ??= error));
  }

  /**
   * Compresses a chunk and flushes it.
   * @param chunk The body's next bytes.
   * @returns What the compressor gave for them (possibly empty).
   * @throws What the compressor fails with.
   */
  compress(chunk: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#stream.write(chunk);
      // The flush's callback can come before the stream emits an error (Deno): wait one tick more.
      this.#stream.flush(this.#flush, () => nextTick(() => this.#take(resolve, reject)));
    });
  }

  /**
   * Ends the body.
   * @returns The compressed stream's last bytes.
   * @throws What the compressor fails with.
   */
  finish(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#stream.once("end", () => this.#take(resolve, reject));
      this.#stream.once("error", reject);
      this.#stream.end();
    });
  }

  /** Frees the compressor (after {@link BodyCompressor.finish}, or in its place when the body fails). */
  close(): void {
    this.#stream.close();
  }

  #take(resolve: (bytes: Uint8Array) => void, reject: (error: Error) => void): void {
    if (this.#failure !== null) return reject(this.#failure);
    const output = this.#output;
    this.#output = [];
    resolve(output.length === 1 ? output[0] : concatBytes(output));
  }
}
