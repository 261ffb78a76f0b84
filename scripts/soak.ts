/**
 * `deno task soak`: h1serve behind nginx for ten minutes under two loads at once, `hello` (GET /)
 * and `post4k` (POST /echo with a 4 KiB body), with the server's resident memory (RSS) read every
 * 10 s. It fails if RSS grows by more than 10% after the first minute (the highest sample after it,
 * against the sample at one minute), or if wrk counts a single error. nginx runs with the
 * configuration of docs/DEPLOYMENT.md (`tests/e2e/_proxies.ts`); the server is the benchmark's
 * (`scripts/bench_server.ts h1serve`).
 *
 * The server runs with V8's young generation at full size from the start (see
 * YOUNG_GENERATION_AT_FULL_SIZE below).
 *
 * Flags: `--runtimes deno,bun,node` (default all three, one after the other), `--minutes N`
 * (default 10), `--connections N` per load (default 8), `--heap` (the server also makes a full
 * collection every 10 s and reports its JS heap then, which tells a growth of live objects from one
 * of the allocator's or the heap's reserve; that collection changes what RSS does a little), `--server
 * native` (the runtime's own server, `Deno.serve`, `Bun.serve` or `node:http`, in h1serve's place, for
 * comparison), `--v8-flags=a,b` (V8 flags for the server on Deno and Node, in place of the default).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { nginxConfig, ProxyProcess, runWrk, type WrkSummary } from "../tests/e2e/_proxies.ts";
import { freePort } from "../tests/e2e/_helpers.ts";
import { ensureSystemTools, ensureToolchain, RUNTIME_COMMANDS, untilReady } from "./setup.ts";

const root = new URL("..", import.meta.url).pathname;
/**
 * V8's young generation at the size it grows to under this load, from the start. Left to itself, V8
 * doubles it in steps, minutes into a run (7, 13, 26 and 52 MiB of new space on Node; 26 to 39 MiB on
 * Deno), and RSS follows by as much: node:http grew by 42% after the first minute that way, with its
 * JS heap flat. Starting it at full size leaves the growth that the soak is there to find, that of
 * the program. `--v8-flags=` (empty) runs with V8's own defaults.
 */
const YOUNG_GENERATION_AT_FULL_SIZE = "--min-semi-space-size=32";

/** `--v8-flags` for the server, as Deno or Node takes them (Bun's JavaScriptCore has no V8). */
function v8Flags(runtime: string): string[] {
  const flags = values["v8-flags"];
  if (flags === "" || runtime === "bun") return [];
  return runtime === "deno" ? [`--v8-flags=${flags}`] : flags.split(",");
}

/** What exposes a full collection to the server (Bun has `Bun.gc`). */
const GC_FLAGS: Record<string, string[]> = {
  deno: ["--v8-flags=--expose-gc"],
  bun: [],
  node: ["--expose-gc"],
};
const SAMPLE_MS = 10_000;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const WARMUP_MS = 60_000;
const MAX_GROWTH = 0.10;
const POST_4K_LUA = `wrk.method = "POST"
wrk.body = string.rep("a", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runtimes: { type: "string", default: "deno,bun,node" },
    minutes: { type: "string", default: "10" },
    connections: { type: "string", default: "8" },
    heap: { type: "boolean", default: false },
    server: { type: "string", default: "h1serve" },
    "v8-flags": { type: "string", default: YOUNG_GENERATION_AT_FULL_SIZE },
  },
});
const runtimes = values.runtimes.split(",");
const minutes = Number(values.minutes);
const connections = Number(values.connections);
for (const runtime of runtimes) {
  if (!(runtime in RUNTIME_COMMANDS)) {
    console.error(`soak: unknown runtime ${JSON.stringify(runtime)} (deno, bun or node)`);
    Deno.exit(2);
  }
}
if (values.server !== "h1serve" && values.server !== "native") {
  console.error(`soak: --server is h1serve or native, not ${JSON.stringify(values.server)}`);
  Deno.exit(2);
}
if (!(minutes >= 2)) {
  console.error("soak: --minutes must be 2 or more (the first minute is the warm-up)");
  Deno.exit(2);
}

await ensureToolchain();
await ensureSystemTools([["nginx", "/usr/sbin/nginx"], ["wrk", "/usr/bin/wrk"]], "the soak");

/** One runtime's soak: the samples and what wrk said. */
interface SoakResult {
  readonly runtime: string;
  /** RSS in KiB, every SAMPLE_MS from the start of the load. */
  readonly samples: number[];
  /** With `--heap`: the JS heap in KiB after a full collection, at each sample. */
  readonly heaps: number[];
  readonly loads: { name: string; summary: WrkSummary }[];
}

/** The resident memory of a process, in KiB. */
function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
}

async function startServer(
  runtime: string,
  port: number,
  heapLog: string | null,
): Promise<Deno.ChildProcess> {
  const [command, ...args] = RUNTIME_COMMANDS[runtime];
  const child = new Deno.Command(command, {
    args: [
      ...args,
      ...(heapLog ? GC_FLAGS[runtime] : []),
      ...v8Flags(runtime),
      `${root}scripts/bench_server.ts`,
      values.server,
      String(port),
    ],
    env: heapLog ? { H1SERVE_HEAP_LOG: heapLog } : {},
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await untilReady(child, `the ${runtime} server`);
  return child;
}

async function soak(runtime: string): Promise<SoakResult> {
  const port = await freePort();
  const heapLog = values.heap ? await Deno.makeTempFile({ suffix: ".heap" }) : null;
  const server = await startServer(runtime, port, heapLog);
  const front = await freePort();
  const nginx = await ProxyProcess.nginx(front, (dir) => nginxConfig(dir, front, [port], { idleMs: 60_000 }));
  const lua = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(lua, POST_4K_LUA);
  const samples: number[] = [];
  const heaps: number[] = [];
  try {
    const seconds = minutes * 60;
    const url = `http://127.0.0.1:${front}`;
    const loads = [
      { name: "hello", run: runWrk(`${url}/`, seconds, connections) },
      { name: "post4k", run: runWrk(`${url}/echo`, seconds, connections, ["-s", lua]) },
    ];
    const started = Date.now();
    const sampling = setInterval(() => {
      samples.push(rssKiB(server.pid));
      const at = Math.round((Date.now() - started) / 1000);
      let line = `${runtime} ${String(at).padStart(4)} s  RSS ${mib(samples.at(-1)!)}`;
      if (heapLog !== null) {
        const last = Deno.readTextFileSync(heapLog).trim().split("\n").at(-1)!;
        const [heapUsed, external, , newSpace] = last.split(" ").map(Number);
        heaps.push(heapUsed + external);
        line += `  JS heap after a full collection ${mib(heapUsed)} (+ ${mib(external)} external)`;
        if (newSpace > 0) line += `, V8 new space ${mib(newSpace)}`;
      }
      console.log(line);
    }, SAMPLE_MS);
    const summaries = await Promise.all(loads.map((load) => load.run));
    clearInterval(sampling);
    return { runtime, samples, heaps, loads: loads.map(({ name }, i) => ({ name, summary: summaries[i] })) };
  } finally {
    await nginx.stop();
    server.kill("SIGKILL");
    await server.status;
    await Deno.remove(lua);
    if (heapLog !== null) await Deno.remove(heapLog);
  }
}

const results: SoakResult[] = [];
for (const runtime of runtimes) {
  console.log(
    `== soak: ${values.server} on ${runtime}, ${minutes} min through nginx, hello and post4k, ${connections} connections each`,
  );
  results.push(await soak(runtime));
}

let failed = false;
console.log(
  "\n| runtime | hello requests | post4k requests | errors | RSS at 1 min | RSS at end | highest after 1 min | growth |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const { runtime, samples, loads } of results) {
  const base = samples[WARMUP_MS / SAMPLE_MS - 1];
  const after = samples.slice(WARMUP_MS / SAMPLE_MS);
  const highest = Math.max(...after);
  const growth = highest / base - 1;
  const errors = loads.filter(({ summary }) => Object.keys(summary.errors).length > 0)
    .map(({ name, summary }) => `${name} ${JSON.stringify(summary.errors)}`);
  const ok = growth <= MAX_GROWTH && errors.length === 0 &&
    loads.every(({ summary }) => summary.requests > 0);
  failed ||= !ok;
  console.log(
    `| ${runtime} | ${loads[0].summary.requests} | ${loads[1].summary.requests} | ${
      errors.join("; ") || "0"
    } | ` +
      `${mib(base)} | ${mib(samples.at(-1)!)} | ${mib(highest)} | ${(growth * 100).toFixed(1)}%${
        ok ? "" : " FAIL"
      } |`,
  );
}
console.log(
  failed ? `soak: FAILED (RSS grew by more than ${MAX_GROWTH * 100}%, or wrk counted errors)` : "soak: ok",
);
Deno.exit(failed ? 1 : 0);
