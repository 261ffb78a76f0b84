/**
 * `trustProxy`: the client and scheme of each request behind trusted proxies, from the request's
 * `X-Forwarded-For` and `X-Forwarded-Proto` (or `Forwarded`, RFC 7239), by the walk of
 * `src/core/forwarded.ts`. Made once per server; consulted per request only when it is set.
 *
 * @module
 */

import {
  clientHopBehind,
  parseForwarded,
  parseXForwardedFor,
  type RequestHead,
  TrustedAddresses,
  type TrustProxy,
} from "../core/mod.ts";
import type { RequestOrigin } from "../fetch/request.ts";
import type { Addr } from "../transport/transport.ts";

/**
 * Which proxies are trusted, and which field they name clients in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ForwardingPolicy } from "./forwarding.ts";
 *
 * const policy = new ForwardingPolicy(["127.0.0.1"], "x-forwarded-for");
 * assert.equal(policy.trusts({ transport: "tcp", hostname: "127.0.0.1", port: 1 }), true);
 * ```
 */
export class ForwardingPolicy {
  readonly #trust: TrustedAddresses | number;
  readonly #unixTrusted: boolean;
  readonly #field: "x-forwarded-for" | "forwarded";

  /**
   * Makes the policy.
   * @param trust Trusted addresses and CIDR blocks (`"unix"` for unix socket peers), or the number of
   *   proxies in front.
   * @param field The field the proxies name clients in.
   * @throws {TypeError} For an entry that is not an address, a block or `"unix"`, or a bad count.
   */
  constructor(trust: TrustProxy, field: "x-forwarded-for" | "forwarded") {
    if (typeof trust === "number") {
      if (!Number.isInteger(trust) || trust < 1) throw new TypeError("trustProxy: a hop count is 1 or more");
      this.#trust = trust;
      this.#unixTrusted = true;
    } else {
      this.#trust = new TrustedAddresses(trust.filter((entry) => entry !== "unix"));
      this.#unixTrusted = trust.includes("unix");
    }
    this.#field = field;
  }

  /**
   * Whether a peer is a trusted proxy.
   * @param peer The address that connected (or that a PROXY header named).
   * @returns Whether its forwarding fields are believed.
   */
  trusts(peer: Addr): boolean {
    if (peer.transport === "unix") return this.#unixTrusted;
    return typeof this.#trust === "number" || this.#trust.has(peer.hostname);
  }

  /**
   * The client of a request and the scheme of its URL: the peer and the listener's scheme, unless
   * the peer is trusted and the fields say otherwise.
   * @param head The request head.
   * @param peer The address that connected.
   * @param origin The listener's scheme and authority.
   * @returns The client, and the origin for the request's URL.
   */
  resolve(head: RequestHead, peer: Addr, origin: RequestOrigin): { clientAddr: Addr; origin: RequestOrigin } {
    if (!this.trusts(peer)) return { clientAddr: peer, origin };
    const forwarded = this.#field === "forwarded";
    const hops = forwarded
      ? parseForwarded(fieldValues(head, "forwarded"))
      : parseXForwardedFor(fieldValues(head, "x-forwarded-for"));
    // `trusts` has checked the peer (a unix one included): the walk goes on from the hops.
    const hop = clientHopBehind(hops, this.#trust);
    const clientAddr: Addr = hop === null || hop.address === null
      ? peer
      : { transport: "tcp", hostname: hop.address, port: hop.port ?? 0 };
    const proto = forwarded
      ? hop?.proto ?? null
      : lastValue(fieldValues(head, "x-forwarded-proto"))?.toLowerCase();
    const scheme = proto === "http" || proto === "https" ? proto : origin.scheme;
    return { clientAddr, origin: scheme === origin.scheme ? origin : { ...origin, scheme } };
  }
}

/** Every value of the fields of this name (lowercase), in order. */
function fieldValues(head: RequestHead, name: string): string[] {
  const values: string[] = [];
  const fields = head.fields;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i].length === name.length && fields[i].toLowerCase() === name) values.push(fields[i + 1]);
  }
  return values;
}

/** The last item of a comma-separated list over several fields: the one the nearest proxy added. */
function lastValue(values: readonly string[]): string | undefined {
  return values.at(-1)?.split(",").at(-1)?.trim();
}
