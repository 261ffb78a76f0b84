/**
 * Response serialization: the status line with its reason phrase, validated header fields, the
 * Date field cached per second, chunk framing, and the ready-made answers to protocol errors.
 *
 * @module
 */

import { isFieldValue, isToken, writeLatin1 } from "./_bytes.ts";
import { type HttpError, LocalProtocolError } from "./errors.ts";

/**
 * Reason phrases of RFC 9110 §15 (and RFC 6585), by status.
 *
 * @example Look up a reason phrase
 * ```ts
 * import assert from "node:assert/strict";
 * import { REASON_PHRASES } from "./serializer.ts";
 *
 * assert.equal(REASON_PHRASES[404], "Not Found");
 * assert.equal(REASON_PHRASES[431], "Request Header Fields Too Large");
 * assert.equal(REASON_PHRASES[299], undefined);
 * ```
 */
export const REASON_PHRASES: Readonly<Record<number, string>> = Object.freeze({
  100: "Continue",
  101: "Switching Protocols",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  511: "Network Authentication Required",
});

/**
 * The reason phrase to send for a status: the handler's own text when it is valid, else the
 * standard phrase, else an empty phrase (which RFC 9112 §4 allows).
 *
 * @param status The status code.
 * @param statusText The handler's reason phrase, if any.
 * @returns The phrase to send.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reasonPhrase } from "./serializer.ts";
 *
 * assert.equal(reasonPhrase(404), "Not Found");
 * assert.equal(reasonPhrase(200, "Fine"), "Fine");
 * assert.equal(reasonPhrase(200, "bad\r\nphrase"), "OK");
 * ```
 */
export function reasonPhrase(status: number, statusText?: string): string {
  if (statusText && isFieldValue(statusText)) return statusText;
  return REASON_PHRASES[status] ?? "";
}

/**
 * Formats the Date field value (RFC 9110 §6.6.1), once per second.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DateCache } from "./serializer.ts";
 *
 * const dates = new DateCache();
 * assert.equal(dates.format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
 * assert.equal(dates.format(999), "Thu, 01 Jan 1970 00:00:00 GMT");
 * assert.equal(dates.format(1000), "Thu, 01 Jan 1970 00:00:01 GMT");
 * ```
 */
export class DateCache {
  #second = Number.NaN;
  #text = "";

  /**
   * Formats the Date field value for a time, reusing the text within the same second.
   * @param now Milliseconds since the epoch.
   * @returns The IMF-fixdate for that second.
   */
  format(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#text = new Date(second * 1000).toUTCString();
    }
    return this.#text;
  }
}

/**
 * Checks one response header field and formats it as a field line.
 *
 * @param name The field name.
 * @param value The field value.
 * @returns `name: value\r\n`.
 * @throws {LocalProtocolError} `INVALID_FIELD`, if the name is not a token or the value holds CR,
 *   LF, NUL or another control byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldLine } from "./serializer.ts";
 *
 * assert.equal(fieldLine("content-type", "text/plain"), "content-type: text/plain\r\n");
 * assert.throws(() => fieldLine("x", "a\r\nInjected: 1"));
 * ```
 */
export function fieldLine(name: string, value: string): string {
  if (!isToken(name)) throw new LocalProtocolError("INVALID_FIELD", "invalid response header field name");
  if (!isFieldValue(value)) {
    throw new LocalProtocolError("INVALID_FIELD", `invalid value for response header field ${name}`);
  }
  return `${name}: ${value}\r\n`;
}

/**
 * Turns a head string whose characters are all below U+0100 into bytes.
 *
 * @param head The status line and field lines, ending in an empty line.
 * @returns Its Latin-1 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeHead } from "./serializer.ts";
 *
 * assert.equal(encodeHead("HTTP/1.1 200 OK\r\n\r\n").byteLength, 19);
 * ```
 */
export function encodeHead(head: string): Uint8Array {
  const bytes = new Uint8Array(head.length);
  writeLatin1(head, bytes, 0);
  return bytes;
}

/**
 * Encodes response heads, remembering the most recent ones: a server sends the same few heads
 * over and over within a second (the Date field changes once a second), and looking one up
 * costs less than encoding it. At most `capacity` heads are kept; when full, it starts over.
 *
 * @example The second encoding of a head is the same bytes, from the cache
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeadCache } from "./serializer.ts";
 *
 * const heads = new HeadCache();
 * const first = heads.encode("HTTP/1.1 204 No Content\r\n\r\n");
 * assert.equal(heads.encode("HTTP/1.1 204 No Content\r\n\r\n"), first);
 * assert.equal(first.byteLength, 27);
 * ```
 */
export class HeadCache {
  readonly #heads = new Map<string, Uint8Array>();
  readonly #capacity: number;

  /**
   * Creates an empty cache.
   * @param capacity How many heads to keep.
   */
  constructor(capacity = 64) {
    this.#capacity = capacity;
  }

  /**
   * The bytes of a head; the returned array is shared, and must not be changed.
   * @param head The status line and field lines, characters below U+0100 only.
   * @returns Its Latin-1 bytes.
   */
  encode(head: string): Uint8Array {
    let bytes = this.#heads.get(head);
    if (bytes === undefined) {
      bytes = encodeHead(head);
      if (this.#heads.size >= this.#capacity) this.#heads.clear();
      this.#heads.set(head, bytes);
    }
    return bytes;
  }
}

const CRLF = new Uint8Array([0x0d, 0x0a]);

/**
 * The last chunk and empty trailer section of a chunked body.
 *
 * @example End a chunked body without trailers
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeLastChunk, LAST_CHUNK } from "./serializer.ts";
 *
 * assert.equal(new TextDecoder().decode(LAST_CHUNK), "0\r\n\r\n");
 * assert.equal(encodeLastChunk(), LAST_CHUNK);
 * ```
 */
export const LAST_CHUNK: Uint8Array = new Uint8Array([0x30, 0x0d, 0x0a, 0x0d, 0x0a]);

/**
 * Frames body bytes as one chunk (RFC 9112 §7.1).
 *
 * @param data The chunk data; must not be empty (an empty chunk would end the body).
 * @returns `hex-size CRLF data CRLF`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeChunk } from "./serializer.ts";
 *
 * const chunk = encodeChunk(new TextEncoder().encode("hello world!"));
 * assert.equal(new TextDecoder().decode(chunk), "c\r\nhello world!\r\n");
 * ```
 */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const size = data.byteLength.toString(16);
  const out = new Uint8Array(size.length + 2 + data.byteLength + 2);
  writeLatin1(size, out, 0);
  out.set(CRLF, size.length);
  out.set(data, size.length + 2);
  out.set(CRLF, size.length + 2 + data.byteLength);
  return out;
}

/**
 * Frames the end of a chunked body with trailer fields.
 *
 * @param trailers Trailer fields as `[name, value]` pairs; each is validated like a header field.
 * @returns `0 CRLF *(field-line CRLF) CRLF`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeLastChunk } from "./serializer.ts";
 *
 * assert.equal(new TextDecoder().decode(encodeLastChunk([["x-sum", "1"]])), "0\r\nx-sum: 1\r\n\r\n");
 * ```
 */
export function encodeLastChunk(trailers: Iterable<readonly [string, string]> = []): Uint8Array {
  let text = "0\r\n";
  for (const [name, value] of trailers) text += fieldLine(name, value);
  return text === "0\r\n" ? LAST_CHUNK : encodeHead(`${text}\r\n`);
}

/**
 * A whole response that ends its connection: a status line, a one-line plain-text body and
 * `Connection: close`. What the server sends when it cannot go on: a protocol error, a timeout,
 * or a response that could not be made.
 *
 * @param status The status code.
 * @param text The body: one line that names the problem, never the request's bytes.
 * @param date The Date field value.
 * @param withBody `false` for a response to HEAD: the same head, no content (RFC 9110 §9.3.2).
 * @returns The response bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closingResponseBytes } from "./serializer.ts";
 *
 * const date = "Thu, 01 Jan 1970 00:00:00 GMT";
 * const text = new TextDecoder().decode(closingResponseBytes(500, "Internal Server Error\n", date));
 * assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
 * assert.ok(text.endsWith("\r\nconnection: close\r\n\r\nInternal Server Error\n"));
 * ```
 */
export function closingResponseBytes(
  status: number,
  text: string,
  date: string,
  withBody = true,
): Uint8Array {
  return encodeHead(
    `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? ""}\r\n` +
      `content-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${text.length}\r\n` +
      `date: ${date}\r\n` +
      `connection: close\r\n\r\n${withBody ? text : ""}`,
  );
}

/**
 * The whole response to a protocol error: its status, a one-line plain-text body that names the
 * problem (never the request's bytes), and `Connection: close`.
 *
 * @param error The protocol error.
 * @param date The Date field value.
 * @param withBody `false` for a response to HEAD: the same head, no content (RFC 9110 §9.3.2).
 * @returns The response bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./errors.ts";
 * import { errorResponseBytes } from "./serializer.ts";
 *
 * const text = new TextDecoder().decode(
 *   errorResponseBytes(new HttpError("OBS_FOLD"), "Thu, 01 Jan 1970 00:00:00 GMT"),
 * );
 * assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
 * assert.match(text, /\r\nconnection: close\r\n/);
 * assert.ok(text.endsWith("\r\n\r\nBad Request: obsolete line folding (OBS_FOLD)\n"));
 * ```
 */
export function errorResponseBytes(error: HttpError, date: string, withBody = true): Uint8Array {
  const text = `${REASON_PHRASES[error.status] ?? ""}: ${error.message} (${error.code})\n`;
  return closingResponseBytes(error.status, text, date, withBody);
}
