/**
 * One benchmark server, started by `scripts/bench.ts` on the runtime under test:
 * `<runtime> scripts/bench_server.ts <kind> <port>`, where kind is `h1serve`, `native`
 * (Deno.serve, Bun.serve or node:http) or `raw` (the runtime's TCP API answering every request
 * with a precomputed response, one write per read: the ceiling). Every kind serves the same app:
 * `GET /` → "Hello World!", `GET /api/users/42?fields=name,email` → a small JSON record from the URL and
 * two header fields (the `api` scenario), `POST /echo` → the body back, `GET /big` → 64 KiB, `GET /json` → a 20 KiB
 * JSON document (compressed by the request's Accept-Encoding: see `jsonResponse`), `GET /1m.bin` and
 * `GET /100m.bin` → the files of the static-file scenarios (`H1SERVE_BENCH_FILES`; see `fileResponse`;
 * on Bun the `native-static` kind serves them from `Bun.serve`'s `routes`, and with
 * `H1SERVE_BENCH_RAW_FILE` the raw ceiling answers with that file's bytes from memory). With
 * `H1SERVE_BENCH_CERT` and `H1SERVE_BENCH_KEY` (PEM files) h1serve, the native servers and the raw
 * ceiling speak TLS (node:https and node:tls on Node, `Deno.listenTls`, `Bun.listen` with `tls`), with
 * the same certificate.
 *
 * On Bun, three more kinds calibrate the memory of an idle connection (`deno task bench --runtimes
 * bun --scenarios idlefloor`): the raw server keeping, for each socket, `raw-object` an empty
 * object, `raw-class` an 8-field class instance (the Bun adapter socket's size), `raw-class-map`
 * that instance, the peer's address and a `Map` entry. With `H1SERVE_FORCE_GC=1` a Bun server
 * makes a full collection every 200 ms. With `H1SERVE_HEAP_LOG=FILE` (`deno task soak`) the server
 * appends its JS heap after a full collection to FILE every 10 s.
 *
 * @module
 */

import * as zlib from "node:zlib";
import { serve } from "../mod.ts";
import { serveDir } from "../src/static/serve_dir.ts";
import { createReadStream, readFileSync, stat } from "node:fs";
import { exitOnSigterm } from "./_bench_profile.ts";

declare const Deno: {
  serve(
    options: {
      port: number;
      hostname: string;
      onListen(): void;
      cert?: string;
      key?: string;
      reusePort?: boolean;
    },
    handler: (r: Request) => Promise<Response>,
  ): void;
  listen(options: { port: number; hostname: string }): AsyncIterable<DenoRawConn>;
  open(path: string): Promise<{ readonly readable: ReadableStream<Uint8Array> }>;
  stat(path: string): Promise<{ size: number; mtime: Date | null }>;
  listenTls(
    options: { port: number; hostname: string; cert: string; key: string },
  ): AsyncIterable<DenoRawConn>;
};
interface DenoRawConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch(r: Request): Promise<Response>;
    routes?: Record<string, unknown>;
    tls?: { cert: string; key: string };
    reusePort?: boolean;
  }): void;
  listen(options: {
    port: number;
    hostname: string;
    tls?: { cert: string; key: string };
    socket: {
      open?(socket: { data: unknown; readonly remoteAddress: string }): void;
      data(socket: { data: unknown; write(bytes: Uint8Array): number }, bytes: Uint8Array): void;
      drain?(socket: { data: unknown; write(bytes: Uint8Array): number }): void;
    };
  }): void;
  gc(full: boolean): void;
  file(path: string): Blob;
};

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
const hostname = "127.0.0.1";
const BIG = new Uint8Array(64 * 1024).fill(0x61);

/** A 20 KiB JSON document (the `json20k` scenarios): a page of an API's records. */
const JSON_20K = (() => {
  const records = [];
  for (let id = 1; JSON.stringify(records).length < 20 * 1024 - 160; id++) {
    records.push({
      id,
      name: `user ${id}`,
      email: `user${id}@example.com`,
      active: id % 3 !== 0,
      score: (id * 37) % 101,
    });
  }
  return JSON.stringify({ page: 1, records });
})();
const JSON_TYPE = { "content-type": "application/json" };

/**
 * The folder of the static-file scenarios (`H1SERVE_BENCH_FILES`, made once by bench.ts): `1m.bin` and
 * `100m.bin`, random bytes.
 */
const filesDir = process.env.H1SERVE_BENCH_FILES ?? "";
const FILE_NAMES = new Set(["/1m.bin", "/100m.bin"]);

async function app(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  if (path.startsWith(API_PREFIX)) return Response.json(apiRecord(path, url.searchParams, request.headers));
  if (FILE_NAMES.has(path)) return fileResponse(request, path);
  if (path === "/echo") return new Response(await request.arrayBuffer());
  if (path === "/big") return new Response(BIG);
  if (path === "/json") return jsonResponse(request);
  return new Response("Hello World!");
}

/** The `api` scenario's route: `GET /api/users/42?fields=name,email` with a browser's header fields. */
const API_PREFIX = "/api/users/";

/**
 * The `api` scenario's answer: the user's id from the path, the fields the query asks for, and two
 * of the request's header fields, as an API handler reads them.
 */
function apiRecord(
  path: string,
  query: URLSearchParams,
  headers: { get(name: string): string | null },
): Record<string, unknown> {
  return {
    id: Number(path.slice(API_PREFIX.length)),
    fields: query.get("fields")?.split(",") ?? [],
    agent: headers.get("user-agent"),
    language: headers.get("accept-language"),
  };
}

/**
 * A file of the static-file scenarios: h1serve's `serveDir` on the folder; on Bun `new Response(Bun.file(path))`
 * (the `native-static` kind serves the files from `routes` instead); on Deno `Deno.open` and its `readable`,
 * with a weak ETag from `Deno.stat` and a 304 for a matching If-None-Match, as a handler of one's own does
 * (Deno's std `serveFile` is on JSR, which this machine cannot reach).
 */
async function fileResponse(request: Request, path: string): Promise<Response> {
  if (kind === "h1serve") return serveDir(request, { root: filesDir });
  const file = filesDir + path;
  if (runtime === "bun") return new Response(Bun.file(file));
  const stats = await Deno.stat(file);
  const etag = statEtag(stats.size, stats.mtime?.getTime() ?? 0);
  if (request.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers: { etag } });
  }
  const { readable } = await Deno.open(file);
  return new Response(readable, {
    headers: { "content-type": "application/octet-stream", "content-length": String(stats.size), etag },
  });
}

/** The weak ETag of the hand-written file handlers (Deno.serve, node:http): size and time, in hexadecimal. */
function statEtag(size: number, mtimeMs: number): string {
  return `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/**
 * `/json`: h1serve compresses it itself (by the request's Accept-Encoding). Bun.serve and node:http do
 * not compress, nor does Deno.serve 2.9.6 (its documented automatic compression sends nothing
 * compressed over HTTP/1.1 or h2c, checked with curl), so their handler compresses it as their users do,
 * with node:zlib, at the levels h1serve uses by default (Brotli 4, gzip 6).
 */
function jsonResponse(request: Request): Response {
  if (kind === "h1serve") return new Response(JSON_20K, { headers: JSON_TYPE });
  const [coding, body] = handCompressed(request.headers.get("accept-encoding") ?? "");
  if (coding === null) return new Response(JSON_20K, { headers: { ...JSON_TYPE, vary: "Accept-Encoding" } });
  return new Response(body, {
    headers: { ...JSON_TYPE, "content-encoding": coding, vary: "Accept-Encoding" },
  });
}

/** The JSON document compressed by hand, as a Bun.serve or node:http handler would: Brotli, else gzip. */
function handCompressed(acceptEncoding: string): [string | null, Uint8Array<ArrayBuffer>] {
  if (/\bbr\b/.test(acceptEncoding)) {
    const params = {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: JSON_20K.length,
    };
    return ["br", zlib.brotliCompressSync(JSON_20K, { params })];
  }
  if (/\bgzip\b/.test(acceptEncoding)) return ["gzip", zlib.gzipSync(JSON_20K, { level: 6 })];
  return [null, new Uint8Array(0)];
}

const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: 12\r\n\r\nHello World!",
);

/** The answers to 1, 2, … requests: each batch size is joined once, so the ceiling allocates nothing per read. */
const batches: Uint8Array[] = [];

/** The precomputed answers to `n` requests, one buffer (the same one every time). */
function answers(n: number): Uint8Array {
  let out = batches[n];
  if (out === undefined) {
    out = new Uint8Array(RESPONSE.length * n);
    for (let i = 0; i < n; i++) out.set(RESPONSE, i * RESPONSE.length);
    batches[n] = out;
  }
  return out;
}

/**
 * The raw ceiling of a static-file scenario (`H1SERVE_BENCH_RAW_FILE`, a file of the folder): a 200 head
 * and the file's bytes, read into memory once, written for each request.
 */
const rawFile = process.env.H1SERVE_BENCH_RAW_FILE;
const RAW_FILE_ANSWER = rawFile === undefined ? null : (() => {
  const bytes = readFileSync(`${filesDir}/${rawFile}`);
  const head = new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${bytes.byteLength}\r\n\r\n`,
  );
  const answer = new Uint8Array(head.byteLength + bytes.byteLength);
  answer.set(head);
  answer.set(bytes, head.byteLength);
  return answer;
})();

/** Counts complete request heads in a read (GET requests only: no bodies). */
function countHeads(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) {
    if (bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) n++;
  }
  return n;
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

await exitOnSigterm();

if (process.env.H1SERVE_FORCE_GC === "1" && runtime === "bun") setInterval(() => Bun.gc(true), 200);

// `deno task soak`: every 10 s, a full collection and the JS heap then (in KiB), appended to this file,
// so that a growth of RSS can be told apart from a growth of live objects.
const heapLog = process.env.H1SERVE_HEAP_LOG;
if (heapLog !== undefined) {
  const { appendFileSync } = await import("node:fs");
  const collect = runtime === "bun" ? () => Bun.gc(true) : (globalThis as { gc?: () => void }).gc;
  const v8 = await import("node:v8");
  const newSpace = () => {
    try {
      return v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
    } catch {
      return 0; // Bun's JavaScriptCore has no V8 spaces
    }
  };
  setInterval(() => {
    collect?.();
    const { heapUsed, external, arrayBuffers } = process.memoryUsage();
    const kib = (bytes: number) => Math.round(bytes / 1024);
    appendFileSync(heapLog, `${kib(heapUsed)} ${kib(external)} ${kib(arrayBuffers)} ${kib(newSpace())}\n`);
  }, 10_000);
}

/**
 * What a raw Bun server keeps per socket, for the idle-memory calibration: as many fields as the
 * Bun adapter's socket (`BunAdapterSocket`).
 */
class AdapterSizedSocket {
  events = null;
  socket: unknown;
  hostname = "";
  port = 0;
  bytesRead = 0;
  state = 0;
  pending = null;
  pendingSent = null;
  constructor(socket: unknown) {
    this.socket = socket;
  }
}
const perSocket = new Map<unknown, number>();
const RAW_KEEPS: Record<
  string,
  ((socket: { data: unknown; readonly remoteAddress: string }) => void) | undefined
> = {
  "raw-object": (socket) => (socket.data = {}),
  "raw-class": (socket) => (socket.data = new AdapterSizedSocket(socket)),
  "raw-class-map": (socket) => {
    const kept = new AdapterSizedSocket(socket);
    kept.hostname = socket.remoteAddress;
    socket.data = kept;
    perSocket.set(kept, Date.now());
  },
};

const certFile = process.env.H1SERVE_BENCH_CERT;
const tls = certFile === undefined
  ? undefined
  : { cert: readFileSync(certFile, "utf8"), key: readFileSync(process.env.H1SERVE_BENCH_KEY!, "utf8") };

/**
 * `H1SERVE_BENCH_WORKERS=N` (the `hello-workers` scenario): h1serve with `workers: N`; Deno.serve and
 * Bun.serve in N processes with `reusePort`, started by this one; node:http under node:cluster.
 */
const workers = Number(process.env.H1SERVE_BENCH_WORKERS ?? "1");
/**
 * An h1serve worker or a cluster worker prints no "ready": its primary does, once all listen (a reusePort
 * copy prints its own, to the process that started it).
 */
let helper = process.env.H1SERVE_WORKER !== undefined;

// "ready" is printed once the server listens (Node binds asynchronously).
if (kind === "h1serve") {
  await serve({ port, hostname, ...tls, ...(workers > 1 ? { workers } : {}) }, app).ready;
} else if (kind === "native" && workers > 1 && runtime !== "node" && !helper) {
  await startCopies(workers);
} else if (kind === "native" && workers > 1 && runtime === "node") {
  helper = await nodeCluster(workers);
} else if (kind === "native-static" && runtime === "bun") {
  // Bun's static path: a route per file, each a Bun.file (Last-Modified and If-Modified-Since, no ETag).
  const routes = Object.fromEntries([...FILE_NAMES].map((name) => [name, Bun.file(filesDir + name)]));
  Bun.serve({ port, hostname, routes, fetch: app });
} else if (kind === "native") {
  const reusePort = process.env.H1SERVE_BENCH_COPY === "1";
  if (reusePort) {
    // A copy ends with the process that started it (its stdin ends).
    process.stdin.on("end", () => process.exit(0));
    process.stdin.resume();
  }
  if (runtime === "deno") {
    Deno.serve({ port, hostname, onListen() {}, ...tls, ...(reusePort ? { reusePort } : {}) }, app);
  } else if (runtime === "bun") {
    Bun.serve({ port, hostname, fetch: app, tls, ...(reusePort ? { reusePort } : {}) });
  } else {
    const http = await import("node:http");
    const https = await import("node:https");
    const listener = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
      const chunks: Uint8Array[] = [];
      req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      req.on("end", () => {
        if (req.url?.startsWith(API_PREFIX)) {
          // The api handler as a node:http user writes it: the URL from the target and Host, two fields.
          const url = new URL(req.url, `http://${req.headers.host}`);
          const fields = { get: (name: string) => (req.headers[name] as string | undefined) ?? null };
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(apiRecord(url.pathname, url.searchParams, fields)));
        } else if (FILE_NAMES.has(req.url ?? "")) nodeFile(req, res);
        else if (req.url === "/echo") res.end(Buffer.concat(chunks));
        else if (req.url === "/big") res.end(BIG);
        else if (req.url === "/json") {
          const [coding, body] = handCompressed(req.headers["accept-encoding"] ?? "");
          res.setHeader("content-type", "application/json");
          res.setHeader("vary", "Accept-Encoding");
          if (coding !== null) res.setHeader("content-encoding", coding);
          res.end(coding === null ? JSON_20K : body);
        } else res.end("Hello World!");
      });
    };
    const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
    server.listen(port, hostname, () => console.log("ready"));
  }
} else if (kind === "raw" || (runtime === "bun" && kind in RAW_KEEPS)) {
  if (runtime === "deno") {
    (async () => {
      const listener = tls === undefined
        ? Deno.listen({ port, hostname })
        : Deno.listenTls({ port, hostname, ...tls });
      for await (const conn of listener) {
        (async () => {
          const buffer = new Uint8Array(64 * 1024);
          try {
            for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
              const count = countHeads(buffer.subarray(0, n));
              if (RAW_FILE_ANSWER !== null) {
                for (let i = 0; i < count; i++) await writeAll(conn, RAW_FILE_ANSWER);
              } else if (count > 0) await conn.write(answers(count));
            }
          } catch { /* peer gone */ }
          conn.close();
        })();
      }
    })();
  } else if (runtime === "bun") {
    Bun.listen({
      port,
      hostname,
      tls,
      socket: {
        open: RAW_KEEPS[kind],
        data: (socket, bytes) => {
          const count = countHeads(bytes);
          if (RAW_FILE_ANSWER !== null) {
            const queue = (socket.data ??= []) as Uint8Array[];
            for (let i = 0; i < count; i++) queue.push(RAW_FILE_ANSWER);
            bunPump(socket);
          } else if (count > 0) socket.write(answers(count));
        },
        drain: bunPump,
      },
    });
  } else {
    const net = await import("node:net");
    const nodeTls = await import("node:tls");
    const onSocket = (socket: import("node:net").Socket) => {
      socket.on("data", (bytes: Uint8Array) => {
        const count = countHeads(bytes);
        if (RAW_FILE_ANSWER !== null) { for (let i = 0; i < count; i++) socket.write(RAW_FILE_ANSWER); }
        else if (count > 0) socket.write(answers(count));
      });
      socket.on("error", () => socket.destroy());
    };
    const server = tls === undefined ? net.createServer(onSocket) : nodeTls.createServer(tls, onSocket);
    server.listen(port, hostname, () => console.log("ready"));
  }
} else {
  console.error(`unknown server kind ${kind}`);
  process.exit(2);
}
if (!helper && (runtime !== "node" || kind === "h1serve" || workers > 1)) console.log("ready");

/** Writes all of `bytes` to a Deno connection (a write may take part of them). */
async function writeAll(conn: DenoRawConn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength;) offset += await conn.write(bytes.subarray(offset));
}

/** Writes a raw Bun socket's queued answers as far as it takes them; its drain calls this again. */
function bunPump(socket: { data: unknown; write(bytes: Uint8Array): number }): void {
  const queue = (socket.data ?? []) as Uint8Array[];
  while (queue.length > 0) {
    const written = Math.max(0, socket.write(queue[0]));
    if (written < queue[0].byteLength) {
      queue[0] = queue[0].subarray(written);
      return;
    }
    queue.shift();
  }
}

/**
 * A file of the static-file scenarios on node:http: `fs.stat` for the length and a weak ETag (304 for a
 * matching If-None-Match), then `fs.createReadStream` piped into the response.
 */
function nodeFile(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): void {
  const file = filesDir + req.url;
  stat(file, (error, stats) => {
    if (error !== null) {
      res.statusCode = 404;
      return res.end();
    }
    const etag = statEtag(stats.size, stats.mtimeMs);
    res.setHeader("etag", etag);
    if (req.headers["if-none-match"] === etag) {
      res.statusCode = 304;
      return res.end();
    }
    res.setHeader("content-type", "application/octet-stream");
    res.setHeader("content-length", stats.size);
    createReadStream(file).pipe(res);
  });
}

/** Deno.serve or Bun.serve in `count` copies of this process with reusePort; each exits when this one goes. */
async function startCopies(count: number): Promise<void> {
  const { spawn } = await import("node:child_process");
  await Promise.all(Array.from({ length: count }, () =>
    new Promise<void>((resolve, reject) => {
      const args = runtime === "deno"
        ? ["run", "--allow-all", "--unstable-net", ...process.argv.slice(1)]
        : process.argv.slice(1);
      const copy = spawn(process.execPath, args, {
        env: { ...process.env, H1SERVE_BENCH_COPY: "1", H1SERVE_BENCH_WORKERS: "1" },
        stdio: ["pipe", "pipe", "inherit"],
      });
      copy.stdout!.on("data", (chunk: Uint8Array) => String(chunk).includes("ready") && resolve());
      copy.on("exit", (code) => reject(new Error(`a copy exited with ${code}`)));
    })));
}

/** node:http under node:cluster with `count` workers; whether this process is a worker. */
async function nodeCluster(count: number): Promise<boolean> {
  const cluster = (await import("node:cluster")).default;
  if (cluster.isPrimary) {
    let listening = 0;
    await new Promise<void>((resolve) => {
      cluster.on("listening", () => ++listening === count && resolve());
      for (let i = 0; i < count; i++) cluster.fork();
    });
    return false;
  }
  process.on("disconnect", () => process.exit(0));
  const http = await import("node:http");
  http.createServer((_req, res) => res.end("Hello World!")).listen(port, hostname);
  return true;
}
