/**
 * The user's hooks (`onResponse`, `onProtocolError`, `onData`, …) are run through one guard, so
 * that a hook that throws never takes a connection or the server down.
 *
 * @module
 */

/**
 * Runs one of the user's hooks: a hook that throws is logged, and the connection goes on.
 *
 * @param name The hook's name, for the log.
 * @param call Calls it.
 *
 * @example
 * ```ts
 * import { runHook } from "./hooks.ts";
 *
 * runHook("onResponse", () => {
 *   throw new Error("logged, not thrown");
 * });
 * ```
 */
export function runHook(name: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    console.error(`h1serve: the ${name} hook failed:`, error);
  }
}
