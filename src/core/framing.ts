/**
 * How a response is framed, and which header fields the server decides rather than the handler
 * (RFC 9112 §6, RFC 9110 §6.6.1, §7.6.1, §8.6): whether the response can have content at all,
 * Content-Length, chunked or close-delimited framing, and the one Connection field, merged from
 * the handler's options and the keep-alive decision.
 *
 * @module
 */

import { isNamed, listElements } from "./_bytes.ts";
import { LocalProtocolError } from "./errors.ts";
import type { HttpVersion } from "./parser.ts";
import { fieldLine, reasonPhrase } from "./serializer.ts";

/**
 * What a handler's response gives the serializer.
 *
 * @example Start a response with a Headers object
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ResponseStart, ServerConnection } from "./mod.ts";
 *
 * const conn = new ServerConnection();
 * conn.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * conn.nextEvent();
 * const response: ResponseStart = { status: 201, headers: new Headers({ "X-Id": "7" }), bodyLength: 0 };
 * const head = new TextDecoder().decode(conn.startResponse(response, 0));
 * assert.match(head, /^HTTP\/1\.1 201 Created\r\n/);
 * assert.match(head, /\r\nx-id: 7\r\n/);
 * ```
 */
export interface ResponseStart {
  /** Status code, 200 to 599. */
  readonly status: number;
  /** Reason phrase; the standard one is used when absent or invalid. */
  readonly statusText?: string;
  /**
   * Header fields: `[name, value]` pairs, or a Web `Headers` object (read with its `forEach`,
   * which is cheaper than its iterator).
   */
  readonly headers: Iterable<readonly [string, string]> | HeaderFields;
  /** Body length when known in advance, or `null` for a body streamed to its end. */
  readonly bodyLength: number | null;
}

/**
 * Header fields that list themselves with `forEach(value, name)`, as a Web `Headers` does.
 *
 * @example A Headers object is HeaderFields
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HeaderFields } from "./mod.ts";
 *
 * const fields: HeaderFields = new Headers({ "x-a": "1" });
 * const seen: string[] = [];
 * fields.forEach((value, name) => seen.push(`${name}=${value}`));
 * assert.deepEqual(seen, ["x-a=1"]);
 * ```
 */
export interface HeaderFields {
  /** Calls `visit` with each field's value and name. */
  forEach(visit: (value: string, name: string) => void): void;
}

/**
 * How a response body is delimited: no body, Content-Length, chunked, or the end of the
 * connection (HTTP/1.0, which has no chunked coding, with no length known).
 *
 * @example A streamed body to an HTTP/1.0 client ends with the connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameResponse, type ResponseFraming } from "./mod.ts";
 *
 * const request = { method: "GET", version: "HTTP/1.0" } as const;
 * const framed = frameResponse(request, { status: 200, headers: [], bodyLength: null }, true, "d", "");
 * const framing: ResponseFraming = framed.framing;
 * assert.equal(framing, "close");
 * assert.equal(framed.keepAlive, false);
 * ```
 */
export type ResponseFraming = "none" | "length" | "chunked" | "close";

/**
 * Whether a status can be a response's final status: an integer from 200 to 599 (1xx are interim
 * responses, which the server itself sends; the Fetch standard's `Response` takes the same range).
 *
 * @param status The status code.
 * @returns `true` when a response may have it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFinalStatus } from "./mod.ts";
 *
 * assert.equal(isFinalStatus(404), true);
 * assert.equal(isFinalStatus(101), false);
 * assert.equal(isFinalStatus(200.5), false);
 * ```
 */
export function isFinalStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

/**
 * Whether a response with this status may have content: not 1xx, 204 or 304 (RFC 9110 §15). Its
 * head then states the length of its body, for HEAD too (the length a GET would get, §9.3.2).
 *
 * @param status The status code.
 * @returns `true` when the status allows content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusAllowsContent } from "./mod.ts";
 *
 * assert.equal(statusAllowsContent(200), true);
 * assert.equal(statusAllowsContent(204), false);
 * assert.equal(statusAllowsContent(304), false);
 * ```
 */
export function statusAllowsContent(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

/**
 * Whether a response carries a body on the wire: its status allows content and the request was
 * not HEAD (RFC 9112 §6.3).
 *
 * @param method The request method.
 * @param status The response status.
 * @returns `true` when body bytes follow the head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { responseHasContent } from "./mod.ts";
 *
 * assert.equal(responseHasContent("GET", 200), true);
 * assert.equal(responseHasContent("HEAD", 200), false);
 * assert.equal(responseHasContent("GET", 304), false);
 * ```
 */
export function responseHasContent(method: string, status: number): boolean {
  return method !== "HEAD" && statusAllowsContent(status);
}

/**
 * A response head with its framing decided.
 *
 * @example Read a framed head
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FramedResponse, frameResponse } from "./mod.ts";
 *
 * const request = { method: "GET", version: "HTTP/1.1" } as const;
 * const framed: FramedResponse = frameResponse(request, { status: 200, headers: [], bodyLength: 5 }, true, "d", "");
 * assert.deepEqual([framed.framing, framed.length, framed.keepAlive], ["length", 5, true]);
 * assert.match(framed.head, /\r\ncontent-length: 5\r\n/);
 * ```
 */
export interface FramedResponse {
  /** The status line and field lines, ending in the empty line; characters below U+0100 only. */
  readonly head: string;
  /** How the body is delimited. */
  readonly framing: ResponseFraming;
  /** The body length the head declares, for Content-Length framing; else 0. */
  readonly length: number;
  /** Whether the connection stays open after this response. */
  readonly keepAlive: boolean;
}

/**
 * Frames a response: checks its status line and header fields, drops the fields the server
 * decides (Content-Length, Transfer-Encoding, Connection, Keep-Alive), and writes them itself:
 * - no body for HEAD, 204 and 304, with the Content-Length a GET would get for HEAD and a
 *   declared one for 304;
 * - Content-Length when the length is known (the body's own length wins over a declared one);
 * - else chunked for HTTP/1.1, and close-delimited for HTTP/1.0;
 * - one Connection field with the handler's other options (such as `upgrade`) and `keep-alive`
 *   or `close`, and `Keep-Alive` with the idle timeout while the connection stays open.
 * A Date field is added unless the handler gave one.
 *
 * @param request The request's method and version.
 * @param response Status, status text, header fields and body length.
 * @param keepAlive Whether the connection may stay open, as far as the request and the server go.
 * @param date The Date field value.
 * @param keepAliveField The Keep-Alive field line to send while the connection stays open.
 * @returns The head and its framing.
 * @throws {LocalProtocolError} `INVALID_FIELD` for a field that cannot be sent.
 *
 * @example The handler's `Connection: close` ends the connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameResponse } from "./mod.ts";
 *
 * const request = { method: "GET", version: "HTTP/1.1" } as const;
 * const response = { status: 200, headers: [["Connection", "close"]] as const, bodyLength: null };
 * const framed = frameResponse(request, response, true, "Thu, 01 Jan 1970 00:00:00 GMT", "");
 * assert.equal(framed.framing, "chunked");
 * assert.equal(framed.keepAlive, false);
 * assert.match(framed.head, /\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n$/);
 * ```
 */
export function frameResponse(
  request: { readonly method: string; readonly version: HttpVersion },
  response: ResponseStart,
  keepAlive: boolean,
  date: string,
  keepAliveField: string,
): FramedResponse {
  const status = response.status;
  const fields = readHandlerFields(response.headers);
  let lines = fields.lines;
  if (!fields.hasDate) lines += `date: ${date}\r\n`;
  let open = keepAlive && !fields.close;
  let framing: ResponseFraming;
  let length = 0;
  if (!responseHasContent(request.method, status)) {
    framing = "none";
    // HEAD states the length a GET would get; 304 may pass a declared one on; 204 has none (RFC 9110 §8.6).
    const stated = status === 204
      ? -1
      : status === 304
      ? fields.declaredLength
      : (response.bodyLength ?? fields.declaredLength);
    if (stated >= 0) lines += `content-length: ${stated}\r\n`;
  } else if (response.bodyLength !== null || fields.declaredLength >= 0) {
    framing = "length";
    length = response.bodyLength ?? fields.declaredLength;
    lines += `content-length: ${length}\r\n`;
  } else if (request.version === "HTTP/1.1") {
    framing = "chunked";
    lines += "transfer-encoding: chunked\r\n";
  } else {
    framing = "close";
    open = false;
  }
  // The Keep-Alive field is connection-specific, so "keep-alive" is named in Connection with it
  // (RFC 9110 §7.6.1); it tells the client how long an idle connection stays open.
  fields.connectionOptions.push(open ? "keep-alive" : "close");
  lines += `connection: ${fields.connectionOptions.join(", ")}\r\n`;
  if (open) lines += keepAliveField;
  const statusLine = `HTTP/1.1 ${status} ${reasonPhrase(status, response.statusText)}\r\n`;
  return { head: `${statusLine}${lines}\r\n`, framing, length, keepAlive: open };
}

/** What the handler's header fields say, once each is checked. */
interface HandlerFields {
  /** The field lines to send as they are. */
  lines: string;
  /** The Content-Length the handler declared, or -1. */
  declaredLength: number;
  /** Whether the handler gave a Date field. */
  hasDate: boolean;
  /** Whether the handler's Connection field names `close`. */
  close: boolean;
  /** The other options of the handler's Connection field, such as `upgrade`. */
  connectionOptions: string[];
}

function readHandlerFields(headers: ResponseStart["headers"]): HandlerFields {
  const read: HandlerFields = {
    lines: "",
    declaredLength: -1,
    hasDate: false,
    close: false,
    connectionOptions: [],
  };
  const take = (value: string, name: string): void => {
    const line = fieldLine(name, value); // a valid token from here on, as isNamed needs
    switch (name.length) {
      case 4:
        if (isNamed(name, "date")) read.hasDate = true;
        break;
      case 10:
        if (isNamed(name, "connection")) {
          // Merged into the one Connection field of the head: "close" decides keep-alive, other
          // options (such as "upgrade") are kept (RFC 9110 §7.6.1, §7.8).
          for (const option of listElements(value)) {
            if (option === "close") read.close = true;
            else if (option !== "keep-alive" && !read.connectionOptions.includes(option)) {
              read.connectionOptions.push(option);
            }
          }
          return;
        }
        if (isNamed(name, "keep-alive")) return;
        break;
      case 14:
        if (isNamed(name, "content-length")) {
          if (!/^[0-9]{1,15}$/.test(value)) {
            throw new LocalProtocolError("INVALID_FIELD", "invalid response Content-Length");
          }
          read.declaredLength = Number(value);
          return;
        }
        break;
      case 17:
        if (isNamed(name, "transfer-encoding")) return;
        break;
    }
    read.lines += line;
  };
  eachField(headers, take);
  return read;
}

/**
 * Visits every field of a response's headers, given as pairs or as a `Headers`-like object (read
 * with its `forEach`, which is cheaper than its iterator).
 *
 * @param headers The fields.
 * @param visit Called with each value and name, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eachField } from "./framing.ts";
 *
 * const seen: string[] = [];
 * eachField([["a", "1"]], (value, name) => seen.push(`${name}=${value}`));
 * eachField(new Headers({ b: "2" }), (value, name) => seen.push(`${name}=${value}`));
 * assert.deepEqual(seen, ["a=1", "b=2"]);
 * ```
 */
export function eachField(
  headers: ResponseStart["headers"],
  visit: (value: string, name: string) => void,
): void {
  // Pairs are read by index: destructuring each pair would run an iterator per field.
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i] as readonly [string, string];
      visit(pair[1], pair[0]);
    }
  } else if ("forEach" in headers) headers.forEach(visit);
  else for (const pair of headers as Iterable<readonly [string, string]>) visit(pair[1], pair[0]);
}
