/**
 * An incremental UTF-8 check (RFC 3629 §4), for WebSocket text: it is fed a message's payload in
 * pieces, as they arrive, and reports the first byte that no valid UTF-8 text can have there, so
 * that a connection fails at that byte (RFC 6455 §8.1) rather than at the message's end. Private to
 * h1serve.
 *
 * @module
 */

/**
 * The state of a UTF-8 check across pieces: how many continuation bytes the current character
 * still needs, and the range the next one must be in (narrower after E0, ED, F0 and F4, which rules
 * out overlong forms, surrogates and code points over U+10FFFF).
 *
 * @example A character split between two pieces, then a stray continuation byte
 * ```ts
 * import assert from "node:assert/strict";
 * import { Utf8Check } from "./_utf8.ts";
 *
 * const check = new Utf8Check();
 * assert.equal(check.feed(new Uint8Array([0x61, 0xe2, 0x82])), -1);
 * assert.equal(check.complete, false);
 * assert.equal(check.feed(new Uint8Array([0xac])), -1); // "a€"
 * assert.equal(check.complete, true);
 * assert.equal(check.feed(new Uint8Array([0x62, 0x80])), 1);
 * ```
 */
export class Utf8Check {
  #needed = 0;
  #low = 0x80;
  #high = 0xbf;

  /** Whether the bytes so far end on a character boundary. */
  get complete(): boolean {
    return this.#needed === 0;
  }

  /** Forgets the bytes so far, for a new text. */
  reset(): void {
    this.#needed = 0;
    this.#low = 0x80;
    this.#high = 0xbf;
  }

  /**
   * Checks the next piece.
   *
   * @param bytes The piece.
   * @param start Where to begin in it.
   * @param end Where to stop.
   * @returns The index in `bytes` of the first invalid byte, or -1 when all are valid so far.
   */
  feed(bytes: Uint8Array, start = 0, end = bytes.length): number {
    let needed = this.#needed, low = this.#low, high = this.#high;
    let i = start;
    // ASCII runs cost one comparison a byte.
    if (needed === 0) { while (i < end && bytes[i] < 0x80) i++; }
    for (; i < end; i++) {
      const byte = bytes[i];
      if (needed > 0) {
        if (byte < low || byte > high) return this.#stop(i);
        needed--;
        low = 0x80;
        high = 0xbf;
      } else if (byte < 0x80) {
        continue;
      } else if (byte >= 0xc2 && byte <= 0xdf) {
        needed = 1;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        needed = 2;
        if (byte === 0xe0) low = 0xa0;
        else if (byte === 0xed) high = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        needed = 3;
        if (byte === 0xf0) low = 0x90;
        else if (byte === 0xf4) high = 0x8f;
      } else {
        return this.#stop(i);
      }
    }
    this.#needed = needed;
    this.#low = low;
    this.#high = high;
    return -1;
  }

  #stop(index: number): number {
    this.reset();
    return index;
  }
}

/**
 * Encodes a string as UTF-8, for close reasons (the core has no `TextEncoder`: it targets plain
 * ES2022). A lone surrogate becomes U+FFFD, as `TextEncoder` does.
 *
 * @param text The text.
 * @returns Its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeUtf8 } from "./_utf8.ts";
 *
 * assert.deepEqual([...encodeUtf8("a€")], [0x61, 0xe2, 0x82, 0xac]);
 * ```
 */
export function encodeUtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const char of text) {
    let code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) out.push(code);
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    else if (code < 0x1_0000) {
      out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    } else {
      out.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 0x3f),
        0x80 | ((code >> 6) & 0x3f),
        0x80 | (code & 0x3f),
      );
    }
  }
  return new Uint8Array(out);
}

/**
 * Decodes bytes that {@link Utf8Check} found valid and complete, for close reasons.
 *
 * @param bytes Valid UTF-8.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeUtf8 } from "./_utf8.ts";
 *
 * assert.equal(decodeUtf8(new Uint8Array([0x61, 0xf0, 0x9f, 0x98, 0x80])), "a😀");
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length;) {
    const byte = bytes[i];
    const extra = byte < 0x80 ? 0 : byte < 0xe0 ? 1 : byte < 0xf0 ? 2 : 3;
    let code = extra === 0 ? byte : byte & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) code = (code << 6) | (bytes[i + k] & 0x3f);
    text += String.fromCodePoint(code);
    i += extra + 1;
  }
  return text;
}
