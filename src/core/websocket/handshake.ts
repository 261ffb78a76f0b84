/**
 * The server side of the WebSocket opening handshake (RFC 6455 §4.2): checking a client's upgrade
 * request, computing `Sec-WebSocket-Accept`, choosing a subprotocol, and negotiating
 * permessage-deflate (RFC 7692 §7) from the client's offers. It reads a parsed request head and
 * gives the fields of the 101 answer, or the refusal to send instead.
 *
 * @module
 */

import { hasListElement, isNamed, isToken } from "../_bytes.ts";
import type { RequestHead } from "../parser.ts";
import { base64Length, encodeBase64 } from "./_base64.ts";
import { sha1 } from "./_sha1.ts";

/** The GUID that RFC 6455 §1.3 appends to the client's key. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
 *
 * @param key The client's key, as sent.
 * @returns The base64 SHA-1 of the key and the protocol's GUID.
 *
 * @example The example of RFC 6455 §1.3
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptKey } from "./handshake.ts";
 *
 * assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 */
export function acceptKey(key: string): string {
  // The key's characters, then the GUID's, into scratch room (a valid key has 24): no string or
  // array is made of them per handshake.
  const length = key.length + GUID_BYTES.length;
  const bytes = length <= keyScratch.length ? keyScratch.subarray(0, length) : new Uint8Array(length);
  for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  bytes.set(GUID_BYTES, key.length);
  return encodeBase64(sha1(bytes));
}

/** Room for a key and the GUID, reused by every {@link acceptKey}, and the GUID's bytes. */
const keyScratch = new Uint8Array(64);
const GUID_BYTES = Uint8Array.from(WEBSOCKET_GUID, (char) => char.charCodeAt(0));

/**
 * One extension the client offered in `Sec-WebSocket-Extensions` (RFC 6455 §9.1): its name and
 * parameters, a parameter without a value as `true`.
 *
 * @example
 * ```ts
 * import type { ExtensionOffer } from "./handshake.ts";
 *
 * const offer: ExtensionOffer = { name: "permessage-deflate", params: [["client_max_window_bits", true]] };
 * ```
 */
export interface ExtensionOffer {
  /** The extension's name, lower-cased. */
  readonly name: string;
  /** Its parameters in order: name (lower-cased) and value. */
  readonly params: readonly (readonly [string, string | true])[];
}

/**
 * A valid WebSocket upgrade request, as the handshake needs it.
 *
 * @example
 * ```ts
 * import type { WebSocketRequest } from "./handshake.ts";
 *
 * const request: WebSocketRequest = { key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: ["chat"], extensions: [] };
 * ```
 */
export interface WebSocketRequest {
  /** `Sec-WebSocket-Key`. */
  readonly key: string;
  /** The subprotocols offered, in the client's order of preference. */
  readonly protocols: readonly string[];
  /** The extensions offered, in order. */
  readonly extensions: readonly ExtensionOffer[];
}

/**
 * Why a request cannot be upgraded to a WebSocket, with the answer to send: 400, or 426 with
 * `Sec-WebSocket-Version: 13` for another version (RFC 6455 §4.4).
 *
 * @example
 * ```ts
 * import type { HandshakeRefusal } from "./handshake.ts";
 *
 * const refusal: HandshakeRefusal = { status: 400, message: "no Sec-WebSocket-Key", headers: [] };
 * ```
 */
export interface HandshakeRefusal {
  /** The status to answer. */
  readonly status: 400 | 426;
  /** One line saying what is wrong, with no request bytes in it. */
  readonly message: string;
  /** Header fields the answer must carry. */
  readonly headers: readonly (readonly [string, string])[];
}

const refuse = (message: string): HandshakeRefusal => ({ status: 400, message, headers: [] });

/**
 * Checks that a request is a valid WebSocket opening handshake (RFC 6455 §4.2.1): GET, HTTP/1.1,
 * `Upgrade: websocket`, `Connection` listing `upgrade`, one `Sec-WebSocket-Key` that is 16 bytes in
 * base64, and `Sec-WebSocket-Version: 13`.
 *
 * @param head The request head.
 * @returns The key, protocols and extension offers, or the refusal to answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkWebSocketRequest } from "./handshake.ts";
 *
 * const head = {
 *   method: "GET",
 *   version: "HTTP/1.1",
 *   fields: [
 *     "Host", "a", "Upgrade", "websocket", "Connection", "Upgrade",
 *     "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13",
 *   ],
 * } as const;
 * const checked = checkWebSocketRequest(head);
 * assert("key" in checked);
 * assert.equal(checked.key, "dGhlIHNhbXBsZSBub25jZQ==");
 * const old = checkWebSocketRequest({ ...head, fields: [...head.fields.slice(0, 8), "Sec-WebSocket-Version", "8"] });
 * assert("status" in old && old.status === 426);
 * ```
 */
export function checkWebSocketRequest(
  head: Pick<RequestHead, "method" | "version" | "fields">,
): WebSocketRequest | HandshakeRefusal {
  if (head.method !== "GET") return refuse("a WebSocket handshake must be a GET request");
  if (head.version !== "HTTP/1.1") return refuse("a WebSocket handshake needs HTTP/1.1");
  // One pass over the fields, with no array for what appears once (an upgrade runs this per socket).
  let upgrade = false, connection = false, keys = 0, versions = 0, key = "", version = "";
  let protocols: string[] | null = null, extensions: string[] | null = null;
  const fields = head.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i], value = fields[i + 1];
    if (isNamed(name, "upgrade")) upgrade ||= hasListElement(value, "websocket");
    else if (isNamed(name, "connection")) connection ||= hasListElement(value, "upgrade");
    else if (isNamed(name, "sec-websocket-key")) {
      keys++;
      key = value;
    } else if (isNamed(name, "sec-websocket-version")) {
      versions++;
      version = value;
    } else if (isNamed(name, "sec-websocket-protocol")) (protocols ??= []).push(value);
    else if (isNamed(name, "sec-websocket-extensions")) (extensions ??= []).push(value);
  }
  if (!upgrade) return refuse("the request does not ask for Upgrade: websocket");
  if (!connection) return refuse("a WebSocket handshake needs Connection: upgrade");
  if (keys !== 1 || base64Length(key) !== 16) {
    return refuse("Sec-WebSocket-Key must be one 16-byte value in base64");
  }
  if (versions !== 1 || version !== "13") {
    return {
      status: 426,
      message: "only WebSocket version 13 is supported",
      headers: [["sec-websocket-version", "13"]],
    };
  }
  const offered = protocols === null
    ? []
    : protocols.flatMap((value) => value.split(",").map((item) => item.trim())).filter((p) => p !== "");
  if (!offered.every(isToken)) return refuse("Sec-WebSocket-Protocol must list tokens");
  const parsed = extensions === null ? [] : parseExtensions(extensions.join(","));
  if (parsed === null) return refuse("Sec-WebSocket-Extensions is malformed");
  return { key, protocols: offered, extensions: parsed };
}

/**
 * Parses an extension list (RFC 6455 §9.1): `name; param; param=value, name2 …`, where a value is
 * a token or a quoted string whose content is a token.
 *
 * @param value The joined field values.
 * @returns The offers, or `null` when the list is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExtensions } from "./handshake.ts";
 *
 * assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits="10", x-y'), [
 *   { name: "permessage-deflate", params: [["client_max_window_bits", "10"]] },
 *   { name: "x-y", params: [] },
 * ]);
 * assert.equal(parseExtensions("a; =1"), null);
 * ```
 */
export function parseExtensions(value: string): ExtensionOffer[] | null {
  const offers: ExtensionOffer[] = [];
  for (const item of value.split(",")) {
    if (item.trim() === "") continue;
    const [name, ...rawParams] = item.split(";").map((part) => part.trim());
    if (!isToken(name)) return null;
    const params: [string, string | true][] = [];
    for (const raw of rawParams) {
      const equals = raw.indexOf("=");
      const key = (equals === -1 ? raw : raw.slice(0, equals)).trim();
      if (!isToken(key)) return null;
      if (equals === -1) {
        params.push([key.toLowerCase(), true]);
        continue;
      }
      let paramValue = raw.slice(equals + 1).trim();
      if (paramValue.length >= 2 && paramValue.startsWith('"') && paramValue.endsWith('"')) {
        paramValue = paramValue.slice(1, -1);
      }
      if (!isToken(paramValue)) return null;
      params.push([key.toLowerCase(), paramValue]);
    }
    offers.push({ name: name.toLowerCase(), params });
  }
  return offers;
}

/**
 * Chooses the subprotocol: the first one the client offered that the server supports (RFC 6455
 * §4.2.2 leaves the choice to the server; the client's order is its preference).
 *
 * @param offered The client's list.
 * @param supported The server's list.
 * @returns The chosen protocol, or `""` for none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectProtocol } from "./handshake.ts";
 *
 * assert.equal(selectProtocol(["v2.chat", "chat"], ["chat", "v2.chat"]), "v2.chat");
 * assert.equal(selectProtocol(["x"], ["chat"]), "");
 * ```
 */
export function selectProtocol(offered: readonly string[], supported: readonly string[]): string {
  return offered.find((protocol) => supported.includes(protocol)) ?? "";
}
