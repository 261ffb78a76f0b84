/**
 * nginx and HAProxy (Debian's packages, which the test command's setup installs) as the tests and
 * `deno task soak` run them in front of h1serve: the configurations of docs/DEPLOYMENT.md on free
 * ports in a directory of their own, started in the foreground and stopped at the end; and wrk, whose
 * summary says whether any request failed.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acceptsConnections, runProgram, within } from "./_helpers.ts";

/**
 * The address the proxies connect to h1serve from (nginx's `proxy_bind`, HAProxy's `source`), so that
 * trusting them is not trusting a client on 127.0.0.1.
 */
export const PROXY_SOURCE = "127.0.0.2";

/** How nginx keeps idle upstream connections: fewer and shorter-lived than h1serve's. */
export interface NginxOptions {
  /** nginx closes an idle upstream connection after this long (`keepalive_timeout`). */
  readonly idleMs: number;
}

/** The nginx configuration of docs/DEPLOYMENT.md, on the given ports and directory. */
export function nginxConfig(
  dir: string,
  front: number,
  upstreams: readonly number[],
  options: NginxOptions,
): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream h1serve {
${upstreams.map((port) => `    server 127.0.0.1:${port} max_fails=0;`).join("\n")}
    keepalive 16;
    keepalive_timeout ${options.idleMs}ms;
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
      proxy_bind ${PROXY_SOURCE};
    }
  }
}
`;
}

/**
 * The HAProxy configuration of docs/DEPLOYMENT.md, on the given ports: HTTP mode, PROXY protocol
 * version 2 to every server, and a request retried on another server when its connection is refused
 * or closed without an answer (an instance restarting or draining).
 */
export function haproxyConfig(front: number, servers: readonly number[]): string {
  return [
    "global",
    "  log stderr format raw local0 err",
    "defaults",
    "  mode http",
    "  log global",
    "  option redispatch 1",
    "  retries 3",
    "  retry-on conn-failure empty-response response-timeout",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 30s",
    "  timeout http-keep-alive 30s",
    "frontend in",
    `  bind 127.0.0.1:${front}`,
    "  default_backend app",
    "backend app",
    "  http-reuse safe",
    ...servers.map((port, i) =>
      `  server h1serve${i + 1} 127.0.0.1:${port} send-proxy-v2 source ${PROXY_SOURCE}`
    ),
    "",
  ].join("\n");
}

/** A proxy running in the foreground with its configuration in a directory of its own. */
export class ProxyProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly dir: string;
  stderr = "";

  private constructor(name: string, child: ChildProcess, dir: string) {
    this.name = name;
    this.child = child;
    this.dir = dir;
    child.stderr!.on("data", (chunk: Uint8Array) => (this.stderr += new TextDecoder().decode(chunk)));
  }

  /** Starts nginx with the configuration that `config` writes for its directory; resolves once it accepts. */
  static async nginx(front: number, config: (dir: string) => string): Promise<ProxyProcess> {
    const dir = mkdtempSync(join(tmpdir(), "h1serve-nginx-"));
    for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "nginx.conf"), config(dir));
    const child = spawn("nginx", ["-c", join(dir, "nginx.conf"), "-p", dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    return await new ProxyProcess("nginx", child, dir).#listening(front);
  }

  /** Starts HAProxy with the given configuration; resolves once it accepts. */
  static async haproxy(front: number, config: string): Promise<ProxyProcess> {
    const dir = mkdtempSync(join(tmpdir(), "h1serve-haproxy-"));
    writeFileSync(join(dir, "haproxy.cfg"), config);
    const child = spawn("haproxy", ["-db", "-f", join(dir, "haproxy.cfg")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    return await new ProxyProcess("haproxy", child, dir).#listening(front);
  }

  async #listening(front: number): Promise<this> {
    await within(
      acceptsConnections(front, this.child, this.name),
      10_000,
      () => `${this.name} to listen: ${this.stderr}`,
    );
    return this;
  }

  /** Stops it with SIGTERM (which stops nginx's workers too) and removes its directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await within(exited, 10_000, `${this.name} to stop`);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What wrk's summary says. */
export interface WrkSummary {
  readonly requests: number;
  /** The "Socket errors" (connect, read, write, timeout) and "Non-2xx or 3xx responses" counts. */
  readonly errors: Record<string, number>;
  readonly text: string;
}

/** Runs wrk against a URL for some seconds, on one thread and a few connections (and a Lua script in `extra`). */
export async function runWrk(
  url: string,
  seconds: number,
  connections = 8,
  extra: readonly string[] = [],
): Promise<WrkSummary> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", ...extra, url];
  const { code, stdout, stderr } = await runProgram("wrk", args);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr}`);
  const errors: Record<string, number> = {};
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  if (socket) {
    for (const [i, kind] of ["connect", "read", "write", "timeout"].entries()) {
      if (socket[i + 1] !== "0") errors[kind] = Number(socket[i + 1]);
    }
  }
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) errors["non-2xx"] = Number(non2xx[1]);
  return { requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0), errors, text: stdout };
}
