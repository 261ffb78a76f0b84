/**
 * The server side of one HTTP/1.1 connection as a sans-I/O state machine, in the manner of h11:
 * bytes go in with {@link ServerConnection.receive}, events come out of
 * {@link ServerConnection.nextEvent}, and each response method returns the bytes to send.
 *
 * It decides keep-alive (HTTP/1.1 and HTTP/1.0 rules, `Connection: close` both ways), answers
 * pipelined requests strictly in order, tells when `100 Continue` is due, drains or refuses an
 * unread request body, chooses the response framing, and computes every timeout from the `now`
 * values it is given: it never reads a clock.
 *
 * @module
 */

import { type BodyDecoder, ChunkedDecoder, ContentLengthDecoder } from "./body.ts";
import { concatBytes, isNamed, listElements } from "./bytes.ts";
import { HttpError } from "./errors.ts";
import { type Limits, resolveLimits } from "./limits.ts";
import { type RequestHead, RequestHeadParser } from "./parser.ts";
import {
  DateCache,
  encodeChunk,
  encodeHead,
  encodeLastChunk,
  errorResponseBytes,
  fieldLine,
  HeadCache,
  InvalidResponseError,
  reasonPhrase,
} from "./serializer.ts";

/**
 * Returned by {@link ServerConnection.nextEvent} when more input is needed.
 *
 * @example Wait for the rest of a request head
 * ```ts
 * import assert from "node:assert/strict";
 * import { NEED_DATA, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHo"), 0);
 * assert.equal(conn.nextEvent(), NEED_DATA);
 * ```
 */
export const NEED_DATA: { readonly type: "need-data" } = Object.freeze({ type: "need-data" });
/**
 * Returned by {@link ServerConnection.nextEvent} when no event can come until the current response
 * ends (or ever, once the connection has failed or is closing).
 *
 * @example Nothing more until the response is sent
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAUSED, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n"), 0);
 * assert.equal(conn.nextEvent().type, "request");
 * assert.equal(conn.nextEvent(), PAUSED);
 * ```
 */
export const PAUSED: { readonly type: "paused" } = Object.freeze({ type: "paused" });

/**
 * A request head has been parsed. Its body, if any, follows as `data` events and one `end`.
 *
 * @example Get the head of a request
 * ```ts
 * import assert from "node:assert/strict";
 * import { type RequestEvent, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), 0);
 * const event = conn.nextEvent();
 * assert(event.type === "request");
 * const request: RequestEvent = event;
 * assert.equal(request.head.method, "POST");
 * assert.equal(request.head.contentLength, 3);
 * ```
 */
export interface RequestEvent {
  /** Which event this is. */
  readonly type: "request";
  /** The parsed head. */
  readonly head: RequestHead;
}
/**
 * A piece of the request body.
 *
 * @example Read a piece of the request body
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DataEvent, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"), 0);
 * assert.equal(conn.nextEvent().type, "request");
 * const event = conn.nextEvent();
 * assert(event.type === "data");
 * const data: DataEvent = event;
 * assert.equal(new TextDecoder().decode(data.data), "abc");
 * ```
 */
export interface DataEvent {
  /** Which event this is. */
  readonly type: "data";
  /** The bytes, a view into received input. */
  readonly data: Uint8Array;
}
/**
 * The request body is complete. Sent only for requests that have a body.
 *
 * @example Get the trailers at the end of a chunked body
 * ```ts
 * import assert from "node:assert/strict";
 * import { type EndEvent, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * const head = "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
 * conn.receive(new TextEncoder().encode(`${head}2\r\nhi\r\n0\r\nX-Sum: 9\r\n\r\n`), 0);
 * assert.deepEqual([conn.nextEvent().type, conn.nextEvent().type], ["request", "data"]);
 * const event = conn.nextEvent();
 * assert(event.type === "end");
 * const end: EndEvent = event;
 * assert.deepEqual(end.trailers, ["X-Sum", "9"]);
 * ```
 */
export interface EndEvent {
  /** Which event this is. */
  readonly type: "end";
  /** Trailer fields of a chunked body (flat name, value list). */
  readonly trailers: readonly string[];
}
/**
 * The input broke the protocol. Answer with {@link ServerConnection.errorResponse} if allowed, then close.
 *
 * @example Reject a request without Host
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ErrorEvent, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"), 0);
 * const event = conn.nextEvent();
 * assert(event.type === "error");
 * const error: ErrorEvent = event;
 * assert.equal(error.error.code, "MISSING_HOST");
 * assert.equal(error.error.status, 400);
 * ```
 */
export interface ErrorEvent {
  /** Which event this is. */
  readonly type: "error";
  /** What went wrong, with the status to answer. */
  readonly error: HttpError;
}
/**
 * The connection should be closed now with nothing more to send (the peer closed between requests).
 *
 * @example The peer closes between requests
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CloseEvent, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receiveEof();
 * const event = conn.nextEvent();
 * assert(event.type === "close");
 * const close: CloseEvent = event;
 * assert.deepEqual(close, { type: "close" });
 * assert.equal(conn.closed, true);
 * ```
 */
export interface CloseEvent {
  /** Which event this is. */
  readonly type: "close";
}

/**
 * Everything {@link ServerConnection.nextEvent} can return.
 *
 * @example Collect the events of one request
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ConnectionEvent, PAUSED, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"), 0);
 * const events: ConnectionEvent[] = [];
 * for (let event = conn.nextEvent(); event !== PAUSED; event = conn.nextEvent()) events.push(event);
 * assert.deepEqual(events.map((event) => event.type), ["request", "data", "end"]);
 * ```
 */
export type ConnectionEvent =
  | RequestEvent
  | DataEvent
  | EndEvent
  | ErrorEvent
  | CloseEvent
  | typeof NEED_DATA
  | typeof PAUSED;

/**
 * Where the request side stands.
 *
 * @example Follow the request side
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ReadState, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * const before: ReadState = conn.readState;
 * conn.receive(new TextEncoder().encode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), 0);
 * conn.nextEvent();
 * assert.deepEqual([before, conn.readState], ["head", "body"]);
 * ```
 */
export type ReadState = "head" | "body" | "done" | "error" | "closed";
/**
 * Where the response side stands.
 *
 * @example Follow the response side
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection, type WriteState } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * conn.nextEvent();
 * const before: WriteState = conn.writeState;
 * conn.startResponse({ status: 204, headers: [], bodyLength: null }, 0);
 * assert.deepEqual([before, conn.writeState], ["idle", "body"]);
 * ```
 */
export type WriteState = "idle" | "body" | "done" | "closed";

/**
 * What a handler's response gives the serializer.
 *
 * @example Start a response with a Headers object
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ResponseStart, ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * conn.nextEvent();
 * const response: ResponseStart = { status: 201, headers: new Headers({ "X-Id": "7" }), bodyLength: 0 };
 * const head = new TextDecoder().decode(conn.startResponse(response, 0));
 * assert.match(head, /^HTTP\/1\.1 201 Created\r\n/);
 * assert.match(head, /\r\nx-id: 7\r\n/);
 * ```
 */
export interface ResponseStart {
  /** Status code, 200 to 599. */
  readonly status: number;
  /** Reason phrase; the standard one is used when absent or invalid. */
  readonly statusText?: string;
  /**
   * Header fields: `[name, value]` pairs, or a Web `Headers` object (read with its `forEach`,
   * which costs a fifth of its iterator on Deno).
   */
  readonly headers: Iterable<readonly [string, string]> | HeaderFields;
  /** Body length when known in advance, or `null` for a body streamed to its end. */
  readonly bodyLength: number | null;
}

/**
 * Header fields that list themselves with `forEach(value, name)`, as a Web `Headers` does.
 *
 * @example A Headers object is HeaderFields
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HeaderFields } from "./connection.ts";
 *
 * const fields: HeaderFields = new Headers({ "x-a": "1" });
 * const seen: string[] = [];
 * fields.forEach((value, name) => seen.push(`${name}=${value}`));
 * assert.deepEqual(seen, ["x-a=1"]);
 * ```
 */
export interface HeaderFields {
  /** Calls `visit` with each field's value and name. */
  forEach(visit: (value: string, name: string) => void): void;
}

/**
 * What the caller should do when a deadline has passed.
 *
 * @example Answer 408 to a head that is too slow
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection, type TimeoutAction } from "./connection.ts";
 *
 * const conn = new ServerConnection({ now: 0, limits: { headersTimeoutMs: 1000 } });
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\n"), 0);
 * conn.nextEvent();
 * assert.equal(conn.checkTimeout(999), "none");
 * const action: TimeoutAction = conn.checkTimeout(1000);
 * assert.equal(action, "respond-408");
 * ```
 */
export type TimeoutAction = "none" | "close" | "respond-408";

/**
 * Options of {@link ServerConnection}.
 *
 * @example Lower one limit, keep the other defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection, type ServerConnectionOptions } from "./connection.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * const options: ServerConnectionOptions = { now: 0, limits: { maxHeaderCount: 10 } };
 * const conn = new ServerConnection(options);
 * assert.equal(conn.limits.maxHeaderCount, 10);
 * assert.equal(conn.limits.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes);
 * ```
 */
export interface ServerConnectionOptions {
  /** Limits and timeouts; unset ones take their defaults. */
  readonly limits?: Partial<Limits>;
  /** The current time in milliseconds, from which the first deadline is computed. */
  readonly now?: number;
  /** Shared Date formatter, so that many connections format once per second. */
  readonly dateCache?: DateCache;
  /** Shared cache of encoded response heads, so that many connections encode each head once. */
  readonly headCache?: HeadCache;
  /**
   * How many bytes of the connection came before this state machine took over, so that error
   * offsets count from the connection's first byte. A server that lets an idle connection go
   * and makes a new state machine when the next request arrives passes the bytes read so far.
   * @default {0}
   */
  readonly consumed?: number;
}

type BodyMode = "none" | "length" | "chunked" | "close";

/** The last head sent for a frozen field list, and what it decided: reused for the same inputs. */
interface LastHead {
  readonly headers: unknown;
  readonly status: number;
  readonly statusText: string | undefined;
  readonly bodyLength: number | null;
  readonly keepAliveBefore: boolean;
  readonly date: string;
  readonly version: string;
  readonly isHead: boolean;
  readonly keepAlive: boolean;
  readonly mode: BodyMode;
  readonly bodyLeft: number;
  readonly bytes: Uint8Array;
}
type DeadlineKind = "head" | "idle" | "body" | "none";

const CONTINUE_BYTES = encodeHead("HTTP/1.1 100 Continue\r\n\r\n");
const EMPTY = new Uint8Array(0);
const sharedDateCache = new DateCache();
const sharedHeadCache = new HeadCache();

/**
 * What the connections with the same limits share, so that an idle keep-alive connection holds
 * little memory: the parsers (a connection holds one only while a head is arriving; its buffers,
 * field list and string memos cost more than the rest of the connection), and the memo of the
 * last head sent (the same for every connection with the same inputs).
 */
interface SharedState {
  /** Parsers not in use. */
  readonly spareParsers: RequestHeadParser[];
  /** The last head built from a frozen field list, for whichever connection sends one next. */
  lastHead: LastHead | null;
  /** The Keep-Alive field line these limits send. */
  readonly keepAliveField: string;
}
const sharedStates = new WeakMap<Limits, SharedState>();
/** Spare parsers kept per limits; more only arise from a burst of partial heads. */
const SPARE_PARSER_LIMIT = 64;

function sharedStateFor(limits: Limits): SharedState {
  let shared = sharedStates.get(limits);
  if (shared === undefined) {
    shared = {
      spareParsers: [],
      lastHead: null,
      keepAliveField: `keep-alive: timeout=${Math.floor(limits.keepAliveTimeoutMs / 1000)}\r\n`,
    };
    sharedStates.set(limits, shared);
  }
  return shared;
}

/**
 * One server-side HTTP/1.1 connection, without I/O.
 *
 * @example Answer one request
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection } from "./connection.ts";
 *
 * const conn = new ServerConnection({ now: 0 });
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * const event = conn.nextEvent();
 * assert.equal(event.type, "request");
 * const head = conn.startResponse({ status: 200, headers: [], bodyLength: 2 }, 0);
 * const body = conn.writeBody(new TextEncoder().encode("hi"));
 * conn.endResponse(0);
 * const text = new TextDecoder().decode(head) + new TextDecoder().decode(body);
 * assert.match(
 *   text,
 *   /^HTTP\/1\.1 200 OK\r\ndate: .*\r\ncontent-length: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=65\r\n\r\nhi$/,
 * );
 * assert.equal(conn.readState, "head");
 * ```
 */
export class ServerConnection {
  /** The limits in force. */
  readonly limits: Limits;
  /** The parser of the head arriving now; `null` between heads (it is then one of the spares). */
  #parser: RequestHeadParser | null = null;
  readonly #shared: SharedState;
  readonly #dates: DateCache;
  readonly #heads: HeadCache;
  #input: Uint8Array = EMPTY;
  #pos = 0;
  #consumed = 0;
  #eof = false;
  #readState: ReadState = "head";
  #writeState: WriteState = "idle";
  #head: RequestHead | null = null;
  #decoder: BodyDecoder | null = null;
  #keepAlive = true;
  #closeRequested = false;
  #continueSent = false;
  #discarding = false;
  #discardBudget = 0;
  #bodyMode: BodyMode = "none";
  #bodyLeft = 0;
  #deadline: number;
  #deadlineKind: DeadlineKind = "head";
  #requestCount = 0;
  #lastReceiveAt: number;
  #pendingEnd = false;

  /**
   * Creates the state machine for one new connection.
   * @param options Limits, the current time, and the shared Date and head caches.
   */
  constructor(options: ServerConnectionOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.#shared = sharedStateFor(this.limits);
    this.#dates = options.dateCache ?? sharedDateCache;
    this.#heads = options.headCache ?? sharedHeadCache;
    this.#lastReceiveAt = options.now ?? 0;
    this.#deadline = this.#lastReceiveAt + this.limits.headersTimeoutMs;
    this.#consumed = options.consumed ?? 0;
  }

  /** Where the request side stands. */
  get readState(): ReadState {
    return this.#readState;
  }

  /** Where the response side stands. */
  get writeState(): WriteState {
    return this.#writeState;
  }

  /** The head of the request being answered, if any. */
  get request(): RequestHead | null {
    return this.#head;
  }

  /** How many requests this state machine has parsed (a new one made with `consumed` starts at 0). */
  get requestCount(): number {
    return this.#requestCount;
  }

  /**
   * When the current phase times out, in milliseconds ({@link checkTimeout} acts from then on);
   * `Infinity` while no deadline runs (the handler works, or the connection is closed).
   */
  get deadline(): number {
    return this.#deadline;
  }

  /** Received bytes not yet parsed. */
  get bufferedBytes(): number {
    return this.#input.length - this.#pos;
  }

  /** Whether the connection is finished: nothing more will be sent, and it should be closed. */
  get closed(): boolean {
    return this.#writeState === "closed";
  }

  /** Whether the connection must close once the current response is sent. */
  get willClose(): boolean {
    return !this.#keepAlive;
  }

  /** Whether nothing is in progress: no request being received or answered. */
  get idle(): boolean {
    return this.#readState === "head" && this.#writeState === "idle" && !this.#headStarted &&
      this.bufferedBytes === 0;
  }

  /**
   * Whether the connection waits for its next request, with nothing received since the last
   * response: only the keep-alive deadline ({@link deadline}) runs. A server may then keep
   * nothing of the connection but that deadline, and make a new state machine (with
   * `consumed`) when bytes arrive.
   */
  get awaitingRequest(): boolean {
    return this.#deadlineKind === "idle" && this.bufferedBytes === 0 && !this.#headStarted;
  }

  /**
   * Takes bytes from the peer. The array must not be changed afterwards; body data events are
   * views into it.
   *
   * @param bytes The bytes received.
   * @param now The current time in milliseconds.
   */
  receive(bytes: Uint8Array, now: number): void {
    if (bytes.byteLength === 0) return;
    this.#lastReceiveAt = now;
    if (this.#pos >= this.#input.length) {
      this.#input = bytes;
      this.#pos = 0;
    } else {
      this.#input = concatBytes([this.#input.subarray(this.#pos), bytes]);
      this.#pos = 0;
    }
    if (this.#deadlineKind === "idle") this.#setDeadline("head", now + this.limits.headersTimeoutMs);
    else if (this.#deadlineKind === "body") this.#setDeadline("body", now + this.limits.bodyTimeoutMs);
  }

  /** Records that the peer will send nothing more (a half-close or a close). */
  receiveEof(): void {
    this.#eof = true;
  }

  /**
   * Returns the next event from the input received so far.
   *
   * @returns An event, {@link NEED_DATA} or {@link PAUSED}.
   */
  nextEvent(): ConnectionEvent {
    while (true) {
      switch (this.#readState) {
        case "head": {
          if (this.#pos >= this.#input.length) {
            if (!this.#eof) return NEED_DATA;
            if (this.#headStarted) return this.#fail(new HttpError("INCOMPLETE_MESSAGE", this.#consumed));
            return this.#close();
          }
          const parser = this.#parser ??= this.#shared.spareParsers.pop() ??
            new RequestHeadParser(this.limits);
          let next: number;
          try {
            next = parser.push(this.#input, this.#pos, this.#input.length, this.#consumed);
          } catch (error) {
            return this.#fail(error);
          }
          if (next === -1) {
            this.#advance(this.#input.length);
            continue;
          }
          this.#advance(next);
          const head = parser.head as RequestHead;
          parser.reset();
          this.#parser = null;
          if (this.#shared.spareParsers.length < SPARE_PARSER_LIMIT) this.#shared.spareParsers.push(parser);
          return this.#startRequest(head);
        }
        case "body": {
          const decoder = this.#decoder as BodyDecoder;
          if (this.#pos >= this.#input.length) {
            if (!this.#eof) return NEED_DATA;
            return this.#fail(new HttpError("INCOMPLETE_MESSAGE", this.#consumed));
          }
          let next: number;
          try {
            next = decoder.read(this.#input, this.#pos, this.#input.length, this.#consumed);
          } catch (error) {
            return this.#fail(error);
          }
          this.#advance(next);
          const data = decoder.data;
          if (this.#discarding) {
            if (data !== null) this.#discardBudget -= data.byteLength;
            if (this.#discardBudget < 0) return this.#close();
            if (decoder.done) this.#nextCycle();
            continue;
          }
          if (decoder.done) {
            this.#readState = "done";
            // The body is in: no deadline runs while the handler works.
            this.#setDeadline("none", Infinity);
          }
          if (data !== null && data.byteLength > 0) {
            if (decoder.done) this.#pendingEnd = true;
            return { type: "data", data };
          }
          if (decoder.done) return { type: "end", trailers: decoder.trailers };
          continue;
        }
        case "done":
          if (this.#pendingEnd) {
            this.#pendingEnd = false;
            return { type: "end", trailers: (this.#decoder as BodyDecoder).trailers };
          }
          return PAUSED;
        case "error":
        case "closed":
          return PAUSED;
        default:
          throw new Error(`unreachable read state ${this.#readState satisfies never}`);
      }
    }
  }

  /**
   * The `100 Continue` interim response, when it is due: the request asked for it, its body has
   * not arrived, and no final response has started. Call it when the handler starts reading the body.
   *
   * @returns The bytes to send, or `null` when nothing is due.
   */
  continueResponse(): Uint8Array | null {
    const head = this.#head;
    if (
      head === null || !head.expectContinue || this.#continueSent || this.#writeState !== "idle" ||
      this.#readState !== "body"
    ) return null;
    this.#continueSent = true;
    return CONTINUE_BYTES;
  }

  /**
   * Serializes the status line and header fields of the response to the current request, and
   * chooses its framing: Content-Length when the length is known, else chunked for HTTP/1.1 and
   * close-delimited for HTTP/1.0. HEAD, 204 and 304 responses get no body.
   *
   * @param response Status, headers and body length.
   * @param now The current time in milliseconds (for the Date field).
   * @returns The head bytes.
   * @throws {InvalidResponseError} If the status or a header field is invalid; nothing changes then,
   *   so another response (a 500) can be started.
   */
  startResponse(response: ResponseStart, now: number): Uint8Array {
    const head = this.#head;
    if (head === null || this.#writeState !== "idle") throw new Error("no request is waiting for a response");
    const status = response.status;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new InvalidResponseError(`invalid response status ${String(status)}`);
    }
    let fields = "";
    let keepAlive = this.#keepAlive && !this.#closeRequested;
    // A final answer to `Expect: 100-continue` before the body was asked for: the client may never
    // send that body, so the connection closes after this response, and says so (RFC 9110 §10.1.1).
    if (head.expectContinue && !this.#continueSent && this.#readState === "body") keepAlive = false;
    const date = this.#dates.format(now);
    // The same frozen field list as the last response, with the same status, length, date and
    // connection state, gives the same head: send the same bytes, skipping validation and encoding.
    const last = this.#shared.lastHead;
    // (Only frozen lists are remembered, so the same list is still frozen: no isFrozen call here.)
    if (
      last !== null && last.headers === response.headers && last.status === status &&
      last.statusText === response.statusText && last.bodyLength === response.bodyLength &&
      last.keepAliveBefore === keepAlive && last.date === date && last.version === head.version &&
      last.isHead === (head.method === "HEAD")
    ) {
      this.#keepAlive = last.keepAlive;
      this.#bodyMode = last.mode;
      this.#bodyLeft = last.bodyLeft;
      this.#writeState = "body";
      return last.bytes;
    }
    const keepAliveBefore = keepAlive;
    let declaredLength = -1;
    let hasDate = false;
    const connectionOptions: string[] = [];
    const take = (value: string, name: string): void => {
      const line = fieldLine(name, value); // a valid token from here on, as isNamed needs
      switch (name.length) {
        case 4:
          if (isNamed(name, "date")) hasDate = true;
          break;
        case 10:
          if (isNamed(name, "connection")) {
            // Merged into the one Connection field sent below: "close" decides keep-alive, other
            // options (such as "upgrade") are kept (RFC 9110 §7.6.1, §7.8).
            for (const option of listElements(value)) {
              if (option === "close") keepAlive = false;
              else if (option !== "keep-alive" && !connectionOptions.includes(option)) {
                connectionOptions.push(option);
              }
            }
            return;
          }
          if (isNamed(name, "keep-alive")) return;
          break;
        case 14:
          if (isNamed(name, "content-length")) {
            if (!/^[0-9]{1,15}$/.test(value)) {
              throw new InvalidResponseError("invalid response Content-Length");
            }
            declaredLength = Number(value);
            return;
          }
          break;
        case 17:
          if (isNamed(name, "transfer-encoding")) return;
          break;
      }
      fields += line;
    };
    const headers = response.headers;
    if ("forEach" in headers && !Array.isArray(headers)) headers.forEach(take);
    else for (const [name, value] of headers as Iterable<readonly [string, string]>) take(value, name);
    if (!hasDate) fields += `date: ${date}\r\n`;

    let mode: BodyMode;
    const noContent = status === 204 || status === 304;
    if (noContent || head.method === "HEAD") {
      mode = "none";
      if (status === 304 && declaredLength >= 0) fields += `content-length: ${declaredLength}\r\n`;
      if (!noContent) {
        const length = response.bodyLength ?? declaredLength;
        if (length >= 0) fields += `content-length: ${length}\r\n`;
      }
    } else if (response.bodyLength !== null || declaredLength >= 0) {
      mode = "length";
      this.#bodyLeft = response.bodyLength ?? declaredLength;
      fields += `content-length: ${this.#bodyLeft}\r\n`;
    } else if (head.version === "HTTP/1.1") {
      mode = "chunked";
      fields += "transfer-encoding: chunked\r\n";
    } else {
      mode = "close";
      keepAlive = false;
    }
    // The Keep-Alive field is connection-specific, so "keep-alive" is named in Connection with it
    // (RFC 9110 §7.6.1); it tells the client how long an idle connection stays open.
    connectionOptions.push(keepAlive ? "keep-alive" : "close");
    fields += `connection: ${connectionOptions.join(", ")}\r\n`;
    if (keepAlive) fields += this.#shared.keepAliveField;

    this.#keepAlive = keepAlive;
    this.#bodyMode = mode;
    this.#writeState = "body";
    const bytes = this.#heads.encode(
      `HTTP/1.1 ${status} ${reasonPhrase(status, response.statusText)}\r\n${fields}\r\n`,
    );
    // Remembered for every connection with these limits: all the inputs are in the comparison above.
    if (Array.isArray(response.headers) && Object.isFrozen(response.headers)) {
      this.#shared.lastHead = {
        headers: response.headers,
        status,
        statusText: response.statusText,
        bodyLength: response.bodyLength,
        keepAliveBefore,
        date,
        version: head.version,
        isHead: head.method === "HEAD",
        keepAlive,
        mode,
        bodyLeft: this.#bodyLeft,
        bytes,
      };
    }
    return bytes;
  }

  /** Whether the response being sent carries a body (false for HEAD, 204 and 304). */
  get responseHasBody(): boolean {
    return this.#bodyMode !== "none";
  }

  /**
   * Frames a piece of the response body.
   *
   * @param data Body bytes.
   * @returns The bytes to send (the data itself unless chunked; empty for a response with no body).
   * @throws {RangeError} If the body grows past its Content-Length; the connection must then be closed.
   */
  writeBody(data: Uint8Array): Uint8Array {
    if (this.#writeState !== "body") throw new Error("no response body is being written");
    switch (this.#bodyMode) {
      case "none":
        return EMPTY;
      case "length":
        if (data.byteLength > this.#bodyLeft) {
          this.#close();
          throw new RangeError("response body is longer than its Content-Length");
        }
        this.#bodyLeft -= data.byteLength;
        return data;
      case "chunked":
        return data.byteLength === 0 ? EMPTY : encodeChunk(data);
      case "close":
        return data;
      default:
        throw new Error(`unreachable body mode ${this.#bodyMode satisfies never}`);
    }
  }

  /**
   * Ends the response, and readies the connection for the next request when it stays open.
   *
   * @param now The current time in milliseconds (starts the keep-alive deadline).
   * @param trailers Trailer fields, sent only with a chunked body.
   * @returns The bytes that end the body (the last chunk), often empty.
   * @throws {RangeError} If the body was shorter than its Content-Length; the connection must then be closed.
   */
  endResponse(now: number, trailers?: Iterable<readonly [string, string]>): Uint8Array {
    if (this.#writeState !== "body") throw new Error("no response is being written");
    if (this.#bodyMode === "length" && this.#bodyLeft !== 0) {
      this.#close();
      throw new RangeError("response body is shorter than its Content-Length");
    }
    const tail = this.#bodyMode === "chunked" ? encodeLastChunk(trailers) : EMPTY;
    this.#writeState = "done";
    if (!this.#keepAlive || this.#closeRequested || this.#eof && this.#readState !== "done") {
      this.#close();
      return tail;
    }
    if (this.#readState === "done") {
      this.#nextCycle(now);
    } else if (this.#readState === "body") {
      // The handler left part of the body unread: read and discard it, or close.
      const decoder = this.#decoder as BodyDecoder;
      const unread = decoder.remaining;
      const mayNotArrive = (this.#head as RequestHead).expectContinue && !this.#continueSent;
      if (mayNotArrive || unread > this.limits.maxDrainBytes) this.#close();
      else {
        this.#discarding = true;
        this.#discardBudget = this.limits.maxDrainBytes;
      }
    }
    return tail;
  }

  /**
   * The complete response to a protocol error, a timeout or a failure before any response began.
   * The connection then closes.
   *
   * @param error The error to answer.
   * @param now The current time in milliseconds.
   * @returns The response bytes, or an empty array when a response has already started (then only closing is left).
   */
  errorResponse(error: HttpError, now: number): Uint8Array {
    const canAnswer = this.#writeState === "idle";
    const method = this.#head?.method ?? this.#parser?.method;
    this.#close();
    return canAnswer ? errorResponseBytes(error, this.#dates.format(now), method !== "HEAD") : EMPTY;
  }

  /**
   * Asks the connection to close after the response in progress (for a graceful shutdown). A
   * request that has begun to arrive, or is already buffered, is still answered, with
   * `Connection: close`.
   *
   * @returns `true` when nothing is in progress, so it can be closed at once.
   */
  requestClose(): boolean {
    this.#closeRequested = true;
    if (this.#writeState === "closed") return true;
    if (this.idle) {
      this.#close();
      return true;
    }
    return false;
  }

  /**
   * Checks the deadline of the current phase: receiving a head, receiving a body, or idling
   * between requests. No deadline runs while the handler works.
   *
   * @param now The current time in milliseconds.
   * @returns What to do: nothing, close quietly, or answer 408 and close.
   */
  checkTimeout(now: number): TimeoutAction {
    if (this.#deadlineKind === "none" || now < this.#deadline) return "none";
    switch (this.#deadlineKind) {
      case "idle":
        this.#close();
        return "close";
      case "head":
        if (!this.#headStarted && this.bufferedBytes === 0) {
          this.#close();
          return "close";
        }
        return this.#timedOut();
      case "body":
        return this.#timedOut();
      default:
        throw new Error(`unreachable deadline ${this.#deadlineKind satisfies never}`);
    }
  }

  /** A request that did not arrive in time: answer 408 (then close) if no response has started, else close now. */
  #timedOut(): TimeoutAction {
    if (this.#writeState === "idle") return "respond-408";
    this.#close();
    return "close";
  }

  /** Whether a byte of the next head has arrived. */
  get #headStarted(): boolean {
    return this.#parser !== null && this.#parser.started;
  }

  #startRequest(head: RequestHead): ConnectionEvent {
    this.#requestCount++;
    this.#head = head;
    this.#keepAlive = head.keepAlive && !this.#closeRequested;
    this.#continueSent = false;
    if (head.bodyFraming === "none") {
      this.#decoder = null;
      this.#readState = "done";
      this.#setDeadline("none", Infinity);
    } else {
      this.#decoder = head.bodyFraming === "chunked"
        ? new ChunkedDecoder(this.limits)
        : new ContentLengthDecoder(head.contentLength);
      this.#readState = "body";
      this.#setDeadline("body", this.#lastReceiveAt + this.limits.bodyTimeoutMs);
    }
    return { type: "request", head };
  }

  #nextCycle(now: number = this.#lastReceiveAt): void {
    this.#readState = "head";
    this.#writeState = "idle";
    this.#head = null;
    this.#decoder = null;
    this.#discarding = false;
    this.#pendingEnd = false;
    if (this.bufferedBytes > 0) this.#setDeadline("head", now + this.limits.headersTimeoutMs);
    else this.#setDeadline("idle", now + this.limits.keepAliveTimeoutMs);
  }

  #setDeadline(kind: DeadlineKind, at: number): void {
    this.#deadlineKind = kind;
    this.#deadline = at;
  }

  #advance(to: number): void {
    this.#consumed += to - this.#pos;
    this.#pos = to;
    if (to >= this.#input.length) {
      this.#input = EMPTY;
      this.#pos = 0;
    }
  }

  #fail(error: unknown): ErrorEvent {
    if (!(error instanceof HttpError)) throw error;
    this.#readState = "error";
    this.#keepAlive = false;
    this.#setDeadline("none", Infinity);
    return { type: "error", error };
  }

  #close(): CloseEvent {
    this.#keepAlive = false;
    if (this.#readState !== "error") this.#readState = "closed";
    this.#writeState = "closed";
    this.#setDeadline("none", Infinity);
    this.#input = EMPTY;
    this.#pos = 0;
    this.#parser = null;
    return { type: "close" };
  }
}
