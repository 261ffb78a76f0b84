/**
 * The one interface every runtime adapter (`deno.ts`, `bun.ts`, `node.ts`) implements: a TCP
 * listener whose sockets only move bytes and report what happens to them. No HTTP here.
 *
 * @module
 */

/**
 * A TCP address, as `Deno.serve` reports it.
 *
 * @example Read the address a server bound
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "../server/serve.ts";
 * import type { NetAddr } from "./transport.ts";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, () => new Response());
 * const addr: NetAddr = await server.ready;
 * assert.deepEqual([addr.transport, addr.hostname], ["tcp", "127.0.0.1"]);
 * assert.ok(addr.port > 0);
 * await server.shutdown();
 * ```
 */
export interface NetAddr {
  /** Always `"tcp"`. */
  readonly transport: "tcp";
  /** IP address or host name. */
  readonly hostname: string;
  /** Port number. */
  readonly port: number;
}

/**
 * An address as `host:port`, with an IPv6 host in brackets (RFC 3986 §3.2.2), as URLs and logs
 * write it.
 *
 * @param addr The address.
 * @returns `127.0.0.1:8000` or `[::1]:8000`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostPort } from "./transport.ts";
 *
 * assert.equal(hostPort({ transport: "tcp", hostname: "127.0.0.1", port: 80 }), "127.0.0.1:80");
 * assert.equal(hostPort({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
 * ```
 */
export function hostPort(addr: NetAddr): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

/**
 * What a socket tells the server. The adapter calls these on the socket's current
 * {@link TransportSocket.events}, with the socket itself, so that one object can serve many
 * sockets (the server's idle connections share one).
 *
 * @example Receive bytes and the peer's close
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "node:net";
 * import { runtimeTransport } from "../server/serve.ts";
 * import type { SocketEvents } from "./transport.ts";
 *
 * const received: string[] = [];
 * const closed = Promise.withResolvers<void>();
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener = await runtimeTransport().listen(options, (): SocketEvents => ({
 *   data: (bytes) => received.push(new TextDecoder().decode(bytes)),
 *   end: (socket) => socket.end(),
 *   drain() {},
 *   close: () => closed.resolve(),
 * }));
 * const client = connect({ host: "127.0.0.1", port: listener.addr.port }, () => client.end("ping"));
 * client.resume();
 * await closed.promise;
 * listener.close();
 * assert.deepEqual(received, ["ping"]);
 * ```
 */
export interface SocketEvents {
  /** Bytes arrived. The array is the server's to keep: the adapter never reuses it. */
  data(bytes: Uint8Array, socket: TransportSocket): void;
  /** The peer will send nothing more (it half-closed or closed). */
  end(socket: TransportSocket): void;
  /** Writes are accepted again after {@link TransportSocket.write} returned `false`. */
  drain(socket: TransportSocket): void;
  /** The socket is closed in both directions; called exactly once. */
  close(socket: TransportSocket): void;
}

/**
 * Events that do nothing: what a socket's {@link TransportSocket.events} are before `accept`
 * returns, and what a server gives a socket it refuses.
 *
 * @example Refuse every connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "node:net";
 * import { runtimeTransport } from "../server/serve.ts";
 * import { NO_EVENTS } from "./transport.ts";
 *
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener = await runtimeTransport().listen(options, (socket) => (socket.destroy(), NO_EVENTS));
 * const closed = await new Promise<boolean>((resolve) => {
 *   const client = connect({ host: "127.0.0.1", port: listener.addr.port });
 *   client.on("error", () => {});
 *   client.on("close", () => resolve(true));
 * });
 * listener.close();
 * assert.ok(closed);
 * ```
 */
export const NO_EVENTS: SocketEvents = Object.freeze({
  data() {},
  end() {},
  drain() {},
  close() {},
});

/**
 * A connected socket, as the server sees it.
 *
 * @example Answer with raw bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeTransport } from "../server/serve.ts";
 * import type { TransportSocket } from "./transport.ts";
 *
 * const text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi";
 * const reply = new TextEncoder().encode(text);
 * const closed = Promise.withResolvers<void>();
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener = await runtimeTransport().listen(options, (socket: TransportSocket) => {
 *   assert.equal(socket.remoteAddr.hostname, "127.0.0.1");
 *   const send = () => (socket.write(reply), socket.end());
 *   return { data: send, end() {}, drain() {}, close: () => closed.resolve() };
 * });
 * const response = await fetch(`http://127.0.0.1:${listener.addr.port}/`);
 * assert.equal(await response.text(), "hi");
 * await closed.promise;
 * listener.close();
 * ```
 */
export interface TransportSocket {
  /** The peer's address, known until the socket is dropped, also after it closed. */
  readonly remoteAddr: NetAddr;
  /** How many bytes have been passed to {@link SocketEvents.data}, counting those of the call in progress. */
  readonly bytesRead: number;
  /**
   * Where the socket's events go: what `accept` returned, until the server sets another.
   * The server may change it at any time; the next event goes to the new one.
   */
  events: SocketEvents;
  /**
   * Queues bytes for sending. The bytes must not change until they are sent.
   * @param bytes The bytes.
   * @param sent Called once the transport no longer needs the bytes (the system has them, or
   *   they were copied): from then on the server may reuse their memory. Not called if the
   *   socket closes first.
   * @returns `false` when the server should wait for {@link SocketEvents.drain} before writing more.
   */
  write(bytes: Uint8Array, sent?: () => void): boolean;
  /**
   * Queues several arrays to leave as one write, without joining them (Node: one writev). A
   * transport without it gets large output joined into one array by the server: a copy costs
   * less than a second write.
   * @param parts The arrays, in order.
   * @param sent As for {@link TransportSocket.write}, for all the parts.
   * @returns As {@link TransportSocket.write}.
   */
  writeParts?(parts: readonly Uint8Array[], sent?: () => void): boolean;
  /** Stops reading (backpressure). */
  pause(): void;
  /** Starts reading again. */
  resume(): void;
  /** Sends everything queued, then a FIN; reading goes on until the peer closes. */
  end(): void;
  /** Closes at once, dropping anything unsent. */
  destroy(): void;
}

/**
 * A listening socket.
 *
 * @example Listen on a free port
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeTransport } from "../server/serve.ts";
 * import type { TransportListener } from "./transport.ts";
 *
 * const ignore = { data() {}, end() {}, drain() {}, close() {} };
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener: TransportListener = await runtimeTransport().listen(options, () => ignore);
 * assert.equal(listener.addr.hostname, "127.0.0.1");
 * assert.ok(listener.addr.port > 0);
 * listener.close();
 * ```
 */
export interface TransportListener {
  /** The address actually bound (the real port when port 0 was asked for). */
  readonly addr: NetAddr;
  /** Stops accepting connections. Open connections are not touched. */
  close(): void;
}

/**
 * Where and how to listen.
 *
 * @example See what serve asks the transport for
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveWith } from "../server/server.ts";
 * import type { ListenOptions, Transport } from "./transport.ts";
 *
 * const asked: ListenOptions[] = [];
 * const transport: Transport = {
 *   listen: (options) => (asked.push(options), { addr: { transport: "tcp", ...options }, close() {} }),
 * };
 * await serveWith(transport, { port: 8080 }, () => new Response()).shutdown();
 * assert.deepEqual(asked, [{ hostname: "0.0.0.0", port: 8080 }]);
 * ```
 */
export interface ListenOptions {
  /** Interface to bind. */
  readonly hostname: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
}

/**
 * One runtime's TCP API behind the interface the server uses.
 *
 * @example Wrap the runtime's transport to count connections
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeTransport } from "../server/serve.ts";
 * import { serveWith } from "../server/server.ts";
 * import type { Transport } from "./transport.ts";
 *
 * const base = runtimeTransport();
 * let accepted = 0;
 * const counting: Transport = {
 *   listen: (options, accept) => base.listen(options, (socket) => (accepted++, accept(socket))),
 * };
 * const server = serveWith(counting, { port: 0, hostname: "127.0.0.1" }, () => new Response("hi"));
 * const { port } = await server.ready;
 * assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "hi");
 * await server.shutdown();
 * assert.equal(accepted, 1);
 * ```
 */
export interface Transport {
  /**
   * Starts listening.
   *
   * @param options Where to listen.
   * @param accept Called for each new connection; returns the handlers for its events.
   * @returns The listener, at once where the runtime binds synchronously, else a promise of it.
   * @throws {ListenError} When the address cannot be bound (or the promise rejects with it).
   */
  listen(
    options: ListenOptions,
    accept: (socket: TransportSocket) => SocketEvents,
  ): TransportListener | Promise<TransportListener>;
}

/**
 * Why a listener could not be opened.
 *
 * @example Map a runtime's error to a code
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError, type ListenErrorCode } from "./transport.ts";
 *
 * const code: ListenErrorCode = ListenError.from({ name: "AddrNotAvailable" }, "10.9.9.9", 8000).code;
 * assert.equal(code, "ADDR_NOT_AVAILABLE");
 * assert.equal(ListenError.from(new Error("boom"), "0.0.0.0", 8000).code, "OTHER");
 * ```
 */
export type ListenErrorCode = "ADDR_IN_USE" | "PERMISSION_DENIED" | "ADDR_NOT_AVAILABLE" | "OTHER";

/**
 * The address could not be bound. The message is one line that names the cause and what to do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError } from "./transport.ts";
 *
 * const error = ListenError.from({ code: "EADDRINUSE" }, "0.0.0.0", 8000);
 * assert.equal(error.code, "ADDR_IN_USE");
 * assert.equal(
 *   error.message,
 *   "port 8000 is already in use: stop the other server or choose another with --port",
 * );
 * ```
 */
export class ListenError extends Error {
  /** The cause, independent of the runtime. */
  readonly code: ListenErrorCode;
  /** The interface that was asked for. */
  readonly hostname: string;
  /** The port that was asked for. */
  readonly port: number;

  /**
   * Creates the error, with the one-line message for its cause.
   * @param code The cause.
   * @param hostname The interface that was asked for.
   * @param port The port that was asked for.
   * @param detail The runtime's own message, used when the cause is not recognised.
   */
  constructor(code: ListenErrorCode, hostname: string, port: number, detail = "") {
    super(listenMessage(code, hostname, port, detail));
    this.name = "ListenError";
    this.code = code;
    this.hostname = hostname;
    this.port = port;
  }

  /**
   * Maps a runtime's listen error (Node's `code`, Deno's error class name) to a {@link ListenError}.
   *
   * @param error What the runtime threw.
   * @param hostname The interface that was asked for.
   * @param port The port that was asked for.
   * @returns The matching error.
   */
  static from(error: unknown, hostname: string, port: number): ListenError {
    const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
    const key = code ?? name ?? "";
    if (key === "EADDRINUSE" || key === "AddrInUse") return new ListenError("ADDR_IN_USE", hostname, port);
    if (key === "EACCES" || key === "PermissionDenied" || key === "EPERM") {
      return new ListenError("PERMISSION_DENIED", hostname, port);
    }
    if (key === "EADDRNOTAVAIL" || key === "AddrNotAvailable" || key === "ENOTFOUND") {
      return new ListenError("ADDR_NOT_AVAILABLE", hostname, port);
    }
    return new ListenError("OTHER", hostname, port, String(message ?? error).split("\n")[0]);
  }
}

function listenMessage(code: ListenErrorCode, hostname: string, port: number, detail: string): string {
  switch (code) {
    case "ADDR_IN_USE":
      return `port ${port} is already in use: stop the other server or choose another with --port`;
    case "PERMISSION_DENIED":
      return port < 1024
        ? `port ${port} needs special privileges (ports below 1024 usually do): choose a port of 1024 or more with --port`
        : `not allowed to listen on ${hostname}:${port}: check the runtime's network permission (Deno: --allow-net)`;
    case "ADDR_NOT_AVAILABLE":
      return `cannot listen on ${hostname}: no such local address; choose another with --hostname`;
    case "OTHER":
      return `cannot listen on ${hostname}:${port}: ${detail}`;
    default:
      throw new Error(`unreachable listen error ${code satisfies never}`);
  }
}
