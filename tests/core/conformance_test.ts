/**
 * RFC 9112 and RFC 9110 requirements that no other core test covered (see docs/CONFORMANCE.md).
 * Each test is named after the requirement it checks. A test marked `skip: "violation: …"`
 * asserts the RFC's behaviour where h1serve does not meet it yet; docs/CONFORMANCE.md lists it as
 * a VIOLATION.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalProtocolError, type ResponseStart, ServerConnection } from "../../src/core/mod.ts";
import { assertLog, bytes, data, end, feedAllSplits, req, RESPONSE, str } from "./_feed.ts";

const H = "Host: a\r\n";

/** A connection that has taken the request in `text` and waits for its response. */
function answering(text: string): ServerConnection {
  const conn = new ServerConnection({ now: 0 });
  conn.receive(bytes(text), 0);
  const event = conn.nextEvent();
  assert.equal(event.type, "request", `the request is accepted: ${JSON.stringify(event)}`);
  return conn;
}

/** The header fields of a response head, names lower-cased. */
function fieldsOf(head: string): [string, string][] {
  const end = head.indexOf("\r\n\r\n");
  assert.notEqual(end, -1, "the head ends with an empty line");
  return head.slice(0, end).split("\r\n").slice(1).map((line): [string, string] => {
    const colon = line.indexOf(":");
    assert.ok(colon > 0, `field line ${JSON.stringify(line)}`);
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
}

/** The connection options of a response head: the tokens of its Connection fields, lower-cased. */
function connectionOptions(fields: readonly [string, string][]): string[] {
  return fields.filter(([name]) => name === "connection")
    .flatMap(([, value]) => value.toLowerCase().split(","))
    .map((option) => option.trim())
    .filter((option) => option !== "");
}

/** Starts the response to the request in `text` and returns its head as text. */
function responseHead(text: string, response: Partial<ResponseStart> = {}, now = 0): string {
  const conn = answering(text);
  return str(conn.startResponse({ status: 200, headers: [], bodyLength: 0, ...response }, now));
}

describe("RFC 9112 conformance (core)", () => {
  it("RFC 9112 §2.2 and §5.2: the server never sends a field line that starts with whitespace", () => {
    for (
      const field of [[" X-Lead", "v"], ["\tX-Lead", "v"], ["X-Fold", "a\r\n b"], ["X-Fold", "a\r\n\tb"]]
    ) {
      const conn = answering(`GET / HTTP/1.1\r\n${H}\r\n`);
      assert.throws(
        () => conn.startResponse({ status: 200, headers: [[field[0], field[1]]], bodyLength: 0 }, 0),
        LocalProtocolError,
        JSON.stringify(field),
      );
      assert.equal(conn.writeState, "idle", "nothing was sent");
    }
  });
});

describe("RFC 9110 conformance (core)", () => {
  it("RFC 9110 §5.6.1.2: empty elements of a Connection list are ignored", () => {
    for (const value of [", close", "close,", ",, close ,,", "keep-alive, , close"]) {
      const result = feedAllSplits(
        `GET /1 HTTP/1.1\r\n${H}Connection: ${value}\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`,
      );
      assertLog(result.log, [req("GET", "/1", { keepAlive: false }), RESPONSE]);
      assert.equal(result.writeState, "closed", value);
    }
  });

  it(
    "RFC 9110 §5.6.1.2: empty elements of a Transfer-Encoding list are ignored",
    () => {
      for (const value of [", chunked", "chunked,", " ,chunked , "]) {
        const result = feedAllSplits(
          `POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${value}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
        );
        assertLog(result.log, [req("POST", "/", { bodyFraming: "chunked" }), data("abc"), end(), RESPONSE]);
      }
    },
  );

  it(
    "RFC 9110 §5.6.1.2: empty elements of an Expect list are ignored",
    () => {
      for (const value of ["100-continue,", ", 100-continue"]) {
        const result = feedAllSplits(
          `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nExpect: ${value}\r\n\r\nhi`,
        );
        assertLog(result.log, [req("POST", "/", { expectContinue: true }), data("hi"), end(), RESPONSE]);
      }
    },
  );

  it("RFC 9110 §6.6.1: every 2xx, 3xx and 4xx response carries Date", () => {
    const date = "Sun, 06 Nov 1994 08:49:37 GMT";
    for (const status of [200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 404, 405, 426, 451]) {
      const fields = fieldsOf(responseHead(`GET / HTTP/1.1\r\n${H}\r\n`, { status }, 784111777000));
      assert.deepEqual(fields.filter(([name]) => name === "date"), [["date", date]], `status ${status}`);
    }
  });

  it(
    "RFC 9110 §7.6.1: a Keep-Alive field in a response is named in its Connection field",
    () => {
      for (
        const request of [`GET / HTTP/1.1\r\n${H}\r\n`, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]
      ) {
        const fields = fieldsOf(responseHead(request));
        if (fields.some(([name]) => name === "keep-alive")) {
          assert.ok(connectionOptions(fields).includes("keep-alive"), JSON.stringify(fields));
        }
      }
    },
  );

  it(
    "RFC 9110 §7.8: an Upgrade field in a response goes with an Upgrade connection option",
    () => {
      for (const status of [426, 200]) {
        const fields = fieldsOf(
          responseHead(`GET / HTTP/1.1\r\n${H}\r\n`, {
            status,
            headers: [["Upgrade", "h2c"], ["Connection", "Upgrade"]],
          }),
        );
        assert.deepEqual(fields.filter(([name]) => name === "upgrade"), [["upgrade", "h2c"]]);
        assert.ok(
          connectionOptions(fields).includes("upgrade"),
          `status ${status}: ${JSON.stringify(fields)}`,
        );
      }
    },
  );

  it(
    "RFC 9110 §9.3.2: an error response to a HEAD request carries no content",
    () => {
      const cases: [string, number][] = [
        [`HEAD / HTTP/1.1\r\n${H}Expect: x-unknown\r\n\r\n`, 417],
        ["HEAD / HTTP/1.1\r\n\r\n", 400],
      ];
      for (const [request, status] of cases) {
        const conn = new ServerConnection({ now: 0 });
        conn.receive(bytes(request), 0);
        const event = conn.nextEvent();
        assert.ok(event.type === "error", JSON.stringify(event));
        assert.equal(event.error.status, status);
        const text = str(conn.errorResponse(event.error, 0));
        assert.ok(text.startsWith(`HTTP/1.1 ${status} `), text);
        const headEnd = text.indexOf("\r\n\r\n");
        assert.notEqual(headEnd, -1);
        assert.equal(text.slice(headEnd + 4), "", "nothing follows the head");
      }
    },
  );

  it("RFC 9110 §9.3.6: a CONNECT target with an empty or invalid port gets 400", () => {
    for (
      const target of ["example.com:", "example.com:65536", "example.com:8o", "example.com:-1", "[::1]:"]
    ) {
      const result = feedAllSplits(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      assertLog(result.log, [{ type: "error", status: 400 }]);
    }
    // The same target with a valid port is accepted, so the 400s above are about the port.
    assertLog(feedAllSplits(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`).log, [
      req("CONNECT", "example.com:443", { targetForm: "authority" }),
      RESPONSE,
    ]);
  });
});
