/**
 * permessage-deflate (RFC 7692), the part that needs no zlib: choosing an offer and the
 * parameters to answer with (§5, §7.1). The session frames compressed messages and strips and
 * appends the `00 00 ff ff` tail (§7.2.1, §7.2.2); the glue's codec compresses.
 *
 * @module
 */

import type { ExtensionOffer } from "./handshake.ts";

/**
 * The server's wishes for permessage-deflate.
 *
 * @example
 * ```ts
 * import type { DeflateOptions } from "./permessage_deflate.ts";
 *
 * const options: DeflateOptions = { serverNoContextTakeover: true, threshold: 256 };
 * ```
 */
export interface DeflateOptions {
  /** Compress every message on its own, keeping no window between messages (saves memory). */
  readonly serverNoContextTakeover?: boolean;
  /** Ask the client to compress every message on its own (saves the server's inflate memory). */
  readonly clientNoContextTakeover?: boolean;
  /** The largest LZ77 window the server compresses with, 9–15 (15 by default). */
  readonly serverMaxWindowBits?: number;
  /** The window to ask the client for, 9–15, when the client allows it (not asked by default). */
  readonly clientMaxWindowBits?: number;
  /** Messages shorter than this many bytes are sent uncompressed (1024 by default). */
  readonly threshold?: number;
}

/**
 * The agreed parameters of one connection's permessage-deflate.
 *
 * @example
 * ```ts
 * import type { DeflateParameters } from "./permessage_deflate.ts";
 *
 * const agreed: DeflateParameters = {
 *   serverNoContextTakeover: false,
 *   clientNoContextTakeover: false,
 *   serverMaxWindowBits: 15,
 *   clientMaxWindowBits: 15,
 * };
 * ```
 */
export interface DeflateParameters {
  /** The server starts every message with an empty window. */
  readonly serverNoContextTakeover: boolean;
  /** The client starts every message with an empty window. */
  readonly clientNoContextTakeover: boolean;
  /** The window bits the server compresses with. */
  readonly serverMaxWindowBits: number;
  /** The most window bits the client compresses with. */
  readonly clientMaxWindowBits: number;
}

/**
 * The result of a negotiation: the parameters and the `Sec-WebSocket-Extensions` value to answer.
 *
 * @example
 * ```ts
 * import type { DeflateAgreement } from "./permessage_deflate.ts";
 *
 * const none: DeflateAgreement | null = null;
 * ```
 */
export interface DeflateAgreement {
  /** The agreed parameters. */
  readonly parameters: DeflateParameters;
  /** The extension's answer, such as `permessage-deflate; server_no_context_takeover`. */
  readonly header: string;
}

/** A window-bits value as RFC 7692 §7.1.2 allows it: 1*DIGIT from 8 to 15, no leading zero. */
function windowBits(value: string | true): number {
  return value !== true && /^(8|9|1[0-5])$/.test(value) ? Number(value) : NaN;
}

/**
 * Chooses the first permessage-deflate offer the server can accept (RFC 7692 §5), and the
 * parameters to answer with. An offer is declined when it has an unknown, repeated or invalid
 * parameter, or when it asks for an 8-bit server window (zlib's raw DEFLATE starts at 9).
 *
 * @param offers The client's extension offers, in order.
 * @param options The server's wishes.
 * @returns The agreement, or `null` to answer without the extension.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { negotiateDeflate } from "./permessage_deflate.ts";
 *
 * const offers = [
 *   { name: "permessage-deflate", params: [["server_max_window_bits", "8"]] as const },
 *   { name: "permessage-deflate", params: [["client_max_window_bits", true]] as const },
 * ];
 * const agreed = negotiateDeflate(offers, { clientMaxWindowBits: 12 });
 * assert.equal(agreed?.header, "permessage-deflate; client_max_window_bits=12");
 * assert.equal(negotiateDeflate([{ name: "x-webkit-deflate-frame", params: [] }], {}), null);
 * ```
 */
export function negotiateDeflate(
  offers: readonly ExtensionOffer[],
  options: DeflateOptions,
): DeflateAgreement | null {
  for (const offer of offers) {
    if (offer.name !== "permessage-deflate") continue;
    const agreed = acceptOffer(offer, options);
    if (agreed !== null) return agreed;
  }
  return null;
}

function acceptOffer(offer: ExtensionOffer, options: DeflateOptions): DeflateAgreement | null {
  const seen = new Set<string>();
  let serverNoContextTakeover = options.serverNoContextTakeover === true;
  let serverBits = options.serverMaxWindowBits ?? 15;
  let clientBitsAllowed = false;
  let clientBits = 15;
  for (const [name, value] of offer.params) {
    if (seen.has(name)) return null;
    seen.add(name);
    if (name === "server_no_context_takeover" || name === "client_no_context_takeover") {
      if (value !== true) return null;
      if (name === "server_no_context_takeover") serverNoContextTakeover = true;
    } else if (name === "server_max_window_bits") {
      const bits = windowBits(value);
      if (Number.isNaN(bits) || bits < 9) return null;
      serverBits = Math.min(serverBits, bits);
    } else if (name === "client_max_window_bits") {
      clientBitsAllowed = true;
      if (value !== true) {
        clientBits = windowBits(value);
        if (Number.isNaN(clientBits)) return null;
      }
    } else {
      return null;
    }
  }
  const parts = ["permessage-deflate"];
  if (serverNoContextTakeover) parts.push("server_no_context_takeover");
  const clientNoContextTakeover = options.clientNoContextTakeover === true;
  if (clientNoContextTakeover) parts.push("client_no_context_takeover");
  if (seen.has("server_max_window_bits") || serverBits < 15) {
    parts.push(`server_max_window_bits=${serverBits}`);
  }
  if (clientBitsAllowed && options.clientMaxWindowBits !== undefined) {
    clientBits = Math.min(clientBits, options.clientMaxWindowBits);
    parts.push(`client_max_window_bits=${clientBits}`);
  }
  return {
    parameters: {
      serverNoContextTakeover,
      clientNoContextTakeover,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    },
    header: parts.join("; "),
  };
}
