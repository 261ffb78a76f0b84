/**
 * nginx (Debian's `nginx`, which the test command's setup installs) in front of two h1serve
 * instances on the runtime under test, as docs/DEPLOYMENT.md configures it: upstream keep-alive with
 * an idle timeout shorter than h1serve's, `X-Forwarded-For` believed from nginx alone (nginx connects
 * from 127.0.0.2 with `proxy_bind`, the test's client from 127.0.0.1, so that trusting one is not
 * trusting the other). Requests in bursts with idle gaps that straddle both timeouts get no 502, reach
 * both instances, and name the test's client, never the address the client claims.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { acceptsConnections, Cleanup, freePort, within } from "./_helpers.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
/** nginx closes an idle upstream connection after this long; h1serve keeps one twice as long. */
const NGINX_IDLE_MS = 500;
const H1SERVE_IDLE_MS = 1000;

/** The nginx configuration of docs/DEPLOYMENT.md, on the test's ports and directory. */
function nginxConfig(dir: string, front: number, upstreams: number[]): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream h1serve {
${upstreams.map((port) => `    server 127.0.0.1:${port};`).join("\n")}
    keepalive 16;
    keepalive_timeout ${NGINX_IDLE_MS}ms;
  }
  server {
    listen 127.0.0.1:${front};
    location / {
      proxy_pass http://h1serve;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_bind 127.0.0.2;
    }
  }
}
`;
}

describe(`nginx in front of two h1serve instances on ${runtime}`, () => {
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), "h1serve-nginx-"));
  let nginx: ChildProcess | null = null;
  after(async () => {
    // SIGTERM to the master stops its workers too (SIGKILL would leave them running).
    if (nginx !== null && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once("exit", resolve));
      nginx.kill("SIGTERM");
      await within(exited, 10_000, "nginx to stop");
    }
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true });
  });

  test("keep-alive across idle gaps gives no 502, and the client is the real one", async () => {
    const options = { trustProxy: ["127.0.0.2"], limits: { keepAliveTimeoutMs: H1SERVE_IDLE_MS } };
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
    for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "nginx.conf"), nginxConfig(dir, front, instances.map(({ port }) => port)));
    let stderr = "";
    nginx = spawn("nginx", ["-c", join(dir, "nginx.conf"), "-p", dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    nginx.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    await within(acceptsConnections(front, nginx, "nginx"), 10_000, () => `nginx to listen: ${stderr}`);

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
        assert.equal(body.peer.hostname, "127.0.0.2", "nginx");
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
      `statuses: ${JSON.stringify([...statuses])}; nginx: ${stderr}`,
    );
    assert.deepEqual([...seen].sort(), ["a", "b"]);
  });
});
