/**
 * RFC 9112 and RFC 9110 requirements that only a real server can show (see docs/CONFORMANCE.md):
 * what reaches the handler depends on `src/server.ts` as well as on the core. A test marked
 * `skip: "violation: …"` asserts the RFC's behaviour where h1serve does not meet it yet.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Cleanup, type TestServer } from "./_helpers.ts";

describe("RFC conformance over raw TCP", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const handled: string[] = [];

  before(async () => {
    srv = await cleanup.server((request) => {
      handled.push(request.url);
      return new Response(`handled ${request.url}`);
    });
  });

  after(() => cleanup.run());

  /** Sends one request on a new connection; returns its response and whether the handler saw it. */
  async function send(request: string) {
    const before = handled.length;
    const client = await cleanup.client(srv.port);
    await client.write(request);
    const response = await client.response();
    return { client, response, handled: handled.length > before };
  }

  test("RFC 9112 §3.2: a Host field with an invalid value gets 400 without reaching the handler", async () => {
    // A percent sign not followed by two hex digits, and an IP literal that is not an IPv6 address.
    for (const host of ["%zz", "a%2", "[:]"]) {
      const { client, response, handled } = await send(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(response.statusLine, "HTTP/1.1 400 Bad Request", host);
      assert.equal(response.header("connection"), "close");
      assert.equal(handled, false, `the handler did not see Host ${host}`);
      await client.untilEnd();
    }
  });

  test("RFC 9110 §4.2.1: an http target with an empty host before its port gets 400", async () => {
    const { client, response, handled } = await send("GET http://:8080/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(response.statusLine, "HTTP/1.1 400 Bad Request");
    assert.equal(handled, false);
    await client.untilEnd();
  });

  test(
    "RFC 9110 §7.4: an https request received over plain TCP is rejected",
    async () => {
      const { response, handled } = await send("GET https://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n");
      assert.ok(response.status >= 400 && response.status < 500, response.statusLine);
      assert.equal(handled, false, "the handler is not asked to serve an https URI it did not secure");
    },
  );
});
