/**
 * Shared helpers of the core tests: Latin-1 byte strings (`bytes`, `str` and `pairs`, from
 * `scripts/properties/bytes.ts`, which the property module shares), an event recorder for
 * {@link ServerConnection}, and the "every split" driver (llhttp, h11) that feeds one input
 * whole, at every two-piece split and in chunks of every small size, and checks that the
 * event log is the same each way.
 *
 * Not a test file: its name does not end in `_test.ts`.
 */

import assert from "node:assert/strict";
import {
  HttpError,
  type ProtocolLimits,
  type ReadState,
  ServerConnection,
  type TargetForm,
  type WriteState,
} from "../../src/core/mod.ts";
import { bytes, pairs, str } from "../../scripts/properties/bytes.ts";

export { bytes, pairs, str };

/** One entry of a connection's event log. Consecutive data events are merged into one entry. */
export type LogEntry =
  | {
    type: "request";
    method: string;
    target: string;
    targetForm: TargetForm;
    version: string;
    authority: string | null;
    headers: [string, string][];
    bodyFraming: string;
    contentLength: number;
    keepAlive: boolean;
    expectContinue: boolean;
  }
  | { type: "data"; data: string }
  | { type: "end"; trailers: [string, string][] }
  | { type: "response"; head: string }
  | { type: "error"; code: string; status: number; offset: number }
  | { type: "close" };

/** A partial log entry: only the keys given are compared. */
export type Expected = { type: LogEntry["type"] } & Record<string, unknown>;

/** How {@link feedConnection} drives the connection. */
export interface FeedOptions {
  /** Limits for the connection. */
  readonly limits?: Partial<ProtocolLimits>;
  /** Whether to report EOF after the last piece. */
  readonly eof?: boolean;
  /**
   * Whether to answer each request (200, empty body) once its body is read, so that pipelined
   * requests come through. Defaults to true.
   */
  readonly respond?: boolean;
  /**
   * Whether to answer each request as soon as its head arrives, leaving its body unread, so that
   * the connection drains (or refuses) the body itself.
   */
  readonly respondEarly?: boolean;
}

/** What a run produced. */
export interface FeedResult {
  readonly log: LogEntry[];
  readonly readState: ReadState;
  readonly writeState: WriteState;
}

/**
 * Feeds pieces to a new connection, pulling every event after each piece, and records the log.
 * Anything thrown that is not an {@link HttpError} escapes (and fails the test); an HttpError
 * must never be thrown, only reported as an error event.
 */
export function feedConnection(input: readonly Uint8Array[], options: FeedOptions = {}): FeedResult {
  const conn = new ServerConnection({ limits: options.limits, now: 0 });
  const respond = options.respond ?? true;
  const log: LogEntry[] = [];
  let stopped = false;
  const pump = () => {
    while (!stopped) {
      const event = conn.nextEvent();
      switch (event.type) {
        case "request": {
          const head = event.head;
          log.push({
            type: "request",
            method: head.method,
            target: head.target,
            targetForm: head.targetForm,
            version: head.version,
            authority: head.authority,
            headers: pairs(head.fields),
            bodyFraming: head.bodyFraming,
            contentLength: head.contentLength,
            keepAlive: head.keepAlive,
            expectContinue: head.expectContinue,
          });
          if (options.respondEarly) {
            const response = conn.startResponse({ status: 200, headers: [], bodyLength: 0 }, 0);
            conn.endResponse(0);
            log.push({ type: "response", head: str(response) });
          }
          break;
        }
        case "data": {
          assert.ok(event.data.byteLength > 0, "a data event is never empty");
          const last = log[log.length - 1];
          if (last !== undefined && last.type === "data") last.data += str(event.data);
          else log.push({ type: "data", data: str(event.data) });
          break;
        }
        case "end":
          log.push({ type: "end", trailers: pairs(event.trailers) });
          break;
        case "error":
          assert.ok(event.error instanceof HttpError);
          log.push({
            type: "error",
            code: event.error.code,
            status: event.error.status,
            offset: event.error.offset,
          });
          stopped = true;
          return;
        case "close":
          log.push({ type: "close" });
          stopped = true;
          return;
        case "need-data":
          return;
        case "paused":
          if (respond && conn.readState === "done" && conn.writeState === "idle") {
            const head = conn.startResponse({ status: 200, headers: [], bodyLength: 0 }, 0);
            conn.endResponse(0);
            log.push({ type: "response", head: str(head) });
            continue;
          }
          return;
        default:
          throw new Error(`unexpected event ${JSON.stringify(event)}`);
      }
    }
  };
  for (const piece of input) {
    if (stopped) break;
    conn.receive(piece, 0);
    pump();
  }
  if (options.eof && !stopped) {
    conn.receiveEof();
    pump();
  }
  return { log, readState: conn.readState, writeState: conn.writeState };
}

/** Cuts `input` at the given offsets into separate arrays (copies, not views). */
export function cut(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const at of cuts) {
    if (at > from && at < input.length) {
      out.push(input.slice(from, at));
      from = at;
    }
  }
  out.push(input.slice(from));
  return out;
}

/** A way of splitting an input, with a name for failure messages. */
export interface SplitPattern {
  readonly name: string;
  readonly cuts: number[];
}

/**
 * Every split pattern of an input of length `n`: whole, two pieces at every offset, and chunks of
 * every size from 1 to 64 (or to n). Long inputs get a sample of two-piece offsets.
 */
export function* splitPatterns(n: number): Generator<SplitPattern> {
  yield { name: "whole", cuts: [] };
  const step = n > 1024 ? Math.ceil(n / 512) : 1;
  for (let at = 1; at < n; at += step) yield { name: `two pieces at ${at}`, cuts: [at] };
  if (step > 1) {
    for (let at = Math.max(1, n - 16); at < n; at++) yield { name: `two pieces at ${at}`, cuts: [at] };
  }
  const maxSize = Math.min(n - 1, 64);
  for (let size = 1; size <= maxSize; size++) {
    const cuts: number[] = [];
    for (let at = size; at < n; at += size) cuts.push(at);
    yield { name: `chunks of ${size}`, cuts };
  }
}

/**
 * Feeds the input under every split pattern and asserts that each gives the same result as the
 * whole input. Returns that result.
 */
export function feedAllSplits(input: Uint8Array | string, options: FeedOptions = {}): FeedResult {
  const data = typeof input === "string" ? bytes(input) : input;
  const whole = feedConnection([data.slice()], options);
  for (const pattern of splitPatterns(data.length)) {
    const result = feedConnection(cut(data, pattern.cuts), options);
    assert.deepEqual(result, whole, `fed as ${pattern.name}`);
  }
  return whole;
}

/** Asserts that a log has exactly the expected entries, comparing only the keys each one gives. */
export function assertLog(actual: readonly LogEntry[], expected: readonly Expected[]): void {
  const show = () => JSON.stringify(actual, null, 1);
  assert.equal(actual.length, expected.length, `log length differs:\n${show()}`);
  for (let i = 0; i < expected.length; i++) {
    const entry = actual[i] as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected[i])) {
      assert.deepEqual(entry[key], value, `entry ${i}, key ${key}:\n${show()}`);
    }
  }
}

/** One table case: an input, options, and the expected log. */
export interface Case {
  readonly name: string;
  readonly input: string;
  readonly expect: readonly Expected[];
  readonly options?: FeedOptions;
}

/** Expected request entry. */
export function req(method: string, target: string, extra: Record<string, unknown> = {}): Expected {
  return { type: "request", method, target, ...extra };
}

/** Expected error entry. */
export function err(code: string, status: number, extra: Record<string, unknown> = {}): Expected {
  return { type: "error", code, status, ...extra };
}

/** Expected data entry. */
export function data(text: string): Expected {
  return { type: "data", data: text };
}

/** Expected end entry. */
export function end(trailers: [string, string][] = []): Expected {
  return { type: "end", trailers };
}

/** Expected response entry (any head). */
export const RESPONSE: Expected = { type: "response" };

/** Expected close entry. */
export const CLOSE: Expected = { type: "close" };

/** A small seeded pseudo-random generator (mulberry32), so that property tests are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
