/**
 * The wire trace (`serve({ trace })`, the CLI's `--trace`): every connection's bytes in and out as
 * they pass, who ended and who closed it, the server's backpressure, each answered request and each
 * rejection, as structured events with the connection's id. It is a wrapper around the transport,
 * put in place only when `trace` is given: a server without it runs exactly as before.
 *
 * @module
 */

import { latin1 } from "../core/_bytes.ts";
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
 * One event of the wire trace. `id` numbers the connections from 1; `at` is the server clock's time.
 *
 * - `open`: a connection was accepted.
 * - `in` and `out`: bytes the client sent, and bytes the server wrote, as they pass.
 * - `pause` and `resume`: the server stopped reading (backpressure), and started again.
 * - `end`: a FIN, from the client or the server. `close`: the connection closed, and by whom; for the
 *   server's, `why` as far as the trace saw it (a rejection, `Connection: close`, the keep-alive timeout).
 * - `response`: request `n` of the connection was answered (the server's `onResponse` entry).
 * - `rejected`: the input broke a rule of the protocol, at byte `offset` of the connection's input;
 *   `line` is the line of input that holds it and `column` where in that line (for a caret).
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
 * const types = new Set(events.map((event) => event.type));
 * assert.ok(types.has("open") && types.has("in") && types.has("out") && types.has("response"));
 * ```
 */
export type TraceEvent =
  | { readonly type: "open"; readonly id: number; readonly at: number; readonly remoteAddr: Addr }
  | { readonly type: "in" | "out"; readonly id: number; readonly at: number; readonly bytes: Uint8Array }
  | { readonly type: "pause" | "resume"; readonly id: number; readonly at: number }
  | {
    readonly type: "end" | "close";
    readonly id: number;
    readonly at: number;
    readonly by: "client" | "server";
    /** Why the server ended or closed it, as far as the trace saw (absent for the client's). */
    readonly why?: string;
  }
  | {
    readonly type: "response";
    readonly id: number;
    readonly at: number;
    readonly n: number;
    readonly entry: ResponseLogEntry<Addr>;
  }
  | {
    readonly type: "rejected";
    readonly id: number;
    readonly at: number;
    readonly info: ProtocolErrorInfo<Addr>;
    readonly line: Uint8Array;
    readonly column: number;
  };

/** The most of a connection's latest input kept, to show the line of a rejection. */
const KEPT_INPUT = 16 * 1024;

/** One traced connection: its id, and the tail of its input. */
interface Traced {
  readonly id: number;
  answered: number;
  /** Whether the server rejected this connection's input. */
  rejected: boolean;
  /** Whether the server's last response head said `Connection: close`. */
  closeAnnounced: boolean;
  /** Whether the client sent its FIN. */
  clientEnded: boolean;
  /** When bytes last went in or out. */
  lastActivity: number;
  input: Uint8Array;
  /** The offset in the connection's input of `input[0]`. */
  inputStart: number;
}

/**
 * Puts the trace around a transport and the server's hooks.
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
  readonly #byPeer = new Map<string, Traced>();
  readonly #keepAliveMs: number;
  #next = 1;

  /**
   * Makes a tracer.
   * @param sink Where the events go.
   * @param clock The server's clock, for `at`.
   * @param keepAliveMs The server's keep-alive timeout, to name it as the reason of a close.
   */
  constructor(sink: (event: TraceEvent) => void, clock: Clock, keepAliveMs = 65_000) {
    this.#sink = sink;
    this.#clock = clock;
    this.#keepAliveMs = keepAliveMs;
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
   * Traces an answered request, then calls the user's hook.
   * @param entry The server's log entry.
   */
  response(entry: ResponseLogEntry<Addr>): void {
    const traced = this.#byPeer.get(peerKey(entry.remoteAddr));
    if (traced === undefined) return;
    this.#emit({ type: "response", id: traced.id, at: this.#clock.now(), n: ++traced.answered, entry });
  }

  /**
   * Traces a rejection, with the line of input that holds its offset.
   * @param info The server's rejection.
   */
  rejected(info: ProtocolErrorInfo<Addr>): void {
    const traced = this.#byPeer.get(peerKey(info.remoteAddr));
    if (traced === undefined) return;
    traced.rejected = true;
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

  #accept(socket: TransportSocket, accept: (socket: TransportSocket) => SocketEvents): SocketEvents {
    const traced: Traced = {
      id: this.#next++,
      answered: 0,
      rejected: false,
      closeAnnounced: false,
      clientEnded: false,
      lastActivity: this.#clock.now(),
      input: new Uint8Array(0),
      inputStart: 0,
    };
    const key = peerKey(socket.remoteAddr);
    this.#byPeer.set(key, traced);
    this.#emit({ type: "open", id: traced.id, at: this.#clock.now(), remoteAddr: socket.remoteAddr });
    const wrapped = new TracedSocket(
      socket,
      traced,
      (event) => this.#emit(event),
      this.#clock,
      this.#keepAliveMs,
    );
    wrapped.events = accept(wrapped);
    return {
      data: (bytes) => {
        traced.lastActivity = this.#clock.now();
        this.#keep(traced, bytes);
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
        if (!wrapped.destroyed) {
          this.#emit({ type: "close", id: traced.id, at: this.#clock.now(), by: "client" });
        }
        wrapped.events.close(wrapped);
        // The hooks of a response or rejection on this socket have run by now.
        if (this.#byPeer.get(key) === traced) this.#byPeer.delete(key);
      },
    };
  }

  #keep(traced: Traced, bytes: Uint8Array): void {
    const joined = new Uint8Array(traced.input.byteLength + bytes.byteLength);
    joined.set(traced.input);
    joined.set(bytes, traced.input.byteLength);
    const drop = Math.max(0, joined.byteLength - KEPT_INPUT);
    traced.input = joined.subarray(drop);
    traced.inputStart += drop;
  }

  #emit(event: TraceEvent): void {
    try {
      this.#sink(event);
    } catch (error) {
      console.error("h1serve: the trace hook failed:", error);
    }
  }
}

/** What the server sees in place of the runtime's socket: the same, with its writes traced. */
class TracedSocket implements TransportSocket {
  events: SocketEvents;
  destroyed = false;
  readonly #inner: TransportSocket;
  readonly #traced: Traced;
  readonly #id: number;
  readonly #emit: (event: TraceEvent) => void;
  readonly #clock: Clock;
  readonly #keepAliveMs: number;

  constructor(
    inner: TransportSocket,
    traced: Traced,
    emit: (event: TraceEvent) => void,
    clock: Clock,
    keepAliveMs: number,
  ) {
    this.#inner = inner;
    this.#traced = traced;
    this.#id = traced.id;
    this.#emit = emit;
    this.#clock = clock;
    this.#keepAliveMs = keepAliveMs;
    this.events = inner.events;
  }

  /** Why the server ends or closes the connection, from what the trace saw of it. */
  #why(): string {
    const traced = this.#traced;
    if (traced.rejected) return "after rejecting the input";
    if (traced.closeAnnounced) return "after a response with Connection: close";
    if (traced.clientEnded) return "after the client's FIN, with every request answered";
    const idle = this.#clock.now() - traced.lastActivity;
    if (idle >= this.#keepAliveMs) return `the keep-alive timeout: ${idle} ms without a request`;
    return `after ${idle} ms without a byte: a timeout or a shutdown`;
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
    this.#emit({ type: "pause", id: this.#id, at: this.#clock.now() });
    this.#inner.pause();
  }

  resume(): void {
    this.#emit({ type: "resume", id: this.#id, at: this.#clock.now() });
    this.#inner.resume();
  }

  end(): void {
    this.#emit({ type: "end", id: this.#id, at: this.#clock.now(), by: "server", why: this.#why() });
    this.#inner.end();
  }

  destroy(): void {
    if (!this.destroyed) {
      this.#emit({ type: "close", id: this.#id, at: this.#clock.now(), by: "server", why: this.#why() });
    }
    this.destroyed = true;
    this.#inner.destroy();
  }

  #out(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    const traced = this.#traced;
    traced.lastActivity = this.#clock.now();
    const head = latin1(bytes, 0, Math.min(bytes.byteLength, 1024));
    if (/^HTTP\/1\.[01] \d{3}/.test(head)) traced.closeAnnounced = /\r\nconnection: *close\r\n/i.test(head);
    this.#emit({ type: "out", id: this.#id, at: this.#clock.now(), bytes: bytes.slice() });
  }
}

function peerKey(addr: Addr): string {
  return addr.transport === "unix" ? `unix:${addr.path}` : `${addr.hostname}:${addr.port}`;
}
