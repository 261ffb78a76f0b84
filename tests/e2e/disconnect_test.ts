/**
 * Clients that go away in the middle of an exchange: the handler learns of it (a failed body
 * read, an aborted `request.signal`, a cancelled response stream) and the server goes on serving.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ServeHandler } from "../../src/server/options.ts";
import { Cleanup, deferred, within } from "./_helpers.ts";

describe("serve survives clients that disconnect", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  const bodyFailed = deferred<unknown>();
  const aborted = deferred<unknown>();
  const handlerEntered = deferred();
  const abortGate = cleanup.gate();
  const streamCancelled = deferred();
  let pulledBytes = 0;

  const handler: ServeHandler = async (request) => {
    switch (new URL(request.url).pathname) {
      case "/upload":
        try {
          await request.arrayBuffer();
        } catch (error) {
          bodyFailed.resolve(error);
          throw error;
        }
        return new Response("complete");
      case "/wait":
        request.signal.addEventListener("abort", () => aborted.resolve(request.signal.reason));
        handlerEntered.resolve();
        await Promise.race([aborted.promise, abortGate.promise]);
        return new Response("too late");
      case "/endless":
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulledBytes += 16 * 1024;
              controller.enqueue(new Uint8Array(16 * 1024).fill(0x7a));
            },
            cancel() {
              streamCancelled.resolve();
            },
          }, { highWaterMark: 0 }),
        );
      default:
        return new Response("still serving");
    }
  };

  async function assertStillServing(port: number): Promise<void> {
    const client = await cleanup.client(port);
    await client.write("GET /check HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await client.response()).text(), "still serving");
  }

  test("serve fails the body read when the client disconnects mid-body, and serves the next request", async () => {
    const { port } = await cleanup.server(handler, {
      onError: () => new Response("failed", { status: 500 }),
    });
    const client = await cleanup.client(port);
    await client.write("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    await client.write(new Uint8Array(5000));
    client.destroy();
    const error = await within(bodyFailed.promise, 5000, "the body read to fail");
    assert.ok(error instanceof Error, String(error));
    await assertStillServing(port);
  });

  test("serve aborts request.signal when the client resets the connection before the response", async () => {
    const { port } = await cleanup.server(handler);
    const client = await cleanup.client(port);
    await client.write("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
    await handlerEntered.promise;
    // A reset, not a FIN: a FIN alone only ends the client's side, and the server still answers
    // (see "serve answers a slow handler's request after the client half-closed").
    client.socket.resetAndDestroy();
    const reason = await within(aborted.promise, 5000, "request.signal to abort");
    assert.ok(reason instanceof Error, String(reason));
    await assertStillServing(port);
  });

  test("serve cancels the response stream when the client disconnects mid-response", async () => {
    const { port } = await cleanup.server(handler);
    const client = await cleanup.client(port);
    await client.write("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
    await client.untilBytes(200 * 1024);
    client.destroy();
    await within(streamCancelled.promise, 5000, "the response stream to be cancelled");
    const pulledAtCancel = pulledBytes;
    assert.ok(pulledAtCancel >= 200 * 1024);
    await assertStillServing(port);
    assert.equal(pulledBytes, pulledAtCancel, "the stream is not pulled after it was cancelled");
  });

  test("serve survives a client that resets right after sending a request", async () => {
    const { port } = await cleanup.server(handler);
    for (let i = 0; i < 20; i++) {
      const client = await cleanup.client(port);
      client.write("GET /quick HTTP/1.1\r\nHost: a\r\n\r\n").catch(() => {});
      client.destroy();
    }
    await assertStillServing(port);
  });

  test("serve survives a client that half-closes in the middle of a body", async () => {
    const { port } = await cleanup.server(handler, {
      onError: () => new Response("failed", { status: 500 }),
    });
    const client = await cleanup.client(port);
    await client.write("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nshort");
    client.end();
    await client.untilEnd();
    // The body cannot complete: the server answers the incomplete message and closes.
    assert.match(client.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    await assertStillServing(port);
  });
});
