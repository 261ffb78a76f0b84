/**
 * The writing half of a WebSocket connection: frames go to the socket at once, or, while the
 * connection processes received events, into a batch sent as one write at the end. It counts
 * `bufferedAmount` exactly (a message's bytes stay counted until the transport says the system has
 * them), notes when the socket stops taking bytes (for the send timeout), says when the bytes
 * waiting pass the send high-water mark or fall back under it, and gives pooled frames back to the
 * body pool once sent. Private to h1serve.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";
import { bodyPool } from "../fetch/body_pool.ts";
import type { Clock } from "../server/clock.ts";
import type { TransportSocket } from "../transport/transport.ts";

/** Output from this size up goes as parts where the transport can write parts; below it, joined. */
const PARTS_FROM = 16 * 1024;

/**
 * Who hears of the output's backlog (the connection itself: no closure per connection).
 *
 * @example
 * ```ts ignore
 * const listener: BacklogListener = { backlogChanged: (over) => console.log(over) };
 * ```
 */
export interface BacklogListener {
  /**
   * The bytes waiting passed the send high-water mark (`true`) or fell back under it (`false`).
   * @param over Which.
   */
  backlogChanged(over: boolean): void;
}

/**
 * One connection's frame output.
 *
 * @example
 * ```ts ignore
 * const output = new FrameOutput(socket, clock, 1 << 20, {
 *   backlogChanged: (over) => console.log(over ? "backlogged" : "drained"),
 * });
 * output.add(2);
 * output.write([new Uint8Array([0x81, 2, 0x68, 0x69])], 2);
 * ```
 */
export class FrameOutput {
  readonly #socket: TransportSocket;
  readonly #clock: Clock;
  readonly #highWaterMark: number;
  readonly #listener: BacklogListener;
  /** Application bytes accepted by sends and not yet taken by the system. */
  #buffered = 0;
  #bytesSent = 0;
  #batch: Uint8Array[] | null = null;
  #batchBytes = 0;
  #over = false;
  #writable = true;
  #blockedSince = Infinity;

  /**
   * @param socket Where the frames go.
   * @param clock The time, for when the socket stopped taking bytes.
   * @param highWaterMark The send high-water mark.
   * @param listener Told `true` when more than the mark waits to be sent, `false` when it fell back.
   */
  constructor(
    socket: TransportSocket,
    clock: Clock,
    highWaterMark: number,
    listener: BacklogListener,
  ) {
    this.#socket = socket;
    this.#clock = clock;
    this.#highWaterMark = highWaterMark;
    this.#listener = listener;
  }

  /** Application bytes accepted and not yet taken by the system. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Every byte written to the socket. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Since when the socket has taken nothing more; `Infinity` while it is writable. */
  get blockedSince(): number {
    return this.#blockedSince;
  }

  /** Whether frames are being batched. */
  get batching(): boolean {
    return this.#batch !== null;
  }

  /** Whether more than the send high-water mark is buffered. */
  get overHighWaterMark(): boolean {
    return this.#buffered > this.#highWaterMark;
  }

  /**
   * Counts application bytes a send accepted (negative: bytes it gave back uncounted).
   * @param count The bytes.
   */
  add(count: number): void {
    this.#buffered += count;
  }

  /** Batches the frames written from now until {@link endBatch}. */
  startBatch(): void {
    this.#batch = [];
  }

  /** Writes what was batched, as one write. */
  endBatch(): void {
    const batch = this.#batch!;
    const bytes = this.#batchBytes;
    this.#batch = null;
    this.#batchBytes = 0;
    if (batch.length > 0) this.#writeNow(batch, bytes, null);
    this.#checkBacklog();
  }

  /**
   * Writes frames: into the batch, or at once.
   * @param frames The frames' arrays.
   * @param applicationBytes The message bytes they carry (for `bufferedAmount`).
   */
  write(frames: Uint8Array[], applicationBytes: number): void {
    if (frames.length === 0 || (frames.length === 1 && frames[0].byteLength === 0)) {
      return this.#sent(applicationBytes);
    }
    const batch = this.#batch;
    if (batch === null) return this.#writeNow(frames, applicationBytes, null);
    for (const frame of frames) batch.push(frame);
    this.#batchBytes += applicationBytes;
  }

  /**
   * Writes a frame in body-pool memory on its own (after what is batched), and gives it back once sent.
   * @param frame The whole frame, in the memory of `pooled`.
   * @param applicationBytes The message bytes it carries.
   * @param pooled The array the body pool lent.
   */
  writePooled(frame: Uint8Array, applicationBytes: number, pooled: Uint8Array): void {
    if (this.#batch !== null && this.#batch.length > 0) {
      this.#writeNow(this.#batch, this.#batchBytes, null);
      this.#batch = [];
      this.#batchBytes = 0;
    }
    this.#writeNow([frame], applicationBytes, pooled);
  }

  /** The socket takes more again. */
  drained(): void {
    this.#writable = true;
    this.#blockedSince = Infinity;
  }

  #writeNow(frames: Uint8Array[], applicationBytes: number, pooled: Uint8Array | null): void {
    // A transport may say "sent" inside write() itself; bufferedAmount still counts the bytes until
    // the code that called send() has run to its end, as in a browser.
    let insideWrite = true;
    const settle = () => {
      if (insideWrite) queueMicrotask(() => this.#sent(applicationBytes));
      else this.#sent(applicationBytes);
    };
    const sent = pooled !== null
      ? () => {
        bodyPool.recycle(pooled);
        settle();
      }
      : applicationBytes === 0
      ? undefined
      : settle;
    let total = 0;
    for (const frame of frames) total += frame.byteLength;
    this.#bytesSent += total;
    const socket = this.#socket;
    let writable: boolean;
    if (frames.length === 1) writable = socket.write(frames[0], sent);
    else if (socket.writeParts !== undefined && total >= PARTS_FROM) {
      writable = socket.writeParts(frames, sent);
    } else writable = socket.write(concatBytes(frames), sent);
    insideWrite = false;
    if (!writable && this.#writable) {
      this.#writable = false;
      this.#blockedSince = this.#clock.now();
    }
    if (this.#batch === null) this.#checkBacklog();
  }

  /** The system has taken `count` application bytes. */
  #sent(count: number): void {
    if (count === 0) return;
    this.#buffered -= count;
    if (this.#over && this.#buffered <= this.#highWaterMark) {
      this.#over = false;
      this.#listener.backlogChanged(false);
    }
  }

  #checkBacklog(): void {
    if (this.#over || this.#buffered <= this.#highWaterMark) return;
    this.#over = true;
    this.#listener.backlogChanged(true);
  }
}
