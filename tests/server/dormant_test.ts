/**
 * Dormant connections, on a memory transport and a fake clock: a keep-alive connection that waits
 * for its next request keeps nothing but the transport's socket (whose events become one object
 * shared by every dormant socket), and is made whole again by its next byte.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FastResponse } from "../../src/fetch/response.ts";
import { get, memoryServer } from "./_memory.ts";

const hi = () => new FastResponse("hi");

describe("a connection waiting for its next request goes dormant", () => {
  test("its events become one object shared by every dormant socket, and the next request wakes it", async () => {
    const { server, transport } = await memoryServer(hi);
    const sockets = [transport.connect(), transport.connect()];
    const accepted = sockets.map((socket) => socket.events);
    assert.notEqual(accepted[0], accepted[1], "each new connection has its own");
    for (const socket of sockets) socket.receive(get());
    assert.deepEqual(sockets.map((socket) => socket.count()), [1, 1]);
    const [dormant] = sockets[0].assigned.slice(-1);
    assert.notEqual(dormant, accepted[0], "no longer the connection's own events");
    assert.equal(sockets[1].events, dormant, "one object for every dormant socket");

    sockets[0].receive(get());
    assert.equal(sockets[0].count(), 2, "the next request is answered");
    assert.match(sockets[0].written, /\r\n\r\nhiHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhi$/);
    for (const socket of sockets) socket.close();
    await server.shutdown();
  });

  test("one woken less than a tick after it slept stays awake while it waits, then sleeps at a tick", async () => {
    // The shortest timeout is 400 ms, so the server checks every 100 ms.
    const { server, transport, clock } = await memoryServer(hi, { limits: { keepAliveTimeoutMs: 400 } });
    const socket = transport.connect();
    socket.receive(get());
    const dormant = socket.events;
    socket.receive(get()); // a busy client: it asks again at once
    assert.equal(socket.count(), 2);
    const awake = socket.events;
    assert.notEqual(awake, dormant, "a busy connection keeps its state between requests");
    clock.advance(99);
    assert.equal(socket.events, awake, "idle for less than a tick");
    clock.advance(1);
    assert.equal(socket.events, dormant, "the tick found it idle for a tick");
    socket.receive(get());
    assert.equal(socket.count(), 3, "and it still answers after that");
    socket.close();
    await server.shutdown();
  });

  test("a connection waiting for a drain, or for its handler, does not go dormant until it is done", async () => {
    const handlerGate = Promise.withResolvers<void>();
    const { server, transport } = await memoryServer((request) => {
      if (new URL(request.url).pathname === "/slow") return handlerGate.promise.then(hi);
      return hi();
    });
    const [full, slow] = [transport.connect(), transport.connect()];
    const accepted = [full.events, slow.events];

    full.accepting = false;
    full.receive(get());
    assert.equal(full.count(), 1, "written, but the socket asks the server to wait for a drain");
    assert.equal(full.events, accepted[0], "the connection stays");
    full.drain();
    assert.notEqual(full.events, accepted[0], "drained: dormant");

    slow.receive(get("/slow"));
    assert.equal(slow.events, accepted[1], "the handler works: the connection stays");
    const written = slow.whenWritten();
    handlerGate.resolve();
    await written;
    assert.equal(slow.count(), 1);
    assert.equal(slow.events, full.events, "answered: dormant");
    full.close();
    slow.close();
    await server.shutdown();
  });

  test("a dormant connection is closed when its keep-alive ends", async () => {
    const { server, transport, clock } = await memoryServer(hi, { limits: { keepAliveTimeoutMs: 200 } });
    const socket = transport.connect();
    socket.receive(get());
    const dormant = socket.events;
    assert.equal(socket.assigned.length, 2, "accepted, then dormant");
    clock.advance(199);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.equal(socket.ended, true, "the FIN of the keep-alive timeout");
    assert.notEqual(socket.events, dormant, "woken to close");
    socket.close();
    await server.shutdown();
  });

  test("shutdown closes dormant connections and then finishes", async () => {
    const { server, transport } = await memoryServer(hi);
    const socket = transport.connect();
    socket.receive(get());
    const finished = server.shutdown();
    assert.equal(socket.ended, true, "the FIN of the shutdown");
    socket.close();
    await finished;
  });

  test("a dormant connection counts its bytes on: error offsets are the connection's own", async () => {
    const offsets: number[] = [];
    const { server, transport } = await memoryServer(hi, {
      onProtocolError: (info) => offsets.push(info.offset),
    });
    const bad = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
    const fresh = transport.connect();
    fresh.receive(bad);
    const reused = transport.connect();
    reused.receive(get());
    assert.notEqual(reused.events, reused.assigned[0], "dormant");
    reused.receive(bad);
    assert.deepEqual(offsets, [offsets[0], offsets[0] + get().length]);
    fresh.close();
    reused.close();
    await server.shutdown();
  });
});
