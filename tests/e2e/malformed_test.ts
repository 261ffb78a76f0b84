/**
 * Malformed and over-limit requests over raw TCP: each gets the exact status line, a one-line
 * plain-text body that does not echo the request, `Connection: close` and a close; and
 * `onProtocolError` hears about it.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ProtocolErrorInfo } from "../../src/server/options.ts";
import { Cleanup, ERROR_BODY_PATTERN, parseAll, type TestServer } from "./_helpers.ts";

/** Appears in each request so that a test can check the response does not echo request bytes. */
const MARK = "Zq7Marker";

interface Case {
  readonly name: string;
  readonly request: string;
  readonly statusLine: string;
  readonly code: string;
  /** Expected offset of the error, when the test pins it. */
  readonly offset?: number;
  /** The error is in the body: the head was valid, so the handler may have been called. */
  readonly inBody?: boolean;
}

const big = (n: number) => "x".repeat(n);

const cases: readonly Case[] = [
  {
    name: "serve answers obs-fold with 400",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\nX-A: b\r\n ${MARK}\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "OBS_FOLD",
    offset: `GET /${MARK} HTTP/1.1\r\nHost: a\r\nX-A: b\r\n`.length,
  },
  {
    name: "serve answers a missing Host with 400",
    request: `GET /${MARK} HTTP/1.1\r\nX-A: b\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "MISSING_HOST",
  },
  {
    name: "serve answers two Host fields with 400",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "DUPLICATE_HOST",
  },
  {
    name: "serve answers Content-Length with Transfer-Encoding with 400",
    request: `POST /${MARK} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `5\r\nhello\r\n0\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "CL_TE_CONFLICT",
  },
  {
    name: "serve answers conflicting Content-Length values with 400",
    request: `POST /${MARK} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "CONFLICTING_CONTENT_LENGTH",
  },
  {
    name: "serve answers HTTP/2.0 with 505",
    request: `GET /${MARK} HTTP/2.0\r\nHost: a\r\n\r\n`,
    statusLine: "HTTP/1.1 505 HTTP Version Not Supported",
    code: "VERSION_NOT_SUPPORTED",
    offset: `GET /${MARK} `.length,
  },
  {
    name: "serve answers a malformed version with 400",
    request: `GET /${MARK} HTTX/1.1\r\nHost: a\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "BAD_VERSION",
  },
  {
    name: "serve answers a header section over maxHeaderBytes with 431",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\nX-Big: ${big(20_000)}${MARK}\r\n\r\n`,
    statusLine: "HTTP/1.1 431 Request Header Fields Too Large",
    code: "HEADERS_TOO_LARGE",
  },
  {
    name: "serve answers more header fields than maxHeaderCount with 431",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\n${"X-N: 1\r\n".repeat(120)}\r\n`,
    statusLine: "HTTP/1.1 431 Request Header Fields Too Large",
    code: "TOO_MANY_HEADERS",
  },
  {
    name: "serve answers a request target over maxTargetLength with 414",
    request: `GET /${MARK}${big(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    statusLine: "HTTP/1.1 414 URI Too Long",
    code: "URI_TOO_LONG",
  },
  {
    name: "serve answers a Content-Length over maxBodyBytes with 413",
    request: `POST /${MARK} HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n${big(17)}`,
    statusLine: "HTTP/1.1 413 Content Too Large",
    code: "BODY_TOO_LARGE",
  },
  {
    name: "serve answers a chunked body over maxBodyBytes with 413",
    request: `POST /${MARK} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `a\r\n${big(10)}\r\na\r\n${big(10)}\r\n0\r\n\r\n`,
    statusLine: "HTTP/1.1 413 Content Too Large",
    code: "BODY_TOO_LARGE",
    inBody: true,
  },
  {
    name: "serve answers an unknown transfer coding with 501",
    request: `POST /${MARK} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    statusLine: "HTTP/1.1 501 Not Implemented",
    code: "UNSUPPORTED_TRANSFER_ENCODING",
  },
  {
    name: "serve answers a Transfer-Encoding that does not end in chunked with 400",
    request: `POST /${MARK} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "BAD_TRANSFER_ENCODING",
  },
  {
    name: "serve answers a malformed chunk size with 400",
    request:
      `POST /${MARK} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${MARK}\r\n0\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "BAD_CHUNK",
    inBody: true,
  },
  {
    name: "serve answers a bare LF with 400",
    request: `GET /${MARK} HTTP/1.1\nHost: a\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "BARE_LF",
  },
  {
    name: "serve answers whitespace before a header colon with 400",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "SPACE_BEFORE_COLON",
  },
  {
    name: "serve answers an unsupported expectation with 417",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\nExpect: ${MARK}\r\n\r\n`,
    statusLine: "HTTP/1.1 417 Expectation Failed",
    code: "EXPECTATION_FAILED",
  },
  {
    name: "serve answers a head cut short by the client's FIN with 400",
    request: `GET /${MARK} HTTP/1.1\r\nHost: a\r\n`,
    statusLine: "HTTP/1.1 400 Bad Request",
    code: "INCOMPLETE_MESSAGE",
  },
];

describe("serve rejects malformed requests", () => {
  const cleanup = new Cleanup();
  let srv: TestServer;
  const reported: ProtocolErrorInfo[] = [];
  let handled = 0;

  before(async () => {
    srv = await cleanup.server(async (request) => {
      handled++;
      // Reading the body first makes the error answer win over this one when the body is bad.
      await request.arrayBuffer().catch(() => {});
      return new Response("handled");
    }, {
      limits: { maxBodyBytes: 16 },
      onProtocolError: (info) => reported.push(info),
    });
  });

  after(() => cleanup.run());

  for (const c of cases) {
    test(c.name, async () => {
      reported.length = 0;
      const handledBefore = handled;
      const client = await cleanup.client(srv.port);
      const localPort = client.socket.localPort;
      await client.write(c.request);
      if (c.code === "INCOMPLETE_MESSAGE") client.end();
      const received = await client.untilEnd();
      const { responses, end } = parseAll(received, { eof: true });
      assert.equal(responses.length, 1, `one response: ${client.text}`);
      assert.equal(end, received.byteLength, "nothing after the response");
      const [response] = responses;
      assert.equal(response.statusLine, c.statusLine);
      assert.equal(response.header("connection"), "close");
      assert.equal(response.header("content-type"), "text/plain; charset=utf-8");
      assert.match(response.text(), ERROR_BODY_PATTERN);
      assert.ok(response.text().includes(`(${c.code})`), response.text());
      assert.ok(!client.text.includes(MARK), "the response does not echo the request");
      if (!c.inBody) assert.equal(handled, handledBefore, "the handler is not called");

      assert.equal(reported.length, 1);
      const info = reported[0];
      assert.equal(info.code, c.code);
      assert.equal(info.status, response.status);
      assert.match(info.rfc, /^RFC \d{4} §[\d.]+$/);
      assert.ok(Number.isInteger(info.offset) && info.offset >= 0, `offset ${info.offset}`);
      if (c.offset !== undefined) assert.equal(info.offset, c.offset);
      assert.equal(typeof info.message, "string");
      assert.equal(info.remoteAddr.hostname, "127.0.0.1");
      assert.equal(info.remoteAddr.port, localPort);
    });
  }

  test("serve answers a request before a malformed one and then rejects the malformed one", async () => {
    const client = await cleanup.client(srv.port);
    await client.write("GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/1.1\r\n\r\n");
    const received = await client.untilEnd();
    const { responses, end } = parseAll(received, { eof: true });
    assert.deepEqual(responses.map((r) => r.statusLine), ["HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"]);
    assert.equal(responses[0].text(), "handled");
    assert.equal(end, received.byteLength);
  });

  test("serve delivers a 413 to a client that is still sending a large body", async () => {
    const client = await cleanup.client(srv.port);
    const body = new Uint8Array(4 * 1024 * 1024).fill(0x61);
    client.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.byteLength}\r\n\r\n`);
    client.write(body).catch(() => {/* the server may close before taking it all */});
    const response = await client.response();
    assert.equal(response.statusLine, "HTTP/1.1 413 Content Too Large");
    await client.untilEnd();
  });

  test("serve answers TRACE with 501 without calling the handler", async () => {
    const handledBefore = handled;
    const client = await cleanup.client(srv.port);
    await client.write("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.statusLine, "HTTP/1.1 501 Not Implemented");
    assert.equal(handled, handledBefore);
  });
});
