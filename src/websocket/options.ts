/**
 * The options of `upgradeWebSocket` and `upgradeWebSocketStream`, their defaults, and what Deno,
 * Bun and `ws` chose for each.
 *
 * @module
 */

import type { DeflateOptions } from "../core/mod.ts";

/**
 * How a WebSocket connection is set up and behaves. Every option has a default.
 *
 * @example A chat socket: one subprotocol, compression, a small message limit
 * ```ts
 * import type { UpgradeWebSocketOptions } from "./options.ts";
 *
 * const options: UpgradeWebSocketOptions = {
 *   protocols: ["chat.v1"],
 *   compression: true,
 *   maxMessageBytes: 64 * 1024,
 * };
 * ```
 */
export interface UpgradeWebSocketOptions {
  /**
   * The subprotocol to choose, when the client offers it (as `Deno.upgradeWebSocket`'s
   * `protocol`). When it is not offered, none is chosen.
   */
  readonly protocol?: string;
  /**
   * The subprotocols the server speaks, in no particular order: the client's first offer among
   * them is chosen (RFC 6455 §4.2.2). Used when `protocol` is not given.
   */
  readonly protocols?: readonly string[];
  /**
   * The largest message, after inflating: a larger one closes the connection with 1009.
   * Default 16 MiB (Bun: 16 MiB; `ws`: 100 MiB; Deno: 64 MiB).
   */
  readonly maxMessageBytes?: number;
  /** The largest frame payload; a larger one closes with 1009. Default: `maxMessageBytes`. */
  readonly maxFrameBytes?: number;
  /**
   * After this long with nothing received, the server pings; when as long again passes with
   * nothing received, it drops the peer. 0 turns it off. Default 120,000 ms (Deno: 120 s,
   * `idleTimeout`; Bun: 120 s, and Bun sends pings with `sendPings`; `ws`: none).
   */
  readonly idleTimeoutMs?: number;
  /**
   * How long the server waits for the peer's close frame after sending its own, before it closes
   * TCP anyway. Default 5,000 ms (`ws`: 30 s; Deno and Bun: not configurable).
   */
  readonly closeTimeoutMs?: number;
  /**
   * permessage-deflate (RFC 7692): `true` for the defaults, or the parameters. Default off (Bun:
   * off; `ws`: off since version 8; Deno: not supported).
   */
  readonly compression?: boolean | DeflateOptions;
  /** Whether pings are answered with pongs by the server itself. Default true (as everywhere). */
  readonly autoPong?: boolean;
  /**
   * The send high-water mark in bytes: the stream interface's writes wait while more than this
   * much is buffered, and `bufferedAmount` above it means the peer is slow. Default 1 MiB
   * (Bun: `backpressureLimit`, 16 MiB; Deno and `ws`: none, the buffer grows without bound).
   */
  readonly sendHighWaterMark?: number;
  /**
   * The stream interface's receive high-water mark, in messages: when this many wait unread, the
   * server stops reading from the socket until the reader takes one. Default 16 (Deno, Bun,
   * `ws`: no inbound flow control).
   */
  readonly receiveHighWaterMark?: number;
}

/** The options with every default filled in. */
export interface ResolvedWebSocketOptions {
  readonly maxMessageBytes: number;
  readonly maxFrameBytes: number;
  readonly idleTimeoutMs: number;
  readonly closeTimeoutMs: number;
  /** permessage-deflate's wishes, its threshold filled in, or `null` for off. */
  readonly compression: (DeflateOptions & { readonly threshold: number }) | null;
  readonly autoPong: boolean;
  readonly sendHighWaterMark: number;
  readonly receiveHighWaterMark: number;
}

/**
 * The options with their defaults, each checked.
 *
 * @param options What the caller gave.
 * @returns Every option.
 * @throws {RangeError} For an option out of its range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveWebSocketOptions } from "./options.ts";
 *
 * assert.equal(resolveWebSocketOptions({}).maxMessageBytes, 16 * 1024 * 1024);
 * assert.throws(() => resolveWebSocketOptions({ closeTimeoutMs: -1 }), RangeError);
 * ```
 */
export function resolveWebSocketOptions(options: UpgradeWebSocketOptions): ResolvedWebSocketOptions {
  const maxMessageBytes = count("maxMessageBytes", options.maxMessageBytes, 16 * 1024 * 1024, 1);
  const compression = options.compression === true ? {} : options.compression || null;
  if (compression !== null) {
    windowBits("serverMaxWindowBits", compression.serverMaxWindowBits);
    windowBits("clientMaxWindowBits", compression.clientMaxWindowBits);
  }
  return {
    maxMessageBytes,
    maxFrameBytes: count("maxFrameBytes", options.maxFrameBytes, maxMessageBytes, 1),
    idleTimeoutMs: count("idleTimeoutMs", options.idleTimeoutMs, 120_000, 0),
    closeTimeoutMs: count("closeTimeoutMs", options.closeTimeoutMs, 5_000, 0),
    compression: compression === null ? null : { ...compression, threshold: compression.threshold ?? 1024 },
    autoPong: options.autoPong ?? true,
    sendHighWaterMark: count("sendHighWaterMark", options.sendHighWaterMark, 1024 * 1024, 1),
    receiveHighWaterMark: count("receiveHighWaterMark", options.receiveHighWaterMark, 16, 1),
  };
}

function windowBits(name: string, bits: number | undefined): void {
  if (bits !== undefined && (!Number.isInteger(bits) || bits < 9 || bits > 15)) {
    throw new RangeError(`compression.${name} must be an integer from 9 to 15`);
  }
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer of ${min} or more`);
  }
  return value;
}
