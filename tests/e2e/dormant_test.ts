/**
 * Dormant connections: a keep-alive connection that waits for its next request keeps nothing but
 * the transport's socket, and is made whole again by its next byte. First through a transport
 * made for the test, which shows what the server does with each socket; then over real sockets.
 */

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, describe, test } from "node:test";
import { FastResponse } from "../../src/fetch/response.ts";
import { runtimeTransport } from "../../src/server/serve.ts";
import type { Limits } from "../../src/server/options.ts";
import type { ProtocolErrorInfo, Server } from "../../src/server/options.ts";
import { serveWith } from "../../src/server/server.ts";
import {
  type NetAddr,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportSocket,
} from "../../src/transport/transport.ts";
import { Cleanup, deferred, RawClient, within } from "./_helpers.ts";

const GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

/** A socket driven by the test: it keeps what the server writes and every events object it is given. */
class ScriptedSocket implements TransportSocket {
  readonly remoteAddr: NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  bytesRead = 0;
  written = "";
  readonly ended = deferred();
  /** Every events object the server set, in order. */
  readonly assigned: SocketEvents[] = [];
  #events: SocketEvents = NO_EVENTS;
  #waiting: { check: (events: SocketEvents) => boolean; resolve: () => void } | null = null;

  get events(): SocketEvents {
    return this.#events;
  }

  set events(events: SocketEvents) {
    this.#events = events;
    this.assigned.push(events);
    if (this.#waiting?.check(events)) this.#waiting.resolve();
  }

  /** Resolves when the server sets events that pass the check (at once if the current ones do). */
  eventsBecome(check: (events: SocketEvents) => boolean): Promise<void> {
    if (check(this.#events)) return Promise.resolve();
    const set = deferred();
    this.#waiting = { check, resolve: set.resolve };
    return set.promise;
  }

  receive(text: string): void {
    const bytes = new TextEncoder().encode(text);
    this.bytesRead += bytes.byteLength;
    this.#events.data(bytes, this);
  }

  /** What `write` answers: `false` makes the server wait for a drain. */
  accepting = true;

  write(bytes: Uint8Array, sent?: () => void): boolean {
    this.written += new TextDecoder().decode(bytes);
    sent?.();
    return this.accepting;
  }

  pause() {}
  resume() {}
  end(): void {
    this.ended.resolve();
  }
  destroy(): void {
    this.#events.close(this);
  }
}

/** A transport whose listener accepts the given sockets at once. */
function scriptedTransport(sockets: readonly ScriptedSocket[]): Transport {
  return {
    listen: (options, accept) => {
      for (const socket of sockets) socket.events = accept(socket);
      return { addr: { transport: "tcp", ...options }, close() {} };
    },
  };
}

/** A server on a scripted transport, listening. */
async function scriptedServer(
  sockets: readonly ScriptedSocket[],
  handler: (request: Request) => Response | Promise<Response>,
  limits: Partial<Limits> = {},
): Promise<Server> {
  const server = serveWith(scriptedTransport(sockets), { port: 0, limits }, handler);
  await server.ready;
  return server;
}

const responses = (socket: ScriptedSocket) => socket.written.match(/HTTP\/1\.1 200 OK/g)?.length ?? 0;

describe("a connection waiting for its next request goes dormant", () => {
  test("its events become one object shared by every dormant socket, and the next request wakes it", async () => {
    const sockets = [new ScriptedSocket(), new ScriptedSocket()];
    const server = await scriptedServer(sockets, () => new FastResponse("hi"));
    const accepted = sockets.map((socket) => socket.events);
    assert.notEqual(accepted[0], accepted[1], "each new connection has its own");
    for (const socket of sockets) socket.receive(GET);
    assert.deepEqual(sockets.map(responses), [1, 1]);
    const [dormant] = sockets[0].assigned.slice(-1);
    assert.notEqual(dormant, accepted[0], "no longer the connection's own events");
    assert.equal(sockets[1].events, dormant, "one object for every dormant socket");

    sockets[0].receive(GET);
    assert.equal(responses(sockets[0]), 2, "the next request is answered");
    assert.match(sockets[0].written, /\r\n\r\nhiHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhi$/);
    for (const socket of sockets) socket.destroy();
    await server.shutdown();
  });

  test("one woken less than a tick after it slept stays awake while it waits, then sleeps at a tick", async () => {
    const socket = new ScriptedSocket();
    // The shortest timeout is 400 ms, so the server checks every 100 ms.
    const limits = { keepAliveTimeoutMs: 400 };
    const server = await scriptedServer([socket], () => new FastResponse("hi"), limits);
    socket.receive(GET);
    const dormant = socket.events;
    socket.receive(GET); // a busy client: it asks again at once
    assert.equal(responses(socket), 2);
    const awake = socket.events;
    assert.notEqual(awake, dormant, "a busy connection keeps its state between requests");
    await within(socket.eventsBecome((events) => events === dormant), 2000, "the tick to let it sleep");
    socket.receive(GET);
    assert.equal(responses(socket), 3, "and it still answers after that");
    socket.destroy();
    await server.shutdown();
  });

  test("a connection waiting for a drain, or for its handler, does not go dormant until it is done", async () => {
    const sockets = [new ScriptedSocket(), new ScriptedSocket()];
    const handlerGate = deferred();
    const server = await scriptedServer(sockets, (request) => {
      if (new URL(request.url).pathname === "/slow") {
        return handlerGate.promise.then(() => new FastResponse("hi"));
      }
      return new FastResponse("hi");
    });
    const [full, slow] = sockets;
    const accepted = sockets.map((socket) => socket.events);

    full.accepting = false;
    full.receive(GET);
    assert.equal(responses(full), 1, "written, but the socket asks the server to wait for a drain");
    assert.equal(full.events, accepted[0], "the connection stays");
    full.accepting = true;
    full.events.drain(full);
    assert.notEqual(full.events, accepted[0], "drained: dormant");

    slow.receive("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(slow.events, accepted[1], "the handler works: the connection stays");
    handlerGate.resolve();
    await within(slow.eventsBecome((events) => events === full.events), 2000, "the slow response");
    assert.equal(responses(slow), 1);
    for (const socket of sockets) socket.destroy();
    await server.shutdown();
  });

  test("a dormant connection is closed when its keep-alive ends", async () => {
    const socket = new ScriptedSocket();
    const limits = { keepAliveTimeoutMs: 200 };
    const server = await scriptedServer([socket], () => new FastResponse("hi"), limits);
    socket.receive(GET);
    const dormant = socket.events;
    assert.equal(socket.assigned.length, 2, "accepted, then dormant");
    await within(socket.ended.promise, 2000, "the FIN of the keep-alive timeout");
    assert.notEqual(socket.events, dormant, "woken to close");
    socket.destroy();
    await server.shutdown();
  });

  test("shutdown closes dormant connections and then finishes", async () => {
    const socket = new ScriptedSocket();
    const server = await scriptedServer([socket], () => new FastResponse("hi"));
    socket.receive(GET);
    const finished = server.shutdown();
    await within(socket.ended.promise, 2000, "the FIN of the shutdown");
    socket.destroy();
    await within(finished, 2000, "the server to finish");
  });
});

describe("dormant connections over real sockets", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("error offsets count from the connection's first byte, also after it was dormant", async () => {
    const errors: ProtocolErrorInfo[] = [];
    const { port } = await cleanup.server(() => new Response("hi"), {
      onProtocolError: (info) => errors.push(info),
    });
    const bad = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
    const fresh = await cleanup.client(port);
    await fresh.write(bad);
    await fresh.untilEnd();
    const reused = await cleanup.client(port);
    await reused.write(GET);
    await reused.response();
    await reused.write(bad);
    await reused.untilEnd();
    assert.equal(errors.length, 2);
    assert.equal(errors[0].code, "SPACE_BEFORE_COLON");
    assert.equal(errors[1].offset, errors[0].offset + GET.length);
  });

  test("a transport socket knows the peer's address after it closed, even if not asked before", async () => {
    const seen = deferred<NetAddr>();
    const listener = await runtimeTransport().listen({ hostname: "127.0.0.1", port: 0 }, () => ({
      data: (_bytes, socket) => socket.destroy(),
      end: (socket) => socket.end(),
      drain() {},
      close: (socket) => seen.resolve(socket.remoteAddr),
    }));
    const client = await RawClient.connect(listener.addr.port);
    const localPort = client.socket.localPort;
    await client.write("x");
    const addr = await within(seen.promise, 5000, "the server's socket to close");
    await client.closed;
    listener.close();
    assert.deepEqual(addr, { transport: "tcp", hostname: "127.0.0.1", port: localPort });
  });

  test("a transport socket counts the bytes it received", async () => {
    const counts: number[] = [];
    const lengths: number[] = [];
    const closed = deferred();
    const listener = await runtimeTransport().listen({ hostname: "127.0.0.1", port: 0 }, () => ({
      data(bytes, socket) {
        lengths.push(bytes.byteLength);
        counts.push(socket.bytesRead);
        if (socket.bytesRead === 7) socket.end();
      },
      end: (socket) => socket.end(),
      drain() {},
      close: () => closed.resolve(),
    }));
    const client = connect({ host: "127.0.0.1", port: listener.addr.port });
    client.on("connect", () => client.write("abc", () => setImmediate(() => client.write("defg"))));
    client.resume();
    await within(closed.promise, 5000, "the server's socket to close");
    client.destroy();
    listener.close();
    assert.deepEqual(counts, lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b)));
    assert.equal(counts.at(-1), 7);
  });
});
