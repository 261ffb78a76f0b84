/**
 * Choosing a response's content coding from the request's `Accept-Encoding` (RFC 9110 §12.5.3),
 * with no runtime API: the field is read from the request head's flat field list, and the choice
 * is made among the codings the server offers, in the server's order of preference.
 *
 * The rules, as {@link negotiateEncoding} applies them:
 * - Each element is a coding name (any case) with an optional weight `q` from 0 to 1 (up to three
 *   decimals); a weight of 0 means "not acceptable". Other parameters are ignored.
 * - An element whose `q` is not a valid weight is ignored, as if it were not sent.
 * - A coding listed twice counts with its highest weight; `x-gzip` is `gzip` (RFC 9110 §8.4.1.3).
 * - `*` gives its weight to every offered coding not listed by name.
 * - The offered coding of highest weight wins; a tie goes to the server's order.
 * - `identity` (no coding) is chosen instead when the request lists it by name with a higher weight
 *   than the best coding: the client prefers the body as it is.
 * - When no offered coding is acceptable, the answer is no coding, even when `identity;q=0` or
 *   `*;q=0` refuses that too: RFC 9110 §12.5.3 lets the server send it then rather than a 406, which
 *   is what clients cope with (and what the HTTP working group meant, httpwg/http-core#980).
 * - No field, or an empty one: no coding.
 *
 * @module
 */

import { isNamed } from "../core/_bytes.ts";

/**
 * A content coding the server can apply: Brotli, gzip or Zstandard (RFC 9110 §8.4.1, RFC 8878).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ContentCoding } from "./negotiate.ts";
 *
 * const codings: ContentCoding[] = ["br", "zstd", "gzip"];
 * assert.equal(codings.length, 3);
 * ```
 */
export type ContentCoding = "br" | "gzip" | "zstd";

/**
 * Every content coding h1serve knows, in its default order of preference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONTENT_CODINGS } from "./negotiate.ts";
 *
 * assert.deepEqual(CONTENT_CODINGS, ["br", "zstd", "gzip"]);
 * ```
 */
export const CONTENT_CODINGS: readonly ContentCoding[] = Object.freeze(["br", "zstd", "gzip"]);

/** A valid weight (RFC 9110 §12.4.2): `0`, `0.` and up to three digits, or `1`, `1.` and up to three zeros. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The `Accept-Encoding` value of a request head: its fields joined with `, ` when it was sent in
 * more than one line, or `null` without one.
 *
 * @param fields The head's fields as a flat list: name, value, name, value…
 * @returns The combined value, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptEncodingOf } from "./negotiate.ts";
 *
 * assert.equal(acceptEncodingOf(["Host", "a", "Accept-Encoding", "gzip"]), "gzip");
 * assert.equal(acceptEncodingOf(["accept-encoding", "br", "ACCEPT-ENCODING", "gzip"]), "br, gzip");
 * assert.equal(acceptEncodingOf(["Host", "a"]), null);
 * ```
 */
export function acceptEncodingOf(fields: readonly string[]): string | null {
  let value: string | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    if (isNamed(fields[i], "accept-encoding")) {
      value = value === null ? fields[i + 1] : `${value}, ${fields[i + 1]}`;
    }
  }
  return value;
}

/**
 * The weights an `Accept-Encoding` value gives, by coding name in lower case (`*` and `identity`
 * included); elements with an invalid weight are left out, and a name listed twice keeps its highest.
 *
 * @param value The field value.
 * @returns Each listed name and its weight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptedWeights } from "./negotiate.ts";
 *
 * const weights = acceptedWeights("GZIP;q=0.5, br ; Q = 1, zstd;q=2, *;q=0");
 * assert.deepEqual([...weights], [["gzip", 0.5], ["br", 1], ["*", 0]]);
 * ```
 */
export function acceptedWeights(value: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const element of value.split(",")) {
    const parts = element.split(";");
    const listed = parts[0].trim().toLowerCase();
    if (listed === "") continue;
    const name = listed === "x-gzip" ? "gzip" : listed; // the same coding (RFC 9110 §8.4.1.3)
    let weight = 1;
    for (let i = 1; i < parts.length; i++) {
      const equals = parts[i].indexOf("=");
      if (equals === -1 || parts[i].slice(0, equals).trim().toLowerCase() !== "q") continue;
      const text = parts[i].slice(equals + 1).trim();
      weight = QVALUE.test(text) ? Number(text) : NaN;
    }
    if (Number.isNaN(weight)) continue; // an invalid weight: the element is ignored
    const before = weights.get(name);
    if (before === undefined || weight > before) weights.set(name, weight);
  }
  return weights;
}

/**
 * The content coding to send a response in, by the request's `Accept-Encoding` (the rules are in
 * this module's summary), or `null` for none.
 *
 * @param acceptEncoding The request's field value, or `null` when it sent none.
 * @param offered The codings the server offers, in its order of preference.
 * @returns The coding, or `null` to send the body as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { negotiateEncoding } from "./negotiate.ts";
 *
 * const offered = ["br", "zstd", "gzip"] as const;
 * assert.equal(negotiateEncoding("gzip, deflate, br, zstd", offered), "br");
 * assert.equal(negotiateEncoding("gzip;q=1, br;q=0.5", offered), "gzip");
 * assert.equal(negotiateEncoding("*;q=0.1, br;q=0", offered), "zstd");
 * assert.equal(negotiateEncoding("gzip;q=0.5, identity", offered), null);
 * assert.equal(negotiateEncoding("identity;q=0", offered), null);
 * assert.equal(negotiateEncoding(null, offered), null);
 * ```
 */
export function negotiateEncoding(
  acceptEncoding: string | null,
  offered: readonly ContentCoding[],
): ContentCoding | null {
  if (acceptEncoding === null) return null;
  const weights = acceptedWeights(acceptEncoding);
  const anyOther = weights.get("*") ?? 0;
  let best: ContentCoding | null = null;
  let bestWeight = 0;
  for (const coding of offered) {
    const weight = weights.get(coding) ?? anyOther;
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  const identity = weights.get("identity");
  if (best !== null && identity !== undefined && identity > bestWeight) return null;
  return best;
}

/**
 * {@link negotiateEncoding} for one server's offer, remembering its last answer: clients of one
 * kind send the same `Accept-Encoding` over and over, which is then read once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EncodingNegotiator } from "./negotiate.ts";
 *
 * const negotiator = new EncodingNegotiator(["gzip"]);
 * assert.equal(negotiator.choose("gzip, br"), "gzip");
 * assert.equal(negotiator.choose("gzip, br"), "gzip");
 * assert.equal(negotiator.choose("br"), null);
 * assert.equal(negotiator.choose(null), null);
 * ```
 */
export class EncodingNegotiator {
  readonly #offered: readonly ContentCoding[];
  #lastValue: string | null = null;
  #lastChoice: ContentCoding | null = null;

  /** @param offered The codings the server offers, in its order of preference. */
  constructor(offered: readonly ContentCoding[]) {
    this.#offered = offered;
  }

  /**
   * The coding for a request's `Accept-Encoding`.
   * @param acceptEncoding The field value, or `null`.
   * @returns The coding, or `null` for none.
   */
  choose(acceptEncoding: string | null): ContentCoding | null {
    if (acceptEncoding === null) return null;
    if (acceptEncoding !== this.#lastValue) {
      this.#lastChoice = negotiateEncoding(acceptEncoding, this.#offered);
      this.#lastValue = acceptEncoding;
    }
    return this.#lastChoice;
  }
}
