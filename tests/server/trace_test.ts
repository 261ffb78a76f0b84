/**
 * The wire trace on the memory transport and the fake clock: the events of a keep-alive exchange, of
 * a rejection (with its line and column), of a close by either side; and their printed form: visible
 * CR and LF, escaped bytes, redacted secrets, cut bodies, the caret under the byte, and each head's
 * framing and keep-alive in words.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_TRACE_FORMAT, formatTraceEvent, visible } from "../../src/cli/trace_format.ts";
import type { TraceEvent } from "../../src/server/trace.ts";
import { connect, exchange } from "../../src/testing/mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const hello = () => new Response("hello");
const printed = (events: TraceEvent[], format = DEFAULT_TRACE_FORMAT) =>
  events.flatMap((event) => formatTraceEvent(event, format));

describe("the trace's events", () => {
  test("a request and its response: open, in, out, the response, with the bytes as they passed", async () => {
    const events: TraceEvent[] = [];
    const request = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const result = await exchange(hello, request, { trace: (event) => events.push(event) });
    // The close is exchange's own, from the client's side, when it is done.
    assert.deepEqual(events.map((event) => event.type).sort(), ["close", "in", "open", "out", "response"]);
    const input = events.find((event) => event.type === "in");
    assert.ok(input?.type === "in");
    assert.equal(new TextDecoder().decode(input.bytes), request);
    const output = events.filter((event) => event.type === "out");
    const written = output.flatMap((event) => event.type === "out" ? [...event.bytes] : []);
    assert.deepEqual(new Uint8Array(written), result.bytes);
    assert.deepEqual(new Set(events.map((event) => event.id)), new Set([1]));
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
    assert.equal(end?.type === "end" && end.why, "the keep-alive timeout: 65000 ms without a request");
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
      "[#3] ←   (request: body framed by Content-Length: 10 (RFC 9112 §6.2); the client would keep the connection open (keep-alive))",
      "[#3] ←   0123",
      "[#3] ←   … 6 more bytes",
    ]);
    assert.ok(printed([event], { secrets: true, bodyBytes: 256 }).includes("[#3] ←   Cookie: id=42␍␊"));
  });

  test("each head's framing and keep-alive in words", () => {
    const head = (text: string) => printed([{ type: "out", id: 1, at: 0, bytes: bytes(text) }]).at(-1);
    assert.match(
      head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")!,
      /Transfer-Encoding: chunked .*keep-alive/,
    );
    assert.match(
      head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")!,
      /up to the close .*Connection: close/,
    );
    assert.match(head("HTTP/1.1 304 Not Modified\r\n\r\n")!, /no body \(by its status\)/);
    assert.match(
      head("GET / HTTP/1.0\r\n\r\n")!,
      /no body: neither .*HTTP\/1\.0 without keep-alive, the client wants/,
    );
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
