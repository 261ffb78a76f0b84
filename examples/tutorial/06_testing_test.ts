/**
 * Step 6 of docs/TUTORIAL.md: a handler tested with `h1serve/testing`, with no socket and no waiting.
 * The handler runs in the real server on an in-memory connection with a fake clock. The same file runs
 * under each runtime's own test runner:
 *
 *   deno test examples/tutorial/06_testing_test.ts
 *   bun test ./examples/tutorial/06_testing_test.ts
 *   node --test examples/tutorial/06_testing_test.ts
 *
 * In a project of your own, import from `@h1serve/h1serve/testing` (JSR) or `h1serve/testing` (npm).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, exchange } from "../../src/testing/mod.ts";

/** The handler under test: a greeting, and an echo of a posted body. */
async function handler(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method === "POST") return new Response(await request.text(), { status: 201 });
  return new Response(`Hello from ${pathname}!`, { headers: { "content-type": "text/plain" } });
}

test("exchange: the exact bytes of the response", async () => {
  const result = await exchange(handler, "GET /tutorial HTTP/1.1\r\nHost: example.com\r\n\r\n");
  assert.equal(
    result.text,
    "HTTP/1.1 200 OK\r\n" +
      "content-type: text/plain\r\n" +
      "date: Thu, 01 Jan 2026 00:00:00 GMT\r\n" + // the fake clock's time
      "content-length: 21\r\n" +
      "connection: keep-alive\r\n" +
      "keep-alive: timeout=65\r\n" +
      "\r\n" +
      "Hello from /tutorial!",
  );
  assert.equal(result.closed, false); // HTTP/1.1 keeps the connection open
});

test("connect: two requests one after the other on one connection, then two pipelined", async () => {
  const connection = await connect(handler);
  connection.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await connection.read()).text, "Hello from /a!");
  connection.write("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping");
  const echoed = await connection.read();
  assert.deepEqual([echoed.status, echoed.text], [201, "ping"]);
  // Two requests in one write: two responses, in order.
  connection.write("GET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await connection.read()).text, "Hello from /c!");
  assert.equal((await connection.read()).text, "Hello from /d!");
  assert.equal(connection.closed, false);
  await connection.close();
});

test("connect: 100 Continue comes before the body is sent, and the answer after it", async () => {
  const connection = await connect(handler);
  connection.write("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  const interim = await connection.read();
  assert.deepEqual([interim.status, interim.reason], [100, "Continue"]);
  connection.write("hello");
  const final = await connection.read();
  assert.deepEqual([final.status, final.text], [201, "hello"]);
  await connection.close();
});

test("a head not complete within 30 s is answered 408, on the fake clock", async () => {
  const connection = await connect(handler);
  connection.write("GET /slow HTTP/1.1\r\nHost: x\r\n"); // no blank line: the head is not complete
  await connection.advance(29_999);
  assert.equal(connection.responses().length, 0);
  await connection.advance(1);
  const answer = await connection.read();
  assert.deepEqual([answer.status, answer.headers.get("connection")], [408, "close"]);
  assert.equal(connection.closed, true);
  await connection.close();
});

test("exchange with pieces: an idle keep-alive connection is closed after 65 s", async () => {
  const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const before = await exchange(handler, [request, { advanceMs: 64_999 }]);
  assert.deepEqual([before.responses.length, before.closed], [1, false]);
  const after = await exchange(handler, [request, { advanceMs: 65_000 }]);
  assert.deepEqual([after.responses.length, after.closed], [1, true]);
});
