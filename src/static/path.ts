/**
 * The path of a static-file request, read once from the request URL: percent-decoded exactly
 * once, segment by segment, with every form that could name something outside the served folder,
 * or name one file in two ways, refused. A pure function.
 *
 * @module
 */

/** Why a request path is refused (each gets 400 Bad Request). */
export type PathRefusal =
  | "dot-segment"
  | "encoded-slash"
  | "backslash"
  | "control-character"
  | "bad-percent-encoding"
  | "not-a-path";

/** A request path read by {@link decodeRequestPath}. */
export type DecodedPath =
  | {
    readonly ok: true;
    /** The decoded segments, empty ones (from `//`) left out. */
    readonly segments: readonly string[];
    /** Whether the path ends with `/` (a directory's URL). */
    readonly trailingSlash: boolean;
    /** The path as it came, still percent-encoded, without the query. */
    readonly rawPath: string;
    /** The query as it came, with its `?`, or `""`. */
    readonly query: string;
  }
  | { readonly ok: false; readonly refusal: PathRefusal };

/** Whether text holds a control character (U+0000 to U+001F, U+007F). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Reads the path of a request URL. The URL is taken as received (h1serve's request URL is the
 * request target as it came, not normalized). Refused, each with its reason:
 * - `dot-segment`: a `.` or `..` segment, written as it is or percent-encoded (`%2e%2e`);
 * - `encoded-slash`: `%2f`, which would make one segment two once decoded;
 * - `backslash`: `\` or `%5c`, a separator on Windows;
 * - `control-character`: NUL (`%00`) or any other control character once decoded;
 * - `bad-percent-encoding`: a `%` not followed by two hex digits, or bytes that are not UTF-8
 *   (overlong forms and surrogates included);
 * - `not-a-path`: a URL with no absolute path.
 *
 * @param url The request URL.
 * @returns The decoded segments, or why the path is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRequestPath } from "./path.ts";
 *
 * const read = decodeRequestPath("http://a/docs/caf%C3%A9%20menu.txt?x=1");
 * assert.ok(read.ok);
 * assert.deepEqual(read.segments, ["docs", "café menu.txt"]);
 * assert.equal(read.query, "?x=1");
 * assert.deepEqual(decodeRequestPath("http://a/docs/%2e%2e/secret"), { ok: false, refusal: "dot-segment" });
 * assert.deepEqual(decodeRequestPath("http://a/a%2fb"), { ok: false, refusal: "encoded-slash" });
 * assert.deepEqual(decodeRequestPath("http://a/%c0%ae"), { ok: false, refusal: "bad-percent-encoding" });
 * ```
 */
export function decodeRequestPath(url: string): DecodedPath {
  const scheme = url.indexOf("://");
  const start = scheme === -1 ? -1 : url.indexOf("/", scheme + 3);
  if (start === -1) return { ok: false, refusal: "not-a-path" };
  const hash = url.indexOf("#", start);
  const beforeHash = hash === -1 ? url.length : hash;
  const question = url.indexOf("?", start);
  const end = question === -1 || question > beforeHash ? beforeHash : question;
  const rawPath = url.slice(start, end);
  const query = url.slice(end, beforeHash);
  if (rawPath.includes("\\")) return { ok: false, refusal: "backslash" };
  const segments: string[] = [];
  for (const raw of rawPath.split("/")) {
    if (raw === "") continue;
    if (/%2f/i.test(raw)) return { ok: false, refusal: "encoded-slash" };
    if (/%5c/i.test(raw)) return { ok: false, refusal: "backslash" };
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, refusal: "bad-percent-encoding" };
    }
    if (segment === "." || segment === "..") return { ok: false, refusal: "dot-segment" };
    if (hasControl(segment)) return { ok: false, refusal: "control-character" };
    segments.push(segment);
  }
  return { ok: true, segments, trailingSlash: rawPath.endsWith("/"), rawPath, query };
}
