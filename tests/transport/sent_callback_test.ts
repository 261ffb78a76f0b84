/**
 * The `sent` callback of every adapter's writes (through the runtime's own transport): it runs
 * only once the transport no longer needs the bytes, which is what lets the server reuse their
 * memory.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runtimeTransport } from "../../src/server/serve.ts";
import type { NetAddr } from "../../src/transport/transport.ts";
import { deferred, RawClient, within } from "../e2e/_helpers.ts";

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
    const client = await RawClient.connect((listener.addr as NetAddr).port);
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
