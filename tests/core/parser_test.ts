/**
 * Request-head parsing (RFC 9112 §2–6, RFC 9110 §5, §7.2): every case is fed to a
 * ServerConnection whole, at every two-piece split and in chunks of every size, and must give
 * the same event log each way.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_PROTOCOL_LIMITS,
  HttpError,
  RequestHeadParser,
  resolveProtocolLimits,
} from "../../src/core/mod.ts";
import { parseContentLength, parseFieldLine } from "../../src/core/_fields.ts";
import { LineReader } from "../../src/core/_lines.ts";
import { isValidHost } from "../../src/core/_request_line.ts";
import {
  assertLog,
  bytes,
  type Case,
  CLOSE,
  data,
  end,
  err,
  feedAllSplits,
  feedConnection,
  req,
  RESPONSE,
  str,
} from "./_feed.ts";

const H = "Host: a\r\n";

/** Runs table cases through every split. */
function runCases(cases: readonly Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const result = feedAllSplits(c.input, c.options);
      assertLog(result.log, c.expect);
    });
  }
}

/** Offset of `marker` in `input`, asserted to exist. */
function at(input: string, marker: string, from = 0): number {
  const index = input.indexOf(marker, from);
  assert.notEqual(index, -1, `marker ${JSON.stringify(marker)} not in input`);
  return index;
}

describe("RequestHeadParser request-line forms (RFC 9112 §3.2)", () => {
  const obsFold = `GET / HTTP/1.1\r\n${H}`;
  runCases([
    {
      name: "RequestHeadParser parses an origin-form target and takes the authority from Host",
      input: "GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
      expect: [
        req("GET", "/p?q=1", {
          targetForm: "origin",
          version: "HTTP/1.1",
          authority: "example.com",
          headers: [["Host", "example.com"]],
          bodyFraming: "none",
          keepAlive: true,
          expectContinue: false,
        }),
        RESPONSE,
      ],
    },
    {
      name: "RequestHeadParser gives an absolute-form authority precedence over Host",
      input: "GET http://origin.example:8080/x?y HTTP/1.1\r\nHost: other.example\r\n\r\n",
      expect: [
        req("GET", "http://origin.example:8080/x?y", {
          targetForm: "absolute",
          authority: "origin.example:8080",
        }),
        RESPONSE,
      ],
    },
    {
      name: "RequestHeadParser accepts an http absolute-form target with an upper-case scheme",
      input: "GET HTTP://a.example HTTP/1.1\r\nHost: b\r\n\r\n",
      expect: [req("GET", "HTTP://a.example", { targetForm: "absolute", authority: "a.example" }), RESPONSE],
    },
    {
      name: "RequestHeadParser answers 421 to an https target: it arrived over plain TCP (RFC 9110 §7.4)",
      input: "GET HTTPS://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
      expect: [err("MISDIRECTED_REQUEST", 421, { offset: 4 })],
    },
    {
      name: "RequestHeadParser rejects an absolute-form target with userinfo",
      input: "GET http://user@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
      expect: [err("BAD_TARGET", 400, { offset: 4 })],
    },
    {
      name: "RequestHeadParser rejects an http target with an empty host (RFC 9110 §4.2.1)",
      input: "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_TARGET", 400, { offset: 4 })],
    },
    {
      name: "RequestHeadParser still requires Host with an absolute-form target",
      input: "GET http://a.example/ HTTP/1.1\r\n\r\n",
      expect: [err("MISSING_HOST", 400, { offset: 32 })],
    },
    {
      name: "RequestHeadParser parses an authority-form target for CONNECT",
      input: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
      expect: [
        req("CONNECT", "example.com:443", { targetForm: "authority", authority: "example.com:443" }),
        RESPONSE,
      ],
    },
    {
      name: "RequestHeadParser accepts an IPv6 authority-form target for CONNECT",
      input: "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
      expect: [req("CONNECT", "[::1]:8443", { targetForm: "authority", authority: "[::1]:8443" }), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects CONNECT without a port",
      input: "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
      expect: [err("TARGET_FORM_MISMATCH", 400, { offset: 8 })],
    },
    {
      name: "RequestHeadParser rejects CONNECT with an origin-form target",
      input: "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("TARGET_FORM_MISMATCH", 400, { offset: 8 })],
    },
    {
      name: "RequestHeadParser rejects an authority-form target for a method other than CONNECT",
      input: "GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("TARGET_FORM_MISMATCH", 400, { offset: 4 })],
    },
    {
      name: "RequestHeadParser accepts the asterisk form for OPTIONS",
      input: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [req("OPTIONS", "*", { targetForm: "asterisk", authority: "a" }), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects the asterisk form for other methods",
      input: "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("TARGET_FORM_MISMATCH", 400, { offset: 4 })],
    },
    {
      name: "RequestHeadParser rejects a fragment in the target at the '#'",
      input: "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_TARGET", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects a target that is neither a path nor a URI",
      input: "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_TARGET", 400, { offset: 4 })],
    },
    {
      name: "RequestHeadParser rejects a non-ASCII byte in the target",
      input: "GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_TARGET", 400, { offset: 8 })],
    },
    {
      name: "RequestHeadParser rejects a bare CR in the target",
      input: "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BARE_CR", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser keeps the method's case (methods are case-sensitive)",
      input: "get / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [req("get", "/"), RESPONSE],
    },
    {
      name: "RequestHeadParser accepts any token as a method",
      input: "M-SEARCH_2! / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [req("M-SEARCH_2!", "/"), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects a method that is not a token",
      input: "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_METHOD", 400, { offset: 1 })],
    },
    {
      name: "RequestHeadParser rejects an empty method",
      input: " / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_METHOD", 400, { offset: 0 })],
    },
    {
      name: "RequestHeadParser rejects two spaces after the method",
      input: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_REQUEST_LINE", 400, { offset: 4 })],
    },
    {
      name: "RequestHeadParser rejects a request line without a version",
      input: "GET /\r\nHost: a\r\n\r\n",
      expect: [err("BAD_REQUEST_LINE", 400, { offset: 5 })],
    },
    {
      name: "RequestHeadParser rejects a request line of one word",
      input: "GET\r\n\r\n",
      expect: [err("BAD_REQUEST_LINE", 400, { offset: 3 })],
    },
    {
      name: "RequestHeadParser ignores empty lines before the request line (RFC 9112 §2.2)",
      input: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [req("GET", "/"), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects obs-fold at the offset of the folded line",
      input: `${obsFold}X-A: one\r\n two\r\n\r\n`,
      expect: [err("OBS_FOLD", 400, { offset: at(`${obsFold}X-A: one\r\n two\r\n\r\n`, " two") })],
    },
    {
      name: "RequestHeadParser rejects obs-fold with a tab",
      input: `${obsFold}X-A: one\r\n\ttwo\r\n\r\n`,
      expect: [err("OBS_FOLD", 400, { offset: obsFold.length + 10 })],
    },
    {
      name: "RequestHeadParser rejects a folded first header line (whitespace after the request line)",
      input: "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
      expect: [err("OBS_FOLD", 400, { offset: 16 })],
    },
  ]);
});

describe("RequestHeadParser versions (RFC 9112 §2.3, RFC 9110 §2.5)", () => {
  runCases([
    {
      name: "RequestHeadParser accepts HTTP/1.0",
      input: "GET / HTTP/1.0\r\n\r\n",
      expect: [req("GET", "/", { version: "HTTP/1.0", authority: null, keepAlive: false }), RESPONSE],
    },
    {
      name: "RequestHeadParser answers 505 to HTTP/2.0",
      input: "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
      expect: [err("VERSION_NOT_SUPPORTED", 505, { offset: 6 })],
    },
    {
      name: "RequestHeadParser answers 505 to HTTP/0.9 written as a version",
      input: "GET / HTTP/0.9\r\nHost: a\r\n\r\n",
      expect: [err("VERSION_NOT_SUPPORTED", 505, { offset: 6 })],
    },
    {
      name: "RequestHeadParser answers 505 to HTTP/1.2: only 1.0 and 1.1 are spoken",
      input: "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
      expect: [err("VERSION_NOT_SUPPORTED", 505, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects a lower-case protocol name",
      input: "GET / http/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_VERSION", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects a two-digit minor version",
      input: "GET / HTTP/1.10\r\nHost: a\r\n\r\n",
      expect: [err("BAD_VERSION", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects a version without a minor digit",
      input: "GET / HTTP/1\r\nHost: a\r\n\r\n",
      expect: [err("BAD_VERSION", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects a version with letters",
      input: "GET / HTTP/a.b\r\nHost: a\r\n\r\n",
      expect: [err("BAD_VERSION", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects trailing whitespace after the version",
      input: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
      expect: [err("BAD_VERSION", 400, { offset: 6 })],
    },
    {
      name: "RequestHeadParser rejects a bare CR inside the version",
      input: "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n",
      expect: [err("BARE_CR", 400, { offset: 14 })],
    },
  ]);
});

describe("RequestHeadParser line endings (RFC 9112 §2.2)", () => {
  runCases([
    {
      name: "RequestHeadParser rejects a bare LF before the request line",
      input: "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      expect: [err("BARE_LF", 400, { offset: 0 })],
    },
    {
      name: "RequestHeadParser rejects a bare LF ending the request line",
      input: "GET / HTTP/1.1\nHost: a\r\n\r\n",
      expect: [err("BARE_LF", 400, { offset: 14 })],
    },
    {
      name: "RequestHeadParser rejects a bare LF ending a header line",
      input: "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n",
      expect: [err("BARE_LF", 400, { offset: 23 })],
    },
    {
      name: "RequestHeadParser rejects a bare LF ending the head",
      input: "GET / HTTP/1.1\r\nHost: a\r\n\n",
      expect: [err("BARE_LF", 400, { offset: 25 })],
    },
    {
      name: "RequestHeadParser rejects a bare CR in a field value",
      input: "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
      expect: [err("BARE_CR", 400, { offset: 29 })],
    },
    {
      name: "RequestHeadParser rejects a bare CR at the end of a field value",
      input: "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n",
      expect: [err("BARE_CR", 400, { offset: 29 })],
    },
    {
      name: "RequestHeadParser rejects a bare CR in a field name",
      input: "GET / HTTP/1.1\r\nHost: a\r\nX\r: a\r\n\r\n",
      expect: [err("BARE_CR", 400, { offset: 26 })],
    },
  ]);
});

describe("RequestHeadParser header fields (RFC 9110 §5, RFC 9112 §5)", () => {
  const head = "GET / HTTP/1.1\r\nHost: a\r\n";
  runCases([
    {
      name: "RequestHeadParser trims whitespace around a field value and keeps the name's case",
      input: `${head}X-Mixed-Case: \t value with  inner  space \t \r\nEmpty:\r\nTabs:\t\t\r\n\r\n`,
      expect: [
        req("GET", "/", {
          headers: [["Host", "a"], ["X-Mixed-Case", "value with  inner  space"], ["Empty", ""], ["Tabs", ""]],
        }),
        RESPONSE,
      ],
    },
    {
      name: "RequestHeadParser keeps obs-text bytes of a field value as Latin-1",
      input: `${head}X: caf\xe9 \xff\r\n\r\n`,
      expect: [req("GET", "/", { headers: [["Host", "a"], ["X", "caf\xe9 \xff"]] }), RESPONSE],
    },
    {
      name: "RequestHeadParser keeps repeated fields in order",
      input: `${head}Accept: a\r\nAccept: b\r\n\r\n`,
      expect: [req("GET", "/", { headers: [["Host", "a"], ["Accept", "a"], ["Accept", "b"]] }), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects a space before the colon",
      input: `${head}X-A : 1\r\n\r\n`,
      expect: [err("SPACE_BEFORE_COLON", 400, { offset: head.length + 3 })],
    },
    {
      name: "RequestHeadParser rejects a tab before the colon",
      input: `${head}X-A\t: 1\r\n\r\n`,
      expect: [err("SPACE_BEFORE_COLON", 400, { offset: head.length + 3 })],
    },
    {
      name: "RequestHeadParser rejects a space before the colon of Host",
      input: "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      expect: [err("SPACE_BEFORE_COLON", 400, { offset: 20 })],
    },
    {
      name: "RequestHeadParser rejects an empty field name",
      input: `${head}: x\r\n\r\n`,
      expect: [err("BAD_FIELD_NAME", 400, { offset: head.length })],
    },
    {
      name: "RequestHeadParser rejects a field name with a separator",
      input: `${head}X(y): 1\r\n\r\n`,
      expect: [err("BAD_FIELD_NAME", 400, { offset: head.length + 1 })],
    },
    {
      name: "RequestHeadParser rejects a field line without a colon",
      input: `${head}NoColon\r\n\r\n`,
      expect: [err("BAD_FIELD_NAME", 400, { offset: head.length + 7 })],
    },
    {
      name: "RequestHeadParser rejects NUL in a field name",
      input: `${head}X\x00Y: 1\r\n\r\n`,
      expect: [err("BAD_FIELD_NAME", 400, { offset: head.length + 1 })],
    },
    {
      name: "RequestHeadParser rejects a non-ASCII byte in a field name",
      input: `${head}X\xe9: 1\r\n\r\n`,
      expect: [err("BAD_FIELD_NAME", 400, { offset: head.length + 1 })],
    },
    {
      name: "RequestHeadParser rejects NUL in a field value",
      input: `${head}X: a\x00b\r\n\r\n`,
      expect: [err("BAD_FIELD_VALUE", 400, { offset: head.length + 4 })],
    },
    {
      name: "RequestHeadParser rejects DEL in a field value",
      input: `${head}X: a\x7f\r\n\r\n`,
      expect: [err("BAD_FIELD_VALUE", 400, { offset: head.length + 4 })],
    },
    {
      name: "RequestHeadParser rejects other control bytes in a field value",
      input: `${head}X: a\x01\r\n\r\n`,
      expect: [err("BAD_FIELD_VALUE", 400, { offset: head.length + 4 })],
    },
  ]);
});

describe("RequestHeadParser Host (RFC 9112 §3.2, RFC 9110 §7.2)", () => {
  const end10 = (input: string) => input.length - 2;
  const missing = "GET / HTTP/1.1\r\nX: 1\r\n\r\n";
  const duplicate = "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n";
  runCases([
    {
      name: "RequestHeadParser rejects an HTTP/1.1 request without Host at the end of the head",
      input: missing,
      expect: [err("MISSING_HOST", 400, { offset: end10(missing) })],
    },
    {
      name: "RequestHeadParser accepts an HTTP/1.0 request without Host, with no authority",
      input: "GET / HTTP/1.0\r\n\r\n",
      expect: [req("GET", "/", { authority: null }), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects two Host fields even when equal",
      input: duplicate,
      expect: [err("DUPLICATE_HOST", 400, { offset: end10(duplicate) })],
    },
    {
      name: "RequestHeadParser rejects two Host fields in HTTP/1.0",
      input: "GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n",
      expect: [err("DUPLICATE_HOST", 400)],
    },
    {
      // An origin-form target's URI takes its host from Host, and an http URI with an empty host
      // is invalid (RFC 9110 §4.2.1): a Host field with an invalid value is a 400 (RFC 9112 §3.2).
      name: "RequestHeadParser rejects an empty Host on an origin-form request",
      input: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects an empty Host of only whitespace on an origin-form request",
      input: "GET /a HTTP/1.1\r\nHost:  \t \r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects an empty Host on an HTTP/1.0 origin-form request",
      input: "GET / HTTP/1.0\r\nHost:\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects an empty Host on OPTIONS *",
      input: "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      // The absolute-form target names the host; the Host field is then ignored (RFC 9112 §3.2.2).
      name: "RequestHeadParser accepts an empty Host beside an absolute-form target, whose authority wins",
      input: "GET http://example.com/a HTTP/1.1\r\nHost:\r\n\r\n",
      expect: [req("GET", "http://example.com/a", { authority: "example.com" }), RESPONSE],
    },
    {
      name: "RequestHeadParser accepts an IPv6 literal Host with a port",
      input: "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
      expect: [req("GET", "/", { authority: "[2001:db8::1]:8080" }), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects a Host with a space",
      input: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects a Host with userinfo",
      input: "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects a Host with a port above 65535",
      input: "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects a Host with a path",
      input: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
    {
      name: "RequestHeadParser rejects an invalid Host even with an absolute-form target",
      input: "GET http://a/ HTTP/1.1\r\nHost: a b\r\n\r\n",
      expect: [err("BAD_HOST", 400)],
    },
  ]);

  it("isValidHost accepts reg-names, IPv4, IPv6 literals and ports", () => {
    for (
      const value of ["example.com", "a", "127.0.0.1", "[::1]", "[::1]:0", "a:65535", "a:", "x-y_z~.%41"]
    ) {
      assert.equal(isValidHost(value, false), true, value);
    }
    assert.equal(isValidHost("", false), true);
  });

  it("isValidHost rejects bad characters, brackets and ports", () => {
    for (
      const value of ["a b", "a@b", "a/b", "[]", "[::1", "[::1]x", "[g::1]", "a:65536", "a:1x", "a:-1", "é"]
    ) {
      assert.equal(isValidHost(value, false), false, value);
    }
  });

  it("isValidHost requires a port for the authority form when asked", () => {
    assert.equal(isValidHost("a:80", true), true);
    assert.equal(isValidHost("[::1]:80", true), true);
    assert.equal(isValidHost("a", true), false);
    assert.equal(isValidHost("a:", true), false);
    assert.equal(isValidHost("", true), false);
    assert.equal(isValidHost(":80", true), false);
  });
});

describe("RequestHeadParser keep-alive (RFC 9112 §9.3)", () => {
  runCases([
    {
      name: "RequestHeadParser keeps an HTTP/1.1 connection alive by default",
      input: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`,
      expect: [req("GET", "/1", { keepAlive: true }), RESPONSE, req("GET", "/2"), RESPONSE],
    },
    {
      name:
        "RequestHeadParser closes after an HTTP/1.1 request with Connection: close and ignores what follows",
      input: `GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`,
      expect: [req("GET", "/1", { keepAlive: false }), RESPONSE],
    },
    {
      name: "RequestHeadParser finds close in a Connection list, case-insensitively",
      input: `GET / HTTP/1.1\r\n${H}Connection: Upgrade , CLOSE\r\n\r\n`,
      expect: [req("GET", "/", { keepAlive: false }), RESPONSE],
    },
    {
      name: "RequestHeadParser finds close in a second Connection field",
      input: `GET / HTTP/1.1\r\n${H}Connection: keep-alive\r\nConnection: close\r\n\r\n`,
      expect: [req("GET", "/", { keepAlive: false }), RESPONSE],
    },
    {
      name: "RequestHeadParser does not read close inside another token",
      input: `GET / HTTP/1.1\r\n${H}Connection: closed, x-close\r\n\r\n`,
      expect: [req("GET", "/", { keepAlive: true }), RESPONSE],
    },
    {
      name: "RequestHeadParser closes an HTTP/1.0 connection by default",
      input: "GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
      expect: [req("GET", "/1", { keepAlive: false }), RESPONSE],
    },
    {
      name: "RequestHeadParser keeps an HTTP/1.0 connection alive with Connection: keep-alive",
      input: "GET /1 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
      expect: [
        req("GET", "/1", { keepAlive: true }),
        RESPONSE,
        req("GET", "/2", { keepAlive: false }),
        RESPONSE,
      ],
    },
    {
      name: "RequestHeadParser lets close win over keep-alive in HTTP/1.0",
      input: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
      expect: [req("GET", "/", { keepAlive: false }), RESPONSE],
    },
  ]);

  it("RequestHeadParser's keep-alive decision shows in the response's Connection field", () => {
    const keep = feedAllSplits("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.match((keep.log[1] as { head: string }).head, /\r\nconnection: keep-alive\r\n/);
    assert.equal(keep.writeState, "idle");
    const close = feedAllSplits("GET / HTTP/1.0\r\n\r\n");
    assert.match((close.log[1] as { head: string }).head, /\r\nconnection: close\r\n/);
    assert.equal(close.writeState, "closed");
    const http11 = feedAllSplits(`GET / HTTP/1.1\r\n${H}\r\n`);
    assert.match(
      (http11.log[1] as { head: string }).head,
      /\r\nconnection: keep-alive\r\nkeep-alive: timeout=\d+\r\n/,
    );
  });
});

describe("RequestHeadParser Content-Length (RFC 9112 §6.3)", () => {
  const post = `POST / HTTP/1.1\r\n${H}`;
  runCases([
    {
      name: "RequestHeadParser frames a body by Content-Length",
      input: `${post}Content-Length: 5\r\n\r\nhello`,
      expect: [req("POST", "/", { bodyFraming: "length", contentLength: 5 }), data("hello"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser accepts a Content-Length list of one repeated value",
      input: `${post}Content-Length: 3 , 3,3\r\n\r\nabc`,
      expect: [req("POST", "/", { contentLength: 3 }), data("abc"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser accepts repeated Content-Length fields with the same value",
      input: `${post}Content-Length: 3\r\ncontent-length: 3\r\n\r\nabc`,
      expect: [req("POST", "/", { contentLength: 3 }), data("abc"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser accepts leading zeros in Content-Length",
      input: `${post}Content-Length: 003\r\n\r\nabc`,
      expect: [req("POST", "/", { contentLength: 3 }), data("abc"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser treats Content-Length: 0 as no body",
      input: `${post}Content-Length: 0\r\n\r\n`,
      expect: [req("POST", "/", { bodyFraming: "none", contentLength: 0 }), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects differing values in a Content-Length list",
      input: `${post}Content-Length: 3, 4\r\n\r\nabcd`,
      expect: [err("CONFLICTING_CONTENT_LENGTH", 400)],
    },
    {
      name: "RequestHeadParser rejects differing Content-Length fields",
      input: `${post}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
      expect: [err("CONFLICTING_CONTENT_LENGTH", 400)],
    },
    ...["+5", "-5", "0x5", "5.0", "5a", "1 2", "", ",", "5,", "\xb5"].map((value): Case => ({
      name: `RequestHeadParser rejects Content-Length ${JSON.stringify(value)}`,
      input: `${post}Content-Length: ${value}\r\n\r\nhello`,
      expect: [err("BAD_CONTENT_LENGTH", 400)],
    })),
    {
      name: "RequestHeadParser rejects a Content-Length beyond 2^53 - 1",
      input: `${post}Content-Length: 9007199254740992\r\n\r\n`,
      expect: [err("BAD_CONTENT_LENGTH", 400)],
    },
    {
      name: "RequestHeadParser rejects a twenty-digit Content-Length",
      input: `${post}Content-Length: 99999999999999999999\r\n\r\n`,
      expect: [err("BAD_CONTENT_LENGTH", 400)],
    },
    {
      name: "RequestHeadParser answers 413 to a Content-Length above the body limit, before reading the body",
      input: `${post}Content-Length: 9007199254740991\r\n\r\n`,
      expect: [err("BODY_TOO_LARGE", 413)],
    },
  ]);

  it("parseContentLength parses digits and lists of one value", () => {
    assert.equal(parseContentLength("0", 0), 0);
    assert.equal(parseContentLength("42", 0), 42);
    assert.equal(parseContentLength("042", 0), 42);
    assert.equal(parseContentLength("7,7 ,  7", 0), 7);
    assert.equal(parseContentLength("9007199254740991", 0), Number.MAX_SAFE_INTEGER);
  });

  it("parseContentLength throws HttpError with the given offset", () => {
    const check = (value: string, code: string) => {
      assert.throws(() => parseContentLength(value, 17), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.code, code);
        assert.equal(error.offset, 17);
        return true;
      }, value);
    };
    check("+1", "BAD_CONTENT_LENGTH");
    check("1e3", "BAD_CONTENT_LENGTH");
    check(" ", "BAD_CONTENT_LENGTH");
    check("9007199254740992", "BAD_CONTENT_LENGTH");
    check("1,2", "CONFLICTING_CONTENT_LENGTH");
  });
});

describe("RequestHeadParser Transfer-Encoding (RFC 9112 §6.1, §6.3)", () => {
  const post = `POST / HTTP/1.1\r\n${H}`;
  runCases([
    {
      name: "RequestHeadParser frames a body as chunked",
      input: `${post}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      expect: [req("POST", "/", { bodyFraming: "chunked", contentLength: 0 }), data("abc"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser reads the chunked coding case-insensitively",
      input: `${post}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`,
      expect: [req("POST", "/", { bodyFraming: "chunked" }), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser rejects Content-Length together with Transfer-Encoding",
      input: `${post}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      expect: [err("CL_TE_CONFLICT", 400)],
    },
    {
      name: "RequestHeadParser rejects Transfer-Encoding together with Content-Length in either order",
      input: `${post}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      expect: [err("CL_TE_CONFLICT", 400)],
    },
    {
      name: "RequestHeadParser answers 400 to a Transfer-Encoding that does not end in chunked",
      input: `${post}Transfer-Encoding: gzip\r\n\r\n`,
      expect: [err("BAD_TRANSFER_ENCODING", 400)],
    },
    {
      name: "RequestHeadParser answers 400 to chunked applied twice",
      input: `${post}Transfer-Encoding: chunked, chunked\r\n\r\n`,
      expect: [err("BAD_TRANSFER_ENCODING", 400)],
    },
    {
      name: "RequestHeadParser answers 400 to chunked followed by another coding",
      input: `${post}Transfer-Encoding: chunked, gzip\r\n\r\n`,
      expect: [err("BAD_TRANSFER_ENCODING", 400)],
    },
    {
      name: "RequestHeadParser answers 400 to an empty Transfer-Encoding",
      input: `${post}Transfer-Encoding:\r\n\r\n`,
      expect: [err("BAD_TRANSFER_ENCODING", 400)],
    },
    {
      name: "RequestHeadParser answers 400 to a coding that is not a token",
      input: `${post}Transfer-Encoding: x y, chunked\r\n\r\n`,
      expect: [err("BAD_TRANSFER_ENCODING", 400)],
    },
    {
      name: "RequestHeadParser answers 501 to an unknown coding before chunked",
      input: `${post}Transfer-Encoding: gzip, chunked\r\n\r\n`,
      expect: [err("UNSUPPORTED_TRANSFER_ENCODING", 501)],
    },
    {
      name: "RequestHeadParser joins Transfer-Encoding fields before checking them",
      input: `${post}Transfer-Encoding: x-custom\r\nTransfer-Encoding: chunked\r\n\r\n`,
      expect: [err("UNSUPPORTED_TRANSFER_ENCODING", 501)],
    },
    {
      name: "RequestHeadParser rejects Transfer-Encoding in an HTTP/1.0 request",
      input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      expect: [err("TRANSFER_ENCODING_HTTP10", 400)],
    },
  ]);
});

describe("RequestHeadParser Expect (RFC 9110 §10.1.1)", () => {
  const post = `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\n`;
  runCases([
    {
      name: "RequestHeadParser flags Expect: 100-continue",
      input: `${post}Expect: 100-continue\r\n\r\nhi`,
      expect: [req("POST", "/", { expectContinue: true }), data("hi"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser reads the 100-continue expectation case-insensitively",
      input: `${post}Expect: 100-Continue\r\n\r\nhi`,
      expect: [req("POST", "/", { expectContinue: true }), data("hi"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser ignores 100-continue in an HTTP/1.0 request",
      input: "POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi",
      expect: [req("POST", "/", { expectContinue: false }), data("hi"), end(), RESPONSE],
    },
    {
      name: "RequestHeadParser answers 417 to another expectation",
      input: `${post}Expect: 200-ok\r\n\r\nhi`,
      expect: [err("EXPECTATION_FAILED", 417)],
    },
  ]);
});

describe("RequestHeadParser limits (each at the limit and one past it)", () => {
  it("RequestHeadParser accepts a target of exactly maxTargetLength and answers 414 to one byte more", () => {
    const limits = { maxTargetLength: 20 };
    const target = `/${"t".repeat(19)}`;
    const ok = feedAllSplits(`GET ${target} HTTP/1.1\r\n${H}\r\n`, { limits });
    assertLog(ok.log, [req("GET", target), RESPONSE]);
    const long = feedAllSplits(`GET ${target}u HTTP/1.1\r\n${H}\r\n`, { limits });
    assertLog(long.log, [err("URI_TOO_LONG", 414)]);
  });

  it("RequestHeadParser answers 414 to a huge target before its line ends", () => {
    const limits = { maxTargetLength: 32 };
    // No CRLF at all: the parser must not wait for the end of the line.
    const result = feedAllSplits(`GET /${"x".repeat(200)}`, { limits });
    assertLog(result.log, [err("URI_TOO_LONG", 414, { offset: 0 })]);
  });

  it("RequestHeadParser answers 501 to a method one byte past maxMethodLength, in every split", () => {
    // A method is not a target: a too-long one is 501 (RFC 9112 §3), not 414, whatever the
    // request line's length, and at the line's first byte.
    const target = `/${"t".repeat(19)}`;
    const limits = { maxTargetLength: 20 };
    const atLimit = feedAllSplits(`${"M".repeat(32)} ${target} HTTP/1.1\r\n${H}\r\n`, { limits });
    assertLog(atLimit.log, [req("M".repeat(32), target), RESPONSE]);
    const over = feedAllSplits(`${"M".repeat(33)} ${target} HTTP/1.1\r\n${H}\r\n`, { limits });
    assertLog(over.log, [err("METHOD_TOO_LONG", 501, { offset: 0 })]);
    const longer = feedAllSplits(`${"M".repeat(70)} ${target} HTTP/1.1\r\n${H}\r\n`, { limits });
    assertLog(longer.log, [err("METHOD_TOO_LONG", 501, { offset: 0 })]);
    const own = { maxMethodLength: 5 };
    assertLog(feedAllSplits(`MKCOL / HTTP/1.1\r\n${H}\r\n`, { limits: own }).log, [
      req("MKCOL", "/"),
      RESPONSE,
    ]);
    assertLog(feedAllSplits(`MKCOLX / HTTP/1.1\r\n${H}\r\n`, { limits: own }).log, [
      err("METHOD_TOO_LONG", 501, { offset: 0 }),
    ]);
  });

  it("RequestHeadParser answers 501 to a 100 KB method, whole and in pieces, without waiting for its end", () => {
    const huge = bytes(`${"A".repeat(100 * 1024)} / HTTP/1.1\r\n${H}\r\n`);
    for (const size of [1, 7, 33, 4096, huge.length]) {
      const pieces = Array.from(
        { length: Math.ceil(huge.length / size) },
        (_, i) => huge.slice(i * size, (i + 1) * size),
      );
      const result = feedConnection(pieces, {});
      assertLog(result.log, [err("METHOD_TOO_LONG", 501, { offset: 0 })]);
    }
    // The answer comes once 33 bytes of method are in, long before the line's end.
    const early = feedConnection([bytes("A".repeat(33))], {});
    assertLog(early.log, [err("METHOD_TOO_LONG", 501, { offset: 0 })]);
    const after = feedConnection([bytes(`\r\n\r\n${"A".repeat(33)}`)], {});
    assertLog(after.log, [err("METHOD_TOO_LONG", 501, { offset: 4 })]); // after empty lines: the line's start
  });

  it("RequestHeadParser lets a smaller head limit answer first, for a long method, in every split", () => {
    // With a head limit below the method limit, the head limit is reached first, at an earlier
    // byte, so it answers (414 for a request line), the same in every split.
    const result = feedAllSplits(`${"M".repeat(40)} / HTTP/1.1\r\n${H}\r\n`, {
      limits: { maxHeaderBytes: 30 },
    });
    assertLog(result.log, [err("URI_TOO_LONG", 414, { offset: 0 })]);
  });

  it("RequestHeadParser accepts a head of exactly maxHeaderBytes and answers 431 to one byte more", () => {
    const limits = { maxHeaderBytes: 100 };
    const build = (size: number) => {
      const start = `GET / HTTP/1.1\r\n${H}X: `;
      return `${start}${"v".repeat(size - start.length - 4)}\r\n\r\n`;
    };
    assert.equal(build(100).length, 100);
    assertLog(feedAllSplits(build(100), { limits }).log, [req("GET", "/"), RESPONSE]);
    const over = build(101);
    assertLog(feedAllSplits(over, { limits }).log, [
      err("HEADERS_TOO_LARGE", 431, { offset: over.length - 2 }),
    ]);
  });

  it("RequestHeadParser counts leading empty lines in maxHeaderBytes", () => {
    const limits = { maxHeaderBytes: 30 };
    const input = `GET / HTTP/1.1\r\nHost: a\r\n\r\n`;
    assert.equal(input.length, 27);
    assertLog(feedAllSplits(`\r\n${input}`, { limits }).log, [req("GET", "/"), RESPONSE]);
    assertLog(feedAllSplits(`\r\n\r\n${input}`, { limits }).log, [err("HEADERS_TOO_LARGE", 431)]);
  });

  it("RequestHeadParser answers 431 to one endless header line at the start of that line", () => {
    const limits = { maxHeaderBytes: 64 };
    const start = `GET / HTTP/1.1\r\n${H}`;
    const result = feedAllSplits(`${start}X-Long: ${"a".repeat(200)}`, { limits });
    assertLog(result.log, [err("HEADERS_TOO_LARGE", 431, { offset: start.length })]);
  });

  it("RequestHeadParser refuses an over-long line ending in a bare LF as too long, in every split", () => {
    const limits = { maxHeaderBytes: 64 };
    const start = `GET / HTTP/1.1\r\n${H}`;
    const long = feedAllSplits(`${start}X: ${"a".repeat(60)}\nrest\r\n\r\n`, { limits });
    assertLog(long.log, [err("HEADERS_TOO_LARGE", 431, { offset: start.length })]);
    const fits = feedAllSplits(`${start}X: ${"a".repeat(20)}\nrest\r\n\r\n`, { limits });
    assertLog(fits.log, [err("BARE_LF", 400, { offset: start.length + 23 })]);
    const line = feedAllSplits(`GET /${"a".repeat(100)}\n`, { limits: { maxTargetLength: 10 } });
    assertLog(line.log, [err("URI_TOO_LONG", 414, { offset: 0 })]);
  });

  it("RequestHeadParser answers 414 to a request line longer than maxHeaderBytes", () => {
    const limits = { maxHeaderBytes: 40 };
    const result = feedAllSplits(`GET /${"a".repeat(40)} HTTP/1.1\r\n${H}\r\n`, { limits });
    assertLog(result.log, [err("URI_TOO_LONG", 414, { offset: 0 })]);
  });

  it("RequestHeadParser accepts exactly maxHeaderCount fields and answers 431 to one more", () => {
    const limits = { maxHeaderCount: 3 };
    const ok = `GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\n\r\n`;
    assertLog(feedAllSplits(ok, { limits }).log, [req("GET", "/"), RESPONSE]);
    const over = `GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`;
    assertLog(feedAllSplits(over, { limits }).log, [
      err("TOO_MANY_HEADERS", 431, { offset: at(over, "C: 3") }),
    ]);
  });

  it("RequestHeadParser applies DEFAULT_PROTOCOL_LIMITS: 100 fields pass, 101 do not", () => {
    const fields = (n: number) => Array.from({ length: n - 1 }, (_, i) => `F${i}: ${i}\r\n`).join("");
    const parse = (n: number) => {
      const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
      const input = bytes(`GET / HTTP/1.1\r\n${H}${fields(n)}\r\n`);
      try {
        return parser.push(input, 0, input.length, 0) === input.length ? "ok" : "incomplete";
      } catch (error) {
        return (error as HttpError).code;
      }
    };
    assert.equal(parse(100), "ok");
    assert.equal(parse(101), "TOO_MANY_HEADERS");
  });

  it("RequestHeadParser answers 413 to a declared body one byte over maxBodyBytes and accepts the limit", () => {
    const limits = { maxBodyBytes: 10 };
    const post = `POST / HTTP/1.1\r\n${H}`;
    const ok = feedAllSplits(`${post}Content-Length: 10\r\n\r\n0123456789`, { limits });
    assertLog(ok.log, [req("POST", "/"), data("0123456789"), end(), RESPONSE]);
    const over = `${post}Content-Length: 11\r\n\r\n0123456789a`;
    assertLog(feedAllSplits(over, { limits }).log, [
      err("BODY_TOO_LARGE", 413, { offset: at(over, "\r\n\r\n") + 2 }),
    ]);
  });
});

describe("LineReader", () => {
  it("LineReader returns a line inside one array in place", () => {
    const reader = new LineReader();
    const input = bytes("abc\r\ndef\r\n");
    assert.equal(reader.read(input, 0, input.length, 100), 5);
    assert.equal(reader.line, input);
    assert.equal(str(reader.line.subarray(reader.lineStart, reader.lineEnd)), "abc");
    assert.equal(reader.lineOffset, 100);
    assert.equal(reader.read(input, 5, input.length, 105), 10);
    assert.equal(str(reader.line.subarray(reader.lineStart, reader.lineEnd)), "def");
    assert.equal(reader.lineOffset, 105);
  });

  it("LineReader joins a line split between CR and LF", () => {
    const reader = new LineReader();
    const a = bytes("ab\r");
    const b = bytes("\nrest");
    assert.equal(reader.read(a, 0, a.length, 0), -1);
    assert.equal(reader.pendingBytes, 3);
    assert.equal(reader.read(b, 0, b.length, 3), 1);
    assert.equal(str(reader.line.subarray(reader.lineStart, reader.lineEnd)), "ab");
    assert.equal(reader.lineOffset, 0);
    assert.equal(reader.pendingBytes, 0);
  });

  it("LineReader does not look past the end it is given", () => {
    const reader = new LineReader();
    const input = bytes("ab\r\n");
    assert.equal(reader.read(input, 0, 2, 0), -1);
    assert.equal(reader.pendingBytes, 2);
  });

  it("LineReader rejects a bare LF split from the line before it", () => {
    const reader = new LineReader();
    reader.read(bytes("ab"), 0, 2, 0);
    assert.throws(() => reader.read(bytes("\n"), 0, 1, 2), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.code, "BARE_LF");
      assert.equal(error.offset, 2);
      return true;
    });
  });

  it("LineReader reset forgets a partial line", () => {
    const reader = new LineReader();
    reader.read(bytes("abc"), 0, 3, 0);
    reader.reset();
    assert.equal(reader.pendingBytes, 0);
    const input = bytes("x\r\n");
    assert.equal(reader.read(input, 0, 3, 0), 3);
    assert.equal(str(reader.line.subarray(reader.lineStart, reader.lineEnd)), "x");
  });
});

describe("parseFieldLine", () => {
  const parse = (line: string): string[] => {
    const fields: string[] = [];
    const input = bytes(line);
    parseFieldLine(input, 0, input.length, 0, fields);
    return fields;
  };
  const code = (line: string): string => {
    try {
      parse(line);
      return "ok";
    } catch (error) {
      return `${(error as HttpError).code}@${(error as HttpError).offset}`;
    }
  };

  it("parseFieldLine trims optional whitespace and keeps the name as sent", () => {
    assert.deepEqual(parse("Content-Type: \ttext/plain \t"), ["Content-Type", "text/plain"]);
    assert.deepEqual(parse("x:"), ["x", ""]);
    assert.deepEqual(parse("x:a:b"), ["x", "a:b"]);
  });

  it("parseFieldLine reports each violation at its byte", () => {
    assert.equal(code(" x: 1"), "OBS_FOLD@0");
    assert.equal(code("x : 1"), "SPACE_BEFORE_COLON@1");
    assert.equal(code(": 1"), "BAD_FIELD_NAME@0");
    assert.equal(code("x"), "BAD_FIELD_NAME@1");
    assert.equal(code("x\r: 1"), "BARE_CR@1");
    assert.equal(code("x: a\rb"), "BARE_CR@4");
    assert.equal(code("x: a\x00"), "BAD_FIELD_VALUE@4");
    assert.equal(code("x: \x0b"), "BAD_FIELD_VALUE@3");
  });
});

describe("RequestHeadParser direct use", () => {
  it("RequestHeadParser reports started only once a byte has arrived", () => {
    const parser = new RequestHeadParser(resolveProtocolLimits());
    assert.equal(parser.started, false);
    parser.push(bytes("G"), 0, 1, 0);
    assert.equal(parser.started, true);
    parser.reset();
    assert.equal(parser.started, false);
  });

  it("RequestHeadParser returns the index after the head and its byteLength", () => {
    const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
    const input = bytes(`\r\nGET / HTTP/1.1\r\n${H}\r\nBODY`);
    const next = parser.push(input, 0, input.length, 0);
    assert.equal(next, input.length - 4);
    assert.equal(parser.head?.byteLength, input.length - 4);
    assert.deepEqual(parser.head?.fields, ["Host", "a"]);
  });

  it("RequestHeadParser parses a second head after reset", () => {
    const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
    const one = bytes(`GET /1 HTTP/1.1\r\n${H}\r\n`);
    parser.push(one, 0, one.length, 0);
    parser.reset();
    const headOf = (p: RequestHeadParser) => p.head;
    assert.equal(headOf(parser), null);
    const two = bytes(`GET /2 HTTP/1.0\r\n\r\n`);
    assert.equal(parser.push(two, 0, two.length, one.length), two.length);
    assert.equal(headOf(parser)?.target, "/2");
    assert.deepEqual(headOf(parser)?.fields, []);
  });
});

describe("ServerConnection end of input in the head (RFC 9112 §8)", () => {
  runCases([
    {
      name: "ServerConnection reports INCOMPLETE_MESSAGE on EOF in the middle of a head",
      input: "GET / HTTP/1.1\r\nHo",
      options: { eof: true },
      expect: [err("INCOMPLETE_MESSAGE", 400, { offset: 18 })],
    },
    {
      name: "ServerConnection reports INCOMPLETE_MESSAGE on EOF after a CR",
      input: "GET / HTTP/1.1\r\nHost: a\r\n\r",
      options: { eof: true },
      expect: [err("INCOMPLETE_MESSAGE", 400, { offset: 26 })],
    },
    {
      name: "ServerConnection reports a close on EOF between requests",
      input: `GET / HTTP/1.1\r\n${H}\r\n`,
      options: { eof: true },
      expect: [req("GET", "/"), RESPONSE, CLOSE],
    },
    {
      name: "ServerConnection waits for more input without EOF",
      input: "GET / HTTP/1.1\r\nHo",
      expect: [],
    },
  ]);
});

describe("RequestHeadParser repeated heads (its Latin1Memo)", () => {
  /** Parses each head in turn with one parser, as a keep-alive connection does. */
  function parseAll(
    heads: readonly string[],
  ): { method: string; target: string; fields: readonly string[] }[] {
    const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
    return heads.map((text) => {
      const input = bytes(text);
      assert.equal(parser.push(input, 0, input.length, 0), input.length);
      const head = parser.head!;
      parser.reset();
      return { method: head.method, target: head.target, fields: head.fields };
    });
  }

  it("RequestHeadParser reads a changed byte in a repeated method, target, name or value", () => {
    const heads = [
      "GET /abc HTTP/1.1\r\nHost: a\r\nX-Key: value1\r\n\r\n",
      "GET /abc HTTP/1.1\r\nHost: a\r\nX-Key: value1\r\n\r\n",
      "PUT /abd HTTP/1.1\r\nHost: b\r\nX-Kez: value2\r\nContent-Length: 0\r\n\r\n",
      "GET /abd HTTP/1.1\r\nHost: b\r\nX-Key: valu\r\n\r\n",
    ];
    assert.deepEqual(parseAll(heads), [
      { method: "GET", target: "/abc", fields: ["Host", "a", "X-Key", "value1"] },
      { method: "GET", target: "/abc", fields: ["Host", "a", "X-Key", "value1"] },
      { method: "PUT", target: "/abd", fields: ["Host", "b", "X-Kez", "value2", "Content-Length", "0"] },
      { method: "GET", target: "/abd", fields: ["Host", "b", "X-Key", "valu"] },
    ]);
  });

  it("RequestHeadParser checks a Host that differs from the last valid one", () => {
    const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
    for (const [host, valid] of [["a.example", true], ["a.example", true], ["a.ex ample", false]] as const) {
      const input = bytes(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      if (valid) {
        assert.equal(parser.push(input, 0, input.length, 0), input.length);
        parser.reset();
      } else {
        assert.throws(
          () => parser.push(input, 0, input.length, 0),
          (error: unknown) => error instanceof HttpError && error.code === "BAD_HOST",
        );
      }
    }
  });

  it("RequestHeadParser keeps obs-text bytes of a repeated value as Latin-1", () => {
    const head = "GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xe9\r\n\r\n";
    const input = Uint8Array.from(head, (c) => c.charCodeAt(0));
    const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
    for (let round = 0; round < 2; round++) {
      assert.equal(parser.push(input, 0, input.length, 0), input.length);
      assert.equal(parser.head!.fields[3], "caf\u00e9");
      parser.reset();
    }
  });
});

describe("RequestHeadParser's memory of the last field section", () => {
  /** What a parser makes of one head given whole: the head, or the error's code and offset. */
  const parse = (parser: RequestHeadParser, text: string): unknown => {
    const input = new Uint8Array(Array.from(text, (char) => char.charCodeAt(0)));
    try {
      const at = parser.push(input, 0, input.length, 0);
      return at === -1 ? "incomplete" : { at, head: parser.head };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return { code: error.code, offset: error.offset };
    } finally {
      parser.reset();
    }
  };
  /** The same, given in two pieces cut at `cut` (the index is given as in the whole input). */
  const parseSplit = (parser: RequestHeadParser, text: string, cut: number): unknown => {
    const input = new Uint8Array(Array.from(text, (char) => char.charCodeAt(0)));
    try {
      if (parser.push(input.subarray(0, cut), 0, cut, 0) !== -1) return "complete too early";
      const at = parser.push(input.subarray(cut), 0, input.length - cut, cut);
      return at === -1 ? "incomplete" : { at: at + cut, head: parser.head };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return { code: error.code, offset: error.offset };
    } finally {
      parser.reset();
    }
  };
  const FIELDS = "Host: a\r\nUser-Agent: test/1.0\r\nAccept: */*\r\nCookie: s=1\r\n\r\n";
  const heads = [
    `GET / HTTP/1.1\r\n${FIELDS}`,
    `GET /other?q=1 HTTP/1.1\r\n${FIELDS}`,
    `GET / HTTP/1.0\r\n${FIELDS}`,
    `CONNECT a:443 HTTP/1.1\r\n${FIELDS}`,
    // The same section is valid for an absolute-form target and not for an origin-form one.
    "GET http://b/ HTTP/1.1\r\nHost: \r\nX: 1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: \r\nX: 1\r\n\r\n",
    // Transfer-Encoding is refused in HTTP/1.0 only.
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    // One byte differs, and makes a value invalid.
    `GET / HTTP/1.1\r\n${FIELDS.replace("s=1", "s=\x01")}`,
    // Bare LF line endings, and a section that ends short of its empty line.
    "GET / HTTP/1.1\nHost: a\nUser-Agent: test/1.0\n\n",
    `GET / HTTP/1.1\r\n${FIELDS.slice(0, -2)}`,
    // A longer target: with a small header limit, the same section no longer fits.
    `GET /${"a".repeat(40)} HTTP/1.1\r\n${FIELDS}`,
  ];

  it("after any head, a parser reads the next one as a new parser does, whole or split", () => {
    for (const maxHeaderBytes of [DEFAULT_PROTOCOL_LIMITS.maxHeaderBytes, 100]) {
      const limits = resolveProtocolLimits({ maxHeaderBytes });
      for (const first of heads) {
        for (const second of heads) {
          const used = new RequestHeadParser(limits);
          parse(used, first);
          const expected = parse(new RequestHeadParser(limits), second);
          assert.deepEqual(
            parse(used, second),
            expected,
            `${JSON.stringify(second)} after ${JSON.stringify(first)}`,
          );
          // And the same head twice in a row, the second time from the memory, and then split in two.
          parse(used, second);
          assert.deepEqual(parse(used, second), expected, `${JSON.stringify(second)} twice`);
          for (const cut of [1, second.length >> 1, second.length - 1]) {
            parse(used, second);
            assert.deepEqual(
              parseSplit(used, second, cut),
              expected,
              `${JSON.stringify(second)} cut at ${cut}`,
            );
          }
        }
      }
    }
  });

  it("a field section that differs from the last in any one byte is read as a new parser reads it", () => {
    const base = "GET / HTTP/1.1\r\nHost: a.test\r\nAccept: text/html\r\nX-Abc: 1\r\n\r\n";
    const sectionStart = base.indexOf("\r\n") + 2;
    for (let at = sectionStart; at < base.length - 4; at++) {
      const changed = base.slice(0, at) + (base[at] === "x" ? "y" : "x") + base.slice(at + 1);
      const used = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
      parse(used, base);
      parse(used, base); // the second one from the memory
      const expected = parse(new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS), changed);
      assert.deepEqual(parse(used, changed), expected, `byte ${at} changed: ${JSON.stringify(changed)}`);
    }
  });

  it("a head read from the memory has fields of its own: changing one head's fields changes no other", () => {
    const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
    const first = parse(parser, heads[0]) as { head: { fields: string[] } };
    const second = parse(parser, heads[1]) as { head: { fields: string[] } };
    assert.notEqual(second.head.fields, first.head.fields);
    first.head.fields[1] = "changed";
    const third = parse(parser, heads[0]) as { head: { fields: string[] } };
    assert.equal(third.head.fields[1], "a");
    assert.deepEqual(second.head.fields, third.head.fields);
  });
});
