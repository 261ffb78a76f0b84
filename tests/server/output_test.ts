/**
 * The server's output and the body pool: the memory of a body copy goes back to the pool only
 * once the transport reports the bytes sent, so a copy that still waits in one connection's
 * transport is never given to another connection.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FastResponse } from "../../src/fetch/response.ts";
import { serveWith } from "../../src/server/server.ts";
import {
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportSocket,
} from "../../src/transport/transport.ts";

describe("the memory of a body copy is reused only once the transport has sent it", () => {
  /** A socket that keeps what the server writes, and reports it sent only when told to. */
  class HeldSocket implements TransportSocket {
    readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;
    readonly writes: { bytes: Uint8Array; sent?: () => void }[] = [];
    readonly wrote = Promise.withResolvers<void>();
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
