/** resolveProtocolLimits and DEFAULT_PROTOCOL_LIMITS. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_PROTOCOL_LIMITS, resolveProtocolLimits } from "../../src/core/mod.ts";

describe("resolveProtocolLimits", () => {
  it("resolveProtocolLimits fills unset fields with DEFAULT_PROTOCOL_LIMITS and freezes the result", () => {
    const limits = resolveProtocolLimits({ maxBodyBytes: 10, maxHeaderCount: undefined });
    assert.equal(limits.maxBodyBytes, 10);
    assert.equal(limits.maxHeaderCount, DEFAULT_PROTOCOL_LIMITS.maxHeaderCount);
    assert.ok(Object.isFrozen(limits));
    assert.deepEqual(resolveProtocolLimits(), DEFAULT_PROTOCOL_LIMITS);
  });

  it("resolveProtocolLimits gives DEFAULT_PROTOCOL_LIMITS itself when nothing is overridden, so that connections share it", () => {
    assert.equal(resolveProtocolLimits(), DEFAULT_PROTOCOL_LIMITS);
    assert.equal(resolveProtocolLimits({}), DEFAULT_PROTOCOL_LIMITS);
    assert.equal(resolveProtocolLimits({ maxBodyBytes: undefined }), DEFAULT_PROTOCOL_LIMITS);
  });

  it("resolveProtocolLimits rejects zero, negative, NaN, non-number and unknown limits", () => {
    for (const value of [0, -1, Number.NaN, "5"]) {
      assert.throws(
        () => resolveProtocolLimits({ maxBodyBytes: value as number }),
        RangeError,
        String(value),
      );
    }
    assert.throws(() => resolveProtocolLimits({ maxBodyByte: 1 } as never), RangeError);
  });

  it("DEFAULT_PROTOCOL_LIMITS has the documented defaults and is frozen", () => {
    assert.deepEqual({ ...DEFAULT_PROTOCOL_LIMITS }, {
      maxTargetLength: 8192,
      maxMethodLength: 32,
      maxHeaderBytes: 16384,
      maxHeaderCount: 100,
      maxBodyBytes: 134217728,
      maxChunkExtensionBytes: 4096,
      maxTrailerBytes: 16384,
      maxDrainBytes: 262144,
      headersTimeoutMs: 30000,
      bodyTimeoutMs: 60000,
      keepAliveTimeoutMs: 65000,
    });
    assert.ok(Object.isFrozen(DEFAULT_PROTOCOL_LIMITS));
  });
});
