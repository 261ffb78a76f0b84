/**
 * Header field lines and the values that frame a request body: one field line (RFC 9112 §5),
 * Content-Length (§6.3) and Transfer-Encoding (§6.1). Shared by the request-head parser and the
 * trailer section of a chunked body. Private to h1serve (not exported by `core/mod.ts`).
 *
 * @module
 */

import { FIELD_VALUE_CHARS, isToken, latin1, type Latin1Memo, listElements, TOKEN_CHARS } from "./_bytes.ts";
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
  let i = start;
  while (i < end && TOKEN_CHARS[line[i]] === 1) i++;
  if (i === end || line[i] !== COLON) {
    const at = offset + i - start;
    if (i < end && (line[i] === SP || line[i] === HTAB)) throw new HttpError("SPACE_BEFORE_COLON", at);
    throw new HttpError(i < end && line[i] === CR ? "BARE_CR" : "BAD_FIELD_NAME", at);
  }
  if (i === start) throw new HttpError("BAD_FIELD_NAME", offset);
  const slot = fields.length;
  const name = memo === undefined ? latin1(line, start, i) : memo.decode(slot, line, start, i);
  let valueStart = i + 1;
  while (valueStart < end && (line[valueStart] === SP || line[valueStart] === HTAB)) valueStart++;
  let valueEnd = end;
  while (valueEnd > valueStart && (line[valueEnd - 1] === SP || line[valueEnd - 1] === HTAB)) valueEnd--;
  for (let j = valueStart; j < valueEnd; j++) {
    if (FIELD_VALUE_CHARS[line[j]] === 0) {
      throw new HttpError(line[j] === CR ? "BARE_CR" : "BAD_FIELD_VALUE", offset + j - start);
    }
  }
  const value = memo === undefined
    ? latin1(line, valueStart, valueEnd)
    : memo.decode(slot + 1, line, valueStart, valueEnd);
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
