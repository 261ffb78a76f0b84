/**
 * The WebSocket glue on a memory transport and a fake clock: idle pings and a dead peer, the
 * close timeout, the send timeout, a shutdown's 1001 and its drain deadline, `bufferedAmount`
 * while the system has not taken the bytes, and the stream interface's flow control both ways.
 * No test waits for real time.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { upgradeWebSocket, upgradeWebSocketStream } from "../../mod.ts";
import type { ServerWebSocket } from "../../src/websocket/socket.ts";
import type { WebSocketStreamOpened } from "../../src/websocket/stream.ts";
import { clientFrame, join, serverFrames } from "../../scripts/properties/websocket.ts";
import { memoryServer, type MemorySocket } from "../server/_memory.ts";

const HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** The frames the server wrote after its 101 head. */
const framesWritten = (socket: MemorySocket) => serverFrames(join(...socket.writtenBytes));

/** Lets queued microtasks run (the socket opens in one). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A server whose handler upgrades with `options`, and one connected, upgraded socket. */
async function upgraded(options = {}, serverOptions = {}) {
  let serverSocket: ServerWebSocket | null = null;
  const closes: [number, boolean][] = [];
  const { server, transport, clock } = await memoryServer((request) => {
    const { socket, response } = upgradeWebSocket(request, options);
    socket.onclose = (event) => closes.push([event.code, event.wasClean]);
    serverSocket = socket;
    return response;
  }, serverOptions);
  const socket = transport.connect();
  socket.receive(HANDSHAKE);
  await settle();
  assert.match(socket.written, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  return { server, socket, clock, ws: serverSocket! as ServerWebSocket, closes };
}

describe("WebSocket timeouts on a fake clock", () => {
  test("pings after idleTimeoutMs with nothing received, and drops the peer when another passes", async () => {
    const { socket, clock, closes } = await upgraded({ idleTimeoutMs: 5000 });
    clock.advance(4999);
    assert.deepEqual(framesWritten(socket), []);
    clock.advance(1);
    assert.deepEqual(framesWritten(socket).map((f) => f.opcode), [0x9]);
    clock.advance(4999);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.equal(socket.ended, true, "the dead peer's socket is ended");
    assert.deepEqual(closes, [[1006, false]]);
  });

  test("a pong, or anything else received, keeps the peer alive", async () => {
    const { socket, clock, closes } = await upgraded({ idleTimeoutMs: 5000 });
    clock.advance(5000);
    socket.receiveBytes(clientFrame(0xa, ""));
    clock.advance(4999);
    assert.equal(framesWritten(socket).length, 1);
    clock.advance(1);
    assert.deepEqual(framesWritten(socket).map((f) => f.opcode), [0x9, 0x9]);
    assert.deepEqual(closes, []);
  });

  test("gives up on the close handshake after closeTimeoutMs", async () => {
    const { socket, clock, ws, closes } = await upgraded({ closeTimeoutMs: 3000, idleTimeoutMs: 0 });
    ws.close(1000, "done");
    await settle();
    assert.deepEqual(framesWritten(socket).map((f) => f.opcode), [0x8]);
    assert.equal(ws.readyState, 2);
    clock.advance(2999);
    assert.equal(socket.ended, false);
    clock.advance(1);
    assert.equal(socket.ended, true);
    assert.deepEqual(closes, [[1006, false]]);
  });

  test("drops a peer that reads nothing for sendTimeoutMs", async () => {
    const { socket, clock, ws } = await upgraded({ idleTimeoutMs: 0 }, { limits: { sendTimeoutMs: 10_000 } });
    socket.accepting = false;
    ws.send(new Uint8Array(100));
    clock.advance(9999);
    assert.equal(socket.closed, false);
    clock.advance(1);
    assert.equal(socket.closed, true);
  });

  test("a shutdown sends 1001 Going Away, and destroys a socket that never answers at the drain deadline", async () => {
    const { server, socket, clock, closes } = await upgraded({ idleTimeoutMs: 0, closeTimeoutMs: 60_000 }, {
      limits: { shutdownTimeoutMs: 2000 },
    });
    const done = server.shutdown();
    const [close] = framesWritten(socket);
    assert.deepEqual([close.opcode, (close.payload[0] << 8) | close.payload[1]], [0x8, 1001]);
    clock.advance(1999);
    assert.equal(socket.closed, false);
    clock.advance(1);
    assert.equal(socket.closed, true);
    await done;
    assert.deepEqual(closes, [[1006, false]]);
  });
});

describe("WebSocket send accounting", () => {
  test("bufferedAmount counts a message until the system takes it, then drops to 0", async () => {
    const { socket, ws } = await upgraded({ idleTimeoutMs: 0 });
    socket.heldSent = [];
    ws.send(new Uint8Array(1000));
    ws.send("héllo");
    assert.equal(ws.bufferedAmount, 1006);
    const held = socket.heldSent.splice(0);
    socket.heldSent = null;
    held[0]();
    assert.equal(ws.bufferedAmount, 6);
    held[1]();
    assert.equal(ws.bufferedAmount, 0);
  });
});

describe("WebSocket echoes in order", () => {
  test("a large message sent from pooled memory goes out between the small ones around it, intact", async () => {
    const { socket, ws } = await upgraded({ idleTimeoutMs: 0 });
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event) => ws.send(event.data);
    const large = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);
    socket.receiveBytes(join(clientFrame(0x1, "a"), clientFrame(0x2, large), clientFrame(0x1, "b")));
    const frames = framesWritten(socket);
    assert.deepEqual(frames.map((f) => f.opcode), [0x1, 0x2, 0x1]);
    assert.deepEqual(frames[1].payload, large);
    assert.deepEqual([frames[0].payload, frames[2].payload].map((p) => new TextDecoder().decode(p)), [
      "a",
      "b",
    ]);
    // The socket took every byte inside write(); they stay counted until the sending code has run.
    assert.equal(ws.bufferedAmount, 10_002);
    await Promise.resolve();
    assert.equal(ws.bufferedAmount, 0);
  });
});

describe("WebSocket stream flow control", () => {
  async function streamed(options = {}) {
    let opened: Promise<WebSocketStreamOpened> | null = null;
    const { transport, clock } = await memoryServer((request) => {
      const { stream, response } = upgradeWebSocketStream(request, options);
      opened = stream.opened;
      return response;
    });
    const socket = transport.connect();
    socket.receive(HANDSHAKE);
    await settle();
    return { socket, clock, parts: await opened! };
  }

  test("stops reading from the socket when the reader is receiveHighWaterMark messages behind, and reads on when it catches up", async () => {
    const { socket, parts } = await streamed({ receiveHighWaterMark: 2 });
    socket.receiveBytes(clientFrame(0x1, "1"));
    assert.equal(socket.paused, false);
    socket.receiveBytes(clientFrame(0x1, "2"));
    assert.equal(socket.paused, true, "two unread messages: reading pauses");
    // Bytes the runtime had already read still arrive; they wait in the session.
    socket.receiveBytes(join(clientFrame(0x1, "3"), clientFrame(0x2, new Uint8Array([4]))));
    const reader = parts.readable.getReader();
    const got: unknown[] = [];
    for (let i = 0; i < 4; i++) got.push((await reader.read()).value);
    assert.deepEqual(got, ["1", "2", "3", new Uint8Array([4])]);
    await settle();
    assert.equal(socket.paused, false);
  });

  test("a write resolves only when bufferedAmount is at the send high-water mark or below", async () => {
    const { socket, parts } = await streamed({ sendHighWaterMark: 1000 });
    socket.heldSent = [];
    const writer = parts.writable.getWriter();
    await writer.write(new Uint8Array(600)); // 600 buffered: under the mark
    let second = false;
    const pending = writer.write(new Uint8Array(600)).then(() => (second = true)); // 1200: over it
    await settle();
    assert.equal(second, false);
    for (const sent of socket.heldSent.splice(0)) sent();
    await pending;
    assert.equal(second, true);
    assert.deepEqual(framesWritten(socket).map((f) => f.payload.length), [600, 600]);
  });
});
