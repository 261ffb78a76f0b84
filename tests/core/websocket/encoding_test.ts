/**
 * The WebSocket core's own SHA-1, base64 and UTF-8, checked against the runtime's (node:crypto,
 * Buffer, TextDecoder and TextEncoder) on fixed and random inputs.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { base64Length, encodeBase64 } from "../../../src/core/websocket/_base64.ts";
import { unmask } from "../../../src/core/websocket/_mask.ts";
import { sha1 } from "../../../src/core/websocket/_sha1.ts";
import { decodeUtf8, encodeUtf8, Utf8Check } from "../../../src/core/websocket/_utf8.ts";

/** The index of the first byte a strict decoder refuses, found by decoding ever longer prefixes. */
function firstInvalid(bytes: Uint8Array): number {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return -1;
  } catch {
    // A prefix that fails is broken at its last byte; a prefix cut inside a character only fails at the end.
    for (let end = 1; end <= bytes.length; end++) {
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
      } catch {
        return end - 1;
      }
    }
    return bytes.length; // incomplete at the end
  }
}

describe("sha1", () => {
  it("matches node:crypto for every length from 0 to 200 bytes, across the 55/56/64-byte block edges", () => {
    for (let length = 0; length <= 200; length++) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      assert.equal(
        Buffer.from(sha1(input)).toString("hex"),
        createHash("sha1").update(input).digest("hex"),
        `length ${length}`,
      );
    }
  });

  it("matches node:crypto on random inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (input) => {
        assert.equal(
          Buffer.from(sha1(input)).toString("hex"),
          createHash("sha1").update(input).digest("hex"),
        );
      }),
      { seed: 0x51a1, numRuns: 300 },
    );
  });
});

describe("base64", () => {
  it("encodes as Buffer does, for every length of padding", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        assert.equal(encodeBase64(input), Buffer.from(input).toString("base64"));
      }),
      { seed: 0xba5e, numRuns: 300 },
    );
  });

  it("encodes inputs longer than its scratch room, at and around the room's edge", () => {
    for (const length of [3071, 3072, 3073, 6144, 10_000]) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);
      assert.equal(encodeBase64(input), Buffer.from(input).toString("base64"), `length ${length}`);
    }
  });

  it("base64Length gives the decoded length of canonical base64 only", () => {
    assert.equal(base64Length("dGhlIHNhbXBsZSBub25jZQ=="), 16);
    assert.equal(base64Length(""), 0);
    assert.equal(base64Length("AAAA"), 3);
    assert.equal(base64Length("AAA="), 2);
    for (
      const bad of [
        "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZR==",
        "dGhl IHNh",
        "AA=A",
        "A===",
        "AAA",
        "AA-_",
      ]
    ) {
      assert.equal(base64Length(bad), -1, bad);
    }
  });
});

describe("Utf8Check", () => {
  const cases: [string, number[], number][] = [
    ["ASCII", [0x61, 0x62], -1],
    ["two-byte", [0xc3, 0xa9], -1],
    ["C0 and C1 are overlong", [0xc1, 0xbf], 0],
    ["overlong three-byte (E0 80)", [0xe0, 0x80, 0x80], 1],
    ["surrogate (ED A0)", [0xed, 0xa0, 0x80], 1],
    ["last BMP", [0xef, 0xbf, 0xbf], -1],
    ["overlong four-byte (F0 80)", [0xf0, 0x80, 0x80, 0x80], 1],
    ["above U+10FFFF (F4 90)", [0xf4, 0x90, 0x80, 0x80], 1],
    ["F5 never", [0xf5], 0],
    ["stray continuation", [0x61, 0x80], 1],
    ["lead byte cut short by ASCII", [0xe2, 0x82, 0x61], 2],
    ["U+10FFFF", [0xf4, 0x8f, 0xbf, 0xbf], -1],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name}: first invalid byte ${expected}, whole and at every split`, () => {
      const bytes = new Uint8Array(input);
      assert.equal(new Utf8Check().feed(bytes), expected);
      for (let at = 0; at <= bytes.length; at++) {
        const check = new Utf8Check();
        const first = check.feed(bytes, 0, at);
        const found = first !== -1 ? first : check.feed(bytes, at);
        assert.equal(found, expected, `split at ${at}`);
      }
    });
  }

  it("agrees with a fatal TextDecoder on random bytes, fed in two pieces", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(40), (input, cut) => {
        const at = Math.min(cut, input.length);
        const check = new Utf8Check();
        let found = check.feed(input, 0, at);
        if (found === -1) found = check.feed(input, at);
        if (found === -1 && !check.complete) found = input.length;
        assert.equal(found, firstInvalid(input));
      }),
      { seed: 0x0f8, numRuns: 2000 },
    );
  });

  it("tells a complete text from one cut inside a character", () => {
    const check = new Utf8Check();
    assert.equal(check.feed(new Uint8Array([0xf0, 0x9f])), -1);
    assert.equal(check.complete, false);
    check.reset();
    assert.equal(check.complete, true);
  });
});

describe("encodeUtf8 and decodeUtf8", () => {
  it("match TextEncoder and TextDecoder on any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
        assert.deepEqual(encodeUtf8(text), new TextEncoder().encode(text));
        assert.equal(decodeUtf8(new TextEncoder().encode(text)), text);
      }),
      { seed: 0x7e7, numRuns: 500 },
    );
  });

  it("encodes a lone surrogate as U+FFFD, as TextEncoder does", () => {
    assert.deepEqual(encodeUtf8("a\ud800b"), new TextEncoder().encode("a\ud800b"));
  });
});

describe("unmask", () => {
  it("agrees with a byte-by-byte XOR for every length, offset and phase, in one call and split in two", () => {
    const mask = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
    const key = 0x12345678;
    const buffer = new ArrayBuffer(200);
    for (const offset of [0, 1, 2, 3]) {
      for (const length of [0, 1, 31, 32, 33, 64, 100, 150]) {
        for (let phase = 0; phase < 4; phase++) {
          const bytes = new Uint8Array(buffer, offset, length);
          for (let i = 0; i < length; i++) bytes[i] = (i * 13 + offset) & 0xff;
          const expected = bytes.map((byte, i) => byte ^ mask[(phase + i) & 3]);
          const cut = length >> 1;
          const middle = unmask(bytes, 0, cut, key, phase);
          assert.equal(unmask(bytes, cut, length, key, middle), (phase + length) & 3);
          assert.deepEqual(bytes, expected, `offset ${offset}, length ${length}, phase ${phase}`);
        }
      }
    }
  });
});
