/**
 * The range logic of src/static/ as pure functions, table-driven: the Range field read against a
 * length (single, suffix, open-ended, multiple, coalesced, capped, invalid, unsatisfiable), the
 * multipart/byteranges layout, and the range part of a file response (If-Range, HEAD, 416).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { multipartLayout, parseRange, type RangeDecision } from "../../src/static/range.ts";
import { planFileResponse } from "../../src/static/file_response.ts";

const r = (...pairs: [number, number][]): RangeDecision => ({
  kind: "partial",
  ranges: pairs.map(([start, end]) => ({ start, end })),
});
const WHOLE: RangeDecision = { kind: "whole" };
const UNSATISFIABLE: RangeDecision = { kind: "unsatisfiable" };

describe("parseRange", () => {
  const cases: { name: string; value: string | null; length?: number; expect: RangeDecision }[] = [
    { name: "no Range field", value: null, expect: WHOLE },
    { name: "a single range", value: "bytes=0-9", expect: r([0, 9]) },
    { name: "a single byte", value: "bytes=5-5", expect: r([5, 5]) },
    { name: "the last byte", value: "bytes=99-99", expect: r([99, 99]) },
    { name: "a last position past the end is the end", value: "bytes=90-1000", expect: r([90, 99]) },
    { name: "an open-ended range", value: "bytes=95-", expect: r([95, 99]) },
    { name: "all of it, open-ended", value: "bytes=0-", expect: r([0, 99]) },
    { name: "a suffix range", value: "bytes=-10", expect: r([90, 99]) },
    { name: "a suffix longer than the file is all of it", value: "bytes=-500", expect: r([0, 99]) },
    { name: "the unit is case-insensitive", value: "Bytes=0-0", expect: r([0, 0]) },
    { name: "a huge last position", value: "bytes=0-99999999999999999999999", expect: r([0, 99]) },
    { name: "leading zeros", value: "bytes=007-009", expect: r([7, 9]) },
    // Several ranges: kept apart, or coalesced, in the order named.
    { name: "two ranges apart, in order", value: "bytes=0-9,20-29", expect: r([0, 9], [20, 29]) },
    { name: "two ranges apart, in reverse order", value: "bytes=20-29,0-9", expect: r([20, 29], [0, 9]) },
    { name: "whitespace around commas", value: "bytes=0-9 ,\t20-29", expect: r([0, 9], [20, 29]) },
    { name: "empty list elements are skipped", value: "bytes=0-9,,20-29,", expect: r([0, 9], [20, 29]) },
    { name: "overlapping ranges are coalesced", value: "bytes=0-9,5-14", expect: r([0, 14]) },
    { name: "adjacent ranges are coalesced", value: "bytes=0-9,10-19", expect: r([0, 19]) },
    { name: "the same range twice is one", value: "bytes=0-9,0-9", expect: r([0, 9]) },
    { name: "a range inside another", value: "bytes=0-50,10-20", expect: r([0, 50]) },
    {
      name: "coalesced ranges take the place of the first one named",
      value: "bytes=50-59,0-9,55-64",
      expect: r([50, 64], [0, 9]),
    },
    { name: "a suffix that overlaps an open range", value: "bytes=90-,-5", expect: r([90, 99]) },
    { name: "ranges that together cover the file", value: "bytes=0-49,50-", expect: r([0, 99]) },
    // Unsatisfiable ranges are dropped; all unsatisfiable → 416.
    { name: "a first position at the end", value: "bytes=100-", expect: UNSATISFIABLE },
    { name: "a first position past the end", value: "bytes=200-300", expect: UNSATISFIABLE },
    { name: "a suffix of zero", value: "bytes=-0", expect: UNSATISFIABLE },
    { name: "a last position before the first", value: "bytes=9-0", expect: UNSATISFIABLE },
    {
      name: "an unsatisfiable range beside a good one is dropped",
      value: "bytes=0-4,200-300",
      expect: r([0, 4]),
    },
    { name: "an inverted range beside a good one is dropped", value: "bytes=9-0,0-4", expect: r([0, 4]) },
    // Not a range set of bytes: invalid → 416; another unit → ignored.
    { name: "no range set", value: "bytes=", expect: UNSATISFIABLE },
    { name: "only commas", value: "bytes=,,", expect: UNSATISFIABLE },
    { name: "a word", value: "bytes=abc", expect: UNSATISFIABLE },
    { name: "a lone dash", value: "bytes=-", expect: UNSATISFIABLE },
    { name: "a negative number", value: "bytes=--5", expect: UNSATISFIABLE },
    { name: "whitespace inside a range", value: "bytes=0 - 9", expect: UNSATISFIABLE },
    { name: "a decimal", value: "bytes=0.5-9", expect: UNSATISFIABLE },
    { name: "a good range then garbage", value: "bytes=0-9,x", expect: UNSATISFIABLE },
    { name: "whitespace before the =", value: "bytes =0-9", expect: WHOLE },
    { name: "another unit", value: "items=0-9", expect: WHOLE },
    { name: "no =", value: "bytes", expect: WHOLE },
    // The cap: more than 16 ranges → the whole file.
    {
      name: "16 ranges are served",
      value: `bytes=${Array.from({ length: 16 }, (_, i) => `${i * 5}-${i * 5 + 1}`).join(",")}`,
      expect: r(...Array.from({ length: 16 }, (_, i) => [i * 5, i * 5 + 1] as [number, number])),
    },
    {
      name: "17 ranges are ignored",
      value: `bytes=${Array.from({ length: 17 }, (_, i) => `${i * 5}-${i * 5 + 1}`).join(",")}`,
      expect: WHOLE,
    },
    {
      name: "17 overlapping ranges in descending order are ignored",
      value: `bytes=${Array.from({ length: 17 }, (_, i) => `${90 - i}-99`).join(",")}`,
      expect: WHOLE,
    },
    // An empty representation.
    { name: "an empty file: bytes=0- is unsatisfiable", value: "bytes=0-", length: 0, expect: UNSATISFIABLE },
    {
      name: "an empty file: a suffix gets the whole (empty) file",
      value: "bytes=-5",
      length: 0,
      expect: WHOLE,
    },
    {
      name: "an empty file: a suffix of zero is unsatisfiable",
      value: "bytes=-0",
      length: 0,
      expect: UNSATISFIABLE,
    },
    {
      name: "an empty file: a suffix among others gets the whole file",
      value: "bytes=0-1,-5",
      length: 0,
      expect: WHOLE,
    },
    { name: "an empty file: invalid is still invalid", value: "bytes=x", length: 0, expect: UNSATISFIABLE },
    { name: "a one-byte file", value: "bytes=-1", length: 1, expect: r([0, 0]) },
  ];
  for (const { name, value, length, expect } of cases) {
    it(`parseRange: ${name}`, () => {
      assert.deepEqual(parseRange(value, length ?? 100), expect);
    });
  }

  it("parseRange takes the cap as an argument", () => {
    assert.deepEqual(parseRange("bytes=0-1,5-6", 100, 1), WHOLE);
    assert.deepEqual(parseRange("bytes=0-1", 100, 1), r([0, 1]));
  });
});

describe("multipartLayout", () => {
  it("lays out each part with its Content-Type and Content-Range, and the closing delimiter, with the exact length", () => {
    const file = new TextEncoder().encode("0123456789");
    const layout = multipartLayout([{ start: 0, end: 1 }, { start: 8, end: 9 }], 10, "text/plain", "XYZ");
    assert.equal(layout.contentType, "multipart/byteranges; boundary=XYZ");
    let body = "";
    for (const piece of layout.pieces) {
      body += "text" in piece
        ? piece.text
        : new TextDecoder().decode(file.subarray(piece.range.start, piece.range.end + 1));
    }
    assert.equal(
      body,
      "--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01" +
        "\r\n--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89" +
        "\r\n--XYZ--\r\n",
    );
    assert.equal(layout.length, body.length);
  });
});

describe("planFileResponse and ranges", () => {
  const LM = Date.UTC(2024, 0, 15, 10, 0, 0);
  const file = {
    size: 100,
    etag: '"v2"',
    modifiedMs: LM,
    contentType: "application/octet-stream",
    contentEncoding: null,
    vary: null,
    cacheControl: null,
  };
  const none = {
    ifMatch: null,
    ifNoneMatch: null,
    ifModifiedSince: null,
    ifUnmodifiedSince: null,
    ifRange: null,
  };
  const settings = { nowMs: Date.UTC(2026, 0, 1), boundary: "B" };
  const plan = (fields: { method?: string; range?: string | null; ifRange?: string | null }) =>
    planFileResponse({ ...none, method: "GET", range: null, ...fields }, file, settings);
  const field = (p: ReturnType<typeof plan>, name: string) => Object.fromEntries(p.headers)[name];

  const cases: {
    name: string;
    fields: Parameters<typeof plan>[0];
    status: number;
    contentRange?: string;
    length: number;
  }[] = [
    {
      name: "a single range",
      fields: { range: "bytes=10-19" },
      status: 206,
      contentRange: "bytes 10-19/100",
      length: 10,
    },
    {
      name: "a suffix range",
      fields: { range: "bytes=-1" },
      status: 206,
      contentRange: "bytes 99-99/100",
      length: 1,
    },
    {
      name: "coalesced into one",
      fields: { range: "bytes=0-4,5-9" },
      status: 206,
      contentRange: "bytes 0-9/100",
      length: 10,
    },
    {
      name: "unsatisfiable",
      fields: { range: "bytes=100-" },
      status: 416,
      contentRange: "bytes */100",
      length: 0,
    },
    { name: "invalid", fields: { range: "bytes=x-y" }, status: 416, contentRange: "bytes */100", length: 0 },
    { name: "HEAD ignores Range", fields: { method: "HEAD", range: "bytes=0-9" }, status: 200, length: 100 },
    {
      name: "If-Range with the tag",
      fields: { range: "bytes=0-9", ifRange: '"v2"' },
      status: 206,
      contentRange: "bytes 0-9/100",
      length: 10,
    },
    {
      name: "If-Range with another tag",
      fields: { range: "bytes=0-9", ifRange: '"v1"' },
      status: 200,
      length: 100,
    },
    {
      name: "If-Range with a weak tag",
      fields: { range: "bytes=0-9", ifRange: 'W/"v2"' },
      status: 200,
      length: 100,
    },
    {
      name: "If-Range with the date",
      fields: { range: "bytes=0-9", ifRange: "Mon, 15 Jan 2024 10:00:00 GMT" },
      status: 206,
      contentRange: "bytes 0-9/100",
      length: 10,
    },
    {
      name: "If-Range with another date",
      fields: { range: "bytes=0-9", ifRange: "Mon, 15 Jan 2024 10:00:01 GMT" },
      status: 200,
      length: 100,
    },
    {
      name: "If-Range with a failing tag on an unsatisfiable range",
      fields: { range: "bytes=500-", ifRange: '"v1"' },
      status: 200,
      length: 100,
    },
    { name: "If-Range without Range", fields: { ifRange: '"v1"' }, status: 200, length: 100 },
  ];
  for (const { name, fields, status, contentRange, length } of cases) {
    it(`planFileResponse: ${name} → ${status}`, () => {
      const decided = plan(fields);
      assert.equal(decided.status, status);
      assert.equal(field(decided, "content-range"), contentRange);
      assert.equal(field(decided, "accept-ranges"), "bytes");
      assert.equal(decided.length, length);
      assert.equal(field(decided, "content-length"), String(length));
    });
  }

  it("planFileResponse: several ranges make a multipart/byteranges body with the exact Content-Length", () => {
    const decided = plan({ range: "bytes=0-0,-1" });
    assert.equal(decided.status, 206);
    assert.equal(field(decided, "content-type"), "multipart/byteranges; boundary=B");
    assert.equal(field(decided, "content-range"), undefined);
    const length = decided.pieces.reduce(
      (sum, piece) => sum + ("text" in piece ? piece.text.length : piece.range.end - piece.range.start + 1),
      0,
    );
    assert.equal(decided.length, length);
    assert.equal(field(decided, "content-length"), String(length));
    assert.deepEqual(decided.pieces.filter((piece) => "range" in piece), [
      { range: { start: 0, end: 0 } },
      { range: { start: 99, end: 99 } },
    ]);
  });

  it("planFileResponse: an empty file gets 200 for a suffix range, 416 for another", () => {
    const empty = planFileResponse(
      { ...none, method: "GET", range: "bytes=-5" },
      { ...file, size: 0 },
      settings,
    );
    assert.deepEqual([empty.status, empty.length, empty.pieces], [200, 0, []]);
    const start = planFileResponse(
      { ...none, method: "GET", range: "bytes=0-" },
      { ...file, size: 0 },
      settings,
    );
    assert.deepEqual([start.status, field(start, "content-range")], [416, "bytes */0"]);
  });

  it("planFileResponse: a 416 carries Content-Range and Accept-Ranges, not the validators", () => {
    const decided = plan({ range: "bytes=100-" });
    assert.deepEqual(Object.fromEntries(decided.headers), {
      "content-range": "bytes */100",
      "content-length": "0",
      "accept-ranges": "bytes",
    });
  });
});
