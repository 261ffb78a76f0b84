/**
 * Size limits and timeouts for one connection, with their defaults.
 *
 * `docs/LIMITS.md` puts each default beside nginx's, Node's and Bun's.
 *
 * @module
 */

/**
 * Every size limit and timeout the core enforces. Sizes are in bytes, times in milliseconds.
 *
 * @example Build a complete set of limits
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Limits, resolveLimits } from "./limits.ts";
 *
 * const limits: Limits = resolveLimits({ headersTimeoutMs: 5_000 });
 * assert.equal(limits.headersTimeoutMs, 5_000);
 * assert.equal(limits.maxHeaderBytes, 16384);
 * assert.ok(Object.isFrozen(limits));
 * ```
 */
export interface Limits {
  /**
   * Longest request target. A longer one is answered with 414 and a close, and so is a request
   * line (method, target and version, CR included) longer than this plus 64 bytes.
   * @default {8192}
   */
  readonly maxTargetLength: number;
  /**
   * Largest request head (request line plus header section, CRLFs included).
   * A larger one is answered with 431 and a close.
   * @default {16384}
   */
  readonly maxHeaderBytes: number;
  /**
   * Most header fields in one request head. More are answered with 431 and a close.
   * @default {100}
   */
  readonly maxHeaderCount: number;
  /**
   * Largest request body, declared or chunked. A larger one is answered with 413 and a close.
   * @default {134217728} (128 MiB)
   */
  readonly maxBodyBytes: number;
  /**
   * Largest chunk-extension text on one chunk-size line. More is answered with 400 and a close.
   * @default {4096}
   */
  readonly maxChunkExtensionBytes: number;
  /**
   * Largest trailer section of a chunked body. More is answered with 431 and a close.
   * @default {16384}
   */
  readonly maxTrailerBytes: number;
  /**
   * Most unread request-body bytes the server reads and discards after a response, to keep the
   * connection. A request with more unread body gets `Connection: close` instead.
   * @default {262144}
   */
  readonly maxDrainBytes: number;
  /**
   * Time allowed to receive a whole request head, from its first byte. Past it the server answers
   * 408 and closes: this is the slowloris defence.
   * @default {30000}
   */
  readonly headersTimeoutMs: number;
  /**
   * Longest silence while a request body is being received. Past it the server answers 408
   * (if no response has started) and closes.
   * @default {60000}
   */
  readonly bodyTimeoutMs: number;
  /**
   * Longest idle time of a keep-alive connection between requests; the server then closes it.
   * It is longer than the 60 s idle timeout common in load balancers, so that the server is not
   * the side that closes a connection the balancer is about to reuse.
   * @default {65000}
   */
  readonly keepAliveTimeoutMs: number;
  /**
   * Longest time a connection's writes may stay blocked (the peer reads nothing). Past it the
   * server closes the connection, so a client that never reads cannot hold it forever.
   * Enforced by the server (`src/server.ts`).
   * @default {60000}
   */
  readonly sendTimeoutMs: number;
  /**
   * After `shutdown()`, how long the requests in flight may take to finish before their
   * connections are closed anyway. Enforced by the server (`src/server.ts`).
   * @default {20000}
   */
  readonly shutdownTimeoutMs: number;
  /**
   * Most connections open at once. A connection past it is closed as soon as it is accepted,
   * before any byte is read. Enforced by the server (`src/server.ts`).
   * @default {16384}
   */
  readonly maxConnections: number;
}

/**
 * The default {@link Limits}.
 *
 * @example Override one limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMITS, resolveLimits } from "./limits.ts";
 *
 * const limits = resolveLimits({ maxHeaderCount: 50 });
 * assert.equal(limits.maxHeaderCount, 50);
 * assert.equal(limits.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes);
 * ```
 */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxTargetLength: 8192,
  maxHeaderBytes: 16384,
  maxHeaderCount: 100,
  maxBodyBytes: 128 * 1024 * 1024,
  maxChunkExtensionBytes: 4096,
  maxTrailerBytes: 16384,
  maxDrainBytes: 256 * 1024,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  sendTimeoutMs: 60_000,
  shutdownTimeoutMs: 20_000,
  maxConnections: 16_384,
});

/**
 * Fills the unset fields of a partial limits object with the defaults, and checks each value.
 *
 * @param overrides The limits to change.
 * @returns A frozen, complete {@link Limits}: {@link DEFAULT_LIMITS} itself when nothing is overridden.
 * @throws {RangeError} If a value is not a positive number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMITS, resolveLimits } from "./limits.ts";
 *
 * const limits = resolveLimits({ maxBodyBytes: 1024 });
 * assert.equal(limits.maxBodyBytes, 1024);
 * assert.equal(resolveLimits(limits), limits); // a resolved object is returned as it is
 * assert.equal(resolveLimits({}), DEFAULT_LIMITS);
 * assert.throws(() => resolveLimits({ maxBodyBytes: -1 }), RangeError);
 * ```
 */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  // Already resolved (a server hands its limits to each connection): share the same object.
  if (RESOLVED.has(overrides)) return overrides as Limits;
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  let changed = false;
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in DEFAULT_LIMITS)) throw new RangeError(`unknown limit: ${name}`);
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`limit ${name} must be a positive number, got ${String(value)}`);
    }
    limits[name] = value;
    changed = true;
  }
  // Connections with the same limits object share parsers (see ServerConnection): no overrides, no copy.
  if (!changed) return DEFAULT_LIMITS;
  const resolved = Object.freeze(limits) as unknown as Limits;
  RESOLVED.add(resolved);
  return resolved;
}

const RESOLVED = new WeakSet<object>([DEFAULT_LIMITS]);
