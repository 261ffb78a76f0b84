/**
 * Conditional requests (RFC 9110 §13): the four preconditions evaluated in the order of §13.2.2,
 * and If-Range (§13.1.5). Pure functions: request fields and the representation's validators in,
 * a decision out; the current time comes in as an argument.
 *
 * @module
 */

import { type EntityTag, parseEntityTag, parseEntityTagList, strongMatch, weakMatch } from "./etag.ts";
import { parseHttpDate } from "./http_date.ts";

/** The precondition fields of a request, as received (`null` when absent). */
export interface PreconditionFields {
  /** If-Match (RFC 9110 §13.1.1). */
  readonly ifMatch: string | null;
  /** If-None-Match (§13.1.2). */
  readonly ifNoneMatch: string | null;
  /** If-Modified-Since (§13.1.3). */
  readonly ifModifiedSince: string | null;
  /** If-Unmodified-Since (§13.1.4). */
  readonly ifUnmodifiedSince: string | null;
}

/** The validators of the selected representation (RFC 9110 §8.8). */
export interface Validators {
  /** Its ETag, quoted (`"x"` or `W/"x"`), or `null` when it has none. */
  readonly etag: string | null;
  /** Its Last-Modified time in milliseconds (a whole second), or `null` when it has none. */
  readonly lastModified: number | null;
}

/**
 * What the preconditions decide: go on with the method, answer 304 Not Modified, or answer
 * 412 Precondition Failed.
 */
export type PreconditionOutcome = "proceed" | "not-modified" | "precondition-failed";

/**
 * Evaluates a request's preconditions in the order of RFC 9110 §13.2.2, for a representation
 * that exists:
 * 1. If-Match, when present: false → 412 (strong comparison; `*` is true).
 * 2. Else If-Unmodified-Since, when a valid date and the representation has a Last-Modified:
 *    modified after it → 412.
 * 3. If-None-Match, when present: false (weak comparison; `*` matches) → 304 for GET and HEAD,
 *    412 for other methods.
 * 4. Else, for GET and HEAD, If-Modified-Since, when a valid date and the representation has a
 *    Last-Modified: not modified after it → 304.
 *
 * An invalid date is ignored, as §13.1.3 and §13.1.4 require. If-Range (step 5) is
 * {@link ifRangeHolds}. A server evaluates preconditions only when the response without them
 * would be a 2xx (§13.2.1): a 404 stays a 404.
 *
 * @param method The request method.
 * @param fields The request's precondition fields.
 * @param validators The representation's ETag and Last-Modified.
 * @param nowMs The current time in milliseconds, for RFC 850 dates' two-digit years.
 * @returns What to answer.
 *
 * @example If-Match is evaluated before If-None-Match
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluatePreconditions } from "./conditional.ts";
 *
 * const validators = { etag: '"v2"', lastModified: Date.UTC(2024, 0, 1) };
 * const none = { ifMatch: null, ifNoneMatch: null, ifModifiedSince: null, ifUnmodifiedSince: null };
 * const now = Date.UTC(2026, 0, 1);
 * assert.equal(evaluatePreconditions("GET", { ...none, ifNoneMatch: 'W/"v2"' }, validators, now), "not-modified");
 * assert.equal(evaluatePreconditions("PUT", { ...none, ifNoneMatch: "*" }, validators, now), "precondition-failed");
 * assert.equal(
 *   evaluatePreconditions("GET", { ...none, ifMatch: '"v1"', ifNoneMatch: '"v2"' }, validators, now),
 *   "precondition-failed",
 * );
 * ```
 */
export function evaluatePreconditions(
  method: string,
  fields: PreconditionFields,
  validators: Validators,
  nowMs: number,
): PreconditionOutcome {
  const current = validators.etag === null ? null : parseEntityTag(validators.etag);
  const lastModified = validators.lastModified;
  if (fields.ifMatch !== null) {
    if (!listMatches(fields.ifMatch, current, strongMatch)) return "precondition-failed";
  } else if (fields.ifUnmodifiedSince !== null && lastModified !== null) {
    const date = parseHttpDate(fields.ifUnmodifiedSince, nowMs);
    if (date !== null && lastModified > date) return "precondition-failed";
  }
  const safe = method === "GET" || method === "HEAD";
  if (fields.ifNoneMatch !== null) {
    if (listMatches(fields.ifNoneMatch, current, weakMatch)) {
      return safe ? "not-modified" : "precondition-failed";
    }
  } else if (safe && fields.ifModifiedSince !== null && lastModified !== null) {
    const date = parseHttpDate(fields.ifModifiedSince, nowMs);
    if (date !== null && lastModified <= date) return "not-modified";
  }
  return "proceed";
}

/** Whether a list field matches the current tag: `*` always (the representation exists). */
function listMatches(
  value: string,
  current: EntityTag | null,
  compare: (a: EntityTag, b: EntityTag) => boolean,
): boolean {
  const list = parseEntityTagList(value);
  if (list === "*") return true;
  return current !== null && list.some((tag) => compare(tag, current));
}

/**
 * Evaluates If-Range (RFC 9110 §13.1.5) for a request with a Range field: whether to send the
 * ranges (true) or ignore the Range field and send the whole representation (false).
 * - An entity tag holds when it matches the current ETag by the strong comparison (a weak tag
 *   never does).
 * - An HTTP date holds when it is the Last-Modified time and that is a strong validator
 *   (§8.8.2.2): the representation was last modified at least one second before now, so that it
 *   cannot have changed twice within the second the date names.
 * - Anything else (an invalid date, a representation without that validator) does not hold.
 *
 * @param ifRange The If-Range value, or `null` when absent (which holds).
 * @param validators The representation's ETag and Last-Modified.
 * @param modifiedMs The representation's exact modification time in milliseconds.
 * @param nowMs The current time in milliseconds.
 * @returns Whether the Range field applies.
 *
 * @example A weak tag, or a date of a file changed this second, means the whole file
 * ```ts
 * import assert from "node:assert/strict";
 * import { ifRangeHolds } from "./conditional.ts";
 *
 * const lastModified = Date.UTC(2024, 0, 1);
 * const validators = { etag: '"v2"', lastModified };
 * assert.equal(ifRangeHolds('"v2"', validators, lastModified, Date.UTC(2026, 0, 1)), true);
 * assert.equal(ifRangeHolds('W/"v2"', validators, lastModified, Date.UTC(2026, 0, 1)), false);
 * assert.equal(ifRangeHolds("Mon, 01 Jan 2024 00:00:00 GMT", validators, lastModified, Date.UTC(2026, 0, 1)), true);
 * assert.equal(ifRangeHolds("Mon, 01 Jan 2024 00:00:00 GMT", validators, lastModified + 300, lastModified + 900), false);
 * ```
 */
export function ifRangeHolds(
  ifRange: string | null,
  validators: Validators,
  modifiedMs: number,
  nowMs: number,
): boolean {
  if (ifRange === null) return true;
  const text = ifRange.trim();
  if (text.startsWith('"') || text.startsWith("W/")) {
    const tag = parseEntityTag(text);
    const current = validators.etag === null ? null : parseEntityTag(validators.etag);
    return tag !== null && current !== null && strongMatch(tag, current);
  }
  const date = parseHttpDate(text, nowMs);
  if (date === null || validators.lastModified === null || date !== validators.lastModified) return false;
  return nowMs - modifiedMs >= 1000;
}
