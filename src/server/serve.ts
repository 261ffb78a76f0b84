/**
 * `serve`: the public entry point. It picks the adapter of the runtime it runs on (Deno, Bun or
 * Node) and starts the runtime-agnostic server on it.
 *
 * @module
 */

import { bunTransport } from "./adapters/bun.ts";
import { denoTransport } from "./adapters/deno.ts";
import { nodeTransport } from "./adapters/node.ts";
import { type ServeHandler, type ServeOptions, type Server, serveWith } from "./server.ts";
import type { Transport } from "./transport.ts";

/**
 * The transport of the runtime this code runs on.
 *
 * @returns The Deno, Bun or Node adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeTransport } from "./serve.ts";
 *
 * assert.ok(["deno", "bun", "node"].includes(runtimeTransport().runtime));
 * ```
 */
export function runtimeTransport(): Transport {
  if ("Deno" in globalThis) return denoTransport;
  if ("Bun" in globalThis) return bunTransport;
  return nodeTransport;
}

/**
 * Starts an HTTP/1.1 server, in the manner of `Deno.serve`: `serve(handler)`,
 * `serve(options, handler)` or `serve({ ...options, handler })`.
 *
 * @param optionsOrHandler The options, or the handler alone.
 * @param handler The handler, when the first argument is the options.
 * @returns The running server: `ready`, `addr`, `finished` and `shutdown()`.
 *
 * @example Serve, call and stop
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, () => new Response("Hello World!"));
 * const { port } = await server.ready;
 * const response = await fetch(`http://127.0.0.1:${port}/`);
 * assert.equal(await response.text(), "Hello World!");
 * await server.shutdown();
 * ```
 */
export function serve(optionsOrHandler: ServeOptions | ServeHandler, handler?: ServeHandler): Server {
  if (typeof optionsOrHandler === "function") return serveWith(runtimeTransport(), {}, optionsOrHandler);
  return serveWith(runtimeTransport(), optionsOrHandler, handler);
}
