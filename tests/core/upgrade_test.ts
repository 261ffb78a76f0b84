/**
 * The upgrade hand-off (RFC 9110 §7.8, §15.2.2): which requests ask for an upgrade, the 101 head,
 * the bytes after the request's head handed over at every split, and each misuse refused.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalProtocolError, ServerConnection } from "../../src/core/mod.ts";
import { bytes, str } from "./_feed.ts";

const UPGRADE_REQUEST =
  "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n";

/** A connection that has read one request head from `text`, and that request's head. */
function requestFrom(text: string) {
  const conn = new ServerConnection({ now: 0 });
  conn.receive(bytes(text), 0);
  const event = conn.nextEvent();
  assert.equal(event.type, "request");
  return { conn, head: event.type === "request" ? event.head : null! };
}

describe("RequestHead.upgrade", () => {
  const cases: [string, string, string | null][] = [
    ["an HTTP/1.1 GET with Upgrade and Connection: upgrade", UPGRADE_REQUEST, "websocket"],
    [
      "two Upgrade fields, joined",
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
      "h2c, websocket",
    ],
    ["Upgrade without Connection: upgrade", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", null],
    ["Connection: upgrade without Upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", null],
    [
      "an HTTP/1.0 request (its Upgrade is ignored)",
      "GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
      null,
    ],
    [
      "CONNECT",
      "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
      null,
    ],
  ];
  for (const [name, text, expected] of cases) {
    it(`is ${JSON.stringify(expected)} for ${name}`, () =>
      assert.equal(requestFrom(text).head.upgrade, expected));
  }
});

describe("ServerConnection.switchProtocols", () => {
  it("writes the 101 head, adds Connection: upgrade, and stops HTTP", () => {
    const { conn } = requestFrom(UPGRADE_REQUEST);
    const switched = conn.switchProtocols([["Upgrade", "websocket"], ["Sec-WebSocket-Accept", "x"]]);
    assert.equal(
      str(switched.head),
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\nconnection: upgrade\r\n\r\n",
    );
    assert.deepEqual([conn.writeState, conn.readState, conn.closed], ["switched", "closed", false]);
    conn.receive(bytes("GET /after HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
    assert.equal(conn.nextEvent().type, "paused", "nothing after the switch is read as HTTP");
    assert.throws(
      () => conn.startResponse({ status: 200, headers: [], bodyLength: 0 }, 0),
      LocalProtocolError,
    );
  });

  it("hands over the bytes after the head, pipelined requests included, at every split", () => {
    const after = "\x81\x85\x01\x02\x03\x04iijjk" + "GET /pipelined HTTP/1.1\r\nHost: a\r\n\r\n";
    const input = bytes(UPGRADE_REQUEST + after);
    for (let at = 1; at < input.length; at++) {
      const conn = new ServerConnection({ now: 0 });
      conn.receive(input.subarray(0, at), 0);
      let event = conn.nextEvent();
      let later = input.subarray(at);
      if (event.type === "need-data") {
        conn.receive(later, 0);
        later = later.subarray(later.length);
        event = conn.nextEvent();
      }
      assert.equal(event.type, "request", `split at ${at}`);
      const { rest } = conn.switchProtocols([["Upgrade", "websocket"]]);
      assert.equal(str(rest) + str(later), after, `split at ${at}`);
    }
  });

  it("may follow a request body read to its end, once its end event came", () => {
    const { conn } = requestFrom(
      "POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\nContent-Length: 2\r\n\r\nhiNEXT",
    );
    assert.throws(() => conn.switchProtocols([["Upgrade", "h2c"]]), { code: "INVALID_STATUS" });
    assert.equal(conn.nextEvent().type, "data");
    assert.equal(conn.nextEvent().type, "end");
    assert.equal(str(conn.switchProtocols([["Upgrade", "h2c"]]).rest), "NEXT");
  });

  const refused: [string, string, [string, string][], string][] = [
    ["a request that did not ask for an upgrade", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", [[
      "Upgrade",
      "websocket",
    ]], "INVALID_STATUS"],
    ["HTTP/1.0", "GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", [[
      "Upgrade",
      "websocket",
    ]], "INVALID_STATUS"],
    ["a 101 without Upgrade", UPGRADE_REQUEST, [], "INVALID_FIELD"],
    ["a 101 to a protocol not offered", UPGRADE_REQUEST, [["Upgrade", "h2c"]], "INVALID_FIELD"],
    ["a 101 with its own Connection field", UPGRADE_REQUEST, [["Upgrade", "websocket"], [
      "Connection",
      "close",
    ]], "INVALID_FIELD"],
    [
      "a 101 with a field that cannot be sent",
      UPGRADE_REQUEST,
      [["Upgrade", "websocket"], ["x", "a\u0001b"]],
      "INVALID_FIELD",
    ],
  ];
  for (const [name, text, headers, code] of refused) {
    it(`refuses ${name} with ${code}, and the request can still be answered`, () => {
      const { conn } = requestFrom(text);
      assert.throws(
        () => conn.switchProtocols(headers),
        (error: unknown) => error instanceof LocalProtocolError && error.code === code,
      );
      assert.equal(conn.writeState, "idle");
      assert.match(
        str(conn.startResponse({ status: 400, headers: [], bodyLength: 0 }, 0)),
        /^HTTP\/1\.1 400 /,
      );
    });
  }

  it("refuses a second switch and a switch with no request, and startResponse still refuses 101", () => {
    const { conn } = requestFrom(UPGRADE_REQUEST);
    assert.throws(() => conn.startResponse({ status: 101, headers: [], bodyLength: 0 }, 0), {
      code: "INVALID_STATUS",
    });
    conn.switchProtocols([["Upgrade", "websocket"]]);
    assert.throws(() => conn.switchProtocols([["Upgrade", "websocket"]]), { code: "OUT_OF_ORDER" });
    assert.throws(() => new ServerConnection().switchProtocols([["Upgrade", "websocket"]]), {
      code: "OUT_OF_ORDER",
    });
  });
});
