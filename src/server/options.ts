/**
 * What a user of the server sees: the handler and its types, the options of `serve`, the
 * running {@link Server}, and the limits the server enforces itself beside the protocol's.
 *
 * @module
 */

import {
  DEFAULT_PROTOCOL_LIMITS,
  type ProtocolErrorDetails,
  type ProtocolLimits,
  resolveLimitSet,
  resolveProtocolLimits,
} from "../core/mod.ts";
import type { Addr, NetAddr, UnixAddr } from "../transport/transport.ts";
import type { CompressionOptions } from "../compression/options.ts";
import type { Clock } from "./clock.ts";
import type { TraceEvent } from "./trace.ts";
import type { TrustProxy } from "../core/mod.ts";

/**
 * What the handler learns besides the request.
 *
 * @example Answer with the peer's address
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { ServeHandlerInfo } from "./options.ts";
 *
 * const handler = (_request: Request, info: ServeHandlerInfo) => new Response(info.remoteAddr.hostname);
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, handler);
 * const { port } = await server.ready;
 * assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "127.0.0.1");
 * await server.shutdown();
 * ```
 */
export interface ServeHandlerInfo<A extends Addr = NetAddr> {
  /** The peer's address: `{ transport: "tcp", hostname, port }`, or on a unix socket `{ transport: "unix", path }`. */
  readonly remoteAddr: A;
  /**
   * The client's address: with `proxyProtocol`, the one the proxy's PROXY header names (a proxy's
   * own health check names none: then the peer's); otherwise the peer's, `remoteAddr`.
   */
  readonly clientAddr: Addr;
}

/**
 * A fetch-style request handler.
 *
 * @example Call a handler directly in a test
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ServeHandler } from "./options.ts";
 *
 * const handler: ServeHandler = async (request) => Response.json({ got: await request.text() });
 * const remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 50000 } as const;
 * const request = new Request("http://localhost/", { method: "POST", body: "hi" });
 * const response = await handler(request, { remoteAddr, clientAddr: remoteAddr });
 * assert.deepEqual(await response.json(), { got: "hi" });
 * ```
 */
export type ServeHandler<A extends Addr = NetAddr> = (
  request: Request,
  info: ServeHandlerInfo<A>,
) => Response | Promise<Response>;

/**
 * A protocol rejection, as given to {@link ServeOptions.onProtocolError}.
 *
 * @example Observe a request without Host
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "node:net";
 * import { serve } from "./serve.ts";
 * import type { ProtocolErrorInfo } from "./options.ts";
 *
 * const rejected: ProtocolErrorInfo[] = [];
 * const onProtocolError = (info: ProtocolErrorInfo) => rejected.push(info);
 * const server = serve({ port: 0, hostname: "127.0.0.1", onProtocolError }, () => new Response());
 * const { port } = await server.ready;
 * const reply = await new Promise<string>((resolve) => {
 *   const socket = connect({ host: "127.0.0.1", port }, () => socket.end("GET / HTTP/1.1\r\n\r\n"));
 *   let text = "";
 *   socket.on("data", (chunk) => (text += chunk));
 *   socket.on("close", () => resolve(text));
 * });
 * await server.shutdown();
 * assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
 * assert.deepEqual([rejected[0].code, rejected[0].status], ["MISSING_HOST", 400]);
 * assert.equal(rejected[0].remoteAddr.hostname, "127.0.0.1");
 * ```
 */
export interface ProtocolErrorInfo<A extends Addr = NetAddr> extends ProtocolErrorDetails {
  /** The peer whose input was rejected. */
  readonly remoteAddr: A;
}

/**
 * One answered request, as given to {@link ServeOptions.onResponse}.
 *
 * @example Log each response
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { ResponseLogEntry } from "./options.ts";
 *
 * const log: ResponseLogEntry[] = [];
 * const onResponse = (entry: ResponseLogEntry) => log.push(entry);
 * const handler = () => new Response("hi", { status: 201 });
 * const server = serve({ port: 0, hostname: "127.0.0.1", onResponse }, handler);
 * const { port } = await server.ready;
 * await (await fetch(`http://127.0.0.1:${port}/a?b=1`)).text();
 * await server.shutdown();
 * assert.deepEqual([log[0].method, log[0].target, log[0].status], ["GET", "/a?b=1", 201]);
 * assert.ok(log[0].bytes > 2);
 * ```
 */
export interface ResponseLogEntry<A extends Addr = NetAddr> {
  /** The peer. */
  readonly remoteAddr: A;
  /** The client (see {@link ServeHandlerInfo.clientAddr}). */
  readonly clientAddr: Addr;
  /** The request method. */
  readonly method: string;
  /** The request target as sent. */
  readonly target: string;
  /** The status sent. */
  readonly status: number;
  /** Bytes sent for this response, head included. */
  readonly bytes: number;
  /** Milliseconds from the request head to the end of the response. */
  readonly durationMs: number;
}

/**
 * Options of `serve` and `serveWith`.
 *
 * @example Lower a limit and see it enforced
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { ServeOptions } from "./options.ts";
 *
 * const options: ServeOptions = { port: 0, hostname: "127.0.0.1", limits: { maxHeaderCount: 2 } };
 * const server = serve(options, () => new Response("ok"));
 * const { port } = await server.ready;
 * const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { a: "1", b: "2", c: "3" } });
 * assert.equal(response.status, 431);
 * await response.body?.cancel();
 * await server.shutdown();
 * ```
 */
export interface ServeOptions<A extends Addr = NetAddr> {
  /**
   * Port to listen on; 0 picks a free one.
   * @default {8000}
   */
  readonly port?: number;
  /**
   * Interface to listen on.
   * @default {"0.0.0.0"}
   */
  readonly hostname?: string;
  /**
   * A unix domain socket to listen on, in place of `port` and `hostname` (as `Deno.serve` takes
   * it). A file left at the path by a server that is gone is not removed: listening fails with a
   * `ListenError` that says so.
   */
  readonly path?: string;
  /**
   * The TLS certificate chain, PEM text (not a file name): with {@link ServeOptions.key}, the
   * server speaks HTTPS, offering `http/1.1` by ALPN.
   */
  readonly cert?: string;
  /** The TLS private key, PEM text, for {@link ServeOptions.cert}. */
  readonly key?: string;
  /**
   * Processes to serve with, sharing the port (SO_REUSEPORT, Linux): a count, or `"auto"` for one per
   * available CPU. Above 1, the process that calls `serve` becomes the primary and runs the program
   * again for each worker (see `src/server/workers.ts`): restarts with backoff, graceful shutdown on
   * SIGINT and SIGTERM, a rolling restart on SIGHUP, and each worker's output prefixed with its id.
   * Not with `path`.
   * @default {1}
   */
  readonly workers?: number | "auto";
  /** SO_REUSEPORT on the listener, so that other processes may listen on the port too (Linux). */
  readonly reusePort?: boolean;
  /** Shuts the server down, as {@link Server.shutdown} does, when aborted. */
  readonly signal?: AbortSignal;
  /** The handler, when it is not passed as the second argument. */
  readonly handler?: ServeHandler<A>;
  /** Called once the server listens. By default it prints nothing. */
  readonly onListen?: (addr: A) => void;
  /**
   * Turns a handler's exception into a response.
   * @default A plain-text 500 "Internal Server Error"; the error is logged with `console.error`.
   */
  readonly onError?: (error: unknown) => Response | Promise<Response>;
  /** Called for each request rejected for breaking the protocol, with the reason. */
  readonly onProtocolError?: (info: ProtocolErrorInfo<A>) => void;
  /**
   * Called for each new connection, with the peer and the client (the same but behind a proxy).
   * With `proxyProtocol`, once the PROXY header has been read.
   */
  readonly onConnection?: (remoteAddr: A, clientAddr: Addr) => void;
  /**
   * Whether every connection starts with a PROXY protocol header (version 1 or 2), as HAProxy,
   * nginx's `proxy_protocol` and cloud load balancers send: the client it names becomes
   * `info.clientAddr`. A connection without a valid header is closed with no answer, and reported
   * to `onProtocolError` with a `PROXY_…` code and status 0. Only for listeners that only a proxy
   * can reach: a client that can connect directly could name any address. Not with TLS (the header
   * comes before the TLS handshake, which the runtime's TLS listener does not pass through).
   * @default {false}
   */
  readonly proxyProtocol?: boolean;
  /**
   * Which proxies in front of the server are believed when they name a request's client and scheme:
   * addresses and CIDR blocks (IPv4 and IPv6; `"unix"` for a unix socket peer), or the number of
   * proxies in front. For a request from a trusted peer, `info.clientAddr` is found by walking
   * {@link ServeOptions.forwardedField} from the right, past trusted hops, to the first untrusted one,
   * and `X-Forwarded-Proto` (or `Forwarded`'s `proto`) sets the URL's scheme; `Host` gives its
   * authority as always. An untrusted peer's fields are ignored.
   * @default {undefined} no proxy is trusted
   */
  readonly trustProxy?: TrustProxy;
  /**
   * The field that trusted proxies name clients in: `X-Forwarded-For` (with `X-Forwarded-Proto`), as
   * nginx, HAProxy and most load balancers send, or `Forwarded` (RFC 7239). Only one is read: a
   * client could send the other through a proxy that does not touch it.
   * @default {"x-forwarded-for"}
   */
  readonly forwardedField?: "x-forwarded-for" | "forwarded";
  /** Called with bytes exactly as they arrive on a connection. */
  readonly onData?: (bytes: Uint8Array, remoteAddr: A) => void;
  /** Called when a response has been sent. */
  readonly onResponse?: (entry: ResponseLogEntry<A>) => void;
  /** Size limits and timeouts; see {@link Limits} for each default. */
  readonly limits?: Partial<Limits>;
  /**
   * Whether `serve` puts `FastResponse` in place of the global `Response`, so that a plain
   * `new Response(body)` is cheap to make and is sent without reading a stream (on Deno and Bun
   * a subclass of the runtime's class, on Node a `LightResponse`; see `src/fetch/response.ts`).
   * Every response, fast or not, is served correctly either way. `serveWith` never touches the
   * global.
   * @default {true}
   */
  readonly replaceGlobalResponse?: boolean;
  /**
   * Response compression, as `Deno.serve` does it: a response of a compressible type (text, JSON,
   * JavaScript, XML, SVG, WebAssembly…) whose body is at least 64 bytes long, or streamed, is sent
   * compressed with Brotli, Zstandard or gzip when the request's `Accept-Encoding` takes one, with
   * `Vary: Accept-Encoding` and its ETag made weak. `false` turns it off; an object tunes it (see
   * {@link CompressionOptions}: `threshold`, `level`, `encodings`). The rules are in
   * docs/COMPRESSION.md.
   * @default {true}
   */
  readonly compression?: boolean | CompressionOptions;
  /**
   * Where the server reads the time and schedules its checks of timeouts: for tests, which pass
   * a clock they move by hand.
   * @default {systemClock}
   */
  readonly clock?: Clock;
  /**
   * The wire trace: every connection's bytes in and out, its ends and closes, backpressure, answered
   * requests and rejections, as they happen (see {@link TraceEvent}; the CLI's `--trace` prints them).
   * Without it the server runs with no trace code in its path.
   */
  readonly trace?: (event: TraceEvent) => void;
}

/**
 * A running server.
 *
 * @example Start, use and stop a server
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { Server } from "./options.ts";
 *
 * const server: Server = serve({ port: 0, hostname: "127.0.0.1" }, () => new Response("up"));
 * const addr = await server.ready;
 * assert.deepEqual(server.addr, addr);
 * assert.equal(await (await fetch(`http://127.0.0.1:${addr.port}/`)).text(), "up");
 * assert.equal(server.shutdown(), server.finished);
 * await server.finished;
 * ```
 */
export interface Server<A extends Addr = NetAddr> {
  /**
   * The address the server listens on (the real port when port 0 was asked for). On Deno and
   * Bun it is known when `serve` returns; on Node, once {@link Server.ready} has resolved.
   * @throws {Error} When read before the server listens.
   */
  readonly addr: A;
  /** Resolves with the address once the server listens; rejects with a `ListenError` if it cannot. */
  readonly ready: Promise<A>;
  /** Resolves once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting connections, lets the requests in flight finish, closes idle connections.
   * @returns The same promise as {@link Server.finished}.
   */
  shutdown(): Promise<void>;
}

/**
 * The limits the server enforces itself, beside the protocol's ({@link ProtocolLimits}, which
 * the core enforces on each connection). Times are in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SERVER_LIMITS, type ServerLimits } from "./options.ts";
 *
 * const limits: ServerLimits = DEFAULT_SERVER_LIMITS;
 * assert.equal(limits.maxConnections, 16_384);
 * ```
 */
export interface ServerLimits {
  /**
   * Longest time a connection's writes may stay blocked (the peer reads nothing). Past it the
   * server closes the connection, so a client that never reads cannot hold it forever.
   * @default {60000}
   */
  readonly sendTimeoutMs: number;
  /**
   * After `shutdown()`, how long the requests in flight may take to finish before their
   * connections are closed anyway.
   * @default {20000}
   */
  readonly shutdownTimeoutMs: number;
  /**
   * Most connections open at once. A connection past it is closed as soon as it is accepted,
   * before any byte is read.
   * @default {16384}
   */
  readonly maxConnections: number;
}

/**
 * The default {@link ServerLimits}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SERVER_LIMITS } from "./options.ts";
 *
 * assert.equal(DEFAULT_SERVER_LIMITS.shutdownTimeoutMs, 20_000);
 * assert.ok(Object.isFrozen(DEFAULT_SERVER_LIMITS));
 * ```
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  sendTimeoutMs: 60_000,
  shutdownTimeoutMs: 20_000,
  maxConnections: 16_384,
});

/**
 * Every size limit and timeout of a server, as `serve`'s `limits` option takes them: the
 * protocol's and the server's own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Limits } from "./options.ts";
 *
 * const limits: Partial<Limits> = { maxHeaderCount: 20, sendTimeoutMs: 5_000 };
 * assert.equal(Object.keys(limits).length, 2);
 * ```
 */
export type Limits = ProtocolLimits & ServerLimits;

/**
 * The default {@link Limits}: `docs/LIMITS.md` puts each beside nginx's, Node's and Bun's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMITS } from "./options.ts";
 *
 * assert.equal(DEFAULT_LIMITS.maxHeaderBytes, 16_384);
 * assert.equal(DEFAULT_LIMITS.sendTimeoutMs, 60_000);
 * ```
 */
export const DEFAULT_LIMITS: Limits = Object.freeze({ ...DEFAULT_PROTOCOL_LIMITS, ...DEFAULT_SERVER_LIMITS });

/**
 * Splits `serve`'s `limits` option into the protocol's (for the core) and the server's, each
 * complete and checked.
 *
 * @param limits The limits to change.
 * @returns Both sets.
 * @throws {RangeError} If a value is not a positive number, or a name is not a limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLimits } from "./options.ts";
 *
 * const { protocol, server } = resolveLimits({ maxHeaderCount: 20, maxConnections: 10 });
 * assert.deepEqual([protocol.maxHeaderCount, server.maxConnections], [20, 10]);
 * assert.throws(() => resolveLimits({ maxThings: 1 } as never), RangeError);
 * ```
 */
export function resolveLimits(
  limits: Partial<Limits> = {},
): { protocol: ProtocolLimits; server: ServerLimits } {
  const { sendTimeoutMs, shutdownTimeoutMs, maxConnections, ...protocol } = limits;
  return {
    protocol: resolveProtocolLimits(protocol),
    server: resolveLimitSet(DEFAULT_SERVER_LIMITS, { sendTimeoutMs, shutdownTimeoutMs, maxConnections }),
  };
}

/**
 * Options of a server on a unix domain socket: {@link ServeOptions} with a `path`, whose handler
 * and hooks see `{ transport: "unix", path }` addresses.
 *
 * @example
 * ```ts ignore
 * const options: ServeUnixOptions = { path: "/run/h1serve.sock" };
 * ```
 */
export type ServeUnixOptions = ServeOptions<UnixAddr> & { readonly path: string };
