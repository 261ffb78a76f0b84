/**
 * Handlers that fail: a sync throw, a rejected promise, a value that is not a Response, a
 * response that cannot be sent, a body stream that breaks. The server answers 500 (or what
 * `onError` returns) and goes on serving.
 */

import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import type { ServeHandler } from "../../src/server/options.ts";
import { Cleanup, parseAll, type TestServer } from "./_helpers.ts";

const handler: ServeHandler = (request) => {
  const path = new URL(request.url).pathname;
  switch (path) {
    case "/throw":
      throw new Error("sync failure");
    case "/reject":
      return Promise.reject(new Error("async failure"));
    case "/not-a-response":
      return { status: 200, body: "nope" } as unknown as Response;
    case "/bad-length":
      return new Response("abc", { headers: { "content-length": "x1" } });
    case "/broken-stream":
      // Fails before anything is sent.
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("partial"));
          },
          pull(controller) {
            controller.error(new Error("stream broke"));
          },
        }),
      );
    case "/broken-later":
      // Fails once the head and the first chunk have gone out.
      return new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("partial"));
            await new Promise((resolve) => setTimeout(resolve, 0));
            controller.error(new Error("stream broke later"));
          },
        }),
      );
    case "/wrong-length":
      return new Response("0123456789", { headers: { "content-length": "4" } });
    case "/too-long-stream":
      return new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("0123"));
            await new Promise((resolve) => setTimeout(resolve, 0));
            controller.enqueue(new TextEncoder().encode("456789"));
            controller.close();
          },
        }),
        { headers: { "content-length": "6" } },
      );
    default:
      return new Response(`ok ${path}`);
  }
};

describe("serve with a failing handler and the default onError", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const logged: unknown[][] = [];
  const originalError = console.error;

  before(async () => {
    srv = await cleanup.server(handler);
  });
  beforeEach(() => {
    logged.length = 0;
    console.error = (...args: unknown[]) => logged.push(args);
  });
  afterEach(() => {
    console.error = originalError;
  });
  after(() => cleanup.run());

  async function exchange(path: string) {
    const client = await cleanup.client(srv.port);
    await client.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n`);
    const [failed, next] = await client.responses(2);
    return { failed, next, client };
  }

  test("serve answers 500 to a handler that throws and serves the next request", async () => {
    const { failed, next } = await exchange("/throw");
    assert.equal(failed.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(failed.text(), "Internal Server Error");
    assert.equal(failed.header("content-type"), "text/plain; charset=utf-8");
    assert.ok(!failed.text().includes("sync failure"), "the error is not shown to the client");
    assert.equal(next.text(), "ok /after");
    assert.equal(logged.length, 1);
    assert.ok(logged[0].some((arg) => arg instanceof Error && arg.message === "sync failure"));
  });

  test("serve answers 500 to a handler whose promise rejects and serves the next request", async () => {
    const { failed, next } = await exchange("/reject");
    assert.equal(failed.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(next.text(), "ok /after");
    assert.ok(logged[0].some((arg) => arg instanceof Error && arg.message === "async failure"));
  });

  test("serve answers 500 to a handler that returns something other than a Response", async () => {
    const { failed, next } = await exchange("/not-a-response");
    assert.equal(failed.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(next.text(), "ok /after");
    assert.equal(logged.length, 1);
  });

  test("serve answers 500 to a response with an invalid Content-Length", async () => {
    const { failed, next } = await exchange("/bad-length");
    assert.equal(failed.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(failed.text(), "Internal Server Error");
    assert.equal(next.text(), "ok /after");
  });

  test("serve answers 500 to a response stream that fails before anything is sent", async () => {
    const { failed, next } = await exchange("/broken-stream");
    assert.equal(failed.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(failed.text(), "Internal Server Error");
    assert.equal(next.text(), "ok /after");
    assert.ok(logged[0].some((arg) => arg instanceof Error && arg.message === "stream broke"));
  });

  test("serve cuts the connection when a response stream fails after the head, and serves new connections", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /broken-later HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    await client.untilEnd();
    assert.match(client.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(client.text, /\r\ntransfer-encoding: chunked\r\n/);
    assert.ok(client.text.endsWith("\r\n\r\n7\r\npartial\r\n"), "the body is cut short: " + client.text);
    const again = await cleanup.client(srv.port);
    await again.write("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await again.response()).text(), "ok /again");
  });

  test("serve frames a body of known length by its real length, not by a wrong Content-Length", async () => {
    const { failed, next } = await exchange("/wrong-length");
    assert.equal(failed.status, 200);
    assert.equal(failed.header("content-length"), "10");
    assert.equal(failed.text(), "0123456789");
    assert.equal(next.text(), "ok /after");
  });

  test("serve cuts the connection when a streamed body outgrows its Content-Length", async () => {
    const client = await cleanup.client(srv.port);
    await client.write(
      "GET /too-long-stream HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    await client.untilEnd();
    assert.match(client.text, /\r\ncontent-length: 6\r\n/);
    assert.ok(client.text.endsWith("\r\n\r\n0123"), client.text);
    assert.ok(!client.text.includes("ok /after"), "the connection is not reused");
  });
});

describe("serve with onError", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  let throwing: TestServer;
  const errors: unknown[] = [];
  const originalError = console.error;
  const logged: unknown[][] = [];

  before(async () => {
    srv = await cleanup.server(handler, {
      onError: (error) => {
        errors.push(error);
        return new Response(`custom: ${(error as Error).message}`, { status: 503 });
      },
    });
    throwing = await cleanup.server(handler, {
      onError: () => {
        throw new Error("onError failed too");
      },
    });
    console.error = (...args: unknown[]) => logged.push(args);
  });
  after(async () => {
    console.error = originalError;
    await cleanup.run();
  });

  test("serve sends onError's response for a handler that throws", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /throw HTTP/1.1\r\nHost: a\r\n\r\nGET /reject HTTP/1.1\r\nHost: a\r\n\r\n");
    const [first, second] = await client.responses(2);
    assert.equal(first.statusLine, "HTTP/1.1 503 Service Unavailable");
    assert.equal(first.text(), "custom: sync failure");
    assert.equal(second.text(), "custom: async failure");
    assert.equal(errors.length, 2);
  });

  test("serve passes a TypeError to onError for a non-Response", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /not-a-response HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.status, 503);
    assert.ok(errors.at(-1) instanceof TypeError);
  });

  test("serve answers 500 when onError itself throws", async () => {
    const client = await cleanup.client(throwing.port);
    await client.write("GET /throw HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    const [failed, next] = await client.responses(2);
    assert.equal(failed.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(next.text(), "ok /x");
    assert.ok(
      logged.some((args) => args.some((arg) => arg instanceof Error && arg.message === "onError failed too")),
    );
  });
});

describe("serve when onError's own response cannot be sent", () => {
  const cleanup = new Cleanup();
  const servers: Record<string, TestServer> = {};
  const replacements: Record<string, () => Response> = {
    // `Headers` takes 0x01 in a value; the serializer refuses it (RFC 9110 §5.5).
    "an invalid header field": () => new Response("x", { status: 500, headers: { "x-bad": "a\u0001b" } }),
    "a body that fails before it is sent": () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.error(new Error("the replacement's body broke"));
          },
        }),
        { status: 503 },
      ),
    "a response whose body was read already": () => {
      const response = new Response(new ReadableStream({ start: (controller) => controller.close() }));
      response.body?.getReader();
      return response;
    },
  };

  before(async () => {
    for (const [name, replacement] of Object.entries(replacements)) {
      servers[name] = await cleanup.server(handler, { onError: replacement });
    }
  });
  after(() => cleanup.run());

  for (const name of Object.keys(replacements)) {
    test(`serve answers the built-in 500 and closes when onError returns ${name}`, async () => {
      const client = await cleanup.client(servers[name].port);
      await client.write("GET /throw HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
      await client.untilEnd();
      const [response, ...more] = parseAll(client.received, { eof: true }).responses;
      assert.equal(response.statusLine, "HTTP/1.1 500 Internal Server Error");
      assert.equal(response.header("connection"), "close");
      assert.equal(
        response.text(),
        "Internal Server Error: the response could not be made (RESPONSE_FAILED)\n",
      );
      assert.deepEqual(more, [], "the pipelined request after it is not answered");
    });
  }

  test("serve answers the built-in 500 to a response with an invalid header field when onError returns it too", async () => {
    const bad = () => new Response("x", { headers: { "x-bad": "a\u0001b" } });
    const srv = await cleanup.server(bad, { onError: bad });
    const client = await cleanup.client(srv.port);
    await client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await client.untilEnd();
    assert.match(client.text, /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*\r\nconnection: close\r\n/);
  });
});

describe("serve with hooks that throw", () => {
  const cleanup = new Cleanup();
  const originalError = console.error;
  const logged: unknown[][] = [];
  after(async () => {
    console.error = originalError;
    await cleanup.run();
  });

  test("serve logs a hook that throws and goes on serving, pipelined requests included", async () => {
    console.error = (...args: unknown[]) => logged.push(args);
    const fail = () => {
      throw new Error("the hook broke");
    };
    const srv = await cleanup.server(handler, { onResponse: fail, onConnection: fail, onData: fail });
    const client = await cleanup.client(srv.port);
    await client.write("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n");
    const [one, two] = await client.responses(2);
    assert.deepEqual([one.text(), two.text()], ["ok /one", "ok /two"]);
    const again = await cleanup.client(srv.port);
    await again.write("GET /three HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await again.response()).text(), "ok /three");
    const hooks = logged.filter((args) => String(args[0]).includes("hook failed")).map((args) =>
      String(args[0])
    );
    assert.ok(hooks.includes("h1serve: the onResponse hook failed:"), JSON.stringify(hooks));
    assert.ok(hooks.includes("h1serve: the onConnection hook failed:"));
    assert.ok(hooks.includes("h1serve: the onData hook failed:"));
  });
});
