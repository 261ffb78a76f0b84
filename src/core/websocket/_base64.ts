/**
 * Base64 (RFC 4648 §4) for the WebSocket handshake's keys: encoding the 20-byte accept digest and
 * checking that a client's key is 16 bytes in base64. Private to h1serve.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** The alphabet's character codes, and the padding's. */
const CODES: Uint8Array = Uint8Array.from(ALPHABET, (char) => char.charCodeAt(0));
const PAD = 0x3d;

/** The value of each base64 character's code, or -1. */
const VALUES: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/**
 * Encodes bytes in base64, with padding.
 *
 * @param bytes The bytes.
 * @returns Their base64 text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./_base64.ts";
 *
 * assert.equal(encodeBase64(new TextEncoder().encode("foob")), "Zm9vYg==");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  // Character codes first, then strings of up to 4 KiB characters: no chain of partial strings.
  let text = "";
  let filled = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    codes[filled] = CODES[n >> 18];
    codes[filled + 1] = CODES[(n >> 12) & 63];
    codes[filled + 2] = i + 1 < bytes.length ? CODES[(n >> 6) & 63] : PAD;
    codes[filled + 3] = i + 2 < bytes.length ? CODES[n & 63] : PAD;
    filled += 4;
    if (filled === codes.length) {
      text += charactersOf(codes);
      filled = 0;
    }
  }
  return filled === 0 ? text : text + charactersOf(codes.subarray(0, filled));
}

/** Scratch room for the characters of {@link encodeBase64}, reused by every call. */
const codes = new Uint8Array(4096);

/** The text of some character codes (apply takes the typed array as it is: no array is made of it). */
function charactersOf(chars: Uint8Array): string {
  return String.fromCharCode.apply(null, chars as unknown as number[]);
}

/**
 * How many bytes a canonical base64 text decodes to: padded to a multiple of 4 characters, with
 * zero bits where the padding cuts the last group (RFC 4648 §3.5).
 *
 * @param text The text to check.
 * @returns The decoded length, or -1 when the text is not canonical base64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { base64Length } from "./_base64.ts";
 *
 * assert.equal(base64Length("dGhlIHNhbXBsZSBub25jZQ=="), 16);
 * assert.equal(base64Length("dGhlIHNhbXBsZSBub25jZR=="), -1); // non-zero bits under the padding
 * assert.equal(base64Length("dGhl IHNh"), -1);
 * ```
 */
export function base64Length(text: string): number {
  if (text.length % 4 !== 0) return -1;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const end = text.length - padding;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || VALUES[code] < 0) return -1;
  }
  if (padding > 0) {
    const last = VALUES[text.charCodeAt(end - 1)];
    if ((padding === 2 ? last & 15 : last & 3) !== 0) return -1;
  }
  return (text.length / 4) * 3 - padding;
}
