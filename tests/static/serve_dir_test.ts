/**
 * serveDir and serveFile through the real server: in memory with h1serve/testing's `exchange` for
 * what one request shows (refused paths, symlinks, dotfiles, index, listing, redirects, MIME,
 * precompressed siblings, methods), and on real sockets for streaming (a 64 MiB file read in
 * bounded chunks as the client takes it, a file handle closed when the client aborts, a file
 * removed or truncated while it is sent), both when a handler reads the body stream and when the
 * server sends the file itself.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exchange } from "../../src/testing/mod.ts";
import type { TestResponse } from "../../src/testing/response_reader.ts";
import { markFileBody, takeFileBody } from "../../src/fetch/file_body.ts";
import { serveDir, type ServeDirOptions } from "../../src/static/serve_dir.ts";
import { serveFile, statusOfError } from "../../src/static/serve_file.ts";
import { Cleanup, settledValue, within } from "../e2e/_helpers.ts";

const OLD = new Date(Date.UTC(2024, 0, 15, 10, 0, 0));

let base: string;
let root: string;
let outside: string;

before(() => {
  base = mkdtempSync(join(tmpdir(), "h1serve-static-"));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  const files: Record<string, string> = {
    "hello.txt": "Hello World!\n",
    "page.html": "<!DOCTYPE html><title>p</title>",
    "style.css": "body{}",
    "app.js": "console.log(1)",
    "data.json": "{}",
    "logo.svg": "<svg/>",
    "image.png": "\x89PNG",
    "blob.xyz": "?",
    "README": "readme",
    ".env": "SECRET=1",
    "sub/index.html": "<h1>sub index</h1>",
    "sub/.hidden": "hidden",
    "list/a file & <b>.txt": "escaped",
    "list/second.txt": "2",
    "list/.dot": "dot",
    "list/inner/x.txt": "x",
    "enc/app.js": "console.log('identity')",
    "enc/app.js.br": "BROTLI-BYTES",
    "enc/app.js.gz": "GZIP-BYTES",
    "enc/only-gz.css": "identity css",
    "enc/only-gz.css.gz": "GZ CSS",
    "enc/stale.txt": "new identity",
    "enc/stale.txt.gz": "old gzip",
    ".git/config": "[core]",
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), text);
    utimesSync(join(root, name), OLD, OLD);
  }
  // The stale sibling is older than its file.
  utimesSync(
    join(root, "enc/stale.txt.gz"),
    new Date(OLD.getTime() - 60_000),
    new Date(OLD.getTime() - 60_000),
  );
  writeFileSync(join(outside, "secret.txt"), "outside the root");
  symlinkSync(join(outside, "secret.txt"), join(root, "escape.txt"));
  symlinkSync(outside, join(root, "escape-dir"));
  symlinkSync(join(root, "hello.txt"), join(root, "inside-link.txt"));
  symlinkSync(join(root, ".env"), join(root, "env-link.txt"));
  symlinkSync(join(outside, "secret.txt"), join(root, "list", "escape-link.txt"));
  symlinkSync(join(root, "missing"), join(root, "list", "broken-link.txt"));
});

after(() => rmSync(base, { recursive: true, force: true }));

/**
 * One request through the real server in memory; the response, read back. The server's own
 * compression is off unless asked for, so that what serveDir sends is what arrives.
 */
async function get(
  target: string,
  fields: Record<string, string> = {},
  options: Partial<ServeDirOptions> = {},
  method = "GET",
  compression = false,
): Promise<TestResponse> {
  const head = Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const result = await exchange(
    (request) => serveDir(request, { root, ...options }),
    `${method} ${target} HTTP/1.1\r\nHost: a\r\n${head}\r\n`,
    { compression },
  );
  assert.equal(result.responses.length, 1, result.text);
  return result.responses[0];
}

describe("serveDir: paths", () => {
  const refused: [string, string][] = [
    ["/../etc/passwd", "dot-segment"],
    ["/sub/../hello.txt", "dot-segment"],
    ["/./hello.txt", "dot-segment"],
    ["/%2e%2e/etc/passwd", "dot-segment"],
    ["/%2E%2e/etc/passwd", "dot-segment"],
    ["/.%2e/etc/passwd", "dot-segment"],
    ["/sub/%2e%2e/%2e%2e/etc/passwd", "dot-segment"],
    ["/sub%2findex.html", "encoded-slash"],
    ["/sub%2Findex.html", "encoded-slash"],
    ["/sub%5cindex.html", "backslash"],
    ["/hello.txt%00.png", "control-character"],
    ["/hello%0a.txt", "control-character"],
    ["/%c0%ae%c0%ae/etc/passwd", "bad-percent-encoding"],
    ["/%e0%80%ae%e0%80%ae/x", "bad-percent-encoding"],
    ["/%ff.txt", "bad-percent-encoding"],
    ["/%ed%a0%80.txt", "bad-percent-encoding"],
    ["/%zz.txt", "bad-percent-encoding"],
    ["/hello.txt%", "bad-percent-encoding"],
  ];
  for (const [target, refusal] of refused) {
    it(`serveDir refuses ${target} with 400 (${refusal})`, async () => {
      const response = await get(target);
      assert.equal(response.status, 400);
      assert.equal(response.text, `Bad Request: the path is refused (${refusal})\n`);
    });
  }

  it("serveDir refuses a raw backslash (the server or serveDir: 400 either way)", async () => {
    const response = await get("/sub\\index.html");
    assert.equal(response.status, 400);
  });

  it("serveDir decodes percent-encoding once: %2541 is the file named %41", async () => {
    writeFileSync(join(root, "%41.txt"), "percent");
    try {
      assert.equal((await get("/%2541.txt")).text, "percent");
      assert.equal((await get("/%41.txt")).status, 404, "A.txt does not exist");
    } finally {
      unlinkSync(join(root, "%41.txt"));
    }
  });

  it("serveDir serves a UTF-8 name, and reads // as /", async () => {
    writeFileSync(join(root, "café.txt"), "crème");
    try {
      assert.equal((await get("/caf%C3%A9.txt")).text, "crème");
      assert.equal((await get("//hello.txt")).text, "Hello World!\n");
    } finally {
      unlinkSync(join(root, "café.txt"));
    }
  });

  it("serveDir hides dotfiles (404) unless dotfiles: true, including behind a link", async () => {
    for (const target of ["/.env", "/.git/config", "/sub/.hidden", "/.git/", "/env-link.txt"]) {
      assert.equal((await get(target)).status, 404, target);
    }
    assert.equal((await get("/.env", {}, { dotfiles: true })).text, "SECRET=1");
    assert.equal((await get("/env-link.txt", {}, { dotfiles: true })).text, "SECRET=1");
  });

  it("serveDir follows links inside the root and refuses links out of it unless followSymlinks", async () => {
    assert.equal((await get("/inside-link.txt")).text, "Hello World!\n");
    assert.equal((await get("/escape.txt")).status, 404);
    assert.equal((await get("/escape-dir/secret.txt")).status, 404);
    assert.equal((await get("/escape.txt", {}, { followSymlinks: true })).text, "outside the root");
    assert.equal(
      (await get("/escape-dir/secret.txt", {}, { followSymlinks: true })).text,
      "outside the root",
    );
  });

  it("serveDir: 404 for a missing file, a file's URL with a slash, and a folder with no index or listing", async () => {
    assert.equal((await get("/nope.txt")).status, 404);
    assert.equal((await get("/hello.txt/")).status, 404);
    assert.equal((await get("/list/")).status, 404);
  });

  it("serveDir redirects a folder's URL without its slash with 301, keeping the query, to one origin", async () => {
    const plain = await get("/sub");
    assert.deepEqual([plain.status, plain.headers.get("location")], [301, "/sub/"]);
    const query = await get("/sub?a=1&b=%20");
    assert.equal(query.headers.get("location"), "/sub/?a=1&b=%20");
    const doubled = await get("//sub");
    assert.equal(doubled.headers.get("location"), "/sub/", "not //sub/, another origin's URL");
  });

  it("serveDir serves a folder's index.html, or another index, or none", async () => {
    const index = await get("/sub/");
    assert.equal(index.text, "<h1>sub index</h1>");
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal((await get("/list/", {}, { index: "second.txt" })).text, "2");
    assert.equal((await get("/sub/", {}, { index: null })).status, 404);
  });

  it("serveDir answers 405 with Allow to other methods, and HEAD with the headers only", async () => {
    const post = await get("/hello.txt", {}, {}, "POST");
    assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    const head = await get("/hello.txt", {}, {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "13");
    assert.equal(head.body.byteLength, 0);
    assert.equal(head.headers.get("etag"), (await get("/hello.txt")).headers.get("etag"));
  });
});

describe("serveDir: listing", () => {
  it("serveDir lists a folder with escaped names, encoded links, sizes and dates, hiding dotfiles and escaping links", async () => {
    const response = await get("/list/", {}, { listing: true });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    const page = response.text;
    assert.match(page, /<title>Index of \/list\/<\/title>/);
    assert.match(page, /<a href="a%20file%20%26%20%3Cb%3E.txt">a file &amp; &lt;b&gt;.txt<\/a>/);
    assert.match(page, /<a href="inner\/">inner\/<\/a>/);
    assert.match(page, /<a href="\.\.\/">/);
    assert.match(page, /title="7 bytes">7 B</);
    assert.match(page, /<time datetime="2024-01-15T10:00:00.000Z">2024-01-15 10:00<\/time>/);
    assert.doesNotMatch(page, /\.dot|escape-link|broken-link|<b>/);
    assert.ok(page.indexOf("inner/") < page.indexOf("a%20file"), "folders first");
    const root = (await get("/", {}, { listing: true, index: null })).text;
    assert.doesNotMatch(root, /href="\.\.\/"/, "no parent link at the root");
    assert.doesNotMatch(root, /\.env|\.git/);
  });

  it("serveDir's listing links work: each one serves what it names", async () => {
    const page = (await get("/list/", {}, { listing: true })).text;
    const links = [...page.matchAll(/<a href="([^"]+)">/g)].map((match) => match[1].replaceAll("&amp;", "&"));
    assert.ok(links.length >= 4, page);
    for (const link of links) {
      const target = new URL(link, "http://a/list/").pathname;
      const response = await get(target, {}, { listing: true });
      assert.equal(response.status, 200, `${link} → ${target}`);
    }
  });
});

describe("serveDir: media types", () => {
  const types: [string, string][] = [
    ["/hello.txt", "text/plain; charset=utf-8"],
    ["/page.html", "text/html; charset=utf-8"],
    ["/style.css", "text/css; charset=utf-8"],
    ["/app.js", "text/javascript; charset=utf-8"],
    ["/data.json", "application/json; charset=utf-8"],
    ["/logo.svg", "image/svg+xml; charset=utf-8"],
    ["/image.png", "image/png"],
    ["/blob.xyz", "application/octet-stream"],
    ["/README", "application/octet-stream"],
  ];
  for (const [target, type] of types) {
    it(`serveDir serves ${target} as ${type}`, async () => {
      assert.equal((await get(target)).headers.get("content-type"), type);
    });
  }
});

describe("serveDir: precompressed siblings", () => {
  it("serveDir serves .br or .gz by Accept-Encoding and its q-values, with the original's type and its own ETag", async () => {
    const identity = await get("/enc/app.js");
    const br = await get("/enc/app.js", { "accept-encoding": "gzip, deflate, br" });
    const gz = await get("/enc/app.js", { "accept-encoding": "br;q=0.5, gzip;q=0.9" });
    const star = await get("/enc/app.js", { "accept-encoding": "*" });
    const none = await get("/enc/app.js", { "accept-encoding": "br;q=0, gzip;q=0" });
    assert.deepEqual(
      [identity, br, gz, star, none].map((r) => [r.text, r.headers.get("content-encoding")]),
      [
        ["console.log('identity')", null],
        ["BROTLI-BYTES", "br"],
        ["GZIP-BYTES", "gzip"],
        ["BROTLI-BYTES", "br"],
        ["console.log('identity')", null],
      ],
    );
    for (const response of [identity, br, gz]) {
      assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal(response.headers.get("vary"), "Accept-Encoding");
    }
    const tags = new Set([identity, br, gz].map((r) => r.headers.get("etag")));
    assert.equal(tags.size, 3, "each representation has its own ETag");
    assert.equal(br.headers.get("accept-ranges"), null);
    assert.equal(br.headers.get("content-length"), "12");
  });

  it("serveDir revalidates the sibling by its own ETag", async () => {
    const br = await get("/enc/app.js", { "accept-encoding": "br" });
    const again = await get("/enc/app.js", {
      "accept-encoding": "br",
      "if-none-match": br.headers.get("etag")!,
    });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("vary"), "Accept-Encoding");
    const other = await get("/enc/app.js", {
      "accept-encoding": "gzip",
      "if-none-match": br.headers.get("etag")!,
    });
    assert.equal(other.status, 200, "the gzip representation has another tag");
  });

  it("serveDir serves ranges of the identity only: no sibling for a Range request", async () => {
    const response = await get("/enc/app.js", { "accept-encoding": "br, gzip", range: "bytes=0-6" });
    assert.equal(response.status, 206);
    assert.equal(response.text, "console");
    assert.equal(response.headers.get("content-encoding"), null);
    assert.equal(response.headers.get("content-range"), "bytes 0-6/23");
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
  });

  it("serveDir skips a missing or stale sibling, and precompressed: false skips all", async () => {
    const css = await get("/enc/only-gz.css", { "accept-encoding": "br" });
    assert.deepEqual([css.text, css.headers.get("vary")], ["identity css", "Accept-Encoding"]);
    const stale = await get("/enc/stale.txt", { "accept-encoding": "gzip" });
    assert.deepEqual([stale.text, stale.headers.get("vary")], ["new identity", null]);
    const off = await get("/enc/app.js", { "accept-encoding": "br" }, { precompressed: false });
    assert.deepEqual([off.text, off.headers.get("vary")], ["console.log('identity')", null]);
  });

  it("with the server's compression on, a sibling goes out as it is and a range is never compressed", async () => {
    const br = await get("/enc/app.js", { "accept-encoding": "br" }, {}, "GET", true);
    assert.deepEqual([br.text, br.headers.get("content-encoding")], ["BROTLI-BYTES", "br"]);
    const text = "0123456789".repeat(20);
    writeFileSync(join(root, "long.txt"), text);
    try {
      const range = await get(
        "/long.txt",
        { "accept-encoding": "gzip, br", range: "bytes=0-99" },
        {},
        "GET",
        true,
      );
      assert.deepEqual([range.status, range.text, range.headers.get("content-encoding")], [
        206,
        text.slice(0, 100),
        null,
      ]);
      const multi = await get(
        "/long.txt",
        { "accept-encoding": "gzip", range: "bytes=0-9,50-59" },
        {},
        "GET",
        true,
      );
      assert.equal(multi.status, 206);
      assert.equal(multi.headers.get("content-encoding"), null);
    } finally {
      unlinkSync(join(root, "long.txt"));
    }
  });

  it("serveDir does not serve a sibling that is a link out of the root", async () => {
    symlinkSync(join(outside, "secret.txt"), join(root, "hello.txt.br"));
    try {
      const response = await get("/hello.txt", { "accept-encoding": "br" });
      assert.equal(response.text, "Hello World!\n");
      assert.equal(response.headers.get("content-encoding"), null);
    } finally {
      unlinkSync(join(root, "hello.txt.br"));
    }
  });
});

describe("serveFile: validators, conditionals and ranges on the wire", () => {
  it("serveFile sends ETag and Last-Modified, and answers the preconditions in order", async () => {
    const first = await get("/hello.txt");
    const etag = first.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(first.headers.get("last-modified"), "Mon, 15 Jan 2024 10:00:00 GMT");
    assert.equal(first.headers.get("accept-ranges"), "bytes");
    const cases: [Record<string, string>, number][] = [
      [{ "if-none-match": etag }, 304],
      [{ "if-none-match": `W/${etag}` }, 304],
      [{ "if-none-match": '"other"' }, 200],
      [{ "if-modified-since": "Mon, 15 Jan 2024 10:00:00 GMT" }, 304],
      [{ "if-modified-since": "Sunday, 14-Jan-24 10:00:00 GMT" }, 200],
      [{ "if-modified-since": "Mon Jan 15 10:00:00 2024" }, 304],
      [{ "if-modified-since": "not a date" }, 200],
      [{ "if-match": '"other"' }, 412],
      [{ "if-match": etag, "if-none-match": etag }, 304],
      [{ "if-match": '"other"', "if-none-match": etag }, 412],
      [{ "if-unmodified-since": "Sun, 14 Jan 2024 10:00:00 GMT" }, 412],
      [{ "if-unmodified-since": "garbage" }, 200],
      [{ "if-none-match": '"other"', "if-modified-since": "Mon, 15 Jan 2024 10:00:00 GMT" }, 200],
    ];
    for (const [fields, status] of cases) {
      const response = await get("/hello.txt", fields);
      assert.equal(response.status, status, JSON.stringify(fields));
      if (status === 304) {
        assert.equal(response.headers.get("etag"), etag);
        assert.equal(response.headers.get("content-type"), null);
        assert.equal(response.body.byteLength, 0);
      }
    }
  });

  it("serveFile answers ranges: single, suffix, multipart, 416, If-Range", async () => {
    const etag = (await get("/hello.txt")).headers.get("etag")!;
    const single = await get("/hello.txt", { range: "bytes=0-4" });
    assert.deepEqual([single.status, single.text, single.headers.get("content-range")], [
      206,
      "Hello",
      "bytes 0-4/13",
    ]);
    const suffix = await get("/hello.txt", { range: "bytes=-7" });
    assert.equal(suffix.text, "World!\n");
    const multi = await get("/hello.txt", { range: "bytes=0-0,6-6" });
    assert.equal(multi.status, 206);
    const type = multi.headers.get("content-type")!;
    const boundary = /^multipart\/byteranges; boundary=([0-9a-f]+)$/.exec(type)![1];
    assert.equal(
      multi.text,
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-0/13\r\n\r\nH` +
        `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 6-6/13\r\n\r\nW` +
        `\r\n--${boundary}--\r\n`,
    );
    assert.equal(multi.headers.get("content-length"), String(multi.body.byteLength));
    const unsatisfiable = await get("/hello.txt", { range: "bytes=13-" });
    assert.deepEqual([unsatisfiable.status, unsatisfiable.headers.get("content-range")], [416, "bytes */13"]);
    assert.equal((await get("/hello.txt", { range: "bytes=0-4", "if-range": etag })).status, 206);
    assert.equal((await get("/hello.txt", { range: "bytes=0-4", "if-range": '"old"' })).status, 200);
    const dated = await get("/hello.txt", {
      range: "bytes=0-4",
      "if-range": "Mon, 15 Jan 2024 10:00:00 GMT",
    });
    assert.equal(dated.status, 206);
    assert.equal((await get("/hello.txt", { range: "bytes=0-4" }, {}, "HEAD")).status, 200);
  });

  it('serveFile with etag: "content" gives the same tag to the same bytes, and cacheControl is sent', async () => {
    const a = join(base, "copy-a.txt");
    const b = join(base, "copy-b.txt");
    writeFileSync(a, "same bytes");
    writeFileSync(b, "same bytes");
    const options = { etag: "content" as const, cacheControl: "public, max-age=600" };
    const first = await serveFile(new Request("http://a/x"), a, options);
    const second = await serveFile(new Request("http://a/x"), b, options);
    await first.body?.cancel();
    await second.body?.cancel();
    assert.match(first.headers.get("etag")!, /^"[A-Za-z0-9_-]{43}"$/);
    assert.equal(first.headers.get("etag"), second.headers.get("etag"));
    assert.equal(first.headers.get("cache-control"), "public, max-age=600");
    const cached = await serveFile(
      new Request("http://a/x", { headers: { "if-none-match": first.headers.get("etag")! } }),
      a,
      options,
    );
    assert.deepEqual([cached.status, cached.headers.get("cache-control")], [304, "public, max-age=600"]);
  });

  it("serveFile gives 404 for a folder or a missing file, and 403 for a file it may not read", async (t) => {
    assert.equal((await serveFile(new Request("http://a/"), root)).status, 404);
    assert.equal((await serveFile(new Request("http://a/"), join(root, "nope"))).status, 404);
    assert.equal(statusOfError(Object.assign(new Error("denied"), { code: "EACCES" })), 403);
    assert.equal(statusOfError(Object.assign(new Error("io"), { code: "EIO" })), 500);
    if (process.getuid?.() === 0) {
      return t.skip("root reads any file (the CLI test checks 403 as another user)");
    }
    const locked = join(base, "locked.txt");
    writeFileSync(locked, "no");
    chmodSync(locked, 0);
    assert.equal((await serveFile(new Request("http://a/"), locked)).status, 403);
  });
});

const BIG_SIZE = 64 * 1024 * 1024;

/** Writes a file of patterned bytes in 1 MiB writes, and returns its SHA-256. */
function writeBigFile(path: string, size: number): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(1024 * 1024);
  for (let offset = 0; offset < size; offset += chunk.byteLength) {
    for (let i = 0; i < chunk.byteLength; i += 4096) chunk[i] = (offset / 4096 + i / 4096) & 0xff;
    chunk.fill(offset / (1024 * 1024), 1, 64);
    writeSync(fd, chunk);
    hash.update(chunk);
  }
  closeSync(fd);
  return hash.digest("hex");
}

/** The file descriptors of this process open on a path (Linux: /proc/self/fd). */
function openDescriptors(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(path)) count++;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

/** A raw client that hashes a response's body as it arrives and can pause reading. */
class StreamingClient {
  readonly socket: Socket;
  head = "";
  bodyBytes = 0;
  readonly hash = createHash("sha256");
  readonly ended: Promise<void>;
  #pending = new Uint8Array(0);
  #waiters: (() => void)[] = [];

  constructor(port: number, target: string) {
    this.socket = netConnect({ host: "127.0.0.1", port });
    this.socket.write(`GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    this.socket.on("data", (chunk: Uint8Array) => {
      if (this.head === "" || !this.head.endsWith("\r\n\r\n")) {
        const joined = new Uint8Array(this.#pending.byteLength + chunk.byteLength);
        joined.set(this.#pending);
        joined.set(chunk, this.#pending.byteLength);
        const text = new TextDecoder("latin1").decode(joined);
        const end = text.indexOf("\r\n\r\n");
        if (end === -1) {
          this.#pending = joined;
          return;
        }
        this.head = text.slice(0, end + 4);
        chunk = joined.subarray(end + 4);
      }
      this.bodyBytes += chunk.byteLength;
      this.hash.update(chunk);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ended = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.on("error", () => {});
  }

  /** Resolves once at least `n` body bytes have arrived. */
  async untilBody(n: number): Promise<void> {
    while (this.bodyBytes < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** What a large-file test counts of the body it sends: the bytes read from the file, and the largest read. */
interface ReadCount {
  pulled: number;
  largestChunk: number;
}

/**
 * The handler counts what is pulled from serveDir's body stream, pulling only when the server
 * does: the body goes as a stream, chunk by chunk.
 */
function countedStream(response: Response, count: ReadCount): Response {
  if (response.body === null) return response;
  const reader = response.body.getReader();
  const counted = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      count.pulled += value.byteLength;
      count.largestChunk = Math.max(count.largestChunk, value.byteLength);
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return new Response(counted, { status: response.status, headers: response.headers });
}

/**
 * The handler counts the reads of serveDir's file body and returns the response untouched: the
 * server sends the file itself, block by block.
 */
function countedFile(response: Response, count: ReadCount): Response {
  const file = takeFileBody(response);
  if (file === null) return response;
  return markFileBody(response, {
    ...file,
    async read(into, offset, length, position) {
      const read = await file.read(into, offset, length, position);
      count.pulled += read;
      count.largestChunk = Math.max(count.largestChunk, read);
      return read;
    },
  });
}

describeLargeFile("serveDir: streaming a large file through the body stream", countedStream, 65536);
describeLargeFile("serveDir: a large file sent by the server's file path", countedFile, 256 * 1024);

function describeLargeFile(
  name: string,
  counted: (response: Response, count: ReadCount) => Response,
  largestRead: number,
): void {
  describe(name, () => {
    const cleanup = new Cleanup();
    let big: string;
    let bigHash: string;
    const count: ReadCount = { pulled: 0, largestChunk: 0 };
    let port = 0;

    before(async () => {
      big = mkdtempSync(join(base, "big-"));
      bigHash = writeBigFile(join(big, "big.bin"), BIG_SIZE);
      const started = await cleanup.server(async (request) =>
        counted(await serveDir(request, { root: big }), count)
      );
      port = started.port;
    });
    after(() => cleanup.run());

    it(`a 64 MiB file is read as the client takes it, in reads of at most ${largestRead / 1024} KiB, and arrives whole`, async () => {
      count.pulled = 0;
      count.largestChunk = 0;
      const client = new StreamingClient(port, "/big.bin");
      await within(client.untilBody(1), 10_000, "the first body bytes");
      client.socket.pause();
      // Nothing more happens once the socket buffers are full: the server stops pulling.
      const stalled = await settledValue(() => count.pulled);
      assert.ok(stalled < BIG_SIZE / 2, `the server read ${stalled} bytes while the client read none`);
      // (Deno holds a second descriptor while a positional read is in flight.)
      assert.ok(openDescriptors(join(big, "big.bin")) >= 1, "the file is open while it is sent");
      client.socket.resume();
      await within(client.ended, 60_000, "the whole file");
      assert.match(client.head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(client.head, new RegExp(`\r\ncontent-length: ${BIG_SIZE}\r\n`));
      assert.equal(client.bodyBytes, BIG_SIZE);
      assert.equal(client.hash.digest("hex"), bigHash);
      assert.equal(count.pulled, BIG_SIZE, "every byte sent was counted: the body went the way under test");
      assert.ok(count.largestChunk <= largestRead, `a read of ${count.largestChunk} bytes`);
      await within(untilClosed(join(big, "big.bin")), 10_000, "the file handle to close after the end");
    });

    it("the file handle is closed when the client aborts mid-body", async () => {
      const client = new StreamingClient(port, "/big.bin");
      await within(client.untilBody(1024 * 1024), 10_000, "1 MiB of the body");
      assert.ok(openDescriptors(join(big, "big.bin")) >= 1, "the file is open while it is sent");
      client.socket.destroy();
      await within(untilClosed(join(big, "big.bin")), 10_000, "the file handle to close after the abort");
    });

    it("a file removed while it is sent still arrives whole (the open file stays readable)", async () => {
      const path = join(big, "removed.bin");
      const hash = writeBigFile(path, 8 * 1024 * 1024);
      const client = new StreamingClient(port, "/removed.bin");
      await within(client.untilBody(1), 10_000, "the first body bytes");
      client.socket.pause();
      unlinkSync(path);
      client.socket.resume();
      await within(client.ended, 30_000, "the whole file");
      assert.equal(client.bodyBytes, 8 * 1024 * 1024);
      assert.equal(client.hash.digest("hex"), hash);
      assert.equal((await fetch(`http://127.0.0.1:${port}/removed.bin`)).status, 404);
    });

    it("a file truncated while it is sent ends the connection short, and the server goes on", async () => {
      const path = join(big, "truncated.bin");
      writeBigFile(path, 16 * 1024 * 1024);
      const client = new StreamingClient(port, "/truncated.bin");
      await within(client.untilBody(1), 10_000, "the first body bytes");
      client.socket.pause();
      await settledValue(() => count.pulled);
      truncateSync(path, 1024 * 1024);
      client.socket.resume();
      await within(client.ended, 30_000, "the connection to end");
      assert.match(client.head, /\r\ncontent-length: 16777216\r\n/);
      assert.ok(client.bodyBytes < 16 * 1024 * 1024, `${client.bodyBytes} bytes`);
      await within(untilClosed(path), 10_000, "the file handle to close after the error");
      const after = await fetch(`http://127.0.0.1:${port}/truncated.bin`);
      assert.equal(after.status, 200);
      assert.equal((await after.arrayBuffer()).byteLength, 1024 * 1024);
    });
  });
}

/** Resolves once no descriptor of this process is open on the path (polled: there is no event for it). */
async function untilClosed(path: string): Promise<void> {
  while (openDescriptors(path) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}
