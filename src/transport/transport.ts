/**
 * The one interface every runtime adapter (`deno.ts`, `bun.ts`, `node.ts`) implements: a TCP
 * listener (plain or TLS) or a unix socket listener, whose sockets only move bytes and report what
 * happens to them. No HTTP here: TLS is a transport, and what runs over it does not change.
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
 * A unix domain socket's address, as `Deno.serve` reports it.
 *
 * @example
 * ```ts
 * import type { UnixAddr } from "./transport.ts";
 *
 * const addr: UnixAddr = { transport: "unix", path: "/run/h1serve.sock" };
 * ```
 */
export interface UnixAddr {
  /** Always `"unix"`. */
  readonly transport: "unix";
  /** The socket file's path; `""` for a peer whose socket has no name (a client's, usually). */
  readonly path: string;
}

/**
 * Either kind of address: a listener's or a peer's.
 *
 * @example Tell the kinds apart
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Addr } from "./transport.ts";
 *
 * const where = (addr: Addr) => addr.transport === "unix" ? addr.path : `port ${addr.port}`;
 * assert.equal(where({ transport: "tcp", hostname: "::1", port: 80 }), "port 80");
 * ```
 */
export type Addr = NetAddr | UnixAddr;

/**
 * An address as logs write it: `host:port` (an IPv6 host in brackets), or for a unix socket
 * `unix:` and its path.
 *
 * @param addr The address.
 * @returns `127.0.0.1:8000`, `[::1]:8000`, `unix:/run/h1serve.sock`, or `unix` for an unnamed peer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addrText } from "./transport.ts";
 *
 * assert.equal(addrText({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
 * assert.equal(addrText({ transport: "unix", path: "/tmp/a.sock" }), "unix:/tmp/a.sock");
 * ```
 */
export function addrText(addr: Addr): string {
  if (addr.transport === "unix") return addr.path === "" ? "unix" : `unix:${addr.path}`;
  return hostPort(addr);
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
 * import type { SocketEvents, NetAddr } from "./transport.ts";
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
 * const { port } = listener.addr as NetAddr;
 * const client = connect({ host: "127.0.0.1", port }, () => client.end("ping"));
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
 * import { NO_EVENTS, type NetAddr } from "./transport.ts";
 *
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener = await runtimeTransport().listen(options, (socket) => (socket.destroy(), NO_EVENTS));
 * const closed = await new Promise<boolean>((resolve) => {
 *   const client = connect({ host: "127.0.0.1", port: (listener.addr as NetAddr).port });
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
 * import type { TransportSocket, NetAddr } from "./transport.ts";
 *
 * const text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi";
 * const reply = new TextEncoder().encode(text);
 * const closed = Promise.withResolvers<void>();
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener = await runtimeTransport().listen(options, (socket: TransportSocket) => {
 *   assert.equal((socket.remoteAddr as NetAddr).hostname, "127.0.0.1");
 *   const send = () => (socket.write(reply), socket.end());
 *   return { data: send, end() {}, drain() {}, close: () => closed.resolve() };
 * });
 * const response = await fetch(`http://127.0.0.1:${(listener.addr as NetAddr).port}/`);
 * assert.equal(await response.text(), "hi");
 * await closed.promise;
 * listener.close();
 * ```
 */
export interface TransportSocket {
  /** The peer's address, known until the socket is dropped, also after it closed. */
  readonly remoteAddr: Addr;
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
 * import type { TransportListener, NetAddr } from "./transport.ts";
 *
 * const ignore = { data() {}, end() {}, drain() {}, close() {} };
 * const options = { hostname: "127.0.0.1", port: 0 };
 * const listener: TransportListener = await runtimeTransport().listen(options, () => ignore);
 * const addr = listener.addr as NetAddr;
 * assert.equal(addr.hostname, "127.0.0.1");
 * assert.ok(addr.port > 0);
 * listener.close();
 * ```
 */
export interface TransportListener {
  /** The address actually bound (the real port when port 0 was asked for). */
  readonly addr: Addr;
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
  /** A unix socket's path, to listen on in place of the interface and port. */
  readonly path?: string;
  /** TLS over the TCP listener: its certificate chain and private key. */
  readonly tls?: TlsFiles;
  /**
   * SO_REUSEPORT (Linux): several processes listen on the same port, and the kernel spreads the
   * connections among them. On Deno it needs `--unstable-net`.
   */
  readonly reusePort?: boolean;
}

/**
 * A TLS certificate chain and its private key, as PEM text (what `Deno.serve`'s `cert` and `key` take).
 *
 * @example
 * ```ts ignore
 * const tls: TlsFiles = { cert: await Deno.readTextFile("cert.pem"), key: await Deno.readTextFile("key.pem") };
 * ```
 */
export interface TlsFiles {
  /** The certificate chain, PEM: the server's certificate first. */
  readonly cert: string;
  /** The private key, PEM. */
  readonly key: string;
}

/** The ALPN protocols a TLS listener offers (RFC 7301): HTTP/1.1 only. */
export const ALPN_PROTOCOLS: readonly string[] = Object.freeze(["http/1.1"]);

/**
 * The TLS 1.2 cipher suites offered where the runtime takes an OpenSSL list (Node, Bun): forward
 * secret and authenticated (AEAD) only, as Mozilla's "intermediate" configuration has them, without
 * the CBC suites of the runtimes' defaults (which testssl.sh flags for LUCKY13). TLS 1.3's suites
 * are all AEAD and stay the runtime's. Deno's TLS (rustls) offers AEAD suites only already.
 */
export const TLS12_CIPHERS: string = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

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

export { checkPem, ListenError, type ListenErrorCode } from "./listen_error.ts";
