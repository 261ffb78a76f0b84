/**
 * The incremental, strict request-head parser (RFC 9112 §2–5, RFC 9110 §5 and §7.2).
 *
 * Input arrives in any split. Each line is checked as soon as its CRLF arrives, so a malformed
 * request is rejected at once, not after the rest of its head. Only CRLF ends a line: a bare LF
 * is rejected (RFC 9112 §2.2 allows accepting it, but a server that reads LF as a line end while
 * a proxy in front of it does not can be made to see a different request than the proxy saw).
 *
 * @module
 */

import {
  FIELD_VALUE_CHARS,
  hexValue,
  isNamed,
  latin1,
  Latin1Memo,
  listElements,
  TOKEN_CHARS,
} from "./bytes.ts";
import { HttpError, type HttpErrorCode } from "./errors.ts";
import type { Limits } from "./limits.ts";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const NO_LINE = new Uint8Array(0);

/**
 * The request-target forms of RFC 9112 §3.2.
 *
 * @example Read the form of an OPTIONS * target
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser, type TargetForm } from "./parser.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_LIMITS);
 * const bytes = new TextEncoder().encode("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * const form: TargetForm | undefined = parser.head?.targetForm;
 * assert.equal(form, "asterisk");
 * ```
 */
export type TargetForm = "origin" | "absolute" | "authority" | "asterisk";

/**
 * The two HTTP versions this server speaks.
 *
 * @example Parse an HTTP/1.0 request
 * ```ts
 * import assert from "node:assert/strict";
 * import { type HttpVersion, RequestHeadParser } from "./parser.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_LIMITS);
 * const bytes = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * const version: HttpVersion | undefined = parser.head?.version;
 * assert.equal(version, "HTTP/1.0");
 * assert.equal(parser.head?.keepAlive, false);
 * ```
 */
export type HttpVersion = "HTTP/1.1" | "HTTP/1.0";

/**
 * How the request body is framed (RFC 9112 §6.3).
 *
 * @example Find a chunked body
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BodyFraming, RequestHeadParser } from "./parser.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_LIMITS);
 * const bytes = new TextEncoder().encode("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * const framing: BodyFraming | undefined = parser.head?.bodyFraming;
 * assert.equal(framing, "chunked");
 * ```
 */
export type BodyFraming = "none" | "length" | "chunked";

/**
 * A parsed, validated request head.
 *
 * @example Read the fields of a parsed head
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser, type RequestHead } from "./parser.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_LIMITS);
 * const bytes = new TextEncoder().encode("GET /a?b HTTP/1.1\r\nHost: a.io\r\nAccept: text/html \r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * const head: RequestHead | null = parser.head;
 * assert(head !== null);
 * assert.deepEqual([head.method, head.target, head.targetForm], ["GET", "/a?b", "origin"]);
 * assert.equal(head.authority, "a.io");
 * assert.deepEqual(head.fields, ["Host", "a.io", "Accept", "text/html"]);
 * assert.equal(head.byteLength, bytes.length);
 * ```
 */
export interface RequestHead {
  /** The method token, case preserved (methods are case-sensitive). */
  readonly method: string;
  /** The request target exactly as sent. */
  readonly target: string;
  /** Which form the target takes. */
  readonly targetForm: TargetForm;
  /** The protocol version. */
  readonly version: HttpVersion;
  /** Header fields as a flat list: name, value, name, value… Names keep their case; values are trimmed. */
  readonly fields: readonly string[];
  /**
   * The authority the request is for: from an absolute- or authority-form target, otherwise the
   * Host field (possibly empty), or `null` for an HTTP/1.0 request without Host.
   */
  readonly authority: string | null;
  /** How the body is framed. */
  readonly bodyFraming: BodyFraming;
  /** The declared body length when `bodyFraming` is `"length"`, else 0. */
  readonly contentLength: number;
  /** Whether the client allows the connection to stay open after this exchange. */
  readonly keepAlive: boolean;
  /** Whether an HTTP/1.1 client sent `Expect: 100-continue`. */
  readonly expectContinue: boolean;
  /** Length of the head in bytes, leading empty lines and final CRLF included. */
  readonly byteLength: number;
}

/**
 * Splits input into CRLF-terminated lines across any split of the input. A line inside one input
 * array is returned in place; only a line that spans arrays is copied.
 *
 * @example Read a line split across two inputs
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "./parser.ts";
 *
 * const reader = new LineReader();
 * const a = new TextEncoder().encode("Hos");
 * const b = new TextEncoder().encode("t: a\r\nnext");
 * assert.equal(reader.read(a, 0, a.length, 0), -1);
 * assert.equal(reader.read(b, 0, b.length, a.length), 6);
 * assert.equal(new TextDecoder().decode(reader.line.subarray(reader.lineStart, reader.lineEnd)), "Host: a");
 * assert.equal(reader.lineOffset, 0);
 * ```
 */
export class LineReader {
  /** The array holding the line found by the last successful {@link LineReader.read}. */
  line: Uint8Array = NO_LINE;
  /** First byte of that line in {@link LineReader.line}. */
  lineStart = 0;
  /** End of that line's content (the index of its CR). */
  lineEnd = 0;
  /** Stream offset of that line's first byte. */
  lineOffset = 0;
  #partial: Uint8Array | null = null;
  #partialLength = 0;

  /** Bytes of an incomplete line held from earlier input. */
  get pendingBytes(): number {
    return this.#partialLength;
  }

  /**
   * Looks for the next complete line.
   *
   * @param input The array to read from.
   * @param start First unread byte in `input`.
   * @param end One past the last byte in `input`.
   * @param offset Stream offset of `input[start]`, for error positions.
   * @returns The index just past the line's LF, or -1 when every byte was taken into an incomplete line.
   * @throws {HttpError} `BARE_LF` when an LF is not preceded by CR.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineReader } from "./parser.ts";
   *
   * const reader = new LineReader();
   * const bytes = new TextEncoder().encode("Host: a\r\nrest");
   * assert.equal(reader.read(bytes, 0, bytes.length, 0), 9);
   * assert.equal(reader.lineEnd - reader.lineStart, 7);
   * ```
   */
  read(input: Uint8Array, start: number, end: number, offset: number): number {
    const lf = input.indexOf(LF, start);
    if (lf === -1 || lf >= end) {
      this.#append(input, start, end);
      return -1;
    }
    if (this.#partialLength === 0) {
      if (lf === start || input[lf - 1] !== CR) throw new HttpError("BARE_LF", offset + lf - start);
      this.line = input;
      this.lineStart = start;
      this.lineEnd = lf - 1;
      this.lineOffset = offset;
      return lf + 1;
    }
    const held = this.#partialLength;
    this.#append(input, start, lf + 1);
    const line = this.#partial as Uint8Array;
    const total = this.#partialLength;
    if (line[total - 2] !== CR) throw new HttpError("BARE_LF", offset + lf - start);
    this.line = line;
    this.lineStart = 0;
    this.lineEnd = total - 2;
    this.lineOffset = offset - held;
    this.#partial = null;
    this.#partialLength = 0;
    return lf + 1;
  }

  /** Forgets any incomplete line, and the input the last line was found in. */
  reset(): void {
    this.line = NO_LINE; // not the last input: a reader kept for later holds no received bytes
    this.#partial = null;
    this.#partialLength = 0;
  }

  #append(input: Uint8Array, start: number, end: number): void {
    const needed = this.#partialLength + (end - start);
    if (this.#partial === null || this.#partial.length < needed) {
      const grown = new Uint8Array(Math.max(needed, 256, (this.#partial?.length ?? 0) * 2));
      if (this.#partial !== null) grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(input.subarray(start, end), this.#partialLength);
    this.#partialLength = needed;
  }
}

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
 * import { parseFieldLine } from "./parser.ts";
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
 * Incremental parser for one request head at a time. Feed it bytes with {@link RequestHeadParser.push}
 * until it returns a head; then {@link RequestHeadParser.reset} it for the next one.
 *
 * @example Parse a head split in two
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser } from "./parser.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_LIMITS);
 * const a = new TextEncoder().encode("GET /hi HTTP/1.1\r\nHo");
 * const b = new TextEncoder().encode("st: example.com\r\n\r\nnext");
 * assert.equal(parser.push(a, 0, a.length, 0), -1);
 * assert.equal(parser.push(b, 0, b.length, a.length), b.length - 4);
 * assert.equal(parser.head?.target, "/hi");
 * assert.equal(parser.head?.authority, "example.com");
 * ```
 */
export class RequestHeadParser {
  /** The head completed by the last {@link RequestHeadParser.push} that returned an index, else `null`. */
  head: RequestHead | null = null;
  readonly #limits: Limits;
  readonly #lines = new LineReader();
  readonly #lineMemo = new Latin1Memo();
  readonly #fieldMemo = new Latin1Memo();
  #lastValidHost = "";
  #headBytes = 0;
  #method = "";
  #target = "";
  #targetForm: TargetForm = "origin";
  #version: HttpVersion = "HTTP/1.1";
  #fields: string[] = [];
  #sawRequestLine = false;

  /**
   * Creates a parser for request heads.
   * @param limits The size limits to enforce.
   */
  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** The method of the head being parsed, once its request line has been read; else `null`. */
  get method(): string | null {
    return this.#sawRequestLine ? this.#method : null;
  }

  /** Whether any byte of the current head has arrived. */
  get started(): boolean {
    // Empty lines before the request line are ignored (RFC 9112 §2.2), so they start nothing.
    return this.#sawRequestLine || this.#lines.pendingBytes > 0;
  }

  /**
   * Feeds bytes.
   *
   * @param input The array to read from.
   * @param start First unread byte.
   * @param end One past the last byte.
   * @param offset Stream offset of `input[start]`, for error positions.
   * @returns The index just past the head once it is complete (the head is then in
   *   {@link RequestHeadParser.head}), or -1 when all bytes were taken and more are needed.
   * @throws {HttpError} On any violation, or when a limit is exceeded.
   */
  push(input: Uint8Array, start: number, end: number, offset: number): number {
    let at = start;
    while (at < end) {
      const lineOffset = offset + at - start - this.#lines.pendingBytes;
      let next: number;
      try {
        next = this.#lines.read(input, at, end, offset + at - start);
      } catch (error) {
        // A line already too long when its bare LF arrives is refused as too long, as it is when
        // the input is split just before that LF.
        if (error instanceof HttpError) this.#checkLineSize(lineOffset, error.offset - lineOffset);
        throw error;
      }
      if (next === -1) {
        this.#checkLineSize(lineOffset, this.#lines.pendingBytes);
        return -1;
      }
      const lines = this.#lines;
      const lineLength = lines.lineEnd - lines.lineStart;
      at = next;
      if (!this.#sawRequestLine) {
        this.#countBytes(lineLength + 2, lines.lineOffset);
        // RFC 9112 §2.2: empty lines received before the request line are ignored.
        if (lineLength === 0) continue;
        // The same bound as for an incomplete line (its CR counted), so that every split agrees.
        if (lineLength + 1 > this.#maxRequestLine) throw new HttpError("URI_TOO_LONG", lines.lineOffset);
        this.#parseRequestLine(lines.line, lines.lineStart, lines.lineEnd, lines.lineOffset);
        this.#sawRequestLine = true;
        continue;
      }
      this.#countBytes(lineLength + 2, lines.lineOffset);
      if (lineLength === 0) {
        this.head = this.#finish(lines.lineOffset);
        return at;
      }
      if (this.#fields.length >= this.#limits.maxHeaderCount * 2) {
        throw new HttpError("TOO_MANY_HEADERS", lines.lineOffset);
      }
      parseFieldLine(
        lines.line,
        lines.lineStart,
        lines.lineEnd,
        lines.lineOffset,
        this.#fields,
        this.#fieldMemo,
      );
    }
    return -1;
  }

  /** Prepares for the next head. */
  reset(): void {
    this.head = null;
    this.#lines.reset();
    this.#headBytes = 0;
    this.#fields = [];
    this.#sawRequestLine = false;
  }

  #countBytes(length: number, lineOffset: number): void {
    this.#headBytes += length;
    if (this.#headBytes > this.#limits.maxHeaderBytes) {
      throw new HttpError(this.#sawRequestLine ? "HEADERS_TOO_LARGE" : "URI_TOO_LONG", lineOffset);
    }
  }

  /**
   * The longest request line, its CR included: method SP target SP version, that is the target
   * limit plus some room.
   */
  get #maxRequestLine(): number {
    return this.#limits.maxTargetLength + 64;
  }

  /**
   * Rejects an incomplete line as soon as it cannot fit any more. The error names the start of
   * that line, as it would if the line were complete, so that its offset does not depend on how
   * the input was split.
   *
   * @param lineOffset Stream offset of the line's first byte.
   * @param pending Bytes of the line received so far (no LF among them).
   */
  #checkLineSize(lineOffset: number, pending: number): void {
    if (!this.#sawRequestLine && pending > this.#maxRequestLine) {
      throw new HttpError("URI_TOO_LONG", lineOffset);
    }
    if (this.#headBytes + pending > this.#limits.maxHeaderBytes) {
      throw new HttpError(this.#sawRequestLine ? "HEADERS_TOO_LARGE" : "URI_TOO_LONG", lineOffset);
    }
  }

  #parseRequestLine(line: Uint8Array, start: number, end: number, offset: number): void {
    let i = start;
    while (i < end && TOKEN_CHARS[line[i]] === 1) i++;
    if (i === end || line[i] !== SP) {
      throw new HttpError(i === start || i < end ? "BAD_METHOD" : "BAD_REQUEST_LINE", offset + i - start);
    }
    if (i === start) throw new HttpError("BAD_METHOD", offset);
    const method = this.#lineMemo.decode(0, line, start, i);
    const targetStart = i + 1;
    let j = targetStart;
    while (j < end && line[j] > 0x20 && line[j] < 0x7f) j++;
    if (j === targetStart) throw new HttpError("BAD_REQUEST_LINE", offset + j - start);
    if (j - targetStart > this.#limits.maxTargetLength) {
      throw new HttpError("URI_TOO_LONG", offset + j - start);
    }
    if (j === end) throw new HttpError("BAD_REQUEST_LINE", offset + j - start);
    if (line[j] !== SP) throw new HttpError(line[j] === CR ? "BARE_CR" : "BAD_TARGET", offset + j - start);
    const target = this.#lineMemo.decode(1, line, targetStart, j);
    this.#version = parseVersion(line, j + 1, end, offset + j + 1 - start);
    this.#targetForm = classifyTarget(method, target, offset + targetStart - start);
    this.#method = method;
    this.#target = target;
  }

  #finish(endOffset: number): RequestHead {
    const fields = this.#fields;
    const version = this.#version;
    let hostCount = 0;
    let host = "";
    let contentLength = -1;
    let transferEncoding: string | null = null;
    let connectionClose = false;
    let connectionKeepAlive = false;
    let expectContinue = false;
    for (let k = 0; k < fields.length; k += 2) {
      const name = fields[k];
      switch (name.length) {
        case 4:
          if (isNamed(name, "host")) {
            hostCount++;
            host = fields[k + 1];
          }
          break;
        case 6:
          if (isNamed(name, "expect")) {
            // A list whose empty elements are ignored (RFC 9110 §5.6.1.2); 100-continue is the
            // only expectation defined, and an HTTP/1.0 client's is ignored (RFC 9110 §10.1.1).
            const expectations = listElements(fields[k + 1]);
            if (expectations.some((item) => item !== "100-continue")) {
              throw new HttpError("EXPECTATION_FAILED", endOffset);
            }
            if (expectations.length > 0) expectContinue = version === "HTTP/1.1";
          }
          break;
        case 10:
          if (isNamed(name, "connection")) {
            for (const token of listElements(fields[k + 1])) {
              if (token === "close") connectionClose = true;
              else if (token === "keep-alive") connectionKeepAlive = true;
            }
          }
          break;
        case 14:
          if (isNamed(name, "content-length")) {
            const length = parseContentLength(fields[k + 1], endOffset);
            if (contentLength !== -1 && contentLength !== length) {
              throw new HttpError("CONFLICTING_CONTENT_LENGTH", endOffset);
            }
            contentLength = length;
          }
          break;
        case 17:
          if (isNamed(name, "transfer-encoding")) {
            const value = fields[k + 1];
            transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
          }
          break;
      }
    }
    if (hostCount > 1) throw new HttpError("DUPLICATE_HOST", endOffset);
    if (hostCount === 0 && version === "HTTP/1.1") throw new HttpError("MISSING_HOST", endOffset);
    if (hostCount === 1 && host !== this.#lastValidHost) {
      // The same Host string as the last head this parser read (see Latin1Memo) was valid then.
      if (!isValidHost(host, false)) throw new HttpError("BAD_HOST", endOffset);
      this.#lastValidHost = host;
    }

    let bodyFraming: BodyFraming = "none";
    if (transferEncoding !== null) {
      if (version === "HTTP/1.0") throw new HttpError("TRANSFER_ENCODING_HTTP10", endOffset);
      if (contentLength !== -1) throw new HttpError("CL_TE_CONFLICT", endOffset);
      checkTransferEncoding(transferEncoding, endOffset);
      bodyFraming = "chunked";
    } else if (contentLength > 0) {
      if (contentLength > this.#limits.maxBodyBytes) throw new HttpError("BODY_TOO_LARGE", endOffset);
      bodyFraming = "length";
    }

    let authority: string | null = hostCount === 1 ? host : null;
    const targetForm = this.#targetForm;
    if (targetForm === "absolute") authority = absoluteAuthority(this.#target);
    else if (targetForm === "authority") authority = this.#target;

    const keepAlive = version === "HTTP/1.1" ? !connectionClose : connectionKeepAlive && !connectionClose;
    return {
      method: this.#method,
      target: this.#target,
      targetForm,
      version,
      fields,
      authority,
      bodyFraming,
      contentLength: bodyFraming === "length" ? contentLength : 0,
      keepAlive,
      expectContinue,
      byteLength: this.#headBytes,
    };
  }
}

function parseVersion(line: Uint8Array, start: number, end: number, offset: number): HttpVersion {
  // "HTTP/" DIGIT "." DIGIT, exactly.
  const ok = end - start === 8 && line[start] === 0x48 && line[start + 1] === 0x54 &&
    line[start + 2] === 0x54 && line[start + 3] === 0x50 && line[start + 4] === 0x2f &&
    isDigit(line[start + 5]) && line[start + 6] === 0x2e && isDigit(line[start + 7]);
  if (!ok) {
    for (let i = start; i < end; i++) if (line[i] === CR) throw new HttpError("BARE_CR", offset + i - start);
    throw new HttpError(line[start] === SP ? "BAD_REQUEST_LINE" : "BAD_VERSION", offset);
  }
  // Only HTTP/1.0 and HTTP/1.1 are spoken. RFC 9110 §2.5 would let a server read HTTP/1.2 as 1.1,
  // but no such version exists, and guessing at an unknown version's framing is what smuggling
  // feeds on: any other well-formed version gets 505.
  if (line[start + 5] === 0x31 && line[start + 7] === 0x31) return "HTTP/1.1";
  if (line[start + 5] === 0x31 && line[start + 7] === 0x30) return "HTTP/1.0";
  throw new HttpError("VERSION_NOT_SUPPORTED", offset);
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function classifyTarget(method: string, target: string, offset: number): TargetForm {
  const first = target.charCodeAt(0);
  let form: TargetForm;
  if (method === "CONNECT") {
    if (!isValidHost(target, true)) throw new HttpError("TARGET_FORM_MISMATCH", offset);
    return "authority";
  }
  if (first === 0x2f /* / */) form = "origin";
  else if (target === "*") form = "asterisk";
  else if (absoluteAuthority(target) !== null) {
    // h1serve speaks plain TCP only: an https target did not arrive over a connection secured for
    // its origin, so it is refused (RFC 9110 §7.4).
    if (/^https:/i.test(target)) throw new HttpError("MISDIRECTED_REQUEST", offset);
    form = "absolute";
  } else if (isValidHost(target, true)) throw new HttpError("TARGET_FORM_MISMATCH", offset);
  else throw new HttpError("BAD_TARGET", offset);
  if (form === "asterisk" && method !== "OPTIONS") throw new HttpError("TARGET_FORM_MISMATCH", offset);
  if (target.includes("#")) throw new HttpError("BAD_TARGET", offset + target.indexOf("#"));
  return form;
}

/** The authority of an absolute-form `http:` or `https:` target, or `null` if it is not one. */
function absoluteAuthority(target: string): string | null {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  if (match === null) return null;
  const scheme = target.slice(0, target.indexOf(":")).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return null;
  const authority = match[1];
  // userinfo ("user@host") is an error (RFC 9110 §4.2.4), and so is an empty host (§4.2.1).
  if (authority.length === 0 || authority.charCodeAt(0) === COLON || !isValidHost(authority, false)) {
    return null;
  }
  return authority;
}

const HOST_CHARS: Uint8Array = (() => {
  // unreserved / pct-encoded / sub-delims of RFC 3986 §3.2.2.
  const table = new Uint8Array(128);
  for (const c of "-._~%!$&'()*+,;=") table[c.charCodeAt(0)] = 1;
  for (let b = 0x30; b <= 0x39; b++) table[b] = 1;
  for (let b = 0x41; b <= 0x5a; b++) table[b] = 1;
  for (let b = 0x61; b <= 0x7a; b++) table[b] = 1;
  return table;
})();

/**
 * Whether a string is `uri-host [ ":" port ]` (RFC 3986 §3.2.2, RFC 9110 §7.2).
 *
 * @param value The Host field value or authority.
 * @param requirePort Whether the port must be present (authority-form, RFC 9112 §3.2.3).
 * @returns `true` if valid. An empty value is valid unless a port is required.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidHost } from "./parser.ts";
 *
 * assert.equal(isValidHost("example.com:8080", false), true);
 * assert.equal(isValidHost("[::1]:443", true), true);
 * assert.equal(isValidHost("a b", false), false);
 * ```
 */
export function isValidHost(value: string, requirePort: boolean): boolean {
  let i = 0;
  const n = value.length;
  if (n === 0) return !requirePort;
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    // An IPv6 literal: hex digits, colons (at least two) and dots. IPvFuture is not accepted.
    const close = value.indexOf("]");
    if (close < 3) return false;
    let colons = 0;
    for (let k = 1; k < close; k++) {
      const c = value.charCodeAt(k);
      if (c === 0x3a) colons++;
      else if (hexValue(c) === -1 && c !== 0x2e) return false;
    }
    if (colons < 2) return false;
    i = close + 1;
  } else {
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c >= 128 || HOST_CHARS[c] === 0) break;
      // pct-encoded = "%" HEXDIG HEXDIG
      if (
        c === 0x25 && (hexValue(value.charCodeAt(i + 1)) === -1 || hexValue(value.charCodeAt(i + 2)) === -1)
      ) {
        return false;
      }
      i++;
    }
    // A port needs a host before it (RFC 9110 §4.2.1: an empty host is invalid).
    if (i === 0) return false;
  }
  if (i === n) return !requirePort;
  if (value.charCodeAt(i) !== COLON) return false;
  const port = value.slice(i + 1);
  if (port.length === 0) return !requirePort;
  return /^[0-9]{1,5}$/.test(port) && Number(port) <= 65535;
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
 * import { parseContentLength } from "./parser.ts";
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

function checkTransferEncoding(value: string, offset: number): void {
  const codings = listElements(value);
  if (codings.length === 0) throw new HttpError("BAD_TRANSFER_ENCODING", offset);
  let code: HttpErrorCode | null = null;
  for (let k = 0; k < codings.length; k++) {
    const coding = codings[k].split(";")[0].trim();
    if (coding === "chunked") {
      if (k !== codings.length - 1) code = "BAD_TRANSFER_ENCODING";
    } else if (coding === "" || !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(coding)) {
      code = "BAD_TRANSFER_ENCODING";
    } else if (code === null) {
      code = "UNSUPPORTED_TRANSFER_ENCODING";
    }
  }
  const last = codings[codings.length - 1];
  if (last !== "chunked") throw new HttpError("BAD_TRANSFER_ENCODING", offset);
  if (code !== null) throw new HttpError(code, offset);
}
