/**
 * The deadline of the phase a connection is in, computed from the times the state machine is
 * given: receiving a head (from its first byte), receiving a body (from its last byte), idling
 * between requests (from the end of the last response), or none while the handler works. Private
 * to h1serve (not exported by `core/mod.ts`).
 *
 * @module
 */

import type { ProtocolLimits } from "./limits.ts";

/**
 * Which deadline runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DeadlineKind, PhaseDeadline } from "./_deadline.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const kind: DeadlineKind = new PhaseDeadline(DEFAULT_PROTOCOL_LIMITS, 0).kind;
 * assert.equal(kind, "head");
 * ```
 */
export type DeadlineKind = "head" | "idle" | "body" | "none";

/**
 * The deadline of a connection's current phase.
 *
 * @example A body's deadline moves with each piece of it
 * ```ts
 * import assert from "node:assert/strict";
 * import { PhaseDeadline } from "./_deadline.ts";
 * import { resolveProtocolLimits } from "./limits.ts";
 *
 * const deadline = new PhaseDeadline(resolveProtocolLimits({ bodyTimeoutMs: 100 }), 0);
 * deadline.received(10);
 * deadline.body();
 * deadline.received(50);
 * assert.deepEqual([deadline.kind, deadline.at, deadline.due(149), deadline.due(150)], ["body", 150, false, true]);
 * ```
 */
export class PhaseDeadline {
  /** Which deadline runs. */
  kind: DeadlineKind = "head";
  /** When it passes, in milliseconds; `Infinity` when none runs. */
  at: number;
  /** When bytes last arrived. */
  lastReceiveAt: number;
  readonly #limits: ProtocolLimits;

  /**
   * Starts with the deadline of a new connection's first head.
   * @param limits The timeouts.
   * @param now The current time in milliseconds.
   */
  constructor(limits: ProtocolLimits, now: number) {
    this.#limits = limits;
    this.lastReceiveAt = now;
    this.at = now + limits.headersTimeoutMs;
  }

  /**
   * Bytes arrived: an idle connection now receives a head, and a body's silence is over.
   * @param now The current time in milliseconds.
   */
  received(now: number): void {
    this.lastReceiveAt = now;
    if (this.kind === "idle") this.#set("head", now + this.#limits.headersTimeoutMs);
    else if (this.kind === "body") this.#set("body", now + this.#limits.bodyTimeoutMs);
  }

  /** A body is arriving: it may be silent for `bodyTimeoutMs` from the last byte received. */
  body(): void {
    this.#set("body", this.lastReceiveAt + this.#limits.bodyTimeoutMs);
  }

  /**
   * A response has ended: the next head's deadline runs when its bytes are here already, else
   * the keep-alive's.
   * @param now The current time in milliseconds.
   * @param buffered Whether bytes of the next request are already here.
   */
  nextRequest(now: number, buffered: boolean): void {
    if (buffered) this.#set("head", now + this.#limits.headersTimeoutMs);
    else this.#set("idle", now + this.#limits.keepAliveTimeoutMs);
  }

  /** No deadline runs (the handler works, or the connection is over). */
  none(): void {
    this.#set("none", Infinity);
  }

  /**
   * Whether the deadline has passed.
   * @param now The current time in milliseconds.
   * @returns `true` from the deadline on.
   */
  due(now: number): boolean {
    return now >= this.at;
  }

  #set(kind: DeadlineKind, at: number): void {
    this.kind = kind;
    this.at = at;
  }
}
