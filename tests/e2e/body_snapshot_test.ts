/**
 * The copies of byte bodies that FastResponse makes (src/body_snapshot.ts): the pool on its own,
 * then through the server, where a copy's memory is reused once the transport has sent it.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { BodyPool, HEAD_ROOM } from "../../src/fetch/body_pool.ts";
import { FastResponse } from "../../src/fetch/response.ts";
import { runtimeTransport } from "../../src/server/serve.ts";
import { serveWith } from "../../src/server/server.ts";
import {
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportSocket,
} from "../../src/transport/transport.ts";
import { Cleanup, deferred, RawClient, settledValue, within } from "./_helpers.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("BodyPool", () => {
  test("a copy holds the bytes as they were made, with room for a head in front", () => {
    const pool = new BodyPool();
    for (const length of [0, 1, 100, 16 * 1024, 64 * 1024, 2 * 1024 * 1024]) {
      const source = new Uint8Array(length).map((_, i) => i % 251);
      const copy = pool.copy(source);
      source.fill(7);
      assert.equal(copy.byteLength, length);
      assert.equal(copy.byteOffset, HEAD_ROOM);
      assert.ok(copy.every((byte, i) => byte === i % 251), `a copy of ${length} bytes`);
    }
  });

  test("withHead writes the head right before the body, or answers null when it does not fit", () => {
    const pool = new BodyPool();
    const body = pool.copy(new TextEncoder().encode("body"));
    const whole = pool.withHead(body, new TextEncoder().encode("head:"));
    assert.ok(whole);
    assert.equal(text(whole), "head:body");
    assert.equal(whole.buffer, body.buffer);
    assert.equal(pool.withHead(body, new Uint8Array(HEAD_ROOM + 1)), null);
    assert.equal(
      text(pool.withHead(body, new Uint8Array(HEAD_ROOM).fill(0x68))!),
      "h".repeat(HEAD_ROOM) + "body",
    );
  });

  test("large copies reuse memory given back, each buffer once; small ones are not kept", () => {
    const pool = new BodyPool();
    const large = new Uint8Array(40_000);
    const first = pool.copy(large);
    pool.recycle(first);
    pool.recycle(first); // a second give-back of the same memory is ignored
    const second = pool.copy(large);
    const third = pool.copy(large);
    assert.equal(second.buffer, first.buffer);
    assert.notEqual(third.buffer, first.buffer);
    const small = pool.copy(new Uint8Array(100));
    pool.recycle(small);
    assert.notEqual(pool.copy(new Uint8Array(100)).buffer, small.buffer);
    const foreign = new Uint8Array(64 * 1024);
    pool.recycle(foreign);
    assert.notEqual(pool.copy(new Uint8Array(60_000)).buffer, foreign.buffer);
  });
});

describe("byte bodies through the server", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  /** A body that tells which request it answers in every byte, so that a reused buffer shows. */
  function bodyFor(index: number, length: number): Uint8Array<ArrayBuffer> {
    return new Uint8Array(length).fill(1 + (index % 250));
  }

  test("a handler may change its buffer once the response is made", async () => {
    const srv = await cleanup.server(() => {
      const buffer = new Uint8Array(50_000).fill(0x61);
      const response = new Response(buffer);
      buffer.fill(0x62);
      return response;
    });
    const received = new Uint8Array(await (await fetch(srv.origin)).arrayBuffer());
    assert.equal(received.byteLength, 50_000);
    assert.ok(received.every((byte) => byte === 0x61));
  });

  test("pipelined bodies arrive intact while the client reads nothing for a while", async () => {
    // Most bodies share one pooled size, so that memory given back too early would be reused (and
    // overwritten) while its bytes still wait to be sent; a few other sizes are mixed in.
    const sizeOf = (index: number) => index % 10 === 9 ? [100, 70_000, 1_500_000][index % 3] : 20_000;
    const total = 300;
    let calls = 0;
    const srv = await cleanup.server((request) => {
      calls++;
      const index = Number(new URL(request.url).searchParams.get("i"));
      return new Response(bodyFor(index, sizeOf(index)));
    });
    const client = await cleanup.client(srv.port);
    client.socket.pause();
    let requests = "";
    for (let i = 0; i < total; i++) requests += `GET /?i=${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
    await client.write(requests);
    const answeredWhilePaused = await settledValue(() => calls);
    assert.ok(
      answeredWhilePaused < total,
      `the server waited for the client (${answeredWhilePaused} answered)`,
    );
    client.socket.resume();
    let bodyBytes = 0;
    for (let i = 0; i < total; i++) bodyBytes += sizeOf(i);
    await client.untilBytes(bodyBytes); // parsed only then, not again at every read
    const responses = await client.responses(total);
    assert.equal(responses.length, total);
    responses.forEach((response, index) => {
      const expected = 1 + (index % 250);
      assert.equal(response.status, 200);
      assert.equal(response.body.byteLength, sizeOf(index), `response ${index}`);
      assert.ok(response.body.every((byte) => byte === expected), `the bytes of response ${index}`);
    });
  });

  test("a head larger than the room in front, and answers to HEAD, are sent right", async () => {
    const long = "x".repeat(HEAD_ROOM);
    const srv = await cleanup.server((request) =>
      new Response(bodyFor(3, 30_000), { headers: request.url.endsWith("/long") ? { "x-long": long } : {} })
    );
    const client = await cleanup.client(srv.port);
    await client.write(
      "GET /long HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    const [withLong, head, plain] = await client.responses(3, ["GET", "HEAD", "GET"]);
    assert.equal(withLong.header("x-long"), long);
    assert.equal(head.header("content-length"), "30000");
    assert.equal(head.body.byteLength, 0);
    for (const response of [withLong, plain]) {
      assert.equal(response.body.byteLength, 30_000);
      assert.ok(response.body.every((byte) => byte === 4));
    }
  });
});

describe("the memory of a body copy is reused only once the transport has sent it", () => {
  /** A socket that keeps what the server writes, and reports it sent only when told to. */
  class HeldSocket implements TransportSocket {
    readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;
    readonly writes: { bytes: Uint8Array; sent?: () => void }[] = [];
    readonly wrote = deferred();
    events: SocketEvents = NO_EVENTS;
    bytesRead = 0;
    receive(text: string): void {
      const bytes = new TextEncoder().encode(text);
      this.bytesRead += bytes.byteLength;
      this.events.data(bytes, this);
    }
    write(bytes: Uint8Array, sent?: () => void): boolean {
      this.writes.push({ bytes, sent });
      this.wrote.resolve();
      return true;
    }
    pause() {}
    resume() {}
    end() {}
    destroy() {}
  }

  test("a copy still waiting in one connection's transport is not given to another connection", async () => {
    const sockets: HeldSocket[] = [];
    const transport: Transport = {
      listen: (options, accept) => {
        for (let i = 0; i < 3; i++) {
          const socket = new HeldSocket();
          socket.events = accept(socket);
          sockets.push(socket);
        }
        return { addr: { transport: "tcp", ...options }, close() {} };
      },
    };
    const server = serveWith(
      transport,
      { port: 0, hostname: "127.0.0.1" },
      (request) => {
        const fill = Number(new URL(request.url).searchParams.get("fill"));
        return new FastResponse(new Uint8Array(40_000).fill(fill));
      },
    );
    await server.ready;
    const ask = async (socket: HeldSocket, fill: number) => {
      socket.receive(`GET /?fill=${fill} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await socket.wrote.promise;
      const [{ bytes, sent }] = socket.writes;
      assert.ok(sent, "a body copy comes with a sent callback");
      return { body: bytes.subarray(bytes.byteLength - 40_000), sent };
    };
    const first = await ask(sockets[0], 1);
    const second = await ask(sockets[1], 2); // while the first is still unsent
    assert.ok(first.body.every((byte) => byte === 1), "the first body is intact");
    assert.notEqual(second.body.buffer, first.body.buffer);
    first.sent();
    const third = await ask(sockets[2], 3);
    assert.equal(third.body.buffer, first.body.buffer, "the sent copy's memory is reused");
    assert.ok(second.body.every((byte) => byte === 2) && third.body.every((byte) => byte === 3));
    for (const socket of sockets) socket.events.close(socket);
    await server.shutdown();
  });
});

describe("the transport's sent callback", () => {
  test("runs only once the bytes are no longer needed: changing them then changes nothing sent", async () => {
    const chunks = 40;
    const size = 256 * 1024; // 10 MiB in all: more than the system buffers, so the adapter queues
    const allSent = deferred();
    let sentCount = 0;
    const listener = await runtimeTransport().listen({ hostname: "127.0.0.1", port: 0 }, (socket) => {
      for (let i = 0; i < chunks; i++) {
        const bytes = new Uint8Array(size).fill(1 + i);
        const sent = () => {
          bytes.fill(0); // what the server does when it reuses the memory
          if (++sentCount === chunks) allSent.resolve();
        };
        if (i % 2 === 0 || socket.writeParts === undefined) socket.write(bytes, sent);
        else socket.writeParts([bytes.subarray(0, 100), bytes.subarray(100)], sent);
      }
      socket.end();
      return { data() {}, end() {}, drain() {}, close() {} };
    });
    const client = await RawClient.connect(listener.addr.port);
    try {
      const received = await client.untilEnd();
      assert.equal(received.byteLength, chunks * size);
      for (let i = 0; i < chunks; i++) {
        const chunk = received.subarray(i * size, (i + 1) * size);
        assert.ok(chunk.every((byte) => byte === 1 + i), `chunk ${i} arrived as written`);
      }
      await within(allSent.promise, 5000, () => `every sent callback (${sentCount} of ${chunks} ran)`);
    } finally {
      client.destroy();
      listener.close();
    }
  });
});
