/**
 * Differential test: the same raw bytes go, over real sockets, to a default `node:http` server and
 * to h1serve, each with a handler that reads the body and answers 200 with `len=<body bytes>
 * hc=<distinct header names>`. Every h1serve answer is asserted against the table below. The
 * node:http answers are only recorded (they differ by runtime: on Deno and Bun `node:http` is a
 * compatibility layer), except that the cases marked `valid` must get 200 from both. The cases
 * where the two servers differ are printed; `docs/DIFFERENTIAL.md` explains each one.
 *
 * The corpus covers valid requests and the request-smuggling and malformed vectors that public
 * HTTP/1.1 probes send. All cases run at once, each on its own connection to each server; a
 * connection the server leaves open is observed for {@link WINDOW_MS}.
 */

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { HttpErrorCode } from "../../src/core/errors.ts";
import { Cleanup, latin1, parseAll, RawClient, within } from "./_helpers.ts";

/** How long a connection that the server leaves open is watched for a close. */
const WINDOW_MS = 1500;

interface Case {
  /** Short id, used in the printed table and in docs/DIFFERENTIAL.md. */
  readonly name: string;
  /** The bytes to send, one character per byte (Latin-1). */
  readonly input: string;
  /** h1serve's expected statuses, interim ones included, in order; `[]` for no response. */
  readonly statuses: readonly number[];
  /** Whether h1serve closes the connection (within the window). */
  readonly closed: boolean;
  /** The protocol error h1serve reports, when it rejects the request. */
  readonly code?: HttpErrorCode;
  /** h1serve's expected body of its first 200 response. */
  readonly body?: string;
  /** A valid request that every node:http (Node, Deno and Bun) accepts: it must answer 200 too. */
  readonly valid?: true;
  /** Request methods, in order, when one is HEAD (its response has no body). */
  readonly methods?: readonly string[];
  /** How to print the input, when it is too long to print. */
  readonly show?: string;
}

const H = "Host: a\r\n";
const GET = `GET / HTTP/1.1\r\n${H}`;
const POST = `POST / HTTP/1.1\r\n${H}`;
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`;
/** A 400 that closes, with its error code. */
const bad = (code: HttpErrorCode) => ({ statuses: [400], closed: true, code });
const ok = (body: string) => ({ statuses: [200], closed: false, body });
/** The server waits for the rest of the message. */
const waits = { statuses: [], closed: false };
const manyHeaders = (n: number) => Array.from({ length: n }, (_, i) => `X-N${i}: 1\r\n`).join("");

const cases: readonly Case[] = [
  // ---- valid requests ----
  { name: "get", input: `${GET}\r\n`, ...ok("len=0 hc=1"), valid: true },
  {
    name: "get-query",
    input: `GET /p/q?x=1&y=%20 HTTP/1.1\r\n${H}Accept: */*\r\n\r\n`,
    ...ok("len=0 hc=2"),
    valid: true,
  },
  { name: "post-cl", input: `${POST}Content-Length: 5\r\n\r\nhello`, ...ok("len=5 hc=2"), valid: true },
  { name: "post-cl-0", input: `${POST}Content-Length: 0\r\n\r\n`, ...ok("len=0 hc=2"), valid: true },
  { name: "post-chunked", input: `${CHUNKED}5\r\nhello\r\n0\r\n\r\n`, ...ok("len=5 hc=2"), valid: true },
  { name: "chunked-ext", input: `${CHUNKED}5;n=v\r\nhello\r\n0\r\n\r\n`, ...ok("len=5 hc=2"), valid: true },
  {
    name: "chunked-ext-quoted",
    input: `${CHUNKED}5;n="a b"\r\nhello\r\n0\r\n\r\n`,
    ...ok("len=5 hc=2"),
  },
  {
    name: "chunked-trailer",
    input: `${POST}Transfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n`,
    ...ok("len=5 hc=3"),
  },
  {
    name: "chunked-hex-size",
    input: `${CHUNKED}A\r\n0123456789\r\n0\r\n\r\n`,
    ...ok("len=10 hc=2"),
    valid: true,
  },
  {
    name: "chunked-ext-bws",
    input: `${CHUNKED}5 ; a = b\r\nhello\r\n0\r\n\r\n`,
    ...ok("len=5 hc=2"),
  },
  {
    name: "pipelined-3",
    input: `${GET}\r\n${POST}Content-Length: 3\r\n\r\nabc${GET}\r\n`,
    statuses: [200, 200, 200],
    closed: false,
    body: "len=0 hc=1",
    valid: true,
  },
  {
    name: "chunked-then-pipelined",
    input: `${CHUNKED}5\r\nhello\r\n0\r\n\r\n${GET}\r\n`,
    statuses: [200, 200],
    closed: false,
    body: "len=5 hc=2",
    valid: true,
  },
  {
    name: "cl-then-pipelined",
    input: `${POST}Content-Length: 5\r\n\r\nhello${GET}\r\n`,
    statuses: [200, 200],
    closed: false,
    body: "len=5 hc=2",
    valid: true,
  },
  {
    name: "http10",
    input: "GET / HTTP/1.0\r\n\r\n",
    statuses: [200],
    closed: true,
    body: "len=0 hc=0",
    valid: true,
  },
  {
    name: "http10-keep-alive",
    input: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ...ok("len=0 hc=1"),
    valid: true,
  },
  { name: "absolute-form", input: `GET http://a/x HTTP/1.1\r\n${H}\r\n`, ...ok("len=0 hc=1"), valid: true },
  {
    name: "absolute-form-other-host",
    input: `GET http://b/x HTTP/1.1\r\n${H}\r\n`,
    ...ok("len=0 hc=1"),
    valid: true,
  },
  { name: "options-asterisk", input: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, ...ok("len=0 hc=1") },
  {
    name: "head",
    input: `HEAD / HTTP/1.1\r\n${H}\r\n`,
    statuses: [200],
    closed: false,
    valid: true,
    methods: ["HEAD"],
  },
  { name: "host-port", input: `GET / HTTP/1.1\r\nHost: a:8080\r\n\r\n`, ...ok("len=0 hc=1"), valid: true },
  { name: "host-ipv6", input: `GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n`, ...ok("len=0 hc=1"), valid: true },
  { name: "host-empty", input: `GET / HTTP/1.1\r\nHost:\r\n\r\n`, ...bad("BAD_HOST") },
  {
    name: "host-empty-absolute",
    input: `GET http://a/ HTTP/1.1\r\nHost:\r\n\r\n`,
    ...ok("len=0 hc=1"),
  },
  { name: "value-ows-tabs", input: `${GET}X-A:\t b \t\r\n\r\n`, ...ok("len=0 hc=2"), valid: true },
  { name: "leading-empty-line", input: `\r\n${GET}\r\n`, ...ok("len=0 hc=1") },
  {
    name: "headers-at-limit",
    input: `${GET}${manyHeaders(99)}\r\n`,
    ...ok("len=0 hc=100"),
    show: "GET + 100 fields",
  },
  {
    name: "header-15000",
    input: `${GET}X-Big: ${"x".repeat(15_000)}\r\n\r\n`,
    ...ok("len=0 hc=2"),
    show: "GET + X-Big: <15000 bytes>",
  },

  // ---- Transfer-Encoding and Content-Length: smuggling vectors ----
  {
    name: "cl-te",
    input: `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ...bad("CL_TE_CONFLICT"),
  },
  {
    name: "te-cl",
    input: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    ...bad("CL_TE_CONFLICT"),
  },
  {
    name: "te-chunked-identity",
    input: `${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-identity",
    input: `${POST}Transfer-Encoding: identity\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-double-space",
    input: `${POST}Transfer-Encoding:  chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ...ok("len=5 hc=2"),
  },
  {
    name: "te-uppercase",
    input: `${POST}Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ...ok("len=5 hc=2"),
  },
  {
    name: "te-tab",
    input: `${POST}Transfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ...ok("len=5 hc=2"),
  },
  {
    name: "te-xchunked",
    input: `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-chunkedx",
    input: `${POST}Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-obs-fold",
    input: `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
    ...bad("OBS_FOLD"),
  },
  {
    name: "te-space-before-colon",
    input: `${POST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    ...bad("SPACE_BEFORE_COLON"),
  },
  {
    name: "te-duplicate",
    input: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-identity-then-chunked",
    input: `${POST}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    statuses: [501],
    closed: true,
    code: "UNSUPPORTED_TRANSFER_ENCODING",
  },
  {
    name: "te-gzip-chunked",
    input: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    statuses: [501],
    closed: true,
    code: "UNSUPPORTED_TRANSFER_ENCODING",
  },
  {
    name: "te-empty-element",
    input: `${POST}Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n`,
    ...ok("len=0 hc=2"),
  },
  {
    name: "te-trailing-empty-element",
    input: `${POST}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`,
    ...ok("len=0 hc=2"),
  },
  {
    name: "te-param",
    input: `${POST}Transfer-Encoding: chunked;a=b\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-quoted",
    input: `${POST}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_TRANSFER_ENCODING"),
  },
  {
    name: "te-vtab",
    input: `${POST}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`,
    ...bad("BAD_FIELD_VALUE"),
  },
  {
    name: "te-http10",
    input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ...bad("TRANSFER_ENCODING_HTTP10"),
  },
  {
    name: "cl-duplicate-same",
    input: `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    ...ok("len=5 hc=2"),
  },
  { name: "cl-list-same", input: `${POST}Content-Length: 5, 5\r\n\r\nhello`, ...ok("len=5 hc=2") },
  {
    name: "cl-conflict",
    input: `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    ...bad("CONFLICTING_CONTENT_LENGTH"),
  },
  {
    name: "cl-list-conflict",
    input: `${POST}Content-Length: 5, 6\r\n\r\nhello!`,
    ...bad("CONFLICTING_CONTENT_LENGTH"),
  },
  { name: "cl-plus", input: `${POST}Content-Length: +5\r\n\r\nhello`, ...bad("BAD_CONTENT_LENGTH") },
  { name: "cl-minus", input: `${POST}Content-Length: -1\r\n\r\n`, ...bad("BAD_CONTENT_LENGTH") },
  { name: "cl-hex", input: `${POST}Content-Length: 0x5\r\n\r\nhello`, ...bad("BAD_CONTENT_LENGTH") },
  {
    name: "cl-inner-space",
    input: `${POST}Content-Length: 1 0\r\n\r\n0123456789`,
    ...bad("BAD_CONTENT_LENGTH"),
  },
  { name: "cl-leading-zeros", input: `${POST}Content-Length: 005\r\n\r\nhello`, ...ok("len=5 hc=2") },
  { name: "cl-ows", input: `${POST}Content-Length:  5 \r\n\r\nhello`, ...ok("len=5 hc=2") },
  { name: "cl-empty", input: `${POST}Content-Length:\r\n\r\n`, ...bad("BAD_CONTENT_LENGTH") },
  {
    name: "cl-huge",
    input: `${POST}Content-Length: 99999999999999999999999\r\n\r\nhello`,
    ...bad("BAD_CONTENT_LENGTH"),
  },
  {
    name: "cl-over-max-body",
    input: `${POST}Content-Length: 200000000\r\n\r\nhello`,
    statuses: [413],
    closed: true,
    code: "BODY_TOO_LARGE",
  },
  { name: "cl-short-body", input: `${POST}Content-Length: 10\r\n\r\nabc`, ...waits },
  {
    name: "get-cl-then-pipelined",
    input: `${GET}Content-Length: 5\r\n\r\nhello${GET}\r\n`,
    statuses: [200, 200],
    closed: false,
    body: "len=0 hc=2",
  },
  { name: "get-with-body", input: `${GET}Content-Length: 5\r\n\r\nhello`, ...ok("len=0 hc=2") },

  // ---- line endings, folding and field syntax ----
  { name: "bare-lf", input: "GET / HTTP/1.1\nHost: a\n\n", ...bad("BARE_LF") },
  { name: "bare-lf-field", input: `${GET}X-A: b\n\r\n`, ...bad("BARE_LF") },
  { name: "bare-lf-end", input: `${GET}\n`, ...bad("BARE_LF") },
  { name: "bare-cr-request-line", input: "GET / HTTP/1.1\rHost: a\r\n\r\n", ...bad("BARE_CR") },
  { name: "bare-cr-value", input: `${GET}X-A: b\rc\r\n\r\n`, ...bad("BARE_CR") },
  { name: "obs-fold", input: `${GET}X-A: b\r\n c\r\n\r\n`, ...bad("OBS_FOLD") },
  { name: "ws-before-first-field", input: `GET / HTTP/1.1\r\n X-A: b\r\n${H}\r\n`, ...bad("OBS_FOLD") },
  { name: "nul-in-value", input: `${GET}X-A: a\x00b\r\n\r\n`, ...bad("BAD_FIELD_VALUE") },
  { name: "del-in-value", input: `${GET}X-A: a\x7fb\r\n\r\n`, ...bad("BAD_FIELD_VALUE") },
  { name: "obs-text-in-value", input: `${GET}X-A: caf\xe9\r\n\r\n`, ...ok("len=0 hc=2") },
  { name: "space-before-colon", input: `${GET}X-A : b\r\n\r\n`, ...bad("SPACE_BEFORE_COLON") },
  { name: "tab-before-colon", input: `${GET}X-A\t: b\r\n\r\n`, ...bad("SPACE_BEFORE_COLON") },
  { name: "bad-field-name", input: `${GET}X(A): b\r\n\r\n`, ...bad("BAD_FIELD_NAME") },
  { name: "non-ascii-field-name", input: `${GET}X\xffA: b\r\n\r\n`, ...bad("BAD_FIELD_NAME") },
  { name: "empty-field-name", input: `${GET}: b\r\n\r\n`, ...bad("BAD_FIELD_NAME") },
  { name: "field-without-colon", input: `${GET}X-A\r\n\r\n`, ...bad("BAD_FIELD_NAME") },

  // ---- Host ----
  { name: "missing-host", input: "GET / HTTP/1.1\r\n\r\n", ...bad("MISSING_HOST") },
  { name: "duplicate-host", input: `${GET}Host: b\r\n\r\n`, ...bad("DUPLICATE_HOST") },
  { name: "host-space", input: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ...bad("BAD_HOST") },
  { name: "host-userinfo", input: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", ...bad("BAD_HOST") },
  { name: "host-slash", input: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ...bad("BAD_HOST") },
  { name: "host-bad-port", input: "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", ...bad("BAD_HOST") },

  // ---- version ----
  {
    name: "http20",
    input: `GET / HTTP/2.0\r\n${H}\r\n`,
    statuses: [505],
    closed: true,
    code: "VERSION_NOT_SUPPORTED",
  },
  {
    name: "http12",
    input: `GET / HTTP/1.2\r\n${H}\r\n`,
    statuses: [505],
    closed: true,
    code: "VERSION_NOT_SUPPORTED",
  },
  {
    name: "http09",
    input: `GET / HTTP/0.9\r\n${H}\r\n`,
    statuses: [505],
    closed: true,
    code: "VERSION_NOT_SUPPORTED",
  },
  { name: "version-lowercase", input: `GET / http/1.1\r\n${H}\r\n`, ...bad("BAD_VERSION") },
  { name: "version-garbage", input: `GET / HTXP/1.1\r\n${H}\r\n`, ...bad("BAD_VERSION") },
  { name: "version-two-digits", input: `GET / HTTP/10.0\r\n${H}\r\n`, ...bad("BAD_VERSION") },
  { name: "version-missing", input: `GET /\r\n${H}\r\n`, ...bad("BAD_REQUEST_LINE") },

  // ---- method and request line ----
  // `new Request()` would turn `get` into `GET`: h1serve answers 501 rather than show the handler
  // a method the client did not send (RFC 9110 §9.1: methods are case-sensitive).
  { name: "method-lowercase", input: `get / HTTP/1.1\r\n${H}\r\n`, statuses: [501], closed: false },
  { name: "method-unknown", input: `FOO / HTTP/1.1\r\n${H}\r\n`, ...ok("len=0 hc=1") },
  {
    name: "method-100k",
    input: `${"A".repeat(100 * 1024)} / HTTP/1.1\r\n${H}\r\n`,
    statuses: [501],
    closed: true,
    code: "METHOD_TOO_LONG",
    show: "<100 KiB method> / HTTP/1.1",
  },
  { name: "method-bad-char", input: `G(T / HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_METHOD") },
  { name: "trace", input: `TRACE / HTTP/1.1\r\n${H}\r\n`, statuses: [501], closed: false },
  { name: "connect", input: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", statuses: [501], closed: true },
  {
    name: "connect-with-body",
    input: `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 3\r\n\r\nabcGET /x HTTP/1.1\r\n${H}\r\n`,
    statuses: [501],
    closed: true,
  },
  { name: "double-space", input: `GET  / HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_REQUEST_LINE") },
  { name: "tab-separator", input: `GET\t/ HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_METHOD") },
  { name: "trailing-space", input: `GET / HTTP/1.1 \r\n${H}\r\n`, ...bad("BAD_VERSION") },

  // ---- request targets ----
  { name: "target-fragment", input: `GET /a#b HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  { name: "target-space", input: `GET /a b HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_VERSION") },
  { name: "target-ctl", input: `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  { name: "target-del", input: `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  { name: "target-non-ascii", input: `GET /caf\xc3\xa9 HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  { name: "target-no-slash", input: `GET a/b HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  { name: "target-asterisk-get", input: `GET * HTTP/1.1\r\n${H}\r\n`, ...bad("TARGET_FORM_MISMATCH") },
  { name: "target-authority-get", input: `GET a:80 HTTP/1.1\r\n${H}\r\n`, ...bad("TARGET_FORM_MISMATCH") },
  {
    name: "target-https",
    input: `GET https://a/ HTTP/1.1\r\n${H}\r\n`,
    statuses: [421],
    closed: true,
    code: "MISDIRECTED_REQUEST",
  },
  { name: "target-other-scheme", input: `GET ftp://a/ HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  { name: "target-userinfo", input: `GET http://u@a/ HTTP/1.1\r\n${H}\r\n`, ...bad("BAD_TARGET") },
  {
    name: "target-too-long",
    input: `GET /${"a".repeat(9000)} HTTP/1.1\r\n${H}\r\n`,
    statuses: [414],
    closed: true,
    code: "URI_TOO_LONG",
    show: "GET /<9000 bytes> HTTP/1.1",
  },

  // ---- chunked framing ----
  {
    name: "chunk-size-overflow",
    input: `${CHUNKED}FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n`,
    ...bad("CHUNK_SIZE_OVERFLOW"),
  },
  {
    name: "chunk-size-wraps-64-bit",
    input: `${CHUNKED}10000000000000005\r\nhello\r\n0\r\n\r\n`,
    ...bad("CHUNK_SIZE_OVERFLOW"),
  },
  { name: "chunk-size-garbage", input: `${CHUNKED}5x\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-size-trailing-space", input: `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-size-leading-space", input: `${CHUNKED} 5\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-size-0x", input: `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-size-negative", input: `${CHUNKED}-5\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-size-empty", input: `${CHUNKED}\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-ext-empty-name", input: `${CHUNKED}5;\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-ext-bad-value", input: `${CHUNKED}5;a=b c\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-ext-open-quote", input: `${CHUNKED}5;a="b\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-ext-bare-lf", input: `${CHUNKED}5;a=b\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-ext-ctl", input: `${CHUNKED}5;a=\x01\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-missing-crlf", input: `${CHUNKED}5\r\nhelloXX0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-data-too-long", input: `${CHUNKED}3\r\nhello\r\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-lf-only", input: `${CHUNKED}5\nhello\n0\n\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-lf-after-data", input: `${CHUNKED}5\r\nhello\n0\r\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-trailer-bare-lf", input: `${CHUNKED}0\r\nX-T: 1\n\r\n`, ...bad("BAD_CHUNK") },
  { name: "chunk-no-last-chunk", input: `${CHUNKED}5\r\nhello\r\n`, ...waits },

  // ---- sizes ----
  {
    name: "header-too-large",
    input: `${GET}X-Big: ${"x".repeat(20_000)}\r\n\r\n`,
    statuses: [431],
    closed: true,
    code: "HEADERS_TOO_LARGE",
    show: "GET + X-Big: <20000 bytes>",
  },
  {
    name: "too-many-headers",
    input: `${GET}${manyHeaders(120)}\r\n`,
    statuses: [431],
    closed: true,
    code: "TOO_MANY_HEADERS",
    show: "GET + 121 fields",
  },

  // ---- Expect ----
  {
    name: "expect-100",
    input: `${POST}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`,
    statuses: [200],
    closed: false,
    body: "len=5 hc=3",
    valid: true,
  },
  {
    name: "expect-100-mixed-case",
    input: `${POST}Expect: 100-Continue\r\nContent-Length: 5\r\n\r\nhello`,
    statuses: [200],
    closed: false,
    body: "len=5 hc=3",
  },
  { name: "expect-100-no-body", input: `${GET}Expect: 100-continue\r\n\r\n`, ...ok("len=0 hc=2") },
  {
    name: "expect-100-http10",
    input: "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
    statuses: [200],
    closed: true,
    body: "len=5 hc=2",
  },
  {
    name: "expect-unknown",
    input: `${GET}Expect: foo\r\n\r\n`,
    statuses: [417],
    closed: true,
    code: "EXPECTATION_FAILED",
  },
  {
    name: "expect-empty",
    input: `${GET}Expect:\r\n\r\n`,
    ...ok("len=0 hc=2"),
  },
  {
    name: "expect-list",
    input: `${GET}Expect: 100-continue, foo\r\n\r\n`,
    statuses: [417],
    closed: true,
    code: "EXPECTATION_FAILED",
  },

  // ---- Connection ----
  {
    name: "connection-close",
    input: `${GET}Connection: close\r\n\r\n`,
    statuses: [200],
    closed: true,
    body: "len=0 hc=2",
    valid: true,
  },
  { name: "connection-close-upper", input: `${GET}Connection: CLOSE\r\n\r\n`, statuses: [200], closed: true },
  {
    name: "connection-close-in-list",
    input: `${GET}Connection: keep-alive, close\r\n\r\n`,
    statuses: [200],
    closed: true,
  },
  { name: "connection-closed-token", input: `${GET}Connection: closed\r\n\r\n`, ...ok("len=0 hc=2") },
  {
    name: "connection-close-pipelined",
    input: `${GET}Connection: close\r\n\r\n${GET}\r\n`,
    statuses: [200],
    closed: true,
  },
  {
    name: "http10-keep-alive-close",
    input: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
    statuses: [200],
    closed: true,
  },
];

/** What one server did with one case. */
interface Outcome {
  /** Statuses of the responses received (interim ones included). */
  readonly statuses: number[];
  /** Body of the first 200 response. */
  readonly body: string | null;
  /** Whether the server closed the connection within the window. */
  readonly closed: boolean;
  /** The first line received, when it could not be parsed as a response. */
  readonly unparsed: string | null;
}

function toBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new Error(`not a byte: ${code}`);
    out[i] = code;
  }
  return out;
}

/** The input, escaped, for printing. */
function escape(c: Case): string {
  if (c.show !== undefined) return c.show;
  let out = "";
  for (const ch of c.input) {
    const code = ch.charCodeAt(0);
    if (ch === "\r") out += "\\r";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\\") out += "\\\\";
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

function summary(o: Outcome): string {
  if (o.statuses.length === 0) {
    const what = o.unparsed !== null ? `unparsed ${JSON.stringify(o.unparsed)}` : "no response";
    return `${what}, ${o.closed ? "closed" : "open"}`;
  }
  const body = o.body !== null ? ` (${o.body})` : "";
  return `${o.statuses.join("+")}${body}, ${o.closed ? "closed" : "open"}`;
}

/** Sends one case on a new connection and watches what comes back. */
async function run(port: number, c: Case, onClient: (client: RawClient) => void): Promise<Outcome> {
  const client = await RawClient.connect(port);
  onClient(client);
  client.write(toBytes(c.input)).catch(() => {/* the server may close before taking it all */});
  try {
    await client.until(() => client.ended, "the close", WINDOW_MS);
  } catch {
    // Still open at the end of the window.
  }
  const closed = client.ended;
  let statuses: number[] = [];
  let body: string | null = null;
  let unparsed: string | null = null;
  try {
    const { responses } = parseAll(client.received, { methods: c.methods, eof: closed });
    statuses = responses.map((r) => r.status);
    const first200 = responses.find((r) => r.status === 200);
    if (first200 !== undefined && c.methods?.[0] !== "HEAD") body = first200.text();
  } catch {
    unparsed = latin1(client.received).split("\r\n")[0].slice(0, 60);
  }
  if (statuses.length === 0 && client.receivedBytes > 0 && unparsed === null) {
    unparsed = latin1(client.received).split("\r\n")[0].slice(0, 60);
  }
  client.destroy();
  return { statuses, body, closed, unparsed };
}

function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  return `node ${process.version}`;
}

describe("differential: h1serve and node:http on the same bytes", () => {
  const cleanup = new Cleanup();
  const clients: RawClient[] = [];
  const codes = new Map<number, HttpErrorCode>();
  const ours = new Map<string, Outcome & { code: HttpErrorCode | null }>();
  const theirs = new Map<string, Outcome>();
  const nodeServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    let length = 0;
    req.on("data", (chunk: Uint8Array) => (length += chunk.byteLength));
    req.on("end", () => {
      const names = new Set<string>();
      for (let i = 0; i < req.rawHeaders.length; i += 2) names.add(req.rawHeaders[i].toLowerCase());
      res.end(`len=${length} hc=${names.size}`);
    });
  });

  before(async () => {
    const names = new Set<string>();
    for (const c of cases) {
      assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
      names.add(c.name);
    }
    const srv = await cleanup.server(async (request) => {
      // A malformed body fails the read; the server has answered the protocol error by then.
      const body = request.body === null ? new ArrayBuffer(0) : await request.arrayBuffer().catch(() => null);
      if (body === null) return new Response("body failed", { status: 500 });
      const length = body.byteLength;
      return new Response(`len=${length} hc=${[...request.headers.keys()].length}`);
    }, { onProtocolError: (info) => codes.set(info.remoteAddr.port, info.code) });
    await new Promise<void>((resolve) => nodeServer.listen(0, "127.0.0.1", resolve));
    const nodePort = (nodeServer.address() as AddressInfo).port;
    await within(
      Promise.all(cases.flatMap((c) => [
        (async () => {
          let localPort = 0;
          const outcome = await run(srv.port, c, (client) => {
            clients.push(client);
            localPort = client.socket.localPort ?? 0;
          });
          ours.set(c.name, { ...outcome, code: codes.get(localPort) ?? null });
        })(),
        run(nodePort, c, (client) => clients.push(client)).then((outcome) =>
          void theirs.set(c.name, outcome)
        ),
      ])),
      WINDOW_MS + 3000,
      "every case to run",
    );
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await cleanup.run();
    (nodeServer as { closeAllConnections?: () => void }).closeAllConnections?.();
    await within(
      new Promise<void>((resolve) => nodeServer.close(() => resolve())),
      5000,
      "node:http to close",
    );
  });

  for (const c of cases) {
    test(`h1serve answers ${c.name} as expected`, () => {
      const outcome = ours.get(c.name);
      assert.ok(outcome !== undefined, "the case ran");
      assert.equal(outcome.unparsed, null, `h1serve's answer parses: ${outcome.unparsed}`);
      assert.deepEqual(
        { statuses: outcome.statuses, closed: outcome.closed, code: outcome.code },
        { statuses: c.statuses, closed: c.closed, code: c.code ?? null },
        summary(outcome),
      );
      if (c.body !== undefined && outcome.statuses.includes(200)) assert.equal(outcome.body, c.body);
      if (c.valid) {
        const node = theirs.get(c.name);
        assert.ok(node !== undefined, "the case ran on node:http");
        assert.equal(node.statuses.filter((s) => s >= 200)[0], 200, `node:http: ${summary(node)}`);
      }
    });
  }

  test("differential: list the cases where node:http and h1serve differ", () => {
    assert.equal(ours.size, cases.length);
    assert.equal(theirs.size, cases.length);
    const rows: string[] = [];
    for (const c of cases) {
      const a = summary(ours.get(c.name)!);
      const b = summary(theirs.get(c.name)!);
      if (a !== b) rows.push(`${c.name.padEnd(27)} | ${a.padEnd(28)} | ${b.padEnd(28)} | ${escape(c)}`);
    }
    console.log(
      `\ndifferential (${runtimeName()}): ${rows.length} of ${cases.length} cases differ\n` +
        `${"case".padEnd(27)} | ${"h1serve".padEnd(28)} | ${"node:http".padEnd(28)} | input\n` +
        rows.join("\n"),
    );
  });
});
