/**
 * A unix domain socket: `serve({ path })` on the runtime under test, reached by a raw client and
 * by curl (`--unix-socket`). The server's address and each peer's are `{ transport: "unix" }`, a
 * request's URL takes its Host, the socket file goes when the server stops, and a file left at the
 * path is a one-line `ListenError`.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { serve } from "../../src/server/serve.ts";
import { ListenError, type UnixAddr } from "../../src/transport/transport.ts";
import { Cleanup, runProgram, within } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const dir = mkdtempSync(join(tmpdir(), "h1serve-unix-"));
let count = 0;
const freshPath = () => join(dir, `server-${count++}.sock`);

/** Sends raw bytes over the unix socket and collects everything until the server closes. */
function exchange(path: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path }, () => socket.write(request));
    let text = "";
    socket.on("data", (chunk: Uint8Array) => (text += new TextDecoder().decode(chunk)));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe(`unix socket on ${runtime}`, () => {
  const cleanup = new Cleanup();
  after(async () => {
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true });
  });

  test("serves a request, with unix addresses for the server and the peer and the URL from Host", async () => {
    const path = freshPath();
    const seen: UnixAddr[] = [];
    const server = cleanup.addServer(serve({ path }, (request, info) => {
      seen.push(info.remoteAddr);
      return new Response(request.url);
    }));
    assert.deepEqual(await server.ready, { transport: "unix", path });
    assert.deepEqual(server.addr, { transport: "unix", path });
    const reply = await within(
      exchange(path, "GET /a?b=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n"),
      10_000,
      "the reply",
    );
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(reply.endsWith("\r\n\r\nhttp://example.test/a?b=1"), reply);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].transport, "unix");
    assert.equal(typeof seen[0].path, "string");
  });

  test("an HTTP/1.0 request without Host gets localhost in its URL", async () => {
    const path = freshPath();
    const server = cleanup.addServer(serve({ path }, (request) => new Response(request.url)));
    await server.ready;
    const reply = await exchange(path, "GET /x HTTP/1.0\r\n\r\n");
    assert.ok(reply.endsWith("\r\n\r\nhttp://localhost/x"), reply);
  });

  test("curl reaches it with --unix-socket, on one connection for two requests", async () => {
    const path = freshPath();
    const server = cleanup.addServer(serve({ path }, () => new Response("over unix")));
    await server.ready;
    const { code, stdout, stderr } = await within(
      runProgram("curl", ["-sS", "-v", "--unix-socket", path, "http://localhost/", "http://localhost/"]),
      10_000,
      "curl",
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "over unix".repeat(2));
    assert.match(stderr, /Re-using existing|reusing/i);
  });

  test("the socket file is removed when the server stops", async () => {
    const path = freshPath();
    const server = serve({ path }, () => new Response());
    await server.ready;
    assert.ok(existsSync(path));
    await server.shutdown();
    assert.ok(!existsSync(path), "the socket file is gone");
  });

  test("a socket file left at the path is a one-line ListenError that says what to do", async () => {
    const path = freshPath();
    // A socket file whose server is gone: bound by a listener that then goes without removing it.
    const stale = createServer();
    await new Promise<void>((resolve) => stale.listen({ path }, resolve));
    const server = serve({ path }, () => new Response());
    const error = await server.ready.then(() => null, (error: unknown) => error);
    stale.close();
    assert.ok(error instanceof ListenError, `a ListenError, got ${error}`);
    assert.equal(error.code, "ADDR_IN_USE");
    assert.equal(error.path, path);
    assert.match(
      error.message,
      /already exists: if no server uses it any more \(a stale socket file\), remove it/,
    );
    assert.doesNotMatch(error.message, /\n/);
    await server.shutdown().catch(() => {});
  });
});
