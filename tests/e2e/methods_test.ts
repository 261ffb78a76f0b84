/**
 * Methods reach the handler exactly as sent (RFC 9110 §9.1: methods are case-sensitive), or the
 * request is answered 501 when the runtime's `Request` class cannot carry the method.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Cleanup, type TestServer } from "./_helpers.ts";

describe("serve delivers methods exactly or answers 501", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const seen: string[] = [];

  before(async () => {
    srv = await cleanup.server(async (request) => {
      seen.push(request.method);
      return new Response(
        `${request.method} ${request.body === null ? 0 : (await request.arrayBuffer()).byteLength}`,
      );
    });
  });
  after(() => cleanup.run());

  async function ask(method: string, body = "", target = "/"): Promise<{ status: number; text: string }> {
    const client = await cleanup.client(srv.port);
    const length = body === "" ? "" : `Content-Length: ${body.length}\r\n`;
    await client.write(
      `${method} ${target} HTTP/1.1\r\nHost: a\r\n${length}Connection: close\r\n\r\n${body}`,
    );
    const response = await client.response(method);
    return { status: response.status, text: response.text() };
  }

  for (const method of ["get", "Get", "post", "patch", "delete", "options", "put", "head"]) {
    test(`serve answers 501 to ${method}: a different method from ${method.toUpperCase()}`, async () => {
      const before = seen.length;
      const { status } = await ask(method);
      assert.equal(status, 501);
      assert.equal(seen.length, before, "the handler was not called");
    });
  }

  for (const method of ["TRACE", "TRACK", "trace"]) {
    test(`serve answers 501 to ${method}, which the Request class refuses`, async () => {
      assert.equal((await ask(method)).status, 501);
    });
  }

  test("serve answers 501 to CONNECT in authority-form: it does not tunnel", async () => {
    assert.equal((await ask("CONNECT", "", "example.com:443")).status, 501);
  });

  for (const method of ["GET", "POST", "PATCH", "PROPFIND", "MKCOL", "QUERY"]) {
    test(`serve hands ${method} to the handler as it was sent`, async () => {
      const { status, text } = await ask(method, method === "GET" ? "" : "abc");
      assert.equal(status, 200);
      assert.equal(text, `${method} ${method === "GET" ? 0 : 3}`);
    });
  }

  test("serve hands an unknown method to the handler as sent, on every runtime", async () => {
    const { status, text } = await ask("FROBNICATE", "xy");
    assert.equal(status, 200);
    assert.equal(text, "FROBNICATE 2");
  });
});
