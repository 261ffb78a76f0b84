/**
 * Property-based tests of the protocol core with fast-check: the four properties of
 * `scripts/properties/properties.ts`, each with a fixed seed so that CI is deterministic. Set
 * `H1SERVE_FC_RUNS` for more runs per property; `deno task fuzz` runs the same properties with a
 * random seed for millions of cases.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PROPERTIES, runsFor, type Stats } from "../../scripts/properties/properties.ts";

/** Outcome classes each property must reach, or it proves little. */
const MUST_REACH: Record<string, readonly string[]> = {
  b: ["complete", "partial", "error"],
  d: [
    "local: rejected",
    "local: same",
    "local: changed",
    "non-local: rejected",
    "non-local: same",
    "non-local: changed",
  ],
  e: ["open", "closed", "dropped", "error 1002", "error 1006", "error 1007", "error 1009"],
};

describe("ServerConnection and WebSocketSession fast-check properties", () => {
  for (const definition of PROPERTIES) {
    it(`(${definition.id}) ${definition.title}`, () => {
      const stats: Stats = {};
      fc.assert(definition.property(stats), { seed: definition.seed, numRuns: runsFor(definition.runs) });
      for (const outcome of MUST_REACH[definition.id] ?? []) {
        assert.ok((stats[outcome] ?? 0) > 0, `never reached "${outcome}": ${JSON.stringify(stats)}`);
      }
    });
  }
});
