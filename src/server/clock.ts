/**
 * The server's clock: the one place the glue reads the time and schedules its periodic check of
 * deadlines. The core never reads a clock (its methods take `now`); the server takes its times
 * from a {@link Clock}, so that a test can give it a fake one and move time by hand.
 *
 * @module
 */

/**
 * A periodic task started by {@link Clock.every}.
 *
 * @example Stop a periodic task
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock, type Ticker } from "./clock.ts";
 *
 * const ticker: Ticker = systemClock.every(1000, () => {});
 * ticker.cancel();
 * assert.equal(typeof ticker.cancel, "function");
 * ```
 */
export interface Ticker {
  /** Stops the task; it runs no more. */
  cancel(): void;
}

/**
 * Where the server gets the time: milliseconds since the epoch, and a periodic task.
 *
 * @example A clock that a test moves by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Clock, Ticker } from "./clock.ts";
 *
 * class ManualClock implements Clock {
 *   time = 0;
 *   readonly tasks = new Set<() => void>();
 *   now(): number {
 *     return this.time;
 *   }
 *   every(_ms: number, task: () => void): Ticker {
 *     this.tasks.add(task);
 *     return { cancel: () => this.tasks.delete(task) };
 *   }
 * }
 * const clock = new ManualClock();
 * let runs = 0;
 * const ticker = clock.every(100, () => runs++);
 * for (const task of clock.tasks) task();
 * ticker.cancel();
 * assert.deepEqual([runs, clock.tasks.size, clock.now()], [1, 0, 0]);
 * ```
 */
export interface Clock {
  /** The current time, in milliseconds since the epoch. */
  now(): number;
  /**
   * Runs a task every `ms` milliseconds, until it is cancelled.
   * @param ms The period.
   * @param task What to run.
   * @returns The handle that cancels it.
   */
  every(ms: number, task: () => void): Ticker;
}

/**
 * The real clock: `Date.now()` and `setInterval`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "./clock.ts";
 *
 * const before = Date.now();
 * assert.ok(systemClock.now() >= before);
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: (): number => Date.now(),
  every(ms: number, task: () => void): Ticker {
    const timer = setInterval(task, ms);
    return { cancel: () => clearInterval(timer) };
  },
});
