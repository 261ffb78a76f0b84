/**
 * The limits the server itself enforces: maxConnections, the send timeout for a peer that never
 * reads, and the drain deadline of a shutdown.
 */

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, describe, test } from "node:test";
import { Cleanup, deferred, RawClient, within } from "./_helpers.ts";

const SLACK_MS = 1500;

/** Connects, sends one request, and tells whether it was answered or closed unanswered. */
async function attempt(port: number): Promise<"answered" | "refused"> {
  const client = await RawClient.connect(port);
  try {
    await client.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").catch(() => {});
    await within(client.closed, 5000, "the attempt to end");
    return client.receivedBytes > 0 ? "answered" : "refused";
  } finally {
    client.destroy();
  }
}

describe("serve enforces its server-wide limits", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve closes connections past maxConnections before reading them, and accepts again below it", async () => {
    let accepted = 0;
    const threeAccepted = deferred();
    const srv = await cleanup.server(() => new Response("ok"), {
      limits: { maxConnections: 3 },
      onConnection: () => {
        if (++accepted === 3) threeAccepted.resolve();
      },
    });
    const held = [
      await cleanup.client(srv.port),
      await cleanup.client(srv.port),
      await cleanup.client(srv.port),
    ];
    await within(threeAccepted.promise, 5000, "three connections to be accepted");
    assert.equal(await attempt(srv.port), "refused");
    assert.equal(accepted, 3, "the refused connection never reached onConnection");

    // One held connection finishes; then a new one is served again.
    await held[0].write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const response = await held[0].response();
    assert.equal(response.status, 200);
    await within(held[0].closed, 5000, "the finished connection to close");
    let outcome: "answered" | "refused" = "refused";
    // The server may see the close a moment after the client: each try is awaited, never slept.
    for (let tries = 0; tries < 50 && outcome === "refused"; tries++) outcome = await attempt(srv.port);
    assert.equal(outcome, "answered");
  });

  test("serve closes a connection whose peer reads nothing for sendTimeoutMs", async () => {
    const SEND_MS = 300;
    const cancelled = deferred<number>();
    let produced = 0;
    const srv = await cleanup.server(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            produced += 64 * 1024;
            controller.enqueue(new Uint8Array(64 * 1024));
          },
          cancel() {
            cancelled.resolve(Date.now());
          },
        }),
      ), { limits: { sendTimeoutMs: SEND_MS } });
    const socket = connect({ host: "127.0.0.1", port: srv.port });
    after(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.pause(); // never read
    const sent = Date.now();
    socket.write("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
    const cancelledAt = await within(
      cancelled.promise,
      SEND_MS + 10_000,
      "the response stream to be cancelled",
    );
    assert.ok(
      cancelledAt - sent >= SEND_MS,
      `closed after ${cancelledAt - sent} ms, before the send timeout`,
    );
    assert.ok(cancelledAt - sent < SEND_MS + 8000, `closed only after ${cancelledAt - sent} ms`);
    assert.ok(
      produced < 32 * 1024 * 1024,
      `the server produced ${produced} bytes for a peer that read nothing`,
    );
  });

  test("serve closes what is still open when the shutdown drain deadline passes", async () => {
    const SHUTDOWN_MS = 300;
    const stuck = cleanup.gate();
    const handlerStarted = deferred();
    const srv = await cleanup.server(async () => {
      handlerStarted.resolve();
      await stuck.promise;
      return new Response("too late");
    }, { limits: { shutdownTimeoutMs: SHUTDOWN_MS } });
    const client = await cleanup.client(srv.port);
    await client.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    await within(handlerStarted.promise, 5000, "the handler to start");
    const started = Date.now();
    await within(srv.server.shutdown(), SHUTDOWN_MS + SLACK_MS, "finished after the drain deadline");
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= SHUTDOWN_MS, `finished after ${elapsed} ms, before the drain deadline`);
    await within(client.closed, 5000, "the client to see the close");
    assert.equal(client.receivedBytes, 0, "no response was sent for the request cut off");
  });
});
