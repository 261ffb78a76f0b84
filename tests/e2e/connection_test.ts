/**
 * Connection handling over raw TCP: exact bytes of the Hello World response, pipelining,
 * keep-alive reuse, HTTP/1.0 with and without keep-alive, and `Connection: close`.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { helloHandler } from "../../src/cli/hello.ts";
import type { ResponseLogEntry } from "../../src/server/options.ts";
import { Cleanup, latin1, type TestServer } from "./_helpers.ts";

describe("serve over raw TCP", () => {
  const cleanup = new Cleanup();
  let hello: TestServer;
  let srv: TestServer;
  let connections = 0;

  before(async () => {
    hello = await cleanup.server(helloHandler);
    srv = await cleanup.server((request) => {
      const url = new URL(request.url);
      if (url.pathname === "/reason") return new Response("ok", { status: 299, statusText: "Custom Reason" });
      if (url.pathname === "/close") return new Response("bye", { headers: { connection: "close" } });
      if (url.pathname === "/slow") {
        // A handler that takes a while, so that the client's FIN arrives before the response.
        return new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("slow")), 100));
      }
      if (url.pathname === "/url" || url.pathname === "/*") {
        return new Response(`${request.url} ${request.headers.get("x-dup")}`);
      }
      return new Response(`${request.method} ${url.pathname}${url.search}`);
    }, { onConnection: () => connections++ });
  });

  after(() => cleanup.run());

  test("serve sends the exact Hello World response bytes", async () => {
    const client = await cleanup.client(hello.port);
    await client.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const response = await client.response();
    const date = response.header("date");
    assert.match(
      date ?? "",
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    const expected = "HTTP/1.1 200 OK\r\n" +
      "content-type: text/html; charset=utf-8\r\n" +
      `date: ${date}\r\n` +
      "content-length: 177\r\n" +
      "connection: keep-alive\r\n" +
      "keep-alive: timeout=65\r\n" +
      "\r\n" +
      "<!DOCTYPE html>\n" +
      '<html lang="en">\n' +
      "<head>\n" +
      '<meta charset="utf-8">\n' +
      "<title>Hello World</title>\n" +
      "</head>\n" +
      "<body>\n" +
      "<h1>The Hello World! HTML page</h1>\n" +
      "<p>Hello World!</p>\n" +
      "</body>\n" +
      "</html>\n";
    assert.equal(client.text, expected);
    assert.equal(client.ended, false, "an HTTP/1.1 connection stays open");
  });

  test("serve sends the handler's reason phrase", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /reason HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.statusLine, "HTTP/1.1 299 Custom Reason");
    assert.equal(response.text(), "ok");
  });

  test("serve answers HEAD with the length and no body, then the pipelined request", async () => {
    const client = await cleanup.client(hello.port);
    await client.write("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    const [head, notFound] = await client.responses(2, ["HEAD", "GET"]);
    assert.equal(head.statusLine, "HTTP/1.1 200 OK");
    assert.equal(head.header("content-length"), "177");
    assert.equal(head.rawBody, "");
    assert.equal(notFound.statusLine, "HTTP/1.1 404 Not Found");
    assert.equal(notFound.text(), "Not Found\n");
  });

  test("serve builds request.url from an absolute-form target, and combines repeated fields", async () => {
    const client = await cleanup.client(srv.port);
    await client.write(
      "GET http://example.com:8080/url?q=1 HTTP/1.1\r\nHost: other\r\nX-Dup: a\r\nX-Dup: b\r\n\r\n",
    );
    assert.equal((await client.response()).text(), "http://example.com:8080/url?q=1 a, b");
  });

  test("serve builds request.url from the listening address for HTTP/1.0 without Host", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /url HTTP/1.0\r\n\r\n");
    await client.untilEnd();
    assert.equal((await client.response()).text(), `http://127.0.0.1:${srv.port}/url null`);
  });

  test("serve builds request.url for OPTIONS *", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("OPTIONS * HTTP/1.1\r\nHost: h.example\r\n\r\n");
    assert.equal((await client.response()).text(), "http://h.example/* null");
  });

  test("serve reports each response to onResponse and each arrival to onData", async () => {
    const entries: ResponseLogEntry[] = [];
    const arrived: string[] = [];
    const { port } = await cleanup.server(() => new Response("logged", { status: 202 }), {
      onResponse: (entry) => entries.push(entry),
      onData: (data) => arrived.push(latin1(data)),
    });
    const client = await cleanup.client(port);
    const request = "DELETE /thing?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    await client.writePieces([request.slice(0, 10), request.slice(10)]);
    const response = await client.response();
    assert.equal(arrived.join(""), request);
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry.method, "DELETE");
    assert.equal(entry.target, "/thing?x=1");
    assert.equal(entry.status, 202);
    assert.equal(entry.bytes, response.head.length + response.rawBody.length);
    assert.ok(entry.durationMs >= 0 && entry.durationMs < 5000, String(entry.durationMs));
    assert.deepEqual(entry.remoteAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: client.socket.localPort,
    });
  });

  test("serve answers 3 pipelined requests in order on one connection", async () => {
    const before = connections;
    const client = await cleanup.client(srv.port);
    await client.write(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
        "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
        "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    const responses = await client.responses(3);
    assert.deepEqual(responses.map((r) => r.text()), ["GET /1", "POST /2", "GET /3"]);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
    assert.equal(connections - before, 1);
    assert.equal(client.ended, false);
  });

  test("serve answers 100 pipelined requests in one write in order", async () => {
    const client = await cleanup.client(srv.port);
    let requests = "";
    for (let i = 0; i < 100; i++) requests += `GET /p?i=${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
    await client.write(requests);
    const responses = await client.responses(100);
    assert.equal(responses.length, 100);
    responses.forEach((r, i) => assert.equal(r.text(), `GET /p?i=${i}`));
    // Nothing beyond the 100 responses.
    const total = responses.reduce((n, r) => n + r.head.length + r.rawBody.length, 0);
    assert.equal(client.receivedBytes, total);
  });

  test("serve answers pipelined requests written one byte at a time", async () => {
    const client = await cleanup.client(srv.port);
    const text = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    await client.writePieces([...text]);
    const responses = await client.responses(2);
    assert.deepEqual(responses.map((r) => r.text()), ["GET /a", "GET /b"]);
  });

  test("serve reuses a keep-alive connection for sequential requests", async () => {
    const before = connections;
    const client = await cleanup.client(srv.port);
    for (let i = 0; i < 5; i++) {
      await client.write(`GET /seq${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
      const responses = await client.responses(i + 1);
      assert.equal(responses[i].text(), `GET /seq${i}`);
      assert.equal(responses[i].header("connection"), "keep-alive");
    }
    assert.equal(connections - before, 1);
    assert.equal(client.ended, false);
  });

  for (const [method, size] of [["POST", 10], ["POST", 200 * 1024], ["GET", 200 * 1024]] as const) {
    test(`serve discards an unread ${method} body of ${size} bytes and answers the next pipelined request`, async () => {
      const client = await cleanup.client(srv.port);
      await client.write(`${method} /unread HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
      await client.write(new Uint8Array(size).fill(0x61));
      await client.write("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      const responses = await client.responses(2);
      assert.deepEqual(responses.map((r) => r.text()), [`${method} /unread`, "GET /next"]);
      assert.equal(client.ended, false);
    });
  }

  test("serve closes the connection after the response when the unread body exceeds maxDrainBytes", async () => {
    const client = await cleanup.client(srv.port);
    const size = 1024 * 1024; // the default maxDrainBytes is 256 KiB
    await client.write(`POST /unread HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    client.write(new Uint8Array(size).fill(0x61)).catch(() => {/* the server may close first */});
    client.write("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").catch(() => {});
    await client.untilEnd();
    const responses = await client.responses(1);
    assert.equal(responses.length, 1, client.text);
    assert.equal(responses[0].text(), "POST /unread");
  });

  test("serve closes an HTTP/1.0 connection without keep-alive after the response", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /old HTTP/1.0\r\n\r\n");
    await client.untilEnd();
    const response = await client.response();
    assert.equal(response.statusLine, "HTTP/1.1 200 OK");
    assert.equal(response.header("connection"), "close");
    assert.equal(response.text(), "GET /old");
    assert.equal(client.receivedBytes, response.head.length + response.rawBody.length);
  });

  test("serve keeps an HTTP/1.0 keep-alive connection open", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /ka1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const [first] = await client.responses(1);
    assert.equal(first.header("connection"), "keep-alive");
    assert.equal(first.header("content-length"), "8");
    await client.write("GET /ka2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const responses = await client.responses(2);
    assert.equal(responses[1].text(), "GET /ka2");
    assert.equal(client.ended, false);
  });

  test("serve closes the connection after answering a request with Connection: close", async () => {
    const client = await cleanup.client(srv.port);
    await client.write(
      "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    const all = latin1(await client.untilEnd());
    await client.closed;
    const response = await client.response();
    assert.equal(response.header("connection"), "close");
    assert.equal(response.text(), "GET /last");
    assert.equal(
      all.length,
      response.head.length + response.rawBody.length,
      "the pipelined request is not answered",
    );
  });

  test("serve closes the connection when the handler's response says Connection: close", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /close HTTP/1.1\r\nHost: a\r\n\r\n");
    await client.untilEnd();
    const response = await client.response();
    assert.equal(response.header("connection"), "close");
    assert.equal(response.text(), "bye");
  });

  test("serve closes quietly when the client half-closes between requests", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /fin HTTP/1.1\r\nHost: a\r\n\r\n");
    await client.responses(1);
    client.end();
    await client.untilEnd();
    await client.closed;
    const [response] = await client.responses(1);
    assert.equal(client.receivedBytes, response.head.length + response.rawBody.length);
  });

  test("serve answers a slow handler's request after the client half-closed", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    client.end();
    await client.untilEnd();
    const response = await client.response();
    assert.equal(response.text(), "slow");
  });

  test("serve answers a request the client half-closed after sending", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
    client.end();
    await client.untilEnd();
    const response = await client.response();
    assert.equal(response.text(), "GET /half");
  });
});
