/**
 * HTTPS: `serve({ cert, key })` on the runtime under test, with a self-signed certificate made
 * for the test (by a test authority), reached by the runtime's own `fetch`, by curl (`--cacert`), by undici and by the
 * `ws` client over `wss:`; the URL a handler sees is `https:`, ALPN picks `http/1.1`, a client
 * that fails its handshake does not disturb the server, and a bad certificate or key is a
 * one-line `ListenError`.
 */

import assert from "node:assert/strict";
import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import * as tls from "node:tls";
import { after, before, describe, test } from "node:test";
// The npm package by its path: Bun maps the bare `undici` to a shim of its own (see undici_test.ts).
import { Agent, request as undiciRequest } from "undici/index.js";
import WebSocket from "ws";
import { serve } from "../../src/server/serve.ts";
import type { ServeHandler, Server } from "../../src/server/options.ts";
import { ListenError } from "../../src/transport/transport.ts";
import { upgradeWebSocket } from "../../src/websocket/upgrade.ts";
import { Cleanup, deferred, runProgram, within } from "./_helpers.ts";
import { makeCertificate, type TestCertificate } from "./_tls.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

declare const Deno: { createHttpClient(options: { caCerts: string[] }): { close(): void } };

/** Echoes the URL and the peer's address as the handler saw them. */
const describeRequest: ServeHandler = (request, info) =>
  Response.json({ url: request.url, remote: info.remoteAddr });

/** The runtime's own fetch, trusting `ca`. */
async function runtimeFetch(url: string, ca: string): Promise<Response> {
  if (runtime === "deno") {
    const client = Deno.createHttpClient({ caCerts: [ca] });
    try {
      const response = await fetch(url, { client } as RequestInit);
      await response.clone().arrayBuffer();
      return response;
    } finally {
      client.close();
    }
  }
  if (runtime === "bun") return fetch(url, { tls: { ca } } as RequestInit);
  // Node: its fetch (undici inside) verifies against the default CA store, which the test extends.
  const setDefault =
    (tls as { setDefaultCACertificates?: (certs: string[]) => void }).setDefaultCACertificates;
  if (setDefault === undefined) throw new Error("this Node has no tls.setDefaultCACertificates");
  setDefault([...tls.getCACertificates("default"), ca]);
  return fetch(url);
}

describe(`HTTPS on ${runtime}`, () => {
  const cleanup = new Cleanup();
  let certificate: TestCertificate;
  before(() => (certificate = makeCertificate()));
  after(async () => {
    await cleanup.run();
    certificate.remove();
  });

  async function httpsServer(handler: ServeHandler): Promise<{ server: Server; port: number }> {
    const server = cleanup.addServer(
      serve({ port: 0, hostname: "127.0.0.1", cert: certificate.cert, key: certificate.key }, handler),
    );
    const { port } = await server.ready;
    return { server, port };
  }

  test("the runtime's fetch gets an https: request through, with the peer's address", async () => {
    const { port } = await httpsServer(describeRequest);
    const response = await runtimeFetch(`https://localhost:${port}/a?b=1`, certificate.ca);
    assert.equal(response.status, 200);
    const seen = await response.json();
    assert.equal(seen.url, `https://localhost:${port}/a?b=1`);
    assert.equal(seen.remote.transport, "tcp");
    assert.equal(seen.remote.hostname, "127.0.0.1");
    assert.ok(seen.remote.port > 0);
  });

  test("curl with --cacert negotiates http/1.1 by ALPN and gets the page", async () => {
    const { port } = await httpsServer(() => new Response("over TLS"));
    const result = await runProgram("curl", [
      "-sS",
      "-v",
      "--cacert",
      certificate.caFile,
      `https://localhost:${port}/`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "over TLS");
    assert.match(result.stderr, /ALPN: server accepted http\/1\.1/);
  });

  test("undici keeps one TLS connection alive for several requests", async () => {
    const { port } = await httpsServer(describeRequest);
    const agent = new Agent({ connect: { ca: certificate.ca }, connections: 1 });
    try {
      const ports = new Set<number>();
      for (let i = 0; i < 3; i++) {
        const { statusCode, body } = await undiciRequest(`https://localhost:${port}/${i}`, {
          dispatcher: agent,
        });
        assert.equal(statusCode, 200);
        const seen = await body.json() as { url: string; remote: { port: number } };
        assert.equal(seen.url, `https://localhost:${port}/${i}`);
        ports.add(seen.remote.port);
      }
      assert.equal(ports.size, 1, "the three requests share one connection");
    } finally {
      await agent.close();
    }
  });

  test("a WebSocket over wss: echoes", async () => {
    const { port } = await httpsServer((request) => {
      const { socket, response } = upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    });
    const client = new WebSocket(`wss://localhost:${port}/`, { ca: certificate.ca });
    const echoed = deferred<string>();
    client.on("open", () => client.send("hello over TLS"));
    client.on("message", (data) => echoed.resolve(String(data)));
    client.on("error", (error) => echoed.reject(error));
    assert.equal(await within(echoed.promise, 10_000, "the echo"), "hello over TLS");
    client.close();
  });

  test("clients that fail their handshake leave the server serving", async () => {
    const { port } = await httpsServer(() => new Response("still up"));
    // Plain HTTP to the TLS port, and a TLS client that does not trust the certificate.
    await new Promise<void>((resolve) => {
      const socket = connectTcp(
        { host: "127.0.0.1", port },
        () => socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
      );
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
      socket.resume();
    });
    const stranger = makeCertificate();
    const refused = await new Promise<Error | null>((resolve) => {
      const socket = connectTls({ host: "127.0.0.1", port, servername: "localhost", ca: stranger.ca }, () => {
        socket.destroy();
        resolve(null);
      });
      socket.on("error", (error) => resolve(error));
    });
    stranger.remove();
    assert.ok(refused instanceof Error, "an untrusted certificate is refused by the client");
    const response = await runtimeFetch(`https://localhost:${port}/`, certificate.ca);
    assert.equal(await response.text(), "still up");
  });

  test("a certificate or key that is not PEM, or that does not match, is a one-line ListenError", async () => {
    const other = makeCertificate();
    try {
      const cases = [
        { cert: "cert.pem", key: certificate.key, pattern: /certificate is not PEM text .*not its name$/ },
        { cert: certificate.cert, key: certificate.cert, pattern: /key is not PEM text/ },
        { cert: certificate.cert, key: other.key, pattern: /^the TLS certificate or key was refused: \S/ },
      ];
      for (const { cert, key, pattern } of cases) {
        const server = serve({ port: 0, hostname: "127.0.0.1", cert, key }, () => new Response());
        const error = await server.ready.then(() => null, (error: unknown) => error);
        assert.ok(error instanceof ListenError, `a ListenError, got ${error}`);
        assert.equal(error.code, "TLS_INVALID");
        assert.match(error.message, pattern);
        assert.doesNotMatch(error.message, /\n/);
        await server.shutdown().catch(() => {});
      }
      assert.throws(
        () => serve({ port: 0, cert: certificate.cert }, () => new Response()),
        /needs both cert and key/,
      );
    } finally {
      other.remove();
    }
  });
});
