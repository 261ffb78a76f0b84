/**
 * The WebSocket frame parser (RFC 6455 §5.2), incremental: it is given the received bytes in any
 * pieces, reads each frame's header as soon as it is whole, and hands out the payload as it
 * arrives, unmasked in place. It checks everything a single frame can break: the mask, the reserved
 * bits and opcodes, the length forms, and the rules for control frames. What spans frames
 * (fragmentation, UTF-8, the close handshake) is the session's.
 *
 * @module
 */

import { unmask } from "./_mask.ts";
import { WebSocketError } from "./errors.ts";

/**
 * The opcodes of RFC 6455 §5.2 (the others are reserved).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPCODE } from "./frame_reader.ts";
 *
 * assert.equal(OPCODE.PING, 0x9);
 * ```
 */
export const OPCODE: {
  readonly CONTINUATION: 0x0;
  readonly TEXT: 0x1;
  readonly BINARY: 0x2;
  readonly CLOSE: 0x8;
  readonly PING: 0x9;
  readonly PONG: 0xa;
} = Object.freeze({
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
});

/**
 * A frame's header, as read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader, type FrameHeader } from "./frame_reader.ts";
 *
 * const reader = new FrameReader({ maxFrameBytes: 1024 });
 * const frame = new Uint8Array([0x81, 0x80, 1, 2, 3, 4]); // a masked, empty, final text frame
 * const step = reader.read(frame, 0, frame.length);
 * assert(step.kind === "header");
 * const header: FrameHeader = step.header;
 * assert.deepEqual([header.fin, header.opcode, header.length], [true, 1, 0]);
 * ```
 */
export interface FrameHeader {
  /** Whether this is the last frame of its message. */
  readonly fin: boolean;
  /** RSV1: the message is compressed (permessage-deflate), on its first frame. */
  readonly rsv1: boolean;
  /** The opcode. */
  readonly opcode: number;
  /** The payload's length in bytes. */
  readonly length: number;
}

/**
 * One step of reading: a frame's header, a piece of its payload (with whether the frame ends
 * with it), or a need for more bytes.
 *
 * @example
 * ```ts
 * import type { FrameStep } from "./frame_reader.ts";
 *
 * const step: FrameStep = { kind: "need-data" };
 * ```
 */
export type FrameStep =
  | { readonly kind: "header"; readonly header: FrameHeader }
  | { readonly kind: "payload"; readonly data: Uint8Array; readonly frameEnd: boolean }
  | { readonly kind: "need-data" };

const NEED_DATA: FrameStep = Object.freeze({ kind: "need-data" });

/**
 * What a {@link FrameReader} enforces: the largest frame payload, and whether RSV1 may be set
 * (a negotiated permessage-deflate).
 *
 * @example
 * ```ts
 * import type { FrameLimits } from "./frame_reader.ts";
 *
 * const limits: FrameLimits = { maxFrameBytes: 1 << 20, allowRsv1: true };
 * ```
 */
export interface FrameLimits {
  /** The largest payload a frame may declare; a larger one fails with 1009. */
  readonly maxFrameBytes: number;
  /** Whether RSV1 may be set on a data frame's first frame (permessage-deflate was negotiated). */
  readonly allowRsv1?: boolean;
}

/**
 * Reads client frames from a byte stream. Each {@link read} consumes some of the bytes it is
 * given (see {@link consumed}) and returns one step. Payload is unmasked in the given array, so
 * the array must be the reader's to change.
 *
 * @example A masked "Hi" in two pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader } from "./frame_reader.ts";
 *
 * const mask = [0x37, 0xfa, 0x21, 0x3d];
 * const frame = new Uint8Array([0x81, 0x82, ...mask, 0x48 ^ mask[0], 0x69 ^ mask[1]]);
 * const reader = new FrameReader({ maxFrameBytes: 1024 });
 * assert.equal(reader.read(frame, 0, 4).kind, "need-data");
 * const header = reader.read(frame, 4, 7); // the rest of the header, then one byte of payload
 * assert.equal(header.kind, "header");
 * const first = reader.read(frame, 6, 7);
 * assert(first.kind === "payload" && !first.frameEnd);
 * const second = reader.read(frame, 7, 8);
 * assert(second.kind === "payload" && second.frameEnd);
 * assert.equal(new TextDecoder().decode(new Uint8Array([...first.data, ...second.data])), "Hi");
 * ```
 */
export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #allowRsv1: boolean;
  /** The header being read (2 to 14 bytes), kept in numbers: an idle reader costs no typed array. */
  #headerFilled = 0;
  #first = 0;
  #second = 0;
  /** The 16- or 64-bit length as read so far, and whether the 64-bit one has its high bit set. */
  #extended = 0;
  #highBit = false;
  /** The payload bytes of the current frame not yet handed out; -1 while a header is read. */
  #payloadLeft = -1;
  /** The masking key, its first byte in the top 8 bits. */
  #mask = 0;
  /** Where in the mask the next payload byte is. */
  #maskPhase = 0;
  /** Bytes consumed by the last {@link read}. */
  #consumed = 0;
  /** Bytes consumed since the start, for error offsets. */
  #offset = 0;

  /**
   * Creates a reader for one connection's client frames.
   * @param limits The largest frame and whether RSV1 is allowed.
   */
  constructor(limits: FrameLimits) {
    this.#maxFrameBytes = limits.maxFrameBytes;
    this.#allowRsv1 = limits.allowRsv1 === true;
  }

  /** How many bytes the last {@link read} consumed. */
  get consumed(): number {
    return this.#consumed;
  }

  /** How many bytes have been consumed in all. */
  get offset(): number {
    return this.#offset;
  }

  /** Whether the reader stands between frames (nothing of a frame read). */
  get betweenFrames(): boolean {
    return this.#payloadLeft === -1 && this.#headerFilled === 0;
  }

  /** Whether the reader is inside a frame's payload (its header read, payload bytes still to come). */
  get inPayload(): boolean {
    return this.#payloadLeft > 0;
  }

  /**
   * Reads payload, while {@link inPayload}, by copying it unmasked into `target` at `at`; `bytes`
   * stay as they were. The frame has ended when {@link inPayload} is false afterwards.
   *
   * @param bytes The received bytes.
   * @param start Where the unread bytes begin.
   * @param end Where they end.
   * @param target Where the payload goes; it must have room for the rest of the frame from `at`.
   * @param at Where in `target` the first of these payload bytes goes.
   * @returns How many payload bytes were copied (also {@link consumed}).
   */
  readPayloadInto(bytes: Uint8Array, start: number, end: number, target: Uint8Array, at: number): number {
    const take = Math.min(this.#payloadLeft, end - start);
    target.set(take === end - start && start === 0 ? bytes : bytes.subarray(start, start + take), at);
    this.#maskPhase = unmask(target, at, at + take, this.#mask, this.#maskPhase);
    this.#payloadLeft -= take;
    if (this.#payloadLeft === 0) this.#payloadLeft = -1;
    this.#use(take, NEED_DATA);
    return take;
  }

  /**
   * Reads the next step from `bytes[start..end)`.
   *
   * @param bytes The received bytes (payload is unmasked in place).
   * @param start Where the unread bytes begin.
   * @param end Where they end.
   * @returns A header, a piece of payload, or `need-data` when all given bytes were used up
   *   without completing a header.
   * @throws {WebSocketError} For a frame the protocol forbids (close code 1002 or 1009).
   */
  read(bytes: Uint8Array, start: number, end: number): FrameStep {
    if (this.#payloadLeft >= 0) return this.#readPayload(bytes, start, end);
    return this.#readHeader(bytes, start, end);
  }

  #readPayload(bytes: Uint8Array, start: number, end: number): FrameStep {
    const take = Math.min(this.#payloadLeft, end - start);
    if (take === 0 && this.#payloadLeft > 0) return this.#use(0, NEED_DATA);
    this.#maskPhase = unmask(bytes, start, start + take, this.#mask, this.#maskPhase);
    this.#payloadLeft -= take;
    const frameEnd = this.#payloadLeft === 0;
    if (frameEnd) this.#payloadLeft = -1;
    return this.#use(take, { kind: "payload", data: bytes.subarray(start, start + take), frameEnd });
  }

  #readHeader(bytes: Uint8Array, start: number, end: number): FrameStep {
    let i = start;
    let needed = this.#headerLength();
    while (this.#headerFilled < needed && i < end) {
      const byte = bytes[i++];
      const n = this.#headerFilled++;
      if (n === 0) this.#first = byte;
      else if (n === 1) {
        this.#second = byte;
        this.#checkFirstBytes(i - start);
        needed = this.#headerLength();
      } else if (n < needed - 4) {
        if (n === 2 && (this.#second & 0x7f) === 127 && (byte & 0x80) !== 0) this.#highBit = true;
        this.#extended = this.#extended * 256 + byte;
      } else {
        this.#mask = ((this.#mask << 8) | byte) >>> 0;
      }
    }
    if (this.#headerFilled < needed) return this.#use(i - start, NEED_DATA);
    const read = this.#completeHeader(i - start);
    return this.#use(i - start, { kind: "header", header: read });
  }

  /** The header's whole length, once its second byte is known (2 until then). */
  #headerLength(): number {
    if (this.#headerFilled < 2) return 2;
    const length7 = this.#second & 0x7f;
    return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + 4;
  }

  /** Checks what the first two bytes decide: opcode, reserved bits, mask, control frame rules. */
  #checkFirstBytes(consumedNow: number): void {
    const first = this.#first, second = this.#second;
    const at = this.#offset + consumedNow;
    const opcode = first & 0x0f;
    const control = (opcode & 0x08) !== 0;
    if (opcode > 0xa || (opcode > 0x2 && opcode < 0x8)) throw new WebSocketError("RESERVED_OPCODE", at);
    const rsv1Allowed = this.#allowRsv1 && !control && opcode !== OPCODE.CONTINUATION;
    if ((first & 0x30) !== 0 || ((first & 0x40) !== 0 && !rsv1Allowed)) {
      throw new WebSocketError("RESERVED_BITS", at);
    }
    if ((second & 0x80) === 0) throw new WebSocketError("UNMASKED_FRAME", at);
    if (control) {
      if ((first & 0x80) === 0) throw new WebSocketError("CONTROL_FRAGMENTED", at);
      if ((second & 0x7f) > 125) throw new WebSocketError("CONTROL_TOO_LONG", at);
    }
  }

  /** Takes the length of a whole header, and readies the payload. */
  #completeHeader(consumedNow: number): FrameHeader {
    const at = this.#offset + consumedNow;
    const length7 = this.#second & 0x7f;
    const highBit = this.#highBit;
    // Past 2^53 the sum is no longer exact, but far below that the limit refuses the frame anyway.
    const length = length7 < 126 ? length7 : this.#extended;
    this.#headerFilled = 0;
    this.#extended = 0;
    this.#highBit = false;
    if (highBit) throw new WebSocketError("BAD_LENGTH", at);
    if (length > this.#maxFrameBytes) throw new WebSocketError("FRAME_TOO_BIG", at);
    this.#maskPhase = 0;
    this.#payloadLeft = length === 0 ? -1 : length;
    const first = this.#first;
    return { fin: (first & 0x80) !== 0, rsv1: (first & 0x40) !== 0, opcode: first & 0x0f, length };
  }

  #use(count: number, step: FrameStep): FrameStep {
    this.#consumed = count;
    this.#offset += count;
    return step;
  }
}
