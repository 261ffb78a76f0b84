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

import { Latin1Memo, TOKEN_CHARS } from "./_bytes.ts";
import {
  checkTransferEncoding,
  emptyFieldSummary,
  type FieldSummary,
  parseFieldLine,
  summarizeFields,
} from "./_fields.ts";
import { LineReader } from "./_lines.ts";
import { absoluteAuthority, classifyTarget, isValidHost, parseVersion } from "./_request_line.ts";
import { HttpError } from "./errors.ts";
import type { ProtocolLimits } from "./limits.ts";

const CR = 0x0d;
const SP = 0x20;
/** The longest field section remembered for the next head (see RequestHeadParser's #recallFields). */
const FIELD_SECTION_MEMO_LIMIT = 4096;

/**
 * The request-target forms of RFC 9112 §3.2.
 *
 * @example Read the form of an OPTIONS * target
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser, type TargetForm } from "./parser.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
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
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
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
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
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
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
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
  /**
   * The protocols an HTTP/1.1 request asks to switch to (its Upgrade field, when Connection lists
   * `upgrade`: RFC 9110 §7.8), or `null`. An HTTP/1.0 request's Upgrade is ignored, and CONNECT
   * never upgrades.
   */
  readonly upgrade: string | null;
  /** Length of the head in bytes, leading empty lines and final CRLF included. */
  readonly byteLength: number;
}

/**
 * Incremental parser for one request head at a time. Feed it bytes with {@link RequestHeadParser.push}
 * until it returns a head; then {@link RequestHeadParser.reset} it for the next one.
 *
 * @example Parse a head split in two
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser } from "./parser.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
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
  readonly #limits: ProtocolLimits;
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
   * Token bytes at the start of the request line so far (its method, while it lasts), or -1 once
   * the method has ended or cannot outgrow its limit before the line does.
   */
  #methodBytes = 0;
  readonly #summary: FieldSummary = emptyFieldSummary();
  /** Where the current head's field section starts in the input, when it started in this push; else -1. */
  #fieldsStart = -1;
  /** Bytes of the current head up to and with its request line. */
  #requestLineBytes = 0;
  /** The field section of the last head remembered (see #recallFields), and its fields. */
  #lastFieldBytes: Uint8Array | null = null;
  #lastFields: string[] | null = null;

  /**
   * Creates a parser for request heads.
   * @param limits The size limits to enforce.
   */
  constructor(limits: ProtocolLimits) {
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
      if (!this.#sawRequestLine && this.#methodBytes !== -1) this.#scanMethod(input, at, end, lineOffset);
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
        this.#fieldsStart = -1; // the section goes on in another input
        return -1;
      }
      const lines = this.#lines;
      const lineLength = lines.lineEnd - lines.lineStart;
      at = next;
      if (!this.#sawRequestLine) {
        this.#countBytes(lineLength + 2, lines.lineOffset);
        // RFC 9112 §2.2: empty lines received before the request line are ignored.
        if (lineLength === 0) {
          this.#methodBytes = 0;
          continue;
        }
        // The same bound as for an incomplete line (its CR counted), so that every split agrees.
        if (lineLength + 1 > this.#maxRequestLine) throw new HttpError("URI_TOO_LONG", lines.lineOffset);
        this.#parseRequestLine(lines.line, lines.lineStart, lines.lineEnd, lines.lineOffset);
        this.#sawRequestLine = true;
        this.#requestLineBytes = this.#headBytes;
        this.#fieldsStart = lines.pendingBytes === 0 ? at : -1;
        const recalled = this.#fieldsStart === -1 ? -1 : this.#recallFields(input, at, end);
        if (recalled !== -1) {
          this.head = this.#finish(offset + recalled - 2 - start);
          return recalled;
        }
        continue;
      }
      this.#countBytes(lineLength + 2, lines.lineOffset);
      if (lineLength === 0) {
        this.head = this.#finish(lines.lineOffset);
        this.#rememberFields(input, at);
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
    this.#fieldsStart = -1;
    return -1;
  }

  /**
   * Takes the field section at `input[at..]` as the last head's when its bytes are the same, up to
   * and with the empty line: those bytes were parsed and checked then, under the same limits, so
   * the fields are the same (a browser sends the same section on every request of a connection).
   * @returns The index after the section, or -1 when it is not the last one (or not all here).
   */
  #recallFields(input: Uint8Array, at: number, end: number): number {
    const block = this.#lastFieldBytes;
    if (block === null || end - at < block.length) return -1;
    if (this.#headBytes + block.length > this.#limits.maxHeaderBytes) return -1;
    for (let i = 0; i < block.length; i++) if (input[at + i] !== block[i]) return -1;
    this.#headBytes += block.length;
    this.#fields = this.#lastFields!.slice();
    return at + block.length;
  }

  /**
   * Remembers the field section of the head that ended at `input[end]`, when all of it was read
   * from this input and every line ended with CRLF (so that its bytes are what the head counted).
   */
  #rememberFields(input: Uint8Array, end: number): void {
    const start = this.#fieldsStart;
    if (start === -1 || end - start > FIELD_SECTION_MEMO_LIMIT) return;
    const fieldBytes = this.#headBytes - this.#requestLineBytes;
    if (fieldBytes !== end - start) return;
    this.#lastFieldBytes = input.slice(start, end);
    this.#lastFields = this.#fields.slice();
  }

  /** Prepares for the next head. */
  reset(): void {
    this.head = null;
    this.#lines.reset();
    this.#headBytes = 0;
    this.#fields = [];
    this.#sawRequestLine = false;
    this.#methodBytes = 0;
  }

  /**
   * Follows the method at the start of the request line as its bytes arrive, and refuses it as
   * soon as it is longer than any this server takes: 501 (RFC 9112 §3), whatever the line's
   * length. The check applies only where the size limits would let the line reach that length;
   * otherwise they answer first, as they would at that byte in every split of the input.
   *
   * @param input The array being read.
   * @param at The next unread byte of the line.
   * @param end One past the last byte.
   * @param lineOffset Stream offset of the line's first byte, for the error.
   */
  #scanMethod(input: Uint8Array, at: number, end: number, lineOffset: number): void {
    const max = this.#limits.maxMethodLength;
    if (max + 1 > Math.min(this.#maxRequestLine, this.#limits.maxHeaderBytes - this.#headBytes)) {
      this.#methodBytes = -1;
      return;
    }
    let seen = this.#methodBytes;
    let i = at;
    while (i < end && seen <= max && TOKEN_CHARS[input[i]] === 1) {
      i++;
      seen++;
    }
    if (seen > max) throw new HttpError("METHOD_TOO_LONG", lineOffset);
    this.#methodBytes = i < end ? -1 : seen; // a byte that is not a token byte ends the method
  }

  #countBytes(length: number, lineOffset: number): void {
    this.#headBytes += length;
    if (this.#headBytes > this.#limits.maxHeaderBytes) {
      throw new HttpError(this.#sawRequestLine ? "HEADERS_TOO_LARGE" : "URI_TOO_LONG", lineOffset);
    }
  }

  /**
   * The longest request line, its CR included: method SP target SP version, that is the target
   * and method limits plus room for the spaces and the version.
   */
  get #maxRequestLine(): number {
    return this.#limits.maxTargetLength + this.#limits.maxMethodLength + 32;
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
    const version = this.#version;
    const targetForm = this.#targetForm;
    const summary = summarizeFields(this.#fields, this.#version, this.#summary, endOffset);
    const { hostCount, host, contentLength, transferEncoding } = summary;
    if (hostCount > 1) throw new HttpError("DUPLICATE_HOST", endOffset);
    if (hostCount === 0 && version === "HTTP/1.1") throw new HttpError("MISSING_HOST", endOffset);
    if (hostCount === 1) {
      // The target URI of an origin- or asterisk-form request takes its host from Host, and an
      // http URI with an empty host is invalid (RFC 9110 §4.2.1): an empty Host is a 400 there
      // (RFC 9112 §3.2). Absolute and authority forms name their own host.
      if (host === "" && (targetForm === "origin" || targetForm === "asterisk")) {
        throw new HttpError("BAD_HOST", endOffset);
      }
      // The same Host string as the last head this parser read (see Latin1Memo) was valid then.
      if (host !== this.#lastValidHost) {
        if (!isValidHost(host, false)) throw new HttpError("BAD_HOST", endOffset);
        this.#lastValidHost = host;
      }
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
    let keepAlive = version === "HTTP/1.1"
      ? !summary.connectionClose
      : summary.connectionKeepAlive && !summary.connectionClose;
    if (this.#method === "CONNECT") {
      // A CONNECT request has no content (RFC 9110 §9.3.6): whatever follows its head is tunnel
      // data to every proxy, never a body and never another request. So the head frames no body,
      // and the connection ends with the answer.
      bodyFraming = "none";
      keepAlive = false;
    }

    let authority: string | null = hostCount === 1 ? host : null;
    if (targetForm === "absolute") authority = absoluteAuthority(this.#target);
    else if (targetForm === "authority") authority = this.#target;
    return {
      method: this.#method,
      target: this.#target,
      targetForm,
      version,
      fields: this.#fields,
      authority,
      bodyFraming,
      contentLength: bodyFraming === "length" ? contentLength : 0,
      keepAlive,
      expectContinue: summary.expectContinue,
      upgrade: version === "HTTP/1.1" && summary.connectionUpgrade && this.#method !== "CONNECT"
        ? summary.upgrade
        : null,
      byteLength: this.#headBytes,
    };
  }
}
