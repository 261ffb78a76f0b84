/**
 * Trusted forwarding, sans-I/O: which client a request came from when proxies in front of the server
 * say so in `X-Forwarded-For` or `Forwarded` (RFC 7239). The fields are believed only as far as the
 * hops that added them are trusted: the walk starts at the peer and goes from the right of the list
 * (the hop nearest the server) to the left, and stops at the first hop that is not trusted: that one
 * is the client. A peer that is not trusted is the client itself, whatever it sends.
 *
 * What is trusted is a list of addresses and CIDR blocks (IPv4 and IPv6), or a count of the proxies
 * in front (the peer and the hops after it, from the right).
 *
 * @module
 */

import { isIPv4, isIPv6 } from "./proxy_protocol.ts";

/**
 * Which hops are trusted: addresses and CIDR blocks such as `"10.0.0.0/8"`, `"::1"`, or the number
 * of proxies in front of the server.
 *
 * @example
 * ```ts
 * import type { TrustProxy } from "./forwarded.ts";
 *
 * const behindNginx: TrustProxy = ["127.0.0.1", "10.0.0.0/8"];
 * const behindOneBalancer: TrustProxy = 1;
 * ```
 */
export type TrustProxy = readonly string[] | number;

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6), or `null` for what is not an address. */
function addressBytes(text: string): Uint8Array | null {
  if (isIPv4(text)) {
    return new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...text.split(".").map(Number)]);
  }
  if (!isIPv6(text)) return null;
  const [head, tail = null] = text.split("::");
  const groups = (half: string) => {
    const out: number[] = [];
    for (const group of half === "" ? [] : half.split(":")) {
      if (group.includes(".")) {
        const [a, b, c, d] = group.split(".").map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const left = groups(head);
  const right = tail === null ? [] : groups(tail);
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/**
 * Checks addresses against a list of trusted addresses and CIDR blocks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrustedAddresses } from "./forwarded.ts";
 *
 * const trusted = new TrustedAddresses(["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]);
 * assert.deepEqual(["10.1.2.3", "11.0.0.1", "2001:db8::5", "::ffff:127.0.0.1"].map((a) => trusted.has(a)), [
 *   true, false, true, true,
 * ]);
 * ```
 */
export class TrustedAddresses {
  readonly #blocks: { bytes: Uint8Array; bits: number }[] = [];

  /**
   * Makes the list.
   * @param list Addresses and CIDR blocks (`a.b.c.d/n`, `x::y/n`).
   * @throws {TypeError} For an entry that is neither.
   */
  constructor(list: readonly string[]) {
    for (const entry of list) {
      const [address, prefix, extra] = entry.trim().split("/");
      const bytes = addressBytes(address);
      const v4 = isIPv4(address);
      const max = v4 ? 32 : 128;
      const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (bytes === null || extra !== undefined || !(bits >= 0 && bits <= max)) {
        throw new TypeError(`trustProxy: ${JSON.stringify(entry)} is not an IP address or CIDR block`);
      }
      this.#blocks.push({ bytes, bits: v4 ? bits + 96 : bits });
    }
  }

  /**
   * Whether an address is in the list.
   * @param address An IPv4 or IPv6 address (IPv4-mapped IPv6 counts as IPv4).
   * @returns Whether it is trusted; `false` for what is not an address.
   */
  has(address: string): boolean {
    const bytes = addressBytes(address);
    if (bytes === null) return false;
    return this.#blocks.some(({ bytes: block, bits }) => {
      for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
        const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
        if ((bytes[i] & mask) !== (block[i] & mask)) return false;
      }
      return true;
    });
  }
}

/**
 * One hop a forwarding field names: the address (or `null` for `unknown`, an obfuscated name or
 * garbage), the port if given, and, from `Forwarded`, its `proto` and `host`.
 *
 * @example
 * ```ts
 * import type { ForwardedHop } from "./forwarded.ts";
 *
 * const hop: ForwardedHop = { address: "203.0.113.7", port: 5555, proto: "https", host: null };
 * ```
 */
export interface ForwardedHop {
  /** The hop's IP address, or `null` when it names none that can be trusted or reached. */
  readonly address: string | null;
  /** The port, or `null`. */
  readonly port: number | null;
  /** `Forwarded`'s `proto=`, lowercased, or `null`. */
  readonly proto: string | null;
  /** `Forwarded`'s `host=`, or `null`. */
  readonly host: string | null;
}

/**
 * The hops of `X-Forwarded-For` field values, left to right: addresses, each possibly with a port
 * (`1.2.3.4:80`, `[::1]:80`). Anything else is a hop with no address.
 *
 * @param values The field's values, in order (several fields make one list, RFC 9110 §5.3).
 * @returns The hops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXForwardedFor } from "./forwarded.ts";
 *
 * const hops = parseXForwardedFor(["203.0.113.7, 10.0.0.2", "[2001:db8::1]:443"]);
 * assert.deepEqual(hops.map((hop) => hop.address), ["203.0.113.7", "10.0.0.2", "2001:db8::1"]);
 * ```
 */
export function parseXForwardedFor(values: readonly string[]): ForwardedHop[] {
  const hops: ForwardedHop[] = [];
  for (const value of values) {
    for (const item of value.split(",")) hops.push({ ...node(item.trim()), proto: null, host: null });
  }
  return hops;
}

/**
 * The hops of `Forwarded` field values (RFC 7239 §4), left to right: each element's `for=` node, with
 * its `proto=` and `host=`. An element without `for=`, or one that does not parse, is a hop with no
 * address, so that nothing left of it is believed.
 *
 * @param values The field's values, in order.
 * @returns The hops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseForwarded } from "./forwarded.ts";
 *
 * const [hop] = parseForwarded(['for="[2001:db8::7]:5555";proto=https;host=app.test']);
 * assert.deepEqual(hop, { address: "2001:db8::7", port: 5555, proto: "https", host: "app.test" });
 * ```
 */
export function parseForwarded(values: readonly string[]): ForwardedHop[] {
  const hops: ForwardedHop[] = [];
  for (const value of values) {
    for (const element of splitOutsideQuotes(value, ",")) {
      const pairs = new Map<string, string>();
      let valid = true;
      for (const pair of splitOutsideQuotes(element, ";")) {
        const match =
          /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)=("(?:[^"\\]|\\.)*"|[A-Za-z0-9!#$%&'*+.^_`|~:\[\]-]+)\s*$/
            .exec(pair);
        if (match === null) {
          if (pair.trim() !== "") valid = false;
          continue;
        }
        const raw = match[2];
        const text = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
        pairs.set(match[1].toLowerCase(), text);
      }
      const forValue = valid ? pairs.get("for") : undefined;
      hops.push({
        ...(forValue === undefined ? { address: null, port: null } : node(forValue)),
        proto: valid ? pairs.get("proto")?.toLowerCase() ?? null : null,
        host: valid ? pairs.get("host") ?? null : null,
      });
    }
  }
  return hops;
}

/** A node: `a.b.c.d`, `a.b.c.d:port`, `[v6]`, `[v6]:port`, or a bare v6 address (X-Forwarded-For). */
function node(text: string): { address: string | null; port: number | null } {
  let host = text;
  let portText: string | null = null;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2] ?? null;
  } else if (/^[\d.]+:\d{1,5}$/.test(text)) {
    [host, portText] = text.split(":");
  }
  const port = portText === null ? null : Number(portText);
  if (port !== null && port > 65535) return { address: null, port: null };
  if (isIPv4(host)) return { address: host, port };
  if (isIPv6(host)) return { address: host.toLowerCase(), port };
  return { address: null, port: null };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\" && quoted) i++;
    else if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Which hop is the client: the peer when it is not trusted; else the hops from the right, past each
 * trusted one, to the first that is not trusted (or that names no address: nothing left of a hop that
 * cannot be checked is believed); the leftmost when all are trusted.
 *
 * @param peer The peer's address (the connection's, or the PROXY header's client).
 * @param hops The hops the forwarding field names, left to right.
 * @param trust Trusted addresses, or the number of proxies in front.
 * @returns The client's hop (`null` when it is the peer itself).
 *
 * @example A spoofed entry left of the real client is never reached
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientHop, parseXForwardedFor, TrustedAddresses } from "./forwarded.ts";
 *
 * const trusted = new TrustedAddresses(["127.0.0.1"]);
 * const hops = parseXForwardedFor(["6.6.6.6, 203.0.113.7"]); // the client sent "6.6.6.6"
 * assert.equal(clientHop("127.0.0.1", hops, trusted)?.address, "203.0.113.7");
 * assert.equal(clientHop("198.51.100.1", hops, trusted), null); // an untrusted peer is the client
 * ```
 */
export function clientHop(
  peer: string,
  hops: readonly ForwardedHop[],
  trust: TrustedAddresses | number,
): ForwardedHop | null {
  if (typeof trust !== "number" && !trust.has(peer)) return null;
  return clientHopBehind(hops, trust);
}

/**
 * The client's hop when the peer is known to be a trusted proxy (a unix socket's peer, say): the
 * walk of {@link clientHop} after its check of the peer.
 *
 * @param hops The hops the forwarding field names, left to right.
 * @param trust Trusted addresses, or the number of proxies in front.
 * @returns The client's hop (`null` when it is the peer itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientHopBehind, parseXForwardedFor, TrustedAddresses } from "./forwarded.ts";
 *
 * const hops = parseXForwardedFor(["203.0.113.7, 10.0.0.2"]);
 * assert.equal(clientHopBehind(hops, new TrustedAddresses(["10.0.0.0/8"]))?.address, "203.0.113.7");
 * ```
 */
export function clientHopBehind(
  hops: readonly ForwardedHop[],
  trust: TrustedAddresses | number,
): ForwardedHop | null {
  if (typeof trust === "number") {
    // The peer and `trust - 1` hops after it are proxies: the client is the next hop to the left.
    if (trust < 1 || hops.length === 0) return null;
    const index = Math.max(0, hops.length - trust);
    return hops[index].address === null ? null : hops[index];
  }
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop.address === null) return null;
    if (!trust.has(hop.address) || i === 0) return hop;
  }
  return null;
}
