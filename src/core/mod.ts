/**
 * The sans-I/O core of h1serve: a strict, incremental HTTP/1.1 server protocol engine over
 * `Uint8Array`, with no I/O, no timers and no runtime API. Use it to build servers on other
 * transports, proxies or test harnesses.
 *
 * @example Parse a request and serialize a response
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection } from "@h1serve/h1serve/core";
 *
 * const conn = new ServerConnection({ now: 0 });
 * conn.receive(new TextEncoder().encode("GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0);
 * const event = conn.nextEvent();
 * assert.equal(event.type === "request" && event.head.target, "/hello");
 * const bytes = conn.startResponse({ status: 204, headers: [], bodyLength: 0 }, 0);
 * assert.match(new TextDecoder().decode(bytes), /^HTTP\/1\.1 204 No Content\r\n/);
 * ```
 *
 * @module
 */

export * from "./body.ts";
export * from "./bytes.ts";
export * from "./connection.ts";
export * from "./errors.ts";
export * from "./limits.ts";
export * from "./parser.ts";
export * from "./serializer.ts";
