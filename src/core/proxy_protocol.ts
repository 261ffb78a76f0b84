/**
 * The PROXY protocol, versions 1 and 2 (HAProxy's specification, "proxy-protocol.txt"), sans-I/O:
 * the header that a proxy or load balancer sends first on a connection, naming the client it came
 * from. {@link ProxyHeaderParser} is fed the connection's first bytes, in as many pieces as they
 * arrive, and gives the header and how many bytes it took, or a {@link ProxyProtocolError} with the
 * offset where the header broke the rules. What follows the header is the connection's HTTP.
 *
 * The specification asks senders to send the header at once and lets receivers drop a connection
 * whose header arrives in pieces; this parser takes a few pieces (TCP may split a segment) and
 * fails a header that trickles in over more than {@link ProxyHeaderLimits.maxPieces} reads.
 *
 * @module
 */

/**
 * An address a PROXY header names: TCP over IPv4 or IPv6, or a unix socket; the shapes of the
 * transport's `NetAddr` and `UnixAddr`.
 *
 * @example
 * ```ts
 * import type { ProxyAddr } from "./proxy_protocol.ts";
 *
 * const client: ProxyAddr = { transport: "tcp", hostname: "203.0.113.7", port: 5555 };
 * ```
 */
export type ProxyAddr =
  | { readonly transport: "tcp"; readonly hostname: string; readonly port: number }
  | { readonly transport: "unix"; readonly path: string };

/**
 * A type-length-value field of a version 2 header, kept as it came (not interpreted).
 *
 * @example
 * ```ts
 * import type { ProxyTlv } from "./proxy_protocol.ts";
 *
 * const authority: ProxyTlv = { type: 0x02, value: new TextEncoder().encode("example.test") };
 * ```
 */
export interface ProxyTlv {
  /** The type byte (`0x01` ALPN, `0x02` authority, `0x20` SSL… as the specification lists them). */
  readonly type: number;
  /** The value bytes. */
  readonly value: Uint8Array;
}

/**
 * A parsed PROXY header.
 *
 * @example
 * ```ts
 * import type { ProxyHeader } from "./proxy_protocol.ts";
 *
 * const describe = (header: ProxyHeader) => header.source?.transport ?? "the proxy itself";
 * ```
 */
export interface ProxyHeader {
  /** 1 (the text form) or 2 (the binary form). */
  readonly version: 1 | 2;
  /**
   * The client and the address it connected to, or `null` for both when the header names none: a
   * version 2 `LOCAL` command (the proxy's own health check), an unspecified family, or version 1's
   * `UNKNOWN`. The connection's own addresses apply then.
   */
  readonly source: ProxyAddr | null;
  /** The address the client connected to, on the proxy. */
  readonly destination: ProxyAddr | null;
  /** Version 2's TLVs, in order; empty for version 1. */
  readonly tlvs: readonly ProxyTlv[];
}

/**
 * Every way a PROXY header can be refused, with the rule it breaks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROXY_PROTOCOL_ERRORS } from "./proxy_protocol.ts";
 *
 * assert.match(PROXY_PROTOCOL_ERRORS.MISSING.message, /no PROXY protocol header/);
 * ```
 */
export const PROXY_PROTOCOL_ERRORS = {
  MISSING: { rfc: "PROXY protocol §2", message: "no PROXY protocol header at the start of the connection" },
  V1_MALFORMED: { rfc: "PROXY protocol §2.1", message: "malformed PROXY protocol version 1 header" },
  V1_TOO_LONG: { rfc: "PROXY protocol §2.1", message: "PROXY protocol version 1 header over 107 bytes" },
  V2_VERSION: { rfc: "PROXY protocol §2.2", message: "PROXY protocol version 2 header of another version" },
  V2_COMMAND: {
    rfc: "PROXY protocol §2.2",
    message: "PROXY protocol version 2 header with an unknown command",
  },
  V2_FAMILY: {
    rfc: "PROXY protocol §2.2",
    message: "PROXY protocol version 2 header with an unknown family",
  },
  V2_ADDRESSES: { rfc: "PROXY protocol §2.2", message: "PROXY protocol version 2 addresses cut short" },
  V2_TLV: { rfc: "PROXY protocol §2.2.7", message: "PROXY protocol version 2 TLV past the header's end" },
  V2_TOO_LONG: { rfc: "PROXY protocol §2.2", message: "PROXY protocol version 2 header over the size limit" },
  FRAGMENTED: { rfc: "PROXY protocol §2", message: "PROXY protocol header sent in too many pieces" },
  TRUNCATED: { rfc: "PROXY protocol §2", message: "the connection ended inside the PROXY protocol header" },
} as const;

/**
 * The stable name of a PROXY header failure, such as `"V1_MALFORMED"`.
 *
 * @example
 * ```ts
 * import type { ProxyProtocolErrorCode } from "./proxy_protocol.ts";
 *
 * const code: ProxyProtocolErrorCode = "MISSING";
 * ```
 */
export type ProxyProtocolErrorCode = keyof typeof PROXY_PROTOCOL_ERRORS;

/**
 * A refused PROXY header: the connection is to be closed, with no answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProxyProtocolError } from "./proxy_protocol.ts";
 *
 * const error = new ProxyProtocolError("V2_VERSION", 12);
 * assert.deepEqual([error.code, error.offset, error.rfc], ["V2_VERSION", 12, "PROXY protocol §2.2"]);
 * ```
 */
export class ProxyProtocolError extends Error {
  /** Stable code. */
  readonly code: ProxyProtocolErrorCode;
  /** The section of the specification the header breaks. */
  readonly rfc: string;
  /** Offset in the connection's input where parsing stopped. */
  readonly offset: number;

  /**
   * Creates the error for one rule.
   * @param code Which rule.
   * @param offset Where parsing stopped.
   */
  constructor(code: ProxyProtocolErrorCode, offset: number) {
    super(PROXY_PROTOCOL_ERRORS[code].message);
    this.name = "ProxyProtocolError";
    this.code = code;
    this.rfc = PROXY_PROTOCOL_ERRORS[code].rfc;
    this.offset = offset;
  }
}

/**
 * The parser's limits.
 *
 * @example
 * ```ts
 * import type { ProxyHeaderLimits } from "./proxy_protocol.ts";
 *
 * const limits: ProxyHeaderLimits = { maxPieces: 4, maxV2Bytes: 4096 };
 * ```
 */
export interface ProxyHeaderLimits {
  /** Reads a header may take before it is complete. @default {4} */
  readonly maxPieces?: number;
  /** Largest version 2 header, its 16 fixed bytes included. @default {4096} */
  readonly maxV2Bytes?: number;
}

/** Version 2's twelve-byte signature. */
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** Version 1's longest header, CRLF included (§2.1). */
const V1_MAX_BYTES = 107;
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
/** The address block of each version 2 family: INET, INET6, UNIX. */
const V2_ADDRESS_BYTES = [0, 12, 36, 216];

/**
 * The outcome of {@link ProxyHeaderParser.push}: more bytes needed, or the header and how many
 * bytes of the array given last it took (the rest is the connection's).
 *
 * @example
 * ```ts
 * import type { ProxyParseResult } from "./proxy_protocol.ts";
 *
 * const more: ProxyParseResult = { header: null, consumed: 0 };
 * ```
 */
export type ProxyParseResult =
  | { readonly header: null; readonly consumed: number }
  | { readonly header: ProxyHeader; readonly consumed: number };

/**
 * Reads the PROXY header at the start of one connection.
 *
 * @example A version 1 header, then the request
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProxyHeaderParser } from "./proxy_protocol.ts";
 *
 * const parser = new ProxyHeaderParser();
 * const bytes = new TextEncoder().encode("PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\nGET / HTTP/1.1\r\n");
 * const { header, consumed } = parser.push(bytes);
 * assert.deepEqual(header?.source, { transport: "tcp", hostname: "203.0.113.7", port: 5555 });
 * assert.equal(new TextDecoder().decode(bytes.subarray(consumed)), "GET / HTTP/1.1\r\n");
 * ```
 */
export class ProxyHeaderParser {
  readonly #maxPieces: number;
  readonly #maxV2Bytes: number;
  /** The header's bytes so far, from earlier pieces. */
  #held: Uint8Array = new Uint8Array(0);
  #pieces = 0;
  #done = false;

  /**
   * Makes a parser for one connection.
   * @param limits The parser's limits.
   */
  constructor(limits: ProxyHeaderLimits = {}) {
    this.#maxPieces = limits.maxPieces ?? 4;
    this.#maxV2Bytes = limits.maxV2Bytes ?? 4096;
  }

  /**
   * Takes the next bytes of the connection.
   * @param bytes The bytes, as they arrived.
   * @returns The header once it is complete, with the bytes of `bytes` it took.
   * @throws {ProxyProtocolError} For a header that breaks the rules, or that takes too many pieces.
   */
  push(bytes: Uint8Array): ProxyParseResult {
    if (this.#done || bytes.length === 0) return { header: null, consumed: 0 };
    const heldBefore = this.#held.length;
    const input = heldBefore === 0 ? bytes : join(this.#held, bytes);
    const found = input[0] === 0x50 ? parseV1(input) : input[0] === 0x0d ? this.#v2(input) : missing();
    if (found !== null) {
      this.#done = true;
      this.#held = new Uint8Array(0);
      return { header: found.header, consumed: found.length - heldBefore };
    }
    if (++this.#pieces >= this.#maxPieces) throw new ProxyProtocolError("FRAGMENTED", input.length);
    this.#held = input.slice();
    return { header: null, consumed: bytes.length };
  }

  /**
   * The connection ended.
   * @throws {ProxyProtocolError} `TRUNCATED` when a header was started and not finished, or none came.
   */
  end(): void {
    if (!this.#done) throw new ProxyProtocolError("TRUNCATED", this.#held.length);
  }

  #v2(input: Uint8Array): { header: ProxyHeader; length: number } | null {
    const known = Math.min(input.length, V2_SIGNATURE.length);
    for (let i = 0; i < known; i++) {
      if (input[i] !== V2_SIGNATURE[i]) throw new ProxyProtocolError("MISSING", i);
    }
    if (input.length < 16) return null;
    const version = input[12] >> 4;
    const command = input[12] & 0x0f;
    if (version !== 2) throw new ProxyProtocolError("V2_VERSION", 12);
    if (command > 1) throw new ProxyProtocolError("V2_COMMAND", 12);
    const family = input[13] >> 4;
    const protocol = input[13] & 0x0f;
    if (family > 3 || protocol > 2) throw new ProxyProtocolError("V2_FAMILY", 13);
    const length = 16 + ((input[14] << 8) | input[15]);
    if (length > this.#maxV2Bytes) throw new ProxyProtocolError("V2_TOO_LONG", 14);
    const addressBytes = V2_ADDRESS_BYTES[family];
    if (length < 16 + addressBytes) throw new ProxyProtocolError("V2_ADDRESSES", 14);
    if (input.length < length) return null;
    const tlvs = readTlvs(input, 16 + addressBytes, length);
    // LOCAL, or an unspecified family or protocol: the addresses are not the client's.
    const named = command === 1 && family !== 0 && protocol !== 0;
    const [source, destination] = named ? readV2Addresses(input, family) : [null, null];
    return { header: { version: 2, source, destination, tlvs }, length };
  }
}

function missing(): never {
  throw new ProxyProtocolError("MISSING", 0);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Version 1: `PROXY TCP4|TCP6|UNKNOWN …\r\n`, at most 107 bytes. */
function parseV1(input: Uint8Array): { header: ProxyHeader; length: number } | null {
  const known = Math.min(input.length, V1_PREFIX.length);
  for (let i = 0; i < known; i++) {
    if (input[i] !== V1_PREFIX[i]) throw new ProxyProtocolError(i === 0 ? "MISSING" : "V1_MALFORMED", i);
  }
  const limit = Math.min(input.length, V1_MAX_BYTES);
  let lf = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const byte = input[i];
    if (byte === 0x0a) {
      lf = i;
      break;
    }
    // Printable US-ASCII and the CR before the LF only.
    if ((byte < 0x20 || byte > 0x7e) && byte !== 0x0d) throw new ProxyProtocolError("V1_MALFORMED", i);
  }
  if (lf === -1) {
    if (input.length >= V1_MAX_BYTES) throw new ProxyProtocolError("V1_TOO_LONG", V1_MAX_BYTES);
    return null;
  }
  if (input[lf - 1] !== 0x0d) throw new ProxyProtocolError("V1_MALFORMED", lf);
  let line = "";
  for (let i = V1_PREFIX.length; i < lf - 1; i++) line += String.fromCharCode(input[i]);
  if (line === "UNKNOWN" || line.startsWith("UNKNOWN ")) {
    return { header: { version: 1, source: null, destination: null, tlvs: [] }, length: lf + 1 };
  }
  const fields = line.split(" ");
  // Where each field starts, for the offset of an error; past the last, the CR.
  const starts: number[] = [];
  for (let pos = V1_PREFIX.length, k = 0; k < fields.length; pos += fields[k].length + 1, k++) {
    starts.push(pos);
  }
  const at = (field: number) => starts[field] ?? lf - 1;
  const [family, sourceHost, destinationHost, sourcePort, destinationPort] = fields;
  if (family !== "TCP4" && family !== "TCP6") throw new ProxyProtocolError("V1_MALFORMED", at(0));
  const valid = family === "TCP4" ? isIPv4 : isIPv6;
  // Each field in turn (a missing one fails at the CR), then nothing after the fifth.
  if (sourceHost === undefined || !valid(sourceHost)) throw new ProxyProtocolError("V1_MALFORMED", at(1));
  if (destinationHost === undefined || !valid(destinationHost)) {
    throw new ProxyProtocolError("V1_MALFORMED", at(2));
  }
  const source = portOf(sourcePort ?? "");
  if (source === -1) throw new ProxyProtocolError("V1_MALFORMED", at(3));
  const destination = portOf(destinationPort ?? "");
  if (destination === -1) throw new ProxyProtocolError("V1_MALFORMED", at(4));
  if (fields.length > 5) throw new ProxyProtocolError("V1_MALFORMED", at(5));
  return {
    header: {
      version: 1,
      source: { transport: "tcp", hostname: sourceHost.toLowerCase(), port: source },
      destination: { transport: "tcp", hostname: destinationHost.toLowerCase(), port: destination },
      tlvs: [],
    },
    length: lf + 1,
  };
}

/** A decimal port, 0 to 65535, without leading zeros; -1 if it is not one. */
function portOf(text: string): number {
  if (!/^(?:0|[1-9][0-9]{0,4})$/.test(text)) return -1;
  const port = Number(text);
  return port <= 65535 ? port : -1;
}

/**
 * Whether the text is an IPv4 address in dotted decimal: four numbers from 0 to 255, without
 * leading zeros (which some parsers read as octal).
 *
 * @param text The text.
 * @returns Whether it is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIPv4 } from "./proxy_protocol.ts";
 *
 * assert.deepEqual(["10.0.0.1", "010.0.0.1", "256.1.1.1", "1.2.3"].map(isIPv4), [true, false, false, false]);
 * ```
 */
export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 &&
    parts.every((part) => /^(?:0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255);
}

/**
 * Whether the text is an IPv6 address (RFC 4291 §2.2): eight groups of one to four hex digits, or
 * fewer around one `::`, the last two groups possibly an IPv4 address. No zone (`%eth0`).
 *
 * @param text The text.
 * @returns Whether it is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIPv6 } from "./proxy_protocol.ts";
 *
 * assert.deepEqual(["::1", "2001:db8::7", "::ffff:192.0.2.1", "1::2::3", "fe80::1%eth0"].map(isIPv6), [
 *   true, true, true, false, false,
 * ]);
 * ```
 */
export function isIPv6(text: string): boolean {
  if (text.length > 45) return false;
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i];
    if (i === all.length - 1 && group.includes(".")) {
      if (!isIPv4(group)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** Version 2's TLVs between `start` and `end`. */
function readTlvs(input: Uint8Array, start: number, end: number): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  for (let at = start; at < end;) {
    if (at + 3 > end) throw new ProxyProtocolError("V2_TLV", at);
    const length = (input[at + 1] << 8) | input[at + 2];
    if (at + 3 + length > end) throw new ProxyProtocolError("V2_TLV", at);
    tlvs.push({ type: input[at], value: input.slice(at + 3, at + 3 + length) });
    at += 3 + length;
  }
  return tlvs;
}

/** Version 2's source and destination addresses, for family 1 (INET), 2 (INET6) or 3 (UNIX). */
function readV2Addresses(input: Uint8Array, family: number): [ProxyAddr, ProxyAddr] {
  if (family === 3) {
    return [{ transport: "unix", path: unixPath(input, 16) }, {
      transport: "unix",
      path: unixPath(input, 16 + 108),
    }];
  }
  const size = family === 1 ? 4 : 16;
  const host = (
    at: number,
  ) => (size === 4 ? [...input.subarray(at, at + 4)].join(".") : formatIPv6(input, at));
  const portAt = 16 + 2 * size;
  return [
    { transport: "tcp", hostname: host(16), port: (input[portAt] << 8) | input[portAt + 1] },
    { transport: "tcp", hostname: host(16 + size), port: (input[portAt + 2] << 8) | input[portAt + 3] },
  ];
}

/** A 108-byte, NUL-padded unix socket path. */
function unixPath(input: Uint8Array, at: number): string {
  let path = "";
  for (let i = at; i < at + 108 && input[i] !== 0; i++) path += String.fromCharCode(input[i]);
  return path;
}

/**
 * Sixteen bytes as RFC 5952's text form of an IPv6 address: lowercase, no leading zeros, the
 * longest run of two or more zero groups as `::`, and an IPv4-mapped address as `::ffff:a.b.c.d`.
 *
 * @param bytes The bytes.
 * @param at Where the address starts.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIPv6 } from "./proxy_protocol.ts";
 *
 * const bytes = new Uint8Array(16);
 * bytes[0] = 0x20, bytes[1] = 0x01, bytes[2] = 0x0d, bytes[3] = 0xb8, bytes[15] = 1;
 * assert.equal(formatIPv6(bytes, 0), "2001:db8::1");
 * ```
 */
export function formatIPv6(bytes: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1]);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${[...bytes.subarray(at + 12, at + 16)].join(".")}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const text = groups.map((group) => group.toString(16));
  if (bestStart === -1) return text.join(":");
  return `${text.slice(0, bestStart).join(":")}::${text.slice(bestStart + bestLength).join(":")}`;
}
