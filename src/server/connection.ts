/**
 * One connection of the server, while it is awake: it takes the socket's events, feeds the bytes
 * to the core's state machine, runs each request's exchange (the handler, its request body, its
 * response through `respond.ts`), and acts on the core's timeouts when the connection table
 * ticks. Between requests it lets the table put it to sleep (`connection_table.ts`).
 *
 * @module
 */

import {
  type ConnectionContext,
  HttpError,
  type RequestHead,
  ServerConnection,
  type SwitchedProtocols,
} from "../core/mod.ts";
import { RequestBody } from "../fetch/request_body.ts";
import { type RequestOrigin, requestUrl, ServerRequest } from "../fetch/request.ts";
import type { Addr, SocketEvents, TransportSocket } from "../transport/transport.ts";
import type { ConnectionTable } from "./connection_table.ts";
import type { ServeHandler, ServeHandlerInfo, ServeOptions, ServerLimits } from "./options.ts";
import { Output } from "./output.ts";
import { respond, type ResponseServices, type ResponseTarget } from "./respond.ts";
import { runHook } from "./hooks.ts";
import { clientAddrOf } from "./proxy_stage.ts";
import type { ForwardingPolicy } from "./forwarding.ts";
import { type LiveConnection, type ProtocolSwitch, SwitchedTakeover } from "./switch.ts";
import { runningDeadline, type Tracer } from "./trace.ts";

/** How long a closing connection reads (and drops) what the peer still sends, after its FIN. */
const LINGER_MS = 2000;
/** Methods the Web `Request` class refuses (Fetch's forbidden methods). */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
/** Methods the Web `Request` class upper-cases when given in another case (Fetch "normalize a method"; Bun and Node also PATCH). */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

/**
 * What a connection needs of its server.
 *
 * @example The members a server provides
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ConnectionScope } from "./connection.ts";
 *
 * const members: (keyof ConnectionScope)[] = ["handler", "context", "table", "origin", "errorResponse"];
 * assert.equal(members.length, 5);
 * ```
 */
export interface ConnectionScope extends ResponseServices {
  /** The server's options (hooks). */
  readonly options: ServeOptions<Addr>;
  /** The request handler. */
  readonly handler: ServeHandler<Addr>;
  /** The server's own limits. */
  readonly limits: ServerLimits;
  /** What the core's connections share. */
  readonly context: ConnectionContext;
  /** Every open connection, awake or asleep. */
  readonly table: ConnectionTable;
  /** How often the table checks deadlines. */
  readonly tickMs: number;
  /** The scheme of the server's requests, and the authority of those that name none. */
  readonly origin: RequestOrigin;
  /** The trusted proxies (`trustProxy`), or `null`. */
  readonly forwarding: ForwardingPolicy | null;
  /** The wire trace, told of each decision, or `null` without one. */
  readonly trace: Tracer | null;
}

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

/**
 * One awake connection: feeds the core, runs exchanges one at a time, batches output.
 *
 * @example Made by the connection table, for each accepted socket
 * ```ts ignore
 * const connection = new HttpConnection(server, socket, 0, true);
 * socket.events = connection;
 * ```
 */
export class HttpConnection implements SocketEvents, ResponseTarget, LiveConnection {
  /** The connection's state machine. */
  readonly core: ServerConnection;
  /** The connection's output. */
  readonly output: Output;
  readonly #server: ConnectionScope;
  readonly #socket: TransportSocket;
  /** What the handler learns besides the request, made when first needed. */
  #info: ServeHandlerInfo<Addr> | null = null;
  /** The client of the request being answered (behind trusted proxies, the request's own). */
  #exchangeClient: Addr | null = null;
  /** The head of the request being answered, until its response is complete. */
  #head: RequestHead | null = null;
  /** When that request's head was handled (for `durationMs`), or 0 when nothing logs responses. */
  #started = 0;
  /** Bytes written before that request's response. */
  #writtenBefore = 0;
  /** The request object of that exchange, to abort its signal if the connection closes. */
  #request: ServerRequest | null = null;
  /** The request body being fed to the handler. */
  #body: RequestBody | null = null;
  #processing = false;
  #paused = false;
  #closing = false;
  #closed = false;
  #lingerUntil = Infinity;
  /**
   * Ticks left before a close asked for before the first request came takes effect (0: none asked
   * for); a byte that arrives first makes it take effect after that request.
   */
  #closeInTicks = 0;
  #graceGiven = false;
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
  constructor(server: ConnectionScope, socket: TransportSocket, consumed: number, sleepsWhenIdle: boolean) {
    this.#server = server;
    this.#socket = socket;
    this.#sleepsWhenIdle = sleepsWhenIdle;
    this.core = new ServerConnection({ context: server.context, now: server.clock.now(), consumed });
    this.output = new Output(socket, server.clock);
  }

  /** Whether the connection is closing: nothing more is sent. */
  get closing(): boolean {
    return this.#closing;
  }

  /** What the send path needs of the server. */
  get services(): ResponseServices {
    return this.#server;
  }
  /** The head of the request being answered (ResponseTarget's), until its response is complete. */
  get request(): RequestHead | null {
    return this.#head;
  }

  /** What the handler learns besides the request: the same for every request until the connection goes dormant. */
  get #handlerInfo(): ServeHandlerInfo<Addr> {
    const socket = this.#socket;
    return this.#info ??= Object.freeze({ remoteAddr: socket.remoteAddr, clientAddr: clientAddrOf(socket) });
  }

  // ---- SocketEvents, called by the adapter ----

  /** Bytes arrived. */
  data(bytes: Uint8Array): void {
    if (this.#closing) return; // lingering close: discard
    const onData = this.#server.options.onData;
    if (onData !== undefined) runHook("onData", () => onData(bytes, this.#handlerInfo.remoteAddr));
    this.received(bytes);
  }

  /**
   * Bytes arrived that `onData` has seen already: those after a PROXY header, in the read that
   * ended it.
   * @param bytes The bytes.
   */
  received(bytes: Uint8Array): void {
    this.core.receive(bytes, this.#server.clock.now());
    if (this.#closeInTicks > 0) {
      this.#closeInTicks = 0;
      if (this.core.requestClose()) return this.#finish();
    }
    this.#process();
  }

  /** The peer sends nothing more. */
  end(): void {
    this.core.receiveEof();
    if (this.#closing) return this.#destroy();
    this.#process();
  }

  /** The socket takes more again. */
  drain(): void {
    this.output.drained();
    if (this.#closing && !this.#closed) this.#lingerUntil = this.#server.clock.now() + LINGER_MS;
    if (!this.#closing) this.#process();
  }

  /** The socket is closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#request?.abort(new Error("the connection closed"));
    this.#body?.fail(new Error("the connection closed before the request body was complete"));
    this.output.close();
    this.#server.table.removed(this.#socket);
  }

  // ---- called by the connection table ----

  /** Closes once the response in progress is sent (a graceful shutdown). */
  requestClose(): void {
    // A new connection with nothing received yet may have its first request on the way (it was
    // accepted just before a shutdown): closing it now would fail that request, which clients do
    // not retry as they do on a reused connection. It gets a whole tick (until the second tick from
    // now: the next one may be due at once); a request that arrives by then is answered, with
    // Connection: close.
    if (!this.#graceGiven && this.#socket.bytesRead === 0 && this.core.idle) {
      this.#graceGiven = true;
      this.#closeInTicks = 2;
      return;
    }
    if (this.core.requestClose()) this.#finish();
  }

  /** Closes at once (the shutdown drain deadline passed). */
  destroy(): void {
    this.#destroy();
  }

  /** Acts on the deadlines that have passed. */
  tick(now: number): void {
    const server = this.#server;
    if (now - this.output.blockedSince >= server.limits.sendTimeoutMs) {
      // The peer has read nothing for sendTimeoutMs: it cannot hold the connection any longer.
      server.trace?.timedOut(this.#socket, "send", server.limits.sendTimeoutMs);
      return this.#destroy();
    }
    if (this.#closing) {
      // Linger only once everything was handed to the socket: a slow reader of a last response
      // is bounded by the send timeout above, not by the linger.
      if (this.output.writable && now >= this.#lingerUntil) this.#destroy();
      return;
    }
    if (this.#closeInTicks > 0) {
      if (--this.#closeInTicks > 0) return;
      return this.requestClose();
    }
    const running = server.trace === null ? null : runningDeadline(this.core);
    const action = this.core.checkTimeout(now);
    if (action !== "none" && running !== null) server.trace?.timedOut(this.#socket, ...running);
    switch (action) {
      case "none": {
        // Waiting for a request for a whole tick or more (the deadline is then the keep-alive's): go dormant.
        const idleSince = this.core.deadline - this.#server.context.limits.keepAliveTimeoutMs;
        if (now - idleSince >= this.#server.tickMs) this.#sleepIfIdle();
        return;
      }
      case "respond-408":
        return this.#protocolError(new HttpError("REQUEST_TIMEOUT", 0));
      case "close":
        return this.#finish();
      default:
        throw new Error(`unreachable timeout action ${action satisfies never}`);
    }
  }

  // ---- ResponseTarget, called by the send path ----

  /** The response is complete: log it, then go on to the next request or close. */
  responded(status: number): void {
    this.#request = null;
    const onResponse = this.#server.options.onResponse, trace = this.#server.trace;
    const head = this.#head as RequestHead;
    this.#head = null;
    if (onResponse || trace) {
      const entry = {
        remoteAddr: this.#handlerInfo.remoteAddr,
        clientAddr: this.#exchangeClient ?? this.#handlerInfo.clientAddr,
        method: head.method,
        target: head.target,
        status,
        bytes: this.output.written - this.#writtenBefore,
        durationMs: this.#server.clock.now() - this.#started,
      };
      if (trace) {
        trace.responded(
          this.#socket,
          entry,
          this.core.responseFraming,
          !this.core.closed,
          this.output.queued,
        );
      }
      if (onResponse) runHook("onResponse", () => onResponse(entry));
    }
    this.#exchangeDone();
  }

  /** The response cannot be completed: close at once. */
  broken(): void {
    this.#request = null;
    this.#destroy();
  }

  /** The 101 is written: this object is done, and the new protocol serves the socket from now on. */
  switched(protocolSwitch: ProtocolSwitch, { head, rest }: SwitchedProtocols): void {
    // Only what the log line needs stays alive with the new protocol: not the head, nor the input.
    const { method, target } = this.#head as RequestHead;
    this.#head = null;
    this.#request = null;
    this.#dormant = true;
    this.output.write(head);
    this.output.flush();
    const server = this.#server, socket = this.#socket;
    const started = this.#started === 0 ? server.clock.now() : this.#started;
    const headBytes = this.output.written - this.#writtenBefore;
    const exchange = { method, target, started, headBytes };
    const next = protocolSwitch.start(
      new SwitchedTakeover(server, socket, this.#handlerInfo.remoteAddr, rest, exchange),
    );
    socket.events = next;
    server.table.replace(socket, next);
    if (this.#paused) socket.resume();
  }

  // ---- the event loop of one connection ----

  #process(): void {
    if (this.#processing || this.#closing || this.#dormant) return;
    this.#processing = true;
    try {
      while (!this.#closing && !this.#dormant) {
        if (!this.output.writable && this.core.readState === "head") {
          // The peer is not reading its responses: start no new request until it does (drain
          // resumes), and stop reading once a head's worth of pipelined input waits.
          return this.#pauseIfBacklogged();
        }
        const event = this.core.nextEvent();
        switch (event.type) {
          case "request":
            this.#startExchange(event.head);
            break;
          case "data":
            if (this.#body !== null && !this.#body.push(event.data) && !this.#paused) return this.#pause();
            break;
          case "end":
            this.#body?.end();
            this.#body = null;
            break;
          case "error":
            return this.#protocolError(event.error);
          case "close":
            return this.#finish();
          case "need-data":
            this.output.flush();
            if (this.#paused && this.#body === null) this.#resume();
            if (this.#sleepsWhenIdle) this.#sleepIfIdle();
            return;
          case "paused":
            // A response is in progress; pipelined input waits. Stop reading if too much waits.
            return this.#pauseIfBacklogged();
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

  #startExchange(head: RequestHead): void {
    this.#head = head;
    this.#exchangeClient = null;
    const trace = this.#server.trace;
    trace?.requested(this.#socket, head);
    this.#started = this.#server.options.onResponse === undefined && trace === null
      ? 0
      : this.#server.clock.now();
    this.#writtenBefore = this.output.written;
    if (!isRepresentableMethod(head.method)) return respond(this, textResponse(501, "Not Implemented"));
    let body: RequestBody | null = null;
    if (head.bodyFraming !== "none") {
      this.#body = new RequestBody(() => this.#bodyPulled(), head.expectContinue);
      // GET and HEAD bodies are read and discarded, never shown: Request forbids them.
      if (head.method !== "GET" && head.method !== "HEAD") body = this.#body;
    }
    let info = this.#handlerInfo;
    let origin = this.#server.origin;
    const forwarding = this.#server.forwarding;
    if (forwarding !== null) {
      // Behind trusted proxies the client and the scheme are the request's own.
      const seen = forwarding.resolve(head, info.clientAddr, origin);
      origin = seen.origin;
      info = Object.freeze({ remoteAddr: info.remoteAddr, clientAddr: seen.clientAddr });
    }
    this.#exchangeClient = info.clientAddr;
    const request = new ServerRequest({ head, url: requestUrl(head, origin), body });
    this.#request = request;
    let result: Response | Promise<Response>;
    try {
      result = this.#server.handler(request as unknown as Request, info);
    } catch (error) {
      result = Promise.reject(error);
    }
    respond(this, result);
  }

  /** The handler reads the request body: send `100 Continue` if it is due, and read on. */
  #bodyPulled(): void {
    if (this.#dormant) return;
    const interim = this.core.continueResponse();
    if (interim !== null) {
      this.output.write(interim);
      this.output.flush();
    }
    if (this.#paused) this.#resume();
    this.#process();
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
    if (this.core.closed) this.#finish();
    else this.#process();
  }

  /** Goes dormant if the connection only waits for its next request, with nothing in progress on either side. */
  #sleepIfIdle(): void {
    if (
      this.core.awaitingRequest && this.output.writable && this.output.queued === 0 &&
      this.#request === null &&
      this.#body === null && !this.#paused && !this.output.awaitingDrain
    ) {
      this.#dormant = true;
      this.#server.table.sleep(this.#socket, this.core.deadline);
    }
  }

  #pauseIfBacklogged(): void {
    if (this.core.bufferedBytes > this.#server.context.limits.maxHeaderBytes && !this.#paused) this.#pause();
  }

  #pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  #resume(): void {
    this.#paused = false;
    this.#socket.resume();
  }

  /** Answers a protocol error (or a timeout) with its status, then closes. */
  #protocolError(error: HttpError): void {
    const onProtocolError = this.#server.options.onProtocolError, trace = this.#server.trace;
    if (onProtocolError || trace) {
      const info = { ...error.details(), remoteAddr: this.#handlerInfo.remoteAddr };
      // A timeout is traced as one (by tick), not as a rule the input broke.
      if (trace && error.code !== "REQUEST_TIMEOUT") trace.rejected(this.#socket, info);
      if (onProtocolError) runHook("onProtocolError", () => onProtocolError(info));
    }
    this.#body?.fail(error);
    this.#body = null;
    this.output.write(this.core.errorResponse(error, this.#server.clock.now()));
    this.#finish();
  }

  /** Sends what is queued, then closes: FIN first, and the socket lingers briefly to read what the peer still sends. */
  #finish(): void {
    if (this.#closing) return;
    this.output.flush();
    this.#closing = true;
    this.#lingerUntil = this.#server.clock.now() + LINGER_MS;
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

function textResponse(status: number, text: string): Response {
  return new Response(`${text}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
