/**
 * Abusive clients: hundreds of slowloris connections, a flood of over-long heads, ten thousand
 * pipelined requests from a client that never reads, clients that vanish mid-exchange or
 * half-close, and connections reset before the server accepts them. In each test the server keeps serving a normal `fetch`, buffers a bounded amount,
 * and its `finished` promise resolves after `shutdown()` (so no connection was left open).
 *
 * Unhandled rejections need no code here: `node --test`, `deno test` and `bun test` each fail the
 * running test (or the file, between tests) on one; this was checked on all three.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import type { ServeHandler, Server } from "../../src/server/options.ts";
import { Cleanup, deferred, latin1, settledValue, within } from "./_helpers.ts";

/** Timers are checked on a tick, so a timeout fires a little late; never this late. */
const SLACK_MS = 1500;
const TEST_TIMEOUT = { timeout: 15_000 };
const RESPONSE_4K = new Uint8Array(4096).fill(0x62);
const RESPONSE_16K = new Uint8Array(16 * 1024).fill(0x62);
/** Connects to the port in argv[1] and resets (SO_LINGER 0) at once, argv[2] times. */
const CONNECT_AND_RESET = `
import socket, struct, sys
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;

const handler: ServeHandler = (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/normal") return new Response("normal");
  // The path is echoed in a header so that a client can check the order of pipelined responses.
  const body = url.pathname.startsWith("/16k/") ? RESPONSE_16K : RESPONSE_4K;
  return new Response(body, { headers: { "x-path": url.pathname } });
};

/** A normal client, served while the abuse goes on. */
async function assertServesFetch(origin: string): Promise<void> {
  const response = await within(fetch(`${origin}/normal`), 5000, "a normal fetch to be answered");
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.ok(text === "normal", `the normal response: ${JSON.stringify(text.slice(0, 60))}`);
}

/** Shuts the server down and checks that it finishes, i.e. that every connection was closed. */
async function stop(server: Server): Promise<void> {
  await within(server.shutdown(), 5000, "shutdown() to finish with every connection closed");
  await within(server.finished, 1000, "server.finished");
}

/** A bare socket that records what it receives and when the server ended it. */
interface Peer {
  readonly socket: Socket;
  /** When the first byte was written. */
  started: number;
  /** When the server ended the connection (FIN, reset or close), or 0. */
  endedAt: number;
  received: string;
  readonly ended: Promise<void>;
}

function openPeer(port: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = deferred();
    const peer: Peer = { socket, started: 0, endedAt: 0, received: "", ended: done.promise };
    const finish = () => {
      if (peer.endedAt === 0) peer.endedAt = Date.now();
      done.resolve();
    };
    socket.on("data", (chunk: Uint8Array) => (peer.received += latin1(chunk)));
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", () => {/* a reset also ends the peer (see "close") */});
    socket.once("connect", () => resolve(peer));
    socket.once("error", reject);
  });
}

/** Counts pipelined responses as they stream in, without keeping them. */
class ResponseCounter {
  count = 0;
  paths: string[] = [];
  statuses = new Set<number>();
  #pending: Uint8Array = new Uint8Array(0);
  #waiters: (() => void)[] = [];

  push(chunk: Uint8Array): void {
    const data = new Uint8Array(this.#pending.byteLength + chunk.byteLength);
    data.set(this.#pending);
    data.set(chunk, this.#pending.byteLength);
    let at = 0;
    while (true) {
      let headEnd = -1;
      for (let i = at; i + 3 < data.byteLength; i++) {
        if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) {
          headEnd = i;
          break;
        }
      }
      if (headEnd === -1) break;
      const head = latin1(data.subarray(at, headEnd));
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!Number.isInteger(length)) throw new Error(`no content-length in ${JSON.stringify(head)}`);
      if (data.byteLength < headEnd + 4 + length) break;
      this.statuses.add(Number(head.slice(9, 12)));
      this.paths.push(/\r\nx-path: *([^\r]*)/i.exec(head)?.[1] ?? "?");
      this.count++;
      at = headEnd + 4 + length;
    }
    this.#pending = data.slice(at);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  async until(n: number): Promise<void> {
    while (this.count < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

describe("serve survives abusive clients", () => {
  const cleanup = new Cleanup();
  const peers: Peer[] = [];

  after(async () => {
    for (const peer of peers) peer.socket.destroy();
    await cleanup.run();
  });

  test(
    "serve answers 500 slowloris connections with 408 within headersTimeoutMs and serves a normal client meanwhile",
    TEST_TIMEOUT,
    async () => {
      const HEADERS_MS = 500;
      const COUNT = 500;
      const srv = await cleanup.server(handler, { limits: { headersTimeoutMs: HEADERS_MS } });
      const slow: Peer[] = [];
      const connectStarted = Date.now();
      for (let i = 0; i < COUNT; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, COUNT - i) }, () => openPeer(srv.port)),
        );
        for (const peer of batch) {
          peers.push(peer);
          slow.push(peer);
          peer.started = Date.now();
          // Half stall after an incomplete head; the other half drip a header value a byte at a time.
          peer.socket.write(
            slow.length % 2 === 0 ? "GET / HTTP/1.1\r\nHost: a\r\n" : "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ",
          );
        }
      }
      const connectMs = Date.now() - connectStarted;
      const drip = setInterval(() => {
        for (let i = 1; i < slow.length; i += 2) if (slow[i].endedAt === 0) slow[i].socket.write("a");
      }, 50);
      let openAtFetch = 0;
      try {
        openAtFetch = slow.filter((peer) => peer.endedAt === 0).length;
        await assertServesFetch(srv.origin);
        assert.ok(
          openAtFetch >= COUNT / 2,
          `most slowloris connections were open during the fetch (${openAtFetch}; connecting took ${connectMs} ms)`,
        );
        await within(
          Promise.all(slow.map((peer) => peer.ended)),
          HEADERS_MS + SLACK_MS + connectMs,
          () =>
            `every slowloris connection to be closed (${
              slow.filter((p) => p.endedAt === 0).length
            } still open)`,
        );
      } finally {
        clearInterval(drip);
      }
      const late = slow.filter((peer) => peer.endedAt - peer.started > HEADERS_MS + SLACK_MS);
      const early = slow.filter((peer) => peer.endedAt - peer.started < HEADERS_MS - 50);
      assert.equal(late.length, 0, `closed late: ${late.map((p) => p.endedAt - p.started).slice(0, 5)} ms`);
      assert.equal(
        early.length,
        0,
        `closed early: ${early.map((p) => p.endedAt - p.started).slice(0, 5)} ms`,
      );
      const lifetimes = slow.map((peer) => peer.endedAt - peer.started);
      console.log(
        `slowloris: ${COUNT} connections opened in ${connectMs} ms, ${openAtFetch} open during the fetch, ` +
          `closed after ${Math.min(...lifetimes)}-${Math.max(...lifetimes)} ms`,
      );
      const not408 = slow.filter((peer) => !peer.received.startsWith("HTTP/1.1 408 Request Timeout\r\n"));
      assert.equal(not408.length, 0, `not a 408: ${JSON.stringify(not408[0]?.received.slice(0, 60))}`);
      await assertServesFetch(srv.origin);
      await stop(srv.server);
    },
  );

  test(
    "serve answers a flood of heads just over maxHeaderBytes with 431 and a close, and serves a normal client",
    TEST_TIMEOUT,
    async () => {
      const MAX = 8192;
      const COUNT = 200;
      const srv = await cleanup.server(handler, { limits: { maxHeaderBytes: MAX } });
      const headOf = (length: number) => {
        const start = "GET /big HTTP/1.1\r\nHost: a\r\nX-Big: ";
        const head = `${start}${"x".repeat(length - start.length - 4)}\r\n\r\n`;
        assert.equal(head.length, length);
        return head;
      };
      const flood = await Promise.all(Array.from({ length: COUNT }, () => openPeer(srv.port)));
      peers.push(...flood);
      // Each head is 1 to 64 bytes over the limit; all are sent at once.
      flood.forEach((peer, i) => peer.socket.write(headOf(MAX + 1 + (i % 64))));
      const normal = assertServesFetch(srv.origin);
      // The limit itself is allowed, on a connection opened during the flood.
      const atLimit = await openPeer(srv.port);
      peers.push(atLimit);
      atLimit.socket.write(headOf(MAX));
      await within(
        Promise.all(flood.map((peer) => peer.ended)),
        10_000,
        "every flooding connection to be closed",
      );
      await normal;
      const not431 = flood.filter((peer) =>
        !peer.received.startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n")
      );
      assert.equal(not431.length, 0, `not a 431: ${JSON.stringify(not431[0]?.received.slice(0, 60))}`);
      for (const peer of flood) assert.match(peer.received, /\r\nconnection: close\r\n/i);
      const countAtLimit = new ResponseCounter();
      atLimit.socket.on("data", (chunk: Uint8Array) => countAtLimit.push(chunk));
      countAtLimit.push(new TextEncoder().encode(atLimit.received));
      await within(countAtLimit.until(1), 5000, "the head at the limit to be answered");
      assert.deepEqual([...countAtLimit.statuses], [200]);
      atLimit.socket.destroy();
      await stop(srv.server);
    },
  );

  test(
    "serve stops reading 10,000 pipelined requests from a client that does not read, then answers them all in order",
    TEST_TIMEOUT,
    async () => {
      const COUNT = 10_000;
      let accepted = 0;
      let clientPort = -1;
      const srv = await cleanup.server(handler, {
        onData: (bytes, remoteAddr) => {
          if (remoteAddr.port === clientPort) accepted += bytes.byteLength;
        },
      });
      const pad = "p".repeat(150);
      const requests = new TextEncoder().encode(
        Array.from({ length: COUNT }, (_, i) => `GET /16k/${i} HTTP/1.1\r\nHost: a\r\nX-Pad: ${pad}\r\n\r\n`)
          .join(""),
      );
      const total = requests.byteLength;
      const peer = await openPeer(srv.port);
      peers.push(peer);
      clientPort = peer.socket.localPort ?? -1;
      // Stop reading: the responses (16 KiB each, 160 MB in all) pile up until the server must wait.
      // What the kernel's socket buffers hold on loopback (several MB) is then a small part of it.
      peer.socket.pause();
      peer.socket.removeAllListeners("data");
      const written = deferred();
      peer.socket.write(requests, () => written.resolve());

      const stalled = await settledValue(() => accepted, 300, 8000);
      assert.ok(stalled > 0, "the server read the first requests");
      assert.ok(
        stalled < total / 4,
        `the server stopped reading: it took ${stalled} of ${total} bytes (client still buffering ${peer.socket.writableLength})`,
      );
      await assertServesFetch(srv.origin);
      assert.ok(accepted < total / 4, `still not reading (${accepted} bytes)`);
      console.log(
        `pipelining: the server read ${stalled} of ${total} bytes, then stopped; ` +
          `${peer.socket.writableLength} bytes still queued in the client`,
      );

      // Now the client reads: every response arrives, in order.
      const counter = new ResponseCounter();
      peer.socket.on("data", (chunk: Uint8Array) => counter.push(chunk));
      peer.socket.resume();
      await within(counter.until(COUNT), 12_000, () => `${COUNT} responses (got ${counter.count})`);
      await within(written.promise, 1000, "the client's write to complete");
      assert.deepEqual([...counter.statuses], [200]);
      const outOfOrder = counter.paths.findIndex((path, i) => path !== `/16k/${i}`);
      assert.equal(outOfOrder, -1, `response ${outOfOrder} is for ${counter.paths[outOfOrder]}`);
      assert.equal(accepted, total);
      peer.socket.destroy();
      await stop(srv.server);
    },
  );

  test(
    "serve goes on accepting after connections that their clients reset before the server accepted them",
    TEST_TIMEOUT,
    async () => {
      const srv = await cleanup.server(handler);
      // spawnSync blocks this thread, where the server runs: the 20 connections are made and reset
      // while they wait in the listener's queue, so each is reset by the time it is accepted.
      const resets = spawnSync("/usr/bin/python3", ["-c", CONNECT_AND_RESET, String(srv.port), "20"]);
      assert.equal(resets.status, 0, `python3: ${resets.stderr}`);
      await assertServesFetch(srv.origin);
      await assertServesFetch(srv.origin);
      await stop(srv.server);
    },
  );

  test(
    "serve cleans up after clients that disconnect mid-request and mid-response",
    TEST_TIMEOUT,
    async () => {
      const bodyFailed = deferred<unknown>();
      const cancelled = deferred();
      let pulled = 0;
      const srv = await cleanup.server(async (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/upload") {
          try {
            await request.arrayBuffer();
          } catch (error) {
            bodyFailed.resolve(error);
            return new Response("failed", { status: 500 });
          }
          return new Response("complete");
        }
        if (path === "/endless") {
          return new Response(
            new ReadableStream<Uint8Array>({
              pull(controller) {
                pulled += 64 * 1024;
                controller.enqueue(new Uint8Array(64 * 1024).fill(0x7a));
              },
              cancel() {
                cancelled.resolve();
              },
            }, { highWaterMark: 0 }),
          );
        }
        const remoteAddr = { transport: "tcp", hostname: "", port: 0 } as const;
        return handler(request, { remoteAddr, clientAddr: remoteAddr });
      });

      // Mid-head, mid-body (length and chunked), and right after a complete head.
      const inputs = [
        "GET / HTTP/1.1\r\nHo",
        "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nabc",
        "POST /other HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      ];
      for (const input of inputs) {
        const peer = await openPeer(srv.port);
        peers.push(peer);
        await new Promise<void>((resolve) => peer.socket.write(input, () => resolve()));
        peer.socket.destroy();
      }
      const error = await within(bodyFailed.promise, 5000, "the upload's body read to fail");
      assert.ok(error instanceof Error, String(error));

      // Mid-response: the client takes 1 MiB of an endless body and goes away.
      const reader = await openPeer(srv.port);
      peers.push(reader);
      const gotSome = deferred();
      reader.socket.on("data", () => {
        if (reader.received.length >= 1024 * 1024) gotSome.resolve();
      });
      reader.socket.write("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
      await within(gotSome.promise, 5000, "1 MiB of the endless response");
      reader.socket.destroy();
      await within(cancelled.promise, 5000, "the response stream to be cancelled");
      const pulledAtCancel = pulled;
      await assertServesFetch(srv.origin);
      assert.equal(pulled, pulledAtCancel, "the stream is not pulled after it was cancelled");
      await stop(srv.server);
    },
  );

  test(
    "serve sends the whole response to a client that half-closed after its request",
    TEST_TIMEOUT,
    async () => {
      const SIZE = 4 * 1024 * 1024;
      const srv = await cleanup.server((request) => {
        if (new URL(request.url).pathname === "/normal") return new Response("normal");
        let sent = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(controller) {
              // A little later each time: the response is still being produced after the FIN.
              await new Promise((resolve) => setTimeout(resolve, 0));
              const size = Math.min(256 * 1024, SIZE - sent);
              controller.enqueue(new Uint8Array(size).fill(0x71));
              sent += size;
              if (sent === SIZE) controller.close();
            },
          }, { highWaterMark: 0 }),
        );
      });
      const peer = await openPeer(srv.port);
      peers.push(peer);
      peer.socket.end("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
      await within(peer.ended, 10_000, "the server to end the connection");
      const headEnd = peer.received.indexOf("\r\n\r\n");
      assert.match(peer.received.slice(0, headEnd), /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(peer.received.slice(0, headEnd), /\r\ntransfer-encoding: chunked/i);
      let body = 0;
      let at = headEnd + 4;
      while (true) {
        const lineEnd = peer.received.indexOf("\r\n", at);
        assert.ok(lineEnd !== -1, `the chunked body is complete (${body} bytes)`);
        const size = parseInt(peer.received.slice(at, lineEnd), 16);
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
        body += size;
      }
      assert.equal(body, SIZE);
      assert.equal(at, peer.received.length, "nothing after the response");
      await assertServesFetch(srv.origin);
      await stop(srv.server);
    },
  );
});
