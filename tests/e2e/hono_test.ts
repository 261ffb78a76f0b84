/**
 * A Hono app served as it is by h1serve (`serve(options, app.fetch)`): route parameters, a JSON
 * body, a streamed (chunked) response, Hono's 404 and a header set by middleware. Each check is
 * made with the runtime's `fetch` and, where the wire matters (chunked framing), with a raw client.
 *
 * The streamed response writes each piece only after the client has received the one before (a
 * gate the test opens), so it cannot be buffered whole: h1serve reads ahead a body that ends within
 * a few microtasks and sends it with Content-Length, which would not show streaming.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Hono } from "hono";
import { streamText } from "hono/streaming";
import { bodySoFar, Cleanup, type Deferred, type TestServer } from "./_helpers.ts";

const PIECES = ["first piece\n", "second piece\n", "third piece ✓\n", "fourth piece\n", "last piece\n"];

/**
 * The Hono app. `gatesFor(id)` gives the gates of the streamed response `/stream/:id`: piece `i`
 * (for i ≥ 1) is written once gate `i - 1` is open.
 */
function makeApp(gatesFor: (id: string) => Deferred<void>[]): Hono {
  const app = new Hono();
  // Middleware: runs around every route (and around the 404), and sets headers on the way out.
  app.use("*", async (c, next) => {
    c.header("x-request-path", new URL(c.req.url).pathname);
    await next();
    c.header("x-powered-by-test", "hono-middleware");
  });
  app.get("/users/:id/posts/:postId", (c) => {
    return c.json({ user: c.req.param("id"), post: c.req.param("postId"), q: c.req.query("q") ?? null });
  });
  app.get("/hello/:name", (c) => c.text(`Hello, ${c.req.param("name")}!`));
  app.post("/sum", async (c) => {
    const body = await c.req.json<{ numbers: number[]; label: string }>();
    const total = body.numbers.reduce((a, b) => a + b, 0);
    return c.json({ label: body.label.toUpperCase(), total, count: body.numbers.length }, 201);
  });
  app.get("/stream/:id", (c) => {
    const gates = gatesFor(c.req.param("id"));
    return streamText(c, async (stream) => {
      for (let i = 0; i < PIECES.length; i++) {
        if (i > 0) await gates[i - 1].promise;
        await stream.write(PIECES[i]);
      }
    });
  });
  return app;
}

describe("a Hono app on h1serve", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const gates = new Map<string, Deferred<void>[]>();
  const gatesFor = (id: string): Deferred<void>[] => {
    let list = gates.get(id);
    if (list === undefined) {
      list = PIECES.map(() => cleanup.gate());
      gates.set(id, list);
    }
    return list;
  };

  before(async () => {
    srv = await cleanup.server(makeApp(gatesFor).fetch);
  });

  after(() => cleanup.run());

  test("Hono routes by path and passes the route parameters and the query", async () => {
    const response = await fetch(`${srv.origin}/users/42/posts/hello-world?q=a%20b`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { user: "42", post: "hello-world", q: "a b" });

    const hello = await fetch(`${srv.origin}/hello/caf%C3%A9`);
    assert.equal(hello.status, 200);
    assert.equal(await hello.text(), "Hello, café!");
  });

  test("Hono reads a POSTed JSON body and answers with transformed JSON", async () => {
    const response = await fetch(`${srv.origin}/sum`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ numbers: [1, 2, 3, 4.5], label: "total ✓" }),
    });
    assert.equal(response.status, 201);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { label: "TOTAL ✓", total: 10.5, count: 4 });
  });

  test("Hono's streamText reaches a fetch client piece by piece, in order", async () => {
    const response = await fetch(`${srv.origin}/stream/fetch`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), null);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    for (let i = 0; i < PIECES.length; i++) {
      const expected = PIECES.slice(0, i + 1).join("");
      while (text.length < expected.length) {
        const { done, value } = await reader.read();
        assert.equal(done, false, `the stream ended after ${JSON.stringify(text)}`);
        text += value;
      }
      // Nothing past piece i can have been sent yet: piece i + 1 waits for this gate.
      assert.equal(text, expected);
      gatesFor("fetch")[i].resolve();
    }
    assert.equal((await reader.read()).done, true);
    assert.equal(text, PIECES.join(""));
  });

  test("Hono's streamText is sent chunked on the wire, and the connection stays open", async () => {
    const client = await cleanup.client(srv.port);
    await client.write(`GET /stream/raw HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`);
    for (let i = 0; i < PIECES.length; i++) {
      const expected = PIECES.slice(0, i + 1).join("");
      await client.until(() => bodySoFar(client.received) === expected, `piece ${i + 1}`);
      gatesFor("raw")[i].resolve();
    }
    const raw = await client.response("GET");
    assert.equal(raw.status, 200);
    assert.equal(raw.header("transfer-encoding"), "chunked");
    assert.equal(raw.header("content-length"), null);
    assert.equal(raw.chunked, true);
    assert.equal(raw.text(), PIECES.join(""));
    // A header the middleware set after `next()` was in the head of the streamed response.
    assert.equal(raw.header("x-powered-by-test"), "hono-middleware");
    // The next request on the same connection is answered.
    await client.write(`GET /hello/again HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`);
    const next = await client.responses(2, ["GET", "GET"]);
    assert.equal(next[1].status, 200);
    assert.equal(next[1].text(), "Hello, again!");
  });

  test("Hono answers an unknown route, and a known path with the wrong method, with its 404", async () => {
    const response = await fetch(`${srv.origin}/no/such/route`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), "404 Not Found");
    // The middleware ran for the 404 as well.
    assert.equal(response.headers.get("x-powered-by-test"), "hono-middleware");

    const wrongMethod = await fetch(`${srv.origin}/sum`);
    assert.equal(wrongMethod.status, 404);
    assert.equal(await wrongMethod.text(), "404 Not Found");
  });

  test("headers set by Hono middleware, before and after the route, reach the client", async () => {
    const response = await fetch(`${srv.origin}/hello/world`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-request-path"), "/hello/world");
    assert.equal(response.headers.get("x-powered-by-test"), "hono-middleware");
    assert.equal(await response.text(), "Hello, world!");
  });
});
