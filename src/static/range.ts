/**
 * Range requests (RFC 9110 §14): the Range field read against a representation's length, with
 * overlapping and adjacent ranges coalesced, and the layout of a `multipart/byteranges` body.
 * Pure functions.
 *
 * @module
 */

/** One range of bytes, both ends included (as Content-Range states them). */
export interface ByteRange {
  /** The first byte's offset. */
  readonly start: number;
  /** The last byte's offset (included). */
  readonly end: number;
}

/**
 * What a Range field asks of a representation:
 * - `whole`: ignore the field and send the whole representation (200): no Range field, a unit
 *   other than `bytes`, more ranges than allowed, or a suffix range of an empty representation;
 * - `unsatisfiable`: 416 with `Content-Range: bytes *\/length`: no satisfiable range, or a
 *   field that is not a valid `bytes` range set;
 * - `partial`: 206 with these ranges, coalesced, in the order the field first named them.
 */
export type RangeDecision =
  | { readonly kind: "whole" }
  | { readonly kind: "unsatisfiable" }
  | { readonly kind: "partial"; readonly ranges: readonly ByteRange[] };

/** The most ranges one Range field may name before it is ignored (RFC 9110 §14.2, §17.15). */
export const DEFAULT_MAX_RANGES = 16;

const WHOLE: RangeDecision = Object.freeze({ kind: "whole" });
const UNSATISFIABLE: RangeDecision = Object.freeze({ kind: "unsatisfiable" });
const INT_RANGE = /^([0-9]+)-([0-9]*)$/;
const SUFFIX_RANGE = /^-([0-9]+)$/;

/**
 * Reads a Range field (RFC 9110 §14.1.1, §14.2) against a representation of `length` bytes.
 * - The unit is `bytes`, case-insensitively; another unit is ignored (→ `whole`).
 * - `first-last`, `first-` and `-suffix`, separated by commas with optional whitespace (empty
 *   elements are skipped). Any other text makes the field invalid (→ `unsatisfiable`).
 * - A last position past the end is the end; a suffix longer than the representation is all of
 *   it. A range whose first position is at or past the end, a suffix of 0, and a range whose
 *   last position is before its first are dropped; when none is left → `unsatisfiable`.
 * - More than `maxRanges` ranges → `whole` (§14.2 allows ignoring such a field; sending the
 *   representation once is the cheapest answer to a field that asks for it in many pieces).
 * - Ranges that overlap or touch are merged into one (§14.6 allows it), so no byte is sent
 *   twice; what remains keeps the order of the field.
 * - An empty representation has no byte to name: a suffix range (satisfiable by §14.1.1) gets
 *   the whole, empty representation (→ `whole`), as a 206 could not state its range; any other
 *   range is unsatisfiable.
 *
 * @param value The Range field value, or `null` when absent.
 * @param length The representation's length in bytes.
 * @param maxRanges The most ranges allowed.
 * @returns The decision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRange } from "./range.ts";
 *
 * assert.deepEqual(parseRange("bytes=0-4", 10), { kind: "partial", ranges: [{ start: 0, end: 4 }] });
 * assert.deepEqual(parseRange("bytes=-3", 10), { kind: "partial", ranges: [{ start: 7, end: 9 }] });
 * assert.deepEqual(parseRange("bytes=6-, 0-1, 1-2", 10), {
 *   kind: "partial",
 *   ranges: [{ start: 6, end: 9 }, { start: 0, end: 2 }],
 * });
 * assert.deepEqual(parseRange("bytes=10-", 10), { kind: "unsatisfiable" });
 * assert.deepEqual(parseRange("items=0-1", 10), { kind: "whole" });
 * ```
 */
export function parseRange(
  value: string | null,
  length: number,
  maxRanges = DEFAULT_MAX_RANGES,
): RangeDecision {
  if (value === null) return WHOLE;
  const text = value.trim();
  const equals = text.indexOf("=");
  if (equals === -1 || text.slice(0, equals).toLowerCase() !== "bytes") return WHOLE;
  const specs = text.slice(equals + 1).split(",").map((spec) => spec.replace(/^[ \t]+|[ \t]+$/g, ""))
    .filter((spec) => spec !== "");
  if (specs.length === 0) return UNSATISFIABLE;
  if (specs.length > maxRanges) return WHOLE;
  const satisfiable: { range: ByteRange; order: number }[] = [];
  for (const [order, spec] of specs.entries()) {
    const range = readSpec(spec, length);
    if (range === "invalid") return UNSATISFIABLE;
    if (range !== null) satisfiable.push({ range, order });
  }
  // An empty representation has no byte to send: a suffix range is satisfiable (§14.1.1) and
  // means all of it, the whole (empty) representation; any other range is unsatisfiable.
  if (length === 0) return specs.some((spec) => /^-0*[1-9]/.test(spec)) ? WHOLE : UNSATISFIABLE;
  if (satisfiable.length === 0) return UNSATISFIABLE;
  return { kind: "partial", ranges: coalesce(satisfiable) };
}

/** One range-spec: the range, `null` when unsatisfiable, `"invalid"` when not a range-spec. */
function readSpec(spec: string, length: number): ByteRange | null | "invalid" {
  const suffix = SUFFIX_RANGE.exec(spec);
  if (suffix !== null) {
    const count = Number(suffix[1]);
    if (count === 0 || length === 0) return null;
    return { start: Math.max(0, length - count), end: length - 1 };
  }
  const int = INT_RANGE.exec(spec);
  if (int === null) return "invalid";
  const first = Number(int[1]);
  const last = int[2] === "" ? Infinity : Number(int[2]);
  if (last < first || first >= length) return null;
  return { start: first, end: Math.min(last, length - 1) };
}

/** Merges ranges that overlap or touch; the merged ones keep the place of the first named. */
function coalesce(ranges: { range: ByteRange; order: number }[]): ByteRange[] {
  const sorted = ranges.slice().sort((a, b) => a.range.start - b.range.start);
  const merged: { start: number; end: number; order: number }[] = [];
  for (const { range, order } of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.start <= last.end + 1) {
      last.end = Math.max(last.end, range.end);
      last.order = Math.min(last.order, order);
    } else {
      merged.push({ start: range.start, end: range.end, order });
    }
  }
  return merged.sort((a, b) => a.order - b.order).map(({ start, end }) => ({ start, end }));
}

/** A piece of a `multipart/byteranges` body: ASCII text, or a range of the representation. */
export type BodyPiece =
  | { readonly text: string }
  | { readonly range: ByteRange };

/** A `multipart/byteranges` body: its Content-Type, its pieces and its length in bytes. */
export interface MultipartLayout {
  /** `multipart/byteranges; boundary=...` */
  readonly contentType: string;
  /** The text between the parts (ASCII) and the ranges, in order. */
  readonly pieces: readonly BodyPiece[];
  /** The body's length in bytes. */
  readonly length: number;
}

/**
 * Lays out a `multipart/byteranges` body (RFC 9110 §14.6): each part with the representation's
 * Content-Type and its own Content-Range, then the closing delimiter.
 *
 * @param ranges The ranges, in the order to send them.
 * @param length The representation's length.
 * @param contentType The representation's Content-Type (ASCII).
 * @param boundary The boundary (1 to 70 characters that do not occur in the body's text).
 * @returns The layout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multipartLayout } from "./range.ts";
 *
 * const layout = multipartLayout([{ start: 0, end: 0 }, { start: 9, end: 9 }], 10, "text/plain", "B");
 * assert.equal(layout.contentType, "multipart/byteranges; boundary=B");
 * assert.deepEqual(layout.pieces[0], { text: "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/10\r\n\r\n" });
 * assert.equal(layout.length, layout.pieces.reduce((sum, piece) => sum + ("text" in piece ? piece.text.length : 1), 0));
 * ```
 */
export function multipartLayout(
  ranges: readonly ByteRange[],
  length: number,
  contentType: string,
  boundary: string,
): MultipartLayout {
  const pieces: BodyPiece[] = [];
  let total = 0;
  for (const [i, range] of ranges.entries()) {
    const text = `${i === 0 ? "" : "\r\n"}--${boundary}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Range: ${contentRange(range, length)}\r\n\r\n`;
    pieces.push({ text }, { range });
    total += text.length + range.end - range.start + 1;
  }
  const closing = `\r\n--${boundary}--\r\n`;
  pieces.push({ text: closing });
  total += closing.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, pieces, length: total };
}

/**
 * The Content-Range value of a range (RFC 9110 §14.4).
 *
 * @param range The range.
 * @param length The representation's length.
 * @returns `bytes start-end/length`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentRange } from "./range.ts";
 *
 * assert.equal(contentRange({ start: 2, end: 5 }, 10), "bytes 2-5/10");
 * ```
 */
export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end}/${length}`;
}
