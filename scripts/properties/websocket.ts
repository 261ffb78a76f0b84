/**
 * Feeding the WebSocket session and recording what it does, for the tests in
 * `tests/core/websocket/` and the properties (e) and (f) of `properties.ts`: {@link clientFrame}
 * builds a masked client frame, {@link driveSession} runs a {@link WebSocketSession} over byte
 * pieces like the glue would and returns a {@link SessionRun}, and {@link frameStreamArb} makes
 * streams of valid and broken frames.
 *
 * @module
 */

import fc from "fast-check";
import { concatBytes } from "../../src/core/_bytes.ts";
import { WebSocketError, WebSocketSession } from "../../src/core/mod.ts";

/** How {@link clientFrame} builds a frame. */
export interface ClientFrameOptions {
  /** FIN (true by default). */
  readonly fin?: boolean;
  /** RSV1, RSV2 and RSV3 as the top bits of the first byte's low nibble: 0x40, 0x20, 0x10. */
  readonly rsv?: number;
  /** The masking key, or `null` for an unmasked frame. */
  readonly mask?: readonly number[] | null;
  /** Force a longer length form than needed: 16 or 64 bits. */
  readonly lengthBits?: 7 | 16 | 64;
}

/**
 * A client frame, masked as RFC 6455 §5.3 requires unless told otherwise.
 *
 * @param opcode The opcode.
 * @param payload The payload, unmasked.
 * @param options FIN, reserved bits, the mask and the length form.
 * @returns The frame's bytes.
 */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  options: ClientFrameOptions = {},
): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const mask = options.mask === undefined ? [0x12, 0x34, 0x56, 0x78] : options.mask;
  const bits = options.lengthBits ?? (data.length < 126 ? 7 : data.length < 0x1_0000 ? 16 : 64);
  const head: number[] = [(options.fin === false ? 0 : 0x80) | (options.rsv ?? 0) | opcode];
  const maskBit = mask === null ? 0 : 0x80;
  if (bits === 7) head.push(maskBit | data.length);
  else if (bits === 16) head.push(maskBit | 126, data.length >> 8, data.length & 0xff);
  else {
    const high = Math.floor(data.length / 0x1_0000_0000);
    head.push(maskBit | 127, 0, 0, 0, high & 0xff);
    head.push(data.length >>> 24, (data.length >> 16) & 0xff, (data.length >> 8) & 0xff, data.length & 0xff);
  }
  if (mask !== null) head.push(...mask);
  const frame = new Uint8Array(head.length + data.length);
  frame.set(head);
  for (let i = 0; i < data.length; i++) {
    frame[head.length + i] = mask === null ? data[i] : data[i] ^ mask[i & 3];
  }
  return frame;
}

/** Joins byte arrays. */
export function join(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts, true);
}

/** One frame a server sent, as {@link serverFrames} reads it. */
export interface ServerFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly payload: Uint8Array;
}

/**
 * The complete frames a server sent after its 101 head (a frame cut short at the end is left out).
 *
 * @param received Everything the server sent: the 101 head, then frames.
 * @returns The frames.
 * @throws {Error} For a masked frame: a server never masks (RFC 6455 §5.1).
 */
export function serverFrames(received: Uint8Array): ServerFrame[] {
  let at = 0;
  while (
    at + 3 < received.length && !(received[at] === 13 && received[at + 1] === 10 &&
      received[at + 2] === 13 && received[at + 3] === 10)
  ) at++;
  at += 4;
  const frames: ServerFrame[] = [];
  while (at + 2 <= received.length) {
    const first = received[at], second = received[at + 1];
    if ((second & 0x80) !== 0) throw new Error("a server frame is masked");
    let length = second & 0x7f, headerLength = 2;
    if (length === 126) [length, headerLength] = [(received[at + 2] << 8) | received[at + 3], 4];
    else if (length === 127) {
      [length, headerLength] = [
        Number(new DataView(received.buffer, received.byteOffset + at + 2).getBigUint64(0)),
        10,
      ];
    }
    if (at + headerLength + length > received.length) break;
    frames.push({
      opcode: first & 0x0f,
      fin: (first & 0x80) !== 0,
      rsv1: (first & 0x40) !== 0,
      payload: received.slice(at + headerLength, at + headerLength + length),
    });
    at += headerLength + length;
  }
  return frames;
}

/** Bytes as lower-case hex, for logs. */
export function hex(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** One entry of a session's log. */
export type SessionEntry =
  | { type: "message"; binary: boolean; data: string }
  | { type: "ping"; data: string; reply: string | null }
  | { type: "pong"; data: string }
  | { type: "close"; code: number; reason: string; wasClean: boolean; reply: string | null }
  | { type: "error"; code: string; closeCode: number; offset: number; reply: string | null };

/** What a run of {@link driveSession} saw. */
export interface SessionRun {
  /** The events, in order (a text message's data as text, a binary one's as hex). */
  readonly log: SessionEntry[];
  /** The session's state at the end. */
  readonly state: string;
}

/** How {@link driveSession} sets up the session. */
export interface SessionDriveOptions {
  readonly maxMessageBytes?: number;
  readonly maxFrameBytes?: number;
  readonly autoPong?: boolean;
  /** permessage-deflate: the threshold, and how to inflate an `inflate` event's data (synchronously, here). */
  readonly deflate?: {
    readonly threshold: number;
    readonly inflate: (data: Uint8Array, maxBytes: number) => Uint8Array | "too-big" | "corrupt";
  } | null;
  /** Whether the peer's stream ends after the last piece. */
  readonly eof?: boolean;
  /** Whether the server starts the close handshake before anything arrives. */
  readonly serverCloses?: boolean;
}

/**
 * Runs a new session over the pieces (each copied first: the session unmasks in place), reading
 * every event after each piece, and checks what must hold of every run: no exception but a
 * {@link WebSocketError} as an `error` event, and nothing after an error or a close.
 *
 * @param pieces The received bytes, in pieces.
 * @param options Limits, compression and whether the stream ends.
 * @returns The log and the final state.
 */
export function driveSession(pieces: readonly Uint8Array[], options: SessionDriveOptions = {}): SessionRun {
  const session = new WebSocketSession({
    now: 0,
    maxMessageBytes: options.maxMessageBytes ?? 1 << 16,
    maxFrameBytes: options.maxFrameBytes ?? 1 << 16,
    idleTimeoutMs: 0,
    closeTimeoutMs: 1000,
    autoPong: options.autoPong,
    deflate: options.deflate,
  });
  if (options.serverCloses === true) session.close(1000, "", 0);
  const log: SessionEntry[] = [];
  let ended = false;
  const readAll = () => {
    for (;;) {
      let event = session.nextEvent();
      if (event.type === "inflate") {
        if (options.deflate == null) throw new Error("an inflate event without permessage-deflate");
        event = session.inflated(options.deflate.inflate(event.data, event.maxBytes));
      }
      if (event.type === "need-data") return;
      if (ended) throw new Error(`an event after the end: ${event.type}`);
      switch (event.type) {
        case "message":
          log.push({
            type: "message",
            binary: event.binary,
            data: event.binary
              ? hex(event.data)!
              : new TextDecoder("utf-8", { fatal: true }).decode(event.data),
          });
          break;
        case "ping":
          log.push({ type: "ping", data: hex(event.data)!, reply: hex(event.reply) });
          break;
        case "pong":
          log.push({ type: "pong", data: hex(event.data)! });
          break;
        case "close":
          ended = true;
          log.push({ ...event, reply: hex(event.reply) });
          break;
        case "inflate":
          throw new Error("inflated gave an inflate event");
        case "error":
          ended = true;
          if (!(event.error instanceof WebSocketError)) {
            throw new Error("an error event without a WebSocketError");
          }
          log.push({
            type: "error",
            code: event.error.code,
            closeCode: event.error.closeCode,
            offset: event.error.offset,
            reply: hex(event.reply),
          });
          break;
        default: {
          const unexpected: never = event;
          throw new Error(`unexpected event ${JSON.stringify(unexpected)}`);
        }
      }
    }
  };
  for (const piece of pieces) {
    session.receive(piece.slice(), 0);
    readAll();
  }
  if (options.eof === true) {
    session.end();
    readAll();
  }
  return { log, state: session.state };
}

/**
 * The input whole, at every split in two, and in pieces of every size from 1 to 7 bytes: the
 * ways {@link everySplitRun} feeds one input.
 *
 * @param input The bytes.
 * @returns Each way, as pieces.
 */
export function splits(input: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[input]];
  for (let at = 1; at < input.length; at++) ways.push([input.subarray(0, at), input.subarray(at)]);
  for (let size = 1; size <= 7; size++) {
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < input.length; at += size) pieces.push(input.subarray(at, at + size));
    ways.push(pieces);
  }
  return ways;
}

/**
 * Runs the input every way of {@link splits}, and throws unless every run is the same.
 *
 * @param input The bytes.
 * @param options As for {@link driveSession}.
 * @returns The one run.
 */
export function everySplitRun(input: Uint8Array, options: SessionDriveOptions = {}): SessionRun {
  const whole = driveSession([input], options);
  const expected = JSON.stringify(whole);
  for (const pieces of splits(input)) {
    const run = JSON.stringify(driveSession(pieces, options));
    if (run !== expected) {
      throw new Error(`split [${pieces.map((piece) => piece.length)}] gave ${run}, whole gave ${expected}`);
    }
  }
  return whole;
}

/** A frame of the generated streams: mostly valid, some with one thing broken. */
const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    arbitrary: fc.record({
      opcode: fc.constantFrom(0x0, 0x1, 0x2, 0x8, 0x9, 0xa),
      payload: fc.oneof(
        fc.string({ maxLength: 20 }).map((text) => new TextEncoder().encode(text)),
        fc.uint8Array({ maxLength: 140 }),
        fc.constantFrom(new Uint8Array([0x03, 0xe8]), new Uint8Array([0x03, 0xe8, 0xc3, 0x28])),
      ),
      fin: fc.boolean(),
      lengthBits: fc.constantFrom<7 | 16 | 64 | undefined>(undefined, undefined, 16, 64),
    }).map(({ opcode, payload, fin, lengthBits }) =>
      clientFrame(opcode, payload, {
        fin,
        lengthBits: lengthBits === 7 || lengthBits === undefined || payload.length >= 126
          ? undefined
          : lengthBits,
      })
    ),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      opcode: fc.integer({ min: 0, max: 15 }),
      rsv: fc.constantFrom(0, 0x40, 0x20, 0x10),
      masked: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 10 }),
    }).map(({ opcode, rsv, masked, payload }) =>
      clientFrame(opcode, payload, { rsv, mask: masked ? undefined : null })
    ),
    weight: 2,
  },
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }), weight: 1 },
);

/** Streams of 0 to 8 frames, joined. */
export const frameStreamArb: fc.Arbitrary<Uint8Array> = fc.array(frameArb, { maxLength: 8 }).map((frames) =>
  join(...frames)
);

/** Piece sizes for a split, 1 to 9 bytes, repeated over the input. */
export const pieceSizesArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 9 }), {
  minLength: 1,
  maxLength: 6,
});

/** Session settings the properties vary. */
export const sessionOptionsArb: fc.Arbitrary<SessionDriveOptions> = fc.record({
  maxMessageBytes: fc.constantFrom(16, 200, 1 << 16),
  maxFrameBytes: fc.constantFrom(8, 130, 1 << 16),
  autoPong: fc.boolean(),
  eof: fc.boolean(),
  serverCloses: fc.boolean(),
});

/** The input cut into pieces of the given sizes, cycling through them. */
export function cutInto(input: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = sizes[i % sizes.length];
    pieces.push(input.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/** The outcome class of a run, for the properties' statistics. */
export function runOutcome(run: SessionRun): string {
  const last = run.log.at(-1);
  if (last === undefined) return "nothing";
  if (last.type === "error") return `error ${last.closeCode}`;
  return last.type === "close" ? (last.wasClean ? "closed" : "dropped") : "open";
}
