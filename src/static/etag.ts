/**
 * Entity tags (RFC 9110 §8.8.3): a file's strong ETag from its metadata, the lists of tags that
 * If-Match and If-None-Match carry, and the strong and weak comparisons. Pure functions.
 *
 * @module
 */

/** One entity tag: its opaque part (quotes included) and whether it is weak (`W/`). */
export interface EntityTag {
  /** The quoted opaque tag, such as `"abc"`. */
  readonly opaque: string;
  /** Whether the tag was marked weak with `W/`. */
  readonly weak: boolean;
}

/** What a list field (If-Match, If-None-Match) holds: `*`, or the tags that could be read. */
export type EntityTagList = "*" | readonly EntityTag[];

/**
 * A strong ETag from a file's metadata: its inode, size and modification time (to the
 * millisecond, the precision all three runtimes report). It changes when the file is replaced or
 * rewritten; a rewrite of the same size within the same millisecond keeps it, which the content
 * hash option of `serveFile` avoids.
 *
 * @param stat The file's inode, size in bytes, and modification time in milliseconds.
 * @returns The tag, quoted: `"ino-size-mtime"` in hexadecimal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileEtag } from "./etag.ts";
 *
 * assert.equal(fileEtag({ ino: 255, size: 16, mtimeMs: 4096.7 }), '"ff-10-1000"');
 * ```
 */
export function fileEtag(
  stat: { readonly ino: number; readonly size: number; readonly mtimeMs: number },
): string {
  return `"${stat.ino.toString(16)}-${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
}

/**
 * Reads an entity tag, `"opaque"` or `W/"opaque"` (RFC 9110 §8.8.3), from the whole value.
 *
 * @param value The text.
 * @returns The tag, or `null` when the value is not exactly one entity tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEntityTag } from "./etag.ts";
 *
 * assert.deepEqual(parseEntityTag('W/"a,b"'), { opaque: '"a,b"', weak: true });
 * assert.equal(parseEntityTag("abc"), null);
 * ```
 */
export function parseEntityTag(value: string): EntityTag | null {
  const text = value.trim();
  const read = readTag(text, 0);
  return read !== null && read.end === text.length ? read.tag : null;
}

/** Reads one tag at `at`; `null` when there is none. */
function readTag(text: string, at: number): { tag: EntityTag; end: number } | null {
  const weak = text.startsWith("W/", at);
  const start = weak ? at + 2 : at;
  if (text.charCodeAt(start) !== 0x22) return null;
  let i = start + 1;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return { tag: { opaque: text.slice(start, i + 1), weak }, end: i + 1 };
    // etagc = %x21 / %x23-7E / obs-text
    if (code < 0x21 || code === 0x7f || code > 0xff) return null;
  }
  return null;
}

/**
 * Reads the value of If-Match or If-None-Match: `*`, or a comma-separated list of entity tags
 * (empty elements and whitespace around commas allowed, RFC 9110 §5.6.1). Reading stops at the
 * first member that is not an entity tag, so a malformed member matches nothing (If-Match then
 * fails, If-None-Match then holds); `*` counts only as the whole value.
 *
 * @param value The field value (repeated fields joined with commas).
 * @returns `"*"` or the tags read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEntityTagList } from "./etag.ts";
 *
 * assert.equal(parseEntityTagList(" * "), "*");
 * assert.deepEqual(parseEntityTagList('"a", W/"b",,"c"').length, 3);
 * assert.deepEqual(parseEntityTagList('"a", junk, "c"'), [{ opaque: '"a"', weak: false }]);
 * ```
 */
export function parseEntityTagList(value: string): EntityTagList {
  if (value.trim() === "*") return "*";
  const tags: EntityTag[] = [];
  let at = 0;
  while (at < value.length) {
    const char = value[at];
    if (char === " " || char === "\t" || char === ",") {
      at++;
      continue;
    }
    const read = readTag(value, at);
    if (read === null) break;
    tags.push(read.tag);
    at = read.end;
    while (value[at] === " " || value[at] === "\t") at++;
    if (at < value.length && value[at] !== ",") break;
  }
  return tags;
}

/**
 * The strong comparison of RFC 9110 §8.8.3.2: both tags strong and their opaque parts equal.
 *
 * @param a One tag.
 * @param b The other.
 * @returns Whether they match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strongMatch } from "./etag.ts";
 *
 * assert.equal(strongMatch({ opaque: '"1"', weak: false }, { opaque: '"1"', weak: false }), true);
 * assert.equal(strongMatch({ opaque: '"1"', weak: true }, { opaque: '"1"', weak: false }), false);
 * ```
 */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/**
 * The weak comparison of RFC 9110 §8.8.3.2: opaque parts equal, weak or not.
 *
 * @param a One tag.
 * @param b The other.
 * @returns Whether they match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weakMatch } from "./etag.ts";
 *
 * assert.equal(weakMatch({ opaque: '"1"', weak: true }, { opaque: '"1"', weak: false }), true);
 * ```
 */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}
