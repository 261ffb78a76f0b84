/**
 * A connection's output: bytes are batched until the connection has nothing more to send at
 * once (the responses to a batch of pipelined requests leave in one write), then handed to the
 * socket as one array, or as parts where the transport can write parts. It tracks whether the
 * socket takes more, since when it has not, and who waits for its drain, and gives body copies
 * back to the body pool once the transport has sent them.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";
import { bodyPool } from "../fetch/body_pool.ts";
import type { TransportSocket } from "../transport/transport.ts";
import type { Clock } from "./clock.ts";

/** Output batched up to this size is sent at once, without waiting for the batch to end. */
const HIGH_WATER = 64 * 1024;
/** Output below this size is joined into one array; larger output goes in parts where the transport can write parts. */
const COPY_LIMIT = 16 * 1024;
/** How many microtask turns a value that is "already available" may take to settle. */
const MICROTASK_HOPS = 8;

/**
 * What {@link microtaskHops} resolves with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { microtaskHops, NOT_YET } from "./output.ts";
 *
 * assert.equal(await Promise.race([new Promise(() => {}), microtaskHops()]), NOT_YET);
 * ```
 */
export const NOT_YET: unique symbol = Symbol("not yet");

/**
 * A promise that resolves with {@link NOT_YET} after a few microtask turns: raced against a
 * value, it tells a value that is already available from one that is not.
 *
 * @returns The promise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { microtaskHops } from "./output.ts";
 *
 * assert.equal(await Promise.race([Promise.resolve(1), microtaskHops()]), 1);
 * ```
 */
export function microtaskHops(): Promise<typeof NOT_YET> {
  let promise: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < MICROTASK_HOPS; i++) promise = promise.then();
  return promise.then(() => NOT_YET);
}

/**
 * The output of one connection.
 *
 * @example Batch two writes into one
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "./clock.ts";
 * import { Output } from "./output.ts";
 * import type { TransportSocket } from "../transport/transport.ts";
 *
 * const writes: Uint8Array[] = [];
 * const socket = { write: (bytes: Uint8Array) => (writes.push(bytes), true) } as unknown as TransportSocket;
 * const output = new Output(socket, systemClock);
 * output.write(new Uint8Array([1]));
 * output.write(new Uint8Array([2]));
 * assert.equal(output.queued, 2);
 * output.flush();
 * assert.deepEqual(writes.map((bytes) => [...bytes]), [[1, 2]]);
 * assert.equal(output.written, 2);
 * ```
 */
export class Output {
  readonly #socket: TransportSocket;
  readonly #clock: Clock;
  /** Output not yet handed to the socket: nothing, one array (the common case), or several. */
  #batch: Uint8Array | Uint8Array[] | null = null;
  /** The arrays in #batch whose memory goes back to the body pool once sent. */
  #recyclable: Uint8Array[] | null = null;
  #queued = 0;
  #written = 0;
  #writable = true;
  #blockedSince = Infinity;
  #drainWaiters: (() => void)[] | null = null;
  #closed = false;

  /**
   * Makes the output of a socket.
   * @param socket The socket.
   * @param clock Where the time a write blocked comes from.
   */
  constructor(socket: TransportSocket, clock: Clock) {
    this.#socket = socket;
    this.#clock = clock;
  }

  /** Bytes batched, not yet handed to the socket. */
  get queued(): number {
    return this.#queued;
  }

  /** Every byte written so far, batched or handed on. */
  get written(): number {
    return this.#written;
  }

  /** Whether the socket takes more (it has not asked to wait for a drain). */
  get writable(): boolean {
    return this.#writable;
  }

  /** Since when the socket has taken nothing more; `Infinity` while it is writable. */
  get blockedSince(): number {
    return this.#blockedSince;
  }

  /** Whether something waits for the socket's drain. */
  get awaitingDrain(): boolean {
    return this.#drainWaiters !== null;
  }

  /**
   * Batches bytes; sends the batch at once when it reaches the high-water mark.
   * @param bytes The bytes, which must not change until they are sent.
   * @param recyclable Whether the bytes are a body copy whose memory goes back to the pool once sent.
   */
  write(bytes: Uint8Array, recyclable = false): void {
    if (bytes.byteLength === 0 || this.#closed) return;
    const batch = this.#batch;
    if (batch === null) this.#batch = bytes;
    else if (batch instanceof Uint8Array) this.#batch = [batch, bytes];
    else batch.push(bytes);
    if (recyclable) (this.#recyclable ??= []).push(bytes);
    this.#queued += bytes.byteLength;
    this.#written += bytes.byteLength;
    if (this.#queued >= HIGH_WATER) this.flush();
  }

  /** Hands the batch to the socket. */
  flush(): void {
    if (this.#queued === 0 || this.#closed) return;
    const batch = this.#batch as Uint8Array | Uint8Array[];
    const total = this.#queued;
    const recyclable = this.#recyclable;
    this.#batch = null;
    this.#queued = 0;
    this.#recyclable = null;
    const sent = recyclable === null ? undefined : () => recycleAll(recyclable);
    let writable: boolean;
    // Large output (a big body) goes as it is where the transport can write parts; else one array.
    if (batch instanceof Uint8Array) writable = this.#socket.write(batch, sent);
    else if (total >= COPY_LIMIT && this.#socket.writeParts !== undefined) {
      writable = this.#socket.writeParts(batch, sent);
    } else {
      writable = this.#socket.write(concatBytes(batch));
      sent?.(); // copied
    }
    if (!writable && this.#writable) {
      this.#writable = false;
      this.#blockedSince = this.#clock.now();
    }
  }

  /** The socket takes more again: whoever waits for it goes on. */
  drained(): void {
    this.#writable = true;
    this.#blockedSince = Infinity;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = null;
    if (waiters !== null) { for (const resolve of waiters) resolve(); }
  }

  /**
   * Waits until the socket takes more (or is closed).
   * @returns A promise that resolves then.
   */
  whenDrained(): Promise<void> {
    return new Promise<void>((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /** The socket is closed: nothing more is written, and whoever waits for a drain goes on. */
  close(): void {
    this.#closed = true;
    this.drained();
  }

  /**
   * Awaits a value; when it is not available at once, first sends the output batched so far,
   * so that a slow handler does not hold back the responses before it.
   * @param value The value or a promise of it.
   * @returns The value.
   */
  async settle<T>(value: T | Promise<T>): Promise<T> {
    if (!(value instanceof Promise) || this.#queued === 0) return await value;
    const first = await Promise.race([value, microtaskHops()]);
    if (first !== NOT_YET) return first as T;
    this.flush();
    return await value;
  }
}

/** Gives body copies back to the pool. */
function recycleAll(copies: readonly Uint8Array[]): void {
  for (const bytes of copies) bodyPool.recycle(bytes);
}
