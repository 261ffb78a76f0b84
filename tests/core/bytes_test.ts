/** Character tables and byte helpers (RFC 9110 §5.5, §5.6.2). */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  concatBytes,
  FIELD_VALUE_CHARS,
  hasListElement,
  isFieldValue,
  isToken,
  latin1,
  listElements,
  TOKEN_CHARS,
  writeLatin1,
} from "../../src/core/_bytes.ts";

describe("TOKEN_CHARS and FIELD_VALUE_CHARS", () => {
  it("TOKEN_CHARS holds exactly the tchar set", () => {
    const expected = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let actual = "";
    for (let b = 0; b < 256; b++) if (TOKEN_CHARS[b] === 1) actual += String.fromCharCode(b);
    assert.equal([...actual].sort().join(""), [...expected].sort().join(""));
  });

  it("FIELD_VALUE_CHARS holds HTAB, SP, VCHAR and obs-text, and no other control", () => {
    for (let b = 0; b < 256; b++) {
      const expected = b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80 ? 1 : 0;
      assert.equal(FIELD_VALUE_CHARS[b], expected, `byte ${b}`);
    }
  });
});

describe("isToken and isFieldValue", () => {
  it("isToken accepts tokens and rejects empty, separators and non-Latin-1", () => {
    assert.equal(isToken("X-Custom_1"), true);
    for (const text of ["", "a b", "a;b", "a\u0100", "\xe9", '"q"']) assert.equal(isToken(text), false, text);
  });

  it("isFieldValue accepts empty, inner whitespace and obs-text", () => {
    for (const text of ["", "a b\tc", "caf\xe9", "x"]) assert.equal(isFieldValue(text), true, text);
  });

  it("isFieldValue rejects controls, surrounding whitespace and non-Latin-1", () => {
    for (const text of ["\r", "\n", "\x00", "\x7f", " a", "a ", "\ta", "a\t", "\u0100", " "]) {
      assert.equal(isFieldValue(text), false, JSON.stringify(text));
    }
  });
});

describe("latin1, writeLatin1 and concatBytes", () => {
  it("latin1 maps every byte to one character, for short and long inputs", () => {
    const all = new Uint8Array(256 * 40);
    for (let i = 0; i < all.length; i++) all[i] = i & 0xff;
    const text = latin1(all, 0, all.length);
    assert.equal(text.length, all.length);
    for (let i = 0; i < all.length; i += 97) assert.equal(text.charCodeAt(i), i & 0xff);
    assert.equal(latin1(all, 65, 70), "ABCDE");
    assert.equal(latin1(all, 3, 3), "");
  });

  it("writeLatin1 writes at an offset and returns the end", () => {
    const out = new Uint8Array(5);
    assert.equal(writeLatin1("\xffA", out, 2), 4);
    assert.deepEqual([...out], [0, 0, 0xff, 0x41, 0]);
  });

  it("concatBytes joins parts in order and returns a single part as it is", () => {
    const one = new Uint8Array([1, 2]);
    assert.equal(concatBytes([one]), one);
    assert.deepEqual([...concatBytes([one, new Uint8Array(0), new Uint8Array([3])])], [1, 2, 3]);
    assert.equal(concatBytes([]).byteLength, 0);
  });
});

describe("hasListElement", () => {
  it("finds an element exactly when listElements lists it, for any ASCII field value", () => {
    const piece = fc.constantFrom(
      "upgrade",
      "UpGrade",
      "websocket",
      "x",
      " ",
      "\t",
      ",",
      "",
      "upgrades",
      "up grade",
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 8 }),
        fc.constantFrom("upgrade", "websocket"),
        (parts, wanted) => {
          const value = parts.join("");
          assert.equal(
            hasListElement(value, wanted),
            listElements(value).includes(wanted),
            JSON.stringify(value),
          );
        },
      ),
      { seed: 0x115e, numRuns: 2000 },
    );
  });
});
