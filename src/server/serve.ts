/**
 * `serve`: the public entry point. It picks the adapter of the runtime it runs on (Deno, Bun or
 * Node), puts `FastResponse` in place of the global `Response` (unless told not to), and starts
 * the runtime-agnostic server on the adapter.
 *
 * @module
 */

import { installFastResponse } from "../fetch/response.ts";
import { bunTransport } from "../transport/bun.ts";
import { denoTransport } from "../transport/deno.ts";
import { nodeTransport } from "../transport/node.ts";
import type { Addr, Transport, UnixAddr } from "../transport/transport.ts";
import type { ServeHandler, ServeOptions, Server, ServeUnixOptions } from "./options.ts";
import { serveWith } from "./server.ts";
import { servePrimary, workerCount, workerIdentity } from "./workers.ts";
import process from "node:process";

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
 * import { bunTransport } from "../transport/bun.ts";
 * import { denoTransport } from "../transport/deno.ts";
 * import { nodeTransport } from "../transport/node.ts";
 *
 * assert.ok([denoTransport, bunTransport, nodeTransport].includes(runtimeTransport()));
 * ```
 */
export function runtimeTransport(): Transport {
  if ("Deno" in globalThis) return denoTransport;
  if ("Bun" in globalThis) return bunTransport;
  return nodeTransport;
}

/**
 * Starts an HTTP/1.1 server on a unix domain socket: `serve({ path, ...options }, handler)`. The
 * handler's and hooks' addresses are `{ transport: "unix", path }`.
 *
 * @param options The options, with the socket's path.
 * @param handler The handler, unless it is in the options.
 * @returns The running server, whose `addr` is `{ transport: "unix", path }`.
 *
 * @example Serve on a socket file and call it
 * ```ts
 * import assert from "node:assert/strict";
 * import { request } from "node:http";
 * import { serve } from "./serve.ts";
 *
 * const path = `/tmp/h1serve-example-${process.pid}.sock`;
 * const server = serve({ path }, (_request, info) => new Response(info.remoteAddr.transport));
 * assert.deepEqual(await server.ready, { transport: "unix", path });
 * const text = await new Promise<string>((resolve) => {
 *   request({ socketPath: path, path: "/" }, (response) => {
 *     let body = "";
 *     response.on("data", (chunk) => (body += chunk));
 *     response.on("end", () => resolve(body));
 *   }).end();
 * });
 * assert.equal(text, "unix");
 * await server.shutdown();
 * ```
 */
export function serve(options: ServeUnixOptions, handler?: ServeHandler<UnixAddr>): Server<UnixAddr>;
/**
 * Starts an HTTP/1.1 server, in the manner of `Deno.serve`: `serve(handler)`,
 * `serve(options, handler)` or `serve({ ...options, handler })`; over TLS with `cert` and `key`.
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
export function serve(optionsOrHandler: ServeOptions | ServeHandler, handler?: ServeHandler): Server;
// The implementation takes either kind's options and handler (whose addresses, as parameters,
// make them assignable only to `never`'s); the server itself handles both kinds of address.
export function serve(
  optionsOrHandler: ServeOptions<never> | ServeHandler<never>,
  handler?: ServeHandler<never>,
): Server<Addr> {
  let options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
  const workers = options.workers === undefined ? 1 : workerCount(options.workers);
  const worker = workers > 1 ? workerIdentity() : null;
  if (workers > 1 && options.path !== undefined) {
    throw new TypeError("serve() takes workers on TCP only, not with path");
  }
  if (workers > 1 && worker === null) {
    return servePrimary(workers, options.hostname ?? "0.0.0.0", options.port ?? 8000) as Server<Addr>;
  }
  if (worker !== null) options = { ...options, port: worker.port, reusePort: true };
  const server = serveWith(
    runtimeTransport(),
    options as ServeOptions,
    (typeof optionsOrHandler === "function" ? optionsOrHandler : handler) as ServeHandler | undefined,
  ) as Server<Addr>;
  if (options.replaceGlobalResponse !== false) installFastResponse();
  if (worker !== null) announceWorker(server, worker.id);
  return server;
}

/** A worker says when it listens (its primary waits for the line), and drains on SIGTERM or SIGINT. */
function announceWorker(server: Server<Addr>, id: number): void {
  server.ready.then((addr) => {
    console.log(
      `h1serve worker ${id} listening on ${
        addr.transport === "tcp" ? `${addr.hostname}:${addr.port}` : addr.path
      }`,
    );
  }, () => {});
  const drain = () => server.shutdown().then(() => process.exit(0));
  process.on("SIGTERM", drain);
  process.on("SIGINT", drain);
  // The primary holds the other end of stdin: its end means the primary is gone.
  process.stdin.on("end", drain);
  process.stdin.on("error", drain);
  process.stdin.resume();
}
