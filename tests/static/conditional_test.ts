/**
 * The conditional-request logic of src/static/ as pure functions, table-driven: HTTP dates in
 * their three formats (and the invalid ones a recipient ignores), entity-tag lists, the four
 * preconditions in RFC 9110 §13.2.2's order, If-Range, and the 304 a file response carries.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatHttpDate, lastModifiedOf, parseHttpDate } from "../../src/static/http_date.ts";
import { fileEtag, parseEntityTagList } from "../../src/static/etag.ts";
import {
  evaluatePreconditions,
  ifRangeHolds,
  type PreconditionFields,
  type PreconditionOutcome,
} from "../../src/static/conditional.ts";
import { planFileResponse } from "../../src/static/file_response.ts";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const INSTANT = Date.UTC(1994, 10, 6, 8, 49, 37);

describe("parseHttpDate", () => {
  const cases: { name: string; value: string; now?: number; expect: number | null }[] = [
    { name: "IMF-fixdate", value: "Sun, 06 Nov 1994 08:49:37 GMT", expect: INSTANT },
    {
      name: "IMF-fixdate with surrounding whitespace",
      value: "  Sun, 06 Nov 1994 08:49:37 GMT ",
      expect: INSTANT,
    },
    {
      name: "RFC 850, two-digit year in the past century",
      value: "Sunday, 06-Nov-94 08:49:37 GMT",
      expect: INSTANT,
    },
    {
      name: "RFC 850, two-digit year of this century",
      value: "Tuesday, 24-Nov-26 12:00:00 GMT",
      expect: NOW,
    },
    {
      name: "RFC 850, a year 50 years ahead is still ahead",
      value: "Sunday, 24-Nov-75 12:00:00 GMT",
      expect: Date.UTC(2075, 10, 24, 12),
    },
    {
      name: "RFC 850, a year more than 50 years ahead is the past century's",
      value: "Wednesday, 24-Nov-77 12:00:00 GMT",
      expect: Date.UTC(1977, 10, 24, 12),
    },
    {
      name: "RFC 850 near the end of a century: 01 is the next century's",
      value: "Monday, 01-Jan-01 00:00:00 GMT",
      now: Date.UTC(2099, 0, 1),
      expect: Date.UTC(2101, 0, 1),
    },
    { name: "asctime with a one-digit day", value: "Sun Nov  6 08:49:37 1994", expect: INSTANT },
    {
      name: "asctime with a two-digit day",
      value: "Wed Nov 16 08:49:37 1994",
      expect: Date.UTC(1994, 10, 16, 8, 49, 37),
    },
    {
      name: "a leap second counts as :59",
      value: "Wed, 31 Dec 2016 23:59:60 GMT",
      expect: Date.UTC(2016, 11, 31, 23, 59, 59),
    },
    { name: "Feb 29 of a leap year", value: "Thu, 29 Feb 2024 00:00:00 GMT", expect: Date.UTC(2024, 1, 29) },
    { name: "Feb 29 of another year", value: "Thu, 29 Feb 2023 00:00:00 GMT", expect: null },
    { name: "Feb 31", value: "Sun, 31 Feb 1994 08:49:37 GMT", expect: null },
    { name: "day 00", value: "Sun, 00 Nov 1994 08:49:37 GMT", expect: null },
    { name: "hour 24", value: "Sun, 06 Nov 1994 24:00:00 GMT", expect: null },
    { name: "minute 60", value: "Sun, 06 Nov 1994 08:60:00 GMT", expect: null },
    { name: "second 61", value: "Sun, 06 Nov 1994 08:49:61 GMT", expect: null },
    { name: "a time zone other than GMT", value: "Sun, 06 Nov 1994 08:49:37 UTC", expect: null },
    { name: "a numeric offset", value: "Sun, 06 Nov 1994 08:49:37 +0000", expect: null },
    {
      name: "lowercase month (the grammar is case-sensitive)",
      value: "Sun, 06 nov 1994 08:49:37 GMT",
      expect: null,
    },
    { name: "an unknown day name", value: "Xyz, 06 Nov 1994 08:49:37 GMT", expect: null },
    { name: "a one-digit day in IMF-fixdate", value: "Sun, 6 Nov 1994 08:49:37 GMT", expect: null },
    { name: "a two-digit year in IMF-fixdate", value: "Sun, 06 Nov 94 08:49:37 GMT", expect: null },
    {
      name: "a list of two dates",
      value: "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
      expect: null,
    },
    { name: "a number of seconds", value: "784111777", expect: null },
    { name: "ISO 8601", value: "1994-11-06T08:49:37Z", expect: null },
    { name: "empty", value: "", expect: null },
    { name: "asctime with a zero-padded day", value: "Sun Nov 06 08:49:37 1994", expect: INSTANT },
    { name: "RFC 850 with a short day name", value: "Sun, 06-Nov-94 08:49:37 GMT", expect: null },
  ];
  for (const { name, value, now, expect } of cases) {
    it(`parseHttpDate reads ${name}`, () => {
      assert.equal(parseHttpDate(value, now ?? NOW), expect);
    });
  }

  it("formatHttpDate writes IMF-fixdate, which parseHttpDate reads back, to the second", () => {
    for (const ms of [0, INSTANT + 999, NOW, Date.UTC(2000, 1, 29, 23, 59, 59)]) {
      const text = formatHttpDate(ms);
      assert.match(text, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      assert.equal(parseHttpDate(text, NOW), Math.floor(ms / 1000) * 1000);
    }
  });

  it("lastModifiedOf truncates to the second and never goes past now (RFC 9110 §8.8.2.1)", () => {
    assert.equal(lastModifiedOf(INSTANT + 999, NOW), INSTANT);
    assert.equal(lastModifiedOf(NOW + 60_000, NOW + 500), NOW);
  });
});

describe("entity tags", () => {
  it("parseEntityTagList reads lists, weak tags, commas inside tags, and stops at garbage", () => {
    assert.equal(parseEntityTagList("*"), "*");
    assert.deepEqual(parseEntityTagList('"a,b", W/"c"'), [{ opaque: '"a,b"', weak: false }, {
      opaque: '"c"',
      weak: true,
    }]);
    assert.deepEqual(parseEntityTagList(' , "a" ,, "b" '), [{ opaque: '"a"', weak: false }, {
      opaque: '"b"',
      weak: false,
    }]);
    assert.deepEqual(parseEntityTagList('"a" junk'), [{ opaque: '"a"', weak: false }]);
    assert.deepEqual(parseEntityTagList("a, b"), []);
    assert.deepEqual(parseEntityTagList('"a", *'), [{ opaque: '"a"', weak: false }]);
    assert.deepEqual(parseEntityTagList('"unterminated'), []);
    assert.deepEqual(parseEntityTagList('"sp ace"'), []);
  });

  it("fileEtag changes with the inode, the size and the millisecond of the modification", () => {
    const base = { ino: 10, size: 100, mtimeMs: 1_000.4 };
    const tag = fileEtag(base);
    assert.match(tag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(fileEtag({ ...base, mtimeMs: 1_000.9 }), tag);
    for (const other of [{ ...base, ino: 11 }, { ...base, size: 101 }, { ...base, mtimeMs: 1_001 }]) {
      assert.notEqual(fileEtag(other), tag);
    }
  });
});

const LM = Date.UTC(2024, 0, 15, 10, 0, 0);
const LM_TEXT = "Mon, 15 Jan 2024 10:00:00 GMT";
const BEFORE = "Sun, 14 Jan 2024 10:00:00 GMT";
const AFTER = "Tue, 16 Jan 2024 10:00:00 GMT";
const VALIDATORS = { etag: '"v2"', lastModified: LM };
const NONE: PreconditionFields = {
  ifMatch: null,
  ifNoneMatch: null,
  ifModifiedSince: null,
  ifUnmodifiedSince: null,
};

describe("evaluatePreconditions", () => {
  const cases: {
    name: string;
    method?: string;
    fields: Partial<PreconditionFields>;
    expect: PreconditionOutcome;
  }[] = [
    { name: "no preconditions", fields: {}, expect: "proceed" },
    // Step 1: If-Match, strong comparison.
    { name: "If-Match with the current tag", fields: { ifMatch: '"v2"' }, expect: "proceed" },
    { name: "If-Match in a list", fields: { ifMatch: '"v1", "v2"' }, expect: "proceed" },
    { name: "If-Match with another tag", fields: { ifMatch: '"v1"' }, expect: "precondition-failed" },
    {
      name: "If-Match with the tag marked weak (strong comparison)",
      fields: { ifMatch: 'W/"v2"' },
      expect: "precondition-failed",
    },
    { name: "If-Match *", fields: { ifMatch: "*" }, expect: "proceed" },
    { name: "If-Match garbage", fields: { ifMatch: "v2" }, expect: "precondition-failed" },
    {
      name: "If-Match fails on PUT too",
      method: "PUT",
      fields: { ifMatch: '"v1"' },
      expect: "precondition-failed",
    },
    // Step 2: If-Unmodified-Since, only without If-Match.
    { name: "If-Unmodified-Since after the change", fields: { ifUnmodifiedSince: AFTER }, expect: "proceed" },
    { name: "If-Unmodified-Since at the change", fields: { ifUnmodifiedSince: LM_TEXT }, expect: "proceed" },
    {
      name: "If-Unmodified-Since before the change",
      fields: { ifUnmodifiedSince: BEFORE },
      expect: "precondition-failed",
    },
    {
      name: "If-Unmodified-Since invalid is ignored",
      fields: { ifUnmodifiedSince: "yesterday" },
      expect: "proceed",
    },
    {
      name: "If-Unmodified-Since is ignored when If-Match is present (and holds)",
      fields: { ifMatch: '"v2"', ifUnmodifiedSince: BEFORE },
      expect: "proceed",
    },
    // Step 3: If-None-Match, weak comparison.
    { name: "If-None-Match with the current tag", fields: { ifNoneMatch: '"v2"' }, expect: "not-modified" },
    {
      name: "If-None-Match with the tag marked weak (weak comparison)",
      fields: { ifNoneMatch: 'W/"v2"' },
      expect: "not-modified",
    },
    { name: "If-None-Match in a list", fields: { ifNoneMatch: '"v0", "v2"' }, expect: "not-modified" },
    { name: "If-None-Match with another tag", fields: { ifNoneMatch: '"v1"' }, expect: "proceed" },
    { name: "If-None-Match *", fields: { ifNoneMatch: "*" }, expect: "not-modified" },
    {
      name: "If-None-Match on HEAD",
      method: "HEAD",
      fields: { ifNoneMatch: '"v2"' },
      expect: "not-modified",
    },
    {
      name: "If-None-Match on POST is 412",
      method: "POST",
      fields: { ifNoneMatch: '"v2"' },
      expect: "precondition-failed",
    },
    {
      name: "If-None-Match * on PUT is 412",
      method: "PUT",
      fields: { ifNoneMatch: "*" },
      expect: "precondition-failed",
    },
    { name: "If-None-Match garbage matches nothing", fields: { ifNoneMatch: "v2" }, expect: "proceed" },
    // Step 4: If-Modified-Since, GET and HEAD only, only without If-None-Match.
    { name: "If-Modified-Since at the change", fields: { ifModifiedSince: LM_TEXT }, expect: "not-modified" },
    {
      name: "If-Modified-Since after the change",
      fields: { ifModifiedSince: AFTER },
      expect: "not-modified",
    },
    { name: "If-Modified-Since before the change", fields: { ifModifiedSince: BEFORE }, expect: "proceed" },
    {
      name: "If-Modified-Since in RFC 850 form",
      fields: { ifModifiedSince: "Monday, 15-Jan-24 10:00:00 GMT" },
      expect: "not-modified",
    },
    {
      name: "If-Modified-Since in asctime form",
      fields: { ifModifiedSince: "Mon Jan 15 10:00:00 2024" },
      expect: "not-modified",
    },
    {
      name: "If-Modified-Since invalid is ignored",
      fields: { ifModifiedSince: "Mon, 15 Jan 2024 10:00:00 CET" },
      expect: "proceed",
    },
    {
      name: "If-Modified-Since as a list is invalid",
      fields: { ifModifiedSince: `${LM_TEXT}, ${LM_TEXT}` },
      expect: "proceed",
    },
    {
      name: "If-Modified-Since on POST is ignored",
      method: "POST",
      fields: { ifModifiedSince: AFTER },
      expect: "proceed",
    },
    {
      name: "If-Modified-Since is ignored when If-None-Match is present (304 from the tag)",
      fields: { ifNoneMatch: '"v2"', ifModifiedSince: BEFORE },
      expect: "not-modified",
    },
    {
      name: "If-Modified-Since is ignored when If-None-Match is present (200 from the tag)",
      fields: { ifNoneMatch: '"v1"', ifModifiedSince: AFTER },
      expect: "proceed",
    },
    // The order: 412 before 304.
    {
      name: "a failing If-Match wins over a matching If-None-Match",
      fields: { ifMatch: '"v1"', ifNoneMatch: '"v2"' },
      expect: "precondition-failed",
    },
    {
      name: "a failing If-Unmodified-Since wins over a matching If-None-Match",
      fields: { ifUnmodifiedSince: BEFORE, ifNoneMatch: '"v2"' },
      expect: "precondition-failed",
    },
    {
      name: "a holding If-Match, then a matching If-None-Match",
      fields: { ifMatch: '"v2"', ifNoneMatch: '"v2"' },
      expect: "not-modified",
    },
  ];
  for (const { name, method, fields, expect } of cases) {
    it(`evaluatePreconditions: ${name} → ${expect}`, () => {
      assert.equal(evaluatePreconditions(method ?? "GET", { ...NONE, ...fields }, VALIDATORS, NOW), expect);
    });
  }

  it("evaluatePreconditions ignores date conditions for a representation without Last-Modified", () => {
    const validators = { etag: '"v2"', lastModified: null };
    assert.equal(
      evaluatePreconditions("GET", { ...NONE, ifModifiedSince: AFTER }, validators, NOW),
      "proceed",
    );
    assert.equal(
      evaluatePreconditions("GET", { ...NONE, ifUnmodifiedSince: BEFORE }, validators, NOW),
      "proceed",
    );
  });

  it("evaluatePreconditions: If-Match with a tag fails for a representation without an ETag, * holds", () => {
    const validators = { etag: null, lastModified: LM };
    assert.equal(
      evaluatePreconditions("GET", { ...NONE, ifMatch: '"v2"' }, validators, NOW),
      "precondition-failed",
    );
    assert.equal(evaluatePreconditions("GET", { ...NONE, ifMatch: "*" }, validators, NOW), "proceed");
  });
});

describe("ifRangeHolds", () => {
  const old = NOW - 86_400_000;
  const cases: { name: string; ifRange: string | null; modified?: number; expect: boolean }[] = [
    { name: "absent", ifRange: null, expect: true },
    { name: "the current tag", ifRange: '"v2"', expect: true },
    { name: "the current tag marked weak (strong comparison)", ifRange: 'W/"v2"', expect: false },
    { name: "another tag", ifRange: '"v1"', expect: false },
    { name: "a list of tags (not one tag)", ifRange: '"v1", "v2"', expect: false },
    { name: "the Last-Modified date, long ago", ifRange: LM_TEXT, expect: true },
    {
      name: "the Last-Modified date in RFC 850 form",
      ifRange: "Monday, 15-Jan-24 10:00:00 GMT",
      expect: true,
    },
    { name: "a later date (not an exact match)", ifRange: AFTER, expect: false },
    { name: "an earlier date", ifRange: BEFORE, expect: false },
    { name: "an invalid date", ifRange: "Mon, 15 Jan 2024 10:00:00 UTC", expect: false },
    {
      name: "the date of a file changed less than a second ago (weak)",
      ifRange: LM_TEXT,
      modified: LM + 400,
      expect: false,
    },
  ];
  for (const { name, ifRange, modified, expect } of cases) {
    it(`ifRangeHolds: ${name} → ${expect}`, () => {
      const now = modified === undefined ? old : LM + 900;
      assert.equal(ifRangeHolds(ifRange, VALIDATORS, modified ?? LM, now), expect);
    });
  }

  it("ifRangeHolds: a date holds once the second of the change is a second behind", () => {
    assert.equal(ifRangeHolds(LM_TEXT, VALIDATORS, LM + 400, LM + 1_399), false);
    assert.equal(ifRangeHolds(LM_TEXT, VALIDATORS, LM + 400, LM + 1_400), true);
  });
});

describe("planFileResponse and conditionals", () => {
  const file = {
    size: 100,
    etag: '"v2"',
    modifiedMs: LM + 123,
    contentType: "text/plain; charset=utf-8",
    contentEncoding: null,
    vary: "Accept-Encoding",
    cacheControl: "max-age=60",
  };
  const request = { ...NONE, method: "GET", range: null, ifRange: null };
  const settings = { nowMs: NOW, boundary: "B" };

  it("a 304 carries ETag, Last-Modified, Cache-Control and Vary, and no representation metadata", () => {
    const plan = planFileResponse({ ...request, ifNoneMatch: '"v2"' }, file, settings);
    assert.equal(plan.status, 304);
    assert.deepEqual(Object.fromEntries(plan.headers), {
      etag: '"v2"',
      "last-modified": LM_TEXT,
      "cache-control": "max-age=60",
      vary: "Accept-Encoding",
    });
    assert.deepEqual(plan.pieces, []);
  });

  it("a 412 has no validators and an empty body; a 200 has the whole file and every field", () => {
    const failed = planFileResponse({ ...request, ifMatch: '"v1"' }, file, settings);
    assert.deepEqual([failed.status, Object.fromEntries(failed.headers)], [412, { "content-length": "0" }]);
    const whole = planFileResponse(request, file, settings);
    assert.equal(whole.status, 200);
    assert.deepEqual(Object.fromEntries(whole.headers), {
      "content-type": "text/plain; charset=utf-8",
      "content-length": "100",
      etag: '"v2"',
      "last-modified": LM_TEXT,
      "cache-control": "max-age=60",
      vary: "Accept-Encoding",
      "accept-ranges": "bytes",
    });
    assert.deepEqual(whole.pieces, [{ range: { start: 0, end: 99 } }]);
  });

  it("a precompressed representation has Content-Encoding, no Accept-Ranges, and Range is not applied to it", () => {
    const encoded = { ...file, contentEncoding: "br", etag: '"br1"' };
    const plan = planFileResponse({ ...request, range: "bytes=0-9" }, encoded, settings);
    assert.equal(plan.status, 200);
    const fields = Object.fromEntries(plan.headers);
    assert.equal(fields["content-encoding"], "br");
    assert.equal(fields["accept-ranges"], undefined);
    assert.equal(fields["content-range"], undefined);
  });

  it("preconditions come before Range: a 304 for a Range request whose If-None-Match matches", () => {
    const plan = planFileResponse({ ...request, range: "bytes=0-9", ifNoneMatch: '"v2"' }, file, settings);
    assert.equal(plan.status, 304);
    const failed = planFileResponse({ ...request, range: "bytes=0-9", ifMatch: '"v1"' }, file, settings);
    assert.equal(failed.status, 412);
  });

  it("a Last-Modified in the future is the current time", () => {
    const plan = planFileResponse(request, { ...file, modifiedMs: NOW + 3_600_000 }, settings);
    assert.equal(Object.fromEntries(plan.headers)["last-modified"], formatHttpDate(NOW));
  });
});
