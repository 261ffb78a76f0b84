/**
 * serveDir against nginx (Debian's `nginx`, with its defaults) serving the same folder: 100 range
 * and conditional requests from a seeded generator, plus one request for each known difference,
 * sent to both. Status, Content-Range, Content-Length, the validators and the body bytes (the parts
 * of a multipart/byteranges body, whose boundaries differ) must be the same, except where a request
 * has one of the known differences of docs/CONFORMANCE.md ("Static files against nginx"), and each
 * known difference must show at least once, so that the list stays exact.
 */

import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { serveDir } from "../../src/static/serve_dir.ts";
import { Cleanup, freePort } from "../e2e/_helpers.ts";
import { ProxyProcess } from "../e2e/_proxies.ts";

const LM = Date.UTC(2024, 0, 15, 10, 0, 0);
const FILES: Record<string, number> = { "a.txt": 1000, "b.bin": 5000, "one.txt": 1, "empty.txt": 0 };

/** A date as a request may carry it, relative to the files' Last-Modified. */
const DATES = {
  lm: "Mon, 15 Jan 2024 10:00:00 GMT",
  "lm-rfc850": "Monday, 15-Jan-24 10:00:00 GMT",
  "lm-asctime": "Mon Jan 15 10:00:00 2024",
  earlier: "Sun, 14 Jan 2024 10:00:00 GMT",
  later: "Tue, 16 Jan 2024 10:00:00 GMT",
  invalid: "yesterday",
} as const;
type DateKind = keyof typeof DATES;
/** An entity tag as a request may carry it, relative to the server's own ETag of the file. */
type TagKind = "current" | "weak-current" | "other" | "star" | "list-with-current";

/** One request, described independently of the server (each has its own ETags). */
interface Case {
  readonly file: string;
  readonly method: "GET" | "HEAD";
  readonly range: string | null;
  readonly ifMatch: TagKind | null;
  readonly ifNoneMatch: TagKind | null;
  readonly ifModifiedSince: DateKind | null;
  readonly ifUnmodifiedSince: DateKind | null;
  readonly ifRange: Exclude<TagKind, "star" | "list-with-current"> | DateKind | null;
}

/**
 * The known differences (docs/CONFORMANCE.md, "Static files against nginx"), each with the
 * requests it may apply to.
 */
const DIFFERENCES: Record<string, (c: Case, size: number) => boolean> = {
  /** nginx answers a Range on HEAD; RFC 9110 §14.2 defines ranges for GET only. */
  "head-range": (c) => c.method === "HEAD" && c.range !== null,
  /** nginx's `if_modified_since exact`: 304 only for the exact date; §13.1.3 says "earlier or equal". */
  "ims-later": (c) => c.ifModifiedSince === "later" && c.ifNoneMatch === null,
  /** nginx evaluates If-Modified-Since with If-None-Match; §13.1.3 says a recipient MUST ignore it. */
  "inm-with-ims": (c) => c.ifNoneMatch !== null && c.ifModifiedSince !== null,
  /** nginx evaluates If-Unmodified-Since with If-Match; §13.1.4 says a recipient MUST ignore it. */
  "ius-with-if-match": (c) => c.ifMatch !== null && c.ifUnmodifiedSince !== null,
  /** nginx answers 412 to an invalid If-Unmodified-Since; §13.1.4 says MUST ignore it. */
  "invalid-ius": (c) => c.ifUnmodifiedSince === "invalid" && c.ifMatch === null,
  /** h1serve coalesces overlapping and adjacent ranges (§14.6); nginx sends them as they are, or 200. */
  coalescing: (c, size) => c.range !== null && rangesTouch(c.range, size),
  /** h1serve skips empty list elements (§5.6.1); nginx answers 416. */
  "empty-elements": (c) => c.range !== null && /,[ \t]*,|=[ \t]*,|,[ \t]*$/.test(c.range),
  /** nginx takes spaces inside a range (`0 - 9`), which the grammar of §14.1.1 has not; h1serve 416. */
  "space-inside": (c) => c.range !== null && /[0-9] +-|- +[0-9]/.test(c.range),
  /** nginx ignores `bytes=` (no range at all) and sends 200; h1serve 416, as for any invalid range set. */
  "empty-range-set": (c) => c.range !== null && /^bytes=[ \t]*$/.test(c.range),
  /** nginx sends 200 for `0-` of an empty file; §14.1.1: only a suffix range is satisfiable there. */
  "empty-file-from-zero": (c, size) => size === 0 && c.range !== null && /(=|,)[ \t]*0+-/.test(c.range),
  /** nginx answers 416 to a position past 2^63; §14.1.1 makes a last position past the end the end. */
  "huge-number": (c) => c.range !== null && /[0-9]{19,}/.test(c.range),
  /** h1serve ignores a Range of more than 16 ranges (§14.2, §17.15) and sends 200; nginx has no cap. */
  "many-ranges": (c) => c.range !== null && c.range.split(",").length > 16,
};

/** Whether two satisfiable ranges of the field overlap or touch (so that h1serve merges them). */
function rangesTouch(range: string, size: number): boolean {
  const spans: [number, number][] = [];
  for (const spec of range.replace(/^bytes=/, "").split(",").map((s) => s.trim())) {
    const suffix = /^-([0-9]+)$/.exec(spec);
    const int = /^([0-9]+)-([0-9]*)$/.exec(spec);
    if (suffix && Number(suffix[1]) > 0) spans.push([Math.max(0, size - Number(suffix[1])), size - 1]);
    else if (int && Number(int[1]) < size && (int[2] === "" || Number(int[2]) >= Number(int[1]))) {
      spans.push([Number(int[1]), int[2] === "" ? size - 1 : Math.min(Number(int[2]), size - 1)]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  return spans.some((span, i) => i > 0 && span[0] <= spans[i - 1][1] + 1);
}

/** A Range field: mostly valid range sets, sometimes one of the edge cases. */
function rangeArbitrary(): fc.Arbitrary<string> {
  const spec = fc.oneof(
    fc.tuple(fc.nat(1010), fc.option(fc.integer({ min: -5, max: 1010 }), { nil: undefined }))
      .map(([first, span]) => `${first}-${span === undefined ? "" : Math.max(0, first + span)}`),
    fc.nat(1010).map((n) => `-${n}`),
  );
  const set = fc.array(spec, { minLength: 1, maxLength: 4 }).map((specs) => `bytes=${specs.join(",")}`);
  const odd = fc.constantFrom(
    "bytes=0-0",
    "bytes=-1",
    "bytes=0-",
    "bytes=abc",
    "items=0-9",
    "bytes=0-9, 20-29",
    "bytes=9-0",
    "bytes=-0",
  );
  return fc.oneof({ weight: 5, arbitrary: set }, { weight: 1, arbitrary: odd });
}

function caseArbitrary(): fc.Arbitrary<Case> {
  const tag = fc.constantFrom<TagKind>("current", "weak-current", "other", "star", "list-with-current");
  const date = fc.constantFrom<DateKind>(...(Object.keys(DATES) as DateKind[]));
  // Present in `percent` of the requests, absent (null) in the others.
  const maybe = <T>(arbitrary: fc.Arbitrary<T>, percent: number) =>
    fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary });
  return fc.record({
    file: fc.constantFrom(...Object.keys(FILES)),
    method: fc.constantFrom<"GET" | "HEAD">("GET", "GET", "GET", "HEAD"),
    range: maybe(rangeArbitrary(), 70),
    ifMatch: maybe(tag, 15),
    ifNoneMatch: maybe(tag, 25),
    ifModifiedSince: maybe(date, 25),
    ifUnmodifiedSince: maybe(date, 15),
    ifRange: maybe(
      fc.constantFrom<Case["ifRange"] & string>(
        "current",
        "weak-current",
        "other",
        "lm",
        "lm-asctime",
        "later",
        "invalid",
      ),
      30,
    ),
  });
}

/** One request for each known difference, so that each shows whatever the generator made. */
const NONE = {
  ifMatch: null,
  ifNoneMatch: null,
  ifModifiedSince: null,
  ifUnmodifiedSince: null,
  ifRange: null,
};
const FIXED: Case[] = [
  { ...NONE, file: "a.txt", method: "HEAD", range: "bytes=0-9" },
  { ...NONE, file: "a.txt", method: "GET", range: null, ifModifiedSince: "later" },
  { ...NONE, file: "a.txt", method: "GET", range: null, ifNoneMatch: "current", ifModifiedSince: "earlier" },
  { ...NONE, file: "a.txt", method: "GET", range: null, ifMatch: "current", ifUnmodifiedSince: "earlier" },
  { ...NONE, file: "a.txt", method: "GET", range: null, ifUnmodifiedSince: "invalid" },
  { ...NONE, file: "a.txt", method: "GET", range: "bytes=0-9,5-14" },
  { ...NONE, file: "a.txt", method: "GET", range: "bytes=0-1,,5-6" },
  { ...NONE, file: "a.txt", method: "GET", range: "bytes=0 - 9" },
  { ...NONE, file: "a.txt", method: "GET", range: "bytes=" },
  { ...NONE, file: "a.txt", method: "GET", range: "bytes=0-99999999999999999999" },
  { ...NONE, file: "empty.txt", method: "GET", range: "bytes=0-" },
  {
    ...NONE,
    file: "a.txt",
    method: "GET",
    range: `bytes=${Array.from({ length: 17 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(",")}`,
  },
];

/** What is compared of a response. */
interface Seen {
  status: number;
  contentRange: string | null;
  contentLength: string | null;
  etag: string | null;
  lastModified: string | null;
  /** The body as Latin-1, or a multipart body's parts as `Content-Range` and bytes. */
  body: string | [string, string][];
}

/** The request's header fields for one server, whose current ETag of the file is `etag`. */
function fieldsOf(c: Case, etag: string): Record<string, string> {
  const tag = (kind: TagKind) =>
    ({
      current: etag,
      "weak-current": `W/${etag}`,
      other: '"other-0"',
      star: "*",
      "list-with-current": `"x", ${etag}`,
    })[
      kind
    ];
  const fields: Record<string, string> = {};
  if (c.range !== null) fields.range = c.range;
  if (c.ifMatch !== null) fields["if-match"] = tag(c.ifMatch);
  if (c.ifNoneMatch !== null) fields["if-none-match"] = tag(c.ifNoneMatch);
  if (c.ifModifiedSince !== null) fields["if-modified-since"] = DATES[c.ifModifiedSince];
  if (c.ifUnmodifiedSince !== null) fields["if-unmodified-since"] = DATES[c.ifUnmodifiedSince];
  if (c.ifRange !== null) {
    fields["if-range"] = c.ifRange in DATES ? DATES[c.ifRange as DateKind] : tag(c.ifRange as TagKind);
  }
  return fields;
}

/** Sends a case and reads what is compared, with ETags shown as "current" when they are. */
async function send(origin: string, c: Case, etag: string): Promise<Seen> {
  const response = await fetch(`${origin}/${c.file}`, { method: c.method, headers: fieldsOf(c, etag) });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const text = Array.from(bytes, (byte) => String.fromCharCode(byte)).join("");
  const type = response.headers.get("content-type") ?? "";
  const boundary = /^multipart\/byteranges; boundary=(.+)$/.exec(type)?.[1];
  const sentTag = response.headers.get("etag");
  return {
    status: response.status,
    contentRange: response.headers.get("content-range"),
    contentLength: boundary === undefined && response.status !== 412 && response.status !== 416
      ? response.headers.get("content-length")
      : null,
    etag: sentTag === null ? null : sentTag === etag ? "current" : sentTag,
    lastModified: response.headers.get("last-modified"),
    body: response.status >= 400 ? "" : boundary === undefined ? text : multipartParts(text, boundary),
  };
}

/** The parts of a multipart/byteranges body: each one's Content-Range and bytes. */
function multipartParts(body: string, boundary: string): [string, string][] {
  const parts: [string, string][] = [];
  for (const segment of body.split(`--${boundary}`).slice(1)) {
    if (segment.startsWith("--")) break;
    const headEnd = segment.indexOf("\r\n\r\n");
    const range = /content-range: *([^\r]*)/i.exec(segment.slice(0, headEnd))?.[1] ?? "?";
    parts.push([range, segment.slice(headEnd + 4).replace(/\r\n$/, "")]);
  }
  return parts;
}

describe("serveDir against nginx on the same folder", () => {
  const cleanup = new Cleanup();
  let dir: string;
  let nginx: ProxyProcess | null = null;
  let nginxOrigin = "";
  let h1Origin = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "h1serve-static-nginx-"));
    const root = join(dir, "root");
    mkdirSync(root);
    chmodSync(dir, 0o755); // nginx's workers run as another user when it is started as root
    for (const [name, size] of Object.entries(FILES)) {
      writeFileSync(
        join(root, name),
        Array.from({ length: size }, (_, i) => String.fromCharCode(97 + (i * 7) % 26)).join(""),
      );
      utimesSync(join(root, name), new Date(LM), new Date(LM));
    }
    const port = await freePort();
    nginx = await ProxyProcess.nginx(port, (temp) =>
      `worker_processes 1;
daemon off;
pid ${temp}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`);
    nginxOrigin = `http://127.0.0.1:${port}`;
    const started = await cleanup.server((request) => serveDir(request, { root }), { compression: false });
    h1Origin = started.origin;
  });

  after(async () => {
    await nginx?.stop();
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 100 generated range and conditional requests as nginx does, apart from the known differences", async () => {
    const etags: Record<string, Record<string, string>> = { h1: {}, nginx: {} };
    for (const file of Object.keys(FILES)) {
      for (const [name, origin] of [["h1", h1Origin], ["nginx", nginxOrigin]]) {
        const response = await fetch(`${origin}/${file}`);
        await response.arrayBuffer();
        etags[name][file] = response.headers.get("etag")!;
        assert.match(etags[name][file], /^"[^"]+"$/, `${name} sends a strong ETag for ${file}`);
        assert.equal(response.headers.get("last-modified"), DATES.lm);
      }
    }
    const generated = fc.sample(caseArbitrary(), { seed: 20261124, numRuns: 100 });
    const shown = new Set<string>();
    const unexplained: string[] = [];
    for (const c of [...generated, ...FIXED]) {
      const h1 = await send(h1Origin, c, etags.h1[c.file]);
      const ng = await send(nginxOrigin, c, etags.nginx[c.file]);
      const same = JSON.stringify(h1) === JSON.stringify(ng);
      const known = Object.keys(DIFFERENCES).filter((name) => DIFFERENCES[name](c, FILES[c.file]));
      if (same) continue;
      if (known.length === 0) {
        unexplained.push(
          `${JSON.stringify(c)}\n  h1serve: ${JSON.stringify(h1)}\n  nginx:   ${JSON.stringify(ng)}`,
        );
      }
      for (const name of known) shown.add(name);
    }
    assert.deepEqual(unexplained, [], "differences that docs/CONFORMANCE.md does not explain");
    assert.deepEqual([...shown].sort(), Object.keys(DIFFERENCES).sort(), "each known difference shows");
  });
});
