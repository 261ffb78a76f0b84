/**
 * The wire trace (`serve({ trace })`, the CLI's `--trace`): every connection's bytes in and out as
 * they pass, and the server's own decisions as it makes them: each request's framing and whether its
 * client asks to keep the connection, each response's framing and whether the connection stays open,
 * each rejection, each timeout, backpressure, and who ended and closed the connection, and why. The
 * bytes come from a wrapper around the transport, put in place only when `trace` is given; the
 * decisions are told by the connection (`HttpConnection`) to the {@link Tracer}, only when there is
 * one. A server without a trace runs exactly as before.
 *
 * @module
 */

import type {
  BodyFraming,
  HttpVersion,
  RequestHead,
  ResponseFraming,
  ServerConnection,
} from "../core/mod.ts";
import type {
  Addr,
  ListenOptions,
  SocketEvents,
  Transport,
  TransportListener,
  TransportSocket,
} from "../transport/transport.ts";
import type { Clock } from "./clock.ts";
import type { ProtocolErrorInfo, ResponseLogEntry } from "./options.ts";

/**
 * Which deadline passed: the request head's (`limits.headersTimeoutMs`), the request body's
 * (`bodyTimeoutMs`), the keep-alive between requests (`keepAliveTimeoutMs`), or the client's reading
 * of a response (`sendTimeoutMs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TimeoutPhase } from "./trace.ts";
 *
 * const phases: TimeoutPhase[] = ["head", "body", "keep-alive", "send"];
 * assert.equal(phases.length, 4);
 * ```
 */
export type TimeoutPhase = "head" | "body" | "keep-alive" | "send";

/**
 * One event of the wire trace. `id` numbers the connections from 1; `at` is the server clock's time.
 *
 * - `open`: a connection was accepted.
 * - `in` and `out`: bytes the client sent, and bytes the server wrote, as they pass.
 * - `request`: the head of request `n` of the connection was read, with the framing of its body as
 *   the server decided it and whether its client asks to keep the connection open.
 * - `response`: request `n` was answered, and all of its bytes are out: the server's `onResponse`
 *   entry, the response's framing, and whether the connection stays open for another request.
 * - `rejected`: the input broke a rule of the protocol, at byte `offset` of the connection's input;
 *   `line` is the line of input that holds it and `column` where in that line (for a caret).
 * - `timeout`: a deadline passed (`phase`), after `limitMs`.
 * - `pause` and `resume`: the server stopped reading (backpressure), and started again.
 * - `end`: a FIN, from the client or the server. `close`: the connection closed, and by whom; for the
 *   server's, `why`: what decided it (a rejection, a response that ends the connection, a timeout,
 *   the client's FIN, a shutdown).
 *
 * @example Collect a connection's events
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve, type TraceEvent } from "@h1serve/h1serve";
 *
 * const events: TraceEvent[] = [];
 * const server = serve({ port: 0, hostname: "127.0.0.1", trace: (event) => events.push(event) }, () => new Response("hi"));
 * const { port } = await server.ready;
 * await (await fetch(`http://127.0.0.1:${port}/`)).text();
 * await server.shutdown();
 * const types = events.map((event) => event.type).filter((type) => type === "request" || type === "response");
 * assert.deepEqual(types, ["request", "response"]);
 * ```
 */
export type TraceEvent =
  | { readonly type: "open"; readonly id: number; readonly at: number; readonly remoteAddr: Addr }
  | { readonly type: "in" | "out"; readonly id: number; readonly at: number; readonly bytes: Uint8Array }
  | {
    readonly type: "request";
    readonly id: number;
    readonly at: number;
    readonly n: number;
    readonly method: string;
    readonly target: string;
    readonly version: HttpVersion;
    /** How the body is framed: none, Content-Length (`contentLength` bytes), or chunked. */
    readonly framing: BodyFraming;
    readonly contentLength: number;
    /** Whether the client asks to keep the connection open after this request. */
    readonly keepAlive: boolean;
    readonly expectContinue: boolean;
  }
  | {
    readonly type: "response";
    readonly id: number;
    readonly at: number;
    readonly n: number;
    readonly entry: ResponseLogEntry<Addr>;
    /** How the body was framed; `switched` for a 101, after which another protocol ran. */
    readonly framing: ResponseFraming | "switched";
    /** Whether the connection stays open for another request. */
    readonly keepAlive: boolean;
  }
  | {
    readonly type: "rejected";
    readonly id: number;
    readonly at: number;
    readonly info: ProtocolErrorInfo<Addr>;
    readonly line: Uint8Array;
    readonly column: number;
  }
  | {
    readonly type: "timeout";
    readonly id: number;
    readonly at: number;
    readonly phase: TimeoutPhase;
    readonly limitMs: number;
  }
  | { readonly type: "pause" | "resume"; readonly id: number; readonly at: number }
  | {
    readonly type: "end" | "close";
    readonly id: number;
    readonly at: number;
    readonly by: "client" | "server";
    /** What made the server end or close it (absent for the client's). */
    readonly why?: string;
  };

/**
 * The deadline a connection's state machine runs now, and its length: the one `checkTimeout` acts on.
 *
 * @param core The connection's state machine.
 * @returns The phase and its limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection } from "../core/mod.ts";
 * import { runningDeadline } from "./trace.ts";
 *
 * assert.deepEqual(runningDeadline(new ServerConnection({ now: 0 })), ["head", 30_000]);
 * ```
 */
export function runningDeadline(core: ServerConnection): [TimeoutPhase, number] {
  const limits = core.limits;
  if (core.readState === "body") return ["body", limits.bodyTimeoutMs];
  if (core.awaitingRequest) return ["keep-alive", limits.keepAliveTimeoutMs];
  return ["head", limits.headersTimeoutMs];
}

/** The most of a connection's latest input kept, to show the line of a rejection. */
const KEPT_INPUT = 16 * 1024;

/** The words for why the server ends a connection after a timeout. */
const TIMEOUT_WHY: Readonly<Record<TimeoutPhase, string>> = {
  head: "the head timeout",
  body: "the body timeout",
  "keep-alive": "the keep-alive timeout",
  send: "the send timeout",
};

/** A response whose bytes are not all out yet: it is told once they are, with that time as its `at`. */
interface PendingResponse {
  readonly event: TraceEvent & { type: "response" };
  /** The count of bytes out at which its last byte is out. */
  readonly outAt: number;
}

/** One traced connection. */
interface Traced {
  readonly id: number;
  requests: number;
  answered: number;
  /** What made the server end the connection, once something did. */
  why: string | null;
  /** Whether the client sent its FIN. */
  clientEnded: boolean;
  /** When bytes last went in or out. */
  lastActivity: number;
  /** The tail of the connection's input. */
  input: Uint8Array;
  /** The offset in the connection's input of `input[0]`. */
  inputStart: number;
  /** Bytes written so far. */
  out: number;
  pending: PendingResponse[];
}

/**
 * The trace of a server: it wraps the transport, to see every socket's bytes, and the server's
 * connections tell it their decisions, naming the (traced) socket they hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tracer } from "./trace.ts";
 * import { systemClock } from "./clock.ts";
 *
 * const seen: string[] = [];
 * const tracer = new Tracer((event) => seen.push(event.type), systemClock);
 * assert.equal(typeof tracer.transport, "function");
 * assert.deepEqual(seen, []);
 * ```
 */
export class Tracer {
  readonly #sink: (event: TraceEvent) => void;
  readonly #clock: Clock;
  #next = 1;

  /**
   * Makes a tracer.
   * @param sink Where the events go.
   * @param clock The server's clock, for `at`.
   */
  constructor(sink: (event: TraceEvent) => void, clock: Clock) {
    this.#sink = sink;
    this.#clock = clock;
  }

  /**
   * The transport with every socket traced.
   * @param inner The runtime's transport.
   * @returns The traced one.
   */
  transport(inner: Transport): Transport {
    return {
      listen: (
        options: ListenOptions,
        accept: (socket: TransportSocket) => SocketEvents,
      ): TransportListener | Promise<TransportListener> =>
        inner.listen(options, (socket) => this.#accept(socket, accept)),
    };
  }

  /**
   * A request head was read.
   * @param socket The connection's socket.
   * @param head The head.
   */
  requested(socket: TransportSocket, head: RequestHead): void {
    const traced = tracedOf(socket);
    if (traced === undefined) return;
    const { method, target, version, bodyFraming: framing, contentLength, keepAlive, expectContinue } = head;
    this.#emit({
      type: "request",
      id: traced.id,
      at: this.#clock.now(),
      n: ++traced.requests,
      method,
      target,
      version,
      framing,
      contentLength,
      keepAlive,
      expectContinue,
    });
  }

  /**
   * A response is complete; it is told once its last byte is out.
   * @param socket The connection's socket.
   * @param entry The server's log entry of it.
   * @param framing Its framing.
   * @param keepAlive Whether the connection stays open after it.
   * @param queued Its bytes not yet handed to the socket.
   */
  responded(
    socket: TransportSocket,
    entry: ResponseLogEntry<Addr>,
    framing: ResponseFraming | "switched",
    keepAlive: boolean,
    queued: number,
  ): void {
    const traced = tracedOf(socket);
    if (traced === undefined) return;
    if (!keepAlive) traced.why ??= "after a response that ends the connection";
    const n = ++traced.answered;
    const event = {
      type: "response",
      id: traced.id,
      at: this.#clock.now(),
      n,
      entry,
      framing,
      keepAlive,
    } as const;
    if (queued === 0) this.#emit(event);
    else traced.pending.push({ event, outAt: traced.out + queued });
  }

  /**
   * The input broke a rule: the event carries the line of input that holds the offset.
   * @param socket The connection's socket.
   * @param info The server's rejection.
   */
  rejected(socket: TransportSocket, info: ProtocolErrorInfo<Addr>): void {
    const traced = tracedOf(socket);
    if (traced === undefined) return;
    traced.why ??= "after rejecting the input";
    const { input, inputStart } = traced;
    const at = Math.min(Math.max(info.offset - inputStart, 0), input.byteLength);
    let start = at;
    while (start > 0 && input[start - 1] !== 10) start--;
    let end = at;
    while (end < input.byteLength && input[end] !== 10) end++;
    if (end < input.byteLength) end++; // the LF itself
    this.#emit({
      type: "rejected",
      id: traced.id,
      at: this.#clock.now(),
      info,
      line: input.slice(start, end),
      column: at - start,
    });
  }

  /**
   * A deadline passed.
   * @param socket The connection's socket.
   * @param phase Which one.
   * @param limitMs Its length.
   */
  timedOut(socket: TransportSocket, phase: TimeoutPhase, limitMs: number): void {
    const traced = tracedOf(socket);
    if (traced === undefined) return;
    traced.why ??= TIMEOUT_WHY[phase];
    this.#emit({ type: "timeout", id: traced.id, at: this.#clock.now(), phase, limitMs });
  }

  /**
   * The server is shutting down: the connection closes once its response in progress is sent.
   * @param socket The connection's socket.
   */
  shuttingDown(socket: TransportSocket): void {
    const traced = tracedOf(socket);
    if (traced !== undefined) traced.why ??= "the server is shutting down";
  }

  #accept(socket: TransportSocket, accept: (socket: TransportSocket) => SocketEvents): SocketEvents {
    const traced: Traced = {
      id: this.#next++,
      requests: 0,
      answered: 0,
      why: null,
      clientEnded: false,
      lastActivity: this.#clock.now(),
      input: new Uint8Array(0),
      inputStart: 0,
      out: 0,
      pending: [],
    };
    this.#emit({ type: "open", id: traced.id, at: this.#clock.now(), remoteAddr: socket.remoteAddr });
    const wrapped = new TracedSocket(socket, traced, (event) => this.#emit(event), this.#clock);
    wrapped.events = accept(wrapped);
    return {
      data: (bytes) => {
        traced.lastActivity = this.#clock.now();
        keep(traced, bytes);
        this.#emit({ type: "in", id: traced.id, at: this.#clock.now(), bytes });
        wrapped.events.data(bytes, wrapped);
      },
      end: () => {
        traced.clientEnded = true;
        this.#emit({ type: "end", id: traced.id, at: this.#clock.now(), by: "client" });
        wrapped.events.end(wrapped);
      },
      drain: () => wrapped.events.drain(wrapped),
      close: () => {
        wrapped.tellPending();
        if (!wrapped.destroyed) {
          this.#emit({ type: "close", id: traced.id, at: this.#clock.now(), by: "client" });
        }
        wrapped.events.close(wrapped);
      },
    };
  }

  #emit(event: TraceEvent): void {
    try {
      this.#sink(event);
    } catch (error) {
      console.error("h1serve: the trace hook failed:", error);
    }
  }
}

/** The traced connection of a socket the server holds, if it is traced. */
function tracedOf(socket: TransportSocket): Traced | undefined {
  return socket instanceof TracedSocket ? socket.traced : undefined;
}

/** Keeps the tail of a connection's input, for the line of a rejection. */
function keep(traced: Traced, bytes: Uint8Array): void {
  const joined = new Uint8Array(traced.input.byteLength + bytes.byteLength);
  joined.set(traced.input);
  joined.set(bytes, traced.input.byteLength);
  const drop = Math.max(0, joined.byteLength - KEPT_INPUT);
  traced.input = joined.subarray(drop);
  traced.inputStart += drop;
}

/** What the server sees in place of the runtime's socket: the same, with its writes traced. */
class TracedSocket implements TransportSocket {
  events: SocketEvents;
  destroyed = false;
  readonly traced: Traced;
  readonly #inner: TransportSocket;
  readonly #emit: (event: TraceEvent) => void;
  readonly #clock: Clock;

  constructor(inner: TransportSocket, traced: Traced, emit: (event: TraceEvent) => void, clock: Clock) {
    this.#inner = inner;
    this.traced = traced;
    this.#emit = emit;
    this.#clock = clock;
    this.events = inner.events;
  }

  /** Why the server ends or closes the connection. */
  #why(): string {
    const traced = this.traced;
    if (traced.why !== null) return traced.why;
    if (traced.clientEnded) return "after the client's FIN, with every request answered";
    return `after ${this.#clock.now() - traced.lastActivity} ms without a byte`;
  }

  get remoteAddr(): Addr {
    return this.#inner.remoteAddr;
  }

  get bytesRead(): number {
    return this.#inner.bytesRead;
  }

  write(bytes: Uint8Array, sent?: () => void): boolean {
    this.#out(bytes);
    return this.#inner.write(bytes, sent);
  }

  writeParts(parts: readonly Uint8Array[], sent?: () => void): boolean {
    for (const part of parts) this.#out(part);
    if (this.#inner.writeParts) return this.#inner.writeParts(parts, sent);
    let taken = true;
    for (const [i, part] of parts.entries()) {
      taken = this.#inner.write(part, i === parts.length - 1 ? sent : undefined);
    }
    return taken;
  }

  pause(): void {
    this.#emit({ type: "pause", id: this.traced.id, at: this.#clock.now() });
    this.#inner.pause();
  }

  resume(): void {
    this.#emit({ type: "resume", id: this.traced.id, at: this.#clock.now() });
    this.#inner.resume();
  }

  end(): void {
    this.tellPending();
    this.#emit({ type: "end", id: this.traced.id, at: this.#clock.now(), by: "server", why: this.#why() });
    this.#inner.end();
  }

  destroy(): void {
    this.tellPending();
    if (!this.destroyed) {
      this.#emit({
        type: "close",
        id: this.traced.id,
        at: this.#clock.now(),
        by: "server",
        why: this.#why(),
      });
    }
    this.destroyed = true;
    this.#inner.destroy();
  }

  /** Tells the responses still waiting for their bytes: nothing more will be written. */
  tellPending(): void {
    for (const { event } of this.traced.pending.splice(0)) this.#emit({ ...event, at: this.#clock.now() });
  }

  #out(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    const traced = this.traced;
    traced.lastActivity = this.#clock.now();
    traced.out += bytes.byteLength;
    this.#emit({ type: "out", id: traced.id, at: this.#clock.now(), bytes: bytes.slice() });
    const pending = traced.pending;
    while (pending.length > 0 && pending[0].outAt <= traced.out) {
      this.#emit({ ...pending.shift()!.event, at: this.#clock.now() });
    }
  }
}
