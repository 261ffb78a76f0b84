/**
 * Long fuzzing of the protocol core: runs the fast-check properties of
 * `scripts/properties/properties.ts` (the same ones `tests/core/fast_check_test.ts` runs in CI) in
 * batches, each with its own seed derived from one random base seed, until a number of cases or a
 * time limit is reached.
 *
 * ```sh
 * deno run -A scripts/fuzz.ts [--cases N] [--seconds S] [--seed S] [--batch N] [--only a,b,c,d]
 * ```
 *
 * Prints the seed first, a progress line every 10 s, and finally
 * `fuzz: N cases in T s, 0 failures, seed S`. On a failure it prints fast-check's report (the
 * shrunk counterexample, and the batch seed and path that replay it) and exits with status 1.
 *
 * @module
 */

import type { Stats } from "./properties/properties.ts";
import { ensureToolchain } from "./setup.ts";

// The properties need fast-check from node_modules: install the toolchain before loading them.
await ensureToolchain();
const { default: fc } = await import("fast-check");
const { PROPERTIES } = await import("./properties/properties.ts");

interface Options {
  cases: number;
  seconds: number;
  seed: number;
  batch: number;
  only: string[] | null;
}

const USAGE =
  "usage: deno run -A scripts/fuzz.ts [--cases N] [--seconds S] [--seed S] [--batch N] [--only a,b,c,d]";

function parseOptions(args: readonly string[]): Options {
  const options: Options = {
    cases: 10_000_000,
    seconds: Infinity,
    seed: crypto.getRandomValues(new Int32Array(1))[0],
    batch: 2_000,
    only: null,
  };
  for (let k = 0; k < args.length; k++) {
    const [flag, inline] = args[k].split("=", 2);
    const value = inline ?? args[++k];
    const number = Number(value);
    switch (flag) {
      case "--cases":
      case "--seconds":
      case "--batch":
        if (!(number > 0)) usage(`${flag} needs a positive number`);
        options[flag.slice(2) as "cases" | "seconds" | "batch"] = number;
        break;
      case "--seed":
        if (!Number.isInteger(number)) usage("--seed needs an integer");
        options.seed = number | 0;
        break;
      case "--only":
        options.only = (value ?? "").split(",");
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        usage(`unknown flag ${args[k]}`);
    }
  }
  return options;
}

function usage(message: string): never {
  console.error(`fuzz: ${message}\n${USAGE}`);
  Deno.exit(2);
}

/** A batch's seed: a 32-bit mix of the base seed, the batch number and the property. */
function batchSeed(base: number, batch: number, property: number): number {
  let h = Math.imul(base ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(batch + 1, 0xc2b2ae35) ^
    (property * 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

function main(): void {
  const options = parseOptions(Deno.args);
  const chosen = PROPERTIES.filter((p) => options.only === null || options.only.includes(p.id));
  if (chosen.length === 0) usage("--only names no property (a, b, c, d)");
  const stats: Stats = {};
  const properties = chosen.map((definition) => ({ definition, property: definition.property(stats) }));
  const perProperty = new Map<string, number>(chosen.map((p) => [p.id, 0]));
  console.log(
    `fuzz: seed ${options.seed}, properties ${
      chosen.map((p) => p.id).join(",")
    }, up to ${options.cases} cases` +
      (options.seconds === Infinity ? "" : ` or ${options.seconds} s`),
  );
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let cases = 0;
  let lastReport = started;
  let lastCases = 0;
  for (let batch = 0; cases < options.cases && elapsed() < options.seconds; batch++) {
    for (let k = 0; k < properties.length && cases < options.cases; k++) {
      const { definition, property } = properties[k];
      const numRuns = Math.min(options.batch * definition.weight, options.cases - cases);
      const seed = batchSeed(options.seed, batch, k);
      const details = fc.check(property, { seed, numRuns });
      cases += details.numRuns;
      perProperty.set(definition.id, (perProperty.get(definition.id) ?? 0) + details.numRuns);
      if (details.failed) {
        console.error(fc.defaultReportMessage(details) ?? "property failed");
        const error = details.errorInstance;
        console.error(
          error instanceof Error ? `${error.message}\n${String(error.cause ?? "")}` : String(error),
        );
        console.error(
          `fuzz: FAILED property (${definition.id}) ${definition.title}\n` +
            `fuzz: ${cases} cases in ${elapsed().toFixed(1)} s, 1 failure, seed ${options.seed} ` +
            `(batch ${batch}: replay with fc.assert(property, { seed: ${seed}, path: "${details.counterexamplePath}" }))`,
        );
        Deno.exit(1);
      }
    }
    const now = performance.now();
    if (now - lastReport >= 10_000) {
      const rate = (cases - lastCases) / ((now - lastReport) / 1000);
      console.log(
        `fuzz: ${cases} cases, ${Math.round(rate)} cases/s, ${elapsed().toFixed(0)} s (` +
          [...perProperty].map(([id, n]) => `${id}: ${n}`).join(", ") + ")",
      );
      lastReport = now;
      lastCases = cases;
    }
  }
  const outcomes = Object.entries(stats).sort().map(([key, n]) => `${key} ${n}`).join("; ");
  console.log(`fuzz: outcomes: ${outcomes}`);
  console.log(`fuzz: ${cases} cases in ${elapsed().toFixed(1)} s, 0 failures, seed ${options.seed}`);
}

if (import.meta.main) main();
