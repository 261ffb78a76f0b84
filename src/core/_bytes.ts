/**
 * Byte-level helpers shared by the parser, the body decoders, the serializer and the server:
 * character classes from RFC 9110 §5.6.2, exact Latin-1 conversion, and joining byte arrays.
 * Private to h1serve (not exported by `core/mod.ts`).
 *
 * @module
 */

/**
 * `tchar` of RFC 9110 §5.6.2, indexed by byte: 1 where the byte may appear in a token.
 *
 * @example Check bytes of a token
 * ```ts
 * import assert from "node:assert/strict";
 * import { TOKEN_CHARS } from "./_bytes.ts";
 *
 * assert.equal(TOKEN_CHARS["a".charCodeAt(0)], 1);
 * assert.equal(TOKEN_CHARS["-".charCodeAt(0)], 1);
 * assert.equal(TOKEN_CHARS[0x20], 0);
 * assert.equal(TOKEN_CHARS[":".charCodeAt(0)], 0);
 * ```
 */
export const TOKEN_CHARS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = 1;
  for (let b = 0x30; b <= 0x39; b++) table[b] = 1;
  for (let b = 0x41; b <= 0x5a; b++) table[b] = 1;
  for (let b = 0x61; b <= 0x7a; b++) table[b] = 1;
  return table;
})();

/**
 * `field-vchar` / SP / HTAB of RFC 9110 §5.5, indexed by byte: 1 where the byte may appear in a
 * field value. Control bytes and DEL are excluded; obs-text (0x80–0xFF) is allowed.
 *
 * @example Check bytes of a field value
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIELD_VALUE_CHARS } from "./_bytes.ts";
 *
 * assert.equal(FIELD_VALUE_CHARS[0x09], 1);
 * assert.equal(FIELD_VALUE_CHARS[0xe9], 1);
 * assert.equal(FIELD_VALUE_CHARS[0x0d], 0);
 * assert.equal(FIELD_VALUE_CHARS[0x7f], 0);
 * ```
 */
export const FIELD_VALUE_CHARS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  table[0x09] = 1;
  for (let b = 0x20; b <= 0x7e; b++) table[b] = 1;
  for (let b = 0x80; b <= 0xff; b++) table[b] = 1;
  return table;
})();

/**
 * Whether a string is a non-empty token (RFC 9110 §5.6.2).
 *
 * @param text The string to check.
 * @returns `true` if every character is a `tchar`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isToken } from "./_bytes.ts";
 *
 * assert.equal(isToken("Content-Type"), true);
 * assert.equal(isToken("Bad Name"), false);
 * ```
 */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * Whether a string is a valid field value to send: field-vchar, SP and HTAB only, with no
 * leading or trailing whitespace (RFC 9110 §5.5). CR, LF and NUL are never valid.
 *
 * @param text The string to check.
 * @returns `true` if the value may be sent as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFieldValue } from "./_bytes.ts";
 *
 * assert.equal(isFieldValue("text/html; charset=utf-8"), true);
 * assert.equal(isFieldValue("a\r\nSet-Cookie: x"), false);
 * ```
 */
export function isFieldValue(text: string): boolean {
  const n = text.length;
  if (n === 0) return true;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHARS[c] === 0) return false;
  }
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(n - 1);
  return first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09;
}

/**
 * Decodes bytes as Latin-1, one character per byte, as HTTP field bytes map to a Web `ByteString`.
 *
 * @param bytes The buffer.
 * @param start First byte.
 * @param end One past the last byte.
 * @returns The string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latin1 } from "./_bytes.ts";
 *
 * assert.equal(latin1(new Uint8Array([0x48, 0x69, 0xe9]), 0, 3), "Hi\u00e9");
 * ```
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  // One fromCharCode call per piece: faster than a character loop on every engine, from 2 bytes up.
  if (end - start <= 4096) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  let text = "";
  for (let i = start; i < end; i += 4096) {
    const part = bytes.subarray(i, Math.min(end, i + 4096));
    text += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return text;
}

/** Whether `bytes` at `start` hold the characters of `text` (all below U+0100), one byte each. */
function startsWithText(bytes: Uint8Array, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Latin-1 decoding with a memory: each numbered slot remembers the last string it produced, and
 * gives it back when the same bytes come again. Requests repeat most of their head (method,
 * Host, User-Agent, Accept…), so comparing bytes with the last string is cheaper than making a
 * new one. A parser's memo serves whichever connections use that parser (they share spares).
 *
 * @example The same bytes in the same slot give the same string
 * ```ts
 * import assert from "node:assert/strict";
 * import { Latin1Memo } from "./_bytes.ts";
 *
 * const memo = new Latin1Memo();
 * const bytes = new TextEncoder().encode("GET GET POST");
 * const first = memo.decode(0, bytes, 0, 3);
 * assert.equal(first, "GET");
 * assert.equal(memo.decode(0, bytes, 4, 7), first);
 * assert.equal(memo.decode(0, bytes, 8, 12), "POST");
 * ```
 */
export class Latin1Memo {
  readonly #texts: string[] = [];

  /**
   * Decodes `bytes[start..end)` as Latin-1, reusing the slot's last string when the bytes match it.
   * @param slot Which remembered string to compare with (slots past 63 are not remembered).
   * @param bytes The buffer.
   * @param start First byte.
   * @param end One past the last byte.
   * @returns The string.
   */
  decode(slot: number, bytes: Uint8Array, start: number, end: number): string {
    const previous = this.recall(slot, bytes, start, end);
    if (previous !== undefined) return previous;
    const text = latin1(bytes, start, end);
    this.remember(slot, text);
    return text;
  }

  /**
   * The slot's last string when `bytes[start..end)` are its bytes, else `undefined`. A caller that
   * checks what it remembers (a field value) need not check it again when it is recalled.
   * @param slot The slot.
   * @param bytes The buffer.
   * @param start First byte.
   * @param end One past the last byte.
   * @returns The remembered string or `undefined`.
   */
  recall(slot: number, bytes: Uint8Array, start: number, end: number): string | undefined {
    const previous = this.#texts[slot];
    if (previous === undefined || previous.length !== end - start) return undefined;
    return startsWithText(bytes, start, previous) ? previous : undefined;
  }

  /**
   * The slot's last string when `bytes` at `start` begin with it and `follower` comes next (a field
   * name and its colon), else `undefined`.
   * @param slot The slot.
   * @param bytes The buffer.
   * @param start First byte.
   * @param end The end of what may be read.
   * @param follower The byte that must follow the string.
   * @returns The remembered string or `undefined`.
   */
  recallBefore(
    slot: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    follower: number,
  ): string | undefined {
    const previous = this.#texts[slot];
    if (previous === undefined) return undefined;
    const length = previous.length;
    if (start + length >= end || bytes[start + length] !== follower) return undefined;
    return startsWithText(bytes, start, previous) ? previous : undefined;
  }

  /**
   * Remembers a string in a slot (slots past 63 are not remembered).
   * @param slot The slot.
   * @param text The string.
   */
  remember(slot: number, text: string): void {
    if (slot < 64) this.#texts[slot] = text;
  }
}

/**
 * Encodes a string whose characters are all below U+0100 as Latin-1 bytes.
 *
 * @param text The string; characters above U+00FF must have been rejected before.
 * @param target Where to write.
 * @param offset Where in `target` to start.
 * @returns The offset after the last byte written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeLatin1 } from "./_bytes.ts";
 *
 * const out = new Uint8Array(2);
 * assert.equal(writeLatin1("OK", out, 0), 2);
 * assert.deepEqual([...out], [0x4f, 0x4b]);
 * ```
 */
export function writeLatin1(text: string, target: Uint8Array, offset: number): number {
  for (let i = 0; i < text.length; i++) target[offset++] = text.charCodeAt(i);
  return offset;
}

/**
 * Joins byte arrays into one.
 *
 * @param parts The arrays, in order.
 * @param ownBuffer Whether the result must have an `ArrayBuffer` of exactly its own bytes, to hand
 *   its `buffer` to someone else: then a single part is copied too, over an explicit `ArrayBuffer`
 *   (JavaScriptCore makes the `buffer` of an array made by length lazily, with a copy).
 * @returns A new array with all their bytes, or the only part itself when there is one and
 *   `ownBuffer` is not set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./_bytes.ts";
 *
 * const one = new Uint8Array([1]);
 * assert.deepEqual([...concatBytes([one, new Uint8Array([2, 3])])], [1, 2, 3]);
 * assert.equal(concatBytes([one]), one);
 * assert.notEqual(concatBytes([one], true), one);
 * assert.equal(concatBytes([one], true).buffer.byteLength, 1);
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], ownBuffer = false): Uint8Array<ArrayBuffer> {
  if (parts.length === 1 && !ownBuffer) return parts[0] as Uint8Array<ArrayBuffer>;
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const out = ownBuffer ? new Uint8Array(new ArrayBuffer(length)) : new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * The value of a hexadecimal digit (HEXDIG of RFC 5234, either case).
 *
 * @param byte A byte or character code.
 * @returns 0 to 15, or -1 when it is not a hex digit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexValue } from "./_bytes.ts";
 *
 * assert.equal(hexValue("a".charCodeAt(0)), 10);
 * assert.equal(hexValue("F".charCodeAt(0)), 15);
 * assert.equal(hexValue("g".charCodeAt(0)), -1);
 * ```
 */
export function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

/**
 * The elements of a comma-separated field value (RFC 9110 §5.6.1), trimmed and lower-cased,
 * with empty elements dropped as §5.6.1.2 requires of a recipient.
 *
 * @param value The field value.
 * @returns The non-empty elements.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listElements } from "./_bytes.ts";
 *
 * assert.deepEqual(listElements(" , Keep-Alive,, Upgrade "), ["keep-alive", "upgrade"]);
 * ```
 */
export function listElements(value: string): string[] {
  return value.split(",").map((item) => item.trim().toLowerCase()).filter((item) => item !== "");
}

/**
 * Whether a comma-separated field value lists `lower` (in any case, with optional whitespace
 * around it), as {@link listElements} would find it, without making the list.
 *
 * @param value The field value.
 * @param lower The element to look for, in lower case, with no comma or whitespace in it.
 * @returns Whether it is one of the value's elements.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasListElement } from "./_bytes.ts";
 *
 * assert.equal(hasListElement("keep-alive, Upgrade", "upgrade"), true);
 * assert.equal(hasListElement("upgrades", "upgrade"), false);
 * ```
 */
export function hasListElement(value: string, lower: string): boolean {
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(",", start);
    if (end === -1) end = value.length;
    let from = start, to = end;
    while (from < to && (value.charCodeAt(from) === 0x20 || value.charCodeAt(from) === 0x09)) from++;
    while (to > from && (value.charCodeAt(to - 1) === 0x20 || value.charCodeAt(to - 1) === 0x09)) to--;
    if (to - from === lower.length && isNamedAt(value, from, lower)) return true;
    start = end + 1;
  }
  return false;
}

/** Whether `value` holds `lower` at `at`, A–Z matching a–z. */
function isNamedAt(value: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const code = value.charCodeAt(at + i);
    const folded = code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
    if (folded !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether a field name is `lower` in any case, without making a lower-case copy. Exact for
 * tokens: OR-ing 0x20 maps only A–Z onto a–z, and leaves `-` and digits as they are.
 *
 * @param name A field name (a token).
 * @param lower The name to look for, in lower case.
 * @returns Whether they are the same name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNamed } from "./_bytes.ts";
 *
 * assert.equal(isNamed("Content-Length", "content-length"), true);
 * assert.equal(isNamed("Content-Type", "content-length"), false);
 * ```
 */
export function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
