/**
 * Graceful shutdown (`shutdown()` and `signal`), and listening errors such as a port in use.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { serve } from "../../src/server/serve.ts";
import { ListenError } from "../../src/transport/transport.ts";
import { Cleanup, deferred, RawClient, within } from "./_helpers.ts";

/** Resolves with `true` if the promise settles first, `false` if it is still pending after the other work. */
function tracked(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}

async function assertRefused(port: number): Promise<void> {
  await assert.rejects(RawClient.connect(port), (error: Error & { code?: string }) => {
    assert.equal(error.code, "ECONNREFUSED", String(error));
    return true;
  });
}

describe("serve shuts down", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve shutdown finishes the request in flight, closes idle connections and refuses new ones", async () => {
    const entered = deferred();
    const gate = cleanup.gate();
    const { server, port } = await cleanup.server(async (request) => {
      if (new URL(request.url).pathname === "/slow") {
        entered.resolve();
        await gate.promise;
        return new Response("slow response, complete");
      }
      return new Response("quick");
    });
    const idle = await cleanup.client(port);
    await idle.write("GET /quick HTTP/1.1\r\nHost: a\r\n\r\n");
    await idle.response();
    const busy = await cleanup.client(port);
    await busy.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    await entered.promise;

    const finished = server.shutdown();
    const state = tracked(finished);
    await within(idle.untilEnd(), 5000, "the idle connection to close");
    assert.equal(idle.text.match(/HTTP\/1\.1 /g)?.length, 1, "nothing more on the idle connection");
    await assertRefused(port);
    assert.equal(busy.receivedBytes, 0);
    assert.equal(state.settled, false, "finished waits for the request in flight");

    gate.resolve();
    await within(busy.untilEnd(), 5000, "the busy connection to close");
    const response = await busy.response();
    assert.equal(response.status, 200);
    assert.equal(response.text(), "slow response, complete");
    assert.equal(response.header("connection"), "close");
    await within(finished, 5000, "finished");
    await within(server.finished, 5000, "server.finished");
    assert.equal(server.shutdown(), server.finished, "shutdown again returns the same promise");
  });

  test("a connection accepted just before a shutdown has its first request answered, with Connection: close", async () => {
    const accepted = deferred();
    const { server, port } = await cleanup.server(() => new Response("made it"), {
      onConnection: () => accepted.resolve(),
    });
    const fresh = await cleanup.client(port);
    await accepted.promise;
    const finished = server.shutdown();
    // The request was on its way when the shutdown began: it is answered, not dropped.
    await fresh.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await fresh.response();
    assert.equal(response.status, 200);
    assert.equal(response.text(), "made it");
    assert.equal(response.header("connection"), "close");
    await within(fresh.untilEnd(), 5000, "the connection to close");
    await within(finished, 5000, "finished");
  });

  test("a connection that sends nothing is closed at the next tick of a shutdown", async () => {
    const accepted = deferred();
    const { server, port } = await cleanup.server(() => new Response(), {
      onConnection: () => accepted.resolve(),
    });
    const silent = await cleanup.client(port);
    await accepted.promise;
    await within(server.shutdown(), 5000, "finished, with the silent connection closed");
    await within(silent.untilEnd(), 5000, "the silent connection to close");
    assert.equal(silent.receivedBytes, 0);
  });

  test("serve shutdown answers the request in flight on a connection that sent a pipelined request after it, then closes", async () => {
    const gate = cleanup.gate();
    const entered = deferred();
    const { server, port } = await cleanup.server(async (request) => {
      entered.resolve();
      await gate.promise;
      return new Response(new URL(request.url).pathname);
    });
    const client = await cleanup.client(port);
    await client.write("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n");
    await entered.promise;
    const finished = server.shutdown();
    gate.resolve();
    await within(client.untilEnd(), 5000, "the close");
    const responses = await client.responses(1);
    assert.equal(responses.length, 1, client.text);
    assert.equal(responses[0].text(), "/first");
    assert.equal(responses[0].header("connection"), "close");
    await within(finished, 5000, "finished");
  });

  test("serve shuts down when its signal is aborted", async () => {
    const controller = new AbortController();
    const { server, port } = await cleanup.server(() => new Response("ok"), { signal: controller.signal });
    const client = await cleanup.client(port);
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await client.response()).text(), "ok");
    const state = tracked(server.finished);
    assert.equal(state.settled, false);
    controller.abort();
    await within(client.untilEnd(), 5000, "the idle connection to close");
    await within(server.finished, 5000, "finished");
    await assertRefused(port);
  });

  test("serve with an already aborted signal stops right after listening", async () => {
    const server = cleanup.addServer(
      serve({ port: 0, hostname: "127.0.0.1", signal: AbortSignal.abort() }, () => new Response("never")),
    );
    const { port } = await server.ready;
    await within(server.finished, 5000, "finished");
    await assertRefused(port);
  });

  test("serve shutdown called before the server listens still resolves finished", async () => {
    const server = serve({ port: 0, hostname: "127.0.0.1" }, () => new Response("never"));
    const finished = server.shutdown();
    const { port } = await server.ready;
    await within(finished, 5000, "finished");
    await assertRefused(port);
  });

  test("serve calls onListen with the bound address", async () => {
    const heard = deferred<unknown>();
    const { server, port } = await cleanup.server(() => new Response("x"), {
      onListen: (addr) => heard.resolve(addr),
    });
    assert.deepEqual(await heard.promise, { transport: "tcp", hostname: "127.0.0.1", port });
    assert.equal(server.addr.port, port);
  });
});

describe("serve reports listen errors", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve on a port in use rejects ready with a ListenError ADDR_IN_USE", async () => {
    const { port } = await cleanup.server(() => new Response("first"));
    let listened = false;
    const second = serve(
      { port, hostname: "127.0.0.1", onListen: () => (listened = true) },
      () => new Response("second"),
    );
    await assert.rejects(second.ready, (error: unknown) => {
      assert.ok(error instanceof ListenError, String(error));
      assert.equal(error.code, "ADDR_IN_USE");
      assert.equal(error.name, "ListenError");
      assert.equal(error.port, port);
      assert.equal(error.hostname, "127.0.0.1");
      assert.equal(
        error.message,
        `port ${port} is already in use: stop the other server or choose another with --port`,
      );
      assert.ok(!error.message.includes("\n"));
      return true;
    });
    await assert.rejects(second.finished, ListenError);
    assert.throws(() => second.addr, /not listening/);
    assert.equal(listened, false);
    // The first server still answers.
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await response.text(), "first");
  });

  test("serve without a handler throws a TypeError", () => {
    assert.throws(() => serve({ port: 0, hostname: "127.0.0.1" }), TypeError);
  });
});
