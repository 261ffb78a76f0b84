/**
 * What a `WebSocketSession` is given and gives: its options, its states, its events and
 * the actions its timeouts ask for.
 *
 * @module
 */

import type { WebSocketError } from "./errors.ts";

/**
 * How a session behaves. Every limit is required here; the glue chooses the defaults.
 *
 * @example
 * ```ts
 * import type { WebSocketSessionOptions } from "./events.ts";
 *
 * const options: WebSocketSessionOptions = {
 *   now: 0,
 *   maxMessageBytes: 1 << 20,
 *   maxFrameBytes: 1 << 20,
 *   idleTimeoutMs: 30_000,
 *   closeTimeoutMs: 5_000,
 * };
 * ```
 */
export interface WebSocketSessionOptions {
  /** The time the session starts, in milliseconds. */
  readonly now: number;
  /** The largest message, after inflating; a larger one fails the connection with 1009. */
  readonly maxMessageBytes: number;
  /** The largest frame payload; a larger one fails the connection with 1009. */
  readonly maxFrameBytes: number;
  /**
   * After this long with nothing received, the session pings the peer, and when another such
   * span passes with nothing received, it gives up on the peer. 0 turns it off.
   */
  readonly idleTimeoutMs: number;
  /** How long to wait for the peer's close frame after sending one, before closing anyway. */
  readonly closeTimeoutMs: number;
  /** Whether to answer each ping with a pong (the default); `false` leaves it to the caller. */
  readonly autoPong?: boolean;
  /** permessage-deflate, when negotiated: the size below which messages are sent uncompressed. */
  readonly deflate?: { readonly threshold: number } | null;
}

/**
 * Where a session stands: `open`, `closing` (the server has sent its close frame and waits for
 * the peer's), or `closed` (the handshake is over, or the connection failed: close TCP once the
 * last bytes are sent).
 *
 * @example
 * ```ts
 * import type { WebSocketState } from "./events.ts";
 *
 * const state: WebSocketState = "open";
 * ```
 */
export type WebSocketState = "open" | "closing" | "closed";

/**
 * What `WebSocketSession.nextEvent` returns. `reply` holds bytes the session decided to
 * send (a pong, the answering close frame, or the close frame of a failure); send them before
 * anything sent later. `inflate` holds a compressed message with its `00 00 ff ff` tail put back:
 * inflate it (to at most `maxBytes`) and hand the result to `WebSocketSession.inflated`.
 *
 * @example
 * ```ts
 * import type { WebSocketEvent } from "./events.ts";
 *
 * function describe(event: WebSocketEvent): string {
 *   return event.type === "message" ? `${event.binary ? "binary" : "text"} of ${event.data.length} bytes` : event.type;
 * }
 * ```
 */
export type WebSocketEvent =
  | { readonly type: "message"; readonly binary: boolean; readonly data: Uint8Array }
  | {
    readonly type: "inflate";
    readonly binary: boolean;
    readonly data: Uint8Array;
    readonly maxBytes: number;
  }
  | { readonly type: "ping"; readonly data: Uint8Array; readonly reply: Uint8Array | null }
  | { readonly type: "pong"; readonly data: Uint8Array }
  | {
    readonly type: "close";
    readonly code: number;
    readonly reason: string;
    readonly wasClean: boolean;
    readonly reply: Uint8Array | null;
  }
  | { readonly type: "error"; readonly error: WebSocketError; readonly reply: Uint8Array | null }
  | { readonly type: "need-data" };

/**
 * What `WebSocketSession.checkTimeout` asks of the caller: nothing, to send a ping (the
 * bytes), or to close TCP now (the close handshake or the peer timed out).
 *
 * @example
 * ```ts
 * import type { WebSocketTimeoutAction } from "./events.ts";
 *
 * const action: WebSocketTimeoutAction = { type: "none" };
 * ```
 */
export type WebSocketTimeoutAction =
  | { readonly type: "none" }
  | { readonly type: "ping"; readonly bytes: Uint8Array }
  | { readonly type: "close" };
