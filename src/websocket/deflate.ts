/**
 * The permessage-deflate codec of one connection (RFC 7692 §7.2), on `node:zlib`'s raw DEFLATE
 * streams, which Deno, Bun and Node all have. A stream keeps its LZ77 window from message to
 * message (context takeover) unless the agreement says otherwise, and each message ends with a
 * sync flush (`Z_SYNC_FLUSH`), whose `00 00 ff ff` tail the session strips and puts back.
 *
 * The one-shot calls (`deflateRawSync` with a `dictionary`) would be synchronous, but Deno's
 * `node:zlib` ignores the dictionary, so the window cannot be carried that way on every runtime;
 * the streams carry it, asynchronously.
 *
 * @module
 */

import { nextTick } from "node:process";
import { constants, createDeflateRaw, createInflateRaw } from "node:zlib";
import { concatBytes } from "../core/_bytes.ts";
import type { DeflateParameters } from "../core/mod.ts";

type ZlibStream = ReturnType<typeof createDeflateRaw> | ReturnType<typeof createInflateRaw>;

/**
 * Compresses and inflates one connection's messages, one at a time in each direction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeflateCodec } from "./deflate.ts";
 *
 * const parameters = {
 *   serverNoContextTakeover: false,
 *   clientNoContextTakeover: false,
 *   serverMaxWindowBits: 15,
 *   clientMaxWindowBits: 15,
 * };
 * const codec = new DeflateCodec(parameters);
 * const text = new TextEncoder().encode("hello, hello, hello");
 * const compressed = await codec.deflate(text);
 * const peer = new DeflateCodec(parameters);
 * assert.deepEqual(await peer.inflate(compressed, 100), text);
 * codec.close();
 * peer.close();
 * ```
 */
export class DeflateCodec {
  readonly #parameters: DeflateParameters;
  #deflater: ReturnType<typeof createDeflateRaw> | null = null;
  #inflater: ReturnType<typeof createInflateRaw> | null = null;

  /** @param parameters What was agreed in the handshake. */
  constructor(parameters: DeflateParameters) {
    this.#parameters = parameters;
  }

  /**
   * Compresses one message.
   * @param data The message.
   * @returns Its compressed bytes, ending in `00 00 ff ff`.
   */
  async deflate(data: Uint8Array): Promise<Uint8Array> {
    const deflater = this.#deflater ??= quiet(
      createDeflateRaw({ windowBits: this.#parameters.serverMaxWindowBits }),
    );
    const result = await flushThrough(deflater, data, Infinity);
    if (this.#parameters.serverNoContextTakeover) this.#closeDeflater();
    if (result === "too-big") throw new Error("unreachable: deflate has no output limit");
    return result;
  }

  /**
   * Inflates one message, its `00 00 ff ff` tail put back.
   * @param data The compressed bytes.
   * @param maxBytes The most bytes the message may inflate to.
   * @returns The message, `"too-big"`, or `"corrupt"` when it does not inflate.
   */
  async inflate(data: Uint8Array, maxBytes: number): Promise<Uint8Array | "too-big" | "corrupt"> {
    // A window of 15 bits reads what any smaller window wrote.
    const inflater = this.#inflater ??= quiet(createInflateRaw({ windowBits: 15 }));
    let result: Uint8Array | "too-big";
    try {
      result = await flushThrough(inflater, data, maxBytes);
    } catch {
      this.#closeInflater();
      return "corrupt";
    }
    if (result === "too-big" || this.#parameters.clientNoContextTakeover) this.#closeInflater();
    return result;
  }

  /** Frees both streams. */
  close(): void {
    this.#closeDeflater();
    this.#closeInflater();
  }

  #closeDeflater(): void {
    this.#deflater?.close();
    this.#deflater = null;
  }

  #closeInflater(): void {
    this.#inflater?.close();
    this.#inflater = null;
  }
}

/**
 * A stream whose errors never go unhandled: a data error can be emitted more than once (Deno), and
 * {@link flushThrough} listens only while it writes. The stream is dropped after an error.
 */
function quiet<T extends ZlibStream>(stream: T): T {
  stream.on("error", () => {});
  return stream;
}

/**
 * Writes `data` through a zlib stream and flushes it, collecting what comes out, up to `maxBytes`.
 * @returns The output, or `"too-big"` (the stream is then unusable).
 */
function flushThrough(
  stream: ZlibStream,
  data: Uint8Array,
  maxBytes: number,
): Promise<Uint8Array | "too-big"> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let done = false;
    const finish = (value: Uint8Array | "too-big" | Error) => {
      if (done) return;
      done = true;
      stream.off("data", onData);
      stream.off("error", finish);
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onData = (chunk: Uint8Array) => {
      total += chunk.byteLength;
      if (total > maxBytes) return finish("too-big");
      // A plain view, not a Buffer: the message goes to user code as a Uint8Array.
      chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    };
    stream.on("data", onData);
    stream.once("error", finish);
    stream.write(data);
    // Deno's node:zlib calls back for the flush before it emits a data error (in a next tick), so
    // the result waits one tick for an error that may follow.
    stream.flush(constants.Z_SYNC_FLUSH, () => nextTick(() => finish(concatBytes(chunks))));
  });
}
