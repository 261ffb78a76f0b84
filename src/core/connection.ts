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

import { PhaseDeadline } from "./_deadline.ts";
import { ReceivedInput } from "./_input.ts";
import type { BodyDecoder } from "./body.ts";
import {
  type Reading,
  READING_CLOSED,
  READING_DONE,
  READING_ERROR,
  READING_HEAD,
  readingAfter,
} from "./_reading.ts";
import { ConnectionContext, type ServerConnectionOptions } from "./context.ts";
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
import { isFinalStatus, type ResponseFraming, type ResponseStart } from "./framing.ts";
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
import { type SwitchedProtocols, switchingProtocolsHead } from "./upgrade.ts";

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
 * assert.equal(conn.nextEvent().type, "request");
 * const head = conn.startResponse({ status: 200, headers: [], bodyLength: 2 }, 0);
 * const body = conn.writeBody(new TextEncoder().encode("hi"));
 * conn.endResponse(0);
 * assert.match(new TextDecoder().decode(head), /^HTTP\/1\.1 200 OK\r\n[^]*\r\ncontent-length: 2\r\n/);
 * assert.deepEqual([new TextDecoder().decode(body), conn.readState], ["hi", "head"]);
 * ```
 */
export class ServerConnection {
  /** The limits in force. */
  readonly limits: ProtocolLimits;
  readonly #context: ConnectionContext;
  /** The parser of the head arriving now; `null` between heads (it is then one of the spares). */
  #parser: RequestHeadParser | null = null;
  readonly #input: ReceivedInput;
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
  readonly #deadline: PhaseDeadline;

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
    this.#deadline = new PhaseDeadline(this.limits, options.now ?? 0);
    this.#input = new ReceivedInput(options.consumed ?? 0);
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

  /** When the current phase times out ({@link checkTimeout} acts from then on), or `Infinity`. */
  get deadline(): number {
    return this.#deadline.at;
  }

  /** Received bytes not yet parsed. */
  get bufferedBytes(): number {
    return this.#input.buffered;
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
   * Whether the connection waits for its next request, nothing received since its last response:
   * a server may then keep only the keep-alive {@link deadline}, and make a new state machine
   * (with `consumed`) when bytes arrive.
   */
  get awaitingRequest(): boolean {
    return this.#deadline.kind === "idle" && this.bufferedBytes === 0 && !this.#headStarted;
  }

  /** The framing of the response being sent, or of the last one sent: `none` for HEAD, 204 and 304. */
  get responseFraming(): ResponseFraming {
    return this.#framing;
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
    this.#input.add(bytes);
    this.#deadline.received(now);
  }

  /** Records that the peer will send nothing more (a half-close or a close). */
  receiveEof(): void {
    this.#input.eof = true;
  }

  /**
   * Returns the next event from the input received so far.
   *
   * @returns An event, {@link NEED_DATA} or {@link PAUSED}.
   */
  nextEvent(): ConnectionEvent {
    while (true) {
      const reading = this.#reading;
      let event: ConnectionEvent | null;
      switch (reading.kind) {
        case "head":
          event = this.#readHead();
          break;
        case "body":
          event = this.#readBody(reading.decoder);
          break;
        case "discard":
          event = this.#discard(reading);
          break;
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
      if (event !== null) return event;
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
    const encoded = this.#context.headFor(head, response, keepAlive, now);
    this.#startBody(encoded.framing, encoded.length, encoded.keepAlive);
    return encoded.bytes;
  }

  /**
   * Answers with `101 Switching Protocols` (the rules are `switchingProtocolsHead`'s): HTTP parsing
   * stops for good, and requests pipelined behind this one are never read.
   * @param headers The 101's fields, with `Upgrade` naming the new protocol.
   * @returns The 101 head, and the bytes of the new protocol received so far.
   * @throws {LocalProtocolError} `OUT_OF_ORDER` when no request waits; `INVALID_STATUS` or
   *   `INVALID_FIELD` (nothing changes then) when the request cannot be switched or a field is wrong.
   */
  switchProtocols(headers: ResponseStart["headers"]): SwitchedProtocols {
    const head = this.#head;
    if (head === null || this.#writeState !== "idle") {
      throw new LocalProtocolError("OUT_OF_ORDER", "no request is waiting for a response");
    }
    const kind = this.#reading.kind;
    const bytes = switchingProtocolsHead(head, kind === "end" || kind === "done", headers);
    const rest = this.#input.bytes.subarray(this.#input.pos);
    this.#close("switched");
    return { head: bytes, rest };
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
    const reading = this.#reading, complete = reading.kind === "done" || reading.kind === "end";
    if (!this.#keepAlive || this.#closeRequested || this.#input.eof && !complete) {
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
   * The built-in 500 (a one-line text body, `Connection: close`) for a request whose response could
   * not be made, not even the server's own replacement for it. The connection then closes.
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
    const kind = this.#deadline.kind;
    if (kind === "none" || !this.#deadline.due(now)) return "none";
    // An idle connection, or one where no byte of a head has come, closes quietly. A request that
    // did not arrive in time gets a 408 if no response has started, and otherwise just the close.
    const quiet = kind === "idle" || (kind === "head" && !this.#headStarted && this.bufferedBytes === 0);
    if (!quiet && this.#writeState === "idle") return "respond-408";
    this.#close();
    return "close";
  }

  /** Whether a byte of the next head has arrived. */
  get #headStarted(): boolean {
    return this.#parser !== null && this.#parser.started;
  }

  /** Reads a request head: its event, or `null` when the input is used up in a partial head. */
  #readHead(): ConnectionEvent | null {
    if (this.#input.buffered === 0) return this.#noInput(this.#headStarted);
    const parser = this.#parser ??= this.#context.takeParser();
    let head: RequestHead | null;
    try {
      head = this.#input.parseHead(parser);
    } catch (error) {
      return this.#fail(error);
    }
    if (head === null) return null;
    this.#parser = null;
    this.#context.returnParser(parser);
    this.#head = head;
    this.#keepAlive = head.keepAlive && !this.#closeRequested;
    this.#reading = readingAfter(head, this.limits);
    if (this.#reading.kind === "body") this.#deadline.body();
    else this.#deadline.none();
    return { type: "request", head };
  }

  /** Reads request body bytes: a data or end event, or `null` when the input held no data. */
  #readBody(decoder: BodyDecoder): ConnectionEvent | null {
    const failed = this.#decode(decoder);
    if (failed !== null) return failed;
    const data = decoder.data;
    if (decoder.done) {
      // The body is in: its end event comes next, and no deadline runs while the handler works.
      this.#reading = { kind: "end", trailers: decoder.trailers };
      this.#deadline.none();
    }
    return data !== null && data.byteLength > 0 ? { type: "data", data } : null;
  }

  /** Reads and drops the unread rest of a body after its response; closes past the drain budget. */
  #discard(reading: { readonly decoder: BodyDecoder; budget: number }): ConnectionEvent | null {
    const failed = this.#decode(reading.decoder);
    if (failed !== null) return failed;
    reading.budget -= reading.decoder.data?.byteLength ?? 0;
    if (reading.budget < 0) return this.#close();
    if (reading.decoder.done) this.#nextCycle();
    return null;
  }

  /** Runs a body's decoder over the input: `null`, or the event when there is no input or it failed. */
  #decode(decoder: BodyDecoder): ConnectionEvent | null {
    if (this.#input.buffered === 0) return this.#noInput(true);
    try {
      this.#input.decode(decoder);
    } catch (error) {
      return this.#fail(error);
    }
    return null;
  }

  /** With no input left: wait for more, or, after the peer's end, fail a message it cut short, or close. */
  #noInput(messageStarted: boolean): ConnectionEvent {
    if (!this.#input.eof) return NEED_DATA;
    return messageStarted
      ? this.#fail(new HttpError("INCOMPLETE_MESSAGE", this.#input.consumed))
      : this.#close();
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

  #nextCycle(now: number = this.#deadline.lastReceiveAt): void {
    this.#reading = READING_HEAD;
    this.#writeState = "idle";
    this.#head = null;
    this.#deadline.nextRequest(now, this.bufferedBytes > 0);
  }

  #fail(error: unknown): ErrorEvent {
    if (!(error instanceof HttpError)) throw error;
    this.#reading = READING_ERROR;
    this.#keepAlive = false;
    this.#deadline.none();
    return { type: "error", error };
  }

  #close(writeState: "closed" | "switched" = "closed"): CloseEvent {
    this.#keepAlive = false;
    if (this.#reading.kind !== "error") this.#reading = READING_CLOSED;
    this.#writeState = writeState;
    this.#deadline.none();
    this.#input.clear();
    this.#parser = null;
    return { type: "close" };
  }
}
