/**
 * The CLI as a child process, run as a user runs it on the runtime under test: its command line, its
 * output with a wait for a line, and signals sent by process id.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { within } from "./_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** The runtime that runs the tests, and so the CLI. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The permissions a user gives Deno for the CLI: the network alone. */
export const DENO_NET: readonly string[] = ["--allow-net"];
/** And for `--workers`, whose primary starts processes and hands them its environment. */
export const DENO_WORKERS: readonly string[] = ["--allow-net", "--allow-run", "--allow-env"];

/**
 * The command that runs the CLI (or another program file of the repository, such as a tutorial
 * step) under a runtime binary (by default the one running the tests).
 */
export function cliCommand(
  args: readonly string[],
  deno: readonly string[] = DENO_NET,
  name: string = runtime,
  binary: string = process.execPath,
  file = "mod.ts",
): string[] {
  if (name === "deno") return [binary, "run", ...deno, file, ...args];
  if (name === "bun") return [binary, "run", file, ...args];
  return [binary, file, ...args];
}

/**
 * A running CLI (or program file): everything it printed (stdout and stderr), a wait for a line,
 * and its exit.
 */
export class CliProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (`null` when a signal ended it). */
  readonly exited: Promise<number | null>;
  text = "";
  /** Whether it has exited (Deno's `child_process` may leave `exitCode` null after a signal). */
  done = false;
  #waiters: (() => void)[] = [];

  constructor(args: readonly string[], deno: readonly string[] = DENO_NET, file = "mod.ts") {
    const [program, ...rest] = cliCommand(args, deno, runtime, process.execPath, file);
    this.child = spawn(program, rest, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const add = (chunk: string) => {
      this.text += chunk;
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.child.stdout!.setEncoding("utf8").on("data", add);
    this.child.stderr!.setEncoding("utf8").on("data", add);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => ((this.done = true), resolve(code)))
    );
  }

  /** Resolves with the first match of the pattern in the output from `from` on, within 20 s. */
  async match(pattern: RegExp, what: string, from = 0): Promise<RegExpExecArray> {
    const find = async () => {
      for (;;) {
        const found = pattern.exec(this.text.slice(from));
        if (found) return found;
        if (this.child.exitCode !== null) throw new Error(`the CLI exited with ${this.child.exitCode}`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    };
    return await within(find(), 20_000, () => `${what} in:\n${this.text.slice(-4000)}`);
  }

  /**
   * Sends a signal by process id. (Deno's `child_process` reports a child that was sent a signal
   * with `child.kill()` as killed by it, even when the child handled it and exited 0.)
   */
  signal(signal: "SIGINT" | "SIGTERM" | "SIGHUP"): void {
    process.kill(this.child.pid!, signal);
  }

  /** Ends it at once, if it still runs (for a test's cleanup). */
  kill(): void {
    if (!this.done) this.child.kill("SIGKILL");
  }

  /** Sends SIGTERM, if it still runs, and resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.done) return;
    this.signal("SIGTERM");
    await this.exited;
  }
}

const MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req";

/**
 * Runs with `net.ipv4.tcp_migrate_req = 1`, as docs/DEPLOYMENT.md asks of a production host for
 * rolling restarts, and puts the setting back after. Without it Linux resets the connections that
 * are queued for a worker's listener when that worker drains, and under this load some of them are
 * requests (18 of 58,000 through nginx in one run on Deno, one of 194 sequential requests in the
 * workers test): no server can answer those.
 */
export async function withMigratedRequests(run: () => Promise<void>): Promise<void> {
  const before = readFileSync(MIGRATE_REQ, "utf8").trim();
  try {
    writeFileSync(MIGRATE_REQ, "1");
  } catch (error) {
    throw new Error(`this test sets ${MIGRATE_REQ} to 1, which needs root: ${error}`);
  }
  try {
    await run();
  } finally {
    writeFileSync(MIGRATE_REQ, before);
  }
}
