/**
 * HAProxy (Debian's `haproxy`, which the test command's setup installs) in front of h1serve on the
 * runtime under test, with the configuration of docs/DEPLOYMENT.md: PROXY protocol version 2
 * (`send-proxy-v2`) from HAProxy's own address, so that the handler sees the client's address and
 * port, not HAProxy's.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ServeHandler } from "../../src/server/options.ts";
import { Cleanup, freePort, latin1, RawClient } from "./_helpers.ts";
import { haproxyConfig, PROXY_SOURCE, ProxyProcess } from "./_proxies.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

const whoAmI: ServeHandler = (_request, info) =>
  Response.json({ client: info.clientAddr, peer: info.remoteAddr });

describe(`HAProxy in front of h1serve on ${runtime}`, () => {
  const cleanup = new Cleanup();
  let haproxy: ProxyProcess | null = null;
  after(async () => {
    await haproxy?.stop();
    await cleanup.run();
  });

  test("send-proxy-v2: the handler sees the client's address and port", async () => {
    const { port } = await cleanup.server(whoAmI, { proxyProtocol: true });
    const front = await freePort();
    haproxy = await ProxyProcess.haproxy(front, haproxyConfig(front, [port]));
    const client = await RawClient.connect(front);
    try {
      await client.write("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      const seen = JSON.parse(latin1((await client.response()).body));
      assert.deepEqual(seen.client, {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: client.socket.localPort,
      });
      assert.equal(seen.peer.hostname, PROXY_SOURCE, "the peer is HAProxy's own connection");
    } finally {
      client.destroy();
    }
  });
});
