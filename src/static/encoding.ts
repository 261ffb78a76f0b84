/**
 * Content codings for precompressed files: which of a file's `.br` and `.gz` siblings a request's
 * Accept-Encoding (RFC 9110 §12.5.3) accepts best. A pure function.
 *
 * @module
 */

import { negotiateEncoding } from "../compression/negotiate.ts";

/** A coding a precompressed sibling may have, and its file suffix. */
export type PrecompressedCoding = "br" | "gzip";

/** The suffix of each coding's sibling file. */
export const CODING_SUFFIXES: Readonly<Record<PrecompressedCoding, string>> = Object.freeze({
  br: ".br",
  gzip: ".gz",
});

/**
 * Chooses the coding to send among those available, from an Accept-Encoding value (RFC 9110
 * §12.5.3), as the server's compression does ({@link negotiateEncoding}): the acceptable one (q > 0)
 * with the highest q-value, the first available on a tie. A coding not named takes the q-value of
 * `*`, if present, and is not acceptable otherwise; `x-gzip` is `gzip` (§8.4.1.3); an `identity`
 * preferred to every coding keeps the file as it is. With no Accept-Encoding field, no coding is
 * chosen (the identity is always acceptable and the safest).
 *
 * @param acceptEncoding The Accept-Encoding value, or `null` when absent.
 * @param available The codings whose sibling exists, in order of preference.
 * @returns The coding to send, or `null` for the identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseCoding } from "./encoding.ts";
 *
 * assert.equal(chooseCoding("gzip, deflate, br", ["br", "gzip"]), "br");
 * assert.equal(chooseCoding("br;q=0.5, gzip;q=0.8", ["br", "gzip"]), "gzip");
 * assert.equal(chooseCoding("*;q=0.1, br;q=0", ["br", "gzip"]), "gzip");
 * assert.equal(chooseCoding("identity", ["br", "gzip"]), null);
 * assert.equal(chooseCoding(null, ["gzip"]), null);
 * ```
 */
export function chooseCoding(
  acceptEncoding: string | null,
  available: readonly PrecompressedCoding[],
): PrecompressedCoding | null {
  // The same negotiation as the server's compression: one reading of Accept-Encoding.
  return negotiateEncoding(acceptEncoding, available) as PrecompressedCoding | null;
}
