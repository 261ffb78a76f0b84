/**
 * The choice of a content coding from Accept-Encoding (RFC 9110 §12.5.3), on a table of field
 * values: q-values, case, whitespace, `*`, `identity;q=0`, invalid weights and duplicates.
 *
 * @module
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  acceptedWeights,
  acceptEncodingOf,
  type ContentCoding,
  EncodingNegotiator,
  negotiateEncoding,
} from "../../src/compression/negotiate.ts";

const ALL: readonly ContentCoding[] = ["br", "zstd", "gzip"];

/** [Accept-Encoding (null: none sent), the codings offered, the coding chosen (null: none)]. */
const TABLE: readonly [string | null, readonly ContentCoding[], ContentCoding | null][] = [
  // No field, an empty one, only codings the server lacks.
  [null, ALL, null],
  ["", ALL, null],
  [" , ,", ALL, null],
  ["deflate, compress", ALL, null],
  // Browsers' values: all weighed 1, so the server's order decides.
  ["gzip, deflate, br, zstd", ALL, "br"],
  ["gzip, deflate, br", ALL, "br"],
  ["gzip, br", ["zstd", "gzip", "br"], "gzip"],
  ["gzip, deflate", ALL, "gzip"],
  ["zstd", ALL, "zstd"],
  ["br", ["gzip"], null],
  // q-values decide before the server's order.
  ["gzip;q=1, br;q=0.5", ALL, "gzip"],
  ["br;q=0.5, gzip;q=0.8, zstd;q=0.9", ALL, "zstd"],
  ["br;q=0.001, gzip;q=0.002", ALL, "gzip"],
  ["gzip;q=1.000, br;q=0.999", ALL, "gzip"],
  ["gzip;q=0, br", ALL, "br"],
  ["gzip;q=0", ALL, null],
  ["gzip;q=0.000", ALL, null],
  ["gzip;q=0.", ALL, null],
  ["gzip;q=1.", ALL, "gzip"],
  // Case and whitespace: names, the q, and the space around ; and = do not matter.
  ["GZIP", ALL, "gzip"],
  ["Br;Q=0.5, GZip;q=0.4", ALL, "br"],
  ["  gzip ; q = 0.5 ,  br ;q=0.9  ", ALL, "br"],
  ["\tgzip\t", ALL, "gzip"],
  // Other parameters are ignored.
  ["gzip;level=9, br;q=0.5;foo=bar", ALL, "gzip"],
  // x-gzip is gzip (RFC 9110 §8.4.1.3).
  ["x-gzip", ALL, "gzip"],
  ["X-GZIP;q=0.9, br;q=0.5", ALL, "gzip"],
  // "*" weighs every coding not named.
  ["*", ALL, "br"],
  ["*;q=0.5, gzip", ALL, "gzip"],
  ["*;q=0.1, br;q=0", ALL, "zstd"],
  ["*;q=0", ALL, null],
  ["*;q=0, gzip;q=0.1", ALL, "gzip"],
  ["br;q=0, *", ["br", "gzip"], "gzip"],
  // identity: a client that weighs it above the best coding gets none; identity;q=0 alone leaves
  // no acceptable coding, and the body goes as it is (RFC 9110 §12.5.3, no 406).
  ["gzip;q=0.5, identity", ALL, null],
  ["gzip;q=0.5, identity;q=0.4", ALL, "gzip"],
  ["gzip, identity;q=1", ALL, "gzip"],
  ["gzip, identity;q=0", ALL, "gzip"],
  ["identity;q=0", ALL, null],
  ["identity", ALL, null],
  ["identity;q=0, *;q=0", ALL, null],
  ["br, *;q=0", ALL, "br"],
  // Invalid weights: the element is ignored, as if it were not sent.
  ["gzip;q=2", ALL, null],
  ["gzip;q=1.5, br;q=0.1", ALL, "br"],
  ["gzip;q=-1", ALL, null],
  ["gzip;q=0.1234", ALL, null],
  ["gzip;q=abc, br", ALL, "br"],
  ["gzip;q=", ALL, null],
  ["gzip;q=.5", ALL, null],
  ["br;q=0.5e1, gzip;q=0.1", ALL, "gzip"],
  ["gzip;q=0x1", ALL, null],
  // Duplicates count with their highest weight.
  ["gzip;q=0, gzip;q=0.5", ALL, "gzip"],
  ["gzip;q=0.5, gzip;q=0", ALL, "gzip"],
  ["br;q=0.2, gzip;q=0.3, br;q=0.9", ALL, "br"],
  ["gzip, gzip, gzip", ALL, "gzip"],
  ["identity;q=0.9, identity;q=0.1, gzip;q=0.5", ALL, null],
];

describe("negotiateEncoding", () => {
  for (const [value, offered, expected] of TABLE) {
    test(`${JSON.stringify(value)} offered ${offered.join(",")} → ${String(expected)}`, () => {
      assert.equal(negotiateEncoding(value, offered), expected);
    });
  }

  test("EncodingNegotiator gives the same answers as negotiateEncoding, value after value", () => {
    const negotiator = new EncodingNegotiator(ALL);
    for (const round of [1, 2]) {
      for (const [value, offered, expected] of TABLE) {
        if (offered !== ALL) continue;
        assert.equal(negotiator.choose(value), expected, `round ${round}: ${JSON.stringify(value)}`);
      }
    }
  });
});

describe("acceptedWeights", () => {
  test("weights by lower-case name; an invalid weight drops its element; a duplicate keeps its highest", () => {
    assert.deepEqual(
      [...acceptedWeights("GZIP;q=0.5, br;q=x, gzip;q=0.7, *;q=0, Identity;Q=0.250")],
      [["gzip", 0.7], ["*", 0], ["identity", 0.25]],
    );
  });
});

describe("acceptEncodingOf", () => {
  test("finds the field in any case, joins repeated lines, and is null without one", () => {
    assert.equal(acceptEncodingOf(["Host", "a", "aCCept-encoDING", "br"]), "br");
    assert.equal(
      acceptEncodingOf(["Accept-Encoding", "gzip;q=0.5", "x", "y", "Accept-Encoding", "br"]),
      "gzip;q=0.5, br",
    );
    assert.equal(acceptEncodingOf(["Accept", "gzip", "Accept-Encodings", "gzip"]), null);
    assert.equal(
      negotiateEncoding(acceptEncodingOf(["Accept-Encoding", "br;q=0", "Accept-Encoding", "gzip"]), ALL),
      "gzip",
    );
  });
});
