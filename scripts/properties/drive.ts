/**
 * Feeding the protocol core and recording what it does: {@link drive} runs a new
 * {@link ServerConnection} over byte pieces like a server would and returns a {@link Run} (every
 * request with its head, body, trailers and offsets, the error if any, the final state, and any
 * broken event-order invariant); {@link cutBySizes} splits an input into pieces; and
 * {@link checkOutcome} checks that a run ended in exactly one well-formed outcome (property (b)).
 *
 * Used by the generators (the shapes of parsed requests), the reference model and the properties
 * of this directory, which `tests/core/fast_check_test.ts` runs in CI and `scripts/fuzz.ts` runs
 * for long fuzzing.
 *
 * @module
 */

import { HttpError, type ProtocolLimits, ServerConnection } from "../../src/core/mod.ts";
import { pairs, str } from "./bytes.ts";

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

/** One request as the driver saw it come out of the connection. */
export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  fields: [string, string][];
  bodyFraming: string;
  contentLength: number;
  keepAlive: boolean;
  /** `head.byteLength`: the head's length, leading empty lines and final CRLF included. */
  headLength: number;
  /** Stream offset just past the head, when the request event came. */
  headEnd: number;
  /** Body bytes from the data events, as a Latin-1 string. */
  body: string;
  /** Trailer fields from the end event. */
  trailers: [string, string][];
  /** Stream offset just past the request (head or end event), or -1 while it is incomplete. */
  end: number;
}

/** What one drive produced: the whole observable behaviour of the connection. */
export interface Run {
  requests: ParsedRequest[];
  error: { code: string; status: number; offset: number } | null;
  /** Whether a `close` event came. */
  closed: boolean;
  /** How the last pump ended: the event that stopped it. */
  last: "need-data" | "paused" | "error" | "close";
  /** Broken invariants seen while driving (events after an error, data outside a body, …). */
  violations: string[];
  /** Bytes fed in all. */
  fed: number;
  readState: string;
  writeState: string;
  idle: boolean;
}

/** How {@link drive} feeds the connection. */
export interface DriveOptions {
  /** Limits for the connection (defaults when absent). */
  readonly limits?: Partial<ProtocolLimits>;
  /** Report EOF after the last piece. */
  readonly eof?: boolean;
  /**
   * Answer each request as soon as its head arrives, leaving its body to the connection (which
   * drains or refuses it), instead of after its body.
   */
  readonly early?: boolean;
}

/**
 * Drives a new connection like a server: feeds each piece, pulls events until NEED_DATA or
 * PAUSED, answers each request (200, empty body) once its body is in (or at once with `early`),
 * and on an error answers it and stops, while still checking that nothing more comes out.
 *
 * Stream offsets of request boundaries are read as `fed - bufferedBytes` at the event.
 *
 * @throws Whatever the core throws; an {@link HttpError} thrown rather than reported is turned
 *   into an Error that says so.
 */
export function drive(pieces: readonly Uint8Array[], options: DriveOptions = {}): Run {
  const conn = new ServerConnection({ limits: options.limits, now: 0 });
  const run: Run = {
    requests: [],
    error: null,
    closed: false,
    last: "need-data",
    violations: [],
    fed: 0,
    readState: "",
    writeState: "",
    idle: false,
  };
  const early = options.early === true;
  let current: ParsedRequest | null = null;
  const respond = () => {
    conn.startResponse({ status: 200, headers: [], bodyLength: 0 }, 0);
    conn.endResponse(0);
  };
  const pump = () => {
    for (let guard = 0; guard < 100_000; guard++) {
      const event = conn.nextEvent();
      if (run.error !== null || run.closed) {
        if (event.type !== "paused") {
          run.violations.push(`${event.type} event after ${run.error !== null ? "an error" : "a close"}`);
        }
        return;
      }
      const consumed = run.fed - conn.bufferedBytes;
      switch (event.type) {
        case "request": {
          if (!early && current !== null && current.end === -1) {
            run.violations.push("a request event before the previous body ended");
          }
          const head = event.head;
          current = {
            method: head.method,
            target: head.target,
            version: head.version,
            fields: pairs(head.fields),
            bodyFraming: head.bodyFraming,
            contentLength: head.contentLength,
            keepAlive: head.keepAlive,
            headLength: head.byteLength,
            headEnd: consumed,
            body: "",
            trailers: [],
            end: head.bodyFraming === "none" ? consumed : -1,
          };
          run.requests.push(current);
          if (early) respond();
          break;
        }
        case "data":
          if (current === null || current.end !== -1) run.violations.push("a data event outside a body");
          else if (event.data.byteLength === 0) run.violations.push("an empty data event");
          else current.body += str(event.data);
          break;
        case "end":
          if (current === null || current.end !== -1) run.violations.push("an end event outside a body");
          else {
            current.end = consumed;
            current.trailers = pairs(event.trailers);
          }
          break;
        case "error":
          if (!(event.error instanceof HttpError)) run.violations.push("an error event without an HttpError");
          run.error = { code: event.error.code, status: event.error.status, offset: event.error.offset };
          run.last = "error";
          conn.errorResponse(event.error, 0);
          break;
        case "close":
          run.closed = true;
          run.last = "close";
          break;
        case "need-data":
          run.last = "need-data";
          return;
        case "paused":
          if (!early && conn.readState === "done" && conn.writeState === "idle") {
            respond();
            continue;
          }
          run.last = "paused";
          return;
        default:
          throw new Error(`unknown event ${JSON.stringify(event)}`);
      }
    }
    throw new Error("nextEvent never returned NEED_DATA or PAUSED");
  };
  try {
    for (const piece of pieces) {
      if (piece.byteLength === 0) continue;
      run.fed += piece.byteLength;
      conn.receive(piece, 0);
      pump();
    }
    if (options.eof) {
      conn.receiveEof();
      pump();
    }
  } catch (error) {
    if (error instanceof HttpError) {
      throw new Error(
        `HttpError ${error.code} was thrown out of the core instead of reported as an error event`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  run.readState = conn.readState;
  run.writeState = conn.writeState;
  run.idle = conn.idle;
  return run;
}

/** Cuts an input into pieces whose sizes cycle through `sizes` (each at least 1). */
export function cutBySizes(input: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; at < input.length; k++) {
    const size = Math.max(1, sizes.length === 0 ? input.length : sizes[k % sizes.length]);
    pieces.push(input.slice(at, at + size));
    at += size;
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// Outcome (property b)
// ---------------------------------------------------------------------------------------------

/** The statuses a protocol error may carry. */
export const ALLOWED_STATUSES: ReadonlySet<number> = new Set([400, 408, 413, 414, 417, 421, 431, 501, 505]);

/** How a run ended. */
export type Outcome = "complete" | "partial" | "error";

export function fail(message: string): never {
  throw new Error(message);
}

/**
 * Classifies how a run ended and checks that it is exactly one well-formed outcome:
 * - `complete`: every request complete, then NEED_DATA with nothing pending; or the connection
 *   closed after answering a request that asked to close; or, after EOF, a `close` event;
 * - `partial`: NEED_DATA with a request still arriving (all earlier ones complete);
 * - `error`: exactly one error event, the last event of all, with an allowed status and an offset
 *   within the input.
 */
export function checkOutcome(run: Run, options: DriveOptions = {}): Outcome {
  if (run.violations.length > 0) fail(run.violations.join("; "));
  const early = options.early === true;
  if (!early) {
    for (let i = 0; i < run.requests.length - 1; i++) {
      if (run.requests[i].end === -1) fail(`request ${i} never ended, yet request ${i + 1} came`);
    }
  }
  const lastRequest = run.requests.at(-1);
  if (run.error !== null) {
    if (run.last !== "error") fail("an error was not the last event");
    if (!ALLOWED_STATUSES.has(run.error.status)) {
      fail(`error ${run.error.code} has status ${run.error.status}`);
    }
    if (!(run.error.offset >= 0 && run.error.offset <= run.fed)) {
      fail(`error offset ${run.error.offset} outside the ${run.fed} bytes received`);
    }
    return "error";
  }
  switch (run.last) {
    case "close":
      if (!options.eof && !early) fail("a close event without EOF");
      if (!early && lastRequest !== undefined && lastRequest.end === -1) {
        fail("closed cleanly with a request incomplete");
      }
      return "complete";
    case "need-data":
      if (options.eof) fail("NEED_DATA after EOF");
      if (run.writeState === "closed") fail("NEED_DATA from a closed connection");
      if (run.idle) {
        if (!early && lastRequest !== undefined && lastRequest.end === -1) {
          fail("idle with a request incomplete");
        }
        return "complete";
      }
      return "partial";
    case "paused":
      // Only a connection closed after its last response stops without NEED_DATA.
      if (run.writeState !== "closed") {
        fail(`PAUSED with read state ${run.readState} and write state ${run.writeState}`);
      }
      if (!early && (lastRequest === undefined || lastRequest.keepAlive || lastRequest.end === -1)) {
        fail("the connection closed after a request that did not ask to close");
      }
      return "complete";
    default:
      return fail(`run ended on ${run.last}`);
  }
}
