/**
 * `--workers 2` on the runtime under test, run as a user runs the CLI: both workers serve the port,
 * their lines carry their ids, a worker killed with SIGKILL is replaced, SIGHUP replaces every worker
 * one at a time while requests keep getting answered, and SIGTERM drains them all and exits 0.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { within } from "./_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

function command(args: string[]): string[] {
  if (runtime === "deno") {
    return [process.execPath, "run", "--allow-net", "--allow-run", "--allow-env", "mod.ts", ...args];
  }
  if (runtime === "bun") return [process.execPath, "run", "mod.ts", ...args];
  return [process.execPath, "mod.ts", ...args];
}

/** The CLI's output so far, and a wait for a line that matches. */
class Output {
  text = "";
  #waiters: (() => void)[] = [];
  add(chunk: string): void {
    this.text += chunk;
    for (const wake of this.#waiters.splice(0)) wake();
  }
  async match(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    const find = async () => {
      for (;;) {
        const found = pattern.exec(this.text);
        if (found) return found;
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    };
    return await within(find(), 20_000, () => `${what} in:\n${this.text}`);
  }
}

/** A request on a connection of its own, so that the kernel may give it to either worker. */
async function get(url: string): Promise<number> {
  const response = await fetch(url, { headers: { connection: "close" } });
  await response.arrayBuffer();
  return response.status;
}

describe(`--workers on ${runtime}`, () => {
  let child: ChildProcess | null = null;
  after(() => {
    if (child?.exitCode === null) child.kill("SIGKILL");
  });

  test("two workers serve, a killed one is replaced, SIGHUP rolls them, SIGTERM drains and exits 0", async () => {
    const [program, ...args] = command(["--workers", "2", "--port", "0", "--hostname", "127.0.0.1"]);
    const cli = spawn(program, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    child = cli;
    const output = new Output();
    cli.stdout!.setEncoding("utf8").on("data", (chunk: string) => output.add(chunk));
    cli.stderr!.setEncoding("utf8").on("data", (chunk: string) => output.add(chunk));
    const exited = new Promise<number | null>((resolve) => cli.on("exit", (code) => resolve(code)));

    const [, url] = await output.match(
      /^h1serve listening on (http:\/\/\S+) \(2 workers\)$/m,
      "the startup line",
    );
    const pids = new Map<number, number>();
    for (const id of [1, 2]) {
      pids.set(
        id,
        Number((await output.match(new RegExp(`worker ${id} started \\(pid (\\d+)\\)`), "a pid"))[1]),
      );
    }

    // Both workers answer: 40 connections, each given to one of them by the kernel.
    for (let i = 0; i < 40; i++) assert.equal(await get(url), 200);
    await output.match(/^\[worker 1\] \S+ GET \/ 200 /m, "a request served by worker 1");
    await output.match(/^\[worker 2\] \S+ GET \/ 200 /m, "a request served by worker 2");

    // A worker that dies is replaced.
    process.kill(pids.get(1)!, "SIGKILL");
    await output.match(/worker 1 exited with null; starting another in \d+ ms/, "the primary to notice");
    await output.match(/^\[worker 3\] h1serve worker 3 listening on /m, "the replacement to listen");
    assert.equal(await get(url), 200);

    // A rolling restart while requests keep coming: none fails.
    let failures = 0;
    let answered = 0;
    let rolling = true;
    const load = (async () => {
      while (rolling) {
        const status = await get(url).catch(() => 0);
        if (status === 200) answered++;
        else failures++;
      }
    })();
    process.kill(cli.pid!, "SIGHUP");
    await output.match(/rolling restart done/, "the rolling restart");
    rolling = false;
    await load;
    assert.equal(failures, 0, `${failures} failed of ${answered + failures}`);
    assert.ok(answered > 0);
    await output.match(/^\[worker 5\] h1serve worker 5 listening on /m, "the second new worker");

    process.kill(cli.pid!, "SIGTERM");
    assert.equal(await within(exited, 20_000, "the CLI to exit"), 0);
    const every = [...output.text.matchAll(/worker \d+ started \(pid (\d+)\)/g)].map((match) =>
      Number(match[1])
    );
    assert.equal(every.length, 5);
    for (const pid of every) assert.throws(() => process.kill(pid, 0), `worker pid ${pid} still runs`);
  });
});
