/**
 * A WebSocket echo server in a process of its own, for the tests that need more sockets than one
 * process may open with its clients (10,000 idle WebSockets): it prints `port N` once it listens,
 * echoes every message, and answers `GET /stats` with the open WebSockets and its resident memory.
 * Run with the runtime under test: `deno run -A`, `bun` or `node`.
 */

import process from "node:process";
import { serve, upgradeWebSocket } from "../../../mod.ts";

let open = 0;
const server = serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
  if (new URL(request.url).pathname === "/stats") {
    return Response.json({ open, rss: process.memoryUsage().rss });
  }
  const { socket, response } = upgradeWebSocket(request, { idleTimeoutMs: 0 });
  socket.onopen = () => open++;
  socket.onmessage = (event) => socket.send(event.data);
  socket.onclose = () => open--;
  return response;
});
const { port } = await server.ready;
console.log(`port ${port}`);
process.stdin.on("data", () => {});
process.stdin.on("end", () => server.shutdown().then(() => process.exit(0)));
