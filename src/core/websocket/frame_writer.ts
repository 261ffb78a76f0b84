/**
 * The WebSocket frame writer (RFC 6455 §5.2) for the server side: server frames are never masked
 * (§5.1). A frame is its header and its payload; small frames come as one array, large ones as the
 * header and the caller's payload itself, uncopied.
 *
 * @module
 */

import { encodeUtf8 } from "./_utf8.ts";
import { OPCODE } from "./frame_reader.ts";

/** Payloads up to this size are copied behind their header, so that the frame is one write. */
const JOIN_BELOW = 1024;

/**
 * The header of a server frame: 2, 4 or 10 bytes.
 *
 * @param opcode The frame's opcode.
 * @param length The payload length.
 * @param fin Whether the frame ends its message.
 * @param rsv1 Whether RSV1 is set (the first frame of a compressed message).
 * @returns The header bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameHeader } from "./frame_writer.ts";
 *
 * assert.deepEqual([...frameHeader(0x1, 5, true, false)], [0x81, 5]);
 * assert.deepEqual([...frameHeader(0x2, 300, true, false)], [0x82, 126, 1, 44]);
 * assert.equal(frameHeader(0x2, 70_000, false, false).length, 10);
 * ```
 */
export function frameHeader(opcode: number, length: number, fin: boolean, rsv1: boolean): Uint8Array {
  const first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) return new Uint8Array([first, length]);
  if (length < 0x1_0000) return new Uint8Array([first, 126, length >> 8, length & 0xff]);
  const header = new Uint8Array(10);
  header[0] = first;
  header[1] = 127;
  const high = Math.floor(length / 0x1_0000_0000);
  const low = length >>> 0;
  header.set([high >>> 24, (high >> 16) & 0xff, (high >> 8) & 0xff, high & 0xff], 2);
  header.set([low >>> 24, (low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff], 6);
  return header;
}

/**
 * A whole server frame, as the arrays to send in order.
 *
 * @param opcode The opcode.
 * @param payload The payload (not copied when large; it must not change until sent).
 * @param fin Whether the frame ends its message (control frames always do).
 * @param rsv1 Whether RSV1 is set.
 * @param join Whether to copy the payload behind the header (by default, below 1 KiB): the frame
 *   is then one array, and the caller may change its payload at once.
 * @returns One array for a joined frame, else the header and the payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame } from "./frame_writer.ts";
 *
 * const [frame] = encodeFrame(0x1, new TextEncoder().encode("Hi"));
 * assert.deepEqual([...frame], [0x81, 2, 0x48, 0x69]);
 * assert.equal(encodeFrame(0x2, new Uint8Array(4096)).length, 2);
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  fin = true,
  rsv1 = false,
  join = payload.byteLength < JOIN_BELOW,
): Uint8Array[] {
  const header = frameHeader(opcode, payload.byteLength, fin, rsv1);
  if (!join) return [header, payload];
  const frame = new Uint8Array(header.byteLength + payload.byteLength);
  frame.set(header);
  frame.set(payload, header.byteLength);
  return [frame];
}

/**
 * The payload of a close frame: the status code in two bytes, then the reason in UTF-8; empty for
 * no code (RFC 6455 §5.5.1).
 *
 * @param code The status code, or `undefined` for none.
 * @param reason The reason (at most 123 bytes of UTF-8).
 * @returns The payload.
 * @throws {RangeError} If the reason is longer than 123 bytes, or a reason is given without a code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closePayload } from "./frame_writer.ts";
 *
 * assert.deepEqual([...closePayload(1000, "ok")], [0x03, 0xe8, 0x6f, 0x6b]);
 * assert.equal(closePayload(undefined).length, 0);
 * ```
 */
export function closePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new RangeError("a close reason needs a close code");
    return new Uint8Array(0);
  }
  const text = encodeUtf8(reason);
  if (text.byteLength > 123) throw new RangeError("a close reason is at most 123 bytes of UTF-8");
  const payload = new Uint8Array(2 + text.byteLength);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

/**
 * A close frame.
 *
 * @param code The status code, or `undefined` for none.
 * @param reason The reason.
 * @returns The frame, one array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFrame } from "./frame_writer.ts";
 *
 * assert.deepEqual([...closeFrame(1001)], [0x88, 2, 0x03, 0xe9]);
 * ```
 */
export function closeFrame(code: number | undefined, reason = ""): Uint8Array {
  return encodeFrame(OPCODE.CLOSE, closePayload(code, reason))[0];
}
