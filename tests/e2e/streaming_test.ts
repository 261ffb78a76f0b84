/**
 * Streaming bodies both ways, and backpressure both ways: a slow reader holds back the handler's
 * response stream, and a handler that does not read holds back the client's upload.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { bodySoFar, Cleanup, deferred, parseResponse, settledValue, within } from "./_helpers.ts";

const MiB = 1024 * 1024;

describe("serve streams bodies", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve echoes a chunked upload sent in pieces as a streamed response", async () => {
    const { port } = await cleanup.server((request) =>
      new Response(request.body, { headers: { "content-type": "application/octet-stream" } })
    );
    const client = await cleanup.client(port);
    await client.write("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    // Each piece of the upload comes back before the next one is sent: both directions stream.
    const pieces = ["first ", "second ", "third"];
    let expected = "";
    for (const piece of pieces) {
      const sizeLine = piece.length.toString(16);
      await client.writePieces([sizeLine, "\r\n", piece.slice(0, 2), piece.slice(2), "\r\n"]);
      expected += piece;
      const echoed = () => bodySoFar(client.received) === expected;
      await within(client.until(echoed, `the echo of ${piece}`), 5000, `the echo of ${piece}`);
    }
    await client.write("0\r\n\r\n");
    const response = await client.response();
    assert.equal(response.status, 200);
    assert.equal(response.header("transfer-encoding"), "chunked");
    assert.equal(response.header("content-length"), null);
    assert.equal(response.text(), "first second third");
  });

  test("serve echoes a Content-Length upload", async () => {
    const { port } = await cleanup.server((request) => new Response(request.body));
    const client = await cleanup.client(port);
    const body = "0123456789".repeat(1000);
    await client.writePieces([
      `PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`,
      body.slice(0, 3333),
      body.slice(3333),
    ]);
    const response = await client.response();
    assert.equal(response.text(), body);
  });

  test("serve sends a ReadableStream response as chunked, the first chunk before the stream ends", async () => {
    const gate = cleanup.gate();
    let cancelled = false;
    const { port } = await cleanup.server(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("early chunk;"));
            await gate.promise;
            controller.enqueue(new TextEncoder().encode("late chunk"));
            controller.close();
          },
          cancel() {
            cancelled = true;
          },
        }),
      )
    );
    const client = await cleanup.client(port);
    await client.write("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    // The stream only ends after the client has seen the first chunk, so this waits on the server.
    await within(
      client.until(() => client.text.includes("early chunk;"), "the first chunk"),
      5000,
      "first chunk",
    );
    assert.match(client.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(client.text, /\r\ntransfer-encoding: chunked\r\n/);
    assert.ok(client.text.endsWith("c\r\nearly chunk;\r\n"), JSON.stringify(client.text));
    gate.resolve();
    const response = await client.response();
    assert.equal(response.text(), "early chunk;late chunk");
    assert.equal(response.rawBody, "c\r\nearly chunk;\r\na\r\nlate chunk\r\n0\r\n\r\n");
    assert.equal(cancelled, false);
  });

  test("serve sends a short stream that ends at once with a Content-Length", async () => {
    const { port } = await cleanup.server(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("all "));
            controller.enqueue(new TextEncoder().encode("at once"));
            controller.close();
          },
        }),
      )
    );
    const client = await cleanup.client(port);
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.header("content-length"), "11");
    assert.equal(response.text(), "all at once");
  });

  test("serve sends the whole of a fast stream longer than its read-ahead", async () => {
    const total = 3 * MiB + 123;
    const { port } = await cleanup.server(() => {
      let sent = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            const size = Math.min(100_000, total - sent);
            if (size === 0) return controller.close();
            controller.enqueue(new Uint8Array(size).fill(0x30 + ((sent / 100_000) % 10)));
            sent += size;
          },
        }),
      );
    });
    const client = await cleanup.client(port);
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.body.byteLength, total);
    assert.equal(response.header("transfer-encoding"), "chunked");
    for (let i = 0; i * 100_000 < total; i++) {
      const last = Math.min((i + 1) * 100_000, total) - 1;
      assert.equal(response.body[i * 100_000], 0x30 + (i % 10), `block ${i}`);
      assert.equal(response.body[last], 0x30 + (i % 10), `block ${i}`);
    }
  });

  test("serve sends an HTTP/1.0 streamed response close-delimited", async () => {
    const gate = cleanup.gate();
    const { port } = await cleanup.server(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("one "));
            await gate.promise;
            controller.enqueue(new TextEncoder().encode("two"));
            controller.close();
          },
        }),
      )
    );
    const client = await cleanup.client(port);
    await client.write("GET / HTTP/1.0\r\n\r\n");
    await client.until(() => client.text.includes("one "), "the first piece");
    gate.resolve();
    await client.untilEnd();
    const response = await client.response();
    assert.equal(response.header("transfer-encoding"), null);
    assert.equal(response.header("content-length"), null);
    assert.equal(response.header("connection"), "close");
    assert.equal(response.text(), "one two");
  });
});

describe("serve applies backpressure", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve pulls a response stream only a bounded amount ahead of a slow reader", async () => {
    const total = 48 * MiB;
    const chunkSize = 64 * 1024;
    let produced = 0;
    const { port } = await cleanup.server(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (produced >= total) return controller.close();
            const chunk = new Uint8Array(chunkSize).fill((produced / chunkSize) % 251);
            produced += chunkSize;
            controller.enqueue(chunk);
          },
        }, { highWaterMark: 0 }),
        { headers: { "content-length": String(total) } },
      )
    );
    const client = await cleanup.client(port);
    client.socket.pause();
    await client.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    // Nothing is read now; the producer must stop once the socket buffers are full.
    const aheadWhileStalled = await settledValue(() => produced);
    assert.ok(aheadWhileStalled > 0, "the stream was started");
    assert.ok(
      aheadWhileStalled <= 8 * MiB,
      `the handler's stream ran ${
        (aheadWhileStalled / MiB).toFixed(1)
      } MiB ahead of a reader that reads nothing`,
    );
    assert.ok(client.receivedBytes < 4 * MiB, `the paused client received ${client.receivedBytes} bytes`);

    client.socket.resume();
    await client.until(() => parseResponse(client.received, 0) !== null, "the whole response", 20_000);
    const parsed = parseResponse(client.received, 0);
    assert.ok(parsed !== null);
    const { response } = parsed;
    assert.equal(response.header("content-length"), String(total));
    assert.equal(response.body.byteLength, total);
    for (let offset = 0; offset < total; offset += chunkSize) {
      const expected = (offset / chunkSize) % 251;
      if (response.body[offset] !== expected || response.body[offset + chunkSize - 1] !== expected) {
        assert.fail(`the body is corrupt at offset ${offset}`);
      }
    }
    assert.equal(produced, total);
  });

  test("serve stops reading an upload the handler does not read, and resumes when it does", async () => {
    const total = 32 * MiB;
    const gate = cleanup.gate();
    const handlerCalled = deferred();
    let serverRead = 0;
    const { port } = await cleanup.server(async (request) => {
      handlerCalled.resolve();
      await gate.promise;
      let length = 0;
      for await (const chunk of request.body as ReadableStream<Uint8Array>) length += chunk.byteLength;
      return new Response(`read ${length}`);
    }, { onData: (bytes) => serverRead += bytes.byteLength });
    const client = await cleanup.client(port);
    await client.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
    const written = client.write(new Uint8Array(total).fill(0x62));
    await handlerCalled.promise;
    const readWhileIgnored = await settledValue(() => serverRead);
    assert.ok(
      readWhileIgnored <= 2 * MiB,
      `the server read ${(readWhileIgnored / MiB).toFixed(1)} MiB of a body nobody reads`,
    );
    assert.ok(
      client.socket.writableLength > total / 2,
      `the client's pending writes (${client.socket.writableLength} bytes) show the upload is held back`,
    );

    gate.resolve();
    await within(written, 20_000, "the upload to be taken");
    const response = await within(client.response(), 20_000, "the response");
    assert.equal(response.text(), `read ${total}`);
  });
});
