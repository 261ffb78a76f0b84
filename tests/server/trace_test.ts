/**
 * The wire trace on the memory transport and the fake clock: the events of a keep-alive exchange, of
 * pipelined requests (each response told after its bytes), of a rejection (with its line and column),
 * of each timeout, of a close by either side; and their printed form: visible CR and LF, escaped
 * bytes, redacted secrets, cut bodies, the caret under the byte, and each request's and response's
 * framing and keep-alive in words, as the server decided them.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HarRecorder } from "../../src/cli/har.ts";
import { DEFAULT_TRACE_FORMAT, TracePrinter, visible } from "../../src/cli/trace_format.ts";
import type { TraceEvent } from "../../src/server/trace.ts";
import { connect, exchange } from "../../src/testing/mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const hello = () => new Response("hello");
const printed = (events: TraceEvent[], format = DEFAULT_TRACE_FORMAT) => {
  const printer = new TracePrinter(format);
  return events.flatMap((event) => printer.print(event));
};

describe("the trace's events", () => {
  test("a request and its response: open, in, out, the response, with the bytes as they passed", async () => {
    const events: TraceEvent[] = [];
    const request = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const result = await exchange(hello, request, { trace: (event) => events.push(event) });
    // The close is exchange's own, from the client's side, when it is done.
    assert.deepEqual(events.map((event) => event.type), [
      "open",
      "in",
      "request",
      "out",
      "response",
      "close",
    ]);
    const told = events.filter((event) => event.type === "request" || event.type === "response");
    assert.deepEqual(
      told.map((event) =>
        event.type === "request" && [event.n, event.method, event.target, event.framing, event.keepAlive]
      ),
      [[1, "GET", "/a", "none", true], false],
    );
    const response = told[1];
    assert.ok(response.type === "response");
    assert.deepEqual([response.n, response.entry.status, response.framing, response.keepAlive], [
      1,
      200,
      "length",
      true,
    ]);
    const input = events.find((event) => event.type === "in");
    assert.ok(input?.type === "in");
    assert.equal(new TextDecoder().decode(input.bytes), request);
    const output = events.filter((event) => event.type === "out");
    const written = output.flatMap((event) => event.type === "out" ? [...event.bytes] : []);
    assert.deepEqual(new Uint8Array(written), result.bytes);
    assert.deepEqual(new Set(events.map((event) => event.id)), new Set([1]));
  });

  test("pipelined requests are numbered, and each response is told once its last byte is out", async () => {
    const events: TraceEvent[] = [];
    const connection = await connect(hello, { trace: (event) => events.push(event) });
    connection.write(
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert.equal((await connection.read()).status, 200);
    assert.equal((await connection.read()).status, 200);
    await connection.close();
    const shown = events.filter((event) => event.type !== "open" && event.type !== "close").map((event) =>
      event.type === "request" || event.type === "response" ? `${event.type} ${event.n}` : event.type
    );
    // Both responses leave in one write (the output is batched): each is told after it.
    assert.deepEqual(shown, ["in", "request 1", "request 2", "out", "response 1", "response 2"]);
    const second = events.find((event) => event.type === "request" && event.n === 2);
    assert.equal(second?.type === "request" && second.framing, "chunked");
  });

  test("a head that does not come in time: a timeout, not a rejection, then the 408 and the server's FIN", async () => {
    const events: TraceEvent[] = [];
    const result = await exchange(hello, ["GET / HTTP/1.1\r\nHo", { advanceMs: 31_000 }], {
      limits: { headersTimeoutMs: 30_000 },
      trace: (event) => events.push(event),
    });
    assert.equal(result.responses[0]?.status, 408);
    const timeout = events.find((event) => event.type === "timeout");
    assert.deepEqual(timeout?.type === "timeout" && [timeout.phase, timeout.limitMs], ["head", 30_000]);
    assert.equal(events.some((event) => event.type === "rejected"), false);
    const end = events.find((event) => event.type === "end" && event.by === "server");
    assert.equal(end?.type === "end" && end.why, "the head timeout");
    assert.ok(events.indexOf(timeout!) < events.indexOf(end!));
  });

  test("a body that stalls: the body timeout", async () => {
    const events: TraceEvent[] = [];
    const reader = async (request: Request) => new Response(await request.text());
    await exchange(reader, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", {
      advanceMs: 61_000,
    }], {
      limits: { bodyTimeoutMs: 60_000 },
      trace: (event) => events.push(event),
    });
    const timeout = events.find((event) => event.type === "timeout");
    assert.deepEqual(timeout?.type === "timeout" && [timeout.phase, timeout.limitMs], ["body", 60_000]);
  });

  test("a rejection carries its line of input and the column of the byte", async () => {
    const events: TraceEvent[] = [];
    await exchange(hello, "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", {
      trace: (event) => events.push(event),
    });
    const rejected = events.find((event) => event.type === "rejected");
    assert.ok(rejected?.type === "rejected");
    assert.equal(rejected.info.code, "OBS_FOLD");
    assert.equal(new TextDecoder().decode(rejected.line), " folded\r\n");
    assert.equal(rejected.column, 0);
    // The server answers 400, sends its FIN, and the client closes.
    const serverEnd = events.find((event) => event.type === "end" && event.by === "server");
    assert.equal(serverEnd?.type === "end" && serverEnd.why, "after rejecting the input");
    const ends = events.filter((event) => event.type === "end" || event.type === "close");
    assert.deepEqual(ends.map((event) => `${event.type} ${"by" in event ? event.by : ""}`), [
      "end server",
      "close client",
    ]);
  });

  test("the keep-alive timeout closes by the server; a client's close is the client's", async () => {
    const events: TraceEvent[] = [];
    const connection = await connect(hello, { trace: (event) => events.push(event) });
    connection.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await connection.read();
    await connection.advance(66_000);
    const byServer = events.filter((event) => event.type === "end" || event.type === "close")
      .map((event) => `${event.type} ${"by" in event ? event.by : ""}`);
    assert.deepEqual(byServer[0], "end server", byServer.join(", "));
    const end = events.find((event) => event.type === "end");
    assert.equal(end?.type === "end" && end.why, "the keep-alive timeout");
    const timeout = events.find((event) => event.type === "timeout");
    assert.deepEqual(timeout?.type === "timeout" && [timeout.phase, timeout.limitMs], ["keep-alive", 65_000]);
    await connection.close();
    const second: TraceEvent[] = [];
    const other = await connect(hello, { trace: (event) => second.push(event) });
    await other.close();
    assert.ok(second.some((event) => event.type === "close" && event.by === "client"));
  });
});

describe("the trace printed", () => {
  test("CR and LF are visible, other bytes escaped", () => {
    assert.equal(visible(bytes("a\r\nb\t\u0001\u007f")), "a␍␊b␉\\x01\\x7f");
  });

  test("secrets are redacted unless asked for, and bodies cut", () => {
    const event: TraceEvent = {
      type: "in",
      id: 3,
      at: 0,
      bytes: bytes("POST / HTTP/1.1\r\nCookie: id=42\r\nContent-Length: 10\r\n\r\n0123456789"),
    };
    const lines = printed([event], { secrets: false, bodyBytes: 4 });
    assert.deepEqual(lines, [
      "[#3] ← 64 bytes",
      "[#3] ←   POST / HTTP/1.1␍␊",
      "[#3] ←   Cookie: ‹redacted, 6 bytes; --trace-secrets shows it›␍␊",
      "[#3] ←   Content-Length: 10␍␊",
      "[#3] ←   ␍␊",
      "[#3] ←   0123",
      "[#3] ←   … 6 more bytes",
    ]);
    assert.ok(printed([event], { secrets: true, bodyBytes: 256 }).includes("[#3] ←   Cookie: id=42␍␊"));
  });

  test("a head split across reads is still shown as a head, its secrets redacted wherever the split falls", () => {
    const request = "POST / HTTP/1.1\r\nCookie: id=42\r\nContent-Length: 4\r\n\r\nbody";
    for (let split = 1; split < request.length; split++) {
      const pieces = [request.slice(0, split), request.slice(split)];
      const lines = printed(
        pieces.map((piece) => ({ type: "in", id: 1, at: 0, bytes: bytes(piece) }) as const),
        { secrets: false, bodyBytes: 2 },
      );
      const text = lines.join("\n");
      assert.doesNotMatch(text, /id=|=42|=4$|^\[#1\] ← {3}2␍␊$/m, `split at ${split}:\n${text}`);
      assert.match(text, /‹redacted, \d+ bytes; --trace-secrets shows it›/, `split at ${split}`);
      assert.ok(
        lines.some((line) => line.endsWith("Content-Length: 4␍␊")) || split > 32 && split < 51,
        `split at ${split}:\n${text}`,
      );
      // The body is cut at 2 bytes, however the head was split.
      assert.doesNotMatch(text, /body/, `split at ${split}:\n${text}`);
    }
  });

  test("each request's and response's framing and keep-alive in words, as the server decided them", async () => {
    const events: TraceEvent[] = [];
    // A body whose length is not known when the head is sent: chunked for HTTP/1.1, up to the close for 1.0.
    const streamed = () =>
      new ReadableStream({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          controller.enqueue(bytes("hi"));
          controller.close();
        },
      });
    const handler = (request: Request) =>
      new URL(request.url).pathname === "/304"
        ? new Response(null, { status: 304 })
        : new Response(streamed());
    await exchange(
      handler,
      "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
      { trace: (event) => events.push(event) },
    );
    const told = printed(events.filter((event) => event.type === "request" || event.type === "response"))
      .map((line) => line.replace(/\d+ bytes, \d+ ms/, "N bytes, T ms"));
    assert.deepEqual(told, [
      "[#1] request 1: POST /up HTTP/1.1; a body of 3 bytes, framed by Content-Length (RFC 9112 §6.2); the client would keep the connection open (keep-alive); it waits for 100 Continue to send its body (RFC 9110 §10.1.1)",
      "[#1] response 1: POST /up → 200, N bytes, T ms; body framed by Transfer-Encoding: chunked (RFC 9112 §7.1); the connection ends after it",
    ], "the body was never asked for, so it may never come: the server closes after its answer");
    const rest: TraceEvent[] = [];
    await exchange(
      handler,
      "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.0\r\n\r\n",
      { trace: (event) => rest.push(event) },
    );
    assert.deepEqual(
      printed(rest.filter((event) => event.type === "response")).map((line) =>
        line.replace(/\d+ bytes, \d+ ms/, "N bytes, T ms")
      ),
      [
        "[#1] response 1: HEAD / → 200, N bytes, T ms; no body: a response to HEAD (RFC 9112 §6.3, rule 1); the connection stays open for the next request (keep-alive)",
        "[#1] response 2: GET /304 → 304, N bytes, T ms; no body: status 304 has none (RFC 9112 §6.3, rule 1); the connection stays open for the next request (keep-alive)",
        "[#1] response 3: GET / → 200, N bytes, T ms; body delimited by the close of the connection (RFC 9112 §6.3, rule 8); the connection ends after it",
      ],
    );
    assert.deepEqual(printed(rest.filter((event) => event.type === "request" && event.n === 3)), [
      "[#1] request 3: GET / HTTP/1.0; no body: neither Content-Length nor Transfer-Encoding (RFC 9112 §6.3, rule 7); HTTP/1.0 without keep-alive: the client wants the connection to end after it",
    ]);
  });

  test("each timeout names its limit", () => {
    const line = (phase: "head" | "body" | "keep-alive" | "send") =>
      printed([{ type: "timeout", id: 2, at: 0, phase, limitMs: 5 }])[0];
    assert.equal(line("head"), "[#2] timeout: no whole request head within 5 ms (limits.headersTimeoutMs)");
    assert.equal(line("body"), "[#2] timeout: the request body stalled for 5 ms (limits.bodyTimeoutMs)");
    assert.match(line("keep-alive"), /limits\.keepAliveTimeoutMs\)$/);
    assert.match(line("send"), /limits\.sendTimeoutMs\)$/);
  });

  test("a rejection with a caret under its byte", async () => {
    const events: TraceEvent[] = [];
    await exchange(hello, "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", {
      trace: (event) => events.push(event),
    });
    const lines = printed(events.filter((event) => event.type === "rejected"));
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0], /^\[#1\] rejected: 400 \S+ \(RFC 9112 §\S+\) at byte \d+: /);
    const shown = lines[1].slice("[#1]   ".length);
    const caret = lines[2].slice("[#1]   ".length);
    assert.equal(shown, "Bad␠Name:␠1␍␊");
    assert.equal(caret, "   ^", "under the space in the field name");
  });

  test("the moment a connection comes, as the classroom program printed it", () => {
    const lines = printed([{
      type: "open",
      id: 7,
      at: 0,
      remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 5 },
    }]);
    assert.deepEqual(lines, ["[#7] connection from 127.0.0.1:5"]);
  });
});

describe("the trace as HAR 1.2", () => {
  test("timings: send to the head's end, wait to the first byte out, receive to the last", () => {
    const har = new HarRecorder("http");
    const remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 5 } as const;
    const entry = {
      remoteAddr,
      clientAddr: remoteAddr,
      method: "GET",
      target: "/a",
      status: 200,
      bytes: 40,
      durationMs: 13,
    };
    const response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    const events: TraceEvent[] = [
      { type: "open", id: 1, at: 1000, remoteAddr },
      { type: "in", id: 1, at: 1010, bytes: bytes("GET /a HTTP/1.1\r\n") },
      { type: "in", id: 1, at: 1012, bytes: bytes("Host: x\r\n\r\n") },
      {
        type: "request",
        id: 1,
        at: 1012,
        n: 1,
        method: "GET",
        target: "/a",
        version: "HTTP/1.1",
        framing: "none",
        contentLength: 0,
        keepAlive: true,
        expectContinue: false,
      },
      { type: "out", id: 1, at: 1020, bytes: bytes(response.slice(0, 20)) },
      { type: "out", id: 1, at: 1025, bytes: bytes(response.slice(20)) },
      { type: "response", id: 1, at: 1025, n: 1, entry, framing: "length", keepAlive: true },
      { type: "close", id: 1, at: 1030, by: "client" },
    ];
    for (const event of events) har.add(event);
    const [recorded] = har.toJSON().log.entries;
    assert.deepEqual(recorded.timings, { send: 2, wait: 8, receive: 5 });
    assert.equal(recorded.time, 15);
    assert.equal(recorded.startedDateTime, new Date(1010).toISOString());
    assert.equal((recorded.response as { content: { text: string } }).content.text, "hi");
  });
});
