/**
 * What every adapter's socket promises the server (src/transport/transport.ts), through the
 * runtime's own transport and real sockets: the peer's address, also after the socket closed,
 * and the count of the bytes it delivered.
 */

import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { runtimeTransport } from "../../src/server/serve.ts";
import type { NetAddr } from "../../src/transport/transport.ts";
import { deferred, RawClient, within } from "../e2e/_helpers.ts";

describe("a transport socket", () => {
  test("a transport socket knows the peer's address after it closed, even if not asked before", async () => {
    const seen = deferred<NetAddr>();
    const listener = await runtimeTransport().listen({ hostname: "127.0.0.1", port: 0 }, () => ({
      data: (_bytes, socket) => socket.destroy(),
      end: (socket) => socket.end(),
      drain() {},
      close: (socket) => seen.resolve(socket.remoteAddr as NetAddr),
    }));
    const client = await RawClient.connect((listener.addr as NetAddr).port);
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
    const client = connect({ host: "127.0.0.1", port: (listener.addr as NetAddr).port });
    client.on("connect", () => client.write("abc", () => setImmediate(() => client.write("defg"))));
    client.resume();
    await within(closed.promise, 5000, "the server's socket to close");
    client.destroy();
    listener.close();
    assert.deepEqual(counts, lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b)));
    assert.equal(counts.at(-1), 7);
  });
});
