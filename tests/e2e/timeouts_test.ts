/**
 * Timeouts end to end, in real time over real sockets, with small limits so that they pass
 * quickly: an incomplete head gets 408, an idle keep-alive connection is closed quietly. Every
 * timeout is tested exactly, on a fake clock, in tests/server/timeouts_test.ts.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ProtocolErrorInfo } from "../../src/server/options.ts";
import { Cleanup, ERROR_BODY_PATTERN, parseAll, type TestServer } from "./_helpers.ts";

const HEADERS_MS = 200;
const KEEP_ALIVE_MS = 250;
/** Timers are checked on a tick, so a timeout fires a little late; never this late. */
const SLACK_MS = 1500;

describe("serve enforces timeouts", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const reported: ProtocolErrorInfo[] = [];

  before(async () => {
    srv = await cleanup.server(() => new Response("ok"), {
      limits: { headersTimeoutMs: HEADERS_MS, keepAliveTimeoutMs: KEEP_ALIVE_MS },
      onProtocolError: (info) => reported.push(info),
    });
  });

  after(() => cleanup.run());

  test("serve answers 408 and closes when a request head is not complete in time", async () => {
    reported.length = 0;
    const client = await cleanup.client(srv.port);
    const started = Date.now();
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n");
    const received = await client.untilEnd();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= HEADERS_MS - 50 && elapsed < HEADERS_MS + SLACK_MS, `closed after ${elapsed} ms`);
    const { responses, end } = parseAll(received, { eof: true });
    assert.equal(responses.length, 1);
    assert.equal(end, received.byteLength);
    assert.equal(responses[0].statusLine, "HTTP/1.1 408 Request Timeout");
    assert.equal(responses[0].header("connection"), "close");
    assert.match(responses[0].text(), ERROR_BODY_PATTERN);
    assert.deepEqual(reported.map((r) => [r.code, r.status]), [["REQUEST_TIMEOUT", 408]]);
  });

  test("serve closes an idle keep-alive connection after keepAliveTimeoutMs", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const [response] = await client.responses(1);
    const answered = Date.now();
    assert.equal(response.text(), "ok");
    await client.untilEnd();
    const idle = Date.now() - answered;
    assert.ok(idle >= KEEP_ALIVE_MS - 50 && idle < KEEP_ALIVE_MS + SLACK_MS, `closed after ${idle} ms idle`);
    assert.equal(
      client.receivedBytes,
      response.head.length + response.rawBody.length,
      "closed without a response",
    );
  });

  test("serve keeps a keep-alive connection that is used again before the timeout", async () => {
    const client = await cleanup.client(srv.port);
    for (let i = 1; i <= 3; i++) {
      await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      await client.responses(i);
    }
    assert.equal(client.ended, false);
  });
});
