/**
 * The objects a handler sees and returns: the lazily built request (a Request in every way a
 * handler can observe) and FastResponse in place of the global Response.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { outgoing } from "../../src/fetch/outgoing.ts";
import { FastResponse, OriginalResponse } from "../../src/fetch/response.ts";
import { Cleanup, type TestServer } from "./_helpers.ts";

describe("the request object a handler receives", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  let inspect: (request: Request) => unknown = () => null;

  before(async () => {
    srv = await cleanup.server(async (request) => Response.json(await inspect(request)));
  });
  after(() => cleanup.run());

  async function ask(init: RequestInit = {}, path = "/p?q=1"): Promise<unknown> {
    const response = await fetch(`${srv.origin}${path}`, init);
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json();
  }

  test("it is instanceof Request, with method, url and headers as sent", async () => {
    inspect = (request) => ({
      isRequest: request instanceof Request,
      tag: Object.prototype.toString.call(request),
      method: request.method,
      url: request.url,
      a: request.headers.get("x-a"),
      sameHeaders: request.headers === request.headers,
    });
    assert.deepEqual(await ask({ headers: { "x-a": "1" } }), {
      isRequest: true,
      tag: "[object Request]",
      method: "GET",
      url: `${srv.origin}/p?q=1`,
      a: "1",
      sameHeaders: true,
    });
  });

  test("its body reads as text, JSON, bytes and a stream, once", async () => {
    inspect = async (request) => {
      const before = request.bodyUsed;
      const text = await request.text();
      const again = await request.text().then(() => "read twice", (error: Error) => error.name);
      return { before, text, after: request.bodyUsed, again };
    };
    assert.deepEqual(await ask({ method: "POST", body: "hello" }), {
      before: false,
      text: "hello",
      after: true,
      again: "TypeError",
    });
    inspect = async (request) => await request.json();
    assert.deepEqual(await ask({ method: "PUT", body: '{"a":[1,2]}' }), { a: [1, 2] });
    inspect = async (request) => [...new Uint8Array(await request.arrayBuffer())];
    assert.deepEqual(await ask({ method: "POST", body: new Uint8Array([0, 255, 7]) }), [0, 255, 7]);
    inspect = async (request) => await new Response(request.body).text();
    assert.deepEqual(await ask({ method: "POST", body: "via the stream" }), "via the stream");
  });

  test("members made by a real Request (clone, formData, cache) answer as a Request does", async () => {
    inspect = async (request) => {
      const copy = request.clone();
      const form = await request.formData();
      return {
        cloneIsRequest: copy instanceof Request,
        cloneText: await copy.text(),
        field: form.get("k"),
        cache: request.cache,
        redirect: request.redirect,
      };
    };
    const body = new URLSearchParams({ k: "v" });
    assert.deepEqual(await ask({ method: "POST", body }), {
      cloneIsRequest: true,
      cloneText: "k=v",
      field: "v",
      cache: "default",
      redirect: "follow",
    });
  });

  test("a real Request can be made from it as an init, with method, headers and body", async () => {
    inspect = async (request) => {
      const copy = new Request("http://example.test/", request);
      return { method: copy.method, a: copy.headers.get("x-a"), text: await copy.text() };
    };
    assert.deepEqual(await ask({ method: "POST", headers: { "x-a": "2" }, body: "b" }), {
      method: "POST",
      a: "2",
      text: "b",
    });
  });

  test("GET has no body, and its signal is not aborted while the response is pending", async () => {
    inspect = (request) => ({ body: request.body, aborted: request.signal.aborted });
    assert.deepEqual(await ask(), { body: null, aborted: false });
  });
});

describe("the signal of a request whose connection is closed", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("is aborted when the connection closes before the response", async () => {
    let aborted!: (reason: unknown) => void;
    const abortedReason = new Promise((resolve) => (aborted = resolve));
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const srv = await cleanup.server((request) => {
      request.signal.addEventListener("abort", () => aborted(request.signal.reason));
      started();
      return new Promise<Response>(() => {}); // never answers
    }, { limits: { shutdownTimeoutMs: 40 } });
    const client = await cleanup.client(srv.port);
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await handlerStarted;
    // The shutdown drain deadline passes with the response still pending: the server closes the
    // connection, which must abort the request's signal.
    const finished = srv.server.shutdown();
    const reason = await abortedReason;
    assert.ok(reason instanceof Error);
    await finished;
  });
});

describe("FastResponse in place of the global Response", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("serve installs it, and every Response (fetch results included) is still instanceof Response", async () => {
    const srv = await cleanup.server(() => new Response("fast", { headers: { "x-b": "1" } }));
    assert.equal(globalThis.Response, FastResponse);
    const made = new Response("made");
    assert.equal(outgoing(made).body, "made");
    const fetched = await fetch(srv.origin);
    assert.ok(fetched instanceof Response);
    assert.equal(fetched.headers.get("x-b"), "1");
    assert.equal(fetched.headers.get("content-length"), "4");
    assert.equal(await fetched.text(), "fast");
  });

  test("Response.json sets application/json unless the handler set a Content-Type", async () => {
    const srv = await cleanup.server((request) =>
      new URL(request.url).pathname === "/own"
        ? Response.json([1], { status: 201, headers: { "content-type": "application/x.a+json" } })
        : Response.json({ a: 1 })
    );
    const plain = await fetch(srv.origin);
    assert.equal(plain.headers.get("content-type"), "application/json");
    assert.deepEqual(await plain.json(), { a: 1 });
    const own = await fetch(`${srv.origin}/own`);
    assert.equal(own.status, 201);
    assert.equal(own.headers.get("content-type"), "application/x.a+json");
    assert.deepEqual(await own.json(), [1]);
    assert.throws(() => Response.json(undefined), TypeError);
  });

  test("a string body already read by the handler is not sent again: onError gets a TypeError", async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown) => {
      errors.push(error);
      return new Response("failed", { status: 500 });
    };
    const srv = await cleanup.server(async () => {
      const response = new Response("once");
      await response.text();
      return response;
    }, { onError });
    const response = await fetch(srv.origin);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "failed");
    assert.ok(errors[0] instanceof TypeError);
  });

  test("with replaceGlobalResponse: false a plain Response is served the same way", async () => {
    const original = globalThis.Response;
    const native = OriginalResponse;
    globalThis.Response = native;
    try {
      const srv = await cleanup.server(() => new Response("plain"), { replaceGlobalResponse: false });
      assert.equal(globalThis.Response, native);
      const response = await fetch(srv.origin);
      assert.equal(response.headers.get("content-length"), "5");
      assert.equal(await response.text(), "plain");
    } finally {
      globalThis.Response = original;
    }
  });
});

describe("a HEAD response", () => {
  test("with no body, it declares the handler's Content-Length, as a GET's would be (RFC 9110 §9.3.2)", async () => {
    const { exchange } = await import("../../src/testing/mod.ts");
    const handler = (request: Request) =>
      request.method === "HEAD"
        ? new Response(null, {
          headers: { "content-length": "42", "content-type": "application/octet-stream" },
        })
        : new Response(new Uint8Array(42));
    const result = await exchange(
      handler,
      "HEAD /f HTTP/1.1\r\nHost: a\r\n\r\nGET /f HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    const [head, get] = result.responses;
    assert.equal(head.headers.get("content-length"), "42");
    assert.equal(head.body.byteLength, 0);
    assert.equal(get.headers.get("content-length"), "42", "the GET after it on the same connection");
    assert.equal(get.body.byteLength, 42);
    assert.equal(result.closed, false);
  });
});
