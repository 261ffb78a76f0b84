/**
 * Splitting input into CRLF-terminated lines, for the request-head parser and the trailer
 * section of a chunked body. Only CRLF ends a line: a bare LF is an error (see `parser.ts`).
 * Private to h1serve (not exported by `core/mod.ts`).
 *
 * @module
 */

import { HttpError } from "./errors.ts";

const CR = 0x0d;
const LF = 0x0a;
const NO_LINE = new Uint8Array(0);

/**
 * Splits input into CRLF-terminated lines across any split of the input. A line inside one input
 * array is returned in place; only a line that spans arrays is copied.
 *
 * @example Read a line split across two inputs
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "./_lines.ts";
 *
 * const reader = new LineReader();
 * const a = new TextEncoder().encode("Hos");
 * const b = new TextEncoder().encode("t: a\r\nnext");
 * assert.equal(reader.read(a, 0, a.length, 0), -1);
 * assert.equal(reader.read(b, 0, b.length, a.length), 6);
 * assert.equal(new TextDecoder().decode(reader.line.subarray(reader.lineStart, reader.lineEnd)), "Host: a");
 * assert.equal(reader.lineOffset, 0);
 * ```
 */
export class LineReader {
  /** The array holding the line found by the last successful {@link LineReader.read}. */
  line: Uint8Array = NO_LINE;
  /** First byte of that line in {@link LineReader.line}. */
  lineStart = 0;
  /** End of that line's content (the index of its CR). */
  lineEnd = 0;
  /** Stream offset of that line's first byte. */
  lineOffset = 0;
  #partial: Uint8Array | null = null;
  #partialLength = 0;

  /** Bytes of an incomplete line held from earlier input. */
  get pendingBytes(): number {
    return this.#partialLength;
  }

  /**
   * Looks for the next complete line.
   *
   * @param input The array to read from.
   * @param start First unread byte in `input`.
   * @param end One past the last byte in `input`.
   * @param offset Stream offset of `input[start]`, for error positions.
   * @returns The index just past the line's LF, or -1 when every byte was taken into an incomplete line.
   * @throws {HttpError} `BARE_LF` when an LF is not preceded by CR.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineReader } from "./_lines.ts";
   *
   * const reader = new LineReader();
   * const bytes = new TextEncoder().encode("Host: a\r\nrest");
   * assert.equal(reader.read(bytes, 0, bytes.length, 0), 9);
   * assert.equal(reader.lineEnd - reader.lineStart, 7);
   * ```
   */
  read(input: Uint8Array, start: number, end: number, offset: number): number {
    const lf = input.indexOf(LF, start);
    if (lf === -1 || lf >= end) {
      this.#append(input, start, end);
      return -1;
    }
    if (this.#partialLength === 0) {
      if (lf === start || input[lf - 1] !== CR) throw new HttpError("BARE_LF", offset + lf - start);
      this.line = input;
      this.lineStart = start;
      this.lineEnd = lf - 1;
      this.lineOffset = offset;
      return lf + 1;
    }
    const held = this.#partialLength;
    this.#append(input, start, lf + 1);
    const line = this.#partial as Uint8Array;
    const total = this.#partialLength;
    if (line[total - 2] !== CR) throw new HttpError("BARE_LF", offset + lf - start);
    this.line = line;
    this.lineStart = 0;
    this.lineEnd = total - 2;
    this.lineOffset = offset - held;
    this.#partial = null;
    this.#partialLength = 0;
    return lf + 1;
  }

  /** Forgets any incomplete line, and the input the last line was found in. */
  reset(): void {
    this.line = NO_LINE; // not the last input: a reader kept for later holds no received bytes
    this.#partial = null;
    this.#partialLength = 0;
  }

  #append(input: Uint8Array, start: number, end: number): void {
    const needed = this.#partialLength + (end - start);
    if (this.#partial === null || this.#partial.length < needed) {
      const grown = new Uint8Array(Math.max(needed, 256, (this.#partial?.length ?? 0) * 2));
      if (this.#partial !== null) grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(input.subarray(start, end), this.#partialLength);
    this.#partialLength = needed;
  }
}
