/**
 * Response serialization: reason phrases, the Date cache, field lines, chunk framing and the
 * ready-made error responses.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DateCache,
  encodeChunk,
  encodeHead,
  encodeLastChunk,
  errorResponseBytes,
  fieldLine,
  HttpError,
  type HttpErrorCode,
  LAST_CHUNK,
  LocalProtocolError,
  PROTOCOL_ERRORS,
  REASON_PHRASES,
  reasonPhrase,
} from "../../src/core/mod.ts";
import { bytes, str } from "./_feed.ts";

describe("reasonPhrase", () => {
  it("reasonPhrase gives the RFC 9110 phrase for a standard status", () => {
    assert.equal(reasonPhrase(200), "OK");
    assert.equal(reasonPhrase(404), "Not Found");
    assert.equal(reasonPhrase(413), "Content Too Large");
    assert.equal(reasonPhrase(422), "Unprocessable Content");
    assert.equal(reasonPhrase(431), "Request Header Fields Too Large");
    assert.equal(reasonPhrase(505), "HTTP Version Not Supported");
  });

  it("reasonPhrase uses the handler's text when it is a valid reason phrase", () => {
    assert.equal(reasonPhrase(200, "All Good"), "All Good");
    assert.equal(reasonPhrase(200, "caf\xe9"), "caf\xe9");
  });

  it("reasonPhrase falls back to the standard phrase for an empty or invalid text", () => {
    assert.equal(reasonPhrase(200, ""), "OK");
    assert.equal(reasonPhrase(200, "a\r\nSet-Cookie: x"), "OK");
    assert.equal(reasonPhrase(200, "nul\x00"), "OK");
    assert.equal(reasonPhrase(200, "\u2603"), "OK");
  });

  it("reasonPhrase gives an empty phrase for an unknown status", () => {
    assert.equal(reasonPhrase(299), "");
  });
});

describe("DateCache", () => {
  it("DateCache formats an IMF-fixdate (RFC 9110 §5.6.7)", () => {
    const dates = new DateCache();
    assert.equal(dates.format(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert.equal(dates.format(Date.UTC(2026, 1, 3, 4, 5, 6)), "Tue, 03 Feb 2026 04:05:06 GMT");
    assert.match(
      dates.format(1_790_000_000_123),
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
  });

  it("DateCache formats once per second", () => {
    const original = Date.prototype.toUTCString;
    let calls = 0;
    Date.prototype.toUTCString = function (this: Date): string {
      calls++;
      return original.call(this);
    };
    try {
      const dates = new DateCache();
      assert.equal(dates.format(5000), "Thu, 01 Jan 1970 00:00:05 GMT");
      assert.equal(dates.format(5001), "Thu, 01 Jan 1970 00:00:05 GMT");
      assert.equal(dates.format(5999), "Thu, 01 Jan 1970 00:00:05 GMT");
      assert.equal(calls, 1);
      assert.equal(dates.format(6000), "Thu, 01 Jan 1970 00:00:06 GMT");
      assert.equal(calls, 2);
      assert.equal(dates.format(5500), "Thu, 01 Jan 1970 00:00:05 GMT", "going back formats again");
      assert.equal(calls, 3);
    } finally {
      Date.prototype.toUTCString = original;
    }
  });
});

describe("fieldLine", () => {
  it("fieldLine formats a valid field", () => {
    assert.equal(
      fieldLine("Content-Type", "text/plain; charset=utf-8"),
      "Content-Type: text/plain; charset=utf-8\r\n",
    );
    assert.equal(fieldLine("x-empty", ""), "x-empty: \r\n");
    assert.equal(fieldLine("x", "a\tb \xe9"), "x: a\tb \xe9\r\n");
  });

  it("fieldLine rejects a name that is not a token", () => {
    for (const name of ["", "a b", "a:b", "a\r\n", "caf\xe9", "\u0100"]) {
      assert.throws(() => fieldLine(name, "v"), LocalProtocolError, JSON.stringify(name));
    }
  });

  it("fieldLine rejects CR, LF, NUL, other controls, non-Latin-1 text and surrounding whitespace", () => {
    for (const value of ["a\r\nb: c", "a\rb", "a\nb", "\x00", "\x7f", "\x1b[31m", "\u0100", " a", "a\t"]) {
      assert.throws(() => fieldLine("x", value), LocalProtocolError, JSON.stringify(value));
    }
  });
});

describe("encodeHead, encodeChunk and encodeLastChunk", () => {
  it("encodeHead writes one byte per character", () => {
    assert.deepEqual([...encodeHead("A\xe9\r\n")], [0x41, 0xe9, 0x0d, 0x0a]);
  });

  it("encodeChunk frames data with a lower-case hex size", () => {
    assert.equal(str(encodeChunk(bytes("a"))), "1\r\na\r\n");
    assert.equal(str(encodeChunk(new Uint8Array(255))), `ff\r\n${"\x00".repeat(255)}\r\n`);
    assert.equal(str(encodeChunk(new Uint8Array(4096))).slice(0, 6), "1000\r\n");
  });

  it("encodeLastChunk ends a body with or without trailers", () => {
    assert.equal(str(encodeLastChunk()), "0\r\n\r\n");
    assert.equal(encodeLastChunk([]), LAST_CHUNK);
    assert.equal(str(encodeLastChunk([["x-a", "1"], ["X-B", "2"]])), "0\r\nx-a: 1\r\nX-B: 2\r\n\r\n");
    assert.throws(() => encodeLastChunk([["x", "a\r\nb"]]), LocalProtocolError);
  });
});

describe("errorResponseBytes", () => {
  const date = "Thu, 01 Jan 1970 00:00:00 GMT";

  for (const code of Object.keys(PROTOCOL_ERRORS) as HttpErrorCode[]) {
    it(`errorResponseBytes answers ${code} with its status, a close and a one-line body`, () => {
      const error = new HttpError(code, 123);
      const text = str(errorResponseBytes(error, date));
      const headEnd = text.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = text.slice(0, headEnd).split("\r\n");
      const reason = REASON_PHRASES[error.status];
      assert.ok(reason, `status ${error.status} has a reason phrase`);
      assert.equal(statusLine, `HTTP/1.1 ${error.status} ${reason}`);
      assert.deepEqual(lines.map((line) => line.toLowerCase().split(": ")[0]).sort(), [
        "connection",
        "content-length",
        "content-type",
        "date",
      ]);
      assert.ok(lines.includes("connection: close"));
      assert.ok(lines.includes(`date: ${date}`));
      assert.ok(lines.includes("content-type: text/plain; charset=utf-8"));
      const body = text.slice(headEnd + 4);
      assert.ok(lines.includes(`content-length: ${body.length}`));
      assert.equal(body, `${reason}: ${PROTOCOL_ERRORS[code].message} (${code})\n`);
      assert.equal(body.indexOf("\n"), body.length - 1, "one line");
    });
  }

  it("errorResponseBytes never echoes request bytes", () => {
    const conn = bytes("GET /<script>alert(1)</script> HTTP/1.1\r\nHost: a\r\n\x00\r\n\r\n");
    const error = new HttpError("BAD_FIELD_NAME", conn.indexOf(0));
    const text = str(errorResponseBytes(error, date));
    assert.ok(!text.includes("script"));
    assert.ok(!text.includes("\x00"));
  });
});
