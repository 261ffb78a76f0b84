/**
 * What the server's unit tests run it on: `h1serve/testing`'s transport, whose sockets the test
 * drives by hand, and its clock, which the test moves by hand. No socket, no timer, no wait: a timeout is a call to
 * `clock.advance(ms)`, and everything it causes has happened when the call returns.
 *
 * This file is not a test file (its name does not end in `_test.ts`).
 *
 * @module
 */

import type { ServeHandler, ServeOptions, Server } from "../../src/server/options.ts";
import { serveWith } from "../../src/server/server.ts";
import { FakeClock, MemoryTransport } from "../../src/testing/mod.ts";

export { FakeClock, MemorySocket, MemoryTransport } from "../../src/testing/mod.ts";

/** A server on a memory transport with a fake clock, listening. */
export async function memoryServer(
  handler: ServeHandler,
  options: ServeOptions = {},
): Promise<{ server: Server; transport: MemoryTransport; clock: FakeClock }> {
  const transport = new MemoryTransport();
  const clock = new FakeClock();
  const server = serveWith(transport, { hostname: "127.0.0.1", port: 8000, clock, ...options }, handler);
  await server.ready;
  return { server, transport, clock };
}

/** A plain request for `/` (or another target). */
export function get(target = "/"): string {
  return `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`;
}
