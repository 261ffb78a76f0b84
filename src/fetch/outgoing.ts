/**
 * The outgoing-response protocol: how the server reads a `Response` to send it. Any `Response`
 * can be sent (its status, its `Headers` and its body stream); the fast classes of `FastResponse`
 * also give their parts directly, through the one method {@link OUTGOING}, with the body as the
 * string or bytes the handler gave, so that the server sends it without reading a stream.
 *
 * @module
 */

/**
 * The method by which a fast response gives the server its parts ({@link SendableResponse}).
 *
 * @example A response class of one's own that the server sends without a stream
 * ```ts
 * import assert from "node:assert/strict";
 * import { OUTGOING, outgoing, type OutgoingResponse } from "./outgoing.ts";
 *
 * class Plain extends Response {
 *   [OUTGOING](): OutgoingResponse {
 *     return { status: 200, statusText: "", fields: [["content-type", "text/plain"]], body: "hi" };
 *   }
 * }
 * assert.equal(outgoing(new Plain("hi")).body, "hi");
 * ```
 */
export const OUTGOING: unique symbol = Symbol("h1serve.outgoing");

/**
 * Header fields as `[name, value]` pairs. A frozen list lets the serializer reuse the head it
 * made for the same list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FieldList } from "./outgoing.ts";
 *
 * const fields: FieldList = Object.freeze([Object.freeze(["x-a", "1"] as const)]);
 * assert.ok(Object.isFrozen(fields));
 * ```
 */
export type FieldList = readonly (readonly [string, string])[];

/**
 * A response as the server sends it.
 *
 * @example Read a plain Response for sending
 * ```ts
 * import assert from "node:assert/strict";
 * import { outgoing, type OutgoingResponse } from "./outgoing.ts";
 *
 * const parts: OutgoingResponse = outgoing(new Response(new ReadableStream(), { status: 202 }));
 * assert.equal(parts.status, 202);
 * assert.equal(parts.body, null); // the server reads the response's stream
 * ```
 */
export interface OutgoingResponse {
  /** The status code. */
  readonly status: number;
  /** The status text. */
  readonly statusText: string;
  /** The header fields: a constant list while they are the defaults, else the `Headers`. */
  readonly fields: FieldList | Headers;
  /**
   * The whole body, when the response holds it in memory: its string, or a copy of its bytes made
   * by the body pool (`body_pool.ts`), which is the server's from now on (it gives the memory
   * back once the bytes are sent). `null` when the body is to be read from `response.body`.
   */
  readonly body: string | Uint8Array | null;
}

/**
 * A response that gives the server its parts directly.
 *
 * @example FastResponse is one
 * ```ts
 * import assert from "node:assert/strict";
 * import { FastResponse } from "./response.ts";
 * import { OUTGOING, type SendableResponse } from "./outgoing.ts";
 *
 * const response = new FastResponse("Hello") as unknown as SendableResponse;
 * assert.equal(response[OUTGOING]().body, "Hello");
 * ```
 */
export interface SendableResponse {
  /**
   * The response's parts for sending. A byte body is given up to the server: call it once per
   * sending.
   */
  [OUTGOING](): OutgoingResponse;
}

/**
 * Reads a response for sending: a fast response's own parts, or, for any other `Response`, its
 * status and `Headers` with `body: null`.
 *
 * @param response The handler's response.
 * @returns Its parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FastResponse } from "./response.ts";
 * import { outgoing } from "./outgoing.ts";
 *
 * assert.equal(outgoing(new FastResponse("text")).body, "text");
 * const fetched = new Response(new Blob(["blob"]));
 * assert.equal(outgoing(fetched).body, null);
 * ```
 */
export function outgoing(response: Response): OutgoingResponse {
  const sendable = response as Partial<SendableResponse>;
  if (typeof sendable[OUTGOING] === "function") return sendable[OUTGOING]();
  return { status: response.status, statusText: response.statusText, fields: response.headers, body: null };
}

/** The header fields the runtime's own `Response` gives a string body. */
const RUNTIME_TEXT_FIELDS = [...new Response("").headers];

/**
 * Whether the runtime's `Response` leaves out the Content-Type that the Fetch standard gives a
 * string body (`text/plain;charset=UTF-8`). Bun's does: Bun.serve adds it as it sends, so h1serve
 * adds it itself on Bun, and a handler's string gets the same Content-Type on every runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TEXT_TYPE_LEFT_OUT } from "./outgoing.ts";
 *
 * assert.equal(TEXT_TYPE_LEFT_OUT, !new Response("").headers.has("content-type"));
 * ```
 */
export const TEXT_TYPE_LEFT_OUT: boolean = !RUNTIME_TEXT_FIELDS.some(([name]) => name === "content-type");

/**
 * The header fields of `Response.json`'s response when the handler gives none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JSON_FIELDS } from "./outgoing.ts";
 *
 * assert.deepEqual(JSON_FIELDS, [["content-type", "application/json"]]);
 * ```
 */
export const JSON_FIELDS: FieldList = Object.freeze([
  Object.freeze(["content-type", "application/json"] as const),
]);

/**
 * The header fields of a string body when the handler gives none: the Fetch standard's
 * Content-Type (the runtime's own fields, where it gives them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TEXT_FIELDS } from "./outgoing.ts";
 *
 * assert.deepEqual(TEXT_FIELDS, [["content-type", "text/plain;charset=UTF-8"]]);
 * ```
 */
export const TEXT_FIELDS: FieldList = Object.freeze(
  (TEXT_TYPE_LEFT_OUT ? [["content-type", "text/plain;charset=UTF-8"] as const] : RUNTIME_TEXT_FIELDS)
    .map(([name, value]) => Object.freeze([name, value] as const)),
);

/**
 * The header fields of a byte body when the handler gives none (the runtime's `Response` adds none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_FIELDS } from "./outgoing.ts";
 *
 * assert.deepEqual(NO_FIELDS, [...new Response(new Uint8Array(1)).headers]);
 * ```
 */
export const NO_FIELDS: FieldList = Object.freeze([]);

/** Frozen field lists for one-field Content-Type records, by the value given (bounded). */
const CONTENT_TYPE_LISTS = new Map<string, FieldList>();
const CONTENT_TYPE_LISTS_LIMIT = 64;

/**
 * The constant field list for a response's `headers` init when that is a plain record of one
 * Content-Type (what Hono's `c.json`, `c.text` with a status and `c.html` give), so that the server
 * sends the head it made for the same list last time; `null` for any other init.
 *
 * @param headers A response's `headers` init.
 * @returns The list (the same one for the same value), or `null`.
 * @throws {TypeError} For a value that no `Headers` takes, as `new Response` throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentTypeFields } from "./outgoing.ts";
 *
 * const fields = contentTypeFields({ "Content-Type": "application/json" });
 * assert.deepEqual(fields, [["content-type", "application/json"]]);
 * assert.equal(contentTypeFields({ "content-type": "application/json" }), fields);
 * assert.equal(contentTypeFields({ "Content-Type": "text/html", "X-A": "1" }), null);
 * ```
 */
export function contentTypeFields(headers: HeadersInit): FieldList | null {
  if (
    typeof headers !== "object" || headers === null || Object.getPrototypeOf(headers) !== Object.prototype
  ) {
    return null;
  }
  let name: string | null = null;
  for (const key in headers) {
    if (name !== null) return null;
    name = key;
  }
  if (name === null || name.length !== 12 || name.toLowerCase() !== "content-type") return null;
  const value = (headers as Record<string, unknown>)[name];
  if (typeof value !== "string") return null;
  let fields = CONTENT_TYPE_LISTS.get(value);
  if (fields === undefined) {
    // The runtime's own checks and trimming, once per value.
    fields = Object.freeze(
      [...new Headers({ "content-type": value })].map(([n, v]) => Object.freeze([n, v] as const)),
    );
    if (CONTENT_TYPE_LISTS.size < CONTENT_TYPE_LISTS_LIMIT) CONTENT_TYPE_LISTS.set(value, fields);
  }
  return fields;
}
