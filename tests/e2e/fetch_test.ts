/**
 * The server seen through the runtime's own `fetch` client: methods, bodies, status and header
 * round trips, and the handler's `info.remoteAddr`.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NetAddr } from "../../src/transport/transport.ts";
import { Cleanup, type TestServer } from "./_helpers.ts";

describe("serve with fetch", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const seen: { method: string; url: string; remoteAddr: NetAddr; headers: Headers }[] = [];

  before(async () => {
    srv = await cleanup.server(async (request, info) => {
      seen.push({
        method: request.method,
        url: request.url,
        remoteAddr: info.remoteAddr,
        headers: request.headers,
      });
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/text":
          return new Response("Hello World!");
        case "/echo": {
          const body = await request.text();
          return new Response(`${request.method} ${body}`, {
            headers: { "content-type": request.headers.get("content-type") ?? "none" },
          });
        }
        case "/json": {
          const value = await request.json();
          return Response.json({ got: value, query: url.searchParams.get("q") });
        }
        case "/status":
          return new Response("made", {
            status: 201,
            statusText: "Made It",
            headers: [["x-one", "1"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], [
              "x-echo",
              request.headers.get("x-custom") ?? "",
            ]],
          });
        case "/empty":
          return new Response(null, { status: 204 });
        case "/addr":
          return Response.json(info.remoteAddr);
        default:
          return new Response("nope", { status: 404 });
      }
    });
  });

  after(() => cleanup.run());

  test("serve answers a fetch GET with a text body", async () => {
    const response = await fetch(`${srv.origin}/text`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), "12");
    // The Fetch standard's type of a string body, on every runtime (Bun's own Response leaves it out;
    // h1serve's FastResponse adds it there).
    const type = response.headers.get("content-type")?.toLowerCase() ?? null;
    assert.equal(type, "text/plain;charset=utf-8");
    assert.match(
      response.headers.get("date") ?? "",
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.equal(await response.text(), "Hello World!");
  });

  test("serve answers HEAD with the GET headers and no body", async () => {
    const response = await fetch(`${srv.origin}/text`, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), "12");
    assert.equal(await response.text(), "");
    assert.equal(seen.at(-1)?.method, "HEAD");
  });

  test("serve passes a POST text body to the handler", async () => {
    const response = await fetch(`${srv.origin}/echo`, {
      method: "POST",
      body: "plain text ✓",
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), "POST plain text ✓");
  });

  test("serve round-trips a JSON body and the query string", async () => {
    const payload = { name: "h1serve", list: [1, 2, 3], nested: { ok: true } };
    const response = await fetch(`${srv.origin}/json?q=x%20y`, {
      method: "POST",
      body: JSON.stringify(payload),
      headers: { "content-type": "application/json" },
    });
    assert.equal(response.status, 200);
    // Response.json's type: Bun adds ";charset=utf-8".
    assert.match(response.headers.get("content-type") ?? "", /^application\/json(;charset=utf-8)?$/);
    assert.deepEqual(await response.json(), { got: payload, query: "x y" });
  });

  test("serve sends the handler's status, reason and repeated headers, and passes request headers", async () => {
    const response = await fetch(`${srv.origin}/status`, { headers: { "x-custom": "custom value" } });
    assert.equal(response.status, 201);
    // The reason phrase is checked over raw TCP (raw_test.ts): Deno's fetch ignores the one sent.
    assert.equal(response.headers.get("x-one"), "1");
    assert.equal(response.headers.get("x-echo"), "custom value");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(await response.text(), "made");
    assert.equal(seen.at(-1)?.headers.get("x-custom"), "custom value");
  });

  test("serve sends a 204 without a body", async () => {
    const response = await fetch(`${srv.origin}/empty`);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("content-length"), null);
    assert.equal(await response.text(), "");
  });

  test("serve builds the request URL from the Host and the target", async () => {
    const response = await fetch(`${srv.origin}/text?a=1&b=2`);
    await response.text();
    assert.equal(seen.at(-1)?.url, `${srv.origin}/text?a=1&b=2`);
  });

  test("serve gives the handler the peer address in info.remoteAddr", async () => {
    const response = await fetch(`${srv.origin}/addr`);
    const addr = await response.json() as NetAddr;
    assert.equal(addr.transport, "tcp");
    assert.equal(addr.hostname, "127.0.0.1");
    assert.ok(Number.isInteger(addr.port) && addr.port > 0 && addr.port < 65536, `port ${addr.port}`);
    assert.notEqual(addr.port, srv.port);
  });

  test("serve answers 50 concurrent fetches", async () => {
    const texts = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const response = await fetch(`${srv.origin}/echo`, { method: "PUT", body: `n${i}` });
        return response.text();
      }),
    );
    assert.deepEqual(texts, Array.from({ length: 50 }, (_, i) => `PUT n${i}`));
  });

  test("serve reports the bound address in server.addr", () => {
    assert.deepEqual(srv.server.addr, { transport: "tcp", hostname: "127.0.0.1", port: srv.port });
    assert.ok(srv.port > 0);
  });
});
