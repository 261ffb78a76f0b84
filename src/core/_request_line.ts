/**
 * The parts of a request line after the method: the four target forms of RFC 9112 §3.2, the
 * authorities they name (`uri-host [":" port]` of RFC 3986 §3.2.2), and the HTTP version
 * (RFC 9112 §2.3). Private to h1serve (not exported by `core/mod.ts`).
 *
 * @module
 */

import { hexValue } from "./_bytes.ts";
import { HttpError } from "./errors.ts";
import type { HttpVersion, TargetForm } from "./parser.ts";

const COLON = 0x3a;
const CR = 0x0d;
const SP = 0x20;

/**
 * Which form a request target takes (RFC 9112 §3.2), checked against the method: CONNECT needs
 * authority-form, `*` only goes with OPTIONS, and every other method needs origin- or
 * absolute-form.
 *
 * @param method The request method.
 * @param target The request target as sent.
 * @param offset Stream offset of the target, for the error.
 * @returns The target's form.
 * @throws {HttpError} `BAD_TARGET`, `TARGET_FORM_MISMATCH` or `MISDIRECTED_REQUEST` (an `https`
 *   target on a connection that is not secured).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyTarget } from "./_request_line.ts";
 *
 * assert.equal(classifyTarget("GET", "/a?b", 0), "origin");
 * assert.equal(classifyTarget("CONNECT", "example.com:443", 0), "authority");
 * assert.throws(() => classifyTarget("GET", "*", 0), { code: "TARGET_FORM_MISMATCH" });
 * ```
 */
export function classifyTarget(method: string, target: string, offset: number): TargetForm {
  const first = target.charCodeAt(0);
  let form: TargetForm;
  if (method === "CONNECT") {
    if (!isValidHost(target, true)) throw new HttpError("TARGET_FORM_MISMATCH", offset);
    return "authority";
  }
  if (first === 0x2f /* / */) form = "origin";
  else if (target === "*") form = "asterisk";
  else if (absoluteAuthority(target) !== null) {
    // h1serve speaks plain TCP only: an https target did not arrive over a connection secured for
    // its origin, so it is refused (RFC 9110 §7.4).
    if (/^https:/i.test(target)) throw new HttpError("MISDIRECTED_REQUEST", offset);
    form = "absolute";
  } else if (isValidHost(target, true)) throw new HttpError("TARGET_FORM_MISMATCH", offset);
  else throw new HttpError("BAD_TARGET", offset);
  if (form === "asterisk" && method !== "OPTIONS") throw new HttpError("TARGET_FORM_MISMATCH", offset);
  if (target.includes("#")) throw new HttpError("BAD_TARGET", offset + target.indexOf("#"));
  return form;
}

/**
 * The authority of an absolute-form `http:` or `https:` target.
 *
 * @param target The request target.
 * @returns Its authority, or `null` if it is not such a target (or its authority is invalid).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absoluteAuthority } from "./_request_line.ts";
 *
 * assert.equal(absoluteAuthority("http://example.com:8080/a"), "example.com:8080");
 * assert.equal(absoluteAuthority("ftp://example.com/"), null);
 * ```
 */
export function absoluteAuthority(target: string): string | null {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  if (match === null) return null;
  const scheme = target.slice(0, target.indexOf(":")).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return null;
  const authority = match[1];
  // userinfo ("user@host") is an error (RFC 9110 §4.2.4), and so is an empty host (§4.2.1).
  if (authority.length === 0 || authority.charCodeAt(0) === COLON || !isValidHost(authority, false)) {
    return null;
  }
  return authority;
}

const HOST_CHARS: Uint8Array = (() => {
  // unreserved / pct-encoded / sub-delims of RFC 3986 §3.2.2.
  const table = new Uint8Array(128);
  for (const c of "-._~%!$&'()*+,;=") table[c.charCodeAt(0)] = 1;
  for (let b = 0x30; b <= 0x39; b++) table[b] = 1;
  for (let b = 0x41; b <= 0x5a; b++) table[b] = 1;
  for (let b = 0x61; b <= 0x7a; b++) table[b] = 1;
  return table;
})();

/**
 * Whether a string is `uri-host [ ":" port ]` (RFC 3986 §3.2.2, RFC 9110 §7.2).
 *
 * @param value The Host field value or authority.
 * @param requirePort Whether the port must be present (authority-form, RFC 9112 §3.2.3).
 * @returns `true` if valid. An empty value is valid unless a port is required.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidHost } from "./_request_line.ts";
 *
 * assert.equal(isValidHost("example.com:8080", false), true);
 * assert.equal(isValidHost("[::1]:443", true), true);
 * assert.equal(isValidHost("a b", false), false);
 * ```
 */
export function isValidHost(value: string, requirePort: boolean): boolean {
  let i = 0;
  const n = value.length;
  if (n === 0) return !requirePort;
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    // An IPv6 literal: hex digits, colons (at least two) and dots. IPvFuture is not accepted.
    const close = value.indexOf("]");
    if (close < 3) return false;
    let colons = 0;
    for (let k = 1; k < close; k++) {
      const c = value.charCodeAt(k);
      if (c === 0x3a) colons++;
      else if (hexValue(c) === -1 && c !== 0x2e) return false;
    }
    if (colons < 2) return false;
    i = close + 1;
  } else {
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c >= 128 || HOST_CHARS[c] === 0) break;
      // pct-encoded = "%" HEXDIG HEXDIG
      if (
        c === 0x25 && (hexValue(value.charCodeAt(i + 1)) === -1 || hexValue(value.charCodeAt(i + 2)) === -1)
      ) {
        return false;
      }
      i++;
    }
    // A port needs a host before it (RFC 9110 §4.2.1: an empty host is invalid).
    if (i === 0) return false;
  }
  if (i === n) return !requirePort;
  if (value.charCodeAt(i) !== COLON) return false;
  const port = value.slice(i + 1);
  if (port.length === 0) return !requirePort;
  return /^[0-9]{1,5}$/.test(port) && Number(port) <= 65535;
}

/**
 * Reads the HTTP version of a request line: `"HTTP/" DIGIT "." DIGIT`, exactly.
 *
 * @param line The array holding the line.
 * @param start First byte of the version.
 * @param end End of the line's content (its CR).
 * @param offset Stream offset of `line[start]`, for errors.
 * @returns The version.
 * @throws {HttpError} `BAD_VERSION`, `BAD_REQUEST_LINE` or `BARE_CR` for a malformed one,
 *   `VERSION_NOT_SUPPORTED` (505) for any version but 1.0 and 1.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVersion } from "./_request_line.ts";
 *
 * const line = new TextEncoder().encode("HTTP/1.0");
 * assert.equal(parseVersion(line, 0, line.length, 0), "HTTP/1.0");
 * ```
 */
export function parseVersion(line: Uint8Array, start: number, end: number, offset: number): HttpVersion {
  // "HTTP/" DIGIT "." DIGIT, exactly.
  const ok = end - start === 8 && line[start] === 0x48 && line[start + 1] === 0x54 &&
    line[start + 2] === 0x54 && line[start + 3] === 0x50 && line[start + 4] === 0x2f &&
    isDigit(line[start + 5]) && line[start + 6] === 0x2e && isDigit(line[start + 7]);
  if (!ok) {
    for (let i = start; i < end; i++) if (line[i] === CR) throw new HttpError("BARE_CR", offset + i - start);
    throw new HttpError(line[start] === SP ? "BAD_REQUEST_LINE" : "BAD_VERSION", offset);
  }
  // Only HTTP/1.0 and HTTP/1.1 are spoken. RFC 9110 §2.5 would let a server read HTTP/1.2 as 1.1,
  // but no such version exists, and guessing at an unknown version's framing is what smuggling
  // feeds on: any other well-formed version gets 505.
  if (line[start + 5] === 0x31 && line[start + 7] === 0x31) return "HTTP/1.1";
  if (line[start + 5] === 0x31 && line[start + 7] === 0x30) return "HTTP/1.0";
  throw new HttpError("VERSION_NOT_SUPPORTED", offset);
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}
