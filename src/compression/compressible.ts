/**
 * Which media types are worth compressing, with no runtime API: text, the structured-text formats
 * of the web, and a few binary formats that compress well. Types that are compressed already
 * (images other than SVG, audio, video, archives, fonts in WOFF) are not.
 *
 * The list (a `Content-Type`'s media type, in any case, its parameters ignored):
 * - every `text/*` type (`text/html`, `text/css`, `text/plain`, `text/event-stream`, …);
 * - every type with a `+json` or `+xml` suffix (`application/ld+json`, `application/problem+json`,
 *   `application/atom+xml`, `image/svg+xml`, …);
 * - {@link COMPRESSIBLE_TYPES}: JSON, JavaScript, XML, WebAssembly, and the others listed there.
 *
 * @module
 */

/**
 * The media types, besides `text/*` and the `+json` and `+xml` suffixes, that are compressed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMPRESSIBLE_TYPES } from "./compressible.ts";
 *
 * assert.ok(COMPRESSIBLE_TYPES.has("application/json"));
 * assert.ok(COMPRESSIBLE_TYPES.has("application/wasm"));
 * assert.ok(!COMPRESSIBLE_TYPES.has("image/png"));
 * ```
 */
export const COMPRESSIBLE_TYPES: ReadonlySet<string> = new Set([
  "application/json",
  "application/x-ndjson",
  "application/javascript",
  "application/x-javascript",
  "application/ecmascript",
  "application/xml",
  "application/xhtml+xml",
  "application/wasm",
  "application/x-www-form-urlencoded",
  "application/graphql",
  "application/toml",
  "application/yaml",
  "application/x-yaml",
  "application/sql",
  "application/rtf",
  "application/postscript",
  "application/vnd.ms-fontobject",
  "font/ttf",
  "font/otf",
  "font/collection",
  "image/bmp",
  "image/x-icon",
  "image/vnd.microsoft.icon",
]);

/**
 * Whether a response of this `Content-Type` is compressed: its media type is `text/*`, has a `+json`
 * or `+xml` suffix, or is one of {@link COMPRESSIBLE_TYPES}. No type (`null`) is not.
 *
 * @param contentType The field value, or `null` when the response has none.
 * @returns `true` when the type is worth compressing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCompressibleType } from "./compressible.ts";
 *
 * assert.equal(isCompressibleType("text/html; charset=utf-8"), true);
 * assert.equal(isCompressibleType("Application/JSON"), true);
 * assert.equal(isCompressibleType("application/problem+json"), true);
 * assert.equal(isCompressibleType("image/svg+xml"), true);
 * assert.equal(isCompressibleType("image/png"), false);
 * assert.equal(isCompressibleType("application/octet-stream"), false);
 * assert.equal(isCompressibleType(null), false);
 * ```
 */
export function isCompressibleType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semicolon = contentType.indexOf(";");
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type.startsWith("text/")) return type.length > 5;
  if (type.endsWith("+json") || type.endsWith("+xml")) return type.indexOf("/") > 0;
  return COMPRESSIBLE_TYPES.has(type);
}
