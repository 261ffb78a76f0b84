/**
 * A {@link Clock} that stands still until a test moves it: the server's timeouts then fire exactly
 * when the test says, with no waiting.
 *
 * @module
 */

import type { Clock, Ticker } from "../server/clock.ts";

interface Task {
  readonly ms: number;
  next: number;
  readonly run: () => void;
}

/**
 * A clock that stands still until {@link FakeClock.advance} moves it; its periodic tasks run as
 * time passes, each at every moment it is due, in order.
 *
 * @example Move time by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeClock } from "@h1serve/h1serve/testing";
 *
 * const clock = new FakeClock(0);
 * const seen: number[] = [];
 * clock.every(100, () => seen.push(clock.now()));
 * clock.advance(250);
 * assert.deepEqual(seen, [100, 200]);
 * assert.equal(clock.now(), 250);
 * ```
 */
export class FakeClock implements Clock {
  #time: number;
  readonly #tasks = new Set<Task>();

  /**
   * Makes a clock that shows `start` until it is moved.
   * @param start The time it starts at, in milliseconds since the epoch.
   */
  constructor(start = 1_000_000) {
    this.#time = start;
  }

  /**
   * The time the clock shows.
   * @returns Milliseconds since the epoch.
   */
  now(): number {
    return this.#time;
  }

  /**
   * Runs `run` every `ms` milliseconds of the clock's time.
   * @param ms The period.
   * @param run What to run.
   * @returns The handle that cancels it.
   */
  every(ms: number, run: () => void): Ticker {
    const task: Task = { ms, next: this.#time + ms, run };
    this.#tasks.add(task);
    return { cancel: () => this.#tasks.delete(task) };
  }

  /** How many periodic tasks are running. */
  get tasks(): number {
    return this.#tasks.size;
  }

  /**
   * When the next periodic task is due, or `null` when none runs.
   * @returns Milliseconds since the epoch.
   */
  nextDue(): number | null {
    let due: number | null = null;
    for (const task of this.#tasks) if (due === null || task.next < due) due = task.next;
    return due;
  }

  /**
   * Moves time forward by `ms`, running each periodic task at every moment it is due, in order,
   * with the clock showing that moment.
   * @param ms How far to move, in milliseconds.
   */
  advance(ms: number): void {
    const end = this.#time + ms;
    while (true) {
      let due: Task | null = null;
      for (const task of this.#tasks) {
        if (task.next <= end && (due === null || task.next < due.next)) due = task;
      }
      if (due === null) break;
      this.#time = due.next;
      due.next += due.ms;
      due.run();
    }
    this.#time = end;
  }
}
