/**
 * Dormant connections over real sockets: a keep-alive connection that waited for its next request
 * (and so kept only its socket) counts its bytes from the connection's first one. The rest of
 * dormancy is tested on a memory transport in tests/server/dormant_test.ts.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ProtocolErrorInfo } from "../../src/server/options.ts";
import { Cleanup } from "./_helpers.ts";

const GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

describe("dormant connections over real sockets", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("error offsets count from the connection's first byte, also after it was dormant", async () => {
    const errors: ProtocolErrorInfo[] = [];
    const { port } = await cleanup.server(() => new Response("hi"), {
      onProtocolError: (info) => errors.push(info),
    });
    const bad = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
    const fresh = await cleanup.client(port);
    await fresh.write(bad);
    await fresh.untilEnd();
    const reused = await cleanup.client(port);
    await reused.write(GET);
    await reused.response();
    await reused.write(bad);
    await reused.untilEnd();
    assert.equal(errors.length, 2);
    assert.equal(errors[0].code, "SPACE_BEFORE_COLON");
    assert.equal(errors[1].offset, errors[0].offset + GET.length);
  });
});
