/**
 * A compressed response body as a stream (`respond.ts` sends the head first): each chunk of the
 * handler's body goes through the compressor and out before the next one is read.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";
import type { BodyCompressor } from "../compression/encoder.ts";
import type { ResponseTarget } from "./respond.ts";

/**
 * Streams a body through a compressor: what was read ahead as one piece, then each chunk as it
 * comes, each flushed and written before the next chunk is read (and, while the socket is full,
 * only once it drains), so that a compressed stream holds one chunk and its output at a time.
 *
 * @param target The connection, with the response's head sent (chunked or close-delimited).
 * @param compressor The body's compressor; the caller closes it.
 * @param chunks What was read of the body ahead of the head.
 * @param reader The body's reader, while more may follow.
 * @param firstRead The read in progress, or `null` when the body ended.
 * @throws When the connection closes, or the body or the compressor fails.
 *
 * @example A body read ahead whole, compressed and chunked
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzipSync } from "node:zlib";
 * import { ServerConnection } from "../core/mod.ts";
 * import { BodyCompressor } from "../compression/encoder.ts";
 * import { systemClock } from "./clock.ts";
 * import { Output } from "./output.ts";
 * import { streamCompressed } from "./compressed_stream.ts";
 * import type { ResponseTarget } from "./respond.ts";
 * import type { TransportSocket } from "../transport/transport.ts";
 *
 * const sent: Uint8Array[] = [];
 * const socket = { write: (bytes: Uint8Array) => (sent.push(bytes.slice()), true) };
 * const core = new ServerConnection();
 * core.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * core.nextEvent();
 * core.startResponse({ status: 200, headers: [], bodyLength: null }, 0);
 * const output = new Output(socket as unknown as TransportSocket, systemClock);
 * const target = { core, output, closing: false } as ResponseTarget;
 * const compressor = new BodyCompressor("gzip", 6);
 * await streamCompressed(target, compressor, [new TextEncoder().encode("hello")], null, null);
 * compressor.close();
 * output.flush();
 * const chunked = Buffer.concat(sent);
 * const size = parseInt(chunked.toString("latin1"), 16);
 * const start = chunked.indexOf("\r\n") + 2;
 * const gzip = [chunked.subarray(start, start + size)];
 * let at = start + size + 2;
 * while (true) { // the next chunk: its size line, its bytes
 *   const next = parseInt(chunked.subarray(at).toString("latin1"), 16);
 *   if (!(next > 0)) break;
 *   const from = chunked.indexOf("\r\n", at) + 2;
 *   gzip.push(chunked.subarray(from, from + next));
 *   at = from + next + 2;
 * }
 * assert.equal(gunzipSync(Buffer.concat(gzip)).toString(), "hello");
 * ```
 */
export async function streamCompressed(
  target: ResponseTarget,
  compressor: BodyCompressor,
  chunks: readonly Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array> | null,
  firstRead: Promise<ReadableStreamReadResult<Uint8Array>> | null,
): Promise<void> {
  const { core, output } = target;
  const write = async (chunk: Uint8Array): Promise<void> => {
    const compressed = chunk.byteLength === 0 ? chunk : await compressor.compress(chunk);
    if (target.closing) throw new Error("the connection closed");
    if (compressed.byteLength > 0) output.write(core.writeBody(compressed));
    if (!output.writable) {
      output.flush();
      await output.whenDrained();
    }
  };
  if (chunks.length > 0) await write(chunks.length === 1 ? chunks[0] : concatBytes(chunks));
  let read = firstRead;
  while (reader !== null && read !== null) {
    const result = await output.settle(read);
    if (result.done) break;
    if (target.closing) throw new Error("the connection closed");
    await write(result.value);
    read = reader.read();
  }
  const last = await compressor.finish();
  if (last.byteLength > 0) output.write(core.writeBody(last));
}
