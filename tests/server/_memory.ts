/**
 * What the server's unit tests run it on: a transport whose sockets the test drives by hand, and
 * a clock the test moves by hand. No socket, no timer, no wait: a timeout is a call to
 * `clock.advance(ms)`, and everything it causes has happened when the call returns.
 *
 * This file is not a test file (its name does not end in `_test.ts`).
 *
 * @module
 */

import type { Clock, Ticker } from "../../src/server/clock.ts";
import type { ServeHandler, ServeOptions, Server } from "../../src/server/options.ts";
import { serveWith } from "../../src/server/server.ts";
import {
  type NetAddr,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportSocket,
} from "../../src/transport/transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A clock that stands still until the test moves it; its periodic tasks run as time passes. */
export class FakeClock implements Clock {
  #time: number;
  readonly #tasks = new Set<{ readonly ms: number; next: number; readonly run: () => void }>();

  /** @param start The time it starts at, in milliseconds since the epoch. */
  constructor(start = 1_000_000) {
    this.#time = start;
  }

  /** The current time. */
  now(): number {
    return this.#time;
  }

  /** Runs `run` every `ms` milliseconds of the clock's time. */
  every(ms: number, run: () => void): Ticker {
    const task = { ms, next: this.#time + ms, run };
    this.#tasks.add(task);
    return { cancel: () => this.#tasks.delete(task) };
  }

  /** How many periodic tasks run. */
  get tasks(): number {
    return this.#tasks.size;
  }

  /**
   * Moves time forward by `ms`, running each periodic task at every moment it is due, in order,
   * with the clock showing that moment.
   */
  advance(ms: number): void {
    const end = this.#time + ms;
    while (true) {
      let due: { ms: number; next: number; run: () => void } | null = null;
      for (const task of this.#tasks) {
        if (task.next <= end && (due === null || task.next < due.next)) due = task;
      }
      if (due === null) break;
      this.#time = due.next;
      due.next += due.ms;
      due.run();
    }
    this.#time = end;
  }
}

/** A socket driven by the test: it keeps what the server writes and every events object it is given. */
export class MemorySocket implements TransportSocket {
  readonly remoteAddr: NetAddr;
  bytesRead = 0;
  /** Everything the server wrote, as Latin-1 text. */
  written = "";
  /** Every events object the server set, in order. */
  readonly assigned: SocketEvents[] = [];
  /** Every array the server wrote, as written. */
  readonly writtenBytes: Uint8Array[] = [];
  /** While not `null`, writes' `sent` callbacks wait here (the system has not taken the bytes yet). */
  heldSent: (() => void)[] | null = null;
  /** What `write` answers: `false` makes the server wait for a drain. */
  accepting = true;
  paused = false;
  /** Whether the server sent its FIN. */
  ended = false;
  /** Whether the socket is closed (the server destroyed it, or the test closed it). */
  closed = false;
  #events: SocketEvents = NO_EVENTS;
  #writeWaiters: (() => void)[] = [];

  /** @param port The peer's port, to tell sockets apart. */
  constructor(port = 40_000) {
    this.remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port };
  }

  get events(): SocketEvents {
    return this.#events;
  }

  set events(events: SocketEvents) {
    this.#events = events;
    this.assigned.push(events);
  }

  /** The peer sends bytes. */
  receive(text: string): void {
    const bytes = encoder.encode(text);
    this.bytesRead += bytes.byteLength;
    this.#events.data(bytes, this);
  }

  /** The peer sends bytes that are not text (WebSocket frames). */
  receiveBytes(bytes: Uint8Array): void {
    this.bytesRead += bytes.byteLength;
    this.#events.data(bytes.slice(), this);
  }

  /** The peer half-closes. */
  peerEnds(): void {
    this.#events.end(this);
  }

  /** The socket takes more again. */
  drain(): void {
    this.accepting = true;
    this.#events.drain(this);
  }

  /** The socket closes from the peer's side. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#events.close(this);
  }

  write(bytes: Uint8Array, sent?: () => void): boolean {
    if (this.closed) return false;
    this.written += decoder.decode(bytes);
    this.writtenBytes.push(bytes.slice());
    if (sent !== undefined) {
      if (this.heldSent !== null) this.heldSent.push(sent);
      else sent();
    }
    for (const resolve of this.#writeWaiters.splice(0)) resolve();
    return this.accepting;
  }

  /** Resolves after the server's next write, once what the write was part of has run. */
  whenWritten(): Promise<void> {
    return new Promise((resolve) => this.#writeWaiters.push(resolve));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.close();
  }

  /** How many responses with this status line prefix the server wrote. */
  count(status = "HTTP/1.1 200 OK"): number {
    return this.written.split(status).length - 1;
  }
}

/** A transport whose listener hands each socket of `connect()` to the server. */
export class MemoryTransport implements Transport {
  #accept: ((socket: TransportSocket) => SocketEvents) | null = null;
  #port = 40_000;

  listen(
    options: { hostname: string; port: number },
    accept: (socket: TransportSocket) => SocketEvents,
  ): { addr: NetAddr; close(): void } {
    this.#accept = accept;
    return { addr: { transport: "tcp", hostname: options.hostname, port: options.port || 8000 }, close() {} };
  }

  /** A new connection from a peer. */
  connect(): MemorySocket {
    if (this.#accept === null) throw new Error("not listening");
    const socket = new MemorySocket(++this.#port);
    socket.events = this.#accept(socket);
    return socket;
  }
}

/** A server on a memory transport with a fake clock, listening. */
export async function memoryServer(
  handler: ServeHandler,
  options: ServeOptions = {},
): Promise<{ server: Server; transport: MemoryTransport; clock: FakeClock }> {
  const transport = new MemoryTransport();
  const clock = new FakeClock();
  const server = serveWith(transport, { hostname: "127.0.0.1", port: 8000, clock, ...options }, handler);
  await server.ready;
  return { server, transport, clock };
}

/** A plain request for `/` (or another target). */
export function get(target = "/"): string {
  return `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`;
}
