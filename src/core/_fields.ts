/**
 * Header field lines and the values that frame a request body: one field line (RFC 9112 §5),
 * Content-Length (§6.3) and Transfer-Encoding (§6.1). Shared by the request-head parser and the
 * trailer section of a chunked body. Private to h1serve (not exported by `core/mod.ts`).
 *
 * @module
 */

import {
  FIELD_VALUE_CHARS,
  hasListElement,
  isNamed,
  isToken,
  latin1,
  type Latin1Memo,
  listElements,
  TOKEN_CHARS,
} from "./_bytes.ts";
import { HttpError, type HttpErrorCode } from "./errors.ts";

const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/**
 * Parses one header field line (RFC 9112 §5) and appends its name and value to `fields`.
 *
 * @param line The array holding the line.
 * @param start First byte of the line.
 * @param end End of the line's content (its CR).
 * @param offset Stream offset of `line[start]`, for error positions.
 * @param fields Where to append the name and the trimmed value.
 * @param memo Remembers recent names and values, slot by position in `fields`.
 * @throws {HttpError} `OBS_FOLD`, `BAD_FIELD_NAME`, `SPACE_BEFORE_COLON`, `BARE_CR` or `BAD_FIELD_VALUE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFieldLine } from "./_fields.ts";
 *
 * const fields: string[] = [];
 * const line = new TextEncoder().encode("Accept:  text/html  ");
 * parseFieldLine(line, 0, line.length, 0, fields);
 * assert.deepEqual(fields, ["Accept", "text/html"]);
 * ```
 */
export function parseFieldLine(
  line: Uint8Array,
  start: number,
  end: number,
  offset: number,
  fields: string[],
  memo?: Latin1Memo,
): void {
  const first = line[start];
  if (first === SP || first === HTAB) throw new HttpError("OBS_FOLD", offset);
  const slot = fields.length;
  // A name or value that is byte for byte the one this slot held last was checked then.
  let name = memo?.recallBefore(slot, line, start, end, COLON);
  let i = start;
  if (name !== undefined) i += name.length;
  else {
    while (i < end && TOKEN_CHARS[line[i]] === 1) i++;
    if (i === end || line[i] !== COLON) {
      const at = offset + i - start;
      if (i < end && (line[i] === SP || line[i] === HTAB)) throw new HttpError("SPACE_BEFORE_COLON", at);
      throw new HttpError(i < end && line[i] === CR ? "BARE_CR" : "BAD_FIELD_NAME", at);
    }
    if (i === start) throw new HttpError("BAD_FIELD_NAME", offset);
    name = latin1(line, start, i);
    memo?.remember(slot, name);
  }
  let valueStart = i + 1;
  while (valueStart < end && (line[valueStart] === SP || line[valueStart] === HTAB)) valueStart++;
  let valueEnd = end;
  while (valueEnd > valueStart && (line[valueEnd - 1] === SP || line[valueEnd - 1] === HTAB)) valueEnd--;
  let value = memo?.recall(slot + 1, line, valueStart, valueEnd);
  if (value === undefined) {
    for (let j = valueStart; j < valueEnd; j++) {
      if (FIELD_VALUE_CHARS[line[j]] === 0) {
        throw new HttpError(line[j] === CR ? "BARE_CR" : "BAD_FIELD_VALUE", offset + j - start);
      }
    }
    value = latin1(line, valueStart, valueEnd);
    memo?.remember(slot + 1, value);
  }
  fields.push(name, value);
}

/**
 * Parses a Content-Length field value: 1*DIGIT, or a list of one repeated value (RFC 9112 §6.3).
 *
 * @param value The field value.
 * @param offset Stream offset for the error.
 * @returns The length.
 * @throws {HttpError} `BAD_CONTENT_LENGTH` or `CONFLICTING_CONTENT_LENGTH`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseContentLength } from "./_fields.ts";
 *
 * assert.equal(parseContentLength("42", 0), 42);
 * assert.equal(parseContentLength("7, 7", 0), 7);
 * assert.throws(() => parseContentLength("+5", 0));
 * ```
 */
export function parseContentLength(value: string, offset: number): number {
  // The usual value, a few digits, without the list handling below.
  if (value.length > 0 && value.length <= 15) {
    let n = 0;
    let i = 0;
    for (; i < value.length; i++) {
      const digit = value.charCodeAt(i) - 0x30;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
    }
    if (i === value.length) return n;
  }
  let length = -1;
  for (const part of value.split(",")) {
    const text = part.trim();
    if (!/^[0-9]+$/.test(text)) throw new HttpError("BAD_CONTENT_LENGTH", offset);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new HttpError("BAD_CONTENT_LENGTH", offset);
    if (length !== -1 && n !== length) throw new HttpError("CONFLICTING_CONTENT_LENGTH", offset);
    length = n;
  }
  return length;
}

/**
 * Checks a Transfer-Encoding field value of a request (RFC 9112 §6.1, §6.3): a list of codings
 * that ends in chunked, where chunked appears only last.
 *
 * @param value The field value (repeated fields joined with commas).
 * @param offset Stream offset for the error.
 * @throws {HttpError} `BAD_TRANSFER_ENCODING` for a list that does not end in chunked or is
 *   malformed, `UNSUPPORTED_TRANSFER_ENCODING` (501) for a well-formed coding other than chunked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTransferEncoding } from "./_fields.ts";
 *
 * checkTransferEncoding("chunked", 0);
 * assert.throws(() => checkTransferEncoding("gzip, chunked", 0), { code: "UNSUPPORTED_TRANSFER_ENCODING" });
 * assert.throws(() => checkTransferEncoding("chunked, gzip", 0), { code: "BAD_TRANSFER_ENCODING" });
 * ```
 */
export function checkTransferEncoding(value: string, offset: number): void {
  const codings = listElements(value);
  if (codings.length === 0) throw new HttpError("BAD_TRANSFER_ENCODING", offset);
  let code: HttpErrorCode | null = null;
  for (let k = 0; k < codings.length; k++) {
    const coding = codings[k].split(";")[0].trim();
    if (coding === "chunked") {
      if (k !== codings.length - 1) code = "BAD_TRANSFER_ENCODING";
    } else if (!isToken(coding)) {
      code = "BAD_TRANSFER_ENCODING";
    } else if (code === null) {
      code = "UNSUPPORTED_TRANSFER_ENCODING";
    }
  }
  const last = codings[codings.length - 1];
  if (last !== "chunked") throw new HttpError("BAD_TRANSFER_ENCODING", offset);
  if (code !== null) throw new HttpError(code, offset);
}

/**
 * What the fields of one head say about its framing, its connection and an upgrade: the summary
 * that {@link summarizeFields} fills in, reused for every head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFieldSummary } from "./_fields.ts";
 *
 * assert.equal(emptyFieldSummary().contentLength, -1);
 * ```
 */
export interface FieldSummary {
  /** How many Host fields. */
  hostCount: number;
  /** The last Host field's value. */
  host: string;
  /** The Content-Length, or -1 without one. */
  contentLength: number;
  /** The Transfer-Encoding fields joined, or `null` without one. */
  transferEncoding: string | null;
  /** Whether Connection names `close`. */
  connectionClose: boolean;
  /** Whether Connection names `keep-alive`. */
  connectionKeepAlive: boolean;
  /** Whether Connection names `upgrade`. */
  connectionUpgrade: boolean;
  /** The Upgrade fields joined, or `null` without one. */
  upgrade: string | null;
  /** Whether an HTTP/1.1 request expects 100-continue. */
  expectContinue: boolean;
}

/**
 * A summary with nothing read yet.
 * @returns A new summary.
 */
export function emptyFieldSummary(): FieldSummary {
  return {
    hostCount: 0,
    host: "",
    contentLength: -1,
    transferEncoding: null,
    connectionClose: false,
    connectionKeepAlive: false,
    connectionUpgrade: false,
    upgrade: null,
    expectContinue: false,
  };
}

/**
 * Reads the fields that decide framing, the connection's fate and an upgrade into `summary`.
 *
 * @param fields The head's fields, flat: name, value, name, value…
 * @param version The request's version (an HTTP/1.0 client's expectation is ignored).
 * @param summary The summary to fill in (reset first).
 * @param endOffset Stream offset of the head's last line, for errors.
 * @returns `summary`.
 * @throws {HttpError} For an expectation other than 100-continue, or a bad or conflicting Content-Length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFieldSummary, summarizeFields } from "./_fields.ts";
 *
 * const fields = ["Connection", "Upgrade", "Upgrade", "websocket", "Content-Length", "0"];
 * const summary = summarizeFields(fields, "HTTP/1.1", emptyFieldSummary(), 0);
 * assert.deepEqual([summary.connectionUpgrade, summary.upgrade, summary.contentLength], [true, "websocket", 0]);
 * ```
 */
export function summarizeFields(
  fields: readonly string[],
  version: string,
  summary: FieldSummary,
  endOffset: number,
): FieldSummary {
  // Reset field by field: this runs for every request head, and plain stores are the cheapest.
  summary.hostCount = 0;
  summary.host = "";
  summary.contentLength = -1;
  summary.transferEncoding = null;
  summary.connectionClose = false;
  summary.connectionKeepAlive = false;
  summary.connectionUpgrade = false;
  summary.upgrade = null;
  summary.expectContinue = false;
  for (let k = 0; k < fields.length; k += 2) {
    const name = fields[k];
    const value = fields[k + 1];
    switch (name.length) {
      case 4:
        if (isNamed(name, "host")) {
          summary.hostCount++;
          summary.host = value;
        }
        break;
      case 6:
        if (isNamed(name, "expect")) {
          // A list whose empty elements are ignored (RFC 9110 §5.6.1.2); 100-continue is the
          // only expectation defined, and an HTTP/1.0 client's is ignored (RFC 9110 §10.1.1).
          const expectations = listElements(value);
          if (expectations.some((item) => item !== "100-continue")) {
            throw new HttpError("EXPECTATION_FAILED", endOffset);
          }
          if (expectations.length > 0) summary.expectContinue = version === "HTTP/1.1";
        }
        break;
      case 7:
        if (isNamed(name, "upgrade")) {
          summary.upgrade = summary.upgrade === null ? value : `${summary.upgrade}, ${value}`;
        }
        break;
      case 10:
        if (isNamed(name, "connection")) {
          // Three scans of a short value, and no list made of it (a browser sends one each request).
          if (hasListElement(value, "close")) summary.connectionClose = true;
          if (hasListElement(value, "keep-alive")) summary.connectionKeepAlive = true;
          if (hasListElement(value, "upgrade")) summary.connectionUpgrade = true;
        }
        break;
      case 14:
        if (isNamed(name, "content-length")) {
          const length = parseContentLength(value, endOffset);
          if (summary.contentLength !== -1 && summary.contentLength !== length) {
            throw new HttpError("CONFLICTING_CONTENT_LENGTH", endOffset);
          }
          summary.contentLength = length;
        }
        break;
      case 17:
        if (isNamed(name, "transfer-encoding")) {
          const joined: string | null = summary.transferEncoding;
          summary.transferEncoding = joined === null ? value : `${joined}, ${value}`;
        }
        break;
    }
  }
  return summary;
}
