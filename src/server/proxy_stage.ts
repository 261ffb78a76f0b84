/**
 * The PROXY protocol stage of a connection (`serve({ proxyProtocol: true })`): before any HTTP, it
 * reads the header that the proxy sends first (`src/core/proxy_protocol.ts`), records the client it
 * names as the socket's `clientAddr`, and hands the socket and the bytes after the header to an
 * HTTP connection. A connection without a valid header is closed, with no answer, and reported to
 * `onProtocolError`; one whose header does not come within the head timeout is closed.
 *
 * @module
 */

import { ProxyHeaderParser, ProxyProtocolError } from "../core/mod.ts";
import type { Addr, SocketEvents, TransportSocket } from "../transport/transport.ts";
import { type ConnectionScope, HttpConnection } from "./connection.ts";
import { runHook } from "./hooks.ts";
import type { LiveConnection } from "./switch.ts";

/** The client each proxied socket's header named (a socket not in it is its own client). */
const clientAddrs = new WeakMap<TransportSocket, Addr>();

/**
 * The client of a connection: the one its PROXY header named, else the peer itself.
 *
 * @param socket The socket.
 * @returns The client's address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddrOf } from "./proxy_stage.ts";
 * import { NO_EVENTS, type TransportSocket } from "../transport/transport.ts";
 *
 * const remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 4000 } as const;
 * const socket = { remoteAddr, bytesRead: 0, events: NO_EVENTS } as unknown as TransportSocket;
 * assert.equal(clientAddrOf(socket), remoteAddr);
 * ```
 */
export function clientAddrOf(socket: TransportSocket): Addr {
  return clientAddrs.get(socket) ?? socket.remoteAddr;
}

/**
 * A connection that waits for its PROXY header: the socket's events and its entry in the table
 * until the header is read.
 *
 * @example Made by the connection table for a listener with `proxyProtocol: true`
 * ```ts ignore
 * socket.events = new ProxyHeaderStage(server, socket);
 * ```
 */
export class ProxyHeaderStage implements SocketEvents, LiveConnection {
  readonly #server: ConnectionScope;
  readonly #socket: TransportSocket;
  readonly #parser = new ProxyHeaderParser();
  readonly #started: number;
  #over = false;

  /**
   * @param server The server.
   * @param socket The accepted socket.
   */
  constructor(server: ConnectionScope, socket: TransportSocket) {
    this.#server = server;
    this.#socket = socket;
    this.#started = server.clock.now();
  }

  data(bytes: Uint8Array): void {
    if (this.#over) return;
    const onData = this.#server.options.onData;
    if (onData !== undefined) runHook("onData", () => onData(bytes, this.#socket.remoteAddr));
    let parsed;
    try {
      parsed = this.#parser.push(bytes);
    } catch (error) {
      return this.#refuse(error);
    }
    if (parsed.header === null) return;
    this.#over = true;
    const socket = this.#socket;
    const server = this.#server;
    const clientAddr = parsed.header.source ?? socket.remoteAddr;
    clientAddrs.set(socket, clientAddr);
    const onConnection = server.options.onConnection;
    if (onConnection) runHook("onConnection", () => onConnection(socket.remoteAddr, clientAddr));
    // The HTTP connection counts its offsets from the first byte after the header.
    const headerBytes = socket.bytesRead - (bytes.length - parsed.consumed);
    const connection = new HttpConnection(server, socket, headerBytes, true);
    server.table.replace(socket, connection);
    socket.events = connection;
    if (parsed.consumed < bytes.length) connection.received(bytes.subarray(parsed.consumed));
  }

  end(): void {
    if (this.#over) return;
    try {
      this.#parser.end();
    } catch (error) {
      this.#refuse(error);
    }
  }

  drain(): void {}

  close(): void {
    this.#over = true;
    this.#server.table.removed(this.#socket);
  }

  tick(now: number): void {
    const limitMs = this.#server.context.limits.headersTimeoutMs;
    if (now - this.#started < limitMs) return;
    this.#server.trace?.timedOut(this.#socket, "head", limitMs);
    this.destroy();
  }

  requestClose(): void {
    this.destroy();
  }

  destroy(): void {
    this.#over = true;
    this.#socket.destroy();
  }

  /** Closes the connection for a bad header, and reports it: nothing is answered (status 0). */
  #refuse(error: unknown): void {
    this.#over = true;
    const onProtocolError = this.#server.options.onProtocolError, trace = this.#server.trace;
    if ((onProtocolError || trace) && error instanceof ProxyProtocolError) {
      const info = {
        code: `PROXY_${error.code}`,
        status: 0,
        rfc: error.rfc,
        offset: error.offset,
        message: error.message,
        remoteAddr: this.#socket.remoteAddr,
      };
      trace?.rejected(this.#socket, info as never);
      if (onProtocolError) runHook("onProtocolError", () => onProtocolError(info as never));
    }
    this.#socket.destroy();
  }
}
