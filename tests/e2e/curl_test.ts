/**
 * curl (Debian's `/usr/bin/curl`) as the client: HTTP/1.0 with and without keep-alive, an
 * `Expect: 100-continue` upload, a chunked upload and HEAD. The upload bodies go to curl on its
 * standard input (`--data-binary @-`, read whole before sending, like `@file`).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, beforeEach, describe, test } from "node:test";
import { concatBytes } from "../../src/core/_bytes.ts";
import { HELLO_HTML, helloHandler } from "../../src/cli/hello.ts";
import { Cleanup, latin1, type TestServer, within } from "./_helpers.ts";

const CURL = "/usr/bin/curl";
const decoder = new TextDecoder();

interface CurlResult {
  readonly code: number | null;
  readonly stdout: Uint8Array;
  /** curl's `-v` trace and error messages. */
  readonly stderr: string;
}

/** Runs curl with `args`, writing `input` to its standard input; fails clearly if curl is missing. */
async function curl(args: readonly string[], input?: Uint8Array): Promise<CurlResult> {
  const child = spawn(CURL, ["--silent", "--show-error", "--max-time", "10", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout: Uint8Array[] = [];
  const stderr: Uint8Array[] = [];
  child.stdout.on("data", (chunk: Uint8Array) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Uint8Array) => stderr.push(chunk));
  // curl may exit before reading all its input (when it fails); that is reported by its exit code.
  child.stdin.on("error", () => {});
  child.stdin.end(input ?? new Uint8Array(0));
  const done = new Promise<CurlResult>((resolve, reject) => {
    child.once("error", (error: Error & { code?: string }) => {
      reject(
        error.code === "ENOENT"
          ? new Error(
            `${CURL} was not found: these tests need curl (Debian package "curl": apt-get install curl)`,
          )
          : error,
      );
    });
    child.once("close", (code: number | null) => {
      resolve({ code, stdout: concatBytes(stdout), stderr: decoder.decode(concatBytes(stderr)) });
    });
  });
  try {
    return await within(done, 15_000, `curl ${args.join(" ")}`);
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** Deterministic bytes of every value, so that a lost, repeated or reordered piece is noticed. */
function pattern(length: number, seed: number): Uint8Array {
  const data = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.byteLength, expected.byteLength, `${what}: length`);
  const at = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.equal(at, -1, `${what}: first difference at byte ${at}`);
}

describe("curl as the client", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  let connections = 0;
  const seen: { method: string; path: string; headers: Headers }[] = [];

  before(async () => {
    srv = await cleanup.server((request) => {
      const url = new URL(request.url);
      seen.push({ method: request.method, path: url.pathname, headers: request.headers });
      if (url.pathname === "/" || url.pathname === "/index.html") return helloHandler(request);
      if (url.pathname === "/upload") {
        // Streams the upload back as it arrives (read by the server only when the response is sent).
        return new Response(request.body, { headers: { "content-type": "application/octet-stream" } });
      }
      return new Response(`${request.method} ${url.pathname}\n`);
    }, {
      onConnection() {
        connections++;
      },
    });
  });

  beforeEach(() => {
    connections = 0;
    seen.length = 0;
  });

  after(() => cleanup.run());

  test("curl --http1.0 without keep-alive: one connection per request, closed by the server", async () => {
    const result = await curl([
      "--http1.0",
      "-v",
      "-w",
      "[%{http_code} %{num_connects}]\n",
      `${srv.origin}/one`,
      `${srv.origin}/two`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decoder.decode(result.stdout), "GET /one\n[200 1]\nGET /two\n[200 1]\n");
    assert.equal(connections, 2);
    assert.deepEqual(seen.map((s) => s.path), ["/one", "/two"]);
    assert.doesNotMatch(result.stderr, /^> Connection:/im, "curl asked for no keep-alive");
    assert.match(result.stderr, /^< connection: close\r?$/im, "the server said it closes");
    assert.doesNotMatch(result.stderr, /Re-using existing connection/);
  });

  test("curl --http1.0 with Connection: keep-alive: both requests on one connection", async () => {
    const result = await curl([
      "--http1.0",
      "-v",
      "-H",
      "Connection: keep-alive",
      "-w",
      "[%{http_code} %{num_connects}]\n",
      `${srv.origin}/one`,
      `${srv.origin}/two`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    // The second transfer made no new connection.
    assert.equal(decoder.decode(result.stdout), "GET /one\n[200 1]\nGET /two\n[200 0]\n");
    assert.equal(connections, 1);
    assert.deepEqual(seen.map((s) => s.path), ["/one", "/two"]);
    assert.match(result.stderr, /^> Connection: keep-alive\r?$/im);
    assert.match(
      result.stderr,
      /^< connection: keep-alive\r?$/im,
      "the server agreed to keep the connection",
    );
    assert.match(result.stderr, /Re-using existing connection/);
  });

  test("curl's Expect: 100-continue upload of 2 MiB gets 100 Continue and its echo", async () => {
    const body = pattern(2 * 1024 * 1024, 1);
    const result = await curl([
      "--http1.1",
      "-v",
      "-H",
      "Expect: 100-continue",
      "-H",
      "Content-Type: application/octet-stream",
      "--data-binary",
      "@-",
      `${srv.origin}/upload`,
    ], body);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^> Expect: 100-continue\r?$/im);
    assert.match(result.stderr, /^< HTTP\/1\.1 100 Continue\r?$/m, "the server sent 100 Continue");
    assert.match(result.stderr, /^< HTTP\/1\.1 200 OK\r?$/m);
    // curl waits for the 100 (for up to 1 s) before it sends the body; it did not give up waiting.
    assert.doesNotMatch(result.stderr, /Done waiting for 100-continue/);
    assertSameBytes(result.stdout, body, "the echo");
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, "POST");
    assert.equal(seen[0].headers.get("expect"), "100-continue");
    assert.equal(seen[0].headers.get("content-length"), String(body.byteLength));
    assert.equal(connections, 1);
  });

  test("curl --http1.1 uploads a chunked body and gets its echo", async () => {
    const body = pattern(1024 * 1024 + 12_345, 2);
    const result = await curl([
      "--http1.1",
      "-v",
      "-H",
      "Transfer-Encoding: chunked",
      // No Expect (curl adds one to a chunked upload), to test plain chunked framing.
      "-H",
      "Expect:",
      "--data-binary",
      "@-",
      `${srv.origin}/upload`,
    ], body);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^> Transfer-Encoding: chunked\r?$/im);
    assert.doesNotMatch(result.stderr, /^< HTTP\/1\.1 100/m);
    assert.match(result.stderr, /^< HTTP\/1\.1 200 OK\r?$/m);
    assertSameBytes(result.stdout, body, "the echo");
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, "POST");
    assert.equal(seen[0].headers.get("transfer-encoding"), "chunked");
    assert.equal(seen[0].headers.get("content-length"), null);
  });

  test("curl -I sends HEAD and gets the GET headers without a body", async () => {
    const result = await curl(["-I", `${srv.origin}/`]);
    assert.equal(result.code, 0, result.stderr);
    const head = latin1(result.stdout);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\ncontent-type: text\/html; charset=utf-8\r\n/i);
    const length = new TextEncoder().encode(HELLO_HTML).byteLength;
    assert.match(head, new RegExp(`\\r\\ncontent-length: ${length}\\r\\n`, "i"));
    // Only the head: it ends with the empty line, and nothing of the page follows.
    assert.ok(head.endsWith("\r\n\r\n"), JSON.stringify(head));
    assert.doesNotMatch(head, /Hello World!/);
    assert.deepEqual(seen.map((s) => [s.method, s.path]), [["HEAD", "/"]]);

    // The same page with GET, for comparison: the body is the Hello World page.
    const get = await curl([`${srv.origin}/`]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(decoder.decode(get.stdout), HELLO_HTML);
  });
});
