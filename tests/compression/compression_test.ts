/**
 * Response compression through the real server: with h1serve/testing's `exchange` and `connect` on
 * exact bytes, and on real sockets on 127.0.0.1 with a raw client, curl `--compressed` and the
 * runtime's `fetch`. Every body is decompressed with node:zlib and compared byte for byte.
 *
 * @module
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import * as zlib from "node:zlib";
import { AVAILABLE_CODINGS } from "../../src/compression/encoder.ts";
import type { ContentCoding } from "../../src/compression/negotiate.ts";
import { serve } from "../../src/server/serve.ts";
import type { ServeHandler } from "../../src/server/options.ts";
import { connect, exchange, type TestOptions, type TestResponse } from "../../src/testing/mod.ts";
import { deferred, RawClient, runProgram, startServer, type TestServer } from "../e2e/_helpers.ts";

const encoder = new TextEncoder();
const JSON_TEXT = JSON.stringify(
  Array.from({ length: 300 }, (_, i) => ({ id: i, name: `item ${i}`, ok: i % 2 === 0 })),
);
const JSON_BYTES = encoder.encode(JSON_TEXT);

const DECOMPRESS: Record<ContentCoding, (data: Uint8Array) => Uint8Array> = {
  gzip: (data) => zlib.gunzipSync(data),
  br: (data) => zlib.brotliDecompressSync(data),
  zstd: (data) => zlib.zstdDecompressSync(data),
};
/** Decompresses what a stream sent so far (up to its last flush). */
const DECOMPRESS_SO_FAR: Record<ContentCoding, (data: Uint8Array) => Uint8Array> = {
  gzip: (data) => zlib.gunzipSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  br: (data) => zlib.brotliDecompressSync(data, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
  zstd: (data) =>
    zlib.zstdDecompressSync(data, { finishFlush: zlib.constants.ZSTD_e_flush } as zlib.ZstdOptions),
};

/** One GET (or `method`) with these fields, answered by `handler` in the real server on the memory transport. */
async function answer(
  handler: ServeHandler,
  fields: Record<string, string> = {},
  options: TestOptions = {},
  method = "GET",
): Promise<TestResponse> {
  const lines = Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const result = await exchange(handler, `${method} / HTTP/1.1\r\nHost: a\r\n${lines}\r\n`, options);
  assert.equal(result.responses.length, 1);
  return result.responses[0];
}

const json = (init: ResponseInit = {}) => () =>
  new Response(JSON_TEXT, {
    ...init,
    headers: { "content-type": "application/json", ...init.headers as Record<string, string> },
  });

/** Asserts that a response went out as the handler gave it: no coding, the body as it was. */
function assertUncompressed(
  response: TestResponse,
  body: Uint8Array = JSON_BYTES,
  coding: string | null = null,
): void {
  assert.equal(response.headers.get("content-encoding"), coding);
  assert.deepEqual(response.body, new Uint8Array(body));
}

describe("compression through the server (h1serve/testing)", () => {
  for (const coding of AVAILABLE_CODINGS) {
    test(`${coding}: the body decompresses to the handler's bytes, with its Content-Length, Content-Encoding and Vary`, async () => {
      const response = await answer(json(), { "Accept-Encoding": coding });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-encoding"), coding);
      assert.equal(response.headers.get("vary"), "Accept-Encoding");
      assert.equal(response.framing, "content-length");
      assert.equal(Number(response.headers.get("content-length")), response.body.byteLength);
      assert.ok(response.body.byteLength < JSON_BYTES.byteLength / 3);
      assert.deepEqual(new Uint8Array(DECOMPRESS[coding](response.body)), JSON_BYTES);
    });
  }

  test("zstd is available on every runtime this project pins (Deno 2.9, Bun 1.4, Node 26)", () => {
    assert.deepEqual([...AVAILABLE_CODINGS], ["br", "zstd", "gzip"]);
  });

  test("a browser's Accept-Encoding gets Brotli; q-values choose before the server's order", async () => {
    assert.equal(
      (await answer(json(), { "Accept-Encoding": "gzip, deflate, br, zstd" })).headers.get(
        "content-encoding",
      ),
      "br",
    );
    assert.equal(
      (await answer(json(), { "Accept-Encoding": "br;q=0.5, gzip" })).headers.get("content-encoding"),
      "gzip",
    );
    const refused = await answer(json(), { "Accept-Encoding": "identity;q=0, *;q=0" });
    assertUncompressed(refused); // nothing acceptable: the body as it is, not a 406
    assert.equal(refused.status, 200);
  });

  test("a byte body, a stream that ends at once and Response.json are compressed in one go, with a Content-Length", async () => {
    const handlers: ServeHandler[] = [
      () => new Response(JSON_BYTES.slice(), { headers: { "content-type": "application/json" } }),
      () =>
        new Response(
          new ReadableStream({ start: (controller) => (controller.enqueue(JSON_BYTES), controller.close()) }),
          { headers: { "content-type": "application/json" } },
        ),
      () => Response.json(JSON.parse(JSON_TEXT)),
    ];
    for (const handler of handlers) {
      const response = await answer(handler, { "Accept-Encoding": "gzip" });
      assert.equal(response.headers.get("content-encoding"), "gzip");
      assert.equal(response.framing, "content-length");
      assert.deepEqual(new Uint8Array(zlib.gunzipSync(response.body)), JSON_BYTES);
    }
  });

  test("a body larger than the synchronous limit is compressed off the event loop, with its Content-Length", async () => {
    const text = "line of a large text body, ".repeat(20_000); // 540 kB
    const handler = () => new Response(text, { headers: { "content-type": "text/plain" } });
    const response = await answer(handler, { "Accept-Encoding": "br" });
    assert.equal(response.headers.get("content-encoding"), "br");
    assert.equal(Number(response.headers.get("content-length")), response.body.byteLength);
    assert.equal(new TextDecoder().decode(zlib.brotliDecompressSync(response.body)), text);
  });

  test("a body that compression would not shrink is sent as it is, with Vary and its strong ETag", async () => {
    const noise = new Uint8Array(4096).map((_, i) => (i * 7919 + ((i * i) >> 3)) ^ (i >> 5));
    const random = zlib.gzipSync(noise, { level: 9 }); // compressed bytes do not compress again
    const handler = () => new Response(random, { headers: { "content-type": "text/plain", etag: '"x"' } });
    const response = await answer(handler, { "Accept-Encoding": "gzip" });
    assertUncompressed(response, random);
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
    assert.equal(response.headers.get("etag"), '"x"');
  });

  describe("never compressed", () => {
    const cases: [string, ServeHandler, string][] = [
      ["a response that has Content-Encoding", json({ headers: { "content-encoding": "identity" } }), "GET"],
      ["a response that has Content-Range", json({ headers: { "content-range": "bytes 0-9/100" } }), "GET"],
      ["a 206", json({ status: 206, headers: { "content-range": "bytes 0-9/100" } }), "GET"],
      ["Cache-Control: no-transform", json({ headers: { "cache-control": "public, No-Transform" } }), "GET"],
      ["a type that is compressed already", json({ headers: { "content-type": "image/png" } }), "GET"],
      ["a response with no Content-Type", () => new Response(JSON_BYTES.slice()), "GET"],
    ];
    for (const [what, handler, method] of cases) {
      test(`${what}: the body as it is, and no Vary added`, async () => {
        const response = await answer(handler, { "Accept-Encoding": "gzip, br" }, {}, method);
        assertUncompressed(response, JSON_BYTES, what.includes("Content-Encoding") ? "identity" : null);
        assert.equal(response.headers.get("vary"), null);
      });
    }

    test("a response to HEAD: the uncompressed length, no coding, and Vary as a GET would get", async () => {
      const response = await answer(json(), { "Accept-Encoding": "gzip" }, {}, "HEAD");
      assert.equal(response.headers.get("content-encoding"), null);
      assert.equal(response.headers.get("content-length"), String(JSON_BYTES.byteLength));
      assert.equal(response.headers.get("vary"), "Accept-Encoding");
      assert.equal(response.body.byteLength, 0);
    });

    for (const status of [204, 304]) {
      test(`a ${status}`, async () => {
        const handler = () =>
          new Response(null, { status, headers: { "content-type": "application/json", etag: '"e"' } });
        const response = await answer(handler, { "Accept-Encoding": "gzip" });
        assert.equal(response.status, status);
        assert.equal(response.headers.get("content-encoding"), null);
        assert.equal(response.headers.get("vary"), null);
        assert.equal(response.headers.get("etag"), '"e"');
      });
    }

    test("an empty body, and a request without Accept-Encoding or with an empty one", async () => {
      const empty = await answer(() => new Response("", { headers: { "content-type": "text/plain" } }), {
        "Accept-Encoding": "gzip",
      });
      assert.equal(empty.headers.get("content-encoding"), null);
      assert.equal(empty.headers.get("content-length"), "0");
      for (const fields of [{}, { "Accept-Encoding": "" }] as Record<string, string>[]) {
        const response = await answer(json(), fields);
        assertUncompressed(response);
        assert.equal(response.headers.get("vary"), "Accept-Encoding"); // another request could get it compressed
      }
    });
  });

  test("Vary: Accept-Encoding is merged with the handler's Vary; * and a Vary that lists it stay as they are", async () => {
    const vary = async (value: string, accept = "gzip") =>
      (await answer(json({ headers: { vary: value } }), { "Accept-Encoding": accept })).fields
        .filter(([name]) => name.toLowerCase() === "vary").map(([, v]) => v);
    assert.deepEqual(await vary("Origin"), ["Origin, Accept-Encoding"]);
    assert.deepEqual(await vary("Origin", ""), ["Origin, Accept-Encoding"]);
    assert.deepEqual(await vary("*"), ["*"]);
    assert.deepEqual(await vary("origin, accept-encoding"), ["origin, accept-encoding"]);
    assert.deepEqual(await vary("Accept-Encoding"), ["Accept-Encoding"]);
  });

  test("a strong ETag is made weak when the body is compressed; a weak one, or one of a body sent as it is, stays", async () => {
    const etag = async (value: string, accept: string) =>
      (await answer(json({ headers: { etag: value } }), { "Accept-Encoding": accept })).headers.get("etag");
    assert.equal(await etag('"v1"', "gzip"), 'W/"v1"');
    assert.equal(await etag('W/"v1"', "gzip"), 'W/"v1"');
    assert.equal(await etag('"v1"', "deflate"), '"v1"');
  });

  test("the threshold: 1,023 bytes go as they are and 1,024 are compressed by default; the option moves it", async () => {
    const sized = (length: number) => () =>
      new Response("a".repeat(length), { headers: { "content-type": "text/plain" } });
    const encodingOf = async (length: number, options: TestOptions = {}) =>
      (await answer(sized(length), { "Accept-Encoding": "gzip" }, options)).headers.get("content-encoding");
    assert.equal(await encodingOf(1023), null);
    assert.equal(await encodingOf(1024), "gzip");
    assert.equal(await encodingOf(63, { compression: { threshold: 64 } }), null);
    assert.equal(await encodingOf(64, { compression: { threshold: 64 } }), "gzip");
    assert.equal((await answer(sized(1023), { "Accept-Encoding": "gzip" })).headers.get("vary"), null);
  });

  test("compression: false sends every response as the handler gave it, without Vary", async () => {
    const response = await answer(json({ headers: { etag: '"v"' } }), { "Accept-Encoding": "gzip, br" }, {
      compression: false,
    });
    assertUncompressed(response);
    assert.equal(response.headers.get("vary"), null);
    assert.equal(response.headers.get("etag"), '"v"');
  });

  test("encodings and level: only the listed codings are offered, in their order, at their level", async () => {
    const options: TestOptions = { compression: { encodings: ["gzip"], level: { gzip: 1 } } };
    const response = await answer(json(), { "Accept-Encoding": "br, gzip" }, options);
    assert.equal(response.headers.get("content-encoding"), "gzip");
    assert.deepEqual(response.body, new Uint8Array(zlib.gzipSync(JSON_BYTES, { level: 1 })));
    const zstdFirst = await answer(json(), { "Accept-Encoding": "br, zstd" }, {
      compression: { encodings: ["zstd", "br"] },
    });
    assert.equal(zstdFirst.headers.get("content-encoding"), "zstd");
    const none = await answer(json(), { "Accept-Encoding": "br" }, options);
    assertUncompressed(none);
  });

  test("the options are checked when the server starts", () => {
    const bad: unknown[] = [
      { threshold: -1 },
      { threshold: 1.5 },
      { threshold: "64" },
      { level: { gzip: 0 } },
      { level: { gzip: 10 } },
      { level: { br: 12 } },
      { level: { zstd: 20 } },
      { level: { deflate: 1 } },
      { encodings: [] },
      { encodings: ["deflate"] },
      { encodings: ["gzip", "gzip"] },
      { encodings: "gzip" },
      { thresold: 10 },
      "yes",
    ];
    for (const compression of bad) {
      assert.throws(
        () =>
          serve({ port: 0, hostname: "127.0.0.1", compression: compression as never }, () => new Response()),
        RangeError,
        JSON.stringify(compression),
      );
    }
  });

  test("a stream is compressed as a stream, and the compressor waits for a socket that takes nothing", async () => {
    // Text that compresses little (hex of random bytes), so that the output fills the
    // server's batch and the socket within a few chunks.
    const noiseText = () =>
      encoder.encode(Buffer.from(crypto.getRandomValues(new Uint8Array(15_000))).toString("hex"));
    const chunk = noiseText(); // about 30 kB, each one different: compressed to about half
    let pulls = 0;
    const handler = () =>
      new Response(
        new ReadableStream({
          async pull(controller) {
            await Promise.resolve(); // not all there at once: streamed
            if (++pulls > 200) return controller.close();
            controller.enqueue(pulls === 1 ? chunk : noiseText());
          },
        }, { highWaterMark: 0 }),
        { headers: { "content-type": "text/plain" } },
      );
    const connection = await connect(handler);
    connection.socket.accepting = false; // the peer reads nothing
    connection.write("GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
    await connection.advance(0);
    // What is there at once is read ahead (up to 1 MiB, to send a short stream whole), then compressed;
    // once the socket refuses the output, no more is read, however long the client takes.
    const whileBlocked = pulls;
    assert.ok(
      whileBlocked * chunk.byteLength <= 1024 * 1024 + 2 * chunk.byteLength,
      `read ${whileBlocked} chunks`,
    );
    await connection.advance(5_000);
    assert.equal(pulls, whileBlocked, "no chunk is read while the socket takes nothing");
    connection.socket.drain();
    const response = await connection.read();
    assert.equal(pulls, 201);
    assert.equal(response.framing, "chunked");
    assert.equal(response.headers.get("content-encoding"), "gzip");
    const body = zlib.gunzipSync(response.body);
    assert.equal(body.byteLength, chunk.byteLength * 200);
    assert.deepEqual(new Uint8Array(body.subarray(0, chunk.byteLength)), chunk);
    await connection.close();
  });
});

describe("compression on real sockets", () => {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map(({ server }) => server.shutdown()));
  });
  async function start(handler: ServeHandler): Promise<TestServer> {
    const started = await startServer(handler);
    servers.push(started);
    return started;
  }

  for (const coding of AVAILABLE_CODINGS) {
    test(`${coding}: each chunk of a stream arrives, decompressible, before the handler makes the next`, async () => {
      const events = ["data: one\n\n", "data: two\n\n", "data: three\n\n"];
      const gates = events.map(() => deferred());
      let made = 0;
      const { port } = await start(() =>
        new Response(
          new ReadableStream({
            async pull(controller) {
              if (made > 0) await gates[made - 1].promise;
              if (made === events.length) return controller.close();
              controller.enqueue(encoder.encode(events[made++]));
            },
          }),
          { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
        )
      );
      const client = await RawClient.connect(port);
      await client.write(
        `GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: ${coding}\r\nConnection: close\r\n\r\n`,
      );
      for (let i = 0; i < events.length; i++) {
        const expected = events.slice(0, i + 1).join("");
        await client.until(() => decompressedSoFar(client.received, coding) === expected, `event ${i}`);
        assert.equal(made, i + 1, "the handler has not made the next event yet");
        gates[i].resolve();
      }
      const response = await client.response();
      assert.equal(response.header("content-encoding"), coding);
      assert.equal(response.header("vary"), "Accept-Encoding");
      assert.equal(new TextDecoder().decode(DECOMPRESS[coding](response.body)), events.join(""));
      client.destroy();
    });
  }

  test("curl --compressed gets the body decompressed, and the response says which coding", async () => {
    const { origin } = await start(json());
    const result = await runProgram("/usr/bin/curl", ["-sS", "--compressed", "-D", "-", `${origin}/`]);
    assert.equal(result.code, 0, result.stderr);
    const split = result.stdout.indexOf("\r\n\r\n");
    const head = result.stdout.slice(0, split).toLowerCase();
    assert.match(head, /\r\ncontent-encoding: (br|zstd|gzip)\r\n/);
    assert.match(head, /\r\nvary: accept-encoding(\r\n|$)/);
    assert.equal(result.stdout.slice(split + 4), JSON_TEXT);
  });

  test("the runtime's fetch gets a compressed response and reads it decompressed", async () => {
    let acceptEncoding: string | null = null;
    const { origin } = await start((request) => {
      acceptEncoding = request.headers.get("accept-encoding");
      return json()();
    });
    const response = await fetch(`${origin}/`);
    assert.equal(await response.text(), JSON_TEXT);
    assert.ok(acceptEncoding !== null, "fetch sends an Accept-Encoding");
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
    // Whichever coding was chosen for this fetch's Accept-Encoding, it was one it named.
    const raw = await fetch(`${origin}/`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(raw.headers.get("content-encoding"), "gzip");
    assert.equal(await raw.text(), JSON_TEXT);
  });
});

/** The body so far of a chunked response, its complete chunks decompressed up to the last flush. */
function decompressedSoFar(data: Uint8Array, coding: ContentCoding): string {
  const text = Buffer.from(data).toString("latin1");
  let at = text.indexOf("\r\n\r\n");
  if (at === -1) return "";
  at += 4;
  const parts: Uint8Array[] = [];
  while (true) {
    const lineEnd = text.indexOf("\r\n", at);
    if (lineEnd === -1) break;
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0) || lineEnd + 2 + size + 2 > data.byteLength) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  if (parts.length === 0) return "";
  return new TextDecoder().decode(DECOMPRESS_SO_FAR[coding](Buffer.concat(parts)));
}
