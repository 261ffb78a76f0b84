/**
 * The size limits and timeouts of the protocol, which the core enforces on each connection, with
 * their defaults. (The server adds its own: the send and shutdown timeouts and the most
 * connections, in `src/server/options.ts`.)
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
 * import { type ProtocolLimits, resolveProtocolLimits } from "./limits.ts";
 *
 * const limits: ProtocolLimits = resolveProtocolLimits({ headersTimeoutMs: 5_000 });
 * assert.equal(limits.headersTimeoutMs, 5_000);
 * assert.equal(limits.maxHeaderBytes, 16384);
 * assert.ok(Object.isFrozen(limits));
 * ```
 */
export interface ProtocolLimits {
  /**
   * Longest request target. A longer one is answered with 414 and a close, and so is a request
   * line (method, target and version, CR included) longer than this plus `maxMethodLength` plus
   * 32 bytes.
   * @default {8192}
   */
  readonly maxTargetLength: number;
  /**
   * Longest method. A longer one is answered with 501 and a close, as soon as its bytes arrive
   * (RFC 9112 §3: a method longer than any the server implements), not with the 414 of a long
   * target. Twice the longest registered method (`UPDATEREDIRECTREF`, 17).
   * @default {32}
   */
  readonly maxMethodLength: number;
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
}

/**
 * The default {@link ProtocolLimits}.
 *
 * @example Override one limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PROTOCOL_LIMITS, resolveProtocolLimits } from "./limits.ts";
 *
 * const limits = resolveProtocolLimits({ maxHeaderCount: 50 });
 * assert.equal(limits.maxHeaderCount, 50);
 * assert.equal(limits.maxHeaderBytes, DEFAULT_PROTOCOL_LIMITS.maxHeaderBytes);
 * ```
 */
export const DEFAULT_PROTOCOL_LIMITS: ProtocolLimits = Object.freeze({
  maxTargetLength: 8192,
  maxMethodLength: 32,
  maxHeaderBytes: 16384,
  maxHeaderCount: 100,
  maxBodyBytes: 128 * 1024 * 1024,
  maxChunkExtensionBytes: 4096,
  maxTrailerBytes: 16384,
  maxDrainBytes: 256 * 1024,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
});

/**
 * Fills the unset fields of a partial limits object with the defaults, and checks each value.
 *
 * @param overrides The limits to change.
 * @returns A frozen, complete {@link ProtocolLimits}: {@link DEFAULT_PROTOCOL_LIMITS} itself when
 *   nothing is overridden.
 * @throws {RangeError} If a value is not a positive number, or a name is not a protocol limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PROTOCOL_LIMITS, resolveProtocolLimits } from "./limits.ts";
 *
 * const limits = resolveProtocolLimits({ maxBodyBytes: 1024 });
 * assert.equal(limits.maxBodyBytes, 1024);
 * assert.equal(resolveProtocolLimits(limits), limits); // a resolved object is returned as it is
 * assert.equal(resolveProtocolLimits({}), DEFAULT_PROTOCOL_LIMITS);
 * assert.throws(() => resolveProtocolLimits({ maxBodyBytes: -1 }), RangeError);
 * ```
 */
export function resolveProtocolLimits(overrides: Partial<ProtocolLimits> = {}): ProtocolLimits {
  return resolveLimitSet(DEFAULT_PROTOCOL_LIMITS, overrides);
}

/**
 * Fills the unset fields of a partial set of limits with its defaults, and checks each value:
 * what {@link resolveProtocolLimits} does, for any set of numeric limits (the server's own).
 *
 * @param defaults The complete set of defaults; every name outside it is refused.
 * @param overrides The limits to change.
 * @returns A frozen, complete set: `defaults` itself when nothing is overridden, and `overrides`
 *   itself when it was returned by this function before.
 * @throws {RangeError} If a value is not a positive number, or a name is not in `defaults`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLimitSet } from "./limits.ts";
 *
 * const defaults: { readonly maxThings: number } = Object.freeze({ maxThings: 10 });
 * assert.equal(resolveLimitSet(defaults, {}), defaults);
 * assert.equal(resolveLimitSet(defaults, { maxThings: 3 }).maxThings, 3);
 * assert.throws(() => resolveLimitSet(defaults, { maxThings: 0 }), RangeError);
 * ```
 */
export function resolveLimitSet<T extends object>(defaults: T, overrides: Partial<T>): T {
  // Already resolved (a server hands its limits to each connection): share the same object.
  if (RESOLVED.has(overrides)) return overrides as T;
  const limits: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  let changed = false;
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in defaults)) throw new RangeError(`unknown limit: ${name}`);
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`limit ${name} must be a positive number, got ${String(value)}`);
    }
    limits[name] = value;
    changed = true;
  }
  // Connections with the same limits object share parsers (see ConnectionContext): no overrides, no copy.
  if (!changed) {
    RESOLVED.add(defaults);
    return defaults;
  }
  const resolved = Object.freeze(limits) as T;
  RESOLVED.add(resolved);
  return resolved;
}

/** The limit sets that {@link resolveLimitSet} returned: complete and checked already. */
const RESOLVED = new WeakSet<object>();
