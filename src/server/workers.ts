/**
 * Every core: `serve({ workers: N })` runs N processes that share the port with SO_REUSEPORT
 * (Linux), one program on every runtime. The process the user started becomes the primary: it
 * starts the same program again N times (the worker id and port in `H1SERVE_WORKER`), prefixes each
 * line a worker prints with its id, restarts a worker that dies (with backoff), turns SIGINT and
 * SIGTERM into a graceful shutdown of every worker, and on SIGHUP restarts them one at a time: a
 * new worker first, and once it listens, the old one drains.
 *
 * On Node, `reusePort` (Node 22.12 and later) rather than `node:cluster`: the kernel spreads the
 * connections among independent processes, as on Deno and Bun, with no primary in the data path and
 * one supervisor for every runtime. On Deno the primary needs `--allow-run` and `--allow-env` (it
 * starts processes and hands them its environment); a worker runs with the permissions the primary
 * was granted in full, and `--unstable-net` for `Deno.listen`'s `reusePort`.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import process from "node:process";
import type { NetAddr } from "../transport/transport.ts";
import type { Server } from "./options.ts";

/** The environment variable that makes a process a worker: `<id>:<port>`. */
export const WORKER_ENV = "H1SERVE_WORKER";
/** What a worker prints once it listens; the primary waits for it. */
const READY_LINE = /^h1serve worker (\d+) listening on /;
/** A worker that lived this long resets the restart backoff. */
const STABLE_MS = 10_000;

declare const Deno: {
  execPath(): string;
  readonly mainModule: string;
  readonly args: string[];
  permissions: { querySync(descriptor: { name: string }): { state: string } };
};

/**
 * This process's worker id and port, or `null` for a process that is not a worker (or may not read
 * its environment).
 *
 * @returns The identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerIdentity } from "./workers.ts";
 *
 * assert.equal(workerIdentity(), null);
 * ```
 */
export function workerIdentity(): { id: number; port: number } | null {
  let value: string | undefined;
  try {
    value = process.env[WORKER_ENV];
  } catch {
    return null; // Deno without env permission: a process the user started, not one of ours.
  }
  const match = /^(\d+):(\d+)$/.exec(value ?? "");
  return match === null ? null : { id: Number(match[1]), port: Number(match[2]) };
}

/**
 * How many workers `workers` asks for: a count, or one per available CPU for `"auto"`.
 *
 * @param workers The option.
 * @returns The count.
 * @throws {TypeError} For anything but a whole number of 1 or more, or `"auto"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerCount } from "./workers.ts";
 *
 * assert.equal(workerCount(2), 2);
 * assert.ok(workerCount("auto") >= 1);
 * ```
 */
export function workerCount(workers: number | "auto"): number {
  if (workers === "auto") return availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) {
    throw new TypeError('workers is a count of 1 or more, or "auto"');
  }
  return workers;
}

/** The command that runs this program again, on the runtime it runs on. */
function programCommand(): string[] {
  if ("Deno" in globalThis) {
    const granted = ["net", "read", "write", "env", "run", "sys", "ffi", "import"].filter((name) => {
      try {
        return Deno.permissions.querySync({ name }).state === "granted";
      } catch {
        return false;
      }
    });
    const flags = granted.map((name) => `--allow-${name}`);
    if (!granted.includes("env")) flags.push(`--allow-env=${WORKER_ENV}`);
    return [Deno.execPath(), "run", ...flags, "--unstable-net", Deno.mainModule, ...Deno.args];
  }
  return [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
}

interface Worker {
  readonly id: number;
  readonly child: ChildProcess;
  readonly started: number;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  /** Whether it is being stopped on purpose (shutdown or rolling restart): not restarted. */
  retiring: boolean;
}

/**
 * The primary process: it starts, watches and stops the workers. Its `ready` resolves once every
 * worker listens, `shutdown()` drains them all, and `finished` resolves once they have exited.
 *
 * @example Made by `serve` for `workers` above 1
 * ```ts ignore
 * const pool = new WorkerPool(2, { transport: "tcp", hostname: "0.0.0.0", port: 8000 });
 * await pool.ready;
 * ```
 */
export class WorkerPool {
  /** The address the workers listen on. */
  readonly addr: NetAddr;
  /** Resolves once the first workers all listen. */
  readonly ready: Promise<NetAddr>;
  /** Resolves once every worker has exited after {@link shutdown}. */
  readonly finished: Promise<void>;
  readonly #command = programCommand();
  readonly #workers = new Set<Worker>();
  #nextId = 1;
  #failures = 0;
  #stopping = false;
  #rolling: Promise<void> | null = null;
  #resolveFinished!: () => void;

  /**
   * Starts the workers.
   * @param count How many.
   * @param addr Where they listen (a real port: the primary picks one for port 0).
   */
  constructor(count: number, addr: NetAddr) {
    this.addr = addr;
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    const started = Array.from({ length: count }, () => this.#start().ready);
    this.ready = Promise.all(started).then(() => addr);
    this.ready.catch(() => {});
    process.on("SIGHUP", () => this.rollingRestart());
  }

  /** The workers' process ids, by worker id. */
  get pids(): Map<number, number> {
    return new Map([...this.#workers].map((worker) => [worker.id, worker.child.pid ?? 0]));
  }

  /**
   * Stops every worker gracefully (SIGTERM: each finishes its requests in flight).
   * @returns {@link finished}.
   */
  shutdown(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      for (const worker of this.#workers) this.#retire(worker);
      this.#checkFinished();
    }
    return this.finished;
  }

  /**
   * Replaces the workers one at a time: a new one starts, and once it listens, an old one drains.
   * @returns Resolves once every worker has been replaced.
   */
  rollingRestart(): Promise<void> {
    this.#rolling ??= (async () => {
      log(`rolling restart of ${this.#workers.size} workers`);
      for (const old of [...this.#workers]) {
        if (this.#stopping) break;
        const fresh = this.#start();
        await fresh.ready.catch(() => {});
        this.#retire(old);
        await old.exited;
      }
      log("rolling restart done");
    })().finally(() => (this.#rolling = null));
    return this.#rolling;
  }

  #start(): Worker {
    const id = this.#nextId++;
    const [command, ...args] = this.#command;
    const child = spawn(command, args, {
      env: { ...process.env, [WORKER_ENV]: `${id}:${this.addr.port}` },
      // Its stdin is a pipe that nothing writes to: when the primary is gone, it ends, and the
      // worker drains and exits rather than serve on as an orphan.
      stdio: ["pipe", "pipe", "pipe"],
    });
    let markReady!: () => void;
    let markFailed!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (markFailed = reject)));
    ready.catch(() => {});
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const worker: Worker = { id, child, started: Date.now(), ready, exited, retiring: false };
    this.#workers.add(worker);
    forwardLines(child.stdout!, `[worker ${id}] `, process.stdout, (line) => {
      if (READY_LINE.test(line)) markReady();
    });
    forwardLines(child.stderr!, `[worker ${id}] `, process.stderr);
    child.on("error", (error) => markFailed(error));
    exited.then((code) => {
      markFailed(new Error(`worker ${id} exited with ${code} before it listened`));
      this.#workers.delete(worker);
      if (!worker.retiring && !this.#stopping) this.#restartLater(worker, code);
      this.#checkFinished();
    });
    log(`worker ${id} started (pid ${child.pid})`);
    return worker;
  }

  #retire(worker: Worker): void {
    worker.retiring = true;
    worker.child.kill("SIGTERM");
  }

  /** Restarts a worker that died, after a backoff that doubles with each quick death (up to 10 s). */
  #restartLater(worker: Worker, code: number | null): void {
    this.#failures = Date.now() - worker.started >= STABLE_MS ? 0 : this.#failures + 1;
    const delay = Math.min(10_000, 100 * 2 ** Math.max(0, this.#failures - 1));
    log(`worker ${worker.id} exited with ${code}; starting another in ${delay} ms`);
    setTimeout(() => {
      if (!this.#stopping) this.#start();
    }, delay);
  }

  #checkFinished(): void {
    if (this.#stopping && this.#workers.size === 0) this.#resolveFinished();
  }
}

function log(line: string): void {
  console.log(`[primary] ${line}`);
}

/** Copies a child's output line by line, each with a prefix, and shows each line to `onLine`. */
function forwardLines(
  from: NodeJS.ReadableStream,
  prefix: string,
  to: NodeJS.WritableStream,
  onLine?: (line: string) => void,
): void {
  let pending = "";
  from.setEncoding("utf8");
  from.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      to.write(`${prefix}${line}\n`);
      onLine?.(line);
    }
  });
  from.on("end", () => {
    if (pending !== "") to.write(`${prefix}${pending}\n`);
  });
}

/**
 * The primary's {@link Server}: it picks the port (a free one for port 0), starts the pool, and on
 * SIGINT or SIGTERM shuts the workers down and exits once they have.
 *
 * @param count How many workers.
 * @param hostname The interface.
 * @param port The port, or 0.
 * @returns The server.
 *
 * @example
 * ```ts ignore
 * const server = servePrimary(2, "0.0.0.0", 8000);
 * await server.ready;
 * ```
 */
export function servePrimary(count: number, hostname: string, port: number): Server<NetAddr> {
  let pool: WorkerPool | null = null;
  let stopping = false;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  const ready = denoPermissionsForWorkers().then(() => freePort(hostname, port)).then((chosen) => {
    pool = new WorkerPool(count, { transport: "tcp", hostname, port: chosen });
    pool.finished.then(resolveFinished);
    if (stopping) pool.shutdown();
    return pool.ready;
  });
  ready.catch(() => {});
  const shutdown = () => {
    stopping = true;
    if (pool === null) ready.then(() => {}, () => resolveFinished());
    return pool?.shutdown() ?? finished;
  };
  const onSignal = () => shutdown().then(() => process.exit(0));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    get addr(): NetAddr {
      if (pool === null) throw new Error("the server is not listening yet: await server.ready first");
      return pool.addr;
    },
    ready,
    finished,
    shutdown,
  };
}

/** On Deno, the primary starts processes and hands them its environment: it needs run and env. */
function denoPermissionsForWorkers(): Promise<void> {
  if (!("Deno" in globalThis)) return Promise.resolve();
  const missing = ["run", "env"].filter((name) => Deno.permissions.querySync({ name }).state !== "granted");
  if (missing.length === 0) return Promise.resolve();
  const flags = missing.map((name) => `--allow-${name}`).join(" ");
  return Promise.reject(
    new Error(`--workers on Deno needs ${flags}: the primary process starts the workers`),
  );
}

/** The port itself, or for 0 a free one that the operating system picks (the workers all take it). */
function freePort(hostname: string, port: number): Promise<number> {
  if (port !== 0) return Promise.resolve(port);
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen({ host: hostname, port: 0 }, () => {
      const chosen = (probe.address() as { port: number }).port;
      probe.close(() => resolve(chosen));
    });
  });
}
