/**
 * The bytes a socket has accepted but the runtime has not taken yet, with the `sent` callbacks of
 * those bytes: the write queue of the Deno adapter (while a write is in flight) and of the Bun
 * adapter (while Bun's buffer is full). An adapter makes one only when bytes must wait, so an
 * idle socket holds none. Private to the adapters.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";

/**
 * What {@link PendingWrites.take} hands over: every waiting byte, and the callbacks to run once
 * they are all written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingWrites, type TakenWrites } from "./_pending_writes.ts";
 *
 * const pending = new PendingWrites();
 * pending.push(new Uint8Array([1]));
 * const taken: TakenWrites = pending.take();
 * assert.deepEqual([...taken.bytes], [1]);
 * assert.equal(taken.sent, null);
 * ```
 */
export interface TakenWrites {
  /** The bytes, joined in order (one array as it is). */
  readonly bytes: Uint8Array;
  /** Their `sent` callbacks, or `null` when none was given. */
  readonly sent: (() => void)[] | null;
}

/**
 * A queue of bytes waiting to be written, with their `sent` callbacks.
 *
 * @example Queue two writes, take them as one, tell their writers
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingWrites, runAll } from "./_pending_writes.ts";
 *
 * const pending = new PendingWrites();
 * const told: string[] = [];
 * pending.push(new Uint8Array([1, 2]), () => told.push("a"));
 * pending.push(new Uint8Array([3]), () => told.push("b"));
 * assert.equal(pending.bytes, 3);
 * const { bytes, sent } = pending.take();
 * assert.deepEqual([...bytes], [1, 2, 3]);
 * assert.equal(pending.bytes, 0);
 * runAll(sent);
 * assert.deepEqual(told, ["a", "b"]);
 * ```
 */
export class PendingWrites {
  #parts: Uint8Array[] = [];
  #sent: (() => void)[] | null = null;
  #bytes = 0;

  /** How many bytes wait. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues bytes.
   * @param bytes The bytes, which must not change until they are written.
   * @param sent Called once they are written.
   */
  push(bytes: Uint8Array, sent?: () => void): void {
    this.#parts.push(bytes);
    this.#bytes += bytes.byteLength;
    if (sent !== undefined) (this.#sent ??= []).push(sent);
  }

  /**
   * Puts back, in front, bytes taken but not all written, with the callbacks taken with them.
   * @param bytes The bytes not written.
   * @param sent The callbacks taken with them.
   */
  putBack(bytes: Uint8Array, sent: (() => void)[] | null): void {
    this.#parts.unshift(bytes);
    this.#bytes += bytes.byteLength;
    if (sent !== null) this.#sent = this.#sent === null ? sent : sent.concat(this.#sent);
  }

  /**
   * Takes everything that waits; the queue is empty afterwards.
   * @returns The bytes as one array, and their callbacks.
   */
  take(): TakenWrites {
    const taken = { bytes: concatBytes(this.#parts), sent: this.#sent };
    this.#parts = [];
    this.#sent = null;
    this.#bytes = 0;
    return taken;
  }
}

/**
 * Runs the `sent` callbacks of bytes that have been written.
 * @param callbacks The callbacks, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAll } from "./_pending_writes.ts";
 *
 * let calls = 0;
 * runAll([() => calls++, () => calls++]);
 * runAll(null);
 * assert.equal(calls, 2);
 * ```
 */
export function runAll(callbacks: readonly (() => void)[] | null): void {
  if (callbacks !== null) { for (const callback of callbacks) callback(); }
}
