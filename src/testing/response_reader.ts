/**
 * Responses read back from the bytes a server wrote, as a client reads them (RFC 9112 §6.3): the
 * status line, the fields as sent, and the body by its framing (none, Content-Length, chunked, or up
 * to the close).
 *
 * @module
 */

import { concatBytes, latin1 } from "../core/_bytes.ts";

/** How a response's body was delimited on the wire. */
export type Framing = "none" | "content-length" | "chunked" | "close";

/**
 * One response as a client read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchange, type TestResponse } from "@h1serve/h1serve/testing";
 *
 * const { responses } = await exchange(() => new Response("hi"), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const response: TestResponse = responses[0];
 * assert.deepEqual([response.status, response.framing, response.text], [200, "content-length", "hi"]);
 * ```
 */
export interface TestResponse {
  /** `HTTP/1.1` or `HTTP/1.0`, as the status line says. */
  readonly version: string;
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** The header fields as sent: names as written, in order, repeated names kept. */
  readonly fields: readonly (readonly [string, string])[];
  /** The same fields as `Headers`, for lookups by name. */
  readonly headers: Headers;
  /** How the body was delimited. */
  readonly framing: Framing;
  /** The body, with chunked framing removed. */
  readonly body: Uint8Array;
  /** The body decoded as UTF-8. */
  readonly text: string;
  /** A chunked body's trailer fields. */
  readonly trailers: readonly (readonly [string, string])[];
  /** The response's bytes exactly as the server wrote them. */
  readonly raw: Uint8Array;
}

/** What {@link readResponse} found at an offset. */
export type ReadResult =
  | { readonly kind: "response"; readonly response: TestResponse; readonly end: number }
  | { readonly kind: "incomplete" }
  | { readonly kind: "malformed"; readonly reason: string };

const decoder = new TextDecoder();

/**
 * Reads the response that starts at `at`.
 *
 * @param bytes Everything the server wrote.
 * @param at Where the response starts.
 * @param method The request's method, when known (a response to HEAD has no body).
 * @param closed Whether the server closed the connection (a body without framing ends there).
 * @returns The response and where it ends, or that more bytes are needed, or why they are no response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readResponse } from "./response_reader.ts";
 *
 * const bytes = new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n");
 * const result = readResponse(bytes, 0, "GET", false);
 * assert.equal(result.kind === "response" && result.response.status, 204);
 * ```
 */
export function readResponse(
  bytes: Uint8Array,
  at: number,
  method: string | undefined,
  closed: boolean,
): ReadResult {
  const headEnd = indexOfBlankLine(bytes, at);
  if (headEnd === -1) return { kind: "incomplete" };
  const lines = latin1(bytes, at, headEnd).split("\r\n");
  const statusLine = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
  if (statusLine === null) {
    return { kind: "malformed", reason: `not a status line: ${JSON.stringify(lines[0])}` };
  }
  const fields = parseFields(lines.slice(1));
  if (typeof fields === "string") return { kind: "malformed", reason: fields };
  const status = Number(statusLine[2]);
  const bodyStart = headEnd + 4;
  const head = { version: statusLine[1], status, reason: statusLine[3], fields };
  const field = (name: string) => fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  if (status < 200 || status === 204 || status === 304 || method === "HEAD") {
    return done(head, "none", new Uint8Array(0), [], bytes.subarray(at, bodyStart), bodyStart);
  }
  if (field("transfer-encoding").join(",").toLowerCase().includes("chunked")) {
    const chunked = readChunked(bytes, bodyStart);
    if (chunked === null) return { kind: "incomplete" };
    if (typeof chunked === "string") return { kind: "malformed", reason: chunked };
    return done(
      head,
      "chunked",
      chunked.body,
      chunked.trailers,
      bytes.subarray(at, chunked.end),
      chunked.end,
    );
  }
  const lengths = field("content-length");
  if (lengths.length > 0) {
    const length = Number(lengths[0]);
    if (!/^\d+$/.test(lengths[0])) return { kind: "malformed", reason: `Content-Length ${lengths[0]}` };
    const end = bodyStart + length;
    if (bytes.byteLength < end) return { kind: "incomplete" };
    return done(head, "content-length", bytes.slice(bodyStart, end), [], bytes.subarray(at, end), end);
  }
  if (!closed) return { kind: "incomplete" };
  return done(head, "close", bytes.slice(bodyStart), [], bytes.subarray(at), bytes.byteLength);
}

/**
 * Every complete response in a stream of them, in order, interim (1xx) ones included; up to a 101,
 * after which the bytes are another protocol's.
 *
 * @param bytes Everything the server wrote.
 * @param methods The requests' methods, in order (a response to HEAD has no body); missing ones count as GET.
 * @param closed Whether the server closed the connection.
 * @param progress Where an earlier call stopped, to read on from there (it is updated): a stream
 *   that grows is then read once, not again from its start on each call.
 * @returns The responses (from `progress` on, when given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readResponses } from "./response_reader.ts";
 *
 * const bytes = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
 * assert.deepEqual(readResponses(bytes, ["POST"], false).map((response) => response.status), [100, 200]);
 * ```
 *
 * @example Read on as the stream grows
 * ```ts
 * import assert from "node:assert/strict";
 * import { readResponses, type ReadProgress } from "./response_reader.ts";
 *
 * const one = "HTTP/1.1 204 No Content\r\n\r\n";
 * const progress: ReadProgress = { at: 0, finals: 0, switched: false };
 * assert.equal(readResponses(new TextEncoder().encode(one + "HTTP/1.1 2"), [], false, progress).length, 1);
 * assert.equal(readResponses(new TextEncoder().encode(one + one), [], false, progress).length, 1);
 * assert.equal(progress.finals, 2);
 * ```
 */
export function readResponses(
  bytes: Uint8Array,
  methods: readonly string[],
  closed: boolean,
  progress: ReadProgress = { at: 0, finals: 0, switched: false },
): TestResponse[] {
  const responses: TestResponse[] = [];
  while (!progress.switched && progress.at < bytes.byteLength) {
    const result = readResponse(bytes, progress.at, methods[progress.finals], closed);
    if (result.kind !== "response") break;
    responses.push(result.response);
    progress.at = result.end;
    if (result.response.status === 101) progress.switched = true;
    else if (result.response.status >= 200) progress.finals++;
  }
  return responses;
}

/**
 * Where reading a stream of responses stands: the offset after the last complete one, how many
 * final (non-1xx) responses came, and whether a 101 ended HTTP on the stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ReadProgress } from "./response_reader.ts";
 *
 * const start: ReadProgress = { at: 0, finals: 0, switched: false };
 * assert.equal(start.at, 0);
 * ```
 */
export interface ReadProgress {
  /** The offset after the last complete response read. */
  at: number;
  /** How many final responses were read. */
  finals: number;
  /** Whether a 101 came: what follows is another protocol's. */
  switched: boolean;
}

function done(
  head: { version: string; status: number; reason: string; fields: [string, string][] },
  framing: Framing,
  body: Uint8Array,
  trailers: [string, string][],
  raw: Uint8Array,
  end: number,
): ReadResult {
  const headers = new Headers();
  for (const [name, value] of head.fields) headers.append(name, value);
  const response: TestResponse = {
    ...head,
    headers,
    framing,
    body,
    text: decoder.decode(body),
    trailers,
    raw: raw.slice(),
  };
  return { kind: "response", response, end };
}

/** Where the blank line that ends a head starts, from `from` on, or -1. */
export function indexOfBlankLine(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.byteLength; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** Field lines as `[name, value]` pairs, or why one is no field line. */
export function parseFields(lines: string[]): [string, string][] | string {
  const fields: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return `not a field line: ${JSON.stringify(line)}`;
    fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** A chunked body from `at`: `null` while incomplete, a reason when malformed. */
export function readChunked(
  bytes: Uint8Array,
  at: number,
): { body: Uint8Array; trailers: [string, string][]; end: number } | null | string {
  const parts: Uint8Array[] = [];
  let offset = at;
  for (;;) {
    const lineEnd = indexOfLineEnd(bytes, offset);
    if (lineEnd === -1) return null;
    const sizeText = latin1(bytes, offset, lineEnd).split(";")[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return `chunk size ${JSON.stringify(sizeText)}`;
    const size = parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    if (bytes.byteLength < offset + size + 2) return null;
    parts.push(bytes.subarray(offset, offset + size));
    offset += size + 2;
  }
  const trailers: [string, string][] = [];
  for (;;) {
    const lineEnd = indexOfLineEnd(bytes, offset);
    if (lineEnd === -1) return null;
    const line = latin1(bytes, offset, lineEnd);
    offset = lineEnd + 2;
    if (line === "") break;
    const parsed = parseFields([line]);
    if (typeof parsed === "string") return parsed;
    trailers.push(parsed[0]);
  }
  return { body: concatBytes(parts, true), trailers, end: offset };
}

function indexOfLineEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.byteLength; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  return -1;
}
