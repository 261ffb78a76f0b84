/**
 * ServerConnection: pipelining and its gating, Expect: 100-continue, response framing and
 * validation, draining an unread body, requestClose, the three deadlines, and error answers.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ConnectionContext,
  type ConnectionEvent,
  DEFAULT_PROTOCOL_LIMITS,
  HttpError,
  LocalProtocolError,
  NEED_DATA,
  PAUSED,
  type ProtocolLimits,
  type ResponseStart,
  ServerConnection,
} from "../../src/core/mod.ts";
import { assertLog, bytes, CLOSE, data, end, feedAllSplits, req, RESPONSE, str } from "./_feed.ts";

const H = "Host: a\r\n";
const GET = (target = "/") => `GET ${target} HTTP/1.1\r\n${H}\r\n`;

function open(text = "", limits: Partial<ProtocolLimits> = {}, now = 0): ServerConnection {
  const conn = new ServerConnection({ limits, now });
  if (text !== "") conn.receive(bytes(text), now);
  return conn;
}

/** Pulls events until NEED_DATA or PAUSED (included), for inspection. */
function pull(conn: ServerConnection, max = 100): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let i = 0; i < max; i++) {
    const event = conn.nextEvent();
    events.push(event);
    if (event === NEED_DATA || event === PAUSED || event.type === "error" || event.type === "close") {
      return events;
    }
  }
  throw new Error("too many events");
}

function types(events: readonly ConnectionEvent[]): string[] {
  return events.map((event) => event.type);
}

/** Takes the request event off a connection. */
function nextRequest(conn: ServerConnection) {
  const event = conn.nextEvent();
  assert.equal(event.type, "request");
  return event.type === "request" ? event.head : assert.fail("no request");
}

interface ParsedResponse {
  status: number;
  reason: string;
  headers: [string, string][];
  body: string;
}

/** Parses response bytes: status line, fields, then the rest as the body. */
function parseResponse(text: string): ParsedResponse {
  const headEnd = text.indexOf("\r\n\r\n");
  assert.notEqual(headEnd, -1, "response head ends with an empty line");
  const [statusLine, ...lines] = text.slice(0, headEnd).split("\r\n");
  const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
  assert.ok(match, `status line ${JSON.stringify(statusLine)}`);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(": ");
    assert.ok(colon > 0, `field line ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 2)];
  });
  return { status: Number(match[1]), reason: match[2], headers, body: text.slice(headEnd + 4) };
}

/** All values of one field (by lower-case name). */
function field(response: ParsedResponse, name: string): string[] {
  return response.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

function start(conn: ServerConnection, response: Partial<ResponseStart> = {}, now = 0): ParsedResponse {
  const head = conn.startResponse({ status: 200, headers: [], bodyLength: 0, ...response }, now);
  return parseResponse(str(head));
}

describe("ServerConnection pipelining", () => {
  it("ServerConnection answers pipelined requests in order and pauses until each response ends", () => {
    const conn = open(`${GET("/1")}POST /2 HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc${GET("/3")}`);
    assert.equal(nextRequest(conn).target, "/1");
    assert.equal(conn.nextEvent(), PAUSED);
    assert.equal(conn.nextEvent(), PAUSED);
    assert.ok(conn.bufferedBytes > 0);
    start(conn, { bodyLength: 2 });
    assert.equal(conn.nextEvent(), PAUSED, "still paused while the response body is written");
    conn.writeBody(bytes("ok"));
    assert.equal(conn.nextEvent(), PAUSED);
    conn.endResponse(0);
    assert.equal(nextRequest(conn).target, "/2");
    assert.deepEqual(types(pull(conn)), ["data", "end", "paused"]);
    start(conn);
    conn.endResponse(0);
    assert.equal(nextRequest(conn).target, "/3");
    assert.equal(conn.readState, "done", "the third request is complete and waits for its response");
    assert.equal(conn.nextEvent(), PAUSED);
    start(conn);
    conn.endResponse(0);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.idle, true);
  });

  it("ServerConnection gives the same log for mixed pipelined requests in every split", () => {
    const input = GET("/a") +
      `POST /b HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` +
      `PUT /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n` +
      `\r\nHEAD /d HTTP/1.1\r\n${H}\r\n` +
      `GET /e HTTP/1.0\r\n\r\n` +
      GET("/never");
    const result = feedAllSplits(input);
    assertLog(result.log, [
      req("GET", "/a"),
      RESPONSE,
      req("POST", "/b"),
      data("hello"),
      end(),
      RESPONSE,
      req("PUT", "/c"),
      data("hi"),
      end([["X-T", "1"]]),
      RESPONSE,
      req("HEAD", "/d"),
      RESPONSE,
      req("GET", "/e", { version: "HTTP/1.0", keepAlive: false }),
      RESPONSE,
    ]);
    assert.equal(result.writeState, "closed");
  });

  it("ServerConnection parses a request split in the middle of every CRLF", () => {
    const conn = open();
    for (const piece of ["GET / HTTP/1.1\r", "\nHost: a\r", "\n\r", "\n"]) {
      assert.equal(conn.nextEvent(), NEED_DATA);
      conn.receive(bytes(piece), 0);
    }
    assert.equal(nextRequest(conn).authority, "a");
  });

  it("ServerConnection ignores an empty receive", () => {
    const conn = open();
    conn.receive(new Uint8Array(0), 5);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.idle, true);
  });

  it("ServerConnection errors are sticky: nothing more is parsed", () => {
    const conn = open("GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n");
    const event = conn.nextEvent();
    assert.equal(event.type, "error");
    assert.equal(conn.readState, "error");
    assert.ok(event.type === "error");
    assert.match(str(conn.errorResponse(event.error, 0)), /\r\nconnection: close\r\n/);
    assert.equal(conn.closed, true);
    conn.receive(bytes(GET()), 0);
    assert.equal(conn.nextEvent(), PAUSED);
    assert.equal(conn.nextEvent(), PAUSED);
  });

  it("ServerConnection reports a close on EOF with nothing received, and is closed", () => {
    const conn = open();
    conn.receiveEof();
    assert.equal(conn.nextEvent().type, "close");
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED);
    assert.equal(conn.requestClose(), true);
  });

  it("ServerConnection treats empty lines then EOF as a quiet close, not an incomplete request", () => {
    const conn = open(GET());
    nextRequest(conn);
    start(conn);
    conn.endResponse(0);
    conn.receive(bytes("\r\n"), 0);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.idle, true, "an ignored empty line starts no request, so a shutdown may close at once");
    conn.receiveEof();
    assert.equal(conn.nextEvent().type, "close");
    assert.equal(conn.closed, true);
  });

  it("ServerConnection closes quietly when only empty lines arrive before the keep-alive deadline", () => {
    const conn = open(GET());
    nextRequest(conn);
    start(conn);
    conn.endResponse(0);
    conn.receive(bytes("\r\n\r\n"), 10);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.checkTimeout(10 + DEFAULT_PROTOCOL_LIMITS.headersTimeoutMs), "close");
  });

  it("ServerConnection answers a request whose client half-closed, then reports close", () => {
    const conn = open(GET());
    conn.receiveEof();
    nextRequest(conn);
    assert.equal(conn.nextEvent(), PAUSED);
    start(conn);
    conn.endResponse(0);
    assert.equal(conn.nextEvent().type, "close");
    assert.equal(conn.closed, true);
  });

  it("ServerConnection answers pipelined requests that arrived before a half-close", () => {
    const result = feedAllSplits(GET("/1") + GET("/2"), { eof: true });
    assertLog(result.log, [req("GET", "/1"), RESPONSE, req("GET", "/2"), RESPONSE, CLOSE]);
  });
});

describe("ServerConnection Expect: 100-continue (RFC 9110 §10.1.1)", () => {
  const expecting = `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`;

  it("ServerConnection.continueResponse returns 100 Continue once while the body is unread", () => {
    const conn = open(expecting);
    assert.equal(nextRequest(conn).expectContinue, true);
    const interim = conn.continueResponse();
    assert.equal(str(interim as Uint8Array), "HTTP/1.1 100 Continue\r\n\r\n");
    assert.equal(conn.continueResponse(), null, "only once");
    conn.receive(bytes("hello"), 0);
    assert.deepEqual(types(pull(conn)), ["data", "end", "paused"]);
  });

  it("ServerConnection.continueResponse returns null without the expectation", () => {
    const conn = open(`POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\n`);
    nextRequest(conn);
    assert.equal(conn.continueResponse(), null);
  });

  it("ServerConnection.continueResponse returns null once the body has been read", () => {
    const conn = open(`${expecting}hello`);
    nextRequest(conn);
    assert.deepEqual(types(pull(conn)), ["data", "end", "paused"]);
    assert.equal(conn.continueResponse(), null);
  });

  it("ServerConnection.continueResponse returns null once a response has started", () => {
    const conn = open(expecting);
    nextRequest(conn);
    start(conn, { status: 413 });
    assert.equal(conn.continueResponse(), null);
  });

  it("ServerConnection.continueResponse returns null for a request without a body", () => {
    const conn = open(`GET / HTTP/1.1\r\n${H}Expect: 100-continue\r\n\r\n`);
    assert.equal(nextRequest(conn).expectContinue, true);
    assert.equal(conn.continueResponse(), null);
  });

  it("ServerConnection.continueResponse returns null before any request", () => {
    assert.equal(open().continueResponse(), null);
  });

  it("ServerConnection closes after a final response when 100 Continue was never sent", () => {
    const conn = open(expecting);
    nextRequest(conn);
    const response = start(conn, { status: 401 });
    assert.deepEqual(field(response, "connection"), ["close"], "the head says the connection will close");
    conn.endResponse(0);
    assert.equal(
      conn.closed,
      true,
      "the client may or may not send the body: the connection cannot be reused",
    );
  });

  it("ServerConnection keeps the connection after 100 Continue was sent and the body was read", () => {
    const conn = open(expecting);
    nextRequest(conn);
    assert.notEqual(conn.continueResponse(), null);
    conn.receive(bytes("hello"), 0);
    assert.deepEqual(types(pull(conn)), ["data", "end", "paused"]);
    const response = start(conn);
    assert.deepEqual(field(response, "connection"), ["keep-alive"]);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
    assert.equal(conn.readState, "head");
  });

  it("ServerConnection answers 417 to an unknown expectation", () => {
    const conn = open(`POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 200-ok\r\n\r\n`);
    const event = conn.nextEvent();
    assert.ok(event.type === "error");
    assert.equal(event.error.status, 417);
    const response = parseResponse(str(conn.errorResponse(event.error, 0)));
    assert.equal(response.status, 417);
    assert.equal(response.reason, "Expectation Failed");
    assert.equal(conn.closed, true);
  });
});

describe("ServerConnection.startResponse framing (RFC 9112 §6, RFC 9110 §6.4.1)", () => {
  it("ServerConnection.startResponse sends Content-Length when the length is known", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, { bodyLength: 5 });
    assert.equal(response.status, 200);
    assert.equal(response.reason, "OK");
    assert.deepEqual(field(response, "content-length"), ["5"]);
    assert.deepEqual(field(response, "transfer-encoding"), []);
    assert.deepEqual(field(response, "connection"), ["keep-alive"]);
    assert.equal(conn.responseFraming, "length");
    const body = bytes("hello");
    assert.equal(conn.writeBody(body), body, "the data itself, not a copy");
    assert.equal(conn.endResponse(0).byteLength, 0);
    assert.equal(conn.writeState, "idle");
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.startResponse chunks a body of unknown length for HTTP/1.1", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, { bodyLength: null });
    assert.deepEqual(field(response, "transfer-encoding"), ["chunked"]);
    assert.deepEqual(field(response, "content-length"), []);
    assert.equal(str(conn.writeBody(bytes("hello"))), "5\r\nhello\r\n");
    assert.equal(conn.writeBody(new Uint8Array(0)).byteLength, 0, "an empty piece must not end the body");
    assert.equal(str(conn.writeBody(bytes("x".repeat(26)))), `1a\r\n${"x".repeat(26)}\r\n`);
    assert.equal(str(conn.endResponse(0, [["x-sum", "31"]])), "0\r\nx-sum: 31\r\n\r\n");
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.endResponse ends a chunked body with an empty last chunk", () => {
    const conn = open(GET());
    nextRequest(conn);
    start(conn, { bodyLength: null });
    assert.equal(str(conn.endResponse(0)), "0\r\n\r\n");
  });

  it("ServerConnection.startResponse delimits a body of unknown length by close for HTTP/1.0", () => {
    const conn = open("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    nextRequest(conn);
    const response = start(conn, { bodyLength: null });
    assert.deepEqual(field(response, "transfer-encoding"), []);
    assert.deepEqual(field(response, "content-length"), []);
    assert.deepEqual(field(response, "connection"), ["close"]);
    assert.equal(str(conn.writeBody(bytes("raw"))), "raw");
    assert.equal(conn.endResponse(0).byteLength, 0);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.startResponse keeps an HTTP/1.0 keep-alive connection with a known length", () => {
    const conn = open("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    nextRequest(conn);
    const response = start(conn, { bodyLength: 0 });
    assert.deepEqual(field(response, "connection"), ["keep-alive"]);
    assert.deepEqual(field(response, "content-length"), ["0"]);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.startResponse sends no body and no Content-Length for 204", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, {
      status: 204,
      bodyLength: 3,
      headers: [["Content-Length", "3"], ["Transfer-Encoding", "chunked"]],
    });
    assert.equal(response.reason, "No Content");
    assert.deepEqual(field(response, "content-length"), []);
    assert.deepEqual(field(response, "transfer-encoding"), []);
    assert.equal(conn.responseFraming, "none");
    assert.equal(conn.writeBody(bytes("abc")).byteLength, 0);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.startResponse keeps Content-Length but sends no body for HEAD", () => {
    const conn = open(`HEAD / HTTP/1.1\r\n${H}\r\n`);
    nextRequest(conn);
    const response = start(conn, { bodyLength: 12 });
    assert.deepEqual(field(response, "content-length"), ["12"]);
    assert.deepEqual(field(response, "transfer-encoding"), []);
    assert.equal(conn.responseFraming, "none");
    assert.equal(conn.writeBody(bytes("Hello World!")).byteLength, 0);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.startResponse uses the handler's Content-Length for HEAD when the length is unknown", () => {
    const conn = open(`HEAD / HTTP/1.1\r\n${H}\r\n`);
    nextRequest(conn);
    const response = start(conn, { bodyLength: null, headers: [["content-length", "99"]] });
    assert.deepEqual(field(response, "content-length"), ["99"]);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.startResponse sends neither length nor chunked for HEAD of unknown length", () => {
    const conn = open(`HEAD / HTTP/1.1\r\n${H}\r\n`);
    nextRequest(conn);
    const response = start(conn, { bodyLength: null });
    assert.deepEqual(field(response, "content-length"), []);
    assert.deepEqual(field(response, "transfer-encoding"), []);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
  });

  it("ServerConnection.startResponse sends no body for 304 and keeps a declared Content-Length", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, {
      status: 304,
      bodyLength: null,
      headers: [["Content-Length", "42"], ["ETag", '"x"']],
    });
    assert.equal(response.reason, "Not Modified");
    assert.deepEqual(field(response, "content-length"), ["42"]);
    assert.deepEqual(field(response, "etag"), ['"x"']);
    assert.deepEqual(field(response, "transfer-encoding"), []);
    assert.equal(conn.responseFraming, "none");
    conn.endResponse(0);

    conn.receive(bytes(GET()), 0);
    nextRequest(conn);
    const bare = start(conn, { status: 304, bodyLength: null });
    assert.deepEqual(field(bare, "content-length"), []);
    assert.deepEqual(field(bare, "transfer-encoding"), []);
  });

  it("ServerConnection.startResponse honours a handler's Connection: close", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    const response = start(conn, { headers: [["Connection", "Keep-Alive, Close"]] });
    assert.deepEqual(field(response, "connection"), ["close"]);
    conn.endResponse(0);
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED, "the pipelined /2 is never read");
    assert.equal(conn.nextEvent(), PAUSED, "the pipelined request is not answered");
  });

  it("ServerConnection.startResponse drops the handler's Connection and Keep-Alive fields otherwise", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, { headers: [["Connection", "keep-alive"], ["Keep-Alive", "timeout=5"]] });
    assert.deepEqual(field(response, "connection"), ["keep-alive"], "its own, with its Keep-Alive field");
    assert.deepEqual(field(response, "keep-alive"), ["timeout=65"], "its own, from keepAliveTimeoutMs");
  });

  it("ServerConnection.startResponse advertises keepAliveTimeoutMs in whole seconds, only when keeping alive", () => {
    const conn = new ServerConnection({ limits: { keepAliveTimeoutMs: 4_999 }, now: 0 });
    conn.receive(bytes(GET("/1") + "GET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 0);
    nextRequest(conn);
    assert.deepEqual(field(start(conn), "keep-alive"), ["timeout=4"]);
    conn.endResponse(0);
    nextRequest(conn);
    const last = start(conn);
    assert.deepEqual(field(last, "keep-alive"), []);
    assert.deepEqual(field(last, "connection"), ["close"]);
  });

  it("ServerConnection.startResponse replaces the handler's Transfer-Encoding with its own framing", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    const known = start(conn, { bodyLength: 3, headers: [["Transfer-Encoding", "gzip, chunked"]] });
    assert.deepEqual(field(known, "transfer-encoding"), []);
    assert.deepEqual(field(known, "content-length"), ["3"]);
    conn.writeBody(bytes("abc"));
    conn.endResponse(0);
    nextRequest(conn);
    const unknown = start(conn, { bodyLength: null, headers: [["transfer-encoding", "identity"]] });
    assert.deepEqual(field(unknown, "transfer-encoding"), ["chunked"]);
  });

  it("ServerConnection.startResponse prefers bodyLength over the handler's Content-Length", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, { bodyLength: 2, headers: [["Content-Length", "7"]] });
    assert.deepEqual(field(response, "content-length"), ["2"]);
  });

  it("ServerConnection.startResponse frames by the handler's Content-Length when bodyLength is unknown", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, { bodyLength: null, headers: [["content-length", "3"]] });
    assert.deepEqual(field(response, "content-length"), ["3"]);
    assert.deepEqual(field(response, "transfer-encoding"), []);
    assert.throws(() => conn.writeBody(bytes("abcd")), { name: "LocalProtocolError", code: "BODY_TOO_LONG" });
  });

  it("ServerConnection.startResponse adds Date unless the handler sent one", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    assert.deepEqual(field(start(conn, {}, 784111777000), "date"), ["Sun, 06 Nov 1994 08:49:37 GMT"]);
    conn.endResponse(0);
    nextRequest(conn);
    const own = start(conn, { headers: [["Date", "Thu, 01 Jan 1970 00:00:00 GMT"]] }, 784111777000);
    assert.deepEqual(field(own, "date"), ["Thu, 01 Jan 1970 00:00:00 GMT"]);
  });

  it("ServerConnection.startResponse sends the handler's fields in order and keeps repeats", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = start(conn, { headers: [["Set-Cookie", "a=1"], ["x-b", "2"], ["Set-Cookie", "b=2"]] });
    assert.deepEqual(response.headers.slice(0, 3), [["Set-Cookie", "a=1"], ["x-b", "2"], [
      "Set-Cookie",
      "b=2",
    ]]);
  });

  it("ServerConnection.startResponse uses a valid status text and replaces an invalid one", () => {
    const conn = open(GET("/1") + GET("/2") + GET("/3"));
    nextRequest(conn);
    assert.equal(start(conn, { status: 404, statusText: "Nowhere" }).reason, "Nowhere");
    conn.endResponse(0);
    nextRequest(conn);
    assert.equal(start(conn, { status: 404, statusText: "x\r\nInjected: 1" }).reason, "Not Found");
    conn.endResponse(0);
    nextRequest(conn);
    const head = str(conn.startResponse({ status: 299, headers: [], bodyLength: 0 }, 0));
    assert.ok(head.startsWith("HTTP/1.1 299 \r\n"), "an unknown status gets an empty reason phrase");
  });
});

describe("ServerConnection.startResponse validation", () => {
  for (const status of [100, 101, 199, 600, 200.5, Number.NaN]) {
    it(`ServerConnection.startResponse rejects status ${status} and changes nothing`, () => {
      const conn = open(GET());
      nextRequest(conn);
      assert.throws(
        () => conn.startResponse({ status, headers: [], bodyLength: 0 }, 0),
        LocalProtocolError,
      );
      assert.equal(conn.writeState, "idle");
    });
  }

  const badFields: [string, string][] = [
    ["Bad Name", "x"],
    ["", "x"],
    ["X-Ok", "a\r\nInjected: 1"],
    ["X-Ok", "a\nb"],
    ["X-Ok", "nul\x00"],
    ["X-Ok", "\u0100"],
    ["X-Ok", " leading"],
    ["Content-Length", "-1"],
    ["Content-Length", "1, 1"],
  ];
  for (const [name, value] of badFields) {
    it(`ServerConnection.startResponse throws LocalProtocolError for ${JSON.stringify([name, value])} and changes nothing`, () => {
      const conn = open(GET());
      nextRequest(conn);
      assert.throws(
        () =>
          conn.startResponse(
            { status: 200, headers: [["X-Before", "1"], [name, value]], bodyLength: null },
            0,
          ),
        (error: unknown) => {
          assert.ok(error instanceof LocalProtocolError);
          assert.equal(error.code, "INVALID_FIELD");
          assert.equal(error.responseUnchanged, true);
          assert.ok(!error.message.includes("Injected"), "the message does not echo the value");
          return true;
        },
      );
      assert.equal(conn.writeState, "idle");
      const fallback = start(conn, { status: 500, bodyLength: 0 });
      assert.equal(fallback.status, 500);
      assert.deepEqual(field(fallback, "connection"), ["keep-alive"], "the connection may still stay open");
      assert.deepEqual(field(fallback, "x-before"), []);
      conn.endResponse(0);
      assert.equal(conn.closed, false);
    });
  }

  it("ServerConnection.startResponse refuses a second response to one request", () => {
    const conn = open(GET());
    nextRequest(conn);
    start(conn);
    assert.throws(() => start(conn), Error);
  });

  it("ServerConnection.startResponse refuses a response with no request", () => {
    assert.throws(() => start(open()), Error);
    const conn = open(GET());
    assert.throws(() => start(conn), Error, "the request has not been taken yet");
  });

  it("ServerConnection.writeBody and endResponse refuse to run before startResponse", () => {
    const conn = open(GET());
    nextRequest(conn);
    assert.throws(() => conn.writeBody(bytes("x")), Error);
    assert.throws(() => conn.endResponse(0), Error);
  });
});

describe("ServerConnection response length checks", () => {
  it("ServerConnection.writeBody throws LocalProtocolError past Content-Length and closes", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    start(conn, { bodyLength: 3 });
    conn.writeBody(bytes("ab"));
    assert.throws(() => conn.writeBody(bytes("cd")), { name: "LocalProtocolError", code: "BODY_TOO_LONG" });
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED);
  });

  it("ServerConnection.endResponse throws LocalProtocolError short of Content-Length and closes", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    start(conn, { bodyLength: 3 });
    conn.writeBody(bytes("ab"));
    assert.throws(() => conn.endResponse(0), { name: "LocalProtocolError", code: "BODY_TOO_SHORT" });
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED);
  });

  it("ServerConnection.writeBody accepts a body of exactly Content-Length in pieces", () => {
    const conn = open(GET());
    nextRequest(conn);
    start(conn, { bodyLength: 3 });
    conn.writeBody(bytes("a"));
    conn.writeBody(bytes("bc"));
    conn.writeBody(new Uint8Array(0));
    conn.endResponse(0);
    assert.equal(conn.closed, false);
  });
});

describe("ServerConnection unread request bodies", () => {
  const post = (length: number, body: string) =>
    `POST / HTTP/1.1\r\n${H}Content-Length: ${length}\r\n\r\n${body}`;

  it("ServerConnection drains a small unread body and goes on to the next request, in every split", () => {
    const result = feedAllSplits(post(5, "hello") + GET("/next"), { respondEarly: true });
    assertLog(result.log, [req("POST", "/"), RESPONSE, req("GET", "/next"), RESPONSE]);
  });

  it("ServerConnection drains an unread chunked body, in every split", () => {
    const input = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: 1\r\n\r\n${
      GET("/next")
    }`;
    const result = feedAllSplits(input, { respondEarly: true });
    assertLog(result.log, [req("POST", "/"), RESPONSE, req("GET", "/next"), RESPONSE]);
  });

  it("ServerConnection drains exactly maxDrainBytes and closes instead for one byte more", () => {
    const limits = { maxDrainBytes: 8 };
    const ok = feedAllSplits(post(8, "12345678") + GET("/next"), { respondEarly: true, limits });
    assertLog(ok.log, [req("POST", "/"), RESPONSE, req("GET", "/next"), RESPONSE]);
    const over = feedAllSplits(post(9, "123456789") + GET("/next"), { respondEarly: true, limits });
    assertLog(over.log, [req("POST", "/"), RESPONSE]);
    assert.equal(over.writeState, "closed");
  });

  it("ServerConnection closes when an unread chunked body grows past maxDrainBytes", () => {
    const limits = { maxDrainBytes: 8 };
    const chunked = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;
    const ok = feedAllSplits(`${chunked}8\r\n12345678\r\n0\r\n\r\n${GET("/next")}`, {
      respondEarly: true,
      limits,
    });
    assertLog(ok.log, [req("POST", "/"), RESPONSE, req("GET", "/next"), RESPONSE]);
    const over = feedAllSplits(`${chunked}8\r\n12345678\r\n1\r\n9\r\n0\r\n\r\n${GET("/next")}`, {
      respondEarly: true,
      limits,
    });
    assertLog(over.log, [req("POST", "/"), RESPONSE, CLOSE]);
  });

  it("ServerConnection drains the rest of a partly read body", () => {
    const conn = open(post(6, "abc"));
    nextRequest(conn);
    assert.deepEqual(types(pull(conn)), ["data", "need-data"]);
    start(conn);
    conn.endResponse(0);
    assert.equal(conn.closed, false);
    conn.receive(bytes(`def${GET("/2")}`), 0);
    assert.equal(nextRequest(conn).target, "/2");
  });

  it("ServerConnection closes after a response when the unread body will never come (EOF)", () => {
    const conn = open(post(6, "abc"));
    nextRequest(conn);
    conn.receiveEof();
    start(conn);
    conn.endResponse(0);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection reports a body cut short by EOF while draining", () => {
    const conn = open(post(6, "abc"));
    nextRequest(conn);
    start(conn);
    conn.endResponse(0);
    conn.receiveEof();
    const event = conn.nextEvent();
    assert.ok(event.type === "error");
    assert.equal(event.error.code, "INCOMPLETE_MESSAGE");
    assert.equal(conn.errorResponse(event.error, 0).byteLength, 0, "a response was sent already");
    assert.equal(conn.closed, true);
  });
});

describe("ServerConnection.requestClose", () => {
  it("ServerConnection.requestClose closes an idle connection at once", () => {
    const conn = open();
    assert.equal(conn.requestClose(), true);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.requestClose closes at once after a response when nothing is buffered", () => {
    const conn = open(GET());
    nextRequest(conn);
    start(conn);
    conn.endResponse(0);
    assert.equal(conn.requestClose(), true);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.requestClose waits for a head that has started to arrive", () => {
    const conn = open("GET / HT");
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.requestClose(), false);
    conn.receive(bytes(`TP/1.1\r\n${H}\r\n`), 0);
    assert.equal(nextRequest(conn).keepAlive, true);
    assert.deepEqual(field(start(conn), "connection"), ["close"]);
    conn.endResponse(0);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.requestClose lets the response in progress finish with Connection: close", () => {
    const conn = open(GET());
    nextRequest(conn);
    assert.equal(conn.requestClose(), false);
    assert.equal(conn.closed, false);
    const response = start(conn);
    assert.deepEqual(field(response, "connection"), ["close"]);
    conn.endResponse(0);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.requestClose during a response body closes when that response ends", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    start(conn, { bodyLength: null });
    assert.equal(conn.requestClose(), false);
    conn.writeBody(bytes("x"));
    conn.endResponse(0);
    assert.equal(conn.closed, true, "the head went out without close, but no further request is served");
    assert.equal(conn.nextEvent(), PAUSED);
  });

  it("ServerConnection.requestClose answers a buffered pipelined request before closing", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    start(conn);
    conn.endResponse(0);
    assert.equal(conn.requestClose(), false, "a whole request is waiting in the buffer");
    assert.equal(nextRequest(conn).target, "/2");
    assert.deepEqual(field(start(conn), "connection"), ["close"]);
    conn.endResponse(0);
    assert.equal(conn.closed, true);
  });
});

describe("ServerConnection.checkTimeout", () => {
  const limits = { headersTimeoutMs: 100, bodyTimeoutMs: 50, keepAliveTimeoutMs: 200 };

  it("ServerConnection.checkTimeout closes silently when no byte arrived before the head deadline", () => {
    const conn = new ServerConnection({ limits, now: 1000 });
    assert.equal(conn.checkTimeout(1099), "none");
    assert.equal(conn.closed, false);
    assert.equal(conn.checkTimeout(1100), "close");
    assert.equal(conn.closed, true);
    assert.equal(conn.checkTimeout(5000), "none", "only once");
  });

  it("ServerConnection.checkTimeout asks for 408 when a head has started but not finished", () => {
    const conn = new ServerConnection({ limits, now: 1000 });
    conn.receive(bytes("GET / HTTP/1.1\r\n"), 1050);
    assert.equal(conn.nextEvent(), NEED_DATA);
    conn.receive(bytes(H), 1090);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.checkTimeout(1099), "none", "receiving bytes does not extend the head deadline");
    assert.equal(conn.checkTimeout(1100), "respond-408");
    const response = parseResponse(str(conn.errorResponse(new HttpError("REQUEST_TIMEOUT"), 1100)));
    assert.equal(response.status, 408);
    assert.deepEqual(field(response, "connection"), ["close"]);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.checkTimeout asks for 408 for bytes received but not parsed yet", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes("G"), 10);
    assert.equal(conn.checkTimeout(100), "respond-408");
  });

  it("ServerConnection.checkTimeout closes a keep-alive connection idle past keepAliveTimeoutMs", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes(GET()), 10);
    nextRequest(conn);
    assert.equal(conn.checkTimeout(10_000), "none", "no deadline while the handler works");
    start(conn, {}, 500);
    assert.equal(conn.checkTimeout(10_000), "none", "no deadline while the response is written");
    conn.endResponse(1000);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.checkTimeout(1199), "none");
    assert.equal(conn.checkTimeout(1200), "close");
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.checkTimeout starts the head deadline when a keep-alive connection receives a byte", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes(GET()), 0);
    nextRequest(conn);
    start(conn);
    conn.endResponse(1000);
    conn.receive(bytes("GET"), 1150);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.checkTimeout(1200), "none", "not the idle deadline any more");
    assert.equal(conn.checkTimeout(1249), "none");
    assert.equal(conn.checkTimeout(1250), "respond-408");
  });

  it("ServerConnection.checkTimeout gives a pipelined request the head deadline from the end of the response", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes(`${GET("/1")}GET /2 HTTP/1.1\r\n`), 0);
    nextRequest(conn);
    start(conn);
    conn.endResponse(1000);
    assert.equal(conn.checkTimeout(1099), "none");
    assert.equal(conn.checkTimeout(1100), "respond-408");
  });

  it("ServerConnection.checkTimeout measures body silence from the last receive", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes(`POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nab`), 100);
    nextRequest(conn);
    assert.equal(conn.checkTimeout(149), "none");
    conn.receive(bytes("cd"), 140);
    assert.equal(conn.checkTimeout(189), "none", "receiving extends the body deadline");
    assert.equal(conn.checkTimeout(190), "respond-408");
  });

  it("ServerConnection.checkTimeout only closes on a body deadline once a response has started", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes(`POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nab`), 100);
    nextRequest(conn);
    start(conn, { bodyLength: null });
    assert.equal(conn.checkTimeout(150), "close");
    assert.equal(conn.closed, true, "the connection is finished once the deadline closed it");
    assert.equal(conn.checkTimeout(10_000), "none", "only once");
  });

  it("ServerConnection.checkTimeout runs no deadline once the whole body is read and the handler works", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    conn.receive(bytes(`POST / HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nab`), 100);
    nextRequest(conn);
    assert.deepEqual(types(pull(conn)), ["data", "end", "paused"]);
    assert.equal(conn.checkTimeout(10_000), "none");
    start(conn);
    conn.endResponse(20_000);
    assert.equal(conn.checkTimeout(20_199), "none");
    assert.equal(conn.checkTimeout(20_200), "close");
  });

  it("ServerConnection.checkTimeout uses the DEFAULT_PROTOCOL_LIMITS timeouts", () => {
    const conn = new ServerConnection({ now: 0 });
    assert.equal(conn.checkTimeout(DEFAULT_PROTOCOL_LIMITS.headersTimeoutMs - 1), "none");
    assert.equal(conn.checkTimeout(DEFAULT_PROTOCOL_LIMITS.headersTimeoutMs), "close");
  });
});

describe("ServerConnection.errorResponse", () => {
  it("ServerConnection.errorResponse answers a protocol error and closes", () => {
    const conn = open("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n");
    const event = conn.nextEvent();
    assert.ok(event.type === "error");
    assert.equal(event.error.code, "OBS_FOLD");
    assert.equal(event.error.offset, 25);
    const response = parseResponse(str(conn.errorResponse(event.error, 0)));
    assert.equal(response.status, 400);
    assert.deepEqual(field(response, "connection"), ["close"]);
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED);
  });

  it("ServerConnection.errorResponse answers a failure before any response began", () => {
    const conn = open(GET());
    nextRequest(conn);
    const response = parseResponse(str(conn.errorResponse(new HttpError("BAD_HOST"), 0)));
    assert.equal(response.status, 400);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection.errorResponse returns nothing once a response has started, and closes", () => {
    const conn = open(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX`);
    nextRequest(conn);
    start(conn, { bodyLength: null });
    const events = pull(conn);
    assert.deepEqual(types(events), ["data", "error"]);
    const error = (events[1] as { error: HttpError }).error;
    assert.equal(conn.errorResponse(error, 0).byteLength, 0);
    assert.equal(conn.closed, true);
  });
});

describe("ServerConnection.internalErrorResponse", () => {
  it("ServerConnection.internalErrorResponse answers 500 with Connection: close and closes", () => {
    const conn = open(GET("/1") + GET("/2"));
    nextRequest(conn);
    const text = str(conn.internalErrorResponse(0));
    const response = parseResponse(text);
    assert.equal(response.status, 500);
    assert.deepEqual(field(response, "connection"), ["close"]);
    assert.ok(
      text.endsWith("\r\n\r\nInternal Server Error: the response could not be made (RESPONSE_FAILED)\n"),
    );
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED, "the pipelined /2 is never read");
  });

  it("ServerConnection.internalErrorResponse sends no body to HEAD, and nothing once a response began", () => {
    const head = open(`HEAD / HTTP/1.1\r\n${H}\r\n`);
    nextRequest(head);
    assert.ok(str(head.internalErrorResponse(0)).endsWith("\r\nconnection: close\r\n\r\n"));
    const started = open(GET());
    nextRequest(started);
    start(started, { bodyLength: null });
    assert.equal(started.internalErrorResponse(0).byteLength, 0);
    assert.equal(started.closed, true);
  });
});

describe("ServerConnection and CONNECT (RFC 9110 §9.3.6)", () => {
  it("ServerConnection never reads what follows a CONNECT head, and closes after the answer", () => {
    // A Content-Length on CONNECT frames nothing: "abc" and the GET after it are tunnel data.
    const input =
      `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 3\r\n\r\nabcGET /x HTTP/1.1\r\n${H}\r\n`;
    const result = feedAllSplits(input);
    assertLog(result.log, [
      req("CONNECT", "a:443", { bodyFraming: "none", keepAlive: false, targetForm: "authority" }),
      RESPONSE,
    ]);
    assert.equal(result.writeState, "closed", "the answer ends the connection");
    const conn = open(input);
    assert.equal(nextRequest(conn).method, "CONNECT");
    assert.equal(conn.nextEvent(), PAUSED);
    const response = start(conn, { status: 501, bodyLength: 0 });
    assert.deepEqual(field(response, "connection"), ["close"]);
    conn.endResponse(0);
    assert.equal(conn.closed, true);
    assert.equal(conn.nextEvent(), PAUSED, "GET /x is never parsed");
  });
});

describe("ServerConnection state", () => {
  it("ServerConnection reports idle, request, readState and writeState through an exchange", () => {
    const conn = open();
    const noRequest = { code: "OUT_OF_ORDER" };
    const answer = () => conn.startResponse({ status: 204, headers: [], bodyLength: 0 }, 0);
    assert.equal(conn.idle, true);
    assert.throws(answer, noRequest, "no request waits");
    conn.receive(bytes(`POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\n`), 0);
    assert.equal(conn.idle, false);
    const head = nextRequest(conn);
    assert.equal(head.method, "POST");
    assert.equal(conn.readState, "body");
    assert.equal(conn.writeState, "idle");
    conn.receive(bytes("x"), 0);
    pull(conn);
    assert.equal(conn.readState, "done");
    start(conn, { bodyLength: 0 });
    assert.equal(conn.writeState, "body");
    conn.endResponse(0);
    assert.equal(conn.readState, "head");
    assert.equal(conn.writeState, "idle");
    assert.throws(answer, noRequest, "the request was answered");
    assert.equal(conn.idle, true);
    assert.equal(conn.limits.maxHeaderCount, DEFAULT_PROTOCOL_LIMITS.maxHeaderCount);
  });

  it("ServerConnection data events are views into the received bytes", () => {
    const input = bytes(`POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`);
    const conn = new ServerConnection();
    conn.receive(input, 0);
    nextRequest(conn);
    const event = conn.nextEvent();
    assert.ok(event.type === "data");
    assert.equal(event.data.buffer, input.buffer);
  });

  it("ServerConnection rejects invalid limits", () => {
    assert.throws(() => new ServerConnection({ limits: { maxHeaderBytes: 0 } }), RangeError);
  });
});

describe("ServerConnection reuse of the last head for a constant field list", () => {
  const FIELDS = Object.freeze([Object.freeze(["content-type", "text/plain"] as const)]);

  /** A connection with one request waiting for its response. */
  function waiting(request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"): ServerConnection {
    const conn = new ServerConnection({ now: 0 });
    conn.receive(bytes(request), 0);
    assert.equal(conn.nextEvent().type, "request");
    return conn;
  }

  /** Sends one whole response; returns its head bytes. */
  function answer(conn: ServerConnection, response: ResponseStart, now: number): Uint8Array {
    const head = conn.startResponse(response, now);
    conn.writeBody(new Uint8Array(response.bodyLength ?? 0));
    conn.endResponse(now);
    return head;
  }

  it("ServerConnection sends the same head bytes for the same frozen fields, status and length within a second", () => {
    const conn = waiting("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const first = answer(conn, { status: 200, headers: FIELDS, bodyLength: 2 }, 1000);
    assert.equal(conn.nextEvent().type, "request");
    const second = answer(conn, { status: 200, headers: FIELDS, bodyLength: 2 }, 1999);
    assert.equal(second, first);
    assert.match(
      str(first),
      /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/plain\r\ndate: .*\r\ncontent-length: 2\r\n/,
    );
  });

  it("ServerConnection makes a new head when the length, status, second or connection state differ", () => {
    const requests = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(5);
    const conn = waiting(requests);
    const heads: string[] = [];
    const next = (response: ResponseStart, now: number) => {
      heads.push(str(answer(conn, response, now)));
      conn.nextEvent();
    };
    next({ status: 200, headers: FIELDS, bodyLength: 2 }, 1000);
    next({ status: 200, headers: FIELDS, bodyLength: 3 }, 1000);
    next({ status: 201, headers: FIELDS, bodyLength: 3 }, 1000);
    next({ status: 201, headers: FIELDS, bodyLength: 3 }, 2000);
    conn.requestClose();
    next({ status: 201, headers: FIELDS, bodyLength: 3 }, 2000);
    assert.match(heads[0], /content-length: 2\r\n/);
    assert.match(heads[1], /content-length: 3\r\n/);
    assert.match(heads[2], /^HTTP\/1\.1 201 Created\r\n/);
    assert.notEqual(heads[3].match(/date: (.*)\r\n/)![1], heads[2].match(/date: (.*)\r\n/)![1]);
    assert.match(heads[4], /connection: close\r\n/);
    assert.equal(conn.closed, true);
  });

  it("ServerConnection makes a new head for HEAD after GET with the same fields", () => {
    const conn = waiting("GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    const get = str(answer(conn, { status: 200, headers: FIELDS, bodyLength: null }, 0));
    assert.equal(conn.nextEvent().type, "request");
    const head = str(conn.startResponse({ status: 200, headers: FIELDS, bodyLength: null }, 0));
    assert.match(get, /transfer-encoding: chunked\r\n/);
    assert.doesNotMatch(head, /transfer-encoding/);
  });
});

describe("ServerConnection connections share parsers and the last head safely", () => {
  const FIELDS = Object.freeze([Object.freeze(["content-type", "text/plain"] as const)]);
  // Connections share parsers and the last head when they share a context, as all the connections
  // of one server do.
  const shared = { now: 0, context: new ConnectionContext() };

  /** Answers the waiting request with FIELDS; returns the head text. */
  function answerWithFields(conn: ServerConnection, bodyLength: number | null = 0): string {
    assert.equal(conn.nextEvent().type, "request");
    const head = conn.startResponse({ status: 200, headers: FIELDS, bodyLength }, 1000);
    conn.endResponse(1000);
    return str(head);
  }

  it("ServerConnection parses heads that arrive interleaved on three connections, byte by byte", () => {
    const inputs = [
      `GET /first HTTP/1.1\r\nHost: one\r\nX-A: 1\r\n\r\n`,
      `POST /second HTTP/1.1\r\nHost: two\r\nContent-Length: 0\r\nX-B: 2\r\nX-B: 3\r\n\r\n`,
      `\r\nOPTIONS * HTTP/1.0\r\nHost: three\r\n\r\n`,
    ];
    // Every offset between the connections: the second and third start later by `lag` bytes each.
    for (let lag = 0; lag < 8; lag++) {
      const conns = inputs.map(() => new ServerConnection(shared));
      const heads: (ReturnType<typeof nextRequest> | null)[] = inputs.map(() => null);
      const longest = Math.max(...inputs.map((input, i) => input.length + i * lag));
      for (let step = 0; step < longest; step++) {
        inputs.forEach((input, i) => {
          const at = step - i * lag;
          if (at < 0 || at >= input.length) return;
          conns[i].receive(bytes(input[at]), 0);
          const event = conns[i].nextEvent();
          if (event.type === "request") heads[i] = event.head;
          else assert.equal(event, NEED_DATA, `connection ${i} at byte ${at}`);
        });
      }
      assert.deepEqual(
        heads.map((head) => head && [head.method, head.target, head.authority, head.version, head.fields]),
        [
          ["GET", "/first", "one", "HTTP/1.1", ["Host", "one", "X-A", "1"]],
          ["POST", "/second", "two", "HTTP/1.1", [
            "Host",
            "two",
            "Content-Length",
            "0",
            "X-B",
            "2",
            "X-B",
            "3",
          ]],
          ["OPTIONS", "*", "three", "HTTP/1.0", ["Host", "three"]],
        ],
        `lag ${lag}`,
      );
    }
  });

  it("ServerConnection keeps a head's fields intact while other connections parse later heads", () => {
    const first = new ServerConnection(shared);
    first.receive(bytes(`GET /a HTTP/1.1\r\nHost: a\r\nX-Kept: yes\r\n\r\n`), 0);
    const kept = nextRequest(first);
    for (let i = 0; i < 3; i++) {
      const other = new ServerConnection(shared);
      other.receive(bytes(`GET /b HTTP/1.1\r\nHost: b\r\nX-Other: ${i}\r\n\r\n`), 0);
      assert.deepEqual(nextRequest(other).fields, ["Host", "b", "X-Other", String(i)]);
    }
    assert.deepEqual(kept.fields, ["Host", "a", "X-Kept", "yes"]);
    assert.equal(kept.target, "/a");
  });

  it("ServerConnection parses normally after another connection failed in the middle of a head", () => {
    const failing = new ServerConnection(shared);
    failing.receive(bytes(`GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n`), 0);
    assert.equal(failing.nextEvent().type, "error");
    const partial = new ServerConnection(shared);
    partial.receive(bytes(`GET /x HTTP/1.1\r\nHo`), 0);
    assert.equal(partial.nextEvent(), NEED_DATA);
    const next = new ServerConnection(shared);
    next.receive(bytes(`GET /y HTTP/1.1\r\nHost: y\r\n\r\n`), 0);
    const nextHead = nextRequest(next);
    assert.deepEqual([nextHead.target, nextHead.fields], ["/y", ["Host", "y"]]);
    partial.receive(bytes(`st: x\r\n\r\n`), 0);
    const partialHead = nextRequest(partial);
    assert.deepEqual([partialHead.target, partialHead.fields], ["/x", ["Host", "x"]]);
  });

  it("ServerConnection reuses another connection's head only when limits and connection state match", () => {
    const open11 = (context: ConnectionContext = shared.context, request = GET()) => {
      const conn = new ServerConnection({ now: 0, context });
      conn.receive(bytes(request), 0);
      return conn;
    };
    const a = answerWithFields(open11());
    assert.equal(answerWithFields(open11()), a, "same inputs, same head");
    assert.match(a, /keep-alive: timeout=65\r\n/);
    const short = new ConnectionContext({ keepAliveTimeoutMs: 5_000 });
    assert.match(answerWithFields(open11(short)), /connection: keep-alive\r\nkeep-alive: timeout=5\r\n/);
    assert.match(answerWithFields(open11(short)), /keep-alive: timeout=5\r\n/);
    assert.match(answerWithFields(open11()), /keep-alive: timeout=65\r\n/, "default limits again");
    assert.match(
      answerWithFields(open11(shared.context, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)),
      /connection: close\r\n/,
    );
    assert.match(
      answerWithFields(open11(shared.context, `GET / HTTP/1.0\r\n\r\n`)),
      /connection: close\r\n/,
    );
    assert.match(answerWithFields(open11()), /connection: keep-alive\r\n/, "keep-alive again");
    // A body of unknown length is chunked for HTTP/1.1 and delimited by close for HTTP/1.0.
    assert.match(
      answerWithFields(open11(), null),
      /transfer-encoding: chunked\r\nconnection: keep-alive\r\n/,
    );
    const http10 = answerWithFields(
      open11(shared.context, `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`),
      null,
    );
    assert.doesNotMatch(http10, /transfer-encoding/);
    assert.match(http10, /connection: close\r\n/);
  });
});

describe("ServerConnection between requests: what a server needs to let an idle connection go", () => {
  const limits = { headersTimeoutMs: 100, bodyTimeoutMs: 50, keepAliveTimeoutMs: 200 };

  it("ServerConnection.awaitingRequest holds only after a response, until a byte arrives", () => {
    const conn = new ServerConnection({ limits, now: 0 });
    assert.equal(
      conn.awaitingRequest,
      false,
      "a new connection waits for its first head, not for a next request",
    );
    conn.receive(bytes(GET()), 10);
    nextRequest(conn);
    assert.equal(conn.awaitingRequest, false, "a request in progress");
    start(conn, { bodyLength: 0 }, 20);
    assert.equal(conn.awaitingRequest, false, "a response in progress");
    conn.endResponse(30);
    assert.equal(conn.awaitingRequest, true);
    conn.receive(bytes("\r\n"), 40);
    assert.equal(conn.nextEvent(), NEED_DATA);
    assert.equal(conn.awaitingRequest, false, "an empty line starts no head, but the head deadline runs");
  });

  it("ServerConnection.deadline is the deadline checkTimeout acts on, in each phase", () => {
    const conn = new ServerConnection({ limits, now: 1000 });
    assert.equal(conn.deadline, 1100, "the first head");
    conn.receive(bytes(`POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\n`), 1010);
    nextRequest(conn);
    assert.equal(conn.deadline, 1060, "the body");
    conn.receive(bytes("x"), 1020);
    pull(conn);
    assert.equal(conn.deadline, Infinity, "none while the handler works");
    start(conn, { bodyLength: 0 }, 1030);
    conn.endResponse(1040);
    assert.equal(conn.deadline, 1240, "the keep-alive");
    assert.equal(conn.checkTimeout(1239), "none");
    assert.equal(conn.checkTimeout(1240), "close");
    assert.equal(conn.deadline, Infinity, "none once closed");
  });

  it("ServerConnection with consumed counts error offsets from the connection's first byte", () => {
    const first = GET();
    const bad = "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n";
    const whole = new ServerConnection({ now: 0 });
    whole.receive(bytes(first), 0);
    nextRequest(whole);
    start(whole, { bodyLength: 0 });
    whole.endResponse(0);
    whole.receive(bytes(bad), 0);
    const expected = pull(whole).at(-1);
    assert.ok(expected?.type === "error");
    assert.ok(expected.error.offset > first.length, "the offset of the second head counts the first");

    const resumed = new ServerConnection({ now: 0, consumed: first.length });
    resumed.receive(bytes(bad), 0);
    const actual = pull(resumed).at(-1);
    assert.ok(actual?.type === "error");
    assert.deepEqual([actual.error.code, actual.error.offset], [expected.error.code, expected.error.offset]);
  });
});
