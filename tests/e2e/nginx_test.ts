/**
 * nginx (Debian's `nginx`, which the test command's setup installs) in front of two h1serve
 * instances on the runtime under test, as docs/DEPLOYMENT.md configures it: upstream keep-alive with
 * an idle timeout shorter than h1serve's, `X-Forwarded-For` believed from nginx alone (nginx connects
 * from 127.0.0.2 with `proxy_bind`, the test's client from 127.0.0.1, so that trusting one is not
 * trusting the other). Requests in bursts with idle gaps that straddle both timeouts get no 502, reach
 * both instances, and name the test's client, never the address the client claims.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Cleanup, freePort } from "./_helpers.ts";
import { nginxConfig, PROXY_SOURCE, ProxyProcess } from "./_proxies.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
/** nginx closes an idle upstream connection after this long; h1serve keeps one twice as long. */
const NGINX_IDLE_MS = 500;
const H1SERVE_IDLE_MS = 1000;

describe(`nginx in front of two h1serve instances on ${runtime}`, () => {
  const cleanup = new Cleanup();
  let nginx: ProxyProcess | null = null;
  after(async () => {
    await nginx?.stop();
    await cleanup.run();
  });

  test("keep-alive across idle gaps gives no 502, and the client is the real one", async () => {
    const options = { trustProxy: [PROXY_SOURCE], limits: { keepAliveTimeoutMs: H1SERVE_IDLE_MS } };
    const instances = await Promise.all(
      ["a", "b"].map((name) =>
        cleanup.server((request, info) =>
          Response.json({
            instance: name,
            client: info.clientAddr,
            peer: info.remoteAddr,
            url: request.url,
          }), options)
      ),
    );
    const front = await freePort();
    const ports = instances.map(({ port }) => port);
    nginx = await ProxyProcess.nginx(
      front,
      (dir) => nginxConfig(dir, front, ports, { idleMs: NGINX_IDLE_MS }),
    );

    const statuses = new Map<number, number>();
    const seen = new Set<string>();
    const burst = async () => {
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`http://127.0.0.1:${front}/x`, {
          headers: { "x-forwarded-for": "6.6.6.6" },
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status !== 200) continue;
        const body = await response.json();
        seen.add(body.instance);
        assert.equal(body.client.hostname, "127.0.0.1", "the client, not the address it claims");
        assert.equal(body.peer.hostname, PROXY_SOURCE, "nginx");
        assert.equal(body.url, `http://127.0.0.1:${front}/x`);
      }
    };
    // Idle gaps past nginx's upstream timeout, and past h1serve's own: the time itself is under test.
    await burst();
    await new Promise((resolve) => setTimeout(resolve, NGINX_IDLE_MS + 150));
    await burst();
    await new Promise((resolve) => setTimeout(resolve, H1SERVE_IDLE_MS + 150));
    await burst();
    assert.deepEqual(
      [...statuses],
      [[200, 60]],
      `statuses: ${JSON.stringify([...statuses])}; nginx: ${nginx.stderr}`,
    );
    assert.deepEqual([...seen].sort(), ["a", "b"]);
  });
});
