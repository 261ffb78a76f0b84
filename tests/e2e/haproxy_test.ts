/**
 * HAProxy (Debian's `haproxy`, which the test command's setup installs) in front of h1serve on the
 * runtime under test, sending PROXY protocol version 2 (`send-proxy-v2`): the handler sees the
 * client's own address and port, not HAProxy's; in front of one CLI instance with `--workers 2`, both
 * workers log the client via HAProxy. HAProxy runs in the foreground on free ports with a configuration
 * written by the test, and is stopped at the end.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServeHandler } from "../../src/server/options.ts";
import { Cleanup, latin1, RawClient, within } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const root = fileURLToPath(new URL("../../", import.meta.url));

/** A port that was free a moment ago (HAProxy binds it itself). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on the port (HAProxy prints nothing when it is up). */
async function listening(port: number, process: ChildProcess): Promise<void> {
  for (;;) {
    if (process.exitCode !== null) throw new Error(`haproxy exited with ${process.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the next attempt to connect
  }
}

const whoAmI: ServeHandler = (_request, info) =>
  Response.json({ client: info.clientAddr, peer: info.remoteAddr });

describe(`HAProxy in front of h1serve on ${runtime}`, () => {
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), "h1serve-haproxy-"));
  const proxies: ChildProcess[] = [];
  after(async () => {
    for (const child of proxies) child.kill("SIGKILL");
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts HAProxy in front of the port, sending PROXY v2; the port it listens on. */
  async function startHaproxy(backend: number): Promise<number> {
    const front = await freePort();
    const config = join(dir, `haproxy-${backend}.cfg`);
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
        `  server h1serve 127.0.0.1:${backend} send-proxy-v2`,
        "",
      ].join("\n"),
    );
    let stderr = "";
    const child = spawn("haproxy", ["-db", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    proxies.push(child);
    child.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    await within(listening(front, child), 10_000, () => `haproxy to listen: ${stderr}`);
    return front;
  }

  test("send-proxy-v2: the handler sees the client's address and port", async () => {
    const { port } = await cleanup.server(whoAmI, { proxyProtocol: true });
    const front = await startHaproxy(port);
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

  test("in front of one instance with --workers 2: both workers log the client via HAProxy", async () => {
    const port = await freePort();
    const deno = ["--allow-net", "--allow-run", "--allow-env"];
    const args = [
      "mod.ts",
      "--workers",
      "2",
      "--port",
      String(port),
      "--hostname",
      "127.0.0.1",
      "--proxy-protocol",
    ];
    const [program, ...rest] = runtime === "deno"
      ? [process.execPath, "run", ...deno, ...args]
      : runtime === "bun"
      ? [process.execPath, "run", ...args]
      : [process.execPath, ...args];
    const cli = spawn(program, rest, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    proxies.push(cli);
    let output = "";
    const changed: (() => void)[] = [];
    const take = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      for (const wake of changed.splice(0)) wake();
    };
    cli.stdout!.on("data", take);
    cli.stderr!.on("data", take);
    const until = (pattern: RegExp, what: string) =>
      within(
        (async () => {
          while (!pattern.test(output)) await new Promise<void>((resolve) => changed.push(resolve));
        })(),
        20_000,
        () => `${what} in:\n${output}`,
      );
    await until(/\(2 workers\)/, "the startup line");
    const front = await startHaproxy(port);
    const clientPorts: number[] = [];
    for (let i = 0; i < 30; i++) {
      const client = await RawClient.connect(front);
      clientPorts.push(client.socket.localPort!);
      await client.write("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
      assert.equal((await client.response()).status, 200);
      client.destroy();
    }
    for (const id of [1, 2]) {
      await until(
        new RegExp(`^\\[worker ${id}\\] 127\\.0\\.0\\.1:\\d+ via 127\\.0\\.0\\.1:\\d+ GET / 200 `, "m"),
        `worker ${id}`,
      );
    }
    const logged = [...output.matchAll(/127\.0\.0\.1:(\d+) via 127\.0\.0\.1:\d+ GET/g)].map((m) =>
      Number(m[1])
    );
    assert.ok(
      logged.every((clientPort) => clientPorts.includes(clientPort)),
      "each line names a client's own port",
    );
    const exited = new Promise((resolve) => cli.once("exit", resolve));
    // By pid: Deno's child_process reports a child sent a signal by kill() as killed, even when it exits 0.
    process.kill(cli.pid!, "SIGTERM");
    assert.equal(await within(exited, 20_000, "the CLI to exit"), 0);
  });
});
