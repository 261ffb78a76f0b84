/**
 * One WebSocket benchmark server, started by `scripts/bench.ts` on the runtime under test:
 * `<runtime> scripts/bench_ws_server.ts <kind> <port>`, where kind is `h1serve` (its
 * `upgradeWebSocket`, with `binaryType = "arraybuffer"`: each binary message is copied into its own
 * `ArrayBuffer`, as the WHATWG interface requires), `h1serve-stream` (its `upgradeWebSocketStream`,
 * whose messages are views, as Bun's own are) or `native`: `Deno.upgradeWebSocket` on `Deno.serve`, `Bun.serve`'s
 * `websocket`, or `ws` on `node:http` with its default settings. On Bun, `native-arraybuffer` is
 * `Bun.serve` with `binaryType = "arraybuffer"`: a message of its own per event, as h1serve's socket
 * interface gives. Each echoes every message as it
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
    websocket: {
      open?(ws: { binaryType: string }): void;
      message(
        ws: { send(data: string | Uint8Array | ArrayBuffer): void },
        message: string | Uint8Array,
      ): void;
    };
  }): void;
};

const [kind, portText] = process.argv.slice(2);
// `H1SERVE_FORCE_GC=1` (the bench's collected idle run): a full collection every 200 ms, so that
// the memory measured is what the sockets keep, not garbage not yet collected.
if (process.env.H1SERVE_FORCE_GC === "1") {
  const collect = "Bun" in globalThis
    ? () => (globalThis as unknown as { Bun: { gc(full: boolean): void } }).Bun.gc(true)
    : (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("H1SERVE_FORCE_GC needs gc() (--expose-gc)");
  setInterval(collect, 200);
}
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
    websocket: {
      // `native-arraybuffer`: each binary message in an ArrayBuffer of its own, as h1serve's socket
      // interface (and the WHATWG one) gives it; `native`: Bun's default, a Buffer.
      open(ws) {
        if (kind === "native-arraybuffer") ws.binaryType = "arraybuffer";
      },
      message: (ws, message) => ws.send(message),
    },
  });
  ready();
} else {
  const server = createServer((_request, response) => response.end("not a WebSocket"));
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(port, hostname, ready);
}
