/**
 * What an idle WebSocket keeps on Node, split by where the memory is: `node --expose-gc
 * scripts/idle_heap.ts <h1serve|ws> [sockets]` runs the echo server of `deno task bench`'s
 * `wsidle10k` in this process (h1serve's `upgradeWebSocket`, or `ws` on `node:http`), opens
 * `sockets` WebSockets (5,000 by default) from a child process with the bench's raw handshake, and
 * prints, per socket, after full collections: the live V8 heap, the growth of each V8 space's
 * committed size, and the growth of the resident set. The bench's RSS figure mixes the three; the
 * live heap is what the sockets themselves hold.
 *
 * `H1SERVE_IDLE_WAIT=15` waits that many seconds, collecting every 200 ms, before measuring, so that
 * V8 shrinks its young generation back (its size follows the allocation of the connection storm).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { WebSocketServer } from "ws";
import { serve, upgradeWebSocket } from "../mod.ts";

const [kind = "h1serve", socketsText = "5000"] = process.argv.slice(2);
const sockets = Number(socketsText);
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined || !["h1serve", "ws"].includes(kind) || !(sockets > 0)) {
  console.error("usage: node --expose-gc scripts/idle_heap.ts <h1serve|ws> [sockets]");
  process.exit(2);
}

/** Starts the kind's echo server; its port. */
async function startEchoServer(): Promise<number> {
  if (kind === "h1serve") {
    const server = serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
      const { socket, response } = upgradeWebSocket(request, { idleTimeoutMs: 0, maxMessageBytes: 1 << 20 });
      socket.binaryType = "arraybuffer";
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    });
    await server.ready;
    return (server.addr as { port: number }).port;
  }
  const http = createServer();
  new WebSocketServer({ server: http }).on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return (http.address() as AddressInfo).port;
}

/** Full collections, with the event loop turning between them. */
async function settle(rounds: number, intervalMs: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    collect!();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function snapshot() {
  const spaces = new Map(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]));
  return { live: getHeapStatistics().used_heap_size, spaces, rss: process.memoryUsage().rss };
}

/** Opens the sockets from a child process, one after another; resolves once all are open. */
function openSockets(port: number) {
  const handshake =
    "GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n";
  const client = spawn(process.execPath, [
    "-e",
    `const net = require("node:net"); const open = [];
    (async () => {
      for (let i = 0; i < ${sockets}; i++) {
        await new Promise((resolve) => {
          const socket = net.connect(${port}, "127.0.0.1", () => socket.write("${handshake}"));
          let text = "";
          socket.on("data", (data) => { text += data; if (text.includes("\\r\\n\\r\\n")) resolve(); });
          open.push(socket);
        });
      }
      console.log("open");
    })();
    setInterval(() => {}, 1e6);`,
  ], { stdio: ["ignore", "pipe", "inherit"] });
  const opened = new Promise<void>((resolve) => client.stdout.on("data", () => resolve()));
  return { client, opened };
}

const port = await startEchoServer();
await settle(6, 50);
const before = snapshot();
const { client, opened } = openSockets(port);
await opened;
await settle(Number(process.env.H1SERVE_IDLE_WAIT ?? 0) * 5, 200);
await settle(6, 50);
const after = snapshot();
const perSocket = (bytes: number) => `${(bytes / sockets).toFixed(0)} B`;
console.log(`${kind}: ${sockets} idle WebSockets, per socket`);
console.log(`  live V8 heap      ${perSocket(after.live - before.live)}`);
for (const name of ["new_space", "old_space"]) {
  console.log(
    `  ${name.padEnd(17)} ${perSocket(after.spaces.get(name)! - before.spaces.get(name)!)} committed`,
  );
}
console.log(`  resident set      ${perSocket(after.rss - before.rss)}`);
client.kill("SIGKILL");
process.exit(0);
