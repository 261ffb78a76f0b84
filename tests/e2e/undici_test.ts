/**
 * undici (npm, pinned 8.12.4) as the client: a pipelining `Pool` and a keep-alive `Agent` without
 * pipelining each make 1,000 requests (GETs and POSTs with small bodies) and every response must
 * be correct and belong to its request, over a handful of reused connections.
 *
 * The import is `undici/index.js` (the package's main file; it has no `exports` map) rather than
 * `undici`: Bun maps the bare specifier `undici` to a built-in shim (`src/js/thirdparty/undici.js`
 * in oven-sh/bun; `import.meta.resolve("undici")` is `"undici"` there) whose `Pool.request` is an
 * empty `request() {}` returning `undefined` (oven-sh/bun#15490, #39247). The npm package itself
 * runs on Bun, loaded by its path; that path loads the same npm file on Deno and Node too.
 *
 * undici pipelines only what its options allow: by default every request but HEAD is `blocking`
 * (nothing more is written on the connection until its response head has arrived) and a POST is
 * not idempotent (never sent behind another request). The pipelined Pool's requests are therefore
 * sent with `blocking: false`, and the POSTs (an echo, safe to repeat) with `idempotent: true`.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Agent, type Dispatcher, Pool } from "undici/index.js";
import type { NetAddr } from "../../src/transport/transport.ts";
import { Cleanup, latin1, type TestServer, within } from "./_helpers.ts";

const REQUESTS = 1000;
/** A request line on the wire (the bodies sent here never look like one). */
const REQUEST_LINE = /(?:GET|POST) \/\S* HTTP\/1\.1\r\n/g;

const key = (addr: NetAddr) => `${addr.hostname}:${addr.port}`;

/**
 * A server that answers `GET /item/N` with `get N` and `POST /echo/N` with `post N <body>`, and
 * records how many connections were opened and, for each request, how many requests had arrived on
 * its connection but were not yet answered when its handler ran (2 or more only under pipelining).
 */
async function startRecordingServer(cleanup: Cleanup) {
  const stats = { connections: 0, requests: 0, maxDepth: 0 };
  const arrived = new Map<string, number>();
  const carry = new Map<string, string>();
  const handled = new Map<string, number>();
  const srv: TestServer = await cleanup.server(async (request, info) => {
    const conn = key(info.remoteAddr);
    const before = handled.get(conn) ?? 0;
    handled.set(conn, before + 1);
    stats.requests++;
    stats.maxDepth = Math.max(stats.maxDepth, (arrived.get(conn) ?? 0) - before);
    const url = new URL(request.url);
    const [, kind, n] = url.pathname.split("/");
    if (request.method === "GET" && kind === "item") return new Response(`get ${n}`);
    if (request.method === "POST" && kind === "echo") {
      return new Response(`post ${n} ${await request.text()}`, { headers: { "x-n": n } });
    }
    return new Response("unexpected", { status: 400 });
  }, {
    onConnection() {
      stats.connections++;
    },
    onData(data, remoteAddr) {
      // Counts the request lines that arrive on each connection, also when one is split across reads.
      const conn = key(remoteAddr);
      const previous = carry.get(conn) ?? "";
      const text = previous + latin1(data);
      let count = 0;
      for (const match of text.matchAll(REQUEST_LINE)) {
        if (match.index + match[0].length > previous.length) count++;
      }
      arrived.set(conn, (arrived.get(conn) ?? 0) + count);
      carry.set(conn, text.slice(-64));
    },
  });
  return { srv, stats };
}

/** One request of the mix: even ones GET, odd ones POST a small body unique to the request. */
function requestFor(i: number): { options: Dispatcher.RequestOptions; expected: string } {
  if (i % 2 === 0) {
    return { options: { path: `/item/${i}`, method: "GET" }, expected: `get ${i}` };
  }
  const body = `payload ${i} ${"x".repeat(i % 50)} ✓`;
  return {
    options: { path: `/echo/${i}`, method: "POST", body, headers: { "content-type": "text/plain" } },
    expected: `post ${i} ${body}`,
  };
}

/**
 * Sends the 1,000 requests at once through `send` and checks each answer against its request.
 * `pipelined` lets undici write requests ahead on a connection (see the module comment).
 */
async function sendAll(
  send: (options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>,
  pipelined: boolean,
): Promise<void> {
  const results = await Promise.all(
    Array.from({ length: REQUESTS }, async (_, i) => {
      const { options, expected } = requestFor(i);
      const response = await send(pipelined ? { ...options, blocking: false, idempotent: true } : options);
      const text = await response.body.text();
      assert.equal(response.statusCode, 200, `request ${i}: ${text}`);
      assert.equal(text, expected, `request ${i}`);
      if (i % 2 === 1) assert.equal(response.headers["x-n"], String(i));
      return text;
    }),
  );
  assert.equal(results.length, REQUESTS);
  assert.equal(new Set(results).size, REQUESTS, "every response is distinct");
}

describe("undici as the client", () => {
  const cleanup = new Cleanup();
  const dispatchers: Dispatcher[] = [];

  after(async () => {
    // `close` waits for the requests in flight; after a failed test, give up on them after a while.
    for (const dispatcher of dispatchers) {
      await within(dispatcher.close(), 5000, "undici to close").catch(() => dispatcher.destroy());
    }
    await cleanup.run();
  });

  test("the npm undici is loaded, not Bun's built-in shim", () => {
    assert.equal(typeof Pool.prototype.dispatch, "function");
    assert.equal(typeof Pool.prototype.close, "function");
    assert.equal(typeof Agent.prototype.close, "function");
  });

  test("a pipelining undici Pool gets 1,000 correct responses over at most 4 reused connections", async () => {
    const { srv, stats } = await startRecordingServer(cleanup);
    const pool = new Pool(srv.origin, { connections: 4, pipelining: 10 });
    dispatchers.push(pool);
    await sendAll((options) => pool.request(options), true);
    assert.equal(stats.requests, REQUESTS);
    assert.ok(stats.connections >= 1 && stats.connections <= 4, `${stats.connections} connections`);
    // The requests were pipelined: a handler ran while later requests had arrived on its connection.
    assert.ok(stats.maxDepth >= 2, `pipelining depth ${stats.maxDepth}`);
    assert.ok(stats.maxDepth <= 10, `pipelining depth ${stats.maxDepth} above undici's 10`);
  });

  test("a keep-alive undici Agent without pipelining gets 1,000 correct responses over reused connections", async () => {
    const { srv, stats } = await startRecordingServer(cleanup);
    const agent = new Agent({ connections: 4, pipelining: 1 });
    dispatchers.push(agent);
    await sendAll((options) => agent.request({ ...options, origin: srv.origin }), false);
    assert.equal(stats.requests, REQUESTS);
    assert.ok(stats.connections >= 1 && stats.connections <= 4, `${stats.connections} connections`);
    // No pipelining: each request was sent only after the previous response on its connection.
    assert.equal(stats.maxDepth, 1);
  });
});
