/**
 * One WebSocket benchmark server, started by `scripts/bench.ts` on the runtime under test:
 * `<runtime> scripts/bench_ws_server.ts <kind> <port>`, where kind is `h1serve` (its
 * `upgradeWebSocket`, with `binaryType = "arraybuffer"`: each binary message is copied into its own
 * `ArrayBuffer`, as the WHATWG interface requires), `h1serve-stream` (its `upgradeWebSocketStream`,
 * whose messages are views, as Bun's own are) or `native`: `Deno.upgradeWebSocket` on `Deno.serve`, `Bun.serve`'s
 * `websocket`, or `ws` on `node:http` with its default settings. Each echoes every message as it
 * came (binary stays binary), and prints `ready` once it listens.
 *
 * @module
 */

import { createServer } from "node:http";
import process from "node:process";
import { WebSocketServer } from "ws";
import { serve, upgradeWebSocket, upgradeWebSocketStream } from "../mod.ts";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(): void },
    handler: (r: Request) => Response,
  ): void;
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
};
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: { upgrade(request: Request): boolean }): Response | undefined;
    websocket: { message(ws: { send(data: string | Uint8Array): void }, message: string | Uint8Array): void };
  }): void;
};

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
const hostname = "127.0.0.1";
const ready = () => console.log("ready");

if (kind === "h1serve") {
  const server = serve({ port, hostname, onListen() {} }, (request) => {
    const { socket, response } = upgradeWebSocket(request, { idleTimeoutMs: 0, maxMessageBytes: 1 << 20 });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
  server.ready.then(ready);
} else if (kind === "h1serve-stream") {
  const server = serve({ port, hostname, onListen() {} }, (request) => {
    const { stream, response } = upgradeWebSocketStream(request, {
      idleTimeoutMs: 0,
      maxMessageBytes: 1 << 20,
    });
    stream.opened.then(async ({ readable, writable }) => {
      const writer = writable.getWriter();
      for await (const message of readable) writer.write(message).catch(() => {});
    }).catch(() => {});
    return response;
  });
  server.ready.then(ready);
} else if ("Deno" in globalThis) {
  Deno.serve({ port, hostname, onListen: ready }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
} else if ("Bun" in globalThis) {
  Bun.serve({
    port,
    hostname,
    fetch: (request, server) => (server.upgrade(request) ? undefined : new Response("not a WebSocket")),
    websocket: { message: (ws, message) => ws.send(message) },
  });
  ready();
} else {
  const server = createServer((_request, response) => response.end("not a WebSocket"));
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(port, hostname, ready);
}
