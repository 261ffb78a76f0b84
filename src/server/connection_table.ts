/**
 * Every open connection of a server, awake or dormant, and the one periodic tick that checks
 * their deadlines. This is the one place that knows about dormancy: a keep-alive connection that
 * waits for its next request keeps only the transport's socket and the time its keep-alive ends;
 * its next byte (or its end) wakes it, as a new {@link HttpConnection} with a new state machine
 * that counts on from the bytes the socket read.
 *
 * A new connection goes dormant as soon as it waits after its first response; one woken less
 * than a tick after it slept is busy, and stays awake while it waits, until a tick finds it idle,
 * so that a client sending request after request does not pay for sleeping and waking.
 *
 * @module
 */

import type { SocketEvents, TransportSocket } from "../transport/transport.ts";
import type { Clock, Ticker } from "./clock.ts";
import { type ConnectionScope, HttpConnection } from "./connection.ts";
import type { LiveConnection } from "./switch.ts";
import { ProxyHeaderStage } from "./proxy_stage.ts";

/**
 * The open connections of one server.
 *
 * @example Made by the server, which hands it every accepted socket
 * ```ts ignore
 * const table = new ConnectionTable(server, clock, tickMs, onEmpty);
 * socket.events = table.accept(socket) ?? NO_EVENTS;
 * ```
 */
export class ConnectionTable {
  /** Each socket's connection, or, for a dormant one, only the time its keep-alive ends. */
  readonly #entries: Map<TransportSocket, LiveConnection | number> = new Map();
  /** The events of every dormant socket: the first byte or the end wakes the connection. */
  readonly #dormantEvents: SocketEvents = {
    data: (bytes, socket) => this.#wake(socket, bytes.byteLength).data(bytes),
    end: (socket) => this.#wake(socket).end(),
    drain() {},
    close: (socket) => this.removed(socket),
  };
  readonly #server: ConnectionScope;
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #onEmpty: () => void;
  #ticker: Ticker | null = null;
  /** When the connections still open after a shutdown are closed anyway. */
  #drainDeadline = Infinity;

  /**
   * Makes an empty table.
   * @param server What the connections need of their server.
   * @param clock Where the time comes from, and the tick.
   * @param tickMs How often deadlines are checked.
   * @param onEmpty Called whenever the last connection has closed.
   */
  constructor(server: ConnectionScope, clock: Clock, tickMs: number, onEmpty: () => void) {
    this.#server = server;
    this.#clock = clock;
    this.#tickMs = tickMs;
    this.#onEmpty = onEmpty;
  }

  /** How many connections are open. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Takes a new socket: a connection for it, or, past the connection limit, nothing.
   * @param socket The accepted socket.
   * @returns Its connection, or `null` when it was refused (and destroyed).
   */
  accept(socket: TransportSocket): (SocketEvents & LiveConnection) | null {
    if (this.#entries.size >= this.#server.limits.maxConnections) {
      // Over the limit: close before reading anything, so the excess costs no parsing and no memory.
      socket.destroy();
      return null;
    }
    // Behind a proxy that speaks the PROXY protocol, its header comes first.
    const connection = this.#server.options.proxyProtocol === true
      ? new ProxyHeaderStage(this.#server, socket)
      : new HttpConnection(this.#server, socket, 0, true);
    this.#entries.set(socket, connection);
    this.#ticker ??= this.#clock.every(this.#tickMs, () => this.#tick());
    return connection;
  }

  /**
   * Lets a connection that waits for its next request go dormant: only its socket and the end of
   * its keep-alive are kept, until the next byte arrives.
   * @param socket Its socket.
   * @param keepAliveEnds When its keep-alive ends.
   */
  sleep(socket: TransportSocket, keepAliveEnds: number): void {
    this.#entries.set(socket, keepAliveEnds);
    socket.events = this.#dormantEvents;
  }

  /**
   * Puts another connection in a socket's place: the protocol that took the socket over.
   * @param socket The socket.
   * @param connection Its new connection.
   */
  replace(socket: TransportSocket, connection: LiveConnection): void {
    this.#entries.set(socket, connection);
  }

  /**
   * Forgets a connection whose socket has closed.
   * @param socket The socket.
   */
  removed(socket: TransportSocket): void {
    this.#entries.delete(socket);
    if (this.#entries.size > 0) return;
    this.#ticker?.cancel();
    this.#ticker = null;
    this.#onEmpty();
  }

  /**
   * Asks every connection to close once its response in progress is sent (a graceful shutdown),
   * and closes those still open at the deadline.
   * @param deadline When the remaining connections are closed anyway.
   */
  closeAll(deadline: number): void {
    this.#drainDeadline = deadline;
    for (const [socket, entry] of this.#entries) {
      this.#server.trace?.shuttingDown(socket);
      if (typeof entry === "number") this.#wake(socket).requestClose();
      else entry.requestClose();
    }
  }

  #tick(): void {
    const now = this.#clock.now();
    const drainOver = now >= this.#drainDeadline;
    for (const [socket, entry] of this.#entries) {
      if (typeof entry === "number") {
        if (drainOver) socket.destroy();
        else if (now >= entry) {
          // Its keep-alive is over.
          this.#server.trace?.timedOut(socket, "keep-alive", this.#server.context.limits.keepAliveTimeoutMs);
          this.#wake(socket).requestClose();
        }
      } else if (drainOver) entry.destroy();
      else entry.tick(now);
    }
  }

  /**
   * Makes a dormant connection whole again, as it was when it went dormant. One that slept less
   * than a tick is busy: it stays awake while it waits, until a tick finds it idle.
   * @param arriving The bytes of the data event that wakes it: the socket has counted them already.
   */
  #wake(socket: TransportSocket, arriving = 0): HttpConnection {
    const keepAliveEnds = this.#entries.get(socket) as number;
    const sleptSince = keepAliveEnds - this.#server.context.limits.keepAliveTimeoutMs;
    const rested = this.#clock.now() - sleptSince >= this.#tickMs;
    const connection = new HttpConnection(this.#server, socket, socket.bytesRead - arriving, rested);
    this.#entries.set(socket, connection);
    socket.events = connection;
    return connection;
  }
}
