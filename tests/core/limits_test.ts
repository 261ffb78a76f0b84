/** resolveLimits and DEFAULT_LIMITS. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LIMITS, resolveLimits } from "../../src/core/mod.ts";

describe("resolveLimits", () => {
  it("resolveLimits fills unset fields with DEFAULT_LIMITS and freezes the result", () => {
    const limits = resolveLimits({ maxBodyBytes: 10, maxHeaderCount: undefined });
    assert.equal(limits.maxBodyBytes, 10);
    assert.equal(limits.maxHeaderCount, DEFAULT_LIMITS.maxHeaderCount);
    assert.ok(Object.isFrozen(limits));
    assert.deepEqual(resolveLimits(), DEFAULT_LIMITS);
  });

  it("resolveLimits gives DEFAULT_LIMITS itself when nothing is overridden, so that connections share it", () => {
    assert.equal(resolveLimits(), DEFAULT_LIMITS);
    assert.equal(resolveLimits({}), DEFAULT_LIMITS);
    assert.equal(resolveLimits({ maxBodyBytes: undefined }), DEFAULT_LIMITS);
  });

  it("resolveLimits rejects zero, negative, NaN, non-number and unknown limits", () => {
    for (const value of [0, -1, Number.NaN, "5"]) {
      assert.throws(() => resolveLimits({ maxBodyBytes: value as number }), RangeError, String(value));
    }
    assert.throws(() => resolveLimits({ maxBodyByte: 1 } as never), RangeError);
  });

  it("DEFAULT_LIMITS has the documented defaults and is frozen", () => {
    assert.deepEqual({ ...DEFAULT_LIMITS }, {
      maxTargetLength: 8192,
      maxHeaderBytes: 16384,
      maxHeaderCount: 100,
      maxBodyBytes: 134217728,
      maxChunkExtensionBytes: 4096,
      maxTrailerBytes: 16384,
      maxDrainBytes: 262144,
      headersTimeoutMs: 30000,
      bodyTimeoutMs: 60000,
      keepAliveTimeoutMs: 65000,
      sendTimeoutMs: 60000,
      shutdownTimeoutMs: 20000,
      maxConnections: 16384,
    });
    assert.ok(Object.isFrozen(DEFAULT_LIMITS));
  });
});
