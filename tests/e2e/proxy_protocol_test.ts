/**
 * `serve({ proxyProtocol: true })` on the runtime under test, fed by raw sockets and by curl's
 * `--haproxy-protocol`: the client a version 1 or 2 header names is `info.clientAddr` (and the
 * response log's), for every request on the connection; a proxy's LOCAL check is its own client;
 * the bytes after the header are the first request, split anywhere; a connection without a valid
 * header, or whose header trickles in, is closed with no answer and reported with a `PROXY_` code.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ProtocolErrorInfo, ResponseLogEntry, ServeHandler } from "../../src/server/options.ts";
import { Cleanup, deferred, latin1, runProgram, within } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** Answers with the client and the peer as the handler saw them. */
const whoAmI: ServeHandler = (_request, info) =>
  Response.json({ client: info.clientAddr, peer: info.remoteAddr });

const REQUEST = "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n";

describe(`PROXY protocol on ${runtime}`, () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("a version 1 header names the client of every request on the connection", async () => {
    const logged: ResponseLogEntry[] = [];
    const { port } = await cleanup.server(whoAmI, {
      proxyProtocol: true,
      onResponse: (entry) => logged.push(entry),
    });
    const client = await cleanup.client(port);
    await client.write(`PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n${REQUEST}${REQUEST}`);
    const responses = await client.responses(2);
    for (const response of responses) {
      const seen = JSON.parse(latin1(response.body));
      assert.deepEqual(seen.client, { transport: "tcp", hostname: "203.0.113.7", port: 5555 });
      assert.equal(seen.peer.hostname, "127.0.0.1");
      assert.notEqual(seen.peer.port, 5555);
    }
    assert.equal(logged.length, 2);
    assert.deepEqual(logged[0].clientAddr, { transport: "tcp", hostname: "203.0.113.7", port: 5555 });
  });

  test("a version 2 header over IPv6 arrives in pieces with the request", async () => {
    const { port } = await cleanup.server(whoAmI, { proxyProtocol: true });
    const addresses = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x07, ...new Array(15).fill(0), 1];
    const body = [...addresses, 0x15, 0xb3, 0x01, 0xbb, 0x04, 0x00, 0x01, 0x2a]; // and one TLV
    const header = new Uint8Array([...SIGNATURE, 0x21, 0x21, 0, body.length, ...body]);
    const request = new TextEncoder().encode(REQUEST);
    const client = await cleanup.client(port);
    await client.writePieces([
      header.subarray(0, 10),
      new Uint8Array([...header.subarray(10), ...request.subarray(0, 5)]),
      request.subarray(5),
    ]);
    const seen = JSON.parse(latin1((await client.response()).body));
    assert.deepEqual(seen.client, { transport: "tcp", hostname: "2001:db8::7", port: 5555 });
  });

  test("a proxy's LOCAL health check is its own client", async () => {
    const { port } = await cleanup.server(whoAmI, { proxyProtocol: true });
    const client = await cleanup.client(port);
    await client.write(
      new Uint8Array([...SIGNATURE, 0x20, 0x00, 0, 0, ...new TextEncoder().encode(REQUEST)]),
    );
    const seen = JSON.parse(latin1((await client.response()).body));
    assert.deepEqual(seen.client, seen.peer);
  });

  test("curl --haproxy-protocol gets through", async () => {
    const { port } = await cleanup.server(whoAmI, { proxyProtocol: true });
    const { code, stdout } = await runProgram("curl", [
      "-sS",
      "--haproxy-protocol",
      `http://127.0.0.1:${port}/`,
    ]);
    assert.equal(code, 0);
    const seen = JSON.parse(stdout);
    // curl names its own connection's addresses: the client is the peer, as the proxy saw it.
    assert.deepEqual(seen.client, seen.peer);
  });

  test("no header, a bad one, or one that trickles in: closed with no answer, and reported", async () => {
    const errors: ProtocolErrorInfo[] = [];
    let read = deferred();
    const { port } = await cleanup.server(whoAmI, {
      proxyProtocol: true,
      onProtocolError: (info) => errors.push(info),
      onData: () => read.resolve(),
    });
    const cases: [string[], string, number][] = [
      [[REQUEST], "PROXY_MISSING", 0],
      [["PROXY TCP4 203.0.113.7 10.0.0.1 5555 99999\r\n" + REQUEST], "PROXY_V1_MALFORMED", 37],
      [[..."PROXY TCP4 203.0.113.7"], "PROXY_FRAGMENTED", 4],
    ];
    for (const [pieces, code, offset] of cases) {
      const client = await cleanup.client(port);
      client.socket.setNoDelay(true);
      // Each piece in a read of its own: the next is written once the server has read this one.
      for (const piece of pieces) {
        if (client.ended) break;
        read = deferred();
        // A write may fail once the server has closed: what matters is what it answered, and why.
        await client.write(piece).catch(() => {});
        await within(Promise.race([read.promise, client.closed]), 10_000, "the server to read the piece");
      }
      assert.equal((await client.untilEnd()).length, 0, `${code}: nothing is answered`);
      const error = errors.at(-1);
      assert.deepEqual([error?.code, error?.status, error?.offset], [code, 0, offset]);
      assert.equal((error?.remoteAddr as { hostname: string }).hostname, "127.0.0.1");
    }
  });
});
