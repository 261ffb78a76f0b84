/**
 * What the connection state machine tells its caller: the events `ServerConnection.nextEvent`
 * returns, where each side of the connection stands, and what to do when a deadline passes.
 *
 * @module
 */

import type { HttpError } from "./errors.ts";
import type { RequestHead } from "./parser.ts";

/**
 * Returned by `ServerConnection.nextEvent` when more input is needed.
 *
 * @example Wait for the rest of a request head
 * ```ts
 * import assert from "node:assert/strict";
 * import { NEED_DATA, ServerConnection } from "./mod.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHo"), 0);
 * assert.equal(conn.nextEvent(), NEED_DATA);
 * ```
 */
export const NEED_DATA: { readonly type: "need-data" } = Object.freeze({ type: "need-data" });
/**
 * Returned by `ServerConnection.nextEvent` when no event can come until the current response
 * ends (or ever, once the connection has failed or is closing).
 *
 * @example Nothing more until the response is sent
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAUSED, ServerConnection } from "./mod.ts";
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
 * import { type RequestEvent, ServerConnection } from "./mod.ts";
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
 * import { type DataEvent, ServerConnection } from "./mod.ts";
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
 * import { type EndEvent, ServerConnection } from "./mod.ts";
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
 * The input broke the protocol. Answer with `ServerConnection.errorResponse` if allowed, then close.
 *
 * @example Reject a request without Host
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ErrorEvent, ServerConnection } from "./mod.ts";
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
 * The connection is over: close it, with nothing more to send. It comes when the peer closes
 * between requests, and when the unread rest of a body is too long to read and discard.
 *
 * @example The peer closes between requests
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CloseEvent, ServerConnection } from "./mod.ts";
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
 * Everything `ServerConnection.nextEvent` can return.
 *
 * @example Collect the events of one request
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ConnectionEvent, PAUSED, ServerConnection } from "./mod.ts";
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
 * Where the request side stands: a head arriving, a body arriving, the unread rest of a body being
 * read and discarded after its response, the request complete (its response is due), failed, or
 * closed.
 *
 * @example Follow the request side
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ReadState, ServerConnection } from "./mod.ts";
 *
 * const conn = new ServerConnection();
 * const before: ReadState = conn.readState;
 * conn.receive(new TextEncoder().encode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), 0);
 * conn.nextEvent();
 * assert.deepEqual([before, conn.readState], ["head", "body"]);
 * ```
 */
export type ReadState = "head" | "body" | "discard" | "done" | "error" | "closed";
/**
 * Where the response side stands.
 *
 * @example Follow the response side
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection, type WriteState } from "./mod.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * conn.nextEvent();
 * const before: WriteState = conn.writeState;
 * conn.startResponse({ status: 204, headers: [], bodyLength: null }, 0);
 * assert.deepEqual([before, conn.writeState], ["idle", "body"]);
 * ```
 */
export type WriteState = "idle" | "body" | "done" | "closed" | "switched";

/**
 * What the caller should do when a deadline has passed.
 *
 * @example Answer 408 to a head that is too slow
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection, type TimeoutAction } from "./mod.ts";
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
