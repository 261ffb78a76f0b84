/**
 * The WebSocket load client of `deno task bench`, run on Node (pinned to its own core):
 * `node scripts/bench_ws_client.ts <port> <connections> <bytes> <inflight> <seconds>`. Each
 * connection makes the handshake, then keeps `inflight` binary messages of `bytes` bytes in flight:
 * every complete echo sends the next. It prints one JSON line: the messages echoed, the seconds,
 * and the client's own CPU share (near 1 means the client, not the server, was the limit).
 *
 * Every message is the same precomputed masked frame, and an echo is counted by bytes (each echo
 * frame has the same length), so the client spends almost nothing per message.
 *
 * @module
 */

import { connect } from "node:net";
import process from "node:process";

const [port, connections, size, inflight, seconds] = process.argv.slice(2).map(Number);
const HANDSHAKE = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

function maskedFrame(length: number): Buffer {
  const header = length < 126
    ? [0x82, 0x80 | length]
    : length < 65536
    ? [0x82, 0x80 | 126, length >> 8, length & 0xff]
    : [
      0x82,
      0x80 | 127,
      0,
      0,
      0,
      0,
      length >>> 24,
      (length >> 16) & 0xff,
      (length >> 8) & 0xff,
      length & 0xff,
    ];
  const mask = [0x11, 0x22, 0x33, 0x44];
  const frame = Buffer.alloc(header.length + 4 + length);
  frame.set([...header, ...mask]);
  for (let i = 0; i < length; i++) frame[header.length + 4 + i] = (i & 0xff) ^ mask[i & 3];
  return frame;
}

const frame = maskedFrame(size);
const echoLength = (size < 126 ? 2 : size < 65536 ? 4 : 10) + size;
let echoed = 0;
let running = true;
const sockets: ReturnType<typeof connect>[] = [];

function start(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(HANDSHAKE));
    socket.setNoDelay(true);
    sockets.push(socket);
    let head = "";
    let upgraded = false;
    let pending = 0;
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      if (!upgraded) {
        head += chunk.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(head.slice(0, 60)));
        upgraded = true;
        pending = head.length - end - 4;
        for (let i = 0; i < inflight; i++) socket.write(frame);
        return resolve();
      }
      pending += chunk.length;
      let done = 0;
      while (pending >= echoLength) {
        pending -= echoLength;
        done++;
      }
      if (!running) return;
      echoed += done;
      for (let i = 0; i < done; i++) socket.write(frame);
    });
  });
}

await Promise.all(Array.from({ length: connections }, start));
const cpu = process.cpuUsage();
const started = performance.now();
const counted = echoed;
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
running = false;
const elapsed = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({
  messages: echoed - counted,
  seconds: elapsed,
  clientCpu: (used.user + used.system) / 1e6 / elapsed,
}));
for (const socket of sockets) socket.destroy();
process.exit(0);
