/**
 * `trustProxy` on the runtime under test, with raw requests from 127.0.0.1: the client a trusted
 * proxy names in `X-Forwarded-For` (or `Forwarded`) is `info.clientAddr` and the log's, and
 * `X-Forwarded-Proto` sets the URL's scheme; spoofing attempts (a client-supplied entry, several
 * fields, garbage, an IPv6 zone, the other field) and an untrusted peer's fields change nothing.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ResponseLogEntry, ServeHandler, ServeOptions } from "../../src/server/options.ts";
import { Cleanup, latin1 } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

const whoAmI: ServeHandler = (request, info) =>
  Response.json({ url: request.url, client: info.clientAddr, peer: info.remoteAddr });

describe(`trustProxy on ${runtime}`, () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  /** Sends one request with these extra header lines; what the handler saw. */
  async function seen(options: ServeOptions, lines: string[], prefix = "") {
    const { port } = await cleanup.server(whoAmI, options);
    const client = await cleanup.client(port);
    await client.write(
      `${prefix}GET /p HTTP/1.1\r\nHost: app.test\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`,
    );
    const body = JSON.parse(latin1((await client.response()).body));
    client.destroy();
    return body as { url: string; client: { hostname?: string; port?: number }; peer: { hostname: string } };
  }

  test("a trusted peer's X-Forwarded-For names the client, past a spoofed entry, and its proto the scheme", async () => {
    const logged: ResponseLogEntry[] = [];
    const options = {
      trustProxy: ["127.0.0.1"],
      onResponse: (entry: ResponseLogEntry) => logged.push(entry),
    };
    const body = await seen(options, ["X-Forwarded-For: 6.6.6.6, 203.0.113.7", "X-Forwarded-Proto: https"]);
    assert.equal(body.client.hostname, "203.0.113.7");
    assert.equal(body.peer.hostname, "127.0.0.1");
    assert.equal(body.url, "https://app.test/p");
    assert.equal((logged[0].clientAddr as { hostname: string }).hostname, "203.0.113.7");
  });

  test("several fields make one list; garbage or a zone at the right ends the walk at the proxy", async () => {
    const options = { trustProxy: ["127.0.0.0/8", "10.0.0.0/8"] };
    assert.equal(
      (await seen(options, ["X-Forwarded-For: 6.6.6.6", "X-Forwarded-For: 203.0.113.7, 10.0.0.2"])).client
        .hostname,
      "203.0.113.7",
    );
    assert.equal(
      (await seen(options, ["X-Forwarded-For: 203.0.113.7, nonsense"])).client.hostname,
      "127.0.0.1",
    );
    assert.equal((await seen(options, ["X-Forwarded-For: fe80::1%eth0"])).client.hostname, "127.0.0.1");
  });

  test("an untrusted peer's fields are ignored", async () => {
    const body = await seen({ trustProxy: ["10.0.0.0/8"] }, [
      "X-Forwarded-For: 203.0.113.7",
      "X-Forwarded-Proto: https",
      "Forwarded: for=203.0.113.8;proto=https",
    ]);
    assert.equal(body.client.hostname, "127.0.0.1");
    assert.equal(body.url, "http://app.test/p");
    const without = await seen({}, ["X-Forwarded-For: 203.0.113.7"]);
    assert.equal(without.client.hostname, "127.0.0.1", "no trustProxy: nothing is believed");
  });

  test("Forwarded, when chosen, is the only field read", async () => {
    const options = { trustProxy: ["127.0.0.1"], forwardedField: "forwarded" as const };
    const body = await seen(options, [
      "X-Forwarded-For: 6.6.6.6",
      'Forwarded: for="[2001:db8::7]:5555";proto=https',
    ]);
    assert.deepEqual([body.client.hostname, body.client.port, body.url], [
      "2001:db8::7",
      5555,
      "https://app.test/p",
    ]);
    const xffOnly = await seen(options, ["X-Forwarded-For: 6.6.6.6"]);
    assert.equal(xffOnly.client.hostname, "127.0.0.1", "X-Forwarded-For is not read");
  });

  test("a hop count trusts that many proxies; behind a PROXY header its client is the peer that is checked", async () => {
    assert.equal(
      (await seen({ trustProxy: 1 }, ["X-Forwarded-For: 6.6.6.6, 203.0.113.7"])).client.hostname,
      "203.0.113.7",
    );
    const options = { proxyProtocol: true, trustProxy: ["10.0.0.0/8"] };
    const header = "PROXY TCP4 10.1.1.1 10.0.0.1 4000 80\r\n";
    assert.equal(
      (await seen(options, ["X-Forwarded-For: 203.0.113.7"], header)).client.hostname,
      "203.0.113.7",
    );
    const direct = "PROXY TCP4 198.51.100.9 10.0.0.1 4000 80\r\n";
    assert.equal(
      (await seen(options, ["X-Forwarded-For: 203.0.113.7"], direct)).client.hostname,
      "198.51.100.9",
    );
  });

  test("a bad trustProxy is a TypeError from serve", async () => {
    await assert.rejects(() => cleanup.server(whoAmI, { trustProxy: ["10.0.0.0/40"] }), TypeError);
    await assert.rejects(() => cleanup.server(whoAmI, { trustProxy: 0 }), TypeError);
  });
});
