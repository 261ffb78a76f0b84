/**
 * The body pool (src/fetch/body_pool.ts) on its own: the copies of byte bodies that FastResponse
 * makes, with room for a head in front, and the reuse of the memory of large ones.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BodyPool, HEAD_ROOM } from "../../src/fetch/body_pool.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("BodyPool", () => {
  test("a copy holds the bytes as they were made, with room for a head in front", () => {
    const pool = new BodyPool();
    for (const length of [0, 1, 100, 16 * 1024, 64 * 1024, 2 * 1024 * 1024]) {
      const source = new Uint8Array(length).map((_, i) => i % 251);
      const copy = pool.copy(source);
      source.fill(7);
      assert.equal(copy.byteLength, length);
      assert.equal(copy.byteOffset, HEAD_ROOM);
      assert.ok(copy.every((byte, i) => byte === i % 251), `a copy of ${length} bytes`);
    }
  });

  test("withHead writes the head right before the body, or answers null when it does not fit", () => {
    const pool = new BodyPool();
    const body = pool.copy(new TextEncoder().encode("body"));
    const whole = pool.withHead(body, new TextEncoder().encode("head:"));
    assert.ok(whole);
    assert.equal(text(whole), "head:body");
    assert.equal(whole.buffer, body.buffer);
    assert.equal(pool.withHead(body, new Uint8Array(HEAD_ROOM + 1)), null);
    assert.equal(
      text(pool.withHead(body, new Uint8Array(HEAD_ROOM).fill(0x68))!),
      "h".repeat(HEAD_ROOM) + "body",
    );
  });

  test("large copies reuse memory given back, each buffer once; small ones are not kept", () => {
    const pool = new BodyPool();
    const large = new Uint8Array(40_000);
    const first = pool.copy(large);
    pool.recycle(first);
    pool.recycle(first); // a second give-back of the same memory is ignored
    const second = pool.copy(large);
    const third = pool.copy(large);
    assert.equal(second.buffer, first.buffer);
    assert.notEqual(third.buffer, first.buffer);
    const small = pool.copy(new Uint8Array(100));
    pool.recycle(small);
    assert.notEqual(pool.copy(new Uint8Array(100)).buffer, small.buffer);
    const foreign = new Uint8Array(64 * 1024);
    pool.recycle(foreign);
    assert.notEqual(pool.copy(new Uint8Array(60_000)).buffer, foreign.buffer);
  });
});
