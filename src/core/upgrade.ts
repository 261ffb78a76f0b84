/**
 * The hand-off of a connection to another protocol (RFC 9110 §7.8, §15.2.2): when a request may
 * be answered with `101 Switching Protocols`, and the 101's head. `ServerConnection.switchProtocols`
 * uses it; after the 101 the connection speaks the new protocol, and HTTP parsing stops.
 *
 * @module
 */

import { hasListElement, isNamed } from "./_bytes.ts";
import { LocalProtocolError } from "./errors.ts";
import { eachField, type HeaderFields } from "./framing.ts";
import type { RequestHead } from "./parser.ts";
import { encodeHead, fieldLine } from "./serializer.ts";

/**
 * What `ServerConnection.switchProtocols` returns: the 101 head to send, and the bytes that
 * arrived after the request's head, which belong to the new protocol.
 *
 * @example
 * ```ts
 * import type { SwitchedProtocols } from "./upgrade.ts";
 *
 * const switched: SwitchedProtocols = { head: new Uint8Array(0), rest: new Uint8Array(0) };
 * ```
 */
export interface SwitchedProtocols {
  /** The `101 Switching Protocols` head. */
  readonly head: Uint8Array;
  /** Received bytes after the request's head (already pipelined data of the new protocol). */
  readonly rest: Uint8Array;
}

/**
 * The head of a 101 answer to `request`, after checking that the request may be switched: it
 * asked for an upgrade (so it is HTTP/1.1, and not CONNECT), its body is wholly read, and the
 * answer names the protocol in an `Upgrade` field that the request offered. `Connection: upgrade`
 * is added; a Connection, Content-Length or Transfer-Encoding field given is refused.
 *
 * @param request The request being answered.
 * @param bodyRead Whether the request's body (if any) has been read to its end.
 * @param headers The 101's fields.
 * @returns The head's bytes.
 * @throws {LocalProtocolError} `INVALID_STATUS` when the request cannot be switched, and
 *   `INVALID_FIELD` for a field that cannot be sent or a missing or unoffered Upgrade.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { switchingProtocolsHead } from "./upgrade.ts";
 *
 * const request = { version: "HTTP/1.1", upgrade: "websocket" } as const;
 * const head = switchingProtocolsHead(request, true, [["Upgrade", "websocket"]]);
 * assert.equal(new TextDecoder().decode(head), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nconnection: upgrade\r\n\r\n");
 * assert.throws(() => switchingProtocolsHead({ ...request, upgrade: null }, true, [["Upgrade", "websocket"]]));
 * ```
 */
export function switchingProtocolsHead(
  request: Pick<RequestHead, "version" | "upgrade">,
  bodyRead: boolean,
  headers: Iterable<readonly [string, string]> | HeaderFields,
): Uint8Array {
  if (request.version !== "HTTP/1.1") {
    throw new LocalProtocolError("INVALID_STATUS", "101 Switching Protocols needs an HTTP/1.1 request");
  }
  if (request.upgrade === null) {
    throw new LocalProtocolError(
      "INVALID_STATUS",
      "101 Switching Protocols answers only a request that asks for an upgrade",
    );
  }
  if (!bodyRead) {
    throw new LocalProtocolError(
      "INVALID_STATUS",
      "101 Switching Protocols with the request's body not read yet",
    );
  }
  let lines = "";
  let upgrade: string | null = null;
  eachField(headers, (value, name) => {
    const line = fieldLine(name, value); // a valid token from here on, as isNamed needs
    if (
      isNamed(name, "connection") || isNamed(name, "content-length") || isNamed(name, "transfer-encoding")
    ) {
      throw new LocalProtocolError("INVALID_FIELD", `a 101 response sets no ${name} field of its own`);
    }
    if (isNamed(name, "upgrade")) upgrade = value;
    lines += line;
  });
  const offered = request.upgrade;
  if (upgrade === null || !namesOffered(upgrade, offered)) {
    throw new LocalProtocolError(
      "INVALID_FIELD",
      "a 101 response names one of the offered protocols in Upgrade",
    );
  }
  return encodeHead(`HTTP/1.1 101 Switching Protocols\r\n${lines}connection: upgrade\r\n\r\n`);
}

/** Whether every protocol that a 101's `Upgrade` names is one the request offered. */
function namesOffered(upgrade: string, offered: string): boolean {
  if (!upgrade.includes(",")) {
    // The usual case, one protocol: no list is made.
    const protocol = asciiLower(upgrade.trim());
    return protocol !== "" && hasListElement(offered, protocol);
  }
  let named = false;
  for (const item of upgrade.split(",")) {
    const protocol = asciiLower(item.trim());
    if (protocol === "") continue;
    if (!hasListElement(offered, protocol)) return false;
    named = true;
  }
  return named;
}

/** `text` with A–Z in lower case, and nothing else changed (the same string when it has none). */
function asciiLower(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase()) : text;
}
