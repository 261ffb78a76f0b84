/**
 * The body of a file response. {@link openFileBody} wraps the open `FileHandle` and the pieces to
 * send as a {@link FileBody}, which the server's send path may send itself (reading the file into
 * buffers it reuses); {@link fileStream} is the same body as a `ReadableStream`, for every other
 * reader of the `Response`, whose `pull` reads the next chunk, so that only a chunk or two of a
 * file of any size is in memory and the reader's backpressure reaches the disk. Either way the
 * handle is closed once: at the end, on an error, or when the reader cancels (a client that went
 * away).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { FileHandle } from "node:fs/promises";
import type { FileBody } from "../fetch/file_body.ts";
import type { BodyPiece } from "./range.ts";

const encoder = new TextEncoder();

/**
 * A file body that reads through an open handle, and closes it once.
 *
 * @param handle The open file; the body owns it from now on.
 * @param pieces What to send, in order (text between multipart parts, and ranges of the file).
 * @param length The body's length in bytes.
 * @returns The body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "node:fs/promises";
 * import { openFileBody } from "./_file_stream.ts";
 *
 * const file = openFileBody(await open(new URL(import.meta.url)), [{ range: { start: 0, end: 2 } }], 3);
 * const bytes = new Uint8Array(3);
 * assert.equal(await file.read(bytes, 0, 3, 0), 3);
 * assert.equal(new TextDecoder().decode(bytes), "/**");
 * await file.close();
 * await file.close(); // a second close does nothing
 * ```
 */
export function openFileBody(handle: FileHandle, pieces: readonly BodyPiece[], length: number): FileBody {
  let closed: Promise<void> | null = null;
  return {
    pieces,
    length,
    read: async (into, offset, wanted, position) =>
      (await handle.read(into, offset, wanted, position)).bytesRead,
    close: () => closed ??= closeQuietly(handle),
  };
}

/**
 * A file body as a stream. It reads nothing before it is first read (its high-water mark is 0), so
 * that the server may take the body's file instead of the stream.
 *
 * @param file The body; the stream closes it.
 * @param chunkSize The most bytes one read takes.
 * @returns The stream.
 *
 * @example Text and a range of a file, in chunks of 2 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { open } from "node:fs/promises";
 * import { join } from "node:path";
 * import { fileStream, openFileBody } from "./_file_stream.ts";
 *
 * const dir = mkdtempSync("/tmp/file-stream-");
 * writeFileSync(join(dir, "f"), "0123456789");
 * const file = openFileBody(await open(join(dir, "f")), [{ text: "<" }, { range: { start: 2, end: 6 } }], 6);
 * assert.equal(await new Response(fileStream(file, 2)).text(), "<23456");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function fileStream(file: FileBody, chunkSize: number): ReadableStream<Uint8Array> {
  let index = 0;
  let offset = 0; // within the current range
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const piece = file.pieces[index];
        if (piece === undefined) {
          await file.close();
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
        const bytesRead = await file.read(buffer, 0, wanted, start + offset);
        if (cancelled) return;
        if (bytesRead === 0) throw new Error("the file became shorter while it was being sent");
        offset += bytesRead;
        if (start + offset > end) [index, offset] = [index + 1, 0];
        controller.enqueue(bytesRead === wanted ? buffer : buffer.subarray(0, bytesRead));
      } catch (error) {
        await file.close();
        controller.error(error);
      }
    },
    async cancel() {
      cancelled = true;
      await file.close();
    },
  }, { highWaterMark: 0 });
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
