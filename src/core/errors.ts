/**
 * The two error types of the core. Every violation of the protocol by the peer becomes an
 * {@link HttpError}, which carries the status to answer, a stable code, the RFC section it
 * enforces and the byte offset where parsing stopped. Every misuse by the caller (a response the
 * protocol does not allow, or a call in the wrong state) is a {@link LocalProtocolError}.
 *
 * @module
 */

/**
 * Every reason the core rejects a request, with the status it answers and the rule it enforces.
 *
 * @example Look up how a violation is answered
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError, PROTOCOL_ERRORS } from "./errors.ts";
 *
 * assert.equal(PROTOCOL_ERRORS.CL_TE_CONFLICT.status, 400);
 * assert.equal(PROTOCOL_ERRORS.HEADERS_TOO_LARGE.status, 431);
 * assert.equal(new HttpError("OBS_FOLD", 0).rfc, PROTOCOL_ERRORS.OBS_FOLD.rfc);
 * assert.ok(Object.values(PROTOCOL_ERRORS).every(({ status }) => status >= 400 && status <= 599));
 * ```
 */
export const PROTOCOL_ERRORS = {
  BAD_REQUEST_LINE: { status: 400, rfc: "RFC 9112 §3", message: "malformed request line" },
  BAD_METHOD: { status: 400, rfc: "RFC 9112 §3.1", message: "method is not a token" },
  BAD_TARGET: { status: 400, rfc: "RFC 9112 §3.2", message: "invalid request target" },
  TARGET_FORM_MISMATCH: {
    status: 400,
    rfc: "RFC 9112 §3.2",
    message: "request target form not allowed for this method",
  },
  BAD_VERSION: { status: 400, rfc: "RFC 9112 §2.3", message: "malformed HTTP version" },
  VERSION_NOT_SUPPORTED: {
    status: 505,
    rfc: "RFC 9110 §15.6.6",
    message: "HTTP version not supported",
  },
  BARE_LF: { status: 400, rfc: "RFC 9112 §2.2", message: "bare LF line ending" },
  BARE_CR: { status: 400, rfc: "RFC 9112 §2.2", message: "bare CR" },
  OBS_FOLD: { status: 400, rfc: "RFC 9112 §5.2", message: "obsolete line folding" },
  BAD_FIELD_NAME: { status: 400, rfc: "RFC 9110 §5.1", message: "invalid header field name" },
  SPACE_BEFORE_COLON: {
    status: 400,
    rfc: "RFC 9112 §5.1",
    message: "whitespace between header field name and colon",
  },
  BAD_FIELD_VALUE: { status: 400, rfc: "RFC 9110 §5.5", message: "invalid header field value" },
  MISSING_HOST: { status: 400, rfc: "RFC 9112 §3.2", message: "HTTP/1.1 request without Host" },
  DUPLICATE_HOST: { status: 400, rfc: "RFC 9112 §3.2", message: "more than one Host field" },
  BAD_HOST: { status: 400, rfc: "RFC 9112 §3.2", message: "invalid Host field value" },
  BAD_CONTENT_LENGTH: { status: 400, rfc: "RFC 9112 §6.3", message: "invalid Content-Length" },
  CONFLICTING_CONTENT_LENGTH: {
    status: 400,
    rfc: "RFC 9112 §6.3",
    message: "conflicting Content-Length values",
  },
  CL_TE_CONFLICT: {
    status: 400,
    rfc: "RFC 9112 §6.1",
    message: "both Transfer-Encoding and Content-Length",
  },
  BAD_TRANSFER_ENCODING: {
    status: 400,
    rfc: "RFC 9112 §6.3",
    message: "Transfer-Encoding must end in chunked",
  },
  TRANSFER_ENCODING_HTTP10: {
    status: 400,
    rfc: "RFC 9112 §6.1",
    message: "Transfer-Encoding in an HTTP/1.0 request",
  },
  UNSUPPORTED_TRANSFER_ENCODING: {
    status: 501,
    rfc: "RFC 9112 §6.1",
    message: "unsupported transfer coding",
  },
  MISDIRECTED_REQUEST: {
    status: 421,
    rfc: "RFC 9110 §7.4",
    message: "https target on a connection that is not secured",
  },
  EXPECTATION_FAILED: {
    status: 417,
    rfc: "RFC 9110 §10.1.1",
    message: "unsupported expectation",
  },
  BAD_CHUNK: { status: 400, rfc: "RFC 9112 §7.1", message: "malformed chunked encoding" },
  CHUNK_SIZE_OVERFLOW: { status: 400, rfc: "RFC 9112 §7.1", message: "chunk size too large" },
  CHUNK_EXTENSION_TOO_LARGE: {
    status: 400,
    rfc: "RFC 9112 §7.1.1",
    message: "chunk extensions too large",
  },
  TRAILERS_TOO_LARGE: { status: 431, rfc: "RFC 9112 §7.1.2", message: "trailer section too large" },
  URI_TOO_LONG: { status: 414, rfc: "RFC 9112 §3", message: "request target too long" },
  METHOD_TOO_LONG: {
    status: 501,
    rfc: "RFC 9112 §3",
    message: "method longer than any implemented",
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    rfc: "RFC 6585 §5",
    message: "request header section too large",
  },
  TOO_MANY_HEADERS: { status: 431, rfc: "RFC 6585 §5", message: "too many header fields" },
  BODY_TOO_LARGE: { status: 413, rfc: "RFC 9110 §15.5.14", message: "request body too large" },
  INCOMPLETE_MESSAGE: {
    status: 400,
    rfc: "RFC 9112 §8",
    message: "connection closed before the message was complete",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    rfc: "RFC 9110 §15.5.9",
    message: "request not received in time",
  },
} as const;

/**
 * A stable identifier for one kind of protocol violation, such as `"CL_TE_CONFLICT"`.
 *
 * @example Create an error from its code
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError, type HttpErrorCode, PROTOCOL_ERRORS } from "./errors.ts";
 *
 * const code: HttpErrorCode = "BODY_TOO_LARGE";
 * const error = new HttpError(code, 0);
 * assert.equal(error.code, code);
 * assert.equal(error.status, PROTOCOL_ERRORS[code].status);
 * ```
 */
export type HttpErrorCode = keyof typeof PROTOCOL_ERRORS;

/**
 * What a rejection tells its observer: the fields of an {@link HttpError} as plain data.
 *
 * @example Log a rejection as plain data
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError, type ProtocolErrorDetails } from "./errors.ts";
 *
 * const details: ProtocolErrorDetails = new HttpError("BARE_LF", 17).details();
 * const logged = JSON.parse(JSON.stringify(details));
 * assert.deepEqual([logged.code, logged.status, logged.offset], ["BARE_LF", 400, 17]);
 * assert.equal(logged.rfc, "RFC 9112 §2.2");
 * ```
 */
export interface ProtocolErrorDetails {
  /** Stable code, such as `"OBS_FOLD"`. */
  readonly code: HttpErrorCode;
  /** Status that was answered. */
  readonly status: number;
  /** The RFC section the rejection enforces. */
  readonly rfc: string;
  /** Byte offset in the connection's input where parsing stopped. */
  readonly offset: number;
  /** One short line naming the problem. It never contains request bytes. */
  readonly message: string;
}

/**
 * A protocol violation, with the status a server answers for it.
 *
 * Errors are sticky: once the core raises one, the connection answers it and closes.
 *
 * @example Create an error and read its status
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./errors.ts";
 *
 * const error = new HttpError("OBS_FOLD", 42);
 * assert.equal(error.status, 400);
 * assert.equal(error.rfc, "RFC 9112 §5.2");
 * assert.equal(error.offset, 42);
 * ```
 */
export class HttpError extends Error implements ProtocolErrorDetails {
  /** Stable code, such as `"OBS_FOLD"`. */
  readonly code: HttpErrorCode;
  /** Status to answer. */
  readonly status: number;
  /** The RFC section this error enforces. */
  readonly rfc: string;
  /** Byte offset in the connection's input where parsing stopped. */
  readonly offset: number;

  /**
   * Creates the error for one violation.
   * @param code Which violation this is.
   * @param offset Byte offset in the connection's input where parsing stopped.
   */
  constructor(code: HttpErrorCode, offset = 0) {
    const entry = PROTOCOL_ERRORS[code];
    super(entry.message);
    this.name = "HttpError";
    this.code = code;
    this.status = entry.status;
    this.rfc = entry.rfc;
    this.offset = offset;
  }

  /**
   * The error as plain data, for logs and `onProtocolError`.
   *
   * @returns The code, status, RFC section, offset and message.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HttpError } from "./errors.ts";
   *
   * assert.deepEqual(new HttpError("URI_TOO_LONG", 9000).details(), {
   *   code: "URI_TOO_LONG",
   *   status: 414,
   *   rfc: "RFC 9112 §3",
   *   offset: 9000,
   *   message: "request target too long",
   * });
   * ```
   */
  details(): ProtocolErrorDetails {
    return {
      code: this.code,
      status: this.status,
      rfc: this.rfc,
      offset: this.offset,
      message: this.message,
    };
  }
}

/**
 * Why the caller's use of the state machine was refused:
 * - `INVALID_STATUS`, `INVALID_FIELD`: the response cannot be sent as it is (a status outside
 *   200–599, a header or trailer field that is not a token and a valid value, a malformed
 *   Content-Length). Nothing changed: another response (a 500) can be started.
 * - `BODY_TOO_LONG`, `BODY_TOO_SHORT`: the body did not match the length its head declared. The
 *   connection is closed: the peer would misread what follows.
 * - `OUT_OF_ORDER`: a call the current state does not allow, such as a body without a response.
 *
 * @example Tell a replaceable response from a broken connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalProtocolError, type LocalProtocolErrorCode } from "./errors.ts";
 *
 * const code: LocalProtocolErrorCode = "INVALID_FIELD";
 * assert.equal(new LocalProtocolError(code, "bad field").responseUnchanged, true);
 * assert.equal(new LocalProtocolError("BODY_TOO_LONG", "too long").responseUnchanged, false);
 * ```
 */
export type LocalProtocolErrorCode =
  | "INVALID_STATUS"
  | "INVALID_FIELD"
  | "BODY_TOO_LONG"
  | "BODY_TOO_SHORT"
  | "OUT_OF_ORDER";

/**
 * The caller broke the protocol or the state machine's order: thrown by the core's response
 * methods, never caused by the peer. The message never contains the offending bytes.
 *
 * @example A header field that would split the response
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalProtocolError, ServerConnection } from "./mod.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * conn.nextEvent();
 * assert.throws(
 *   () => conn.startResponse({ status: 200, headers: [["x", "a\r\nInjected: 1"]], bodyLength: 0 }, 0),
 *   (error) => error instanceof LocalProtocolError && error.code === "INVALID_FIELD",
 * );
 * ```
 */
export class LocalProtocolError extends Error {
  /** Which rule was broken. */
  readonly code: LocalProtocolErrorCode;

  /**
   * Creates the error.
   * @param code Which rule was broken.
   * @param message What is wrong, without the offending bytes.
   */
  constructor(code: LocalProtocolErrorCode, message: string) {
    super(message);
    this.name = "LocalProtocolError";
    this.code = code;
  }

  /** Whether the state machine is as it was before the call, so that another response can be started. */
  get responseUnchanged(): boolean {
    return this.code === "INVALID_STATUS" || this.code === "INVALID_FIELD";
  }
}
