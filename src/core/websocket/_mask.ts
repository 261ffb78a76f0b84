/**
 * Unmasking a client frame's payload in place (RFC 6455 §5.3): 4 bytes at a time where the
 * payload is long enough, on a 32-bit view of the aligned middle. Private to h1serve.
 *
 * @module
 */

/** A 4-byte scratch area and its 32-bit view, for the mask as one word in the platform's byte order. */
const scratch = new Uint8Array(4);
const scratchWord = new Uint32Array(scratch.buffer);

/**
 * XORs `bytes[start..end)` with the mask, starting at mask byte `phase`.
 *
 * @param bytes The payload bytes (changed in place).
 * @param start The first byte.
 * @param end The end.
 * @param mask The 4-byte masking key as one number, its first byte in the top 8 bits.
 * @param phase Which byte of the key the first byte takes (0–3).
 * @returns The phase for the byte after `end`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unmask } from "./_mask.ts";
 *
 * const bytes = new Uint8Array([1 ^ 9, 2 ^ 8, 3 ^ 7]);
 * assert.equal(unmask(bytes, 0, 3, 0x09080706, 0), 3);
 * assert.deepEqual([...bytes], [1, 2, 3]);
 * ```
 */
export function unmask(
  bytes: Uint8Array,
  start: number,
  end: number,
  mask: number,
  phase: number,
): number {
  let i = start;
  if (end - start >= 32) {
    const base = bytes.byteOffset;
    while (((base + i) & 3) !== 0) {
      bytes[i++] ^= (mask >>> (24 - 8 * phase)) & 0xff;
      phase = (phase + 1) & 3;
    }
    const words = (end - i) >> 2;
    for (let k = 0; k < 4; k++) scratch[k] = (mask >>> (24 - 8 * ((phase + k) & 3))) & 0xff;
    const word = scratchWord[0];
    const view = new Uint32Array(bytes.buffer, base + i, words);
    for (let k = 0; k < words; k++) view[k] ^= word;
    i += words << 2; // whole words: the phase is unchanged
  }
  for (; i < end; i++) {
    bytes[i] ^= (mask >>> (24 - 8 * phase)) & 0xff;
    phase = (phase + 1) & 3;
  }
  return phase;
}
