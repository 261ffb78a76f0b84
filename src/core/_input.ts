/**
 * The bytes a connection has received and not parsed yet. Received arrays are used in place;
 * only an unparsed rest is joined with the bytes that come after it. Private to h1serve (not
 * exported by `core/mod.ts`).
 *
 * @module
 */

import { concatBytes } from "./_bytes.ts";
import type { BodyDecoder } from "./body.ts";
import type { RequestHead, RequestHeadParser } from "./parser.ts";

const EMPTY = new Uint8Array(0);

/**
 * Received bytes not yet parsed, with the stream offset of the first one.
 *
 * @example Take two arrays, parse part of them
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReceivedInput } from "./_input.ts";
 *
 * const input = new ReceivedInput(0);
 * input.add(new Uint8Array([1, 2]));
 * input.advance(1);
 * input.add(new Uint8Array([3]));
 * assert.deepEqual([...input.bytes.subarray(input.pos)], [2, 3]);
 * assert.deepEqual([input.buffered, input.consumed], [2, 1]);
 * ```
 */
export class ReceivedInput {
  /** The array that holds the unparsed bytes, from {@link ReceivedInput.pos} on. */
  bytes: Uint8Array = EMPTY;
  /** The first unparsed byte in {@link ReceivedInput.bytes}. */
  pos = 0;
  /** How many bytes of the connection have been parsed: the stream offset of the first unparsed one. */
  consumed: number;
  /** Whether the peer will send nothing more. */
  eof = false;

  /** @param consumed The bytes of the connection that came before. */
  constructor(consumed: number) {
    this.consumed = consumed;
  }

  /** How many bytes wait to be parsed. */
  get buffered(): number {
    return this.bytes.length - this.pos;
  }

  /**
   * Takes received bytes; the array must not be changed afterwards.
   * @param bytes The bytes, not empty.
   */
  add(bytes: Uint8Array): void {
    this.bytes = this.pos >= this.bytes.length ? bytes : concatBytes([this.bytes.subarray(this.pos), bytes]);
    this.pos = 0;
  }

  /**
   * Marks the bytes before `to` as parsed.
   * @param to The index in {@link ReceivedInput.bytes} of the first byte not parsed.
   */
  advance(to: number): void {
    this.consumed += to - this.pos;
    this.pos = to;
    if (to >= this.bytes.length) this.clear();
  }

  /**
   * Feeds the unparsed bytes to a head parser.
   * @param parser The parser of the head arriving now.
   * @returns The head, once complete (the parser is then reset), or `null` when every byte went into a partial head.
   * @throws {HttpError} What the parser throws.
   */
  parseHead(parser: RequestHeadParser): RequestHead | null {
    const next = parser.push(this.bytes, this.pos, this.bytes.length, this.consumed);
    if (next === -1) {
      this.advance(this.bytes.length);
      return null;
    }
    this.advance(next);
    const head = parser.head as RequestHead;
    parser.reset();
    return head;
  }

  /**
   * Feeds the unparsed bytes to a body decoder, until it finds data, ends, or uses them up.
   * @param decoder The body's decoder; what it found is in its `data` and `done`.
   * @throws {HttpError} What the decoder throws.
   */
  decode(decoder: BodyDecoder): void {
    this.advance(decoder.read(this.bytes, this.pos, this.bytes.length, this.consumed));
  }

  /** Drops what is left (the connection is closing); the offset stays. */
  clear(): void {
    this.bytes = EMPTY;
    this.pos = 0;
  }
}
