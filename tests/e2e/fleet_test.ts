/**
 * A fleet under load, as docs/DEPLOYMENT.md sets it up: nginx (sending `X-Forwarded-For`, which
 * `--trust-proxy` believes from nginx alone) and HAProxy (sending PROXY protocol version 2 to
 * `--proxy-protocol` instances), each in front of h1serve CLIs on the runtime under test. wrk runs
 * for 20 s through both proxies at once while the instances are restarted, one after the other and
 * again until the time is nearly up: two instances each stopped with SIGTERM and started again, and,
 * in the second test, one instance with `--workers 2` rolled with SIGHUP. Not one request may fail.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { freePort, within } from "./_helpers.ts";
import { CliProcess, DENO_WORKERS, runtime, withMigratedRequests } from "./_processes.ts";
import { haproxyConfig, nginxConfig, PROXY_SOURCE, ProxyProcess, runWrk } from "./_proxies.ts";

const LOAD_SECONDS = 20;
/**
 * Restarts begin only while this much of the load is left, so that the last one ends under load: a
 * rolling restart on a loaded machine takes seconds, and must see a request through the proxy.
 */
const LAST_RESTART_BEFORE_END_MS = 8000;
const TEST_TIMEOUT = { timeout: 90_000 };

type Front = "nginx" | "haproxy";

/** How each proxy's instances are told to believe it. */
const TRUST: Record<Front, string[]> = {
  nginx: ["--trust-proxy", PROXY_SOURCE],
  haproxy: ["--proxy-protocol"],
};

/** An h1serve CLI on a port of its own that a restart keeps. */
class Instance {
  readonly port: number;
  readonly args: string[];
  cli: CliProcess | null = null;
  restarts = 0;

  constructor(port: number, args: string[]) {
    this.port = port;
    this.args = ["--port", String(port), "--hostname", "127.0.0.1", ...args];
  }

  async start(): Promise<void> {
    this.cli = new CliProcess(this.args, DENO_WORKERS);
    await this.cli.match(/^h1serve listening on /m, "the startup line");
  }

  /** Resolves once the instance has answered a request through the proxy since `from`. */
  async served(from: number): Promise<void> {
    await this.cli!.match(/^(\[worker \d+\] )?\S+ via \S+ GET \/ 200 /m, "a request through the proxy", from);
  }

  /** SIGTERM, a drain and exit 0, then the same command again. */
  async stopAndStart(): Promise<void> {
    const cli = this.cli!;
    cli.signal("SIGTERM");
    const code = await within(
      cli.exited,
      25_000,
      () => `the instance to exit after SIGTERM:\n${cli.text.slice(-3000)}`,
    );
    assert.equal(code, 0, `exit code after SIGTERM:\n${cli.text.slice(-2000)}`);
    await this.start();
    await this.served(0);
    this.restarts++;
  }

  /** SIGHUP: the primary replaces its workers one at a time. */
  async rollWorkers(): Promise<void> {
    const cli = this.cli!;
    const from = cli.text.length;
    cli.signal("SIGHUP");
    await cli.match(/\[primary\] rolling restart done/, "the rolling restart", from);
    await this.served(cli.text.length);
    this.restarts++;
  }

  /** The client addresses that its request lines name (the part before "via"). */
  clients(): Set<string> {
    return new Set(
      [...this.cli!.text.matchAll(/^(?:\[worker \d+\] )?(\S+) via (\S+) GET /gm)].map((m) => m[1]),
    );
  }
}

/** A proxy with its instances, and the load through it. */
interface Fleet {
  readonly front: Front;
  readonly port: number;
  readonly proxy: ProxyProcess;
  readonly instances: Instance[];
}

async function startFleet(front: Front, count: number, extra: string[]): Promise<Fleet> {
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) instances.push(new Instance(await freePort(), [...TRUST[front], ...extra]));
  await Promise.all(instances.map((instance) => instance.start()));
  const port = await freePort();
  const ports = instances.map((instance) => instance.port);
  const proxy = front === "nginx"
    ? await ProxyProcess.nginx(port, (dir) => nginxConfig(dir, port, ports, { idleMs: 500 }))
    : await ProxyProcess.haproxy(port, haproxyConfig(port, ports));
  return { front, port, proxy, instances };
}

/**
 * Runs wrk through every fleet for LOAD_SECONDS while `restart` is applied to each instance in turn,
 * again and again until the load nearly ends; then checks wrk's summaries and the client addresses.
 */
async function underLoad(fleets: Fleet[], restart: (instance: Instance) => Promise<void>): Promise<void> {
  const started = Date.now();
  const loads = fleets.map((fleet) => runWrk(`http://127.0.0.1:${fleet.port}/`, LOAD_SECONDS));
  const restarts = fleets.map(async (fleet) => {
    for (const instance of fleet.instances) await instance.served(0);
    while (Date.now() - started < LOAD_SECONDS * 1000 - LAST_RESTART_BEFORE_END_MS) {
      for (const instance of fleet.instances) await restart(instance);
    }
  });
  await Promise.all(restarts);
  const summaries = await Promise.all(loads);
  for (const [i, fleet] of fleets.entries()) {
    const { requests, errors } = summaries[i];
    const count = fleet.instances.map((instance) => instance.restarts).join(" and ");
    console.log(
      `${fleet.front}: ${requests} requests in ${LOAD_SECONDS} s, restarts ${count}, errors ${
        JSON.stringify(errors)
      }`,
    );
  }
  for (const [i, fleet] of fleets.entries()) {
    const { requests, errors, text } = summaries[i];
    assert.ok(requests > 0, `${fleet.front}: wrk made no request:\n${text}`);
    assert.deepEqual(
      errors,
      {},
      `${fleet.front}: wrk counted errors:\n${text}\n${fleet.front}: ${fleet.proxy.stderr}`,
    );
    for (const instance of fleet.instances) {
      assert.ok(instance.restarts > 0, `${fleet.front}: an instance was not restarted`);
      // The client is wrk on 127.0.0.1 (with its port under PROXY protocol), never the proxy.
      for (const client of instance.clients()) assert.match(client, /^127\.0\.0\.1(:\d+)?$/);
    }
  }
}

describe(`a fleet under load on ${runtime}: nginx and HAProxy in front, instances restarted`, () => {
  const fleets: Fleet[] = [];
  after(async () => {
    for (const fleet of fleets) {
      await fleet.proxy.stop();
      for (const instance of fleet.instances) instance.cli?.kill();
    }
  });

  test(
    `two instances behind each proxy, each stopped with SIGTERM and started again, ${LOAD_SECONDS} s of wrk: no request fails`,
    TEST_TIMEOUT,
    async () => {
      const started = await Promise.all(
        (["nginx", "haproxy"] as const).map((front) => startFleet(front, 2, [])),
      );
      fleets.push(...started);
      await underLoad(started, (instance) => instance.stopAndStart());
    },
  );

  test(
    `one instance with --workers 2 behind each proxy, rolled with SIGHUP, ${LOAD_SECONDS} s of wrk: no request fails`,
    TEST_TIMEOUT,
    async () => {
      const started = await Promise.all(
        (["nginx", "haproxy"] as const).map((front) => startFleet(front, 1, ["--workers", "2"])),
      );
      fleets.push(...started);
      await withMigratedRequests(() => underLoad(started, (instance) => instance.rollWorkers()));
    },
  );
});
