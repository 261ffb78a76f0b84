/**
 * `h1serve/testing` itself: `exchange` with input split at every offset, pieces with time between
 * them on the fake clock, `connect` for keep-alive and timeouts as a client sees them, the end of an
 * exchange when a handler waits on real time, and the response reader on every framing.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ServeHandler } from "../../src/server/options.ts";
import { connect, exchange, readResponse, type TestResponse } from "../../src/testing/mod.ts";

const echo: ServeHandler = async (request) =>
  new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`);
const bytes = (text: string) => new TextEncoder().encode(text);
const view = (response: TestResponse) => [response.status, response.framing, response.text];

describe("exchange", () => {
  test("a request split in two at every offset gets the same response", async () => {
    const request = "POST /split HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody";
    const whole = await exchange(echo, request);
    assert.deepEqual(whole.responses.map(view), [[200, "content-length", "POST /split body"]]);
    for (let at = 1; at < request.length; at++) {
      const split = await exchange(echo, [request.slice(0, at), request.slice(at)]);
      assert.deepEqual(split.responses.map(view), whole.responses.map(view), `split at ${at}`);
      assert.equal(split.closed, false);
    }
  });

  test("takes a byte array, and gives back exactly the bytes the server wrote", async () => {
    const result = await exchange(() => new Response("hi"), bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert.equal(result.text.slice(0, 17), "HTTP/1.1 200 OK\r\n");
    assert.equal(result.bytes.byteLength, result.text.length);
    assert.deepEqual(result.responses[0].raw, result.bytes);
  });

  test("time between pieces passes on the fake clock: the head timeout, and no more", async () => {
    const options = { limits: { headersTimeoutMs: 5000 } };
    const early = await exchange(
      echo,
      ["GET / HTTP/1.1\r\n", { advanceMs: 4000 }, "Host: a\r\n\r\n"],
      options,
    );
    assert.deepEqual(early.responses.map(view), [[200, "content-length", "GET / "]]);
    const late = await exchange(echo, ["GET / HTTP/1.1\r\n", { advanceMs: 7000 }], options);
    assert.equal(late.responses[0].status, 408);
    assert.equal(late.closed, true);
  });

  test("waits for a handler that waits on real time", async () => {
    const slow: ServeHandler = async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return new Response("at last");
    };
    const result = await exchange(slow, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.deepEqual(result.responses.map(view), [[200, "content-length", "at last"]]);
  });

  test("end: true half-closes after the input: the server answers, then closes", async () => {
    const result = await exchange(echo, "GET /last HTTP/1.1\r\nHost: a\r\n\r\n", { end: true });
    assert.deepEqual(result.responses.map(view), [[200, "content-length", "GET /last "]]);
    assert.equal(result.closed, true);
  });

  test("a response to HEAD has no body, between two GETs", async () => {
    const get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const result = await exchange(
      () => new Response("twelve bytes"),
      `${get}HEAD / HTTP/1.1\r\nHost: a\r\n\r\n${get}`,
    );
    assert.deepEqual(result.responses.map(view), [
      [200, "content-length", "twelve bytes"],
      [200, "none", ""],
      [200, "content-length", "twelve bytes"],
    ]);
    assert.equal(result.responses[1].headers.get("content-length"), "12");
  });

  test("the hooks given are still called", async () => {
    const methods: string[] = [];
    await exchange(echo, "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", {
      onResponse: (entry) => methods.push(entry.method),
    });
    assert.deepEqual(methods, ["PUT"]);
  });
});

describe("connect", () => {
  test("keep-alive lasts keepAliveTimeoutMs on the fake clock, and the Date field follows the clock", async () => {
    const connection = await connect(echo, { limits: { keepAliveTimeoutMs: 10_000 } });
    connection.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await connection.read()).headers.get("date"), "Thu, 01 Jan 2026 00:00:00 GMT");
    await connection.advance(8000);
    assert.equal(connection.closed, false);
    connection.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await connection.read()).headers.get("date"), "Thu, 01 Jan 2026 00:00:08 GMT");
    await connection.advance(12_000);
    assert.equal(connection.closed, true);
    await connection.close();
  });

  test("read rejects when nothing more will come, and when the server closes first", async () => {
    const connection = await connect(echo);
    connection.write("GET / HTTP/1.1\r\n");
    await assert.rejects(connection.read(), /waits for more bytes or for time to pass/);
    connection.write("Host: a\r\nConnection: close\r\n\r\n");
    assert.equal((await connection.read()).status, 200);
    await assert.rejects(connection.read(), /closed the connection before a response/);
    await connection.close();
  });

  test("responses() lists every response so far, read or not", async () => {
    const connection = await connect(echo);
    connection.write("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    await connection.settled();
    assert.deepEqual(connection.responses().map((response) => response.text), ["GET /1 ", "GET /2 "]);
    await connection.close();
  });
});

describe("readResponse", () => {
  const read = (text: string, method = "GET", closed = false) => readResponse(bytes(text), 0, method, closed);

  test("chunked, with extensions and trailers", () => {
    const result = read(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
    );
    assert.ok(result.kind === "response");
    assert.deepEqual(view(result.response), [200, "chunked", "abc"]);
    assert.deepEqual(result.response.trailers, [["X-T", "1"]]);
  });

  test("a body up to the close is complete only once the connection closed", () => {
    const text = "HTTP/1.1 200 OK\r\n\r\nuntil the end";
    assert.equal(read(text).kind, "incomplete");
    const closed = read(text, "GET", true);
    assert.ok(closed.kind === "response");
    assert.deepEqual(view(closed.response), [200, "close", "until the end"]);
  });

  test("incomplete at every offset before the end, and malformed input said so", () => {
    const text = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    for (let at = 0; at < text.length; at++) {
      assert.equal(read(text.slice(0, at)).kind, "incomplete", `at ${at}`);
    }
    assert.equal(read(text).kind, "response");
    assert.equal(read("HTTX/1.1 200 OK\r\n\r\n").kind, "malformed");
    assert.equal(read("HTTP/1.1 200 OK\r\nno colon\r\n\r\n").kind, "malformed");
    assert.equal(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").kind, "malformed");
  });

  test("1xx, 204 and 304 have no body", () => {
    for (const status of [100, 204, 304]) {
      const result = read(`HTTP/1.1 ${status} X\r\nContent-Length: 5\r\n\r\n`);
      assert.ok(result.kind === "response");
      assert.deepEqual(view(result.response), [status, "none", ""]);
    }
  });
});
