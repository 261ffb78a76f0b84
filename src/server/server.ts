/**
 * The runtime-agnostic server: it listens on a {@link Transport}, hands every accepted socket to
 * its connection table, and shuts down gracefully. What a connection does with its socket is
 * `connection.ts`'s; how a response becomes bytes is `respond.ts`'s.
 *
 * @module
 */

import { ConnectionContext } from "../core/mod.ts";
import { AVAILABLE_CODINGS } from "../compression/encoder.ts";
import { resolveCompression } from "../compression/options.ts";
import { CompressionPolicy } from "../compression/policy.ts";
import {
  type Addr,
  checkPem,
  hostPort,
  type ListenOptions,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportListener,
  type TransportSocket,
  type UnixAddr,
} from "../transport/transport.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { ConnectionScope } from "./connection.ts";
import { runHook } from "./hooks.ts";
import { ConnectionTable } from "./connection_table.ts";
import {
  resolveLimits,
  type ServeHandler,
  type ServeOptions,
  type Server,
  type ServerLimits,
  type ServeUnixOptions,
} from "./options.ts";
import { ResponseMemo } from "./respond.ts";
import type { RequestOrigin } from "../fetch/request.ts";
import { ForwardingPolicy } from "./forwarding.ts";
import { Tracer } from "./trace.ts";

/**
 * Starts a server on the given transport, on a unix socket path (see `serve`'s unix form).
 *
 * @param transport The runtime adapter.
 * @param options Where to listen (`path`), hooks and limits.
 * @param handler The request handler (or `options.handler`).
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * const server = serveWith(nodeTransport, { path: "/run/app.sock" }, () => new Response("hi"));
 * ```
 */
export function serveWith(
  transport: Transport,
  options: ServeUnixOptions,
  handler?: ServeHandler<UnixAddr>,
): Server<UnixAddr>;
/**
 * Starts a server on the given transport. `serve` picks the transport of the runtime (and puts
 * `FastResponse` in place of the global `Response`); this is the function behind it, for custom
 * transports and tests. It changes no global.
 *
 * @param transport The runtime adapter.
 * @param options Where to listen, hooks and limits.
 * @param handler The request handler (or `options.handler`).
 * @returns The running server.
 * @throws {TypeError} Without a handler function.
 *
 * @example
 * ```ts ignore
 * import { serveWith } from "./server.ts";
 * import { nodeTransport } from "../transport/node.ts";
 *
 * const server = serveWith(nodeTransport, { port: 0 }, () => new Response("hi"));
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export function serveWith(transport: Transport, options: ServeOptions, handler?: ServeHandler): Server;
export function serveWith(
  transport: Transport,
  options: ServeOptions<never>,
  handler?: ServeHandler<never>,
): Server<Addr> {
  // Either kind's options and handler (see `serve`): the server gives each the addresses of its kind.
  const any = options as unknown as ServeOptions<Addr>;
  return new HttpServer(transport, any, (handler ?? options.handler) as unknown as ServeHandler<Addr>);
}

/** The default `onError`: logs the error, and answers a plain-text 500. */
function defaultOnError(error: unknown): Response {
  console.error("h1serve: the handler failed:", error);
  return new Response("Internal Server Error", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** A listening server: the {@link Server} its user sees, and the scope its connections share. */
class HttpServer implements Server<Addr>, ConnectionScope {
  readonly ready: Promise<Addr>;
  readonly finished: Promise<void>;
  readonly options: ServeOptions<Addr>;
  readonly handler: ServeHandler<Addr>;
  readonly limits: ServerLimits;
  readonly context: ConnectionContext;
  readonly clock: Clock;
  readonly memo: ResponseMemo = new ResponseMemo();
  readonly compression: CompressionPolicy | null;
  readonly table: ConnectionTable;
  /** How often timeouts are checked; also how long a busy connection waits before it goes dormant. */
  readonly tickMs: number;
  #addr: Addr | null = null;
  readonly forwarding: ForwardingPolicy | null;
  readonly trace: Tracer | null;
  /** The scheme and fallback authority of requests, known once listening. */
  origin: RequestOrigin = { scheme: "http", authority: "localhost" };
  #listener: TransportListener | null = null;
  #shuttingDown = false;
  #resolveFinished!: () => void;
  #rejectFinished!: (error: unknown) => void;

  constructor(transport: Transport, options: ServeOptions<Addr>, handler: ServeHandler<Addr> | undefined) {
    if (typeof handler !== "function") throw new TypeError("serve() needs a handler function");
    this.options = options;
    this.handler = handler;
    const { protocol, server } = resolveLimits(options.limits);
    this.limits = server;
    this.context = new ConnectionContext(protocol);
    const compression = resolveCompression(options.compression, AVAILABLE_CODINGS);
    this.compression = compression === null ? null : new CompressionPolicy(compression);
    this.clock = options.clock ?? systemClock;
    this.forwarding = options.trustProxy === undefined
      ? null
      : new ForwardingPolicy(options.trustProxy, options.forwardedField ?? "x-forwarded-for");
    const shortest = Math.min(
      protocol.headersTimeoutMs,
      protocol.bodyTimeoutMs,
      protocol.keepAliveTimeoutMs,
      server.sendTimeoutMs,
      server.shutdownTimeoutMs,
    );
    this.tickMs = Math.max(10, Math.min(1000, shortest / 4));
    // The wire trace sees the bytes through a wrapper of the transport, and the connections tell it the rest.
    this.trace = options.trace === undefined ? null : new Tracer(options.trace, this.clock);
    if (this.trace !== null) transport = this.trace.transport(transport);
    this.table = new ConnectionTable(this, this.clock, this.tickMs, () => this.#checkFinished());
    this.finished = new Promise((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
    this.finished.catch(() => {});
    this.ready = this.#listen(transport, listenOptions(options));
  }

  get addr(): Addr {
    if (this.#addr === null) throw new Error("the server is not listening yet: await server.ready first");
    return this.#addr;
  }

  shutdown(): Promise<void> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      this.#listener?.close();
      this.table.closeAll(this.clock.now() + this.limits.shutdownTimeoutMs);
      this.#checkFinished();
    }
    return this.finished;
  }

  async errorResponse(error: unknown): Promise<Response> {
    const onError = this.options.onError;
    if (onError) {
      try {
        const response = await onError(error);
        if (response instanceof Response) return response;
      } catch (secondError) {
        return defaultOnError(secondError);
      }
    }
    return defaultOnError(error);
  }

  #listen(transport: Transport, where: ListenOptions): Promise<Addr> {
    let listening: TransportListener | Promise<TransportListener>;
    try {
      // A file name where PEM text belongs is told apart here, whatever the transport.
      if (where.tls !== undefined) checkPem(where.tls, where);
      listening = transport.listen(where, (socket) => this.#accept(socket));
    } catch (error) {
      listening = Promise.reject(error);
    }
    if (!(listening instanceof Promise)) return Promise.resolve(this.#listening(listening));
    return listening.then((listener) => this.#listening(listener), (error) => this.#failed(error));
  }

  #listening(listener: TransportListener): Addr {
    this.#listener = listener;
    this.#addr = listener.addr;
    this.origin = {
      scheme: this.options.cert === undefined ? "http" : "https",
      authority: listener.addr.transport === "unix" ? "localhost" : hostPort(listener.addr),
    };
    if (this.#shuttingDown) listener.close();
    const signal = this.options.signal;
    if (signal) {
      if (signal.aborted) this.shutdown();
      else signal.addEventListener("abort", () => this.shutdown(), { once: true });
    }
    this.options.onListen?.(listener.addr);
    this.#checkFinished();
    return listener.addr;
  }

  #failed(error: unknown): never {
    this.#shuttingDown = true;
    this.#rejectFinished(error);
    throw error;
  }

  #accept(socket: TransportSocket): SocketEvents {
    const connection = this.table.accept(socket);
    if (connection === null) return NO_EVENTS;
    const onConnection = this.options.onConnection;
    if (onConnection && this.options.proxyProtocol !== true) {
      runHook("onConnection", () => onConnection(socket.remoteAddr, socket.remoteAddr));
    }
    if (this.#shuttingDown) connection.requestClose();
    return connection;
  }

  #checkFinished(): void {
    if (this.#shuttingDown && this.table.size === 0 && this.#listener !== null) this.#resolveFinished();
  }
}

/**
 * What the transport is asked for: a unix socket path, or an interface and port, with TLS when a
 * certificate is given.
 * @throws {TypeError} For a certificate without a key (or a key without one), or TLS on a unix socket.
 */
function listenOptions(options: ServeOptions<Addr>): ListenOptions {
  const { cert, key, path } = options;
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError("serve() needs both cert and key for TLS, or neither");
  }
  const where = {
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 8000,
    ...(options.reusePort === true ? { reusePort: true } : {}),
  };
  if (cert !== undefined && options.proxyProtocol === true) {
    throw new TypeError("serve() takes proxyProtocol on plain listeners only: the header comes before TLS");
  }
  if (path !== undefined) {
    if (cert !== undefined) throw new TypeError("serve() takes TLS over TCP only, not on a unix socket path");
    return { ...where, path };
  }
  return cert === undefined ? where : { ...where, tls: { cert, key: key! } };
}
