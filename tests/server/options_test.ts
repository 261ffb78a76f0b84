/** The server's own limits beside the protocol's, and how `serve`'s `limits` option splits into both. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_PROTOCOL_LIMITS } from "../../src/core/mod.ts";
import { DEFAULT_LIMITS, DEFAULT_SERVER_LIMITS, resolveLimits } from "../../src/server/options.ts";

describe("the server's limits", () => {
  test("DEFAULT_SERVER_LIMITS has the documented defaults and is frozen", () => {
    assert.deepEqual({ ...DEFAULT_SERVER_LIMITS }, {
      sendTimeoutMs: 60000,
      shutdownTimeoutMs: 20000,
      maxConnections: 16384,
    });
    assert.ok(Object.isFrozen(DEFAULT_SERVER_LIMITS));
  });

  test("DEFAULT_LIMITS is every protocol limit and every server limit", () => {
    assert.deepEqual({ ...DEFAULT_LIMITS }, { ...DEFAULT_PROTOCOL_LIMITS, ...DEFAULT_SERVER_LIMITS });
    assert.ok(Object.isFrozen(DEFAULT_LIMITS));
  });

  test("resolveLimits gives each side its own limits, the defaults themselves when nothing changes", () => {
    const defaults = resolveLimits();
    assert.equal(defaults.protocol, DEFAULT_PROTOCOL_LIMITS);
    assert.equal(defaults.server, DEFAULT_SERVER_LIMITS);
    const { protocol, server } = resolveLimits({ maxHeaderCount: 10, sendTimeoutMs: 5 });
    assert.deepEqual([protocol.maxHeaderCount, server.sendTimeoutMs], [10, 5]);
    assert.equal(server.maxConnections, DEFAULT_SERVER_LIMITS.maxConnections);
    assert.ok(!("sendTimeoutMs" in protocol) && !("maxHeaderCount" in server));
  });

  test("resolveLimits rejects unknown names and values that are not positive numbers, on either side", () => {
    assert.throws(() => resolveLimits({ maxThings: 1 } as never), RangeError);
    assert.throws(() => resolveLimits({ maxConnections: 0 }), RangeError);
    assert.throws(() => resolveLimits({ maxHeaderBytes: -1 }), RangeError);
  });
});
