/** PendingWrites: the lazy write queue of the Deno and Bun adapters. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PendingWrites, runAll } from "../../src/transport/_pending_writes.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("PendingWrites", () => {
  test("PendingWrites.take hands over every byte in order with their callbacks, and empties the queue", () => {
    const pending = new PendingWrites();
    const told: string[] = [];
    pending.push(bytes(1), () => told.push("a"));
    pending.push(bytes(2, 3));
    pending.push(bytes(4), () => told.push("b"));
    assert.equal(pending.bytes, 4);
    const taken = pending.take();
    assert.deepEqual([...taken.bytes], [1, 2, 3, 4]);
    assert.equal(pending.bytes, 0);
    assert.deepEqual([...pending.take().bytes], [], "nothing is left");
    assert.deepEqual(told, [], "nothing runs before the writer says the bytes are written");
    runAll(taken.sent);
    assert.deepEqual(told, ["a", "b"]);
  });

  test("PendingWrites.take gives a single array as it is, without a copy", () => {
    const pending = new PendingWrites();
    const only = bytes(7, 8);
    pending.push(only);
    assert.equal(pending.take().bytes, only);
  });

  test("PendingWrites.putBack puts unwritten bytes in front of what came since, callbacks included", () => {
    const pending = new PendingWrites();
    const told: string[] = [];
    pending.push(bytes(1, 2, 3), () => told.push("first"));
    const taken = pending.take();
    pending.push(bytes(9), () => told.push("later"));
    pending.putBack(taken.bytes.subarray(1), taken.sent); // the runtime took one byte
    assert.equal(pending.bytes, 3);
    const again = pending.take();
    assert.deepEqual([...again.bytes], [2, 3, 9]);
    runAll(again.sent);
    assert.deepEqual(told, ["first", "later"]);
  });
});
