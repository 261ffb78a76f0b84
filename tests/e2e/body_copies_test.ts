/**
 * Byte bodies through the server: the copy FastResponse makes of them (src/fetch/body_pool.ts)
 * arrives intact, whatever the handler does with its buffer afterwards and however slowly the
 * client reads.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { HEAD_ROOM } from "../../src/fetch/body_pool.ts";
import { Cleanup, settledValue } from "./_helpers.ts";

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
