/**
 * Where the request side of a connection stands, with what each stage needs. Private to h1serve
 * (not exported by `core/mod.ts`); the state machine reports the stage as its `ReadState`.
 *
 * @module
 */

import { type BodyDecoder, ChunkedDecoder, ContentLengthDecoder } from "./body.ts";
import type { ProtocolLimits } from "./limits.ts";
import type { RequestHead } from "./parser.ts";

/**
 * Where the request side stands, with what that stage needs: the decoder of a body and whether
 * `100 Continue` was sent for it, the trailers of a complete body whose end event is due, and the
 * budget of an unread body being discarded after its response.
 */
export type Reading =
  | { readonly kind: "head" }
  | { readonly kind: "body"; readonly decoder: BodyDecoder; continueSent: boolean }
  | { readonly kind: "end"; readonly trailers: readonly string[] }
  | { readonly kind: "done" }
  | { readonly kind: "discard"; readonly decoder: BodyDecoder; budget: number }
  | { readonly kind: "error" }
  | { readonly kind: "closed" };

export const READING_HEAD: Reading = Object.freeze({ kind: "head" });
export const READING_DONE: Reading = Object.freeze({ kind: "done" });
export const READING_ERROR: Reading = Object.freeze({ kind: "error" });
export const READING_CLOSED: Reading = Object.freeze({ kind: "closed" });

/**
 * Where the request side stands once a request's head is in: reading its body with the decoder
 * its framing calls for, or done when it has none.
 *
 * @param head The request head.
 * @param limits The limits the decoder enforces.
 * @returns The read state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readingAfter } from "./_reading.ts";
 * import { DEFAULT_PROTOCOL_LIMITS, RequestHeadParser } from "./mod.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
 * const bytes = new TextEncoder().encode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * assert.equal(readingAfter(parser.head!, DEFAULT_PROTOCOL_LIMITS).kind, "body");
 * ```
 */
export function readingAfter(head: RequestHead, limits: ProtocolLimits): Reading {
  if (head.bodyFraming === "none") return READING_DONE;
  const decoder = head.bodyFraming === "chunked"
    ? new ChunkedDecoder(limits)
    : new ContentLengthDecoder(head.contentLength);
  return { kind: "body", decoder, continueSent: false };
}
