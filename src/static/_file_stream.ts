/**
 * The body of a file response: a `ReadableStream` whose `pull` reads the next chunk of the file
 * through its `FileHandle`, so that only a chunk or two of a file of any size is in memory, and
 * the server's backpressure (it pulls only when the socket takes more) reaches the disk. The
 * handle is closed once, at the end, on an error, or when the reader cancels (a client that went
 * away).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { FileHandle } from "node:fs/promises";
import type { BodyPiece } from "./range.ts";

const encoder = new TextEncoder();

/**
 * A stream of a file's pieces (text between multipart parts, and ranges of the file).
 *
 * @param handle The open file; the stream owns it from now on and closes it.
 * @param pieces What to send, in order.
 * @param chunkSize The most bytes one read takes.
 * @returns The stream.
 *
 * @example Text and a range of a file, in chunks of 2 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { open } from "node:fs/promises";
 * import { join } from "node:path";
 * import { fileStream } from "./_file_stream.ts";
 *
 * const dir = mkdtempSync("/tmp/file-stream-");
 * writeFileSync(join(dir, "f"), "0123456789");
 * const stream = fileStream(await open(join(dir, "f")), [{ text: "<" }, { range: { start: 2, end: 6 } }], 2);
 * assert.equal(await new Response(stream).text(), "<23456");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function fileStream(
  handle: FileHandle,
  pieces: readonly BodyPiece[],
  chunkSize: number,
): ReadableStream<Uint8Array> {
  let index = 0;
  let offset = 0; // within the current range
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const piece = pieces[index];
        if (piece === undefined) {
          await close();
          controller.close();
          return;
        }
        if ("text" in piece) {
          index++;
          controller.enqueue(encoder.encode(piece.text));
          return;
        }
        const { start, end } = piece.range;
        const wanted = Math.min(chunkSize, end - start + 1 - offset);
        // Not zero-filled: only the bytes the read filled are sent.
        const buffer = Buffer.allocUnsafe(wanted);
        const { bytesRead } = await handle.read(buffer, 0, wanted, start + offset);
        if (closed) return; // cancelled while reading
        if (bytesRead === 0) throw new Error("the file became shorter while it was being sent");
        offset += bytesRead;
        if (start + offset > end) [index, offset] = [index + 1, 0];
        controller.enqueue(bytesRead === wanted ? buffer : buffer.subarray(0, bytesRead));
      } catch (error) {
        await close();
        controller.error(error);
      }
    },
    async cancel() {
      await close();
    },
  });
}

/**
 * Closes a handle, ignoring a failure (the handle is done with either way).
 *
 * @param handle The handle.
 * @returns Resolves once closed.
 *
 * @example
 * ```ts
 * import { open } from "node:fs/promises";
 * import { closeQuietly } from "./_file_stream.ts";
 *
 * const handle = await open(new URL(import.meta.url));
 * await closeQuietly(handle);
 * await closeQuietly(handle); // a second close is ignored
 * ```
 */
export async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.close().catch(() => {});
}
