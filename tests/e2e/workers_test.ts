/**
 * `--workers 2` on the runtime under test, run as a user runs the CLI: both workers serve the port,
 * their lines carry their ids, a worker killed with SIGKILL is replaced, SIGHUP replaces every worker
 * one at a time while requests keep getting answered, and SIGTERM drains them all and exits 0.
 */

import assert from "node:assert/strict";
import process from "node:process";
import { after, describe, test } from "node:test";
import { within } from "./_helpers.ts";
import { CliProcess, DENO_WORKERS, runtime, withMigratedRequests } from "./_processes.ts";

/** A request on a connection of its own, so that the kernel may give it to either worker. */
async function get(url: string): Promise<number> {
  const response = await fetch(url, { headers: { connection: "close" } });
  await response.arrayBuffer();
  return response.status;
}

describe(`--workers on ${runtime}`, () => {
  let running: CliProcess | null = null;
  after(() => running?.kill());

  test("two workers serve, a killed one is replaced, SIGHUP rolls them, SIGTERM drains and exits 0", async () => {
    const cli = new CliProcess(["--workers", "2", "--port", "0", "--hostname", "127.0.0.1"], DENO_WORKERS);
    running = cli;

    const [, url] = await cli.match(
      /^h1serve listening on (http:\/\/\S+) \(2 workers\)$/m,
      "the startup line",
    );
    const pids = new Map<number, number>();
    for (const id of [1, 2]) {
      pids.set(
        id,
        Number((await cli.match(new RegExp(`worker ${id} started \\(pid (\\d+)\\)`), "a pid"))[1]),
      );
    }

    // Both workers answer: 40 connections, each given to one of them by the kernel.
    for (let i = 0; i < 40; i++) assert.equal(await get(url), 200);
    await cli.match(/^\[worker 1\] \S+ GET \/ 200 /m, "a request served by worker 1");
    await cli.match(/^\[worker 2\] \S+ GET \/ 200 /m, "a request served by worker 2");

    // A worker that dies is replaced.
    process.kill(pids.get(1)!, "SIGKILL");
    await cli.match(/worker 1 exited with null; starting another in \d+ ms/, "the primary to notice");
    await cli.match(/^\[worker 3\] h1serve worker 3 listening on /m, "the replacement to listen");
    assert.equal(await get(url), 200);

    // A rolling restart while requests keep coming, with tcp_migrate_req as production needs it: none fails.
    let failures = 0;
    let answered = 0;
    await withMigratedRequests(async () => {
      let rolling = true;
      const load = (async () => {
        while (rolling) {
          const status = await get(url).catch(() => 0);
          if (status === 200) answered++;
          else failures++;
        }
      })();
      cli.signal("SIGHUP");
      await cli.match(/rolling restart done/, "the rolling restart");
      rolling = false;
      await load;
    });
    assert.equal(failures, 0, `${failures} failed of ${answered + failures}`);
    assert.ok(answered > 0);
    await cli.match(/^\[worker 5\] h1serve worker 5 listening on /m, "the second new worker");

    cli.signal("SIGTERM");
    assert.equal(await within(cli.exited, 20_000, "the CLI to exit"), 0);
    const every = [...cli.text.matchAll(/worker \d+ started \(pid (\d+)\)/g)].map((match) =>
      Number(match[1])
    );
    assert.equal(every.length, 5);
    for (const pid of every) assert.throws(() => process.kill(pid, 0), `worker pid ${pid} still runs`);
  });
});
