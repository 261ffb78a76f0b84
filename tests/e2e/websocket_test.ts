/**
 * WebSocket end to end, on real sockets: the runtime's own `WebSocket` client, `ws` from npm,
 * Python's `websockets` and `wsproto` as independent peers, and raw bytes for what no client
 * library sends (a refused handshake, frames pipelined behind the upgrade request, an unmasked
 * frame, a compression bomb, a slow close, a peer that leaves mid-message).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { after, describe, test } from "node:test";
import { constants as zlibConstants, deflateRawSync } from "node:zlib";
import WebSocketClient from "ws";
import type { ProtocolErrorInfo, ResponseLogEntry, ServerWebSocket } from "../../mod.ts";
import { upgradeWebSocket } from "../../mod.ts";
import { clientFrame, join, serverFrames } from "../../scripts/properties/websocket.ts";
import { Cleanup, deferred, latin1, type RawClient, settledValue, within } from "./_helpers.ts";

const cleanup = new Cleanup();
after(() => cleanup.run());

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const PYTHON = "/usr/bin/python3";
const PEERS = new URL("./peers/", import.meta.url).pathname;

function handshake(path = "/", extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** An echo server: text back as text, binary back as binary. */
function echo(request: Request, options = {}): Response {
  const { socket, response } = upgradeWebSocket(request, options);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
}

/** Waits until the raw client has received `count` frames after the 101, and returns them. */
async function framesFrom(client: RawClient, count: number) {
  await client.until(
    () => latin1(client.received).includes("\r\n\r\n") && serverFrames(client.received).length >= count,
    `${count} frames`,
  );
  return serverFrames(client.received);
}

const closeCodeOf = (payload: Uint8Array) => (payload[0] << 8) | payload[1];

/** Runs a program and returns its standard output; fails with its standard error. */
function runPeer(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on(
      "close",
      (code) => code === 0 ? resolve(stdout) : reject(new Error(`${command} exited ${code}: ${stderr}`)),
    );
  });
}

describe("WebSocket with the runtime's own client", () => {
  test("echoes text and binary, chooses the subprotocol, completes the close handshake, and logs 101", async () => {
    const log: ResponseLogEntry[] = [];
    const serverClosed = deferred<[number, string, boolean]>();
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request, { protocols: ["chat.v2", "chat.v1"] });
      socket.binaryType = "arraybuffer";
      socket.onmessage = (event) => socket.send(event.data);
      socket.onclose = (event) => serverClosed.resolve([event.code, event.reason, event.wasClean]);
      return response;
    }, { onResponse: (entry) => log.push(entry) });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/room`, ["chat.v1", "chat.v2"]);
    ws.binaryType = "arraybuffer";
    await within(
      new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject))),
      5000,
      "open",
    );
    assert.equal(ws.protocol, "chat.v1");
    const next = () => new Promise<MessageEvent>((resolve) => (ws.onmessage = resolve));
    ws.send("héllo");
    assert.equal((await within(next(), 5000, "text echo")).data, "héllo");
    const big = Uint8Array.from({ length: 200_000 }, (_, i) => i & 0xff);
    ws.send(big);
    assert.deepEqual(new Uint8Array((await within(next(), 5000, "binary echo")).data), big);
    ws.close(1000, "bye");
    const closed = await within(new Promise<CloseEvent>((resolve) => (ws.onclose = resolve)), 5000, "close");
    assert.deepEqual([closed.code, closed.wasClean], [1000, true]);
    assert.deepEqual(await within(serverClosed.promise, 5000, "the server's close event"), [
      1000,
      "bye",
      true,
    ]);
    await within(
      (async () => {
        while (log.length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "the log entry",
    );
    assert.equal(log[0].status, 101);
    assert.equal(log[0].target, "/room");
    assert(log[0].bytes > 200_000, `bytes ${log[0].bytes}`);
  });

  test("a server-initiated close reaches the client with its code and reason", async () => {
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request);
      socket.onopen = () => socket.close(4001, "go away");
      return response;
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const closed = await within(new Promise<CloseEvent>((resolve) => (ws.onclose = resolve)), 5000, "close");
    assert.deepEqual([closed.code, closed.reason, closed.wasClean], [4001, "go away", true]);
  });

  test("server.shutdown() sends 1001 Going Away to every open socket and waits for the handshakes", async () => {
    const started = await cleanup.server((request) => echo(request));
    const clients = await Promise.all([1, 2, 3].map(async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${started.port}/`);
      await within(new Promise((resolve) => (ws.onopen = resolve)), 5000, "open");
      return ws;
    }));
    const closes = clients.map((ws) => new Promise<CloseEvent>((resolve) => (ws.onclose = resolve)));
    await within(started.server.shutdown(), 8000, "the shutdown");
    for (const closed of await Promise.all(closes)) assert.equal(closed.code, 1001);
  });
});

describe("WebSocket with ws from npm", () => {
  test("negotiates permessage-deflate and echoes compressed messages with context takeover", async () => {
    const { port } = await cleanup.server((request) => echo(request, { compression: { threshold: 16 } }));
    const ws = new WebSocketClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
    await within(
      new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject))),
      5000,
      "open",
    );
    assert.match(ws.extensions, /^permessage-deflate/);
    const messages = [
      "a".repeat(5000),
      "b".repeat(5000),
      "the same text twice: the same text twice",
      "short",
    ];
    for (const message of messages) {
      ws.send(message);
      const [data, isBinary] = await within(
        new Promise<[Buffer, boolean]>((resolve) =>
          ws.once("message", (data, isBinary) => resolve([data as Buffer, isBinary]))
        ),
        5000,
        "an echo",
      );
      assert.deepEqual([data.toString(), isBinary], [message, false]);
    }
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.close(1000);
    assert.equal(await within(closed, 5000, "close"), 1000);
  });

  test("refuses a message over maxMessageBytes with 1009", async () => {
    const { port } = await cleanup.server((request) => echo(request, { maxMessageBytes: 1000 }));
    const ws = new WebSocketClient(`ws://127.0.0.1:${port}/`);
    await within(new Promise((resolve) => ws.once("open", resolve)), 5000, "open");
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.send(new Uint8Array(1001));
    assert.equal(await within(closed, 5000, "close"), 1009);
  });
});

describe("WebSocket with Python's websockets and wsproto", () => {
  test("websockets: sizes across the length forms, compression, fragments, ping, close", async () => {
    const { port } = await cleanup.server((request) =>
      echo(request, { protocols: ["p2"], compression: true })
    );
    const seen = JSON.parse(
      await within(
        runPeer(PYTHON, [`${PEERS}websockets_client.py`, `ws://127.0.0.1:${port}/`, "p1", "p2"]),
        20_000,
        "the websockets client",
      ),
    );
    assert.equal(seen.protocol, "p2");
    assert.match(seen.extensions, /^permessage-deflate/);
    assert.equal(seen.echoed, 14);
    assert.equal(seen.fragmented, "fragmented");
    assert.deepEqual([seen.close_code, seen.close_reason], [1000, ""]);
  });

  test("wsproto: a fragmented text with a ping inside, binary, and the close, after which the server closes TCP", async () => {
    const { port } = await cleanup.server((request) => echo(request));
    const seen = JSON.parse(
      await within(
        runPeer(PYTHON, [`${PEERS}wsproto_client.py`, String(port)]),
        20_000,
        "the wsproto client",
      ),
    );
    assert.deepEqual(seen, [
      { type: "accept" },
      { type: "pong", data: Buffer.from("between").toString("hex") },
      { type: "text", data: "one two three", final: true },
      { type: "bytes", data: "000102", final: true },
      { type: "close", code: 1000, reason: "" },
      { type: "eof", clean: true },
    ]);
  });
});

describe("WebSocket on raw bytes", () => {
  test("a wrong version gets 426 with Sec-WebSocket-Version: 13, and a bad key 400", async () => {
    const { port } = await cleanup.server((request) => echo(request));
    const old = await cleanup.client(port);
    await old.write(handshake("/").replace("Version: 13", "Version: 8"));
    const refused = await old.response();
    assert.equal(refused.status, 426);
    assert.equal(refused.headers.find(([name]) => name === "sec-websocket-version")?.[1], "13");
    const bad = await cleanup.client(port);
    await bad.write(handshake("/").replace(KEY, "short"));
    assert.equal((await bad.response()).status, 400);
  });

  test("frames pipelined behind the upgrade request reach the WebSocket, and a request after them is never parsed", async () => {
    let requests = 0;
    const { port } = await cleanup.server((request) => (requests++, echo(request)));
    const client = await cleanup.client(port);
    await client.write(join(
      new TextEncoder().encode(handshake("/")),
      clientFrame(0x1, "first"),
      clientFrame(0x1, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
      new TextEncoder().encode("GET /never HTTP/1.1\r\nHost: a\r\n\r\n"),
    ));
    const frames = await framesFrom(client, 3);
    const head = latin1(client.received);
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, new RegExp(`sec-websocket-accept: ${ACCEPT.replace(/[+/=]/g, "\\$&")}\r\n`, "i"));
    assert.deepEqual(frames.slice(0, 2).map((f) => new TextDecoder().decode(f.payload)), [
      "first",
      "GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
    ]);
    // The HTTP text after the frames is not a frame: it fails the WebSocket (a reserved opcode), with 1002.
    assert.deepEqual([frames[2].opcode, closeCodeOf(frames[2].payload)], [0x8, 1002]);
    assert.equal(requests, 1);
  });

  test("an unmasked frame fails the connection with 1002, reported to onProtocolError with its rule and offset", async () => {
    const errors: ProtocolErrorInfo[] = [];
    const closed = deferred<number>();
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request);
      socket.onclose = (event) => closed.resolve(event.code);
      return response;
    }, { onProtocolError: (info) => errors.push(info) });
    const client = await cleanup.client(port);
    await client.write(join(new TextEncoder().encode(handshake()), clientFrame(0x1, "x", { mask: null })));
    const [close] = await framesFrom(client, 1);
    assert.equal(closeCodeOf(close.payload), 1002);
    await client.untilEnd();
    assert.equal(await closed.promise, 1002);
    assert.deepEqual(
      errors.map((
        e,
      ) => [(e as { code: string }).code, (e as { closeCode?: number }).closeCode, e.rfc, e.offset]),
      [["UNMASKED_FRAME", 1002, "RFC 6455 §5.1", 2]],
    );
  });

  test("ping gets a pong with its payload, and an unsolicited pong gets nothing", async () => {
    const { port } = await cleanup.server((request) => echo(request));
    const client = await cleanup.client(port);
    await client.write(
      join(
        new TextEncoder().encode(handshake()),
        clientFrame(0xa, "x"),
        clientFrame(0x9, "ping!"),
        clientFrame(0x1, "after"),
      ),
    );
    const frames = await framesFrom(client, 2);
    assert.deepEqual(frames.map((f) => [f.opcode, new TextDecoder().decode(f.payload)]), [[0xa, "ping!"], [
      0x1,
      "after",
    ]]);
  });

  test("a compression bomb is refused with 1009 before it inflates past maxMessageBytes", async () => {
    const { port } = await cleanup.server((request) =>
      echo(request, { compression: true, maxMessageBytes: 1 << 16 })
    );
    const client = await cleanup.client(port);
    await client.write(handshake("/", "Sec-WebSocket-Extensions: permessage-deflate\r\n"));
    await client.until(() => client.text.includes("\r\n\r\n"), "the 101");
    assert.match(client.text, /sec-websocket-extensions: permessage-deflate/i);
    const bomb = deflateRawSync(new Uint8Array(256 << 20), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    assert(bomb.length < 300_000, `${bomb.length} compressed bytes for 256 MiB`);
    await client.write(clientFrame(0x2, new Uint8Array(bomb.subarray(0, bomb.length - 4)), { rsv: 0x40 }));
    const [close] = await framesFrom(client, 1);
    assert.equal(closeCodeOf(close.payload), 1009);
    await client.untilEnd();
  });

  test("a peer that never answers the close is dropped after closeTimeoutMs", async () => {
    const closed = deferred<[number, boolean]>();
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request, { closeTimeoutMs: 300 });
      socket.onopen = () => socket.close(1000);
      socket.onclose = (event) => closed.resolve([event.code, event.wasClean]);
      return response;
    });
    const client = await cleanup.client(port);
    await client.write(handshake());
    const [close] = await framesFrom(client, 1);
    assert.equal(closeCodeOf(close.payload), 1000);
    // The client says nothing more: the server gives up on it.
    await within(client.untilEnd(), 5000, "the server to close TCP");
    assert.deepEqual(await closed.promise, [1006, false]);
  });

  test("a peer that leaves in the middle of a message: close 1006 and INCOMPLETE_FRAME", async () => {
    const errors: ProtocolErrorInfo[] = [];
    const closed = deferred<[number, boolean]>();
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request);
      socket.onclose = (event) => closed.resolve([event.code, event.wasClean]);
      return response;
    }, { onProtocolError: (info) => errors.push(info) });
    const client = await cleanup.client(port);
    await client.write(
      join(
        new TextEncoder().encode(handshake()),
        clientFrame(0x1, "a whole message that is cut").subarray(0, 12),
      ),
    );
    await client.until(() => client.text.includes("\r\n\r\n"), "the 101");
    client.end();
    assert.deepEqual(await within(closed.promise, 5000, "the server's close event"), [1006, false]);
    assert.deepEqual(errors.map((e) => (e as { code: string }).code), ["INCOMPLETE_FRAME"]);
  });
});

describe("ServerWebSocket API", () => {
  test("send before open throws InvalidStateError, close checks its code and reason, bufferedAmount counts unsent bytes", async () => {
    const checks = deferred<void>();
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request);
      assert.throws(() => socket.send("early"), { name: "InvalidStateError" });
      assert.throws(() => socket.close(1001), { name: "InvalidAccessError" });
      assert.throws(() => socket.close(1000, "x".repeat(124)), { name: "SyntaxError" });
      socket.onopen = () => {
        try {
          const socketOpen: ServerWebSocket = socket;
          assert.equal(socketOpen.readyState, 1);
          socket.send(new Uint8Array(4 << 20));
          assert.equal(
            socket.bufferedAmount,
            4 << 20,
            "a send is counted until the code that sent it has run",
          );
          checks.resolve();
        } catch (error) {
          checks.reject(error); // an event handler's throw would only be reported, not fail the test
        }
      };
      return response;
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await within(checks.promise, 5000, "the checks");
    await within(new Promise((resolve) => (ws.onmessage = resolve)), 10_000, "the 4 MiB message");
    ws.close();
  });
});

describe("WebSocket abuse", () => {
  test("a client that sends and never reads: the server stops reading, and what it buffers stays bounded", async () => {
    let mostBuffered = 0;
    let received = 0;
    const { port } = await cleanup.server((request) => {
      const { socket, response } = upgradeWebSocket(request, { sendHighWaterMark: 256 * 1024 });
      socket.binaryType = "arraybuffer";
      socket.onmessage = (event) => {
        received++;
        socket.send(event.data);
        mostBuffered = Math.max(mostBuffered, socket.bufferedAmount);
      };
      return response;
    });
    const client = await cleanup.client(port);
    await client.write(handshake());
    await client.until(() => client.text.includes("\r\n\r\n"), "the 101");
    client.socket.pause(); // the client reads nothing more
    const frame = clientFrame(0x2, new Uint8Array(16 * 1024));
    const total = 4096; // 64 MiB
    let written = 0;
    const writeMore = () => {
      while (written < total && client.socket.write(frame)) written++;
    };
    client.socket.on("drain", writeMore);
    writeMore();
    // Once the server stops reading, the client's writes back up and the count stops moving.
    const settled = await settledValue(() => received, 500, 20_000);
    assert(settled < total, `the server read all ${settled} messages of a client that reads nothing`);
    assert(client.socket.writableLength > 0, "the client's writes are backed up");
    assert(
      mostBuffered <= 256 * 1024 + 64 * 1024 + frame.length,
      `the server buffered ${mostBuffered} bytes`,
    );
  });

  test(
    "10,000 idle WebSockets stay open in a server process, each costing a few KiB, and a new one still echoes",
    { timeout: 120_000 },
    async () => {
      const runtime = "Deno" in globalThis
        ? [(globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath(), "run", "-A"]
        : [process.execPath];
      const child = spawn(runtime[0], [...runtime.slice(1), `${PEERS}websocket_server.ts`], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      try {
        const port = await within(
          new Promise<number>((resolve) => {
            let text = "";
            child.stdout.on("data", (chunk) => {
              text += chunk;
              const match = /port (\d+)/.exec(text);
              if (match) resolve(Number(match[1]));
            });
          }),
          20_000,
          "the server process to listen",
        );
        const stats = async () =>
          (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { open: number; rss: number };
        const before = await stats();
        const count = 10_000;
        const sockets: Socket[] = [];
        let upgraded = 0;
        await within(
          new Promise<void>((resolve, reject) => {
            let started = 0;
            const openOne = () => {
              if (started === count) return;
              started++;
              const socket = connect({ host: "127.0.0.1", port }, () => socket.write(handshake()));
              sockets.push(socket);
              let head = "";
              socket.on("error", reject);
              socket.on("data", (chunk: Buffer) => {
                if (head.includes("\r\n\r\n")) return;
                head += chunk.toString("latin1");
                if (!head.includes("\r\n\r\n")) return;
                if (!head.startsWith("HTTP/1.1 101 ")) {
                  reject(new Error(`not upgraded: ${head.slice(0, 40)}`));
                }
                if (++upgraded === count) resolve();
                openOne();
              });
            };
            for (let i = 0; i < 200; i++) openOne(); // 200 handshakes in flight at a time
          }),
          100_000,
          () => `${count} upgrades (${upgraded} so far)`,
        );
        const after = await stats();
        assert.equal(after.open, count);
        const perSocket = (after.rss - before.rss) / count / 1024;
        console.log(`10,000 idle WebSockets: ${perSocket.toFixed(1)} KiB of RSS each`);
        assert(perSocket < 64, `${perSocket.toFixed(1)} KiB per idle WebSocket`);
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        await within(new Promise((resolve) => (ws.onopen = resolve)), 10_000, "one more socket to open");
        ws.send("still here");
        assert.equal(
          (await within(new Promise<MessageEvent>((resolve) => (ws.onmessage = resolve)), 10_000, "the echo"))
            .data,
          "still here",
        );
        ws.close();
        for (const socket of sockets) socket.destroy();
      } finally {
        child.stdin.end();
        await within(
          new Promise((resolve) => child.once("exit", resolve)),
          20_000,
          "the server process to exit",
        ).catch(() => child.kill("SIGKILL"));
      }
    },
  );
});
