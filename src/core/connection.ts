/**
 * The server side of one HTTP/1.1 connection as a sans-I/O state machine, in the manner of h11:
 * bytes go in with {@link ServerConnection.receive}, events come out of
 * {@link ServerConnection.nextEvent}, and each response method returns the bytes to send.
 *
 * It decides keep-alive (HTTP/1.1 and HTTP/1.0 rules, `Connection: close` both ways), answers
 * pipelined requests strictly in order, tells when `100 Continue` is due, drains or refuses an
 * unread request body, and computes every timeout from the `now` values it is given: it never
 * reads a clock. The response framing is `framing.ts`'s, the events `events.ts`'s.
 *
 * @module
 */

import { concatBytes } from "./_bytes.ts";
import { type BodyDecoder, ChunkedDecoder, ContentLengthDecoder } from "./body.ts";
import { ConnectionContext } from "./context.ts";
import {
  type CloseEvent,
  type ConnectionEvent,
  type ErrorEvent,
  NEED_DATA,
  PAUSED,
  type ReadState,
  type TimeoutAction,
  type WriteState,
} from "./events.ts";
import { frameResponse, isFinalStatus, type ResponseFraming, type ResponseStart } from "./framing.ts";
import { HttpError, LocalProtocolError } from "./errors.ts";
import type { ProtocolLimits } from "./limits.ts";
import type { RequestHead, RequestHeadParser } from "./parser.ts";
import {
  closingResponseBytes,
  encodeChunk,
  encodeHead,
  encodeLastChunk,
  errorResponseBytes,
} from "./serializer.ts";

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
   * spare parsers. Without it, the connection makes its own, with {@link limits}.
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

/**
 * Where the request side stands, with what that stage needs: the decoder of a body and whether
 * `100 Continue` was sent for it, the trailers of a complete body whose end event is due, and the
 * budget of an unread body being discarded after its response.
 */
type Reading =
  | { readonly kind: "head" }
  | { readonly kind: "body"; readonly decoder: BodyDecoder; continueSent: boolean }
  | { readonly kind: "end"; readonly trailers: readonly string[] }
  | { readonly kind: "done" }
  | { readonly kind: "discard"; readonly decoder: BodyDecoder; budget: number }
  | { readonly kind: "error" }
  | { readonly kind: "closed" };
type DeadlineKind = "head" | "idle" | "body" | "none";

const READING_HEAD: Reading = Object.freeze({ kind: "head" });
const READING_DONE: Reading = Object.freeze({ kind: "done" });
const READING_ERROR: Reading = Object.freeze({ kind: "error" });
const READING_CLOSED: Reading = Object.freeze({ kind: "closed" });
const CONTINUE_BYTES = encodeHead("HTTP/1.1 100 Continue\r\n\r\n");
const INTERNAL_ERROR_TEXT = "Internal Server Error: the response could not be made (RESPONSE_FAILED)\n";
const EMPTY = new Uint8Array(0);

/**
 * One server-side HTTP/1.1 connection, without I/O.
 *
 * @example Answer one request
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection } from "./mod.ts";
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
  readonly limits: ProtocolLimits;
  readonly #context: ConnectionContext;
  /** The parser of the head arriving now; `null` between heads (it is then one of the spares). */
  #parser: RequestHeadParser | null = null;
  #input: Uint8Array = EMPTY;
  #pos = 0;
  #consumed: number;
  /** The peer will send nothing more. */
  #eof = false;
  /** The server asked to close after the response in progress. */
  #closeRequested = false;
  /** Whether the connection may stay open after the current exchange. */
  #keepAlive = true;
  #reading: Reading = READING_HEAD;
  /** The request being answered, from its head until its response ends. */
  #head: RequestHead | null = null;
  #writeState: WriteState = "idle";
  #framing: ResponseFraming = "none";
  #bodyLeft = 0;
  #deadline: number;
  #deadlineKind: DeadlineKind = "head";
  #lastReceiveAt: number;

  /**
   * Creates the state machine for one new connection.
   * @param options The shared context (or limits), the current time, and the bytes before it.
   * @throws {RangeError} If a limit is invalid, or both `context` and `limits` are given.
   */
  constructor(options: ServerConnectionOptions = {}) {
    if (options.context !== undefined && options.limits !== undefined) {
      throw new RangeError("give a ServerConnection either a context or limits, not both");
    }
    this.#context = options.context ?? new ConnectionContext(options.limits);
    this.limits = this.#context.limits;
    this.#lastReceiveAt = options.now ?? 0;
    this.#deadline = this.#lastReceiveAt + this.limits.headersTimeoutMs;
    this.#consumed = options.consumed ?? 0;
  }

  /** Where the request side stands. */
  get readState(): ReadState {
    const kind = this.#reading.kind;
    return kind === "end" ? "done" : kind;
  }

  /** Where the response side stands. */
  get writeState(): WriteState {
    return this.#writeState;
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

  /** Whether nothing is in progress: no request being received or answered. */
  get idle(): boolean {
    return this.#reading.kind === "head" && this.#writeState === "idle" && !this.#headStarted &&
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

  /** Whether the response being sent carries a body (false for HEAD, 204 and 304). */
  get responseHasBody(): boolean {
    return this.#framing !== "none";
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
    if (this.#pos >= this.#input.length) this.#input = bytes;
    else this.#input = concatBytes([this.#input.subarray(this.#pos), bytes]);
    this.#pos = 0;
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
      const reading = this.#reading;
      switch (reading.kind) {
        case "head": {
          const event = this.#readHead();
          if (event !== null) return event;
          continue;
        }
        case "body": {
          const event = this.#readBody(reading.decoder);
          if (event !== null) return event;
          continue;
        }
        case "discard": {
          const event = this.#discard(reading);
          if (event !== null) return event;
          continue;
        }
        case "end":
          this.#reading = READING_DONE;
          return { type: "end", trailers: reading.trailers };
        case "done":
        case "error":
        case "closed":
          return PAUSED;
        default:
          throw new Error(`unreachable read state ${reading satisfies never}`);
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
    const reading = this.#reading;
    if (
      reading.kind !== "body" || reading.continueSent || !this.#head?.expectContinue ||
      this.#writeState !== "idle"
    ) return null;
    reading.continueSent = true;
    return CONTINUE_BYTES;
  }

  /**
   * Serializes the status line and header fields of the response to the current request, and
   * chooses its framing (see `frameResponse`): Content-Length when the length is known, else
   * chunked for HTTP/1.1 and close-delimited for HTTP/1.0. HEAD, 204 and 304 responses get no body.
   *
   * @param response Status, headers and body length.
   * @param now The current time in milliseconds (for the Date field).
   * @returns The head bytes.
   * @throws {LocalProtocolError} `INVALID_STATUS` or `INVALID_FIELD` for a status or header field
   *   that cannot be sent; nothing changes then, so another response (a 500) can be started.
   *   `OUT_OF_ORDER` when no request waits for a response.
   */
  startResponse(response: ResponseStart, now: number): Uint8Array {
    const head = this.#head;
    if (head === null || this.#writeState !== "idle") {
      throw new LocalProtocolError("OUT_OF_ORDER", "no request is waiting for a response");
    }
    const status = response.status;
    if (!isFinalStatus(status)) {
      throw new LocalProtocolError("INVALID_STATUS", `invalid response status ${String(status)}`);
    }
    let keepAlive = this.#keepAlive && !this.#closeRequested;
    const reading = this.#reading;
    // A final answer to `Expect: 100-continue` before the body was asked for: the client may never
    // send that body, so the connection closes after this response, and says so (RFC 9110 §10.1.1).
    if (reading.kind === "body" && head.expectContinue && !reading.continueSent) keepAlive = false;
    const context = this.#context;
    const date = context.dates.format(now);
    const isHead = head.method === "HEAD";
    // The same frozen field list as the last response, with the same status, length, date and
    // connection state, gives the same head: send the same bytes, skipping validation and encoding.
    // (Only frozen lists are remembered, so the same list is still frozen: no isFrozen call here.)
    const last = context.lastHead;
    if (
      last !== null && last.headers === response.headers && last.status === status &&
      last.statusText === response.statusText && last.bodyLength === response.bodyLength &&
      last.keepAliveBefore === keepAlive && last.date === date && last.version === head.version &&
      last.isHead === isHead
    ) {
      this.#startBody(last.framing, last.length, last.keepAlive);
      return last.bytes;
    }
    const framed = frameResponse(head, response, keepAlive, date, context.keepAliveField);
    const bytes = context.heads.encode(framed.head);
    this.#startBody(framed.framing, framed.length, framed.keepAlive);
    // Remembered for every connection of the context: all the inputs are in the comparison above.
    if (Array.isArray(response.headers) && Object.isFrozen(response.headers)) {
      context.lastHead = {
        headers: response.headers,
        status,
        statusText: response.statusText,
        bodyLength: response.bodyLength,
        keepAliveBefore: keepAlive,
        date,
        version: head.version,
        isHead,
        keepAlive: framed.keepAlive,
        framing: framed.framing,
        length: framed.length,
        bytes,
      };
    }
    return bytes;
  }

  /**
   * Frames a piece of the response body.
   *
   * @param data Body bytes.
   * @returns The bytes to send (the data itself unless chunked; empty for a response with no body).
   * @throws {LocalProtocolError} `BODY_TOO_LONG` if the body grows past its Content-Length (the
   *   connection is closed then), or `OUT_OF_ORDER` when no response body is being written.
   */
  writeBody(data: Uint8Array): Uint8Array {
    if (this.#writeState !== "body") {
      throw new LocalProtocolError("OUT_OF_ORDER", "no response body is being written");
    }
    const framing = this.#framing;
    switch (framing) {
      case "none":
        return EMPTY;
      case "length":
        if (data.byteLength > this.#bodyLeft) {
          this.#close();
          throw new LocalProtocolError("BODY_TOO_LONG", "response body is longer than its Content-Length");
        }
        this.#bodyLeft -= data.byteLength;
        return data;
      case "chunked":
        return data.byteLength === 0 ? EMPTY : encodeChunk(data);
      case "close":
        return data;
      default:
        throw new Error(`unreachable framing ${framing satisfies never}`);
    }
  }

  /**
   * Ends the response, and readies the connection for the next request when it stays open.
   *
   * @param now The current time in milliseconds (starts the keep-alive deadline).
   * @param trailers Trailer fields, sent only with a chunked body.
   * @returns The bytes that end the body (the last chunk), often empty.
   * @throws {LocalProtocolError} `BODY_TOO_SHORT` if the body was shorter than its Content-Length
   *   (the connection is closed then), or `OUT_OF_ORDER` when no response is being written.
   */
  endResponse(now: number, trailers?: Iterable<readonly [string, string]>): Uint8Array {
    if (this.#writeState !== "body") {
      throw new LocalProtocolError("OUT_OF_ORDER", "no response is being written");
    }
    if (this.#framing === "length" && this.#bodyLeft !== 0) {
      this.#close();
      throw new LocalProtocolError("BODY_TOO_SHORT", "response body is shorter than its Content-Length");
    }
    const tail = this.#framing === "chunked" ? encodeLastChunk(trailers) : EMPTY;
    this.#writeState = "done";
    const reading = this.#reading;
    const complete = reading.kind === "done" || reading.kind === "end";
    if (!this.#keepAlive || this.#closeRequested || this.#eof && !complete) {
      this.#close();
    } else if (complete) {
      this.#nextCycle(now);
    } else if (reading.kind === "body") {
      // The handler left part of the body unread: read and discard it, or close.
      const mayNotArrive = this.#head?.expectContinue === true && !reading.continueSent;
      if (mayNotArrive || reading.decoder.remaining > this.limits.maxDrainBytes) this.#close();
      else this.#reading = { kind: "discard", decoder: reading.decoder, budget: this.limits.maxDrainBytes };
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
    const withBody = (this.#head?.method ?? this.#parser?.method) !== "HEAD";
    return this.#closingAnswer((date) => errorResponseBytes(error, date, withBody), now);
  }

  /**
   * The built-in 500 for a request whose response could not be made (when the server's own
   * replacement for a failed response fails too): a one-line plain-text body and
   * `Connection: close`. The connection then closes.
   *
   * @param now The current time in milliseconds.
   * @returns The response bytes, or an empty array when a response has already started.
   */
  internalErrorResponse(now: number): Uint8Array {
    const withBody = this.#head?.method !== "HEAD";
    return this.#closingAnswer((date) => closingResponseBytes(500, INTERNAL_ERROR_TEXT, date, withBody), now);
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
    const kind = this.#deadlineKind;
    if (kind === "none" || now < this.#deadline) return "none";
    switch (kind) {
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
        throw new Error(`unreachable deadline ${kind satisfies never}`);
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

  /** Reads a request head: its event, or `null` when the input is used up in a partial head. */
  #readHead(): ConnectionEvent | null {
    if (this.#pos >= this.#input.length) {
      if (!this.#eof) return NEED_DATA;
      if (this.#headStarted) return this.#fail(new HttpError("INCOMPLETE_MESSAGE", this.#consumed));
      return this.#close();
    }
    const parser = this.#parser ??= this.#context.takeParser();
    let next: number;
    try {
      next = parser.push(this.#input, this.#pos, this.#input.length, this.#consumed);
    } catch (error) {
      return this.#fail(error);
    }
    if (next === -1) {
      this.#advance(this.#input.length);
      return null;
    }
    this.#advance(next);
    const head = parser.head as RequestHead;
    parser.reset();
    this.#parser = null;
    this.#context.returnParser(parser);
    this.#head = head;
    this.#keepAlive = head.keepAlive && !this.#closeRequested;
    if (head.bodyFraming === "none") {
      this.#reading = READING_DONE;
      this.#setDeadline("none", Infinity);
    } else {
      const decoder = head.bodyFraming === "chunked"
        ? new ChunkedDecoder(this.limits)
        : new ContentLengthDecoder(head.contentLength);
      this.#reading = { kind: "body", decoder, continueSent: false };
      this.#setDeadline("body", this.#lastReceiveAt + this.limits.bodyTimeoutMs);
    }
    return { type: "request", head };
  }

  /** Reads request body bytes: a data or end event, or `null` when the input held no data. */
  #readBody(decoder: BodyDecoder): ConnectionEvent | null {
    const next = this.#decode(decoder);
    if (typeof next !== "number") return next;
    this.#advance(next);
    const data = decoder.data;
    if (decoder.done) {
      // The body is in: its end event comes next, and no deadline runs while the handler works.
      this.#reading = { kind: "end", trailers: decoder.trailers };
      this.#setDeadline("none", Infinity);
    }
    if (data !== null && data.byteLength > 0) return { type: "data", data };
    return null;
  }

  /** Reads and drops the unread rest of a body after its response; closes past the drain budget. */
  #discard(reading: { readonly decoder: BodyDecoder; budget: number }): ConnectionEvent | null {
    const next = this.#decode(reading.decoder);
    if (typeof next !== "number") return next;
    this.#advance(next);
    const data = reading.decoder.data;
    if (data !== null) reading.budget -= data.byteLength;
    if (reading.budget < 0) return this.#close();
    if (reading.decoder.done) this.#nextCycle();
    return null;
  }

  /** Runs a decoder over the input: the index it stopped at, or the event when there is no input or it failed. */
  #decode(decoder: BodyDecoder): number | ConnectionEvent {
    if (this.#pos >= this.#input.length) {
      if (!this.#eof) return NEED_DATA;
      return this.#fail(new HttpError("INCOMPLETE_MESSAGE", this.#consumed));
    }
    try {
      return decoder.read(this.#input, this.#pos, this.#input.length, this.#consumed);
    } catch (error) {
      return this.#fail(error);
    }
  }

  #startBody(framing: ResponseFraming, length: number, keepAlive: boolean): void {
    this.#framing = framing;
    this.#bodyLeft = length;
    this.#keepAlive = keepAlive;
    this.#writeState = "body";
  }

  /** Closes with a last answer, when no response has started; else only closes. */
  #closingAnswer(answer: (date: string) => Uint8Array, now: number): Uint8Array {
    const canAnswer = this.#writeState === "idle";
    this.#close();
    return canAnswer ? answer(this.#context.dates.format(now)) : EMPTY;
  }

  #nextCycle(now: number = this.#lastReceiveAt): void {
    this.#reading = READING_HEAD;
    this.#writeState = "idle";
    this.#framing = "none";
    this.#head = null;
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
    this.#reading = READING_ERROR;
    this.#keepAlive = false;
    this.#setDeadline("none", Infinity);
    return { type: "error", error };
  }

  #close(): CloseEvent {
    this.#keepAlive = false;
    if (this.#reading.kind !== "error") this.#reading = READING_CLOSED;
    this.#writeState = "closed";
    this.#setDeadline("none", Infinity);
    this.#input = EMPTY;
    this.#pos = 0;
    this.#parser = null;
    return { type: "close" };
  }
}
