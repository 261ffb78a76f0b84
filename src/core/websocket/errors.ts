/**
 * Why a WebSocket connection fails (RFC 6455 §7.1.7): every violation by the peer, with the close
 * code the server sends for it, a stable name, the RFC section it enforces and the offset in the
 * connection's input (counted from the first byte after the upgrade request's head) where reading
 * stopped.
 *
 * @module
 */

/**
 * Every reason the WebSocket engine fails a connection, with its close code and rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WEBSOCKET_ERRORS } from "./errors.ts";
 *
 * assert.equal(WEBSOCKET_ERRORS.UNMASKED_FRAME.closeCode, 1002);
 * assert.equal(WEBSOCKET_ERRORS.INVALID_UTF8.closeCode, 1007);
 * assert.equal(WEBSOCKET_ERRORS.MESSAGE_TOO_BIG.closeCode, 1009);
 * ```
 */
export const WEBSOCKET_ERRORS = {
  UNMASKED_FRAME: { closeCode: 1002, rfc: "RFC 6455 §5.1", message: "client frame without a mask" },
  RESERVED_BITS: { closeCode: 1002, rfc: "RFC 6455 §5.2", message: "reserved bits set without an extension" },
  RESERVED_OPCODE: { closeCode: 1002, rfc: "RFC 6455 §5.2", message: "reserved opcode" },
  BAD_LENGTH: {
    closeCode: 1002,
    rfc: "RFC 6455 §5.2",
    message: "64-bit payload length with the high bit set",
  },
  CONTROL_TOO_LONG: { closeCode: 1002, rfc: "RFC 6455 §5.5", message: "control frame longer than 125 bytes" },
  CONTROL_FRAGMENTED: { closeCode: 1002, rfc: "RFC 6455 §5.5", message: "fragmented control frame" },
  UNEXPECTED_CONTINUATION: {
    closeCode: 1002,
    rfc: "RFC 6455 §5.4",
    message: "continuation frame without a message to continue",
  },
  MESSAGE_NOT_FINISHED: {
    closeCode: 1002,
    rfc: "RFC 6455 §5.4",
    message: "new data frame before the fragmented message ended",
  },
  BAD_CLOSE_PAYLOAD: {
    closeCode: 1002,
    rfc: "RFC 6455 §5.5.1",
    message: "close frame with a 1-byte payload",
  },
  BAD_CLOSE_CODE: { closeCode: 1002, rfc: "RFC 6455 §7.4", message: "invalid close status code" },
  INVALID_UTF8: { closeCode: 1007, rfc: "RFC 6455 §8.1", message: "text is not valid UTF-8" },
  BAD_COMPRESSED_DATA: {
    closeCode: 1007,
    rfc: "RFC 7692 §6.2",
    message: "compressed message that does not inflate",
  },
  MESSAGE_TOO_BIG: { closeCode: 1009, rfc: "RFC 6455 §7.4.1", message: "message larger than the limit" },
  FRAME_TOO_BIG: { closeCode: 1009, rfc: "RFC 6455 §7.4.1", message: "frame larger than the limit" },
  INCOMPLETE_FRAME: {
    closeCode: 1006,
    rfc: "RFC 6455 §7.1.5",
    message: "the peer left in the middle of a message",
  },
} as const;

/**
 * The stable name of a WebSocket failure, such as `"UNMASKED_FRAME"`.
 *
 * @example
 * ```ts
 * import type { WebSocketErrorCode } from "./errors.ts";
 *
 * const code: WebSocketErrorCode = "INVALID_UTF8";
 * ```
 */
export type WebSocketErrorCode = keyof typeof WEBSOCKET_ERRORS;

/**
 * A WebSocket protocol violation by the peer, with the close code to send for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketError } from "./errors.ts";
 *
 * const error = new WebSocketError("RESERVED_OPCODE", 7);
 * assert.deepEqual([error.closeCode, error.rfc, error.offset], [1002, "RFC 6455 §5.2", 7]);
 * ```
 */
export class WebSocketError extends Error {
  /** Stable code. */
  readonly code: WebSocketErrorCode;
  /** The close code sent for it (1002, 1007 or 1009; 1006 when the peer left and nothing is sent). */
  readonly closeCode: number;
  /** The RFC section the failure enforces. */
  readonly rfc: string;
  /** Offset in the connection's input, after the upgrade head, where reading stopped. */
  readonly offset: number;

  /**
   * Creates the error for one violation.
   * @param code Which violation.
   * @param offset Where reading stopped.
   */
  constructor(code: WebSocketErrorCode, offset: number) {
    const entry = WEBSOCKET_ERRORS[code];
    super(entry.message);
    this.name = "WebSocketError";
    this.code = code;
    this.closeCode = entry.closeCode;
    this.rfc = entry.rfc;
    this.offset = offset;
  }
}

/**
 * Whether a close frame may carry this status code (RFC 6455 §7.4.1, §7.4.2, and the IANA
 * registry): 1000–1003, 1007–1014 and 3000–4999. 1004–1006 and 1015 are never sent in a frame;
 * 0–999 are unused, and 1016–2999 are reserved for future protocol use.
 *
 * @param code The status code.
 * @returns Whether a close frame may carry it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidCloseCode } from "./errors.ts";
 *
 * assert.deepEqual([1000, 1005, 1014, 1015, 2999, 3000, 4999, 5000].map(isValidCloseCode), [
 *   true, false, true, false, false, true, true, false,
 * ]);
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
