/**
 * How a benchmark server ends: on SIGTERM it exits, and under `deno task bench --profile DIR` it
 * first writes its CPU profile. Node and Bun write their `--cpu-prof` file when the process exits;
 * Deno has no `--cpu-prof`, so there the server profiles itself through `node:inspector` into
 * `H1SERVE_CPU_PROFILE`.
 *
 * @module
 */

/**
 * Exits on SIGTERM; on Deno with `H1SERVE_CPU_PROFILE` set, profiles from now on and writes the
 * profile to that file first.
 *
 * @returns Resolves once the profiler runs (at once when there is none).
 *
 * @example
 * ```ts ignore
 * await exitOnSigterm();
 * ```
 */
export async function exitOnSigterm(): Promise<void> {
  const profileFile = process.env.H1SERVE_CPU_PROFILE;
  if (!profileFile || !("Deno" in globalThis)) {
    process.on("SIGTERM", () => process.exit(0));
    return;
  }
  const { Session } = await import("node:inspector");
  const { writeFileSync } = await import("node:fs");
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<{ profile?: unknown }>((resolve, reject) =>
      session.post(
        method,
        (error: Error | null, result: unknown) =>
          error ? reject(error) : resolve(result as { profile?: unknown }),
      )
    );
  await post("Profiler.enable");
  await post("Profiler.start");
  process.on("SIGTERM", async () => {
    const { profile } = await post("Profiler.stop");
    writeFileSync(profileFile, JSON.stringify(profile));
    process.exit(0);
  });
}
