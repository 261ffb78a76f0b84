/**
 * HAProxy (Debian's `haproxy`, which the test command's setup installs) in front of h1serve on the
 * runtime under test, sending PROXY protocol version 2 (`send-proxy-v2`): the handler sees the
 * client's own address and port, not HAProxy's. HAProxy runs in the foreground on free ports with a
 * configuration written by the test, and is stopped at the end.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { ServeHandler } from "../../src/server/options.ts";
import { acceptsConnections, Cleanup, freePort, latin1, RawClient, within } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

const whoAmI: ServeHandler = (_request, info) =>
  Response.json({ client: info.clientAddr, peer: info.remoteAddr });

describe(`HAProxy in front of h1serve on ${runtime}`, () => {
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), "h1serve-haproxy-"));
  let haproxy: ChildProcess | null = null;
  after(async () => {
    haproxy?.kill("SIGKILL");
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true });
  });

  test("send-proxy-v2: the handler sees the client's address and port", async () => {
    const { port } = await cleanup.server(whoAmI, { proxyProtocol: true });
    const front = await freePort();
    const config = join(dir, "haproxy.cfg");
    writeFileSync(
      config,
      [
        "global",
        "  log stderr format raw local0 err",
        "defaults",
        "  mode tcp",
        "  log global",
        "  timeout connect 5s",
        "  timeout client 30s",
        "  timeout server 30s",
        "frontend in",
        `  bind 127.0.0.1:${front}`,
        "  default_backend app",
        "backend app",
        `  server h1serve 127.0.0.1:${port} send-proxy-v2`,
        "",
      ].join("\n"),
    );
    let stderr = "";
    haproxy = spawn("haproxy", ["-db", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    haproxy.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    await within(acceptsConnections(front, haproxy, "haproxy"), 10_000, () => `haproxy to listen: ${stderr}`);
    const client = await RawClient.connect(front);
    try {
      await client.write("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      const seen = JSON.parse(latin1((await client.response()).body));
      assert.deepEqual(seen.client, {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: client.socket.localPort,
      });
      assert.notEqual(seen.peer.port, client.socket.localPort, "the peer is HAProxy's own connection");
    } finally {
      client.destroy();
    }
  });
});
