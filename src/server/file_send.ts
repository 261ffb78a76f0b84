/**
 * The send path of a file body (a `Response` from `serveFile` or `serveDir` whose body stream is
 * untouched): the file is read block by block straight into buffers of the body pool, the head
 * goes into the room in front of the first block, and each buffer is reused once the transport
 * has sent it, so that sending a file costs a read and a write per block and no stream machinery.
 * A block is read only when the socket takes more (backpressure reaches the disk), and the file is
 * closed once, however the response ends.
 *
 * @module
 */

import { bodyPool } from "../fetch/body_pool.ts";
import type { FileBody } from "../fetch/file_body.ts";
import type { OutgoingResponse } from "../fetch/outgoing.ts";
import type { ResponseTarget } from "./respond.ts";

/** The most bytes one read of the file takes (a pooled buffer, with the head room in front). */
const BLOCK_SIZE = 256 * 1024;
const encoder = new TextEncoder();

/**
 * Sends a response whose body is a file.
 *
 * @param target The connection.
 * @param parts The response's status and header fields.
 * @param file The file body, which is the send path's now: it is closed once the response ends.
 * @param unsent Called, instead of sending anything, when the head cannot be sent (the core
 *   refused the status or a field, or the connection is closing): the caller answers otherwise.
 *
 * @example
 * ```ts ignore
 * const file = takeFileBody(response);
 * if (file !== null) sendFile(target, outgoing(response), file, (error) => replace(target, error));
 * ```
 */
export function sendFile(
  target: ResponseTarget,
  parts: OutgoingResponse,
  file: FileBody,
  unsent: (error: unknown) => void,
): void {
  const { core, output, services } = target;
  let head: Uint8Array;
  try {
    if (target.closing) throw new Error("the connection closed");
    head = core.startResponse(
      { status: parts.status, statusText: parts.statusText, headers: parts.fields, bodyLength: file.length },
      services.clock.now(),
    );
  } catch (error) {
    file.close();
    return unsent(error);
  }
  const body = core.responseFraming === "none"
    ? Promise.resolve(output.write(head))
    : writeFile(target, head, file);
  body.then(() => {
    output.write(core.endResponse(services.clock.now()));
    target.responded(parts.status);
  }, () => target.broken()).finally(() => file.close());
}

/** Writes the head and the file's pieces, waiting for the socket's drain whenever it is full. */
async function writeFile(target: ResponseTarget, head: Uint8Array, file: FileBody): Promise<void> {
  const { core, output } = target;
  let unsentHead: Uint8Array | null = head;
  for (const piece of file.pieces) {
    if ("text" in piece) {
      if (unsentHead !== null) output.write(unsentHead);
      unsentHead = null;
      output.write(core.writeBody(encoder.encode(piece.text)));
      continue;
    }
    const end = piece.range.end + 1;
    for (let position = piece.range.start; position < end;) {
      const bytes = await readBlock(file, position, Math.min(BLOCK_SIZE, end - position));
      if (target.closing) {
        bodyPool.recycle(bytes);
        throw new Error("the connection closed");
      }
      core.writeBody(bytes);
      const whole = unsentHead === null ? null : bodyPool.withHead(bytes, unsentHead);
      if (unsentHead !== null && whole === null) output.write(unsentHead);
      unsentHead = null;
      output.write(whole ?? bytes, true);
      position += bytes.byteLength;
      if (!output.writable) {
        output.flush();
        await output.whenDrained();
      }
    }
  }
  if (unsentHead !== null) output.write(unsentHead);
}

/** Reads up to `length` bytes of a file at `position` into a pooled buffer. */
async function readBlock(file: FileBody, position: number, length: number): Promise<Uint8Array> {
  const block = bodyPool.lend(length);
  let read: number;
  try {
    read = await file.read(block, 0, length, position);
  } catch (error) {
    bodyPool.recycle(block);
    throw error;
  }
  if (read === 0) {
    bodyPool.recycle(block);
    throw new Error("the file became shorter while it was being sent");
  }
  return read === length ? block : block.subarray(0, read);
}
