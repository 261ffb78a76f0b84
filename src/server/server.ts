/**
 * The runtime-agnostic server: it owns the sockets a {@link Transport} accepts, feeds their bytes
 * to the sans-I/O core, calls the handler with a Web `Request`, and writes its `Response` back,
 * with backpressure both ways, in-order pipelining, timeouts and graceful shutdown.
 *
 * @module
 */

import { concatBytes } from "./core/bytes.ts";
import { type ConnectionEvent, ServerConnection } from "./core/connection.ts";
import { HttpError, type ProtocolErrorDetails } from "./core/errors.ts";
import { type Limits, resolveLimits } from "./core/limits.ts";
import type { RequestHead } from "./core/parser.ts";
import { DateCache, HeadCache, InvalidResponseError } from "./core/serializer.ts";
import { snapshots } from "./body_snapshot.ts";
import { RequestBody, ServerRequest } from "./request.ts";
import { BODY_BYTES, BODY_TEXT, FIELDS, installFastResponse, TAKE_BYTES } from "./response.ts";
import {
  type NetAddr,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportListener,
  type TransportSocket,
} from "./transport.ts";

/**
 * What the handler learns besides the request.
 *
 * @example Answer with the peer's address
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { ServeHandlerInfo } from "./server.ts";
 *
 * const handler = (_request: Request, info: ServeHandlerInfo) => new Response(info.remoteAddr.hostname);
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, handler);
 * const { port } = await server.ready;
 * assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "127.0.0.1");
 * await server.shutdown();
 * ```
 */
export interface ServeHandlerInfo {
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
}

/**
 * A fetch-style request handler.
 *
 * @example Call a handler directly in a test
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ServeHandler } from "./server.ts";
 *
 * const handler: ServeHandler = async (request) => Response.json({ got: await request.text() });
 * const remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 50000 } as const;
 * const request = new Request("http://localhost/", { method: "POST", body: "hi" });
 * const response = await handler(request, { remoteAddr });
 * assert.deepEqual(await response.json(), { got: "hi" });
 * ```
 */
export type ServeHandler = (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>;

/**
 * A protocol rejection, as given to {@link ServeOptions.onProtocolError}.
 *
 * @example Observe a request without Host
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "node:net";
 * import { serve } from "./serve.ts";
 * import type { ProtocolErrorInfo } from "./server.ts";
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
export interface ProtocolErrorInfo extends ProtocolErrorDetails {
  /** The peer whose input was rejected. */
  readonly remoteAddr: NetAddr;
}

/**
 * One answered request, as given to {@link ServeOptions.onResponse}.
 *
 * @example Log each response
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { ResponseLogEntry } from "./server.ts";
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
export interface ResponseLogEntry {
  /** The peer. */
  readonly remoteAddr: NetAddr;
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
 * Options of {@link serveWith}, the same as `serve`'s.
 *
 * @example Lower a limit and see it enforced
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { ServeOptions } from "./server.ts";
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
export interface ServeOptions {
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
  /** Shuts the server down, as {@link Server.shutdown} does, when aborted. */
  readonly signal?: AbortSignal;
  /** The handler, when it is not passed as the second argument. */
  readonly handler?: ServeHandler;
  /** Called once the server listens. By default it prints nothing. */
  readonly onListen?: (addr: NetAddr) => void;
  /**
   * Turns a handler's exception into a response.
   * @default A plain-text 500 "Internal Server Error"; the error is logged with `console.error`.
   */
  readonly onError?: (error: unknown) => Response | Promise<Response>;
  /** Called for each request rejected for breaking the protocol, with the reason. */
  readonly onProtocolError?: (info: ProtocolErrorInfo) => void;
  /** Called for each new connection. */
  readonly onConnection?: (remoteAddr: NetAddr) => void;
  /** Called with bytes exactly as they arrive on a connection. */
  readonly onData?: (bytes: Uint8Array, remoteAddr: NetAddr) => void;
  /** Called when a response has been sent. */
  readonly onResponse?: (entry: ResponseLogEntry) => void;
  /** Size limits and timeouts; see `Limits` for each default. */
  readonly limits?: Partial<Limits>;
  /**
   * Whether to put `FastResponse` (the runtime's `Response`, subclassed to remember a string
   * body, which the server then sends without reading a stream) in place of the global
   * `Response`. Every response, fast or not, is served the same way either way.
   * @default {true}
   */
  readonly replaceGlobalResponse?: boolean;
}

/**
 * A running server.
 *
 * @example Start, use and stop a server
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 * import type { Server } from "./server.ts";
 *
 * const server: Server = serve({ port: 0, hostname: "127.0.0.1" }, () => new Response("up"));
 * const addr = await server.ready;
 * assert.deepEqual(server.addr, addr);
 * assert.equal(await (await fetch(`http://127.0.0.1:${addr.port}/`)).text(), "up");
 * assert.equal(server.shutdown(), server.finished);
 * await server.finished;
 * ```
 */
export interface Server {
  /**
   * The address the server listens on (the real port when port 0 was asked for). On Deno and
   * Bun it is known when `serve` returns; on Node, once {@link Server.ready} has resolved.
   * @throws {Error} When read before the server listens.
   */
  readonly addr: NetAddr;
  /** Resolves with the address once the server listens; rejects with a `ListenError` if it cannot. */
  readonly ready: Promise<NetAddr>;
  /** Resolves once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting connections, lets the requests in flight finish, closes idle connections.
   * @returns The same promise as {@link Server.finished}.
   */
  shutdown(): Promise<void>;
}

const OUTPUT_HIGH_WATER = 64 * 1024;
/** Output below this size is joined into one array; larger output goes in parts where the transport can write parts. */
const COPY_LIMIT = 16 * 1024;
/** Bodies up to this size are remembered by the ResponseMemo. */
const MEMO_LIMIT = 1024;
const READ_AHEAD_LIMIT = 1024 * 1024;
const LINGER_MS = 2000;
const MICROTASK_HOPS = 8;
/** Methods the Web `Request` class refuses (Fetch's forbidden methods). */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
/** Methods the Web `Request` class upper-cases when given in another case (Fetch "normalize a method"; Bun and Node also PATCH). */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

/**
 * Whether a method can reach the handler exactly as sent. Methods are case-sensitive (RFC 9110
 * §9.1): `get` is not `GET`, but `new Request()` would turn it into `GET`, so it is answered 501
 * instead, like the methods `Request` refuses.
 */
function isRepresentableMethod(method: string): boolean {
  if (method === "GET" || method === "POST" || method === "HEAD") return true;
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) return false;
  return upper === method || !NORMALIZED_METHODS.has(upper);
}

/** A promise that resolves after a few microtask turns: long enough for values that are already available. */
function microtaskHops(): Promise<typeof NOT_YET> {
  let promise: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < MICROTASK_HOPS; i++) promise = promise.then();
  return promise.then(() => NOT_YET);
}
const NOT_YET: unique symbol = Symbol("not yet");
const UTF8 = new TextEncoder();

/** What a `FastResponse` may remember of its body (see `response.ts`). */
interface RememberedBody {
  readonly [BODY_TEXT]?: string;
  readonly [BODY_BYTES]?: Uint8Array;
  [TAKE_BYTES]?(): Uint8Array | undefined;
  readonly [FIELDS]?: readonly (readonly [string, string])[] | Headers;
}

function defaultOnError(error: unknown): Response {
  console.error("h1serve: the handler failed:", error);
  return new Response("Internal Server Error", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * Starts a server on the given transport. `serve` in `mod.ts` picks the transport of the
 * runtime; this is the function behind it, for custom transports and tests.
 *
 * @param transport The runtime adapter.
 * @param options Where to listen, hooks and limits.
 * @param handler The request handler (or `options.handler`).
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * import { serveWith } from "./server.ts";
 * import { nodeTransport } from "./adapters/node.ts";
 *
 * const server = serveWith(nodeTransport, { port: 0 }, () => new Response("hi"));
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export function serveWith(transport: Transport, options: ServeOptions, handler?: ServeHandler): Server {
  return new HttpServer(transport, options, handler ?? options.handler);
}

class HttpServer implements Server {
  readonly ready: Promise<NetAddr>;
  readonly finished: Promise<void>;
  readonly options: ServeOptions;
  readonly handler: ServeHandler;
  readonly limits: Limits;
  readonly dates: DateCache = new DateCache();
  readonly heads: HeadCache = new HeadCache();
  readonly memo: ResponseMemo = new ResponseMemo();
  /**
   * Every open connection: its {@link HttpConnection}, or, for a connection that waits for its
   * next request, only the time its keep-alive ends. Such a dormant connection keeps nothing
   * but the transport's socket, whose events go to `#dormantEvents`.
   */
  readonly connections: Map<TransportSocket, HttpConnection | number> = new Map();
  /** The events of every dormant socket: the first byte or the end wakes the connection. */
  readonly #dormantEvents: SocketEvents = {
    data: (bytes, socket) => this.#wake(socket, bytes.byteLength).data(bytes),
    end: (socket) => this.#wake(socket).end(),
    drain() {},
    close: (socket) => this.removed(socket),
  };
  #addr: NetAddr | null = null;
  #listener: TransportListener | null = null;
  #shuttingDown = false;
  #resolveFinished!: () => void;
  #rejectFinished!: (error: unknown) => void;
  #ticker: ReturnType<typeof setInterval> | null = null;
  #shutdownDeadline = Infinity;
  /** How often timeouts are checked; also how long a busy connection waits before it goes dormant. */
  readonly tickMs: number;

  constructor(transport: Transport, options: ServeOptions, handler: ServeHandler | undefined) {
    if (typeof handler !== "function") throw new TypeError("serve() needs a handler function");
    this.options = options;
    this.handler = handler;
    this.limits = resolveLimits(options.limits);
    if (options.replaceGlobalResponse !== false) installFastResponse();
    const l = this.limits;
    const shortest = Math.min(
      l.headersTimeoutMs,
      l.bodyTimeoutMs,
      l.keepAliveTimeoutMs,
      l.sendTimeoutMs,
      l.shutdownTimeoutMs,
    );
    this.tickMs = Math.max(10, Math.min(1000, shortest / 4));
    this.finished = new Promise((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
    this.finished.catch(() => {});
    const hostname = options.hostname ?? "0.0.0.0";
    const port = options.port ?? 8000;
    let listening: TransportListener | Promise<TransportListener>;
    try {
      listening = transport.listen({ hostname, port }, (socket) => this.#accept(socket));
    } catch (error) {
      listening = Promise.reject(error);
    }
    if (listening instanceof Promise) {
      this.ready = listening.then((listener) => this.#listening(listener), (error) => this.#failed(error));
    } else {
      this.ready = Promise.resolve(this.#listening(listening));
    }
  }

  get addr(): NetAddr {
    if (this.#addr === null) throw new Error("the server is not listening yet: await server.ready first");
    return this.#addr;
  }

  shutdown(): Promise<void> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      this.#shutdownDeadline = Date.now() + this.limits.shutdownTimeoutMs;
      this.#listener?.close();
      for (const [socket, connection] of this.connections) {
        if (typeof connection === "number") this.#wake(socket).requestClose();
        else connection.requestClose();
      }
      this.#checkFinished();
    }
    return this.finished;
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
    if (this.connections.size >= this.limits.maxConnections) {
      // Over the limit: close before reading anything, so the excess costs no parsing and no memory.
      socket.destroy();
      return NO_EVENTS;
    }
    const connection = new HttpConnection(this, socket, 0, true);
    this.connections.set(socket, connection);
    if (this.#ticker === null) this.#ticker = setInterval(() => this.#tick(), this.tickMs);
    this.options.onConnection?.(socket.remoteAddr);
    if (this.#shuttingDown) connection.requestClose();
    return connection;
  }

  #tick(): void {
    const now = Date.now();
    const drainOver = now >= this.#shutdownDeadline;
    for (const [socket, connection] of this.connections) {
      if (typeof connection === "number") {
        if (drainOver) socket.destroy();
        else if (now >= connection) this.#wake(socket).requestClose(); // its keep-alive is over
      } else if (drainOver) connection.destroy();
      else connection.tick(now);
    }
  }

  /**
   * Makes a dormant connection whole again, as it was when it went dormant. One that slept less
   * than a tick is busy: it stays awake while it waits, until a tick finds it idle.
   * @param arriving The bytes of the data event that wakes it: the socket has counted them already.
   */
  #wake(socket: TransportSocket, arriving = 0): HttpConnection {
    const keepAliveEnds = this.connections.get(socket) as number;
    const sleptSince = keepAliveEnds - this.limits.keepAliveTimeoutMs;
    const consumed = socket.bytesRead - arriving;
    const connection = new HttpConnection(this, socket, consumed, Date.now() - sleptSince >= this.tickMs);
    this.connections.set(socket, connection);
    socket.events = connection;
    return connection;
  }

  /**
   * Lets a connection that waits for its next request go dormant: only its socket and the end of
   * its keep-alive are kept, until the next byte arrives.
   */
  sleep(socket: TransportSocket, keepAliveEnds: number): void {
    this.connections.set(socket, keepAliveEnds);
    socket.events = this.#dormantEvents;
  }

  /** Called once a connection's socket has closed. */
  removed(socket: TransportSocket): void {
    this.connections.delete(socket);
    if (this.connections.size === 0 && this.#ticker !== null) {
      clearInterval(this.#ticker);
      this.#ticker = null;
    }
    this.#checkFinished();
  }

  #checkFinished(): void {
    if (this.#shuttingDown && this.connections.size === 0 && this.#listener !== null) this.#resolveFinished();
  }

  /** The error response with its body read into memory, for when a response failed before it was sent. */
  async bufferedErrorResponse(error: unknown): Promise<{ response: Response; body: Uint8Array }> {
    const response = await this.errorToResponse(error);
    return { response, body: new Uint8Array(await response.arrayBuffer()) };
  }

  async errorToResponse(error: unknown): Promise<Response> {
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
}

/**
 * The bytes of the last small string body, and of the last small response (head and body
 * joined): a server that sends the same answer over and over encodes and joins it once.
 */
class ResponseMemo {
  #text = "";
  #textBytes: Uint8Array = new Uint8Array(0);
  #head: Uint8Array | null = null;
  #body: Uint8Array | null = null;
  #joined: Uint8Array = new Uint8Array(0);

  /** The UTF-8 bytes of a string body. */
  encode(text: string): Uint8Array {
    if (text === this.#text) return this.#textBytes;
    const bytes = UTF8.encode(text);
    if (text.length <= MEMO_LIMIT) {
      this.#text = text;
      this.#textBytes = bytes;
    }
    return bytes;
  }

  /** Head and body in one array; the arrays must not be changed afterwards. */
  join(head: Uint8Array, body: Uint8Array): Uint8Array {
    if (head === this.#head && body === this.#body) return this.#joined;
    const joined = concatBytes([head, body]);
    if (body.byteLength <= MEMO_LIMIT) {
      this.#head = head;
      this.#body = body;
      this.#joined = joined;
    }
    return joined;
  }
}

/** One socket: feeds the core, runs exchanges one at a time, batches output. */
class HttpConnection implements SocketEvents {
  readonly #server: HttpServer;
  readonly #socket: TransportSocket;
  readonly #core: ServerConnection;
  /** What the handler learns besides the request, made when first needed. */
  #info: ServeHandlerInfo | null = null;
  /** Output not yet handed to the socket: nothing, one array (the common case), or several. */
  #output: Uint8Array | Uint8Array[] | null = null;
  /** The arrays in #output whose memory goes back to the snapshot pool once sent. */
  #recyclable: Uint8Array[] | null = null;
  #outputBytes = 0;
  #writable = true;
  #drainWaiters: (() => void)[] | null = null;
  #processing = false;
  #paused = false;
  #body: RequestBody | null = null;
  /** The request whose response is in progress, to abort its signal if the connection closes. */
  #request: ServerRequest | null = null;
  #closing = false;
  #closed = false;
  #lingerUntil = Infinity;
  #blockedSince = Infinity;
  #exchangeBytes = 0;
  /** Whether the connection went dormant: this object is done, and a new one serves the socket. */
  #dormant = false;
  /** Whether to go dormant as soon as the connection waits for its next request, rather than at a tick. */
  readonly #sleepsWhenIdle: boolean;

  /**
   * @param server The server.
   * @param socket The transport's socket.
   * @param consumed The bytes the connection received before (it was dormant).
   * @param sleepsWhenIdle Whether to go dormant as soon as it waits, not at the next tick: for a
   *   new connection, and for one that was dormant for a tick or more (it is not busy).
   */
  constructor(server: HttpServer, socket: TransportSocket, consumed: number, sleepsWhenIdle: boolean) {
    this.#server = server;
    this.#socket = socket;
    this.#sleepsWhenIdle = sleepsWhenIdle;
    this.#core = new ServerConnection({
      limits: server.limits,
      now: Date.now(),
      dateCache: server.dates,
      headCache: server.heads,
      consumed,
    });
  }

  /** What the handler learns besides the request: the same for every request until the connection goes dormant. */
  get #handlerInfo(): ServeHandlerInfo {
    return this.#info ??= Object.freeze({ remoteAddr: this.#socket.remoteAddr });
  }

  get #remoteAddr(): NetAddr {
    return this.#handlerInfo.remoteAddr;
  }

  // ---- SocketEvents, called by the adapter ----

  data(bytes: Uint8Array): void {
    if (this.#closing) return; // lingering close: discard
    const onData = this.#server.options.onData;
    if (onData !== undefined) onData(bytes, this.#remoteAddr);
    this.#core.receive(bytes, Date.now());
    this.#process();
  }

  end(): void {
    this.#core.receiveEof();
    if (this.#closing) return this.#destroy();
    this.#process();
  }

  drain(): void {
    this.#writable = true;
    this.#blockedSince = Infinity;
    if (this.#closing && !this.#closed) this.#lingerUntil = Date.now() + LINGER_MS;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = null;
    if (waiters !== null) { for (const resolve of waiters) resolve(); }
    if (!this.#closing) this.#process();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#request?.abort(new Error("the connection closed"));
    this.#body?.fail(new Error("the connection closed before the request body was complete"));
    this.drain();
    this.#server.removed(this.#socket);
  }

  // ---- called by the server ----

  requestClose(): void {
    if (this.#core.requestClose()) this.#finish();
  }

  /** Closes at once (the shutdown drain deadline passed). */
  destroy(): void {
    this.#destroy();
  }

  tick(now: number): void {
    if (now - this.#blockedSince >= this.#server.limits.sendTimeoutMs) {
      // The peer has read nothing for sendTimeoutMs: it cannot hold the connection any longer.
      this.#destroy();
      return;
    }
    if (this.#closing) {
      // Linger only once everything was handed to the socket: a slow reader of a last response
      // is bounded by the send timeout above, not by the linger.
      if (this.#writable && now >= this.#lingerUntil) this.#destroy();
      return;
    }
    const action = this.#core.checkTimeout(now);
    if (action === "none") {
      // Waiting for a request for a whole tick or more (the deadline is then the keep-alive's): go dormant.
      const idleSince = this.#core.deadline - this.#server.limits.keepAliveTimeoutMs;
      if (now - idleSince >= this.#server.tickMs) this.#sleepIfIdle();
    } else if (action === "respond-408") {
      this.#reportProtocolError(new HttpError("REQUEST_TIMEOUT", 0));
      this.#write(this.#core.errorResponse(new HttpError("REQUEST_TIMEOUT", 0), now));
      this.#finish();
    } else if (action === "close") {
      this.#finish();
    }
  }

  // ---- the request body stream ----

  bodyPulled(): void {
    if (this.#dormant) return;
    const interim = this.#core.continueResponse();
    if (interim !== null) {
      this.#write(interim);
      this.#flush();
    }
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
    this.#process();
  }

  // ---- the event loop of one connection ----

  #process(): void {
    if (this.#processing || this.#closing || this.#dormant) return;
    this.#processing = true;
    try {
      while (!this.#closing) {
        if (!this.#writable && this.#core.readState === "head") {
          // The peer is not reading its responses: start no new request until it does (drain
          // resumes), and stop reading once a head's worth of pipelined input waits.
          this.#pauseIfBacklogged();
          return;
        }
        const event: ConnectionEvent = this.#core.nextEvent();
        switch (event.type) {
          case "request":
            this.#startExchange(event.head);
            break;
          case "data":
            if (this.#body !== null && !this.#body.push(event.data) && !this.#paused) {
              this.#paused = true;
              this.#socket.pause();
              return;
            }
            break;
          case "end":
            this.#body?.end();
            this.#body = null;
            break;
          case "error":
            this.#protocolError(event.error);
            return;
          case "close":
            this.#finish();
            return;
          case "need-data":
            this.#flush();
            if (this.#paused && this.#body === null) {
              this.#paused = false;
              this.#socket.resume();
            }
            if (this.#sleepsWhenIdle) this.#sleepIfIdle();
            return;
          case "paused":
            // A response is in progress; pipelined input waits. Stop reading if too much waits.
            this.#pauseIfBacklogged();
            return;
          default: {
            const unexpected: never = event;
            throw new Error(`unreachable event ${String(unexpected)}`);
          }
        }
      }
    } finally {
      this.#processing = false;
    }
  }

  /** Goes dormant if the connection only waits for its next request, with nothing in progress on either side. */
  #sleepIfIdle(): void {
    if (
      this.#core.awaitingRequest && this.#writable && this.#outputBytes === 0 && this.#request === null &&
      this.#body === null && !this.#paused && this.#drainWaiters === null
    ) {
      this.#dormant = true;
      this.#server.sleep(this.#socket, this.#core.deadline);
    }
  }

  #pauseIfBacklogged(): void {
    if (this.#core.bufferedBytes > this.#server.limits.maxHeaderBytes && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #startExchange(head: RequestHead): void {
    const started = this.#server.options.onResponse === undefined ? 0 : Date.now(); // for durationMs
    this.#exchangeBytes = 0;
    if (!isRepresentableMethod(head.method)) {
      return void this.#respondAndLog(head, started, textResponse(501, "Not Implemented"));
    }
    let body: RequestBody | null = null;
    if (head.bodyFraming !== "none") {
      this.#body = new RequestBody(() => this.bodyPulled(), head.expectContinue);
      // GET and HEAD bodies are read and discarded, never shown: Request forbids them.
      if (head.method !== "GET" && head.method !== "HEAD") body = this.#body;
    }
    const request = new ServerRequest({ head, url: this.#requestUrl(head), body });
    this.#request = request;
    let result: Response | Promise<Response>;
    try {
      result = this.#server.handler(request as unknown as Request, this.#handlerInfo);
    } catch (error) {
      result = this.#server.errorToResponse(error);
    }
    this.#respondAndLog(head, started, result);
  }

  /** The absolute URL of a request, from its target and the authority it names (or ours). */
  #requestUrl(head: RequestHead): string {
    switch (head.targetForm) {
      case "origin":
        return `http://${this.#authority(head)}${head.target}`;
      case "absolute":
        return head.target;
      case "asterisk":
        return `http://${this.#authority(head)}/*`;
      case "authority":
        return `http://${head.target}/`;
      default:
        throw new Error(`unreachable target form ${head.targetForm satisfies never}`);
    }
  }

  #authority(head: RequestHead): string {
    if (head.authority !== null && head.authority !== "") return head.authority;
    const addr = this.#server.addr;
    return `${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
  }

  /**
   * Sends the handler's result. A response whose whole body is in memory (a FastResponse made
   * from a string or bytes) is sent synchronously once it is there; anything else, and a result
   * that arrives while earlier output is still batched, takes the general path.
   */
  #respondAndLog(head: RequestHead, started: number, result: Response | Promise<Response>): void {
    if (!(result instanceof Promise)) return this.#deliver(head, started, result);
    // With output batched, #settle sends it first if the result is not there at once.
    const settled = this.#outputBytes === 0 ? result : this.#settle(result);
    settled.then(
      (value) => this.#deliver(head, started, value),
      (error) => void this.#respondAndLogInGeneral(head, started, Promise.reject(error)),
    );
  }

  /** Sends a settled handler result: synchronously when its body is in memory, else by the general path. */
  #deliver(head: RequestHead, started: number, value: unknown): void {
    if (!this.#sendWhole(head, started, value)) {
      void this.#respondAndLogInGeneral(head, started, value as Response);
    }
  }

  /**
   * The synchronous path: sends a response whose whole body is in memory, as one write.
   * @returns `false`, having changed nothing, when the response needs the general path.
   */
  #sendWhole(head: RequestHead, started: number, response: unknown): boolean {
    if (!(response instanceof Response) || this.#closing || response.bodyUsed) return false;
    const remembered = response as RememberedBody;
    const text = remembered[BODY_TEXT];
    const held = remembered[BODY_BYTES];
    let body: Uint8Array;
    if (typeof text === "string") body = this.#server.memo.encode(text);
    else if (held instanceof Uint8Array) body = held;
    else return false;
    const wantsLength = statesLength(head.method, response.status);
    const now = Date.now();
    let headBytes: Uint8Array;
    try {
      headBytes = this.#core.startResponse(
        {
          status: response.status,
          statusText: response.statusText,
          headers: remembered[FIELDS] ?? response.headers,
          bodyLength: wantsLength ? body.byteLength : 0,
        },
        now,
      );
    } catch (error) {
      if (!(error instanceof InvalidResponseError)) throw error;
      // A header field or status that cannot be sent: answered as a handler failure (a 500).
      void this.#respondAndLogInGeneral(head, started, Promise.reject(error));
      return true;
    }
    if (held !== undefined) remembered[TAKE_BYTES]?.(); // the bytes are the server's now
    if (!this.#core.responseHasBody) {
      this.#write(headBytes);
      if (held !== undefined) snapshots.recycle(held);
    } else if (held !== undefined) {
      // A copy of byte body: the head goes into the room in front of it, and its memory is reused once sent.
      this.#core.writeBody(held);
      const whole = snapshots.withHead(held, headBytes);
      if (whole === null) this.#write(headBytes);
      this.#write(whole ?? held, true);
    } else {
      this.#writeWhole(headBytes, body);
    }
    this.#write(this.#core.endResponse(now));
    this.#request = null;
    this.#exchangeDone();
    this.#logResponse(head, started, response.status);
    return true;
  }

  async #respondAndLogInGeneral(
    head: RequestHead,
    started: number,
    result: Response | Promise<Response>,
  ): Promise<void> {
    let status = 0;
    try {
      status = await this.#respond(head, result);
    } catch {
      // The connection failed while sending; it is closed already.
    }
    if (status !== 0) this.#logResponse(head, started, status);
  }

  #logResponse(head: RequestHead, started: number, status: number): void {
    const onResponse = this.#server.options.onResponse;
    if (onResponse) {
      onResponse({
        remoteAddr: this.#remoteAddr,
        method: head.method,
        target: head.target,
        status,
        bytes: this.#exchangeBytes,
        durationMs: Date.now() - started,
      });
    }
  }

  /** After a response is complete: end an unread request body, then go on to the next request or close. */
  #exchangeDone(): void {
    if (this.#body !== null) {
      // The response is complete but the handler left the request body unread: the core now
      // discards the rest (or closes), so the body stream gets no more data. End it, and take
      // back the backpressure it applied, or the connection would stay paused.
      this.#body.fail(new Error("the response was sent before the request body was read"));
      this.#body = null;
    }
    if (this.#core.closed) this.#finish();
    else this.#process();
  }

  /** Sends the handler's response; returns its status, or 0 when nothing could be sent. */
  async #respond(head: RequestHead, result: Response | Promise<Response>): Promise<number> {
    let response: unknown;
    try {
      response = await this.#settle(result);
    } catch (error) {
      response = await this.#server.errorToResponse(error);
    }
    if (!(response instanceof Response)) {
      response = await this.#server.errorToResponse(new TypeError("the handler did not return a Response"));
    }
    if (this.#closing) return 0;
    let res = response as Response;
    const wantsLength = statesLength(head.method, res.status);
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    const chunks: Uint8Array[] = [];
    let bodyLength: number | null = 0;
    let pendingRead: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
    if (res.body !== null && wantsLength) {
      let total = 0;
      try {
        reader = res.body.getReader(); // throws for a body the handler has already read
        while (true) {
          const read = reader.read();
          const result = await Promise.race([read, microtaskHops()]);
          if (result === NOT_YET) {
            pendingRead = read;
            bodyLength = null;
            break;
          }
          if (result.done) break;
          chunks.push(result.value);
          total += result.value.byteLength;
          if (total > READ_AHEAD_LIMIT) {
            // Too long to wait for its end: send what was read, then stream the rest.
            pendingRead = reader.read();
            pendingRead.catch(() => {}); // awaited later, unless the response turns out to have no body
            bodyLength = null;
            break;
          }
        }
        if (bodyLength !== null) bodyLength = total;
      } catch (error) {
        // The body failed before anything was sent: answer as for a handler that threw.
        reader?.cancel(error).catch(() => {});
        reader = null;
        const replacement = await this.#server.bufferedErrorResponse(error);
        res = replacement.response;
        chunks.length = 0;
        chunks.push(replacement.body);
        bodyLength = replacement.body.byteLength;
      }
    } else if (res.body !== null) {
      res.body.cancel().catch(() => {});
    }
    let headBytes: Uint8Array;
    try {
      headBytes = this.#core.startResponse(
        {
          status: res.status,
          statusText: res.statusText,
          headers: (res as RememberedBody)[FIELDS] ?? res.headers,
          bodyLength,
        },
        Date.now(),
      );
    } catch (error) {
      if (!(error instanceof InvalidResponseError)) throw error;
      reader?.cancel(error).catch(() => {});
      const replacement = await this.#server.bufferedErrorResponse(error);
      res = replacement.response;
      headBytes = this.#core.startResponse(
        {
          status: res.status,
          statusText: res.statusText,
          headers: res.headers,
          bodyLength: replacement.body.byteLength,
        },
        Date.now(),
      );
      reader = null;
      chunks.length = 0;
      chunks.push(replacement.body);
      pendingRead = null;
    }
    try {
      if (this.#core.responseHasBody && chunks.length === 1 && pendingRead === null) {
        this.#writeWhole(headBytes, chunks[0]); // the whole response is known
      } else if (this.#core.responseHasBody) {
        this.#write(headBytes);
        for (const chunk of chunks) this.#write(this.#core.writeBody(chunk));
        if (pendingRead !== null && reader !== null) await this.#streamBody(reader, pendingRead);
      } else {
        this.#write(headBytes);
        if (pendingRead !== null) reader?.cancel().catch(() => {});
      }
      this.#write(this.#core.endResponse(Date.now()));
    } catch (error) {
      // A broken stream or a body that does not match its Content-Length: the response cannot be
      // completed, so the connection is closed, which the client sees as a truncated response.
      reader?.cancel(error).catch(() => {});
      this.#destroy();
      throw error;
    } finally {
      this.#request = null;
    }
    this.#exchangeDone();
    return res.status;
  }

  async #streamBody(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    firstRead: Promise<ReadableStreamReadResult<Uint8Array>>,
  ): Promise<void> {
    let read = firstRead;
    while (true) {
      const result = await this.#settle(read);
      if (result.done) return;
      if (this.#closing) throw new Error("the connection closed");
      const framed = this.#core.writeBody(result.value);
      this.#write(framed);
      // #write already sent the batch if it reached OUTPUT_HIGH_WATER; wait while the socket is full.
      if (!this.#writable) {
        this.#flush();
        await new Promise<void>((resolve) => (this.#drainWaiters ??= []).push(resolve));
      }
      read = reader.read();
    }
  }

  /** Awaits a value; when it is not available at once, first sends the output batched so far. */
  async #settle<T>(value: T | Promise<T>): Promise<T> {
    if (!(value instanceof Promise) || this.#outputBytes === 0) return await value;
    const first = await Promise.race([value, microtaskHops()]);
    if (first !== NOT_YET) return first as T;
    this.#flush();
    return await value;
  }

  #respondAndClose(error: HttpError): void {
    this.#write(this.#core.errorResponse(error, Date.now()));
    this.#finish();
  }

  #protocolError(error: HttpError): void {
    this.#reportProtocolError(error);
    this.#body?.fail(error);
    this.#body = null;
    this.#respondAndClose(error);
  }

  #reportProtocolError(error: HttpError): void {
    this.#server.options.onProtocolError?.({ ...error.details(), remoteAddr: this.#remoteAddr });
  }

  // ---- output ----

  /**
   * Queues output.
   * @param recyclable Whether the bytes are a body copy whose memory goes back to the pool once sent.
   */
  #write(bytes: Uint8Array, recyclable = false): void {
    if (bytes.byteLength === 0 || this.#closed) return;
    const queued = this.#output;
    if (queued === null) this.#output = bytes;
    else if (queued instanceof Uint8Array) this.#output = [queued, bytes];
    else queued.push(bytes);
    if (recyclable) (this.#recyclable ??= []).push(bytes);
    this.#outputBytes += bytes.byteLength;
    this.#exchangeBytes += bytes.byteLength;
    if (this.#outputBytes >= OUTPUT_HIGH_WATER) this.#flush();
  }

  #flush(): void {
    if (this.#outputBytes === 0 || this.#closed) return;
    const queued = this.#output as Uint8Array | Uint8Array[];
    const total = this.#outputBytes;
    const recyclable = this.#recyclable;
    this.#output = null;
    this.#outputBytes = 0;
    this.#recyclable = null;
    const sent = recyclable === null ? undefined : () => recycleAll(recyclable);
    let writable: boolean;
    // Large output (a big body) goes as it is where the transport can write parts; else one array.
    if (queued instanceof Uint8Array) writable = this.#socket.write(queued, sent);
    else if (total >= COPY_LIMIT && this.#socket.writeParts !== undefined) {
      writable = this.#socket.writeParts(queued, sent);
    } else {
      writable = this.#socket.write(concatBytes(queued));
      sent?.(); // copied
    }
    if (!writable && this.#writable) {
      this.#writable = false;
      this.#blockedSince = Date.now();
    }
  }

  /** Queues a head and its whole body: one array for a small body (the same one for the same pair). */
  #writeWhole(headBytes: Uint8Array, body: Uint8Array): void {
    if (body.byteLength <= MEMO_LIMIT) {
      this.#write(this.#server.memo.join(headBytes, this.#core.writeBody(body)));
    } else {
      this.#write(headBytes);
      this.#write(this.#core.writeBody(body));
    }
  }

  /** Sends what is queued, then closes: FIN first, and the socket lingers briefly to read what the peer still sends. */
  #finish(): void {
    if (this.#closing) return;
    this.#flush();
    this.#closing = true;
    this.#lingerUntil = Date.now() + LINGER_MS;
    this.#body?.fail(new Error("the connection is closing"));
    this.#body = null;
    if (this.#paused) this.#socket.resume();
    this.#socket.end();
  }

  #destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
  }
}

/** Gives body copies back to the pool. */
function recycleAll(copies: readonly Uint8Array[]): void {
  for (const bytes of copies) snapshots.recycle(bytes);
}

/** Whether the response head states a body length: for HEAD, and for every status but 204 and 304. */
function statesLength(method: string, status: number): boolean {
  return method === "HEAD" || (status !== 204 && status !== 304);
}

function textResponse(status: number, text: string): Response {
  return new Response(`${text}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
