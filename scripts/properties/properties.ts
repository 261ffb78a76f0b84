/**
 * The six protocol properties of the core, built from the driver (`drive.ts`), the generators
 * (`generators.ts`) and the reference model (`model.ts`), and their definitions
 * ({@link PROPERTIES}: id, title, CI seed and runs, fuzzing weight). The CI test
 * (`tests/core/fast_check_test.ts`) runs each property with a fixed seed; `scripts/fuzz.ts` runs
 * the very same properties for millions of cases with a random seed.
 *
 * The properties:
 *   (a) no exception escapes the core: a protocol violation only ever comes out as an `error`
 *       event carrying an {@link HttpError} (an HttpError that is *thrown* fails too);
 *   (b) every input ends in exactly one outcome: complete requests only, need more bytes, or one
 *       error with an allowed status, and nothing at all comes after that error;
 *   (c) the whole run (events, body bytes, where each request ended, final state) is the same for
 *       every way of splitting the input, with fast-check choosing the pieces;
 *   (d) mutation safety: see {@link mutationProperty} for the oracle;
 *   (e) the WebSocket session, on streams of valid and broken frames, lets no exception but a
 *       WebSocketError out (as an `error` event) and gives nothing after an error or a close;
 *   (f) the WebSocket session gives the same events for every split of its input.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { bytes, str } from "./bytes.ts";
import {
  checkOutcome,
  cutBySizes,
  drive,
  type DriveOptions,
  fail,
  type ParsedRequest,
  type Run,
} from "./drive.ts";
import {
  applyEdits,
  buildPipeline,
  driveOptionsArb,
  type Edit,
  editsArb,
  inputArb,
  type Mutated,
  pipelineSpecArb,
  type RequestSpec,
  sizesArb,
} from "./generators.ts";
import { checkAgainstReference } from "./model.ts";
import {
  cutInto,
  driveSession,
  frameStreamArb,
  pieceSizesArb,
  runOutcome,
  type SessionDriveOptions,
  sessionOptionsArb,
} from "./websocket.ts";

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Counters of outcome classes, to show that the properties reach every case. */
export type Stats = Record<string, number>;

function count(stats: Stats | undefined, key: string): void {
  if (stats !== undefined) stats[key] = (stats[key] ?? 0) + 1;
}

/** Adds the input's text to a failure, so that a counterexample can be read as bytes. */
function withInput<T>(label: string, text: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${label}: ${JSON.stringify(text)}`, { cause: error });
  }
}

/** (a) On any input, in two splits, nothing but error events comes out of the core: no exception escapes. */
export function noEscapeProperty(): fc.IPropertyWithHooks<[string, DriveOptions, number[]]> {
  return fc.property(inputArb, driveOptionsArb, sizesArb, (text, options, sizes) => {
    withInput("input", text, () => {
      const input = bytes(text);
      drive([input], options);
      drive(cutBySizes(input, sizes), options);
    });
  });
}

/**
 * (b) Every input ends in exactly one outcome (see {@link checkOutcome}). Moreover, unless requests
 * are answered early (so that their bodies are not seen), every request accepted on the way agrees
 * with the reference reading of the bytes ({@link checkAgainstReference}).
 */
export function outcomeProperty(stats?: Stats): fc.IPropertyWithHooks<[string, DriveOptions]> {
  return fc.property(inputArb, driveOptionsArb, (text, options) => {
    withInput("input", text, () => {
      const run = drive([bytes(text)], options);
      count(stats, checkOutcome(run, options));
      if (!options.early) checkAgainstReference(text, run);
      // The very same input fed again only ever finds the same outcome: the core has no hidden state.
      if (JSON.stringify(drive([bytes(text)], options)) !== JSON.stringify(run)) fail("two runs differ");
    });
  });
}

/** (c) The run is the same for the whole input and for the input cut into pieces of the generated sizes. */
export function splitProperty(): fc.IPropertyWithHooks<[string, DriveOptions, number[]]> {
  return fc.property(inputArb, driveOptionsArb, sizesArb, (text, options, sizes) => {
    withInput("input", text, () => {
      const input = bytes(text);
      const whole = drive([input], options);
      const split = drive(cutBySizes(input, sizes), options);
      if (JSON.stringify(split) !== JSON.stringify(whole)) {
        assert.deepEqual(
          split,
          whole,
          `fed in pieces of ${sizes.join(",")} the run differs from the whole input's`,
        );
      }
    });
  });
}

const SEMANTIC_NAMES = new Set(["host", "content-length", "transfer-encoding", "connection", "expect"]);

/**
 * (d) Mutation safety. A valid pipeline is built with the zone of every byte known, parsed as a
 * check of the generator (it must give exactly the requests it was built from), then mutated by one
 * to three edits (replace, flip, insert, delete, mostly with CR, LF, SP, HTAB, NUL, `:`, `;`, `,`,
 * `"`, `=`, hex digits; half of them aimed at DECL or STRICT bytes). The mutated bytes must
 * satisfy properties (a) and (b), and:
 *
 * 1. Reference: every request the core accepts is exactly what an independent reading of those
 *    bytes gives: the same head lines, framing implied by the same fields, the same body, ending at
 *    the same byte ({@link checkAgainstReference}). A mutation can thus change framing only by
 *    producing bytes that, read plainly, *declare* another framing (a different Content-Length
 *    digit, chunk size or version); never by the core reading something other than what is there.
 *    This is the smuggling property, and it needs no description of the edits.
 * 2. Prefix: every request that lies wholly within the bytes the mutation left unchanged at the
 *    start is parsed exactly as before, offsets included, whatever follows it.
 * 3. Local rule. Zones: STRICT is pure syntax (request-line SPs, CRLFs); FREE is free text
 *    (method and target, an `X-` field's name, colon and value, the Host value, a chunk
 *    extension after its `;`, a trailer); BODY is body data; DECL declares framing or semantics
 *    (version, Content-Length, Transfer-Encoding, Connection, Expect, Host's name, chunk sizes
 *    and the `BWS ;` before an extension, and an empty line that ends a section when `\r\n` or a
 *    Content-Length body follows it, since text inserted before it makes it a field line and moves
 *    the end of the section). When every edit only touched STRICT or FREE places or overwrote body
 *    bytes, the input is refused (an error event, after which only the requests before it count),
 *    or waits for more bytes (an edit cut the last request short), or parses to the same number of
 *    requests, each ending exactly where the original one ends after the edits' shifts, with the
 *    same version, framing, length and keep-alive, and with method/target, each field, the body and
 *    each trailer equal to the original's unless an edit touched that very item. A STRICT edit
 *    touches no item, so it must be refused or change nothing.
 *
 *    The rule needs the edits' description, so it steps aside when that description is ambiguous
 *    and another description of the same bytes would not be local: when two edits write or erase
 *    a CR or LF outside a body (they can make or move a line); when an inserted or overwritten CR
 *    or LF sits within four bytes of an original one (which of them ends the line?); when an
 *    inserted or deleted run can slide past equal bytes into another zone or item ("\r\n" + "\0\n"
 *    is also "\r" + "\n\0" + "\n"); and when a FREE edit renames a field into one the parser
 *    interprets (`X-Host` into `Host`). Rules 1 and 2 still apply then.
 *
 * Edits to DECL places and resizing edits in a body may legitimately declare another framing:
 * rules 1 and 2 cover them.
 */
export function mutationProperty(stats?: Stats): fc.IPropertyWithHooks<[RequestSpec[], Edit[]]> {
  return fc.property(pipelineSpecArb, editsArb, (specs, edits) => {
    const pipeline = buildPipeline(specs);
    const original = withInput("pipeline", pipeline.text, () => {
      const run = drive([pipeline.bytes]);
      if (run.error !== null || run.violations.length > 0) {
        fail(`a valid pipeline failed: ${JSON.stringify(run)}`);
      }
      assert.deepEqual(
        run.requests,
        pipeline.expected,
        "a valid pipeline parsed to other requests than built",
      );
      return run;
    });
    const mutated = applyEdits(pipeline, edits);
    const text = str(mutated.bytes);
    withInput(`original: ${JSON.stringify(pipeline.text)}\nmutated`, text, () => {
      const run = drive([mutated.bytes]);
      checkOutcome(run);
      const referenceTrailers = checkAgainstReference(text, run);
      for (let i = 0; i < pipeline.ends.length && pipeline.ends[i] <= mutated.firstChange; i++) {
        const request = run.requests[i];
        if (request === undefined) fail(`request ${i} lies before the first mutated byte but was not parsed`);
        assert.deepEqual(request, original.requests[i], `request ${i} lies before the first mutated byte`);
      }
      const kind = mutated.local ? checkLocal(run, original, mutated, referenceTrailers) : "non-local";
      count(stats, run.error !== null ? `${kind}: rejected` : `${kind}: ${resultClass(run, original)}`);
    });
  });
}

/** How an accepted mutated run compares with the original, for the statistics. */
function resultClass(run: Run, original: Run): string {
  const same = (r: ParsedRequest, o: ParsedRequest) =>
    r.method === o.method && r.target === o.target && r.version === o.version && r.body === o.body &&
    r.bodyFraming === o.bodyFraming && JSON.stringify(r.fields) === JSON.stringify(o.fields) &&
    JSON.stringify(r.trailers) === JSON.stringify(o.trailers);
  if (run.requests.some((r) => r.end === -1) || !run.idle && run.writeState !== "closed") return "waiting";
  if (
    run.requests.length === original.requests.length &&
    run.requests.every((r, i) => same(r, original.requests[i]))
  ) {
    return "same";
  }
  return "changed";
}

/** Rule 3 of {@link mutationProperty}. */
function checkLocal(
  run: Run,
  original: Run,
  mutated: Mutated,
  referenceTrailers: [string, string][][],
): string {
  const k = original.requests.length;
  const touched = mutated.touched;
  // A field renamed into one the parser interprets (X-Host → Host) may reframe: rules 1 and 2 cover it.
  for (let i = 0; i < Math.min(k, run.requests.length); i++) {
    const fields = run.requests[i].fields;
    const before = original.requests[i].fields;
    for (let j = 0; j < Math.min(fields.length, before.length); j++) {
      const name = fields[j][0].toLowerCase();
      if (touched.has(`${i}:f${j}`) && name !== before[j][0].toLowerCase() && SEMANTIC_NAMES.has(name)) {
        return "renamed";
      }
    }
  }
  // Refused, or waiting for more bytes (the edit cut the last request short): only the requests
  // that came count, and the reference has checked that what is pending is no complete head.
  const stopped = run.error !== null || (run.last === "need-data" && !run.idle);
  if (!stopped && run.requests.length !== k) {
    fail(`local edits changed the number of requests from ${k} to ${run.requests.length}`);
  }
  if (run.requests.length > k) fail(`local edits made ${run.requests.length} requests of ${k}`);
  for (let i = 0; i < run.requests.length; i++) {
    const r = run.requests[i];
    const o = original.requests[i];
    const at = `local edits, request ${i}`;
    if (r.end === -1 && !stopped) fail(`${at}: incomplete`);
    if (r.end !== -1 && r.end !== mutated.ends[i]) {
      fail(`${at}: ends at ${r.end}, but the original request now ends at ${mutated.ends[i]}`);
    }
    if (r.version !== o.version || r.bodyFraming !== o.bodyFraming || r.contentLength !== o.contentLength) {
      fail(
        `${at}: framing ${r.version} ${r.bodyFraming} ${r.contentLength}, was ${o.bodyFraming} ${o.contentLength}`,
      );
    }
    if (r.keepAlive !== o.keepAlive) fail(`${at}: keep-alive ${r.keepAlive}, was ${o.keepAlive}`);
    if (!touched.has(`${i}:line`) && (r.method !== o.method || r.target !== o.target)) {
      fail(`${at}: ${r.method} ${r.target}, was ${o.method} ${o.target}`);
    }
    if (r.fields.length !== o.fields.length) fail(`${at}: ${r.fields.length} fields, was ${o.fields.length}`);
    for (let j = 0; j < r.fields.length; j++) {
      if (
        !touched.has(`${i}:f${j}`) && (r.fields[j][0] !== o.fields[j][0] || r.fields[j][1] !== o.fields[j][1])
      ) {
        fail(`${at}: field ${j} is ${JSON.stringify(r.fields[j])}, was ${JSON.stringify(o.fields[j])}`);
      }
    }
    if (r.end === -1) continue;
    if (r.body.length !== o.body.length || (!touched.has(`${i}:body`) && r.body !== o.body)) {
      fail(`${at}: body ${JSON.stringify(r.body)}, was ${JSON.stringify(o.body)}`);
    }
    const trailers = referenceTrailers[i];
    if (trailers.length !== o.trailers.length) {
      fail(`${at}: ${trailers.length} trailers, was ${o.trailers.length}`);
    }
    for (let j = 0; j < trailers.length; j++) {
      if (
        !touched.has(`${i}:t${j}`) &&
        (trailers[j][0] !== o.trailers[j][0] || trailers[j][1] !== o.trailers[j][1])
      ) {
        fail(`${at}: trailer ${j} is ${JSON.stringify(trailers[j])}, was ${JSON.stringify(o.trailers[j])}`);
      }
    }
  }
  return "local";
}

/**
 * (e) On any stream of frames, whole and in pieces, the WebSocket session ends in a defined
 * outcome: `driveSession` throws for an exception that is not a WebSocketError event, or for an
 * event after the end.
 */
export function sessionOutcomeProperty(
  stats?: Stats,
): fc.IPropertyWithHooks<[Uint8Array, SessionDriveOptions]> {
  return fc.property(frameStreamArb, sessionOptionsArb, (input, options) => {
    count(stats, runOutcome(driveSession([input], options)));
  });
}

/** (f) The session's run is the same for the whole stream and for the stream cut into pieces. */
export function sessionSplitProperty(): fc.IPropertyWithHooks<[Uint8Array, SessionDriveOptions, number[]]> {
  return fc.property(frameStreamArb, sessionOptionsArb, pieceSizesArb, (input, options, sizes) => {
    const whole = driveSession([input], options);
    const split = driveSession(cutInto(input, sizes), options);
    assert.deepEqual(split, whole, `fed in pieces of ${sizes.join(",")} the session's run differs`);
  });
}

/** A property as the test and the fuzzer run it. */
export interface PropertyDefinition {
  /** Short id: "a" to "f". */
  readonly id: string;
  /** Test name. */
  readonly title: string;
  /** Fixed seed for CI. */
  readonly seed: number;
  /** Runs in CI, unless `H1SERVE_FC_RUNS` says otherwise. */
  readonly runs: number;
  /** Relative share of the fuzzer's cases. */
  readonly weight: number;
  /** Builds the property, counting outcome classes into `stats`. */
  readonly property: (stats: Stats) => fc.IProperty<unknown>;
}

/** The six properties. */
export const PROPERTIES: readonly PropertyDefinition[] = [
  {
    id: "a",
    title: "ServerConnection lets no exception escape, only HttpError error events",
    seed: 0x1a2b3c,
    runs: 3000,
    weight: 1,
    property: () => noEscapeProperty(),
  },
  {
    id: "b",
    title: "ServerConnection ends every input in one outcome: complete, need more, or one allowed error",
    seed: 0x2b3c4d,
    runs: 6000,
    weight: 1,
    property: (stats) => outcomeProperty(stats),
  },
  {
    id: "c",
    title: "ServerConnection gives the same events for every split of the input",
    seed: 0x3c4d5e,
    runs: 3000,
    weight: 1,
    property: () => splitProperty(),
  },
  {
    id: "d",
    title: "ServerConnection refuses a mutated request or parses it without silently reframing",
    seed: 0x4d5e6f,
    runs: 6000,
    weight: 2,
    property: (stats) => mutationProperty(stats),
  },
  {
    id: "e",
    title: "WebSocketSession lets only WebSocketError events out, and nothing after the end",
    seed: 0x5e6f70,
    runs: 10000,
    weight: 1,
    property: (stats) => sessionOutcomeProperty(stats),
  },
  {
    id: "f",
    title: "WebSocketSession gives the same events for every split of the input",
    seed: 0x6f7081,
    runs: 10000,
    weight: 1,
    property: () => sessionSplitProperty(),
  },
];

/** Runs per property: `H1SERVE_FC_RUNS` when set to a positive integer, else `fallback`. */
export function runsFor(fallback: number): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const runs = Number(env?.H1SERVE_FC_RUNS ?? "");
  return Number.isSafeInteger(runs) && runs > 0 ? runs : fallback;
}
