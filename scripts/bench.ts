/**
 * `deno task bench`: h1serve side by side with each runtime's own server and a raw-socket
 * ceiling, in one run. For each runtime it starts the three servers (scripts/bench_server.ts)
 * pinned to core 0, drives each scenario with wrk pinned to core 1, and reports requests/s,
 * server CPU µs per request (utime + stime of the server process over the run, divided by the
 * requests served), p99 latency and peak RSS, with the ratios to the runtime's own server and to
 * the ceiling.
 *
 * The WebSocket scenarios run an echo server (scripts/bench_ws_server.ts: h1serve's
 * `upgradeWebSocket` against `Deno.upgradeWebSocket`, `Bun.serve`'s `websocket`, or `ws` on
 * `node:http`) under the load client scripts/bench_ws_client.ts (Node, on core 1, 50 connections):
 * `ws32` keeps 8 messages of 32 bytes in flight per connection, `ws64k` one of 64 KiB; each row
 * gives messages/s, server CPU µs per message and the client's own CPU share (under 100%: the
 * client was not the limit), for h1serve's socket interface (`h1serve`), its stream interface
 * (`stream`) and the runtime's own. The three servers stay up side by side, and their measured runs
 * alternate over `--rounds` rounds (3 unless given): each figure is a median, each ratio the median of
 * the rounds' own ratios, with their min–max. `wsidle10k` opens 10,000 WebSockets and reports the server's
 * resident memory per socket twice: as the server settles (the garbage of the sockets' setup counts), and
 * with a full collection every 200 ms in every server (what the sockets themselves keep).
 *
 * `idle10k` opens 10,000 keep-alive connections, each sending one request and reading its answer,
 * then leaves them idle and reports the server's resident memory per connection. `idlefloor` (Bun
 * only, not run by default) does the same with a full collection every 200 ms, for h1serve, Bun.serve
 * and raw servers that keep more and more per socket: what one idle connection can cost at least.
 *
 * With `--profile DIR`, every server is CPU-profiled (`--cpu-prof` on Node and Bun, the inspector's
 * profiler on Deno) into `DIR/<runtime>-<scenario>-<server>.cpuprofile`, and the functions where
 * h1serve spends most time are printed under each scenario.
 *
 * With `--compare REF`, it measures h1serve at the commit REF ("base") against h1serve in the
 * working tree ("current") instead, and runs no other server. REF's tree is extracted with
 * `git archive` into `.tmp/bench-base-<sha>` (once per commit; the working tree and the index are
 * left alone), and the base runs that tree's own scripts/bench_server.ts, so both serve the same app.
 * For each runtime and scenario both servers start once and stay up, each is warmed up, and then
 * their measured runs alternate `--rounds` times (a round runs both, the base first in every other
 * round). A table per runtime gives each side's median server CPU µs per request (for `idle10k`,
 * KiB of RSS per idle connection, with a fresh server per run), the "paired" change (the median of
 * each round's current/base ratio, which a machine whose speed drifts over the run disturbs little)
 * with its 95% confidence interval (a sign test's), the median requests/s and each side's min–max;
 * a row is marked REGRESSION when the paired change is over +5% and its whole interval lies above
 * zero, and "over 5%, within noise" when the change is over +5% but the interval reaches zero or
 * below. `idlefloor` is skipped.
 *
 * `api` sends a browser's API request (`GET /api/users/42?fields=name,email` with the 14 header
 * fields of tests/e2e/_browser_request.ts, byte for byte) to a handler that parses the URL, reads two
 * fields and answers with `Response.json` (on node:http, the same with `req.headers` and `res.end`);
 * `hono` sends it to one Hono app (scripts/bench_hono_server.ts) on h1serve, on `Deno.serve` or
 * `Bun.serve`, and on Node on `@hono/node-server` and srvx; `hono-hello` sends that app `GET /`.
 * These three run their servers interleaved: all started at once, measured in alternating rounds
 * (`--rounds`, 3 unless given), medians and the median of the rounds' ratios printed.
 *
 * The static-file scenarios (`file1m`, `file100m`, `file304`) fetch a 1 MiB and a 100 MiB file of random
 * bytes (made once per run in a temporary folder), and revalidate the 1 MiB one with the validator the
 * server gave (If-None-Match with its ETag, else If-Modified-Since), h1serve's `serveDir` against the
 * runtime's own way (see scripts/bench_server.ts), on Bun also `Bun.serve`'s static `routes`, the raw
 * ceiling writing the same bytes from memory, and Debian's nginx (`sendfile on`, one worker, pinned to
 * core 0; its CPU is its master's and worker's), with h1serve's ratios to each.
 *
 * It installs what it needs first: the pinned runtimes from npm, and wrk with apt-get when missing.
 *
 * Usage: `deno task bench [--seconds 5] [--runtimes deno,bun,node] [--scenarios hello,idle10k,file1m]
 * [--profile DIR | --compare REF [--rounds 10]]`.
 * Not part of the test command.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { ensureSystemTools, ensureToolchain, RUNTIME_COMMANDS, untilReady } from "./setup.ts";
import { makeCertificate, type TestCertificate } from "../tests/e2e/_tls.ts";
import { API_TARGET, browserRequest } from "../tests/e2e/_browser_request.ts";

const root = new URL("..", import.meta.url).pathname;
const flag = (name: string, fallback: string) =>
  Deno.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ??
    (Deno.args.includes(`--${name}`) ? Deno.args[Deno.args.indexOf(`--${name}`) + 1] : fallback);
const seconds = Number(flag("seconds", "5"));
const runtimes = flag("runtimes", "deno,bun,node").split(",");
const scenarioNames = flag(
  "scenarios",
  "hello,hello-tls,hello-workers,pipelined,close,post4k,big64k,json20k,json20k-br,api,hono,hono-hello,file1m,file100m,file304,idle10k,ws32,ws64k,wsidle10k",
)
  .split(",");
const IDLE_CONNECTIONS = 10_000;
await ensureToolchain();
await ensureSystemTools([["wrk", "/usr/bin/wrk"]], "the benchmark's load generator");
const profileDir = flag("profile", "");
const compareRef = flag("compare", "");
const rounds = Number(flag("rounds", "10"));
/** The measured rounds of each interleaved scenario (WebSocket echo, `api`, `hono`: `--rounds`, 3 unless given). */
const wsRounds = Number(flag("rounds", "3"));
if (compareRef !== "" && (profileDir !== "" || !(rounds >= 1))) {
  console.error("--compare takes no --profile, and --rounds must be at least 1");
  Deno.exit(2);
}
if (profileDir !== "") Deno.mkdirSync(profileDir, { recursive: true });
/** The working tree's benchmark server; `--compare` runs the base tree's beside it. */
const benchServer = `${root}scripts/bench_server.ts`;
/** The WebSocket echo servers, and the load client (run on Node, pinned to core 1). */
const wsServer = `${root}scripts/bench_ws_server.ts`;
/** The Hono app's servers (the `hono` scenarios). */
const honoServer = `${root}scripts/bench_hono_server.ts`;
const wsClient = `${root}scripts/bench_ws_client.ts`;
/** The WebSocket scenarios: message size and messages in flight per connection, over 50 connections. */
const WS_SCENARIOS: Record<string, { bytes: number; inflight: number }> = {
  ws32: { bytes: 32, inflight: 8 },
  ws64k: { bytes: 64 * 1024, inflight: 1 },
};

/** The certificate of the TLS scenarios (from a test authority, as in the tests), made when first needed. */
let testCertificate: TestCertificate | null = null;
function certificate(): TestCertificate {
  if (testCertificate === null) {
    testCertificate = makeCertificate();
    globalThis.addEventListener("unload", () => testCertificate?.remove());
  }
  return testCertificate;
}

interface Scenario {
  readonly path: string;
  readonly wrk: string[];
  readonly lua?: string;
  /** Whether the raw ceiling can answer it (GET with keep-alive only). */
  readonly raw: boolean;
  /** Whether it runs over TLS: every server with the same certificate, wrk on `https:`. */
  readonly tls?: boolean;
  /**
   * A static-file scenario: the file of the bench folder it fetches (nginx serves the folder too, and
   * the raw ceiling writes this file's bytes from memory).
   */
  readonly file?: string;
  /** Whether each request revalidates: sends the validator the server gave for the file (a 304). */
  readonly revalidate?: boolean;
  /**
   * An interleaved scenario: the server script, and the kinds it runs per runtime (h1serve first, its
   * baseline second), all started at once and measured in alternating rounds.
   */
  readonly interleaved?: { readonly script: string; readonly kinds: (runtime: string) => string[] };
}

/** A wrk script that sends one fixed request, byte for byte (wrk's own would reorder the fields). */
function fixedRequestLua(request: string): string {
  const quoted = request.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r/g, "\\r").replace(
    /\n/g,
    "\\n",
  );
  return `request = function() return "${quoted}" end`;
}

/** The browser's API request, sent byte for byte (the `api` and `hono` scenarios). */
const BROWSER_API_REQUEST: Omit<Scenario, "interleaved"> = {
  path: API_TARGET,
  wrk: ["-c", "50"],
  raw: false,
  lua: fixedRequestLua(browserRequest()),
};

/**
 * The servers of `api`: h1serve, the runtime's own, and the raw ceiling (which reads the same request
 * and writes a precomputed answer: the I/O floor of a server in JavaScript on the runtime's TCP API).
 */
const apiKinds = () => ["h1serve", "native", "raw"];
/** The servers of the `hono` scenarios: h1serve and the runtime's own (on Node @hono/node-server, and srvx). */
const honoKinds = (runtime: string) =>
  runtime === "node" ? ["h1serve", "native", "srvx"] : ["h1serve", "native"];

const SCENARIOS: Record<string, Scenario> = {
  hello: { path: "/", wrk: ["-c", "50"], raw: true },
  "hello-tls": { path: "/", wrk: ["-c", "50"], raw: true, tls: true },
  pipelined: {
    path: "/",
    wrk: ["-c", "50"],
    raw: true,
    lua: `init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/") end
  req = table.concat(r)
end
request = function() return req end`,
  },
  close: { path: "/", wrk: ["-c", "50", "-H", "Connection: close"], raw: false },
  post4k: {
    path: "/echo",
    wrk: ["-c", "50"],
    raw: false,
    lua: `wrk.method = "POST"
wrk.body = string.rep("a", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"`,
  },
  big64k: { path: "/big", wrk: ["-c", "50"], raw: false },
  // A 20 KiB JSON response, as a client that takes no coding gets it, and as a browser asks for it.
  json20k: { path: "/json", wrk: ["-c", "50"], raw: false },
  "json20k-br": { path: "/json", wrk: ["-c", "50", "-H", "Accept-Encoding: gzip, br"], raw: false },
  // A browser's API request (14 fields, ~900 bytes): the URL parsed, two fields read, Response.json.
  api: { ...BROWSER_API_REQUEST, interleaved: { script: benchServer, kinds: apiKinds } },
  // The same Hono app on each server: the api request, and hello.
  hono: { ...BROWSER_API_REQUEST, interleaved: { script: honoServer, kinds: honoKinds } },
  "hono-hello": {
    path: "/",
    wrk: ["-c", "50"],
    raw: false,
    interleaved: { script: honoServer, kinds: honoKinds },
  },
  // Static files (random bytes, application/octet-stream): a 1 MiB and a 100 MiB file, and a 304.
  file1m: { path: "/1m.bin", wrk: ["-c", "50"], raw: true, file: "1m.bin" },
  file100m: { path: "/100m.bin", wrk: ["-c", "4"], raw: true, file: "100m.bin" },
  file304: { path: "/1m.bin", wrk: ["-c", "50"], raw: false, file: "1m.bin", revalidate: true },
};

/** The sizes of the static-file scenarios' files. */
const BENCH_FILES: Record<string, number> = { "1m.bin": 1024 * 1024, "100m.bin": 100 * 1024 * 1024 };
let benchFiles: string | null = null;

/**
 * The folder of the static-file scenarios, made once per run: random bytes (nothing compresses), readable
 * by nginx's workers (which run as another user when nginx is started as root).
 */
function filesFolder(): string {
  if (benchFiles !== null) return benchFiles;
  const dir = Deno.makeTempDirSync({ prefix: "h1serve-bench-files-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  Deno.chmodSync(dir, 0o755);
  for (const [name, size] of Object.entries(BENCH_FILES)) {
    const file = Deno.openSync(`${dir}/${name}`, { write: true, create: true, mode: 0o644 });
    const chunk = new Uint8Array(65536);
    for (let written = 0; written < size; written += chunk.byteLength) {
      crypto.getRandomValues(chunk);
      for (let offset = 0; offset < chunk.byteLength;) offset += file.writeSync(chunk.subarray(offset));
    }
    file.close();
  }
  return benchFiles = dir;
}

interface Result {
  rps: number;
  cpuUsPerRequest: number;
  p99: string;
  rssMiB: number;
  /** For a revalidating scenario, the status a revalidation got (a server without validators: 200). */
  revalidated?: number;
}

function cpuTicks(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (USER_HZ = 100)
}

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return match ? Number(match[1]) / 1024 : 0;
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return match ? Number(match[1]) : 0;
}

const IDLE_REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

/** Opens a connection, sends `request`, and reads until `answered` holds of what came back; leaves it open. */
async function openAnswered(
  port: number,
  request: Uint8Array,
  answered: (text: string) => boolean,
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(request);
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!answered(text)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("the server closed a connection before answering it");
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return conn;
}

/** Opens a keep-alive connection, makes one request, reads the answer, and leaves it open. */
function openIdle(port: number): Promise<Deno.TcpConn> {
  return openAnswered(port, IDLE_REQUEST, (text) => text.endsWith("Hello World!"));
}

/** The server's resident memory per idle connection, opened by `open` (by default keep-alive HTTP), in KiB. */
async function measureIdle(
  runtime: string,
  kind: string,
  port: number,
  forceGc = false,
  script = benchServer,
  open: (port: number) => Promise<Deno.TcpConn> = openIdle,
): Promise<number> {
  const server = await startServer(runtime, kind, port, "", forceGc, script);
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 20; i++) (await open(port)).close(); // warm up the request path
    const before = rssKiB(server.pid);
    // In batches, so that the listen backlog never overflows (a dropped SYN costs a 1 s retry).
    while (conns.length < IDLE_CONNECTIONS) {
      const batch = Math.min(250, IDLE_CONNECTIONS - conns.length);
      conns.push(...await Promise.all(Array.from({ length: batch }, () => open(port))));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let the server settle
    return (rssKiB(server.pid) - before) / IDLE_CONNECTIONS;
  } finally {
    for (const conn of conns) conn.close();
    server.kill("SIGKILL");
    await server.status;
  }
}

/** Starts `script` (a bench_server.ts) on core 0 and resolves once it listens. */
async function startServer(
  runtime: string,
  kind: string,
  port: number,
  profile = "",
  forceGc = false,
  script = benchServer,
  tls = false,
  workers = 0,
  extraEnv: Record<string, string> = {},
): Promise<Deno.ChildProcess> {
  const [command, ...runArgs] = RUNTIME_COMMANDS[runtime];
  // A forced collection needs V8's gc() exposed on Node and Deno; Bun has Bun.gc.
  const gcFlags = !forceGc
    ? []
    : runtime === "node"
    ? ["--expose-gc"]
    : runtime === "deno"
    ? ["--v8-flags=--expose-gc"]
    : [];
  const args = [...runArgs, ...gcFlags];
  const profiling = profile === "" || runtime === "deno"
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${profile.split("/").pop()}`];
  const child = new Deno.Command("taskset", {
    // The workers scenario gives the servers both cores (and wrk shares them); the others, core 0.
    args: ["-c", workers > 0 ? "0,1" : "0", command, ...profiling, ...args, script, kind, String(port)],
    env: {
      ...extraEnv,
      ...(profile === "" ? {} : { H1SERVE_CPU_PROFILE: profile }),
      ...(forceGc ? { H1SERVE_FORCE_GC: "1" } : {}),
      ...(workers > 0 ? { H1SERVE_BENCH_WORKERS: String(workers) } : {}),
      ...(tls
        ? { H1SERVE_BENCH_CERT: certificate().certFile, H1SERVE_BENCH_KEY: certificate().keyFile }
        : {}),
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await untilReady(child, `the ${runtime} ${kind} server`);
  return child;
}

async function runWrk(
  port: number,
  scenario: Scenario,
  placement = { cores: "1", threads: 1 },
): Promise<{ requests: number; rps: number; p99: string }> {
  const { cores, threads } = placement;
  const args = ["-c", cores, "wrk", `-t${threads}`, "-d", `${seconds}s`, "--latency", ...scenario.wrk];
  if (scenario.lua) {
    const script = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(script, scenario.lua);
    args.push("-s", script);
  }
  args.push(`${scenario.tls ? "https" : "http"}://127.0.0.1:${port}${scenario.path}`);
  const output = await new Deno.Command("taskset", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
  const p99 = /\s99%\s+(\S+)/.exec(text)?.[1] ?? "?";
  if (requests === 0 || /Non-2xx|Socket errors: connect [1-9]/.test(text)) {
    console.error(text + new TextDecoder().decode(output.stderr));
  }
  return { requests, rps, p99 };
}

/** CPU ticks of a process and all its descendants (a primary and its workers). */
function treeTicks(pid: number): number {
  let ticks = 0;
  try {
    ticks = cpuTicks(pid);
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      for (const child of children === "" ? [] : children.split(" ")) ticks += treeTicks(Number(child));
    }
  } catch { /* a process that just exited */ }
  return ticks;
}

/**
 * `hello-workers`: `hello` with 1 and 2 server processes on this machine's 2 cores, wrk (2 threads)
 * sharing them: h1serve's `workers`, against Deno.serve and Bun.serve in processes with reusePort, and
 * node:http under node:cluster. CPU counts every process of a server (primary and workers).
 */
async function workerRows(runtime: string): Promise<void> {
  const own = runtime === "node" ? "cluster" : "reusePort";
  const results = new Map<string, { rps: number; cpu: number }>();
  for (const kind of ["h1serve", "native"]) {
    for (const workers of [1, 2]) {
      const serverPort = port++;
      const server = await startServer(runtime, kind, serverPort, "", false, benchServer, false, workers);
      try {
        // wrk shares both cores with the servers, as the issue asks.
        const wrk = async () =>
          (await runWrk(serverPort, SCENARIOS.hello, { cores: "0,1", threads: 2 })).requests;
        await wrk(); // warm-up
        const before = treeTicks(server.pid);
        const requests = await wrk();
        const ticks = treeTicks(server.pid) - before;
        results.set(`${kind} ${workers}`, {
          rps: requests / seconds,
          cpu: requests > 0 ? (ticks * 10_000) / requests : NaN,
        });
      } finally {
        server.kill("SIGKILL");
        await server.status;
      }
    }
  }
  for (const kind of ["h1serve", "native"]) {
    const [one, two] = [results.get(`${kind} 1`)!, results.get(`${kind} 2`)!];
    const label = kind === "native" ? own : kind;
    const versus = kind === "h1serve"
      ? `   vs ${own} at 2: ${fmt(two.rps / results.get("native 2")!.rps, 2)}x req/s, ${
        fmt(two.cpu / results.get("native 2")!.cpu, 2)
      }x cpu`
      : "";
    console.log(
      `hello-workers ${label.padEnd(9)} 1: ${fmt(one.rps, 0).padStart(7)} req/s ${
        fmt(one.cpu, 2).padStart(6)
      } µs  2: ${fmt(two.rps, 0).padStart(7)} req/s ${fmt(two.cpu, 2).padStart(6)} µs  scaling ${
        fmt(two.rps / one.rps, 2)
      }x${versus}`,
    );
  }
}

/** The functions with the most self time in a .cpuprofile, as "share name file:line" lines. */
function topFunctions(file: string, count: number): string[] {
  const profile = JSON.parse(Deno.readTextFileSync(file)) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
  };
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (hits.get(node.id) ?? 0));
  }
  const total = profile.samples.length;
  return [...self].filter(([key]) => !key.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([key, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${key}`);
}

/** One scenario against one server of `script`: a warm-up run, then the measured run. */
async function measure(
  runtime: string,
  kind: string,
  name: string,
  port: number,
  script = benchServer,
): Promise<Result> {
  const profile = profileDir === "" ? "" : `${profileDir}/${runtime}-${name}-${kind}.cpuprofile`;
  let scenario = SCENARIOS[name];
  const env: Record<string, string> = scenario.file === undefined ? {} : {
    H1SERVE_BENCH_FILES: filesFolder(),
    ...(kind === "raw" ? { H1SERVE_BENCH_RAW_FILE: scenario.file } : {}),
  };
  const server = await startServer(runtime, kind, port, profile, false, script, scenario.tls, 0, env);
  try {
    let revalidated: number | undefined;
    if (scenario.revalidate) {
      const { field, status } = await revalidation(port, scenario.path);
      revalidated = status;
      if (field !== null) scenario = { ...scenario, wrk: [...scenario.wrk, "-H", field] };
    }
    await runWrk(port, { ...scenario, wrk: [...scenario.wrk] }).catch(() => {}); // warm-up
    const before = cpuTicks(server.pid);
    const { requests, rps, p99 } = await runWrk(port, scenario);
    const ticks = cpuTicks(server.pid) - before;
    return {
      rps,
      cpuUsPerRequest: requests > 0 ? (ticks * 10_000) / requests : NaN,
      p99,
      rssMiB: peakRssMiB(server.pid),
      revalidated,
    };
  } finally {
    // A profiled server exits on SIGTERM, which writes its profile.
    server.kill(profile === "" ? "SIGKILL" : "SIGTERM");
    await server.status;
  }
}

/**
 * The field that revalidates a file at `port`, from one request first: If-None-Match with its ETag,
 * else If-Modified-Since with its Last-Modified, else none; and the status a request with it gets.
 */
async function revalidation(port: number, path: string): Promise<{ field: string | null; status: number }> {
  const url = `http://127.0.0.1:${port}${path}`;
  const first = await fetch(url);
  await first.body?.cancel();
  const etag = first.headers.get("etag");
  const lastModified = first.headers.get("last-modified");
  const [name, value] = etag !== null
    ? ["If-None-Match", etag]
    : lastModified !== null
    ? ["If-Modified-Since", lastModified]
    : [null, null];
  if (name === null) return { field: null, status: first.status };
  const second = await fetch(url, { headers: { [name]: value! } });
  await second.body?.cancel();
  return { field: `${name}: ${value}`, status: second.status };
}

/** The peak resident memory of a process and its descendants (nginx's master and worker), in MiB. */
function treePeakRssMiB(pid: number): number {
  let mib = 0;
  try {
    mib = peakRssMiB(pid);
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      for (const child of children === "" ? [] : children.split(" ")) mib += treePeakRssMiB(Number(child));
    }
  } catch { /* a process that just exited */ }
  return mib;
}

/**
 * nginx serving the bench folder on `port`, pinned to core 0 as the other servers are: Debian's
 * /usr/sbin/nginx in the foreground with a configuration of its own, one worker, `sendfile on` and
 * `tcp_nopush on` (Debian's defaults), no access log, and keep-alive for as many requests as the run makes.
 */
async function startNginx(port: number): Promise<{ child: Deno.ChildProcess; stop(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "h1serve-bench-nginx-" });
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  types { application/octet-stream bin; }
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${filesFolder()};
  }
}
`,
  );
  const child = new Deno.Command("taskset", {
    args: ["-c", "0", "/usr/sbin/nginx", "-e", "stderr", "-c", `${dir}/nginx.conf`, "-p", dir],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM"); // stops the worker too
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  for (let tries = 0;; tries++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { child, stop };
    } catch (error) {
      if (tries >= 100) {
        await stop();
        throw new Error(`nginx did not listen on ${port}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A static-file scenario against nginx: CPU of its master and worker together. */
async function measureNginx(name: string, port: number): Promise<Result> {
  let scenario = SCENARIOS[name];
  const nginx = await startNginx(port);
  try {
    let revalidated: number | undefined;
    if (scenario.revalidate) {
      const { field, status } = await revalidation(port, scenario.path);
      revalidated = status;
      if (field !== null) scenario = { ...scenario, wrk: [...scenario.wrk, "-H", field] };
    }
    await runWrk(port, scenario); // warm-up
    const before = treeTicks(nginx.child.pid);
    const { requests, rps, p99 } = await runWrk(port, scenario);
    const ticks = treeTicks(nginx.child.pid) - before;
    return {
      rps,
      cpuUsPerRequest: requests > 0 ? (ticks * 10_000) / requests : NaN,
      p99,
      rssMiB: treePeakRssMiB(nginx.child.pid),
      revalidated,
    };
  } finally {
    await nginx.stop();
  }
}

/** One run of the WebSocket load client against `port`. */
async function runWsClient(
  port: number,
  bytes: number,
  inflight: number,
): Promise<{ messages: number; clientCpu: number }> {
  const output = await new Deno.Command("taskset", {
    args: [
      "-c",
      "1",
      RUNTIME_COMMANDS.node[0],
      wsClient,
      String(port),
      "50",
      String(bytes),
      String(inflight),
      String(seconds),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").pop() ?? "{}";
  const parsed = JSON.parse(line || "{}") as { messages?: number; clientCpu?: number };
  return { messages: parsed.messages ?? 0, clientCpu: parsed.clientCpu ?? NaN };
}

/** One measured run of a WebSocket echo scenario against a running server. */
async function measureWebSocket(
  server: Deno.ChildProcess,
  name: string,
  port: number,
): Promise<{ perSecond: number; cpuUsPerMessage: number; clientCpu: number }> {
  const { bytes, inflight } = WS_SCENARIOS[name];
  const before = cpuTicks(server.pid);
  const { messages, clientCpu } = await runWsClient(port, bytes, inflight);
  const ticks = cpuTicks(server.pid) - before;
  return {
    perSecond: messages / seconds,
    cpuUsPerMessage: messages > 0 ? (ticks * 10_000) / messages : NaN,
    clientCpu,
  };
}

const WS_HANDSHAKE = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
);

/** Opens a connection and completes a WebSocket handshake on it (reads the whole 101 head). */
function openIdleWebSocket(port: number): Promise<Deno.TcpConn> {
  return openAnswered(port, WS_HANDSHAKE, (text) => text.includes("\r\n\r\n"));
}

/**
 * The server's resident memory per idle WebSocket, in KiB, over 10,000 of them: as it settles
 * (what the setup's garbage leaves too), or with a full collection every 200 ms in the server
 * (`collected`: what the sockets keep).
 */
function measureIdleWebSocket(
  runtime: string,
  kind: string,
  port: number,
  collected: boolean,
): Promise<number> {
  return measureIdle(runtime, kind, port, collected, wsServer, openIdleWebSocket);
}

/** The WebSocket rows of one runtime: h1serve against the runtime's own (or `ws` on Node). */
async function webSocketRows(runtime: string, name: string): Promise<void> {
  const own = runtime === "node" ? "ws" : "native";
  if (name === "wsidle10k") {
    for (const collected of [false, true]) {
      const kib = { h1serve: await measureIdleWebSocket(runtime, "h1serve", port++, collected), [own]: 0 };
      kib[own] = await measureIdleWebSocket(runtime, "native", port++, collected);
      for (const [kind, value] of Object.entries(kib)) {
        const vsOwn = kind === "h1serve" ? `${fmt(value / kib[own], 2)}x (memory)` : "";
        console.log(
          `${name.padEnd(11)} ${kind.padEnd(9)} ${fmt(value, 2).padStart(9)} KiB of RSS per idle WebSocket, ${
            collected ? "collected" : "settled  "
          }   ${vsOwn}`,
        );
      }
    }
    return;
  }
  // All three servers stay up (pinned to core 0: only the one under load runs); each is warmed
  // up, then their measured runs alternate, in a rotated order each round, so that a machine whose
  // speed drifts moves them alike. A ratio is the median of the rounds' own ratios.
  // Each h1serve interface is set against the runtime's own server giving the same kind of message:
  // on Bun, whose own server gives a Buffer by default, the socket interface (an ArrayBuffer per
  // message, as WHATWG requires) is compared with Bun's server set to `binaryType = "arraybuffer"`.
  const kinds = runtime === "bun"
    ? ["h1serve", "h1serve-stream", "native", "native-arraybuffer"]
    : ["h1serve", "h1serve-stream", "native"];
  const baselineOf = (kind: string) =>
    kind === "h1serve" && runtime === "bun" ? "native-arraybuffer" : "native";
  const servers = await Promise.all(
    kinds.map(async (kind, i) => ({
      kind,
      port: port + i,
      process: await startServer(runtime, kind, port + i, "", false, wsServer),
    })),
  );
  port += kinds.length;
  const runs = new Map(
    kinds.map((kind) => [kind, [] as { perSecond: number; cpuUsPerMessage: number; clientCpu: number }[]]),
  );
  try {
    for (const server of servers) await measureWebSocket(server.process, name, server.port); // warm-up
    for (let round = 0; round < wsRounds; round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(round + i) % servers.length];
        runs.get(server.kind)!.push(await measureWebSocket(server.process, name, server.port));
      }
    }
  } finally {
    for (const server of servers) server.process.kill("SIGKILL");
    await Promise.all(servers.map((server) => server.process.status));
  }
  const labels: Record<string, string> = {
    "h1serve": "h1serve",
    "h1serve-stream": "stream",
    "native": own,
    "native-arraybuffer": `${own}-ab`,
  };
  for (const kind of kinds) {
    const mine = runs.get(kind)!;
    const theirs = runs.get(baselineOf(kind))!;
    const label = labels[kind];
    const cpuRatios = mine.map((run, round) => run.cpuUsPerMessage / theirs[round].cpuUsPerMessage);
    const rateRatios = mine.map((run, round) => run.perSecond / theirs[round].perSecond);
    const vsOwn = kind.startsWith("native")
      ? ""
      : `${fmt(median(rateRatios), 2)}x, ${fmt(median(cpuRatios), 2)}x (cpu ${spread(cpuRatios)}) against ${
        labels[baselineOf(kind)]
      }`;
    console.log(
      `${name.padEnd(11)} ${label.padEnd(9)} ${fmt(median(mine.map((r) => r.perSecond)), 0).padStart(9)}  ${
        fmt(median(mine.map((r) => r.cpuUsPerMessage)), 2).padStart(10)
      }  client ${fmt(100 * Math.max(...mine.map((r) => r.clientCpu)), 0).padStart(3)}% ${
        "".padEnd(6)
      } ${vsOwn}`,
    );
  }
}

/** What an interleaved scenario's server is called in its rows. */
function serverLabel(runtime: string, scenario: Scenario, kind: string): string {
  if (kind !== "native") return kind;
  if (runtime === "node") return scenario.interleaved?.script === honoServer ? "node-server" : "node:http";
  return runtime === "deno" ? "Deno.serve" : "Bun.serve";
}

/** One measured wrk run against a running server: its requests/s, CPU µs per request and p99. */
async function measureRunning(
  server: Deno.ChildProcess,
  serverPort: number,
  scenario: Scenario,
): Promise<{ rps: number; cpu: number; p99: string }> {
  const before = cpuTicks(server.pid);
  const { requests, rps, p99 } = await runWrk(serverPort, scenario);
  const ticks = cpuTicks(server.pid) - before;
  return { rps, cpu: requests > 0 ? (ticks * 10_000) / requests : NaN, p99 };
}

/**
 * An interleaved scenario (`api`, `hono`, `hono-hello`) on one runtime. All its servers start at
 * once (pinned to core 0: only the one under load runs), each is warmed up, then their measured
 * runs alternate, in a rotated order each round, so that a machine whose speed drifts moves them
 * alike. The figures are medians over the rounds; a ratio is the median of the rounds' own ratios
 * to the baseline (the second kind).
 */
async function interleavedRows(runtime: string, name: string): Promise<void> {
  const scenario = SCENARIOS[name];
  const { script, kinds: kindsOf } = scenario.interleaved!;
  const kinds = kindsOf(runtime);
  const profileOf = (kind: string) =>
    profileDir !== "" && kind === "h1serve" ? `${profileDir}/${runtime}-${name}-h1serve.cpuprofile` : "";
  const servers: { kind: string; port: number; process: Deno.ChildProcess }[] = [];
  const runs = new Map(kinds.map((kind) => [kind, [] as { rps: number; cpu: number; p99: string }[]]));
  try {
    for (const kind of kinds) {
      const serverPort = port++;
      const process = await startServer(runtime, kind, serverPort, profileOf(kind), false, script);
      servers.push({ kind, port: serverPort, process });
    }
    for (const server of servers) await runWrk(server.port, scenario); // warm-up
    for (let round = 0; round < wsRounds; round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(round + i) % servers.length];
        runs.get(server.kind)!.push(await measureRunning(server.process, server.port, scenario));
      }
    }
  } finally {
    // A profiled server exits on SIGTERM, which writes its profile.
    for (const server of servers) server.process.kill(profileOf(server.kind) === "" ? "SIGKILL" : "SIGTERM");
    await Promise.all(servers.map((server) => server.process.status));
  }
  const baseline = runs.get(kinds[1])!;
  for (const kind of kinds) {
    const mine = runs.get(kind)!;
    const cpuRatios = mine.map((run, round) => run.cpu / baseline[round].cpu);
    const rateRatios = mine.map((run, round) => run.rps / baseline[round].rps);
    const vsOwn = kind === kinds[1]
      ? ""
      : `${fmt(median(rateRatios), 2)}x, ${fmt(median(cpuRatios), 2)}x (cpu ${spread(cpuRatios)}) against ${
        serverLabel(runtime, scenario, kinds[1])
      }`;
    console.log(
      `${name.padEnd(11)} ${serverLabel(runtime, scenario, kind).padEnd(11)} ${
        fmt(median(mine.map((r) => r.rps)), 0).padStart(7)
      }  ${fmt(median(mine.map((r) => r.cpu)), 2).padStart(10)}  ${mine[mine.length - 1].p99.padEnd(9)} ${
        "".padEnd(9)
      } ${vsOwn}`.trimEnd(),
    );
  }
  if (profileDir !== "") printProfile(`${profileDir}/${runtime}-${name}-h1serve.cpuprofile`);
}

/** Prints the functions where h1serve spent most self time, from its profile. */
function printProfile(file: string): void {
  try {
    console.log(`  where h1serve's time goes (self time, ${file}):`);
    for (const line of topFunctions(file, 12)) console.log(`    ${line}`);
  } catch (error) {
    console.log(`    no profile: ${(error as Error).message}`);
  }
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
let port = 19_000;
console.log(
  `h1serve bench: ${seconds} s per run after a warm-up run, wrk -t1 on core 1, servers on core 0\n`,
);
/** The side-by-side run: h1serve, the runtime's own server and the raw ceiling, per runtime. */
async function againstOwn(): Promise<void> {
  for (const runtime of runtimes) {
    let wsHeader = false;
    console.log(`== ${runtime}`);
    if (scenarioNames.some((name) => !name.startsWith("ws"))) {
      console.log(
        "scenario    server    req/s      cpu µs/req  p99       rss MiB   vs own (req/s, cpu)  vs raw (req/s)",
      );
    }
    for (const name of scenarioNames) {
      if (name in WS_SCENARIOS || name === "wsidle10k") {
        if (!wsHeader) {
          console.log(
            `WebSocket   server    msgs/s     cpu µs/msg  load client  vs own (msgs/s, cpu), medians of ${wsRounds} paired rounds`,
          );
        }
        wsHeader = true;
        await webSocketRows(runtime, name);
        continue;
      }
      if (name === "idlefloor") {
        if (runtime !== "bun") continue;
        for (const kind of ["raw", "raw-object", "raw-class", "raw-class-map", "native", "h1serve"]) {
          const kib = await measureIdle(runtime, kind, port++, true);
          console.log(
            `${name.padEnd(11)} ${kind.padEnd(13)} ${fmt(kib, 2).padStart(5)} KiB of RSS per idle connection`,
          );
        }
        continue;
      }
      if (SCENARIOS[name].interleaved !== undefined) {
        await interleavedRows(runtime, name);
        continue;
      }
      if (name === "hello-workers") {
        await workerRows(runtime);
        continue;
      }
      if (name === "idle10k") {
        const kib: Record<string, number> = {};
        for (const kind of ["h1serve", "native", "raw"]) kib[kind] = await measureIdle(runtime, kind, port++);
        for (const [kind, value] of Object.entries(kib)) {
          const vsOwn = kind === "h1serve" ? `${fmt(value / kib.native, 2)}x (memory)` : "";
          console.log(
            `${name.padEnd(11)} ${kind.padEnd(9)} ${
              fmt(value, 2).padStart(9)
            } KiB of RSS per idle connection   ${vsOwn}`,
          );
        }
        continue;
      }
      const results: Record<string, Result> = {};
      const files = SCENARIOS[name].file !== undefined;
      // A static-file scenario also runs Bun's static routes (on Bun) and nginx.
      const kinds = ["h1serve", "native", ...(files && runtime === "bun" ? ["native-static"] : []), "raw"];
      for (const kind of kinds) {
        if (kind === "raw" && !SCENARIOS[name].raw) continue;
        results[kind] = await measure(runtime, kind, name, port++);
      }
      if (files) results.nginx = await measureNginx(name, port++);
      const versus = (r: Result, other: Result | undefined) =>
        other === undefined
          ? ""
          : `${fmt(r.rps / other.rps, 2)}x, ${fmt(r.cpuUsPerRequest / other.cpuUsPerRequest, 2)}x`;
      for (const [kind, r] of Object.entries(results)) {
        const mine = kind === "h1serve";
        const vsOwn = mine ? versus(r, results.native) : "";
        const vsRaw = mine && results.raw ? `${fmt(r.rps / results.raw.rps, 2)}x` : "";
        const more = !mine || !files
          ? ""
          : `  vs nginx ${versus(r, results.nginx)}${
            results["native-static"] ? `  vs static ${versus(r, results["native-static"])}` : ""
          }`;
        const label = kind === "native-static" ? "static" : kind;
        const note = r.revalidated === undefined || r.revalidated === 304
          ? ""
          : `  (a revalidation got ${r.revalidated}: no validator, every answer is the file)`;
        console.log(
          `${name.padEnd(11)} ${label.padEnd(9)} ${fmt(r.rps, 0).padStart(9)}  ${
            fmt(r.cpuUsPerRequest, 2).padStart(10)
          }  ${r.p99.padEnd(9)} ${fmt(r.rssMiB).padStart(7)}   ${vsOwn.padEnd(20)} ${
            vsRaw.padEnd(6)
          }${more}${note}`
            .trimEnd(),
        );
      }
      if (profileDir !== "") printProfile(`${profileDir}/${runtime}-${name}-h1serve.cpuprofile`);
    }
    console.log();
  }
}

/**
 * The tree of the commit `ref` names, extracted with `git archive` into `.tmp/bench-base-<sha>`
 * (once per commit, through a temporary folder so that an interrupted extraction is never reused),
 * with the project's node_modules linked in. The working tree and the index are left alone.
 */
async function baseTree(ref: string): Promise<{ sha: string; dir: string }> {
  const revParse = await new Deno.Command("git", {
    args: ["-C", root, "rev-parse", "--short", "--verify", "--quiet", `${ref}^{commit}`],
    stdout: "piped",
  }).output();
  if (!revParse.success) throw new Error(`--compare ${ref}: no such commit`);
  const sha = new TextDecoder().decode(revParse.stdout).trim();
  const dir = `${root}.tmp/bench-base-${sha}`;
  if (await Deno.stat(dir).then(() => false, () => true)) {
    await Deno.mkdir(`${root}.tmp`, { recursive: true });
    const partial = await Deno.makeTempDir({ dir: `${root}.tmp`, prefix: `bench-base-${sha}-` });
    const git = new Deno.Command("git", { args: ["-C", root, "archive", sha], stdout: "piped" }).spawn();
    const tar = new Deno.Command("tar", { args: ["-x", "-C", partial], stdin: "piped" }).spawn();
    await git.stdout.pipeTo(tar.stdin);
    if (!(await git.status).success || !(await tar.status).success) {
      await Deno.remove(partial, { recursive: true });
      throw new Error(`could not extract ${ref} with git archive`);
    }
    await Deno.symlink(`${root}node_modules`, `${partial}/node_modules`);
    await Deno.rename(partial, dir);
  }
  return { sha, dir };
}

/** The median of the finite values (NaN if there are none). */
function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The range of the finite values, as "min–max". */
function spread(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  return `${fmt(Math.min(...finite), 2)}–${fmt(Math.max(...finite), 2)}`;
}

/**
 * A distribution-free 95% confidence interval for the median of `values`: the order statistics that a
 * sign test puts around it (normal approximation of the binomial; with fewer than 6 values, the whole
 * range).
 */
function medianInterval(values: number[]): [number, number] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  const k = Math.max(0, Math.floor(n / 2 - 0.98 * Math.sqrt(n)));
  return [sorted[k], sorted[n - 1 - k]];
}

/**
 * The mark of a `--compare` row: REGRESSION only when the paired change is over +5% and the sign
 * test's interval lies wholly above zero (so chance alone is an unlikely cause).
 */
function verdict(paired: number, low: number): string {
  if (!(paired > 0.05)) return "";
  return low > 0 ? "REGRESSION" : "over 5%, within noise";
}

/** One side of `--compare`: the bench_server.ts it runs, and what each round measured. */
interface Side {
  readonly script: string;
  readonly values: number[];
  readonly rps: number[];
}

/**
 * One scenario of `--compare`: both servers start once and stay up (pinned to core 0, so only the
 * one under load runs), each is warmed up, then `rounds` measured runs of each alternate, the order
 * swapped in every other round, so that a machine whose speed drifts moves both sides alike.
 */
async function compareScenario(runtime: string, name: string, base: Side, current: Side): Promise<void> {
  if (name === "idle10k") {
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? [base, current] : [current, base]) {
        side.values.push(await measureIdle(runtime, "h1serve", port++, false, side.script));
      }
    }
    return;
  }
  const scenario = SCENARIOS[name];
  const servers = new Map<Side, { child: Deno.ChildProcess; port: number }>();
  try {
    for (const side of [base, current]) {
      const sidePort = port++;
      servers.set(side, {
        child: await startServer(runtime, "h1serve", sidePort, "", false, side.script),
        port: sidePort,
      });
      await runWrk(sidePort, scenario); // warm-up
    }
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? [base, current] : [current, base]) {
        const server = servers.get(side)!;
        const before = cpuTicks(server.child.pid);
        const { requests, rps } = await runWrk(server.port, scenario);
        const ticks = cpuTicks(server.child.pid) - before;
        side.values.push(requests > 0 ? (ticks * 10_000) / requests : NaN);
        side.rps.push(rps);
      }
    }
  } finally {
    for (const { child } of servers.values()) {
      child.kill("SIGKILL");
      await child.status;
    }
  }
}

/**
 * `--compare REF`: h1serve at REF against h1serve in the working tree, each scenario measured
 * `rounds` times alternately, one table per runtime.
 */
async function againstBase(ref: string): Promise<void> {
  const { sha, dir } = await baseTree(ref);
  console.log(`base: ${ref} (${sha}, in ${dir}); current: the working tree; ${rounds} rounds, alternating\n`);
  const percent = (x: number) => (Number.isFinite(x) ? `${x > 0 ? "+" : ""}${(100 * x).toFixed(1)}%` : "n/a");
  for (const runtime of runtimes) {
    console.log(`== ${runtime}: server CPU µs per request (idle10k: KiB of RSS per idle connection)`);
    const header = [
      "scenario".padEnd(11),
      "base".padStart(8),
      "current".padStart(8),
      "paired".padStart(7),
      "95% interval".padEnd(16),
      "base req/s",
      "current req/s",
      "base min–max ",
      "current min–max",
    ];
    console.log(header.join("  "));
    for (const name of scenarioNames) {
      if (name === "idlefloor" || name.startsWith("ws")) continue; // --compare covers HTTP
      const script = SCENARIOS[name]?.interleaved?.script ?? benchServer;
      const baseScript = `${dir}/scripts/${script.split("/").pop()}`;
      if (!existsSync(baseScript)) {
        console.log(`${name.padEnd(11)}  (the base has no ${baseScript.split("/").pop()})`);
        continue;
      }
      const base: Side = { script: baseScript, values: [], rps: [] };
      const current: Side = { script, values: [], rps: [] };
      await compareScenario(runtime, name, base, current);
      // The rounds' own ratios: the two runs of a round are seconds apart, so what the machine does
      // over minutes cancels out of each ratio.
      const ratios = current.values.map((value, i) => value / base.values[i] - 1);
      const paired = median(ratios);
      const [low, high] = medianInterval(ratios);
      const rps = (side: Side) => (side.rps.length === 0 ? "-" : fmt(median(side.rps), 0));
      const cells = [
        name.padEnd(11),
        fmt(median(base.values), 2).padStart(8),
        fmt(median(current.values), 2).padStart(8),
        percent(paired).padStart(7),
        `${percent(low)} … ${percent(high)}`.padEnd(16),
        rps(base).padStart(10),
        rps(current).padStart(13),
        spread(base.values).padEnd(13),
        spread(current.values).padEnd(15),
        verdict(paired, low),
      ];
      console.log(cells.join("  ").trimEnd());
    }
    console.log();
  }
}

if (compareRef === "") await againstOwn();
else await againstBase(compareRef);
