/**
 * Every timeout the server enforces, on a fake clock and a memory transport: each is checked one
 * millisecond before it and at it, with no waiting. With the default limits the server checks its
 * deadlines every second, and every deadline below falls on such a tick.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProtocolErrorInfo } from "../../src/server/options.ts";
import { FastResponse } from "../../src/fetch/response.ts";
import { get, memoryServer } from "./_memory.ts";

const ok = () => new FastResponse("ok");
const REQUEST_TIMEOUT = /^HTTP\/1\.1 408 Request Timeout\r\n[^]*\r\nconnection: close\r\n/;

describe("the server's timeouts on a fake clock", () => {
  test("serve answers 408 and closes a head not complete within headersTimeoutMs", async () => {
    const reported: ProtocolErrorInfo[] = [];
    const { transport, clock } = await memoryServer(ok, { onProtocolError: (info) => reported.push(info) });
    const socket = transport.connect();
    socket.receive("GET / HTTP/1.1\r\nHost: a\r\n");
    clock.advance(29_999);
    assert.deepEqual([socket.written, socket.ended], ["", false]);
    clock.advance(1);
    assert.match(socket.written, REQUEST_TIMEOUT);
    assert.equal(socket.ended, true);
    assert.deepEqual(reported.map((r) => [r.code, r.status]), [["REQUEST_TIMEOUT", 408]]);
  });

  test("serve answers 408 to a head dripped a byte a second: its bytes do not move the deadline", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.receive("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    for (let second = 1; second < 30; second++) {
      clock.advance(1000);
      socket.receive("a");
    }
    assert.equal(socket.written, "", "29 s in");
    clock.advance(1000);
    assert.match(socket.written, REQUEST_TIMEOUT);
  });

  test("serve closes a connection that sends nothing within headersTimeoutMs, without a response", async () => {
    const reported: ProtocolErrorInfo[] = [];
    const { transport, clock } = await memoryServer(ok, { onProtocolError: (info) => reported.push(info) });
    const socket = transport.connect();
    clock.advance(29_999);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.deepEqual([socket.ended, socket.written, reported.length], [true, "", 0]);
  });

  test("serve closes an idle keep-alive connection after keepAliveTimeoutMs, without a response", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.receive(get());
    assert.equal(socket.count(), 1);
    const answered = socket.written;
    clock.advance(64_999);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.equal(socket.ended, true);
    assert.equal(socket.written, answered, "nothing more was sent");
  });

  test("serve counts the keep-alive from the end of the last response", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.receive(get());
    clock.advance(40_000);
    socket.receive(get()); // used again: the idle time starts over
    clock.advance(64_999);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.deepEqual([socket.ended, socket.count()], [true, 2]);
  });

  test("serve answers 408 to a body silent for bodyTimeoutMs, and the handler's read fails", async () => {
    const failed = Promise.withResolvers<unknown>();
    const { transport, clock } = await memoryServer(async (request) => {
      try {
        await request.arrayBuffer();
      } catch (error) {
        failed.resolve(error);
      }
      return ok();
    });
    const socket = transport.connect();
    socket.receive("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    clock.advance(30_000);
    socket.receive("de"); // a piece of the body starts the silence over
    clock.advance(59_999);
    assert.equal(socket.written, "");
    clock.advance(1);
    assert.match(socket.written, REQUEST_TIMEOUT);
    assert.ok(await failed.promise instanceof Error, "the handler's read of the body failed");
  });

  test("serve cuts off a peer that reads nothing for sendTimeoutMs", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.accepting = false; // the peer's window is full from the first response on
    socket.receive(get());
    assert.equal(socket.count(), 1, "written, but the socket asks the server to wait");
    clock.advance(59_999);
    assert.equal(socket.closed, false);
    clock.advance(1);
    assert.equal(socket.closed, true);
  });

  test("serve restarts the send timeout when the peer reads again", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.accepting = false;
    socket.receive(get());
    clock.advance(50_000);
    socket.drain();
    socket.accepting = false;
    socket.receive(get());
    clock.advance(59_999);
    assert.equal(socket.closed, false);
    clock.advance(1);
    assert.deepEqual([socket.closed, socket.count()], [true, 2]);
  });

  test("serve lingers 2 s after its FIN, dropping what the peer still sends, then closes", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.receive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.deepEqual([socket.count(), socket.ended, socket.closed], [1, true, false]);
    clock.advance(1000);
    socket.receive(get());
    assert.equal(socket.count(), 1, "read and dropped");
    clock.advance(999);
    assert.equal(socket.closed, false);
    clock.advance(1);
    assert.equal(socket.closed, true);
  });

  test("serve lingers only once its last bytes are handed on: a peer that reads nothing meets the send timeout", async () => {
    const { transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    socket.accepting = false;
    socket.receive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    clock.advance(10_000);
    assert.equal(socket.closed, false, "no linger while the socket holds the response");
    clock.advance(49_999);
    assert.equal(socket.closed, false);
    clock.advance(1);
    assert.equal(socket.closed, true);
  });

  test("serve shutdown closes what is still open after shutdownTimeoutMs, then finishes", async () => {
    const { server, transport, clock } = await memoryServer(() => new Promise<Response>(() => {}));
    const socket = transport.connect();
    socket.receive(get());
    let finished = false;
    const done = server.shutdown().then(() => (finished = true));
    clock.advance(19_999);
    assert.equal(socket.closed, false, "the request in flight may finish");
    clock.advance(1);
    assert.equal(socket.closed, true);
    await done;
    assert.equal(finished, true);
  });

  test("serve checks deadlines at a quarter of the shortest timeout", async () => {
    const limits = { keepAliveTimeoutMs: 400 };
    const { transport, clock } = await memoryServer(ok, { limits });
    const socket = transport.connect();
    socket.receive(get());
    clock.advance(399);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.equal(socket.ended, true, "the tick at 400 ms (every 100 ms) closed it");
    assert.equal(clock.tasks, 1);
    socket.close();
    assert.equal(clock.tasks, 0, "no tick runs once no connection is open");
  });
  test("a connection accepted just before a tick of a shutdown keeps a whole tick for its first request", async () => {
    // Ticks come every second from the first connection; the second comes 1 ms before one, and the
    // shutdown at once.
    const { server, transport, clock } = await memoryServer(ok);
    const first = transport.connect();
    clock.advance(999);
    const socket = transport.connect();
    const finished = server.shutdown();
    clock.advance(1); // the next tick: too soon to close a connection whose request may be on its way
    assert.equal(socket.ended, false);
    clock.advance(998);
    const written = socket.whenWritten();
    socket.receive(get());
    await written;
    assert.match(socket.written, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n/);
    socket.close(); // the client read its answer and closed
    first.close();
    await finished;
  });

  test("a connection that sends nothing after a shutdown is closed at the second tick", async () => {
    const { server, transport, clock } = await memoryServer(ok);
    const socket = transport.connect();
    const finished = server.shutdown();
    clock.advance(1999);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.equal(socket.ended, true, "the server's FIN");
    socket.close();
    await finished;
  });
});
