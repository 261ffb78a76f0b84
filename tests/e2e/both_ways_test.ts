/**
 * One set of cases run both ways: through `h1serve/testing`'s `exchange` (the memory transport and a
 * fake clock) and over a real socket on 127.0.0.1 with the runtime's adapter. The responses read back
 * (status, fields with the Date value set aside, body, framing) and whether the server closed the
 * connection must be the same: what passes in memory behaves the same on a socket.
 *
 * On the socket, "the server kept the connection open" is shown by an answer to one more request.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ServeHandler } from "../../src/server/options.ts";
import { exchange, readResponses, type TestResponse } from "../../src/testing/mod.ts";
import { Cleanup, RawClient } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

const handler: ServeHandler = async (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/throw") throw new Error("the handler failed on purpose");
  if (url.pathname === "/stream") {
    const parts = ["one ", "two ", "three"];
    const body = new ReadableStream({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(part));
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  }
  if (url.pathname === "/missing") {
    return new Response("no such page", { status: 404, headers: { "x-why": "gone" } });
  }
  const body = request.body === null ? "" : await request.text();
  return new Response(`${request.method} ${url.pathname} ${body}`, { headers: { "x-case": "echo" } });
};

interface Case {
  readonly name: string;
  readonly pieces: readonly string[];
}

const host = "Host: a\r\n";
const CASES: readonly Case[] = [
  { name: "a GET", pieces: [`GET /a HTTP/1.1\r\n${host}\r\n`] },
  { name: "three pipelined GETs in one write", pieces: [`GET /1 HTTP/1.1\r\n${host}\r\n`.repeat(3)] },
  { name: "a request a byte at a time", pieces: [...`GET /bytes HTTP/1.1\r\n${host}\r\n`] },
  {
    name: "a POST with Content-Length",
    pieces: [`POST /p HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhello`],
  },
  {
    name: "a chunked POST in two writes",
    pieces: [
      `POST /c HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`,
      "2\r\nde\r\n0\r\n\r\n",
    ],
  },
  {
    name: "Expect: 100-continue, the body after the head",
    pieces: [`POST /e HTTP/1.1\r\n${host}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n`, "ok"],
  },
  { name: "HEAD", pieces: [`HEAD /h HTTP/1.1\r\n${host}\r\n`] },
  { name: "a streamed response", pieces: [`GET /stream HTTP/1.1\r\n${host}\r\n`] },
  { name: "a 404 with a field of the handler's", pieces: [`GET /missing HTTP/1.1\r\n${host}\r\n`] },
  { name: "a handler that throws", pieces: [`GET /throw HTTP/1.1\r\n${host}\r\n`] },
  { name: "HTTP/1.0 without keep-alive", pieces: ["GET /old HTTP/1.0\r\n\r\n"] },
  { name: "Connection: close", pieces: [`GET /bye HTTP/1.1\r\n${host}Connection: close\r\n\r\n`] },
  { name: "no Host", pieces: ["GET / HTTP/1.1\r\n\r\n"] },
  { name: "a bare LF", pieces: [`GET / HTTP/1.1\n${host}\r\n`] },
  { name: "obs-fold", pieces: [`GET / HTTP/1.1\r\n${host}X-A: 1\r\n 2\r\n\r\n`] },
  {
    name: "Content-Length with Transfer-Encoding",
    pieces: [`POST / HTTP/1.1\r\n${host}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  },
  {
    name: "a GET, then a malformed request",
    pieces: [`GET /ok HTTP/1.1\r\n${host}\r\nGET /bad HTTP/1.1\r\n\r\n`],
  },
];

/** What must be the same both ways: a response without its Date value. */
function comparable(response: TestResponse) {
  return {
    status: response.status,
    reason: response.reason,
    fields: response.fields.map(([name, value]) => [name, name.toLowerCase() === "date" ? "<date>" : value]),
    framing: response.framing,
    body: response.text,
  };
}

describe(`the same cases in memory and on a socket on ${runtime}`, () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  for (const { name, pieces } of CASES) {
    test(name, async () => {
      const inMemory = await exchange(handler, pieces, { onError: (error) => quietError(error) });
      const methods = [...pieces.join("").matchAll(/^(GET|HEAD|POST) /gm)].map((match) => match[1]);

      const { port } = await cleanup.server(handler, { onError: (error) => quietError(error) });
      const client = await RawClient.connect(port);
      try {
        await client.writePieces(pieces);
        const finals = inMemory.responses.filter((response) => response.status >= 200).length;
        await client.until(
          () =>
            readResponses(client.received, methods, client.ended).filter((r) => r.status >= 200).length >=
              finals,
          `${finals} responses`,
        );
        let onSocket = readResponses(client.received, methods, client.ended);
        if (inMemory.closed) {
          await client.untilEnd();
          onSocket = readResponses(client.received, methods, true);
        } else {
          // Still open: it answers one more request.
          const before = client.receivedBytes;
          await client.write(`GET /probe HTTP/1.1\r\n${host}\r\n`);
          await client.until(
            () => readResponses(client.received.subarray(before), [], false).length > 0,
            "the probe",
          );
        }
        assert.deepEqual(onSocket.map(comparable), inMemory.responses.map(comparable));
        assert.ok(inMemory.responses.length > 0, "a response");
      } finally {
        client.destroy();
      }
    });
  }
});

/** The handler's deliberate failure, answered 500 both ways without a log line each time. */
function quietError(_error: unknown): Response {
  return new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain" } });
}
