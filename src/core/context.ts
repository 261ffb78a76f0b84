/**
 * What the connections of one server share, passed to each `ServerConnection` explicitly:
 * the limits, the Date and head caches, the spare request-head parsers, and the memo of the
 * last head sent. Nothing in the core is shared through module state.
 *
 * @module
 */

import { frameResponse, type ResponseFraming, type ResponseStart } from "./framing.ts";
import { type ProtocolLimits, resolveProtocolLimits } from "./limits.ts";
import { type RequestHead, RequestHeadParser } from "./parser.ts";
import { DateCache, HeadCache } from "./serializer.ts";

/** Spare parsers kept; more only arise from a burst of partial heads. */
const SPARE_PARSER_LIMIT = 64;

/**
 * A response head, encoded, with the framing it decided.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionContext, type EncodedHead, RequestHeadParser } from "./mod.ts";
 *
 * const context = new ConnectionContext();
 * const parser = new RequestHeadParser(context.limits);
 * const request = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");
 * parser.push(request, 0, request.length, 0);
 * const head: EncodedHead = context.headFor(parser.head!, { status: 200, headers: [], bodyLength: null }, false, 0);
 * assert.deepEqual([head.framing, head.keepAlive], ["close", false]);
 * ```
 */
export interface EncodedHead {
  /** Whether the connection stays open after this response. */
  readonly keepAlive: boolean;
  /** The body's framing. */
  readonly framing: ResponseFraming;
  /** The body length the head declared (for Content-Length framing). */
  readonly length: number;
  /** The head's bytes. */
  readonly bytes: Uint8Array;
}

/**
 * The last head built from a frozen field list, with everything that decided it: a response with
 * the same inputs gets the same bytes, without validating and encoding its fields again.
 *
 * @example What a connection remembers after sending a head
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionContext, type LastHead, ServerConnection } from "./mod.ts";
 *
 * const context = new ConnectionContext();
 * const conn = new ServerConnection({ context });
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * conn.nextEvent();
 * const headers = Object.freeze([]);
 * const bytes = conn.startResponse({ status: 204, headers, bodyLength: 0 }, 0);
 * const last: LastHead | null = context.lastHead;
 * assert.equal(last?.headers, headers);
 * assert.equal(last?.bytes, bytes);
 * ```
 */
export interface LastHead extends EncodedHead {
  /** The frozen field list. */
  readonly headers: unknown;
  /** The status. */
  readonly status: number;
  /** The status text the response gave. */
  readonly statusText: string | undefined;
  /** The body length the response gave. */
  readonly bodyLength: number | null;
  /** Whether the connection could stay open before this response. */
  readonly keepAliveBefore: boolean;
  /** The Date field value. */
  readonly date: string;
  /** The request's version. */
  readonly version: string;
  /** Whether the request was HEAD. */
  readonly isHead: boolean;
}

/**
 * What the connections of one server share. A server makes one and passes it to every
 * connection; a connection made without one gets its own.
 *
 * An idle keep-alive connection holds little memory because of it: a connection holds a parser
 * only while a head is arriving (its buffers, field list and string memos cost more than the rest
 * of the connection), and gives it back here once the head is complete.
 *
 * @example Two connections share the context's parsers and limits
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionContext, ServerConnection } from "./mod.ts";
 *
 * const context = new ConnectionContext({ maxHeaderCount: 20 });
 * const a = new ServerConnection({ context });
 * const b = new ServerConnection({ context });
 * assert.equal(a.limits, b.limits);
 * assert.equal(a.limits.maxHeaderCount, 20);
 * a.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * assert.equal(a.nextEvent().type, "request");
 * assert.equal(context.spareParsers, 1); // a's parser, free for b's next head
 * ```
 */
export class ConnectionContext {
  /** The limits of every connection of this context. */
  readonly limits: ProtocolLimits;
  /** The Date formatter, so that many connections format once per second. */
  readonly dates: DateCache = new DateCache();
  /** Encoded response heads, so that many connections encode each head once. */
  readonly heads: HeadCache = new HeadCache();
  /** The Keep-Alive field line these limits send. */
  readonly keepAliveField: string;
  /** The last head built from a frozen field list, for whichever connection sends one next. */
  lastHead: LastHead | null = null;
  readonly #spareParsers: RequestHeadParser[] = [];

  /**
   * Makes the shared state of a group of connections.
   * @param limits The protocol limits; unset ones take their defaults.
   * @throws {RangeError} If a limit is not a positive number, or not a protocol limit.
   */
  constructor(limits: Partial<ProtocolLimits> = {}) {
    this.limits = resolveProtocolLimits(limits);
    this.keepAliveField = `keep-alive: timeout=${Math.floor(this.limits.keepAliveTimeoutMs / 1000)}\r\n`;
  }

  /**
   * The head of a response, framed (`frameResponse`) and encoded: the same bytes as the last
   * response's when the inputs are the same and its field list is frozen (a constant), which
   * skips validating and encoding its fields again.
   *
   * @param request The request's head.
   * @param response Status, header fields and body length.
   * @param keepAlive Whether the connection may stay open, as far as the request and the server go.
   * @param now The current time in milliseconds (for the Date field).
   * @returns The encoded head and its framing.
   * @throws {LocalProtocolError} `INVALID_FIELD` for a field that cannot be sent.
   */
  headFor(request: RequestHead, response: ResponseStart, keepAlive: boolean, now: number): EncodedHead {
    const date = this.dates.format(now);
    const isHead = request.method === "HEAD";
    // (Only frozen lists are remembered, so the same list is still frozen: no isFrozen call here.)
    const last = this.lastHead;
    if (
      last !== null && last.headers === response.headers && last.status === response.status &&
      last.statusText === response.statusText && last.bodyLength === response.bodyLength &&
      last.keepAliveBefore === keepAlive && last.date === date && last.version === request.version &&
      last.isHead === isHead
    ) return last;
    const framed = frameResponse(request, response, keepAlive, date, this.keepAliveField);
    const head: LastHead = {
      headers: response.headers,
      status: response.status,
      statusText: response.statusText,
      bodyLength: response.bodyLength,
      keepAliveBefore: keepAlive,
      date,
      version: request.version,
      isHead,
      keepAlive: framed.keepAlive,
      framing: framed.framing,
      length: framed.length,
      bytes: this.heads.encode(framed.head),
    };
    // Remembered for every connection of the context: all the inputs are in the comparison above.
    if (Array.isArray(response.headers) && Object.isFrozen(response.headers)) this.lastHead = head;
    return head;
  }

  /** How many parsers wait as spares. */
  get spareParsers(): number {
    return this.#spareParsers.length;
  }

  /**
   * A parser for the next head: a spare one, or a new one.
   * @returns A parser, reset.
   */
  takeParser(): RequestHeadParser {
    return this.#spareParsers.pop() ?? new RequestHeadParser(this.limits);
  }

  /**
   * Takes back a parser whose head is complete, for any connection's next head.
   * @param parser The parser, reset.
   */
  returnParser(parser: RequestHeadParser): void {
    if (this.#spareParsers.length < SPARE_PARSER_LIMIT) this.#spareParsers.push(parser);
  }
}

/**
 * Options of {@link ServerConnection}.
 *
 * @example Lower one limit, keep the other defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PROTOCOL_LIMITS, ServerConnection, type ServerConnectionOptions } from "./mod.ts";
 *
 * const options: ServerConnectionOptions = { now: 0, limits: { maxHeaderCount: 10 } };
 * const conn = new ServerConnection(options);
 * assert.equal(conn.limits.maxHeaderCount, 10);
 * assert.equal(conn.limits.maxHeaderBytes, DEFAULT_PROTOCOL_LIMITS.maxHeaderBytes);
 * ```
 */
export interface ServerConnectionOptions {
  /**
   * What this connection shares with the other connections of its server: limits, caches and
   * spare parsers. Without it, the connection makes its own, with `limits`.
   */
  readonly context?: ConnectionContext;
  /** Limits and timeouts of a connection without a `context`; unset ones take their defaults. */
  readonly limits?: Partial<ProtocolLimits>;
  /** The current time in milliseconds, from which the first deadline is computed. */
  readonly now?: number;
  /**
   * How many bytes of the connection came before this state machine took over, so that error
   * offsets count from the connection's first byte. A server that lets an idle connection go
   * and makes a new state machine when the next request arrives passes the bytes read so far.
   * @default {0}
   */
  readonly consumed?: number;
}
