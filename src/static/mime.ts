/**
 * The media types of static files, by file extension: the table `serveFile` and `serveDir` use.
 * Text types get `charset=utf-8`; an extension not in the table is `application/octet-stream`
 * (RFC 9110 §8.3: a server that does not know the type should not guess it from the content).
 *
 * @module
 */

/**
 * Extension (lowercase, without the dot) → media type. Types that are text (`text/*`, and the
 * JavaScript, JSON, XML and SVG types, which are UTF-8 text on the web) are listed without a
 * charset: {@link contentTypeOf} adds `charset=utf-8` to them.
 */
export const MEDIA_TYPES: Readonly<Record<string, string>> = Object.freeze({
  // Text and documents
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  txt: "text/plain",
  text: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  ics: "text/calendar",
  vtt: "text/vtt",
  xml: "application/xml",
  xhtml: "application/xhtml+xml",
  rss: "application/rss+xml",
  atom: "application/atom+xml",
  pdf: "application/pdf",
  // Scripts and data
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "text/javascript",
  json: "application/json",
  map: "application/json",
  jsonld: "application/ld+json",
  webmanifest: "application/manifest+json",
  wasm: "application/wasm",
  // Images
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff",
  // Fonts
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  // Audio and video
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  wav: "audio/wav",
  flac: "audio/flac",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  m4v: "video/mp4",
  webm: "video/webm",
  ogv: "video/ogg",
  mov: "video/quicktime",
  // Archives
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  br: "application/octet-stream",
  tar: "application/x-tar",
  zst: "application/zstd",
  "7z": "application/x-7z-compressed",
});

/** The type of a file with no known extension. */
export const DEFAULT_MEDIA_TYPE = "application/octet-stream";

const UTF8_TYPES = new Set([
  "application/json",
  "application/ld+json",
  "application/manifest+json",
  "application/xml",
  "application/xhtml+xml",
  "application/rss+xml",
  "application/atom+xml",
  "image/svg+xml",
]);

/**
 * The Content-Type of a file, from its name's extension (case-insensitively): the table's type,
 * with `; charset=utf-8` for text, or `application/octet-stream`.
 *
 * @param name The file name or path.
 * @returns The Content-Type value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentTypeOf } from "./mime.ts";
 *
 * assert.equal(contentTypeOf("index.HTML"), "text/html; charset=utf-8");
 * assert.equal(contentTypeOf("/a/photo.jpg"), "image/jpeg");
 * assert.equal(contentTypeOf("README"), "application/octet-stream");
 * assert.equal(contentTypeOf(".env"), "application/octet-stream");
 * ```
 */
export function contentTypeOf(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return DEFAULT_MEDIA_TYPE;
  const extension = base.slice(dot + 1).toLowerCase();
  if (!Object.hasOwn(MEDIA_TYPES, extension)) return DEFAULT_MEDIA_TYPE;
  const type = MEDIA_TYPES[extension];
  return type.startsWith("text/") || UTF8_TYPES.has(type) ? `${type}; charset=utf-8` : type;
}
