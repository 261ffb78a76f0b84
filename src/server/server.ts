/**
 * The runtime-agnostic server: it listens on a {@link Transport}, hands every accepted socket to
 * its connection table, and shuts down gracefully. What a connection does with its socket is
 * `connection.ts`'s; how a response becomes bytes is `respond.ts`'s.
 *
 * @module
 */

import { ConnectionContext } from "../core/mod.ts";
import {
  type NetAddr,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportListener,
  type TransportSocket,
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
} from "./options.ts";
import { ResponseMemo } from "./respond.ts";

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
export function serveWith(transport: Transport, options: ServeOptions, handler?: ServeHandler): Server {
  return new HttpServer(transport, options, handler ?? options.handler);
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
class HttpServer implements Server, ConnectionScope {
  readonly ready: Promise<NetAddr>;
  readonly finished: Promise<void>;
  readonly options: ServeOptions;
  readonly handler: ServeHandler;
  readonly limits: ServerLimits;
  readonly context: ConnectionContext;
  readonly clock: Clock;
  readonly memo: ResponseMemo = new ResponseMemo();
  readonly table: ConnectionTable;
  /** How often timeouts are checked; also how long a busy connection waits before it goes dormant. */
  readonly tickMs: number;
  #addr: NetAddr | null = null;
  #listener: TransportListener | null = null;
  #shuttingDown = false;
  #resolveFinished!: () => void;
  #rejectFinished!: (error: unknown) => void;

  constructor(transport: Transport, options: ServeOptions, handler: ServeHandler | undefined) {
    if (typeof handler !== "function") throw new TypeError("serve() needs a handler function");
    this.options = options;
    this.handler = handler;
    const { protocol, server } = resolveLimits(options.limits);
    this.limits = server;
    this.context = new ConnectionContext(protocol);
    this.clock = options.clock ?? systemClock;
    const shortest = Math.min(
      protocol.headersTimeoutMs,
      protocol.bodyTimeoutMs,
      protocol.keepAliveTimeoutMs,
      server.sendTimeoutMs,
      server.shutdownTimeoutMs,
    );
    this.tickMs = Math.max(10, Math.min(1000, shortest / 4));
    this.table = new ConnectionTable(this, this.clock, this.tickMs, () => this.#checkFinished());
    this.finished = new Promise((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
    this.finished.catch(() => {});
    this.ready = this.#listen(transport, options.hostname ?? "0.0.0.0", options.port ?? 8000);
  }

  get addr(): NetAddr {
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

  #listen(transport: Transport, hostname: string, port: number): Promise<NetAddr> {
    let listening: TransportListener | Promise<TransportListener>;
    try {
      listening = transport.listen({ hostname, port }, (socket) => this.#accept(socket));
    } catch (error) {
      listening = Promise.reject(error);
    }
    if (!(listening instanceof Promise)) return Promise.resolve(this.#listening(listening));
    return listening.then((listener) => this.#listening(listener), (error) => this.#failed(error));
  }

  #listening(listener: TransportListener): NetAddr {
    this.#listener = listener;
    this.#addr = listener.addr;
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
    if (onConnection) runHook("onConnection", () => onConnection(socket.remoteAddr));
    if (this.#shuttingDown) connection.requestClose();
    return connection;
  }

  #checkFinished(): void {
    if (this.#shuttingDown && this.table.size === 0 && this.#listener !== null) this.#resolveFinished();
  }
}
