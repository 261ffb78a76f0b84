/**
 * The `hono` and `hono-hello` benchmark scenarios' server, started by `scripts/bench.ts`:
 * `<runtime> scripts/bench_hono_server.ts <kind> <port>`. Every kind serves the same Hono app:
 * `GET /` → "Hello World!" (`c.text`), `GET /api/users/:id` → a JSON record from the route's
 * param, the query and a header field (`c.req.param`, `c.req.query`, `c.req.header`, `c.json`),
 * and `POST /echo` → the body back. The kinds put it on:
 * - `h1serve`: h1serve's `serve`;
 * - `native`: `Deno.serve` on Deno, `Bun.serve` on Bun, `@hono/node-server` on Node;
 * - `srvx` (Node): srvx's Node adapter.
 *
 * @module
 */

import { Hono } from "hono";
import { serve } from "../mod.ts";
import { exitOnSigterm } from "./_bench_profile.ts";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(): void },
    handler: (r: Request) => Response | Promise<Response>,
  ): void;
};
declare const Bun: {
  serve(options: { port: number; hostname: string; fetch(r: Request): Response | Promise<Response> }): void;
};

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
const hostname = "127.0.0.1";
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

const app = new Hono();
app.get("/", (c) => c.text("Hello World!"));
app.get("/api/users/:id", (c) =>
  c.json({
    id: Number(c.req.param("id")),
    fields: c.req.query("fields")?.split(",") ?? [],
    agent: c.req.header("user-agent") ?? null,
    language: c.req.header("accept-language") ?? null,
  }));
app.post("/echo", async (c) => c.body(await c.req.arrayBuffer()));

await exitOnSigterm();

if (kind === "h1serve") {
  await serve({ port, hostname }, app.fetch).ready;
} else if (kind === "native" && runtime === "deno") {
  Deno.serve({ port, hostname, onListen() {} }, app.fetch);
} else if (kind === "native" && runtime === "bun") {
  Bun.serve({ port, hostname, fetch: app.fetch });
} else if (kind === "native" && runtime === "node") {
  const { serve: nodeServe } = await import("@hono/node-server");
  await new Promise<void>((resolve) => nodeServe({ fetch: app.fetch, port, hostname }, () => resolve()));
} else if (kind === "srvx" && runtime === "node") {
  const { serve: srvxServe } = await import("srvx/node");
  await srvxServe({ fetch: app.fetch, port, hostname, silent: true }).ready();
} else {
  console.error(`unknown server kind ${kind} on ${runtime}`);
  process.exit(2);
}
console.log("ready");
