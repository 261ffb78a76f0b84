/**
 * `Expect: 100-continue`: the interim response is sent only once the handler reads the body.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Cleanup, deferred, settledValue } from "./_helpers.ts";

const HEAD = "POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

describe("serve with Expect: 100-continue", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve sends 100 Continue when the handler reads the body, then the final response", async () => {
    const called = deferred();
    const gate = cleanup.gate();
    const { port } = await cleanup.server(async (request) => {
      called.resolve();
      await gate.promise;
      return new Response(`got ${await request.text()}`);
    });
    const client = await cleanup.client(port);
    await client.write(HEAD);
    await called.promise;
    // The handler has the request but has not read its body: nothing may be sent yet.
    assert.equal(await settledValue(() => client.receivedBytes, 100), 0, "no 100 before the body is read");
    gate.resolve();
    await client.until(() => client.text.length >= 25, "the interim response");
    assert.equal(client.text, "HTTP/1.1 100 Continue\r\n\r\n");
    await client.write("hello");
    const responses = await client.responses(1);
    assert.deepEqual(responses.map((r) => r.statusLine), ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"]);
    assert.equal(responses[1].text(), "got hello");
    assert.equal(responses[1].header("connection"), "keep-alive", "the connection stays open");
  });

  test("serve answers without 100 Continue when the handler does not read the body", async () => {
    let handled = 0;
    const { port } = await cleanup.server(() => {
      handled++;
      return new Response("no thanks", { status: 403 });
    });
    const client = await cleanup.client(port);
    await client.write(HEAD);
    const response = await client.response();
    assert.equal(response.statusLine, "HTTP/1.1 403 Forbidden");
    assert.equal(response.text(), "no thanks");
    assert.ok(!client.text.includes("100 Continue"), client.text);
    assert.ok(client.text.startsWith("HTTP/1.1 403 Forbidden\r\n"));
    // The body may never come, so the connection is not reused. (The head does not say
    // `connection: close` yet, which RFC 9110 §10.1.1 recommends: reported to the core's owner.)
    await client.untilEnd();
    assert.equal(handled, 1);
  });

  test("serve does not send 100 Continue to an HTTP/1.0 request", async () => {
    const { port } = await cleanup.server(async (request) => new Response(`got ${await request.text()}`));
    const client = await cleanup.client(port);
    await client.write("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
    await client.untilEnd();
    const response = await client.response();
    assert.equal(response.text(), "got hi");
    assert.ok(client.text.startsWith("HTTP/1.1 200 OK\r\n"), client.text);
  });
});
