/**
 * The PROXY protocol parser (`src/core/proxy_protocol.ts`): version 1 and 2 headers whole, split at
 * every offset and byte by byte, every refusal with its code and offset, the limit on pieces, the
 * end of a connection inside a header, and a property: any bytes give a header or a
 * `ProxyProtocolError`, whatever the split.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type ProxyHeader,
  ProxyHeaderParser,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
} from "../../src/core/proxy_protocol.ts";

const text = (value: string) => new TextEncoder().encode(value);
const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A version 2 header: command and family bytes, the address block and TLVs. */
function v2(verCmd: number, famProto: number, body: number[]): Uint8Array {
  return new Uint8Array([...SIGNATURE, verCmd, famProto, body.length >> 8, body.length & 0xff, ...body]);
}
const INET_BODY = [203, 0, 113, 7, 10, 0, 0, 1, 0x15, 0xb3, 0x01, 0xbb]; // 203.0.113.7:5555 → 10.0.0.1:443
const INET6_BODY = [
  0x20,
  0x01,
  0x0d,
  0xb8,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x07, // 2001:db8::7
  ...new Array(15).fill(0),
  1, // ::1
  0x15,
  0xb3,
  0x01,
  0xbb,
];

/** Feeds the pieces to a parser without a piece limit; the header, the bytes after it, or the error. */
function parse(
  pieces: Uint8Array[],
  maxPieces = Infinity,
): { header: ProxyHeader; rest: string } | ProxyProtocolError {
  const parser = new ProxyHeaderParser({ maxPieces });
  try {
    for (let i = 0; i < pieces.length; i++) {
      const { header, consumed } = parser.push(pieces[i]);
      if (header !== null) {
        const rest = [pieces[i].subarray(consumed), ...pieces.slice(i + 1)];
        return { header, rest: rest.map((piece) => new TextDecoder("latin1").decode(piece)).join("") };
      }
    }
    parser.end();
    throw new Error("unreachable: end() throws without a header");
  } catch (error) {
    if (error instanceof ProxyProtocolError) return error;
    throw error;
  }
}

/** Every way of cutting the bytes in two, and byte by byte. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [[bytes], [...bytes].map((byte) => new Uint8Array([byte]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

/** The header of every split, all the same; the bytes after it are the connection's. */
function parsesTo(bytes: Uint8Array, expected: Partial<ProxyHeader>, rest = ""): void {
  for (const pieces of splits(bytes)) {
    const result = parse(pieces);
    assert.ok(!(result instanceof ProxyProtocolError), `${result instanceof Error ? result.message : ""}`);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(result.header[key as keyof ProxyHeader], value, key);
    }
    assert.equal(result.rest, rest);
  }
}

/** The same refusal, code and offset, for every split. */
function refuses(bytes: Uint8Array, code: ProxyProtocolErrorCode, offset: number): void {
  for (const pieces of splits(bytes)) {
    const result = parse(pieces);
    assert.ok(result instanceof ProxyProtocolError, `expected ${code}`);
    assert.deepEqual([result.code, result.offset], [code, offset], new TextDecoder("latin1").decode(bytes));
  }
}

describe("PROXY protocol version 1", () => {
  test("TCP4 and TCP6 give the client and the proxy's addresses; the request after is left", () => {
    parsesTo(text("PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\nGET / HTTP/1.1\r\n"), {
      version: 1,
      source: { transport: "tcp", hostname: "203.0.113.7", port: 5555 },
      destination: { transport: "tcp", hostname: "10.0.0.1", port: 443 },
      tlvs: [],
    }, "GET / HTTP/1.1\r\n");
    parsesTo(text("PROXY TCP6 2001:DB8::7 ::1 65535 0\r\n"), {
      source: { transport: "tcp", hostname: "2001:db8::7", port: 65535 },
      destination: { transport: "tcp", hostname: "::1", port: 0 },
    });
  });

  test("UNKNOWN names no addresses, whatever follows it on the line", () => {
    parsesTo(text("PROXY UNKNOWN\r\nX"), { source: null, destination: null }, "X");
    parsesTo(text("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), { source: null, destination: null });
  });

  test("refuses what breaks the rules, at the offending byte", () => {
    refuses(text("GET / HTTP/1.1\r\n\r\n"), "MISSING", 0);
    refuses(text("PROXI TCP4\r\n"), "V1_MALFORMED", 4);
    refuses(text("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), "V1_MALFORMED", 6);
    refuses(text("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), "V1_MALFORMED", 28);
    refuses(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "V1_MALFORMED", 31);
    refuses(text("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"), "V1_MALFORMED", 11);
    refuses(text("PROXY TCP4 1.2.3.4 ::1 1 2\r\n"), "V1_MALFORMED", 19);
    refuses(text("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), "V1_MALFORMED", 11);
    refuses(text("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), "V1_MALFORMED", 27);
    refuses(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"), "V1_MALFORMED", 29);
    refuses(text("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), "V1_MALFORMED", 11);
    refuses(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "V1_MALFORMED", 30);
    refuses(text("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n"), "V1_MALFORMED", 18);
    refuses(text(`PROXY UNKNOWN ${"x".repeat(100)}\r\n`), "V1_TOO_LONG", 107);
  });
});

describe("PROXY protocol version 2", () => {
  test("PROXY over INET, INET6 and UNIX gives the addresses; TLVs are kept", () => {
    const tlvs = [0x02, 0, 3, ...text("a.b"), 0xe0, 0, 0];
    parsesTo(new Uint8Array([...v2(0x21, 0x11, [...INET_BODY, ...tlvs]), ...text("GET")]), {
      version: 2,
      source: { transport: "tcp", hostname: "203.0.113.7", port: 5555 },
      destination: { transport: "tcp", hostname: "10.0.0.1", port: 443 },
      tlvs: [{ type: 0x02, value: text("a.b") }, { type: 0xe0, value: new Uint8Array(0) }],
    }, "GET");
    parsesTo(v2(0x21, 0x21, INET6_BODY), {
      source: { transport: "tcp", hostname: "2001:db8::7", port: 5555 },
      destination: { transport: "tcp", hostname: "::1", port: 443 },
    });
    const path = (name: string) => [...text(name), ...new Array(108 - name.length).fill(0)];
    parsesTo(v2(0x21, 0x31, [...path("/run/client.sock"), ...path("/run/proxy.sock")]), {
      source: { transport: "unix", path: "/run/client.sock" },
      destination: { transport: "unix", path: "/run/proxy.sock" },
    });
  });

  test("LOCAL, and an unspecified family, name no client", () => {
    parsesTo(v2(0x20, 0x00, []), { source: null, destination: null, tlvs: [] });
    parsesTo(v2(0x20, 0x11, INET_BODY), { source: null, destination: null });
    parsesTo(v2(0x21, 0x00, [0x03, 0, 4, 1, 2, 3, 4]), {
      source: null,
      tlvs: [{ type: 3, value: new Uint8Array([1, 2, 3, 4]) }],
    });
  });

  test("refuses what breaks the rules, at the offending byte", () => {
    const badSignature = v2(0x21, 0x11, INET_BODY);
    badSignature[7] = 0x50;
    refuses(badSignature, "MISSING", 7);
    refuses(v2(0x11, 0x11, INET_BODY), "V2_VERSION", 12);
    refuses(v2(0x22, 0x11, INET_BODY), "V2_COMMAND", 12);
    refuses(v2(0x21, 0x41, INET_BODY), "V2_FAMILY", 13);
    refuses(v2(0x21, 0x13, INET_BODY), "V2_FAMILY", 13);
    refuses(v2(0x21, 0x21, INET_BODY), "V2_ADDRESSES", 14);
    refuses(v2(0x21, 0x11, [...INET_BODY, 0x02, 0]), "V2_TLV", 28);
    refuses(v2(0x21, 0x11, [...INET_BODY, 0x02, 0, 9, 1]), "V2_TLV", 28);
    const huge = v2(0x21, 0x11, [...INET_BODY, 0x02, 0x10, 0x00, ...new Array(4096).fill(0)]);
    refuses(huge, "V2_TOO_LONG", 14);
  });
});

describe("PROXY protocol pieces and ends", () => {
  test("a header may arrive in a few pieces; one that trickles in is refused", () => {
    const header = text("PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n");
    const three = [header.subarray(0, 5), header.subarray(5, 20), header.subarray(20)];
    assert.ok(!(parse(three, 4) instanceof ProxyProtocolError));
    const bytes = [...header].map((byte) => new Uint8Array([byte]));
    const result = parse(bytes, 4);
    assert.ok(result instanceof ProxyProtocolError);
    assert.deepEqual([result.code, result.offset], ["FRAGMENTED", 4]);
  });

  test("a connection that ends inside the header, or before one, is TRUNCATED", () => {
    const partial = parse([text("PROXY TCP4 1.2.3.4")]);
    assert.ok(partial instanceof ProxyProtocolError);
    assert.deepEqual([partial.code, partial.offset], ["TRUNCATED", 18]);
    const none = parse([]);
    assert.ok(none instanceof ProxyProtocolError);
    assert.deepEqual([none.code, none.offset], ["TRUNCATED", 0]);
  });

  test("any bytes give a header or a ProxyProtocolError, the same for every split", () => {
    const starts = fc.constantFrom(
      new Uint8Array(0),
      text("PROXY "),
      text("PROXY TCP4 "),
      new Uint8Array(SIGNATURE),
      new Uint8Array([...SIGNATURE, 0x21, 0x11, 0x00]),
    );
    fc.assert(
      fc.property(
        starts,
        fc.uint8Array({ maxLength: 120 }),
        fc.integer({ min: 1, max: 200 }),
        (start, tail, cut) => {
          const bytes = new Uint8Array([...start, ...tail]);
          const whole = parse([bytes]);
          const at = cut % (bytes.length + 1);
          const split = parse([bytes.subarray(0, at), bytes.subarray(at)]);
          if (whole instanceof ProxyProtocolError) {
            assert.ok(split instanceof ProxyProtocolError);
            // A header cut short shows as TRUNCATED either way; a refusal is the same refusal.
            assert.deepEqual([split.code, split.offset], [whole.code, whole.offset]);
          } else {
            assert.ok(!(split instanceof ProxyProtocolError));
            assert.deepEqual(split, whole);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
