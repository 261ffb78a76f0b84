/**
 * The decision of a static-file response, with no I/O: from a GET or HEAD request's fields and
 * what is known of the file (length, validators, type), the status, the header fields, and which
 * bytes the body holds. The preconditions come first (RFC 9110 §13.2.2), then If-Range and Range
 * (§13.1.5, §14). `serveFile` reads the file; this file decides what to send of it.
 *
 * @module
 */

import {
  evaluatePreconditions,
  ifRangeHolds,
  type PreconditionFields,
  type Validators,
} from "./conditional.ts";
import { formatHttpDate, lastModifiedOf } from "./http_date.ts";
import { type BodyPiece, contentRange, DEFAULT_MAX_RANGES, multipartLayout, parseRange } from "./range.ts";

/** The fields of a request that decide a file response (`null` when absent). */
export interface FileRequestFields extends PreconditionFields {
  /** The request method (GET or HEAD). */
  readonly method: string;
  /** Range (RFC 9110 §14.2). */
  readonly range: string | null;
  /** If-Range (§13.1.5). */
  readonly ifRange: string | null;
}

/** What is known of the representation to send: a file, or a precompressed sibling of it. */
export interface FileRepresentation {
  /** Its length in bytes. */
  readonly size: number;
  /** Its ETag, quoted, or `null` for none. */
  readonly etag: string | null;
  /** Its exact modification time in milliseconds since the epoch. */
  readonly modifiedMs: number;
  /** Its Content-Type. */
  readonly contentType: string;
  /** Its Content-Encoding (`br`, `gzip`), or `null` for the identity. */
  readonly contentEncoding: string | null;
  /** The Vary value to send (`Accept-Encoding` when precompressed siblings exist), or `null`. */
  readonly vary: string | null;
  /** The Cache-Control value to send, or `null`. */
  readonly cacheControl: string | null;
}

/** The settings of a decision. */
export interface FileResponseSettings {
  /** The current time in milliseconds since the epoch. */
  readonly nowMs: number;
  /** The boundary of a `multipart/byteranges` body (ASCII, not in any part's header text). */
  readonly boundary: string;
  /**
   * The most ranges one Range field may ask for; a field that asks for more is ignored.
   * @default {16}
   */
  readonly maxRanges?: number;
}

/** A decided file response. */
export interface FileResponsePlan {
  /** 200, 206, 304, 412 or 416. */
  readonly status: 200 | 206 | 304 | 412 | 416;
  /** The header fields, names in lowercase, in the order to send them. */
  readonly headers: readonly (readonly [string, string])[];
  /** What a GET's body holds, in order: ASCII text and ranges of the file; empty for none. */
  readonly pieces: readonly BodyPiece[];
  /** The body's length in bytes (the Content-Length a GET gets). */
  readonly length: number;
}

/**
 * Decides a GET or HEAD response for a file:
 * - the preconditions fail → 412, or 304 with the fields RFC 9110 §15.4.5 asks for (ETag,
 *   Last-Modified, Cache-Control, Vary; the server adds Date) and no representation metadata;
 * - else a Range field on a GET, whose If-Range holds → 206 with one range or a
 *   `multipart/byteranges` body, or 416 with `Content-Range: bytes *\/length`;
 * - else 200 with the whole file. A HEAD gets what a GET would get, without Range (§14.2
 *   defines ranges for GET only).
 *
 * Identity responses carry `Accept-Ranges: bytes`; encoded ones (a precompressed sibling) do not,
 * as ranges are served of the identity only.
 *
 * @param request The request's method, conditional and range fields.
 * @param file The representation.
 * @param settings The current time, the multipart boundary and the range cap.
 * @returns The status, the header fields and the body's pieces.
 *
 * @example A range, and a 304 for a matching If-None-Match
 * ```ts
 * import assert from "node:assert/strict";
 * import { planFileResponse } from "./file_response.ts";
 *
 * const file = {
 *   size: 10, etag: '"e1"', modifiedMs: Date.UTC(2024, 0, 1), contentType: "text/plain; charset=utf-8",
 *   contentEncoding: null, vary: null, cacheControl: null,
 * };
 * const none = { ifMatch: null, ifNoneMatch: null, ifModifiedSince: null, ifUnmodifiedSince: null, ifRange: null };
 * const settings = { nowMs: Date.UTC(2026, 0, 1), boundary: "b" };
 * const partial = planFileResponse({ ...none, method: "GET", range: "bytes=2-4" }, file, settings);
 * assert.equal(partial.status, 206);
 * assert.deepEqual(partial.pieces, [{ range: { start: 2, end: 4 } }]);
 * assert.ok(partial.headers.some(([name, value]) => name === "content-range" && value === "bytes 2-4/10"));
 * const cached = planFileResponse({ ...none, method: "GET", range: null, ifNoneMatch: '"e1"' }, file, settings);
 * assert.deepEqual([cached.status, cached.pieces.length], [304, 0]);
 * ```
 */
export function planFileResponse(
  request: FileRequestFields,
  file: FileRepresentation,
  settings: FileResponseSettings,
): FileResponsePlan {
  const lastModified = lastModifiedOf(file.modifiedMs, settings.nowMs);
  const validators: Validators = { etag: file.etag, lastModified };
  const validatorFields: [string, string][] = [];
  if (file.etag !== null) validatorFields.push(["etag", file.etag]);
  validatorFields.push(["last-modified", formatHttpDate(lastModified)]);
  const cacheFields: [string, string][] = [];
  if (file.cacheControl !== null) cacheFields.push(["cache-control", file.cacheControl]);
  if (file.vary !== null) cacheFields.push(["vary", file.vary]);
  const outcome = evaluatePreconditions(request.method, request, validators, settings.nowMs);
  if (outcome === "not-modified") {
    return { status: 304, headers: [...validatorFields, ...cacheFields], pieces: [], length: 0 };
  }
  if (outcome === "precondition-failed") {
    return { status: 412, headers: [["content-length", "0"]], pieces: [], length: 0 };
  }
  const identity = file.contentEncoding === null;
  const rangeFields: [string, string][] = identity ? [["accept-ranges", "bytes"]] : [];
  const common = [...validatorFields, ...cacheFields, ...rangeFields];
  const decision = request.method === "GET" && request.range !== null && identity &&
      ifRangeHolds(request.ifRange, validators, file.modifiedMs, settings.nowMs)
    ? parseRange(request.range, file.size, settings.maxRanges ?? DEFAULT_MAX_RANGES)
    : { kind: "whole" as const };
  const type: [string, string] = ["content-type", file.contentType];
  const encoding: [string, string][] = identity ? [] : [["content-encoding", file.contentEncoding!]];
  switch (decision.kind) {
    case "whole": {
      const length = file.size;
      const headers = [type, ...encoding, ["content-length", String(length)] as const, ...common];
      return {
        status: 200,
        headers,
        pieces: length === 0 ? [] : [{ range: { start: 0, end: length - 1 } }],
        length,
      };
    }
    case "unsatisfiable":
      return {
        status: 416,
        headers: [["content-range", `bytes */${file.size}`], ["content-length", "0"], ...rangeFields],
        pieces: [],
        length: 0,
      };
    case "partial": {
      if (decision.ranges.length === 1) {
        const [range] = decision.ranges;
        const length = range.end - range.start + 1;
        const headers = [
          type,
          ["content-range", contentRange(range, file.size)] as const,
          ["content-length", String(length)] as const,
          ...common,
        ];
        return { status: 206, headers, pieces: [{ range }], length };
      }
      const layout = multipartLayout(decision.ranges, file.size, file.contentType, settings.boundary);
      const headers = [
        ["content-type", layout.contentType] as const,
        ["content-length", String(layout.length)] as const,
        ...common,
      ];
      return { status: 206, headers, pieces: layout.pieces, length: layout.length };
    }
    default:
      throw new Error(`unreachable range decision ${decision satisfies never}`);
  }
}
