/**
 * Body decoders (RFC 9112 §6.3, §7.1): ContentLengthDecoder, ChunkedDecoder and
 * isValidChunkExtension, each input fed whole, at every split and in chunks of every size; and
 * the same framings read through ServerConnection.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ChunkedDecoder,
  ContentLengthDecoder,
  HttpError,
  isValidChunkExtension,
  type ProtocolLimits,
  resolveProtocolLimits,
} from "../../src/core/mod.ts";
import {
  assertLog,
  bytes,
  type Case,
  cut,
  data,
  end,
  err,
  feedAllSplits,
  pairs,
  req,
  RESPONSE,
  splitPatterns,
  str,
} from "./_feed.ts";

/** What a decoder made of an input. */
interface Decoded {
  body: string;
  trailers: [string, string][];
  done: boolean;
  /** Bytes after the end of the body, untouched. */
  rest: string;
  error: { code: string; offset: number } | null;
}

function decodeChunked(pieces: readonly Uint8Array[], limits: Partial<ProtocolLimits> = {}): Decoded {
  const decoder = new ChunkedDecoder(resolveProtocolLimits(limits));
  const out: Decoded = { body: "", trailers: [], done: false, rest: "", error: null };
  let offset = 0;
  try {
    for (const piece of pieces) {
      let at = 0;
      while (at < piece.length && !decoder.done) {
        const next = decoder.read(piece, at, piece.length, offset);
        assert.ok(next > at || decoder.done, "read makes progress");
        if (decoder.data !== null) {
          assert.ok(decoder.data.byteLength > 0, "data is never empty");
          out.body += str(decoder.data);
        }
        offset += next - at;
        at = next;
      }
      if (decoder.done) out.rest += str(piece.subarray(at));
    }
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    out.error = { code: error.code, offset: error.offset };
  }
  out.done = decoder.done;
  out.trailers = pairs(decoder.trailers);
  return out;
}

/** Decodes under every split pattern, asserts they agree, and returns the result. */
function chunkedAllSplits(input: string, limits: Partial<ProtocolLimits> = {}): Decoded {
  const raw = bytes(input);
  const whole = decodeChunked([raw.slice()], limits);
  for (const pattern of splitPatterns(raw.length)) {
    assert.deepEqual(decodeChunked(cut(raw, pattern.cuts), limits), whole, `fed as ${pattern.name}`);
  }
  return whole;
}

const ok = (body: string, trailers: [string, string][] = [], rest = ""): Partial<Decoded> => ({
  body,
  trailers,
  done: true,
  rest,
  error: null,
});
const bad = (code: string, offset?: number): Partial<Decoded> => ({
  done: false,
  error: offset === undefined ? { code, offset: -1 } : { code, offset },
});

interface ChunkCase {
  readonly name: string;
  readonly input: string;
  readonly expect: Partial<Decoded>;
  readonly limits?: Partial<ProtocolLimits>;
}

function runChunkCases(cases: readonly ChunkCase[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const result = chunkedAllSplits(c.input, c.limits);
      const expect = { ...c.expect };
      if (expect.error && expect.error.offset === -1) {
        expect.error = { ...expect.error, offset: result.error?.offset ?? -1 };
      }
      for (const [key, value] of Object.entries(expect)) {
        assert.deepEqual(result[key as keyof Decoded], value, `${key} of ${JSON.stringify(result)}`);
      }
    });
  }
}

describe("ChunkedDecoder framing (RFC 9112 §7.1)", () => {
  runChunkCases([
    { name: "ChunkedDecoder decodes one chunk", input: "3\r\nabc\r\n0\r\n\r\n", expect: ok("abc") },
    { name: "ChunkedDecoder decodes an empty body", input: "0\r\n\r\n", expect: ok("") },
    {
      name: "ChunkedDecoder decodes several chunks with upper- and lower-case hex sizes",
      input: "A\r\n0123456789\r\na\r\nabcdefghij\r\n1\r\n!\r\n0\r\n\r\n",
      expect: ok("0123456789abcdefghij!"),
    },
    {
      name: "ChunkedDecoder accepts leading zeros in a size",
      input: "0003\r\nabc\r\n000\r\n\r\n",
      expect: ok("abc"),
    },
    {
      name: "ChunkedDecoder passes CR and LF inside chunk data through",
      input: "4\r\n\r\n\r\n\r\n0\r\n\r\n",
      expect: ok("\r\n\r\n"),
    },
    {
      name: "ChunkedDecoder stops at the end of the body and leaves what follows",
      input: "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
      expect: ok("abc", [], "GET / HTTP/1.1\r\n"),
    },
    {
      name: "ChunkedDecoder rejects a size line without digits",
      input: "\r\nabc",
      expect: bad("BAD_CHUNK", 0),
    },
    { name: "ChunkedDecoder rejects a size that is not hex", input: "g\r\n", expect: bad("BAD_CHUNK", 0) },
    { name: "ChunkedDecoder rejects a negative size", input: "-1\r\n", expect: bad("BAD_CHUNK", 0) },
    { name: "ChunkedDecoder rejects a 0x prefix", input: "0x3\r\nabc\r\n", expect: bad("BAD_CHUNK", 1) },
    {
      name: "ChunkedDecoder rejects whitespace before a size",
      input: " 3\r\nabc\r\n",
      expect: bad("BAD_CHUNK", 0),
    },
    {
      name: "ChunkedDecoder rejects whitespace after a size without an extension",
      input: "3 \r\nabc\r\n0\r\n\r\n",
      expect: bad("BAD_CHUNK", 2),
    },
    {
      name: "ChunkedDecoder rejects a size that overflows 2^53 - 1",
      input: "20000000000000\r\n",
      expect: bad("CHUNK_SIZE_OVERFLOW", 13),
    },
    {
      name: "ChunkedDecoder rejects a size of seventeen hex digits",
      input: "ffffffffffffffffff\r\n",
      expect: bad("CHUNK_SIZE_OVERFLOW", 13),
    },
    {
      name: "ChunkedDecoder answers 413 to a size that fits a number but not the body limit",
      input: "1fffffffffffff\r\n",
      expect: bad("BODY_TOO_LARGE", 15),
    },
    {
      name: "ChunkedDecoder rejects a bare LF after a size",
      input: "3\nabc\r\n0\r\n\r\n",
      expect: bad("BAD_CHUNK", 1),
    },
    {
      name: "ChunkedDecoder rejects a CR without LF after a size",
      input: "3\rabc",
      expect: bad("BAD_CHUNK", 2),
    },
    {
      name: "ChunkedDecoder rejects chunk data not followed by CRLF",
      input: "3\r\nabcd\r\n0\r\n\r\n",
      expect: { body: "abc", ...bad("BAD_CHUNK", 6) },
    },
    {
      name: "ChunkedDecoder rejects a bare LF after chunk data",
      input: "3\r\nabc\n0\r\n\r\n",
      expect: { body: "abc", ...bad("BAD_CHUNK", 6) },
    },
    {
      name: "ChunkedDecoder rejects a CR then another byte after chunk data",
      input: "3\r\nabc\rx0\r\n\r\n",
      expect: { body: "abc", ...bad("BAD_CHUNK", 7) },
    },
    {
      name: "ChunkedDecoder rejects a bare LF after the last chunk",
      input: "0\r\n\n",
      expect: bad("BAD_CHUNK", 3),
    },
    {
      name: "ChunkedDecoder rejects a bare LF ending a trailer line",
      input: "0\r\nX: 1\n\r\n",
      expect: bad("BAD_CHUNK", 7),
    },
  ]);
});

describe("ChunkedDecoder extensions (RFC 9112 §7.1.1)", () => {
  runChunkCases([
    {
      name: "ChunkedDecoder accepts a name-only extension",
      input: "3;a\r\nabc\r\n0\r\n\r\n",
      expect: ok("abc"),
    },
    {
      name: "ChunkedDecoder accepts token and quoted values with bad whitespace around them",
      input: '3 ; a = b ;c="x\\"y;z" ;d\r\nabc\r\n0;last=1\r\n\r\n',
      expect: ok("abc"),
    },
    {
      name: "ChunkedDecoder accepts an extension on the last chunk",
      input: "0;done\r\n\r\n",
      expect: ok(""),
    },
    { name: "ChunkedDecoder rejects a lone semicolon", input: "3;\r\nabc\r\n", expect: bad("BAD_CHUNK", 2) },
    {
      name: "ChunkedDecoder rejects an extension without a name",
      input: "3;=x\r\nabc",
      expect: bad("BAD_CHUNK", 4),
    },
    {
      name: "ChunkedDecoder rejects an empty extension value",
      input: "3;a=\r\nabc",
      expect: bad("BAD_CHUNK", 4),
    },
    {
      name: "ChunkedDecoder rejects an unterminated quoted value",
      input: '3;a="x\r\nabc',
      expect: bad("BAD_CHUNK", 6),
    },
    {
      name: "ChunkedDecoder rejects a space inside a token value",
      input: "3;a=b c\r\nabc",
      expect: bad("BAD_CHUNK", 7),
    },
    {
      name: "ChunkedDecoder rejects NUL in an extension",
      input: "3;a\x00\r\nabc",
      expect: bad("BAD_CHUNK", 4),
    },
    {
      name: "ChunkedDecoder rejects a bare LF in an extension",
      input: "3;a\nabc",
      expect: bad("BAD_CHUNK", 3),
    },
    {
      name: "ChunkedDecoder accepts an extension of exactly maxChunkExtensionBytes",
      input: "3;abcdefg\r\nabc\r\n0\r\n\r\n",
      limits: { maxChunkExtensionBytes: 8 },
      expect: ok("abc"),
    },
    {
      name: "ChunkedDecoder rejects an extension one byte over maxChunkExtensionBytes",
      input: "3;abcdefgh\r\nabc\r\n0\r\n\r\n",
      limits: { maxChunkExtensionBytes: 8 },
      expect: bad("CHUNK_EXTENSION_TOO_LARGE", 9),
    },
    {
      name: "ChunkedDecoder rejects an endless extension without waiting for its end",
      input: `3;${"x".repeat(100)}`,
      limits: { maxChunkExtensionBytes: 8 },
      expect: bad("CHUNK_EXTENSION_TOO_LARGE", 9),
    },
  ]);

  it("isValidChunkExtension follows the chunk-ext grammar", () => {
    const valid = [
      ";a",
      ";a=b",
      " ;a",
      "\t;a",
      "; a",
      ";a =b",
      ";a= b",
      ';a=""',
      ';a="\\\\"',
      ';a="\xe9"',
      ";a;b;c=d",
      ";!#$%&'*+-.^_`|~=1",
    ];
    const invalid = [
      "",
      " ",
      ";",
      "a",
      ";a=",
      ";a=b c",
      ";a b",
      ';a="',
      ';a="\\',
      ';a="\x01"',
      ";a=\x7f",
      ";a,b",
      ";=b",
      ";a==b",
      ";a;",
    ];
    for (const ext of valid) assert.equal(isValidChunkExtension([...bytes(ext)]), true, JSON.stringify(ext));
    for (const ext of invalid) {
      assert.equal(isValidChunkExtension([...bytes(ext)]), false, JSON.stringify(ext));
    }
  });
});

describe("ChunkedDecoder trailers (RFC 9112 §7.1.2, RFC 9110 §6.5)", () => {
  runChunkCases([
    {
      name: "ChunkedDecoder keeps trailer fields in order",
      input: "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other:  two \r\n\r\n",
      expect: ok("abc", [["X-Sum", "1"], ["X-Other", "two"]]),
    },
    {
      name: "ChunkedDecoder drops framing, routing and control fields from the trailers",
      input: "0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nhost: evil\r\nAuthorization: x\r\n" +
        "Cookie: a=b\r\nConnection: close\r\nX-Kept: yes\r\nTE: trailers\r\nTrailer: x\r\n\r\n",
      expect: ok("", [["X-Kept", "yes"]]),
    },
    {
      name: "ChunkedDecoder rejects obs-fold in a trailer",
      input: "0\r\nX: 1\r\n 2\r\n\r\n",
      expect: bad("OBS_FOLD", 9),
    },
    {
      name: "ChunkedDecoder rejects NUL in a trailer value",
      input: "0\r\nX: \x00\r\n\r\n",
      expect: bad("BAD_FIELD_VALUE", 6),
    },
    {
      name: "ChunkedDecoder rejects a trailer without a colon",
      input: "0\r\nX\r\n\r\n",
      expect: bad("BAD_FIELD_NAME", 4),
    },
    {
      name: "ChunkedDecoder accepts a trailer section of exactly maxTrailerBytes (its empty line included)",
      input: "0\r\nX: 1\r\n\r\n",
      limits: { maxTrailerBytes: 8 },
      expect: ok("", [["X", "1"]]),
    },
    {
      name: "ChunkedDecoder answers 431 to a trailer section one byte over maxTrailerBytes",
      input: "0\r\nX: 1\r\n\r\n",
      limits: { maxTrailerBytes: 7 },
      expect: bad("TRAILERS_TOO_LARGE", 9),
    },
    {
      name: "ChunkedDecoder answers 431 to an endless trailer line at the start of that line",
      input: `0\r\nX: 1\r\nY: ${"y".repeat(100)}`,
      limits: { maxTrailerBytes: 32 },
      expect: bad("TRAILERS_TOO_LARGE", 9),
    },
    {
      name: "ChunkedDecoder refuses an over-long trailer line ending in a bare LF as too long",
      input: `0\r\nX: 1\r\nY: ${"y".repeat(40)}\n\r\n`,
      limits: { maxTrailerBytes: 32 },
      expect: bad("TRAILERS_TOO_LARGE", 9),
    },
    {
      name: "ChunkedDecoder accepts maxHeaderCount trailer fields",
      input: "0\r\nA: 1\r\nB: 2\r\n\r\n",
      limits: { maxHeaderCount: 2 },
      expect: ok("", [["A", "1"], ["B", "2"]]),
    },
    {
      name: "ChunkedDecoder rejects more trailer fields than maxHeaderCount",
      input: "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
      limits: { maxHeaderCount: 2 },
      expect: bad("TRAILERS_TOO_LARGE", 15),
    },
  ]);
});

describe("ChunkedDecoder body limit", () => {
  runChunkCases([
    {
      name: "ChunkedDecoder accepts a body of exactly maxBodyBytes over several chunks",
      input: "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
      limits: { maxBodyBytes: 10 },
      expect: ok("helloworld"),
    },
    {
      name: "ChunkedDecoder answers 413 once the chunk sizes pass maxBodyBytes, after the data before",
      input: "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n",
      limits: { maxBodyBytes: 10 },
      expect: { body: "hello", ...bad("BODY_TOO_LARGE", 12) },
    },
  ]);

  it("ChunkedDecoder reports its states in order", () => {
    const decoder = new ChunkedDecoder(resolveProtocolLimits());
    const states: string[] = [decoder.state];
    for (const byte of bytes("1;x\r\na\r\n0\r\n\r\n")) {
      decoder.read(new Uint8Array([byte]), 0, 1, 0);
      if (states[states.length - 1] !== decoder.state) states.push(decoder.state);
    }
    assert.deepEqual(states, [
      "size",
      "ext",
      "sizeLf",
      "data",
      "dataCr",
      "dataLf",
      "size",
      "sizeLf",
      "trailers",
      "done",
    ]);
    assert.equal(decoder.remaining, -1);
  });
});

describe("ContentLengthDecoder", () => {
  it("ContentLengthDecoder takes exactly the declared length and leaves the rest", () => {
    const decoder = new ContentLengthDecoder(5);
    assert.equal(decoder.done, false);
    assert.equal(decoder.remaining, 5);
    const a = bytes("hel");
    assert.equal(decoder.read(a, 0, a.length, 0), 3);
    assert.equal(str(decoder.data as Uint8Array), "hel");
    assert.equal(decoder.remaining, 2);
    assert.equal(decoder.done, false);
    const b = bytes("loGET");
    assert.equal(decoder.read(b, 0, b.length, 3), 2);
    assert.equal(str(decoder.data as Uint8Array), "lo");
    assert.equal(decoder.done, true);
    assert.equal(decoder.remaining, 0);
    assert.deepEqual(decoder.trailers, []);
  });

  it("ContentLengthDecoder returns a view into its input, not a copy", () => {
    const decoder = new ContentLengthDecoder(2);
    const input = bytes("xyz");
    decoder.read(input, 1, 3, 0);
    const view = decoder.data as Uint8Array;
    assert.equal(view.buffer, input.buffer);
    assert.equal(view.byteOffset, 1);
  });

  it("ContentLengthDecoder of length 0 is done at once and reads nothing", () => {
    const decoder = new ContentLengthDecoder(0);
    assert.equal(decoder.done, true);
    const input = bytes("GET");
    assert.equal(decoder.read(input, 0, 3, 0), 0);
    assert.equal(decoder.data, null);
  });
});

describe("ServerConnection request bodies", () => {
  const post = "POST /u HTTP/1.1\r\nHost: a\r\n";
  const cases: Case[] = [
    {
      name: "ServerConnection delivers a chunked body, its trailers, and the next pipelined request",
      input: `${post}Transfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 6\r\n\r\n` +
        `GET /next HTTP/1.1\r\nHost: a\r\n\r\n`,
      expect: [
        req("POST", "/u", { bodyFraming: "chunked" }),
        data("hello!"),
        end([["X-Sum", "6"]]),
        RESPONSE,
        req("GET", "/next"),
        RESPONSE,
      ],
    },
    {
      name: "ServerConnection drops forbidden trailers from the end event",
      input: `${post}Transfer-Encoding: chunked\r\n\r\n0\r\nContent-Type: text/evil\r\nX-A: 1\r\n\r\n`,
      expect: [req("POST", "/u"), end([["X-A", "1"]]), RESPONSE],
    },
    {
      name: "ServerConnection delivers a Content-Length body and the request after it",
      input: `${post}Content-Length: 4\r\n\r\nbodyGET /next HTTP/1.1\r\nHost: a\r\n\r\n`,
      expect: [req("POST", "/u"), data("body"), end(), RESPONSE, req("GET", "/next"), RESPONSE],
    },
    {
      name: "ServerConnection ignores an extra CRLF after a body before the next request",
      input: `${post}Content-Length: 4\r\n\r\nbody\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n`,
      expect: [req("POST", "/u"), data("body"), end(), RESPONSE, req("GET", "/next"), RESPONSE],
    },
    {
      name: "ServerConnection reports a chunk error after the data before it",
      input: `${post}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX`,
      expect: [req("POST", "/u"), data("hello"), err("BAD_CHUNK", 400, { offset: post.length + 30 + 8 })],
    },
    {
      name: "ServerConnection answers 413 to a chunked body one byte over maxBodyBytes and accepts the limit",
      input:
        `${post}Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n${post}Transfer-Encoding: chunked\r\n\r\n5\r\n`,
      options: { limits: { maxBodyBytes: 4 } },
      expect: [
        req("POST", "/u"),
        data("abcd"),
        end(),
        RESPONSE,
        req("POST", "/u"),
        err("BODY_TOO_LARGE", 413),
      ],
    },
    {
      name: "ServerConnection reports INCOMPLETE_MESSAGE on EOF in a Content-Length body",
      input: `${post}Content-Length: 10\r\n\r\nhello`,
      options: { eof: true },
      expect: [
        req("POST", "/u"),
        data("hello"),
        err("INCOMPLETE_MESSAGE", 400, { offset: post.length + 22 + 5 }),
      ],
    },
    {
      name: "ServerConnection reports INCOMPLETE_MESSAGE on EOF in a chunked body",
      input: `${post}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`,
      options: { eof: true },
      expect: [req("POST", "/u"), data("hello"), err("INCOMPLETE_MESSAGE", 400)],
    },
    {
      name: "ServerConnection reports INCOMPLETE_MESSAGE on EOF in the trailers",
      input: `${post}Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n`,
      options: { eof: true },
      expect: [req("POST", "/u"), err("INCOMPLETE_MESSAGE", 400)],
    },
    {
      name: "ServerConnection closes cleanly on EOF right after a complete body",
      input: `${post}Content-Length: 2\r\n\r\nhi`,
      options: { eof: true },
      expect: [req("POST", "/u"), data("hi"), end(), RESPONSE, { type: "close" }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assertLog(feedAllSplits(c.input, c.options).log, c.expect));
  }
});
