/**
 * SHA-1 (FIPS 180-4), synchronous and runtime-free, for the one digest the WebSocket opening
 * handshake needs (RFC 6455 §4.2.2: `Sec-WebSocket-Accept`). SHA-1 is not used for security there;
 * `crypto.subtle.digest` would do it too, but only asynchronously. Private to h1serve.
 *
 * @module
 */

/**
 * The SHA-1 digest of some bytes.
 *
 * @param message The bytes to hash.
 * @returns The 20-byte digest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha1 } from "./_sha1.ts";
 *
 * const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
 * assert.equal(hex(sha1(new TextEncoder().encode("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
 * assert.equal(hex(sha1(new Uint8Array(0))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
 * ```
 */
export function sha1(message: Uint8Array): Uint8Array {
  // The message, a 1 bit, zeros, and its length in bits as 64 bits: a whole number of 64-byte blocks.
  const length = Math.ceil((message.byteLength + 9) / 64) * 64;
  const padded = length <= SCRATCH_BYTES ? scratch.fill(0, 0, length) : new Uint8Array(length);
  padded.set(message);
  padded[message.byteLength] = 0x80;
  const view = length <= SCRATCH_BYTES ? scratchView : new DataView(padded.buffer);
  const bits = message.byteLength * 8;
  view.setUint32(length - 8, Math.floor(bits / 0x1_0000_0000));
  view.setUint32(length - 4, bits >>> 0);

  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = schedule;
  for (let block = 0; block < length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(block + 4 * t);
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      const f = t < 20
        ? ((b & c) | (~b & d)) + 0x5a827999
        : t < 40
        ? (b ^ c ^ d) + 0x6ed9eba1
        : t < 60
        ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc
        : (b ^ c ^ d) + 0xca62c1d6;
      const next = (((a << 5) | (a >>> 27)) + f + e + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = next;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const digest = new Uint8Array(20);
  putWord(digest, 0, h0);
  putWord(digest, 4, h1);
  putWord(digest, 8, h2);
  putWord(digest, 12, h3);
  putWord(digest, 16, h4);
  return digest;
}

/** Writes a 32-bit word big-endian. */
function putWord(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = word >>> 24;
  bytes[at + 1] = (word >>> 16) & 0xff;
  bytes[at + 2] = (word >>> 8) & 0xff;
  bytes[at + 3] = word & 0xff;
}

/**
 * Scratch memory reused by every digest (the handshake's message, 60 bytes, pads to two blocks),
 * so that a handshake allocates only its digest.
 */
const SCRATCH_BYTES = 128;
const scratch = new Uint8Array(SCRATCH_BYTES);
const scratchView = new DataView(scratch.buffer);
const schedule = new Int32Array(80);
