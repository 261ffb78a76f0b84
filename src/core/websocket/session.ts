/**
 * The server side of one WebSocket connection (RFC 6455 §5–§7), sans-I/O: it is given the bytes
 * that arrive and the time, and it gives events (messages, pings, pongs, the close) and the bytes
 * to send. It reassembles fragmented messages, checks text as UTF-8 as it arrives, answers pings
 * and the close handshake, frames permessage-deflate messages (RFC 7692 §7.2) around the glue's
 * codec, and says when to ping an idle peer and when to give up on one.
 *
 * Compression itself is the glue's, and asynchronous: `node:zlib`'s synchronous calls cannot keep
 * an LZ77 window between messages on every runtime, and its streams can. So a compressed message
 * comes out as an `inflate` event with the bytes to inflate, and goes back in through
 * {@link WebSocketSession.inflated}; a message to send compressed is deflated by the glue and
 * framed by {@link WebSocketSession.send} with `compressed: true`.
 *
 * @module
 */

import { concatBytes } from "../_bytes.ts";
import { LocalProtocolError } from "../errors.ts";
import { decodeUtf8, Utf8Check } from "./_utf8.ts";
import { isValidCloseCode, WebSocketError } from "./errors.ts";
import { FrameReader, OPCODE } from "./frame_reader.ts";
import { closeFrame, encodeFrame } from "./frame_writer.ts";
import type {
  WebSocketEvent,
  WebSocketSessionOptions,
  WebSocketState,
  WebSocketTimeoutAction,
} from "./events.ts";

/** The tail that a sync flush ends with, stripped before sending and put back before inflating. */
const DEFLATE_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

const NEED_DATA: WebSocketEvent = Object.freeze({ type: "need-data" });

const NO_ACTION: WebSocketTimeoutAction = Object.freeze({ type: "none" });

/** The pieces of an empty message. */
const NO_PIECES: readonly Uint8Array[] = Object.freeze([]);

/**
 * The longest single-frame message that is copied, once and unmasked, into an array of its own
 * when its payload spans received arrays, so that the message is that array: no join at its end,
 * and no copy for an `ArrayBuffer` later. A payload that arrives in one array is handed out as a view
 * of it, unmasked in place, with no copy at all. A longer frame's pieces are kept as they arrive and
 * joined at its end, so that what a peer makes the server hold grows with what it sends rather than
 * with what a header declares; this bound is that of one socket read.
 */
const PREPARED_MESSAGE_BYTES = 64 * 1024;

/**
 * One WebSocket connection's protocol state, from the first byte after the 101 response.
 *
 * @example Echo one masked text frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketSession } from "./session.ts";
 *
 * const session = new WebSocketSession({
 *   now: 0, maxMessageBytes: 1024, maxFrameBytes: 1024, idleTimeoutMs: 0, closeTimeoutMs: 1000,
 * });
 * const mask = [1, 2, 3, 4];
 * const payload = [..."Hi"].map((c, i) => c.charCodeAt(0) ^ mask[i]);
 * session.receive(new Uint8Array([0x81, 0x82, ...mask, ...payload]), 0);
 * const event = session.nextEvent();
 * assert(event.type === "message" && !event.binary);
 * assert.deepEqual([...session.send(event.data, false)[0]], [0x81, 2, 0x48, 0x69]);
 * assert.equal(session.nextEvent().type, "need-data");
 * ```
 */
export class WebSocketSession {
  // The options' values in fields of the session's own, so that no options object stays per socket.
  readonly #maxMessageBytes: number;
  readonly #idleTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #autoPong: boolean;
  /** The size from which messages are sent compressed, or -1 without permessage-deflate. */
  readonly #compressFrom: number;
  readonly #reader: FrameReader;
  /** The UTF-8 check of text messages, made with the first (a binary-only socket has none). */
  #utf8: Utf8Check | null = null;
  #state: WebSocketState = "open";
  /** Received arrays not yet read, the first from {@link #pos}. */
  #input: Uint8Array[] = [];
  #pos = 0;
  #eof = false;
  /** The frame being read: its opcode, whether it ends its message, and its payload so far. */
  #frameOpcode = -1;
  #frameFin = false;
  #framePieces: Uint8Array[] | null = null;
  /** The message being assembled: its opcode (-1 for none), whether compressed, its pieces and size. */
  #messageOpcode = -1;
  #messageCompressed = false;
  #messagePieces: Uint8Array[] | null = null;
  #messageBytes = 0;
  /** Whether the frame being read may get an array of its own, and its length. */
  #preparable = false;
  #frameLength = 0;
  /** The array of a single-frame message whose payload spans received arrays, and how much is filled. */
  #prepared: Uint8Array | null = null;
  #preparedFilled = 0;
  /** Whether an `inflate` event waits for {@link inflated}. */
  #inflating = false;
  #inflatingBinary = false;
  /** When something last arrived, and whether an idle ping is out. */
  #lastReceived: number;
  #pingSent = false;
  /** When the server's close frame was sent, for the close timeout. */
  #closeSentAt = -1;

  /**
   * Starts a session.
   * @param options Limits, timeouts and the negotiated compression.
   */
  constructor(options: WebSocketSessionOptions) {
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#autoPong = options.autoPong !== false;
    this.#compressFrom = options.deflate == null ? -1 : options.deflate.threshold;
    this.#reader = new FrameReader({
      maxFrameBytes: options.maxFrameBytes,
      allowRsv1: options.deflate != null,
    });
    this.#lastReceived = options.now;
  }

  /** Where the session stands. */
  get state(): WebSocketState {
    return this.#state;
  }

  /**
   * Takes received bytes. The session unmasks payload in place, so the array becomes the
   * session's: the caller must not change or reuse it.
   * @param bytes The bytes, as received.
   * @param now The time, for the idle timeout.
   */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#state === "closed" || bytes.length === 0) return;
    this.#input.push(bytes);
    this.#lastReceived = now;
    this.#pingSent = false;
  }

  /** Says that the peer will send nothing more (TCP end of stream). */
  end(): void {
    this.#eof = true;
  }

  /**
   * Reads what the received bytes hold, up to the next event.
   * @returns The next event, or `need-data` when the bytes so far hold none.
   */
  nextEvent(): WebSocketEvent {
    if (this.#inflating) throw new LocalProtocolError("OUT_OF_ORDER", "nextEvent called before inflated");
    if (this.#state === "closed") return NEED_DATA;
    try {
      while (this.#input.length > 0) {
        const event = this.#step();
        if (event !== null) return event;
      }
    } catch (error) {
      if (error instanceof WebSocketError) return this.#fail(error);
      throw error;
    }
    if (this.#eof) return this.#peerLeft();
    return NEED_DATA;
  }

  /**
   * Whether a message of this many bytes is to be sent compressed: permessage-deflate was
   * negotiated and the message reaches the threshold.
   * @param length The message's length.
   * @returns Whether to deflate it before {@link send}.
   */
  compresses(length: number): boolean {
    return this.#compressFrom !== -1 && length >= this.#compressFrom;
  }

  /**
   * The frame of one message to send.
   * @param data The message, or with `compressed`, the glue's deflate output for it (its
   *   `00 00 ff ff` tail is left off the wire). Not copied when large: it must not change until sent.
   * @param binary Binary (`true`) or text (`false`, and then the message must be UTF-8).
   * @param compressed Whether `data` is deflated (only when permessage-deflate was negotiated).
   * @param copy Whether to copy the message into the frame, so that the caller may change it at once.
   * @returns The bytes to send, in order; none once the session is closing or closed.
   * @throws {LocalProtocolError} For `compressed` without a negotiated permessage-deflate.
   */
  send(data: Uint8Array, binary: boolean, compressed = false, copy = false): Uint8Array[] {
    if (compressed && this.#compressFrom === -1) {
      throw new LocalProtocolError("OUT_OF_ORDER", "a compressed message without permessage-deflate");
    }
    if (this.#state !== "open") return [];
    const opcode = binary ? OPCODE.BINARY : OPCODE.TEXT;
    if (!compressed) return copy ? encodeFrame(opcode, data, true, false, true) : encodeFrame(opcode, data);
    const tailAt = data.length - DEFLATE_TAIL.length;
    const ends = tailAt >= 0 && DEFLATE_TAIL.every((byte, i) => data[tailAt + i] === byte);
    return encodeFrame(opcode, ends ? data.subarray(0, tailAt) : data, true, true);
  }

  /**
   * The result of inflating the message of an `inflate` event.
   * @param result The inflated message, `"too-big"` when it would pass `maxBytes`, or
   *   `"corrupt"` when the data does not inflate.
   * @returns The message, the error that fails the connection, or `need-data` when the session
   *   is no longer open (a message that arrives while closing is dropped).
   * @throws {LocalProtocolError} When no `inflate` event waits.
   */
  inflated(result: Uint8Array | "too-big" | "corrupt"): WebSocketEvent {
    if (!this.#inflating) {
      throw new LocalProtocolError("OUT_OF_ORDER", "inflated called with no inflate event");
    }
    this.#inflating = false;
    const at = this.#reader.offset;
    if (result === "too-big") return this.#fail(new WebSocketError("MESSAGE_TOO_BIG", at));
    if (result === "corrupt") return this.#fail(new WebSocketError("BAD_COMPRESSED_DATA", at));
    const binary = this.#inflatingBinary;
    if (!binary) {
      const check = new Utf8Check();
      if (check.feed(result) !== -1 || !check.complete) {
        return this.#fail(new WebSocketError("INVALID_UTF8", at));
      }
    }
    return this.#state === "open" ? { type: "message", binary, data: result } : NEED_DATA;
  }

  /**
   * A ping frame.
   * @param data At most 125 bytes.
   * @returns The frame, or an empty array once the session is not open.
   * @throws {RangeError} For more than 125 bytes.
   */
  ping(data: Uint8Array = new Uint8Array(0)): Uint8Array {
    if (data.length > 125) throw new RangeError("a ping carries at most 125 bytes");
    return this.#state === "open" ? encodeFrame(OPCODE.PING, data)[0] : new Uint8Array(0);
  }

  /**
   * A pong frame, for a caller that answers pings itself (`autoPong: false`).
   * @param data At most 125 bytes: the ping's.
   * @returns The frame, or an empty array once the session is closed.
   * @throws {RangeError} For more than 125 bytes.
   */
  pong(data: Uint8Array): Uint8Array {
    if (data.length > 125) throw new RangeError("a pong carries at most 125 bytes");
    return this.#state === "closed" ? new Uint8Array(0) : encodeFrame(OPCODE.PONG, data)[0];
  }

  /**
   * Starts the close handshake: the close frame to send, after which the session waits for the
   * peer's (at most `closeTimeoutMs`).
   * @param code The status code (1000, or 3000–4999 from an application), or none.
   * @param reason At most 123 bytes of UTF-8.
   * @param now The time the frame is sent.
   * @returns The close frame, or an empty array if one was sent already.
   * @throws {RangeError} For a code that a close frame may not carry, or a reason that is too long.
   */
  close(code: number | undefined, reason: string, now: number): Uint8Array {
    if (code !== undefined && !isValidCloseCode(code)) {
      throw new RangeError(`${code} is not a valid close code`);
    }
    if (this.#state !== "open") return new Uint8Array(0);
    const frame = closeFrame(code, reason);
    this.#state = "closing";
    this.#closeSentAt = now;
    return frame;
  }

  /**
   * What the time asks for: a ping to an idle peer, or to close TCP when the peer did not answer
   * that ping, or the close handshake ran out of time.
   * @param now The time.
   * @returns The action.
   */
  checkTimeout(now: number): WebSocketTimeoutAction {
    if (this.#state === "closed") return NO_ACTION;
    if (this.#state === "closing") {
      if (now - this.#closeSentAt < this.#closeTimeoutMs) return NO_ACTION;
      this.#state = "closed";
      return { type: "close" };
    }
    const idle = this.#idleTimeoutMs;
    if (idle <= 0 || now - this.#lastReceived < idle) return NO_ACTION;
    if (this.#pingSent) {
      this.#state = "closed";
      return { type: "close" };
    }
    this.#pingSent = true;
    this.#lastReceived = now;
    return { type: "ping", bytes: encodeFrame(OPCODE.PING, new Uint8Array(0))[0] };
  }

  /** Reads one step from the first input array; an event, or `null` to read on. */
  #step(): WebSocketEvent | null {
    const bytes = this.#input[0];
    if (this.#prepared !== null) return this.#preparedPayload(bytes);
    const step = this.#reader.read(bytes, this.#pos, bytes.length);
    this.#pos += this.#reader.consumed;
    if (this.#pos >= bytes.length) {
      this.#shiftInput();
    }
    switch (step.kind) {
      case "need-data":
        return null;
      case "header":
        this.#startFrame(step.header.opcode, step.header.fin, step.header.rsv1, step.header.length);
        return step.header.length === 0 ? this.#endFrame() : null;
      case "payload":
        this.#framePayload(step.data);
        if (step.frameEnd) return this.#endFrame();
        if (this.#preparable) this.#prepare(step.data);
        return null;
      default: {
        const unexpected: never = step;
        throw new Error(`unexpected frame step ${JSON.stringify(unexpected)}`);
      }
    }
  }

  /** The payload so far fills only part of a frame: go on in an array of the frame's length. */
  #prepare(first: Uint8Array): void {
    this.#preparable = false;
    this.#messagePieces!.pop();
    const target = new Uint8Array(this.#frameLength);
    target.set(first);
    this.#prepared = target;
    this.#preparedFilled = first.length;
  }

  /** Copies payload into the prepared message's array, checking text as it comes. */
  #preparedPayload(bytes: Uint8Array): WebSocketEvent | null {
    const target = this.#prepared!;
    const at = this.#preparedFilled;
    const taken = this.#reader.readPayloadInto(bytes, this.#pos, bytes.length, target, at);
    this.#pos += taken;
    if (this.#pos >= bytes.length) {
      this.#shiftInput();
    }
    this.#preparedFilled = at + taken;
    if (this.#messageOpcode === OPCODE.TEXT) {
      const bad = this.#utf8!.feed(target, at, at + taken);
      if (bad !== -1) throw new WebSocketError("INVALID_UTF8", this.#reader.offset - taken + bad - at);
    }
    if (this.#reader.inPayload) return null;
    this.#prepared = null;
    (this.#messagePieces ??= []).push(target);
    return this.#endFrame();
  }

  /** Drops the first input array, read to its end; an empty input gets a fresh array, so that an idle session keeps no grown one. */
  #shiftInput(): void {
    if (this.#input.length === 1) this.#input = [];
    else this.#input.shift();
    this.#pos = 0;
  }

  /** Checks a frame's place in the message sequence (RFC 6455 §5.4). */
  #startFrame(opcode: number, fin: boolean, rsv1: boolean, length: number): void {
    const at = this.#reader.offset;
    this.#frameOpcode = opcode;
    this.#frameFin = fin;
    this.#framePieces = opcode >= OPCODE.CLOSE ? [] : null;
    this.#preparable = false;
    if (opcode >= OPCODE.CLOSE) return;
    if (opcode === OPCODE.CONTINUATION) {
      if (this.#messageOpcode === -1) throw new WebSocketError("UNEXPECTED_CONTINUATION", at);
    } else {
      if (this.#messageOpcode !== -1) throw new WebSocketError("MESSAGE_NOT_FINISHED", at);
      this.#messageOpcode = opcode;
      this.#messageCompressed = rsv1;
      this.#messageBytes = 0;
      if (opcode === OPCODE.TEXT) (this.#utf8 ??= new Utf8Check()).reset();
    }
    this.#messageBytes += length;
    if (this.#messageBytes > this.#maxMessageBytes) throw new WebSocketError("MESSAGE_TOO_BIG", at);
    this.#frameLength = length;
    this.#preparable = fin && opcode !== OPCODE.CONTINUATION && !rsv1 && length <= PREPARED_MESSAGE_BYTES;
  }

  /** Keeps a piece of payload; text that is not compressed is checked as it comes. */
  #framePayload(data: Uint8Array): void {
    if (this.#frameOpcode >= OPCODE.CLOSE) {
      this.#framePieces!.push(data);
      return;
    }
    if (this.#messageOpcode === OPCODE.TEXT && !this.#messageCompressed) {
      const bad = this.#utf8!.feed(data);
      if (bad !== -1) throw new WebSocketError("INVALID_UTF8", this.#reader.offset - data.length + bad);
    }
    (this.#messagePieces ??= []).push(data);
  }

  /** A frame has ended: a control frame's event, a message's, or nothing yet. */
  #endFrame(): WebSocketEvent | null {
    const opcode = this.#frameOpcode;
    this.#frameOpcode = -1;
    if (opcode >= OPCODE.CLOSE) {
      const payload = concatBytes(this.#framePieces!);
      this.#framePieces = null;
      return this.#control(opcode, payload);
    }
    if (!this.#frameFin) return null;
    return this.#endMessage();
  }

  #endMessage(): WebSocketEvent | null {
    const binary = this.#messageOpcode === OPCODE.BINARY;
    const compressed = this.#messageCompressed;
    const pieces = this.#messagePieces ?? NO_PIECES;
    this.#messagePieces = null;
    this.#messageOpcode = -1;
    this.#messageCompressed = false;
    if (compressed) {
      this.#inflating = true;
      this.#inflatingBinary = binary;
      const data = concatBytes([...pieces, DEFLATE_TAIL]);
      return { type: "inflate", binary, data, maxBytes: this.#maxMessageBytes };
    }
    if (!binary && !this.#utf8!.complete) throw new WebSocketError("INVALID_UTF8", this.#reader.offset);
    if (this.#state !== "open") return null;
    return { type: "message", binary, data: concatBytes(pieces) };
  }

  #control(opcode: number, payload: Uint8Array): WebSocketEvent | null {
    if (opcode === OPCODE.PING) {
      const reply = !this.#autoPong || this.#state !== "open" ? null : encodeFrame(OPCODE.PONG, payload)[0];
      return { type: "ping", data: payload, reply };
    }
    if (opcode === OPCODE.PONG) return { type: "pong", data: payload };
    return this.#peerClosed(payload);
  }

  /** The peer's close frame (RFC 6455 §5.5.1, §7.4): checked, answered unless already answered. */
  #peerClosed(payload: Uint8Array): WebSocketEvent {
    const at = this.#reader.offset;
    if (payload.length === 1) throw new WebSocketError("BAD_CLOSE_PAYLOAD", at);
    let code = 1005, reason = "";
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidCloseCode(code)) throw new WebSocketError("BAD_CLOSE_CODE", at);
      const check = new Utf8Check();
      if (check.feed(payload, 2) !== -1 || !check.complete) throw new WebSocketError("INVALID_UTF8", at);
      reason = decodeUtf8(payload.subarray(2));
    }
    const reply = this.#state === "open" ? closeFrame(code === 1005 ? undefined : code) : null;
    this.#finish();
    return { type: "close", code, reason, wasClean: true, reply };
  }

  /** A violation: the close frame carrying its code (unless one was sent), then close TCP. */
  #fail(error: WebSocketError): WebSocketEvent {
    const reply = this.#state === "open" ? closeFrame(error.closeCode) : null;
    this.#finish();
    return { type: "error", error, reply };
  }

  /**
   * The peer's TCP stream ended without a close frame (1006, RFC 6455 §7.1.5): a close, or an
   * error when it ended inside a frame or a fragmented message.
   */
  #peerLeft(): WebSocketEvent {
    const midMessage = !this.#reader.betweenFrames || this.#messageOpcode !== -1;
    const offset = this.#reader.offset;
    this.#finish();
    if (midMessage) {
      return { type: "error", error: new WebSocketError("INCOMPLETE_FRAME", offset), reply: null };
    }
    return { type: "close", code: 1006, reason: "", wasClean: false, reply: null };
  }

  #finish(): void {
    this.#state = "closed";
    this.#input = [];
    this.#messagePieces = null;
    this.#framePieces = null;
    this.#prepared = null;
  }
}
