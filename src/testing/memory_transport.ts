/**
 * A {@link Transport} in memory: the same interface that the Deno, Bun and Node adapters implement,
 * with sockets that a test drives by hand from the peer's side. What passes on it passes on a socket:
 * the server above it, its core and its glue are the same.
 *
 * @module
 */

import {
  type NetAddr,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportSocket,
} from "../transport/transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One connection of a {@link MemoryTransport}: the server's side is the {@link TransportSocket}
 * interface; the peer's side is the methods that send, half-close, close and drain, and the record
 * of everything the server wrote.
 *
 * @example Send a request and read what the server wrote
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeClock, MemoryTransport } from "@h1serve/h1serve/testing";
 * import { serveWith } from "../server/server.ts";
 *
 * const transport = new MemoryTransport();
 * const server = serveWith(transport, { clock: new FakeClock() }, () => new Response("hi"));
 * await server.ready;
 * const socket = transport.connect();
 * socket.receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * await socket.whenWritten();
 * assert.match(socket.written, /^HTTP\/1\.1 200 OK\r\n/);
 * socket.close();
 * await server.shutdown();
 * ```
 */
export class MemorySocket implements TransportSocket {
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** How many bytes the peer sent. */
  bytesRead = 0;
  /** Everything the server wrote, decoded as UTF-8 write by write (the bytes are in `writtenBytes`). */
  written = "";
  /** Every events object the server set, in order. */
  readonly assigned: SocketEvents[] = [];
  /** Every array the server wrote, copied as it was written. */
  readonly writtenBytes: Uint8Array[] = [];
  /** While not `null`, writes' `sent` callbacks wait here (the system has not taken the bytes yet). */
  heldSent: (() => void)[] | null = null;
  /** What `write` answers: `false` makes the server wait for a {@link MemorySocket.drain}. */
  accepting = true;
  /** Whether the server paused reading. */
  paused = false;
  /** Whether the server sent its FIN. */
  ended = false;
  /** Whether the socket is closed (the server destroyed it, or the peer closed it). */
  closed = false;
  #events: SocketEvents = NO_EVENTS;
  #writeWaiters: (() => void)[] = [];
  readonly #onChange: () => void;

  /**
   * Makes a socket; {@link MemoryTransport.connect} makes them for a listening server.
   * @param port The peer's port, to tell sockets apart.
   * @param onChange Called after every write, end and close by the server.
   */
  constructor(port = 40_000, onChange: () => void = () => {}) {
    this.remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port };
    this.#onChange = onChange;
  }

  /** The server's callbacks for this socket. */
  get events(): SocketEvents {
    return this.#events;
  }

  /** Sets the server's callbacks (and records them in {@link MemorySocket.assigned}). */
  set events(events: SocketEvents) {
    this.#events = events;
    this.assigned.push(events);
  }

  /**
   * The peer sends text, encoded as UTF-8.
   * @param text What it sends.
   */
  receive(text: string): void {
    this.receiveBytes(encoder.encode(text));
  }

  /**
   * The peer sends bytes.
   * @param bytes What it sends (copied: the server may keep views of it).
   */
  receiveBytes(bytes: Uint8Array): void {
    if (this.closed) return;
    this.bytesRead += bytes.byteLength;
    this.#events.data(bytes.slice(), this);
  }

  /** The peer half-closes: it sends nothing more, and still reads. */
  peerEnds(): void {
    if (!this.closed) this.#events.end(this);
  }

  /** The socket takes more again, after `accepting` was `false`. */
  drain(): void {
    this.accepting = true;
    this.#events.drain(this);
  }

  /** The socket closes (from the peer's side, or because the server destroyed it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#events.close(this);
    this.#onChange();
  }

  /**
   * The server writes.
   * @param bytes What it writes.
   * @param sent Called once the bytes are taken.
   * @returns Whether the socket takes more at once ({@link MemorySocket.accepting}).
   */
  write(bytes: Uint8Array, sent?: () => void): boolean {
    if (this.closed) return false;
    this.written += decoder.decode(bytes);
    this.writtenBytes.push(bytes.slice());
    if (sent !== undefined) {
      if (this.heldSent !== null) this.heldSent.push(sent);
      else sent();
    }
    for (const resolve of this.#writeWaiters.splice(0)) resolve();
    this.#onChange();
    return this.accepting;
  }

  /**
   * Resolves after the server's next write, once what the write was part of has run.
   * @returns A promise of that moment.
   */
  whenWritten(): Promise<void> {
    return new Promise((resolve) => this.#writeWaiters.push(resolve));
  }

  /** The server stops reading. */
  pause(): void {
    this.paused = true;
  }

  /** The server reads again. */
  resume(): void {
    this.paused = false;
  }

  /** The server sends its FIN. */
  end(): void {
    this.ended = true;
    this.#onChange();
  }

  /** The server closes the socket at once. */
  destroy(): void {
    this.close();
  }

  /**
   * How many responses with this status line the server wrote.
   * @param status The status line's start.
   * @returns The count.
   */
  count(status = "HTTP/1.1 200 OK"): number {
    return this.written.split(status).length - 1;
  }
}

/**
 * A transport whose listener hands each socket made by {@link MemoryTransport.connect} to the server.
 *
 * @example A server on memory sockets
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeClock, MemoryTransport } from "@h1serve/h1serve/testing";
 * import { serveWith } from "../server/server.ts";
 *
 * const transport = new MemoryTransport();
 * const server = serveWith(transport, { port: 8080, clock: new FakeClock() }, () => new Response("hi"));
 * assert.equal((await server.ready).port, 8080);
 * await server.shutdown();
 * ```
 */
export class MemoryTransport implements Transport {
  #accept: ((socket: TransportSocket) => SocketEvents) | null = null;
  #port = 40_000;
  readonly #onChange: () => void;

  /**
   * Makes a transport.
   * @param onChange Called after every write, end and close by the server, on any socket.
   */
  constructor(onChange: () => void = () => {}) {
    this.#onChange = onChange;
  }

  /**
   * Listens: the server's side of the {@link Transport} interface.
   * @param options Where the server asked to listen (port 0 shows as 8000).
   * @param accept The server's callback for a new socket.
   * @returns The listener.
   */
  listen(
    options: { hostname: string; port: number },
    accept: (socket: TransportSocket) => SocketEvents,
  ): { addr: NetAddr; close(): void } {
    this.#accept = accept;
    return { addr: { transport: "tcp", hostname: options.hostname, port: options.port || 8000 }, close() {} };
  }

  /**
   * A new connection from a peer.
   * @returns The socket, already accepted by the server.
   */
  connect(): MemorySocket {
    if (this.#accept === null) throw new Error("not listening");
    const socket = new MemorySocket(++this.#port, this.#onChange);
    socket.events = this.#accept(socket);
    return socket;
  }
}
