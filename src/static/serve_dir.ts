/**
 * `serveDir(request, { root })`: a folder's files as responses. The request path is decoded once
 * and checked (src/static/path.ts), resolved inside the root (a link that leaves it is refused
 * unless `followSymlinks`), dotfiles are hidden, a folder gets its `index.html`, a listing page
 * (`listing: true`) or a 404, and a folder's URL without its trailing slash is redirected. Files
 * are served by `serveFile`.
 *
 * Resolving and stat-ing the path are synchronous calls (as in nginx's event loop): on a local
 * file system each is a system call answered from the kernel's caches, where the asynchronous form
 * costs a round trip through the runtime's thread pool that is several times that (a `304` took
 * 174 µs of CPU on Node with them, 75 µs without). What may wait on the disk, reading a file's
 * bytes, stays asynchronous. A root on a network file system, where a stat can block, is better
 * served by a proxy in front.
 *
 * @module
 */

import { type Dirent, realpathSync, type Stats, statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { type ListingEntry, renderListing } from "./listing.ts";
import { decodeRequestPath } from "./path.ts";
import {
  errorResponse,
  type PathCheck,
  serveFileChecked,
  type ServeFileOptions,
  statusOfError,
} from "./serve_file.ts";

/** How `serveDir` serves a folder: where it is, what it shows, and how files are served. */
export interface ServeDirOptions extends ServeFileOptions {
  /** The folder to serve. */
  readonly root: string;
  /**
   * Whether a folder without an index file gets a listing page of its entries (else 404).
   * @default {false}
   */
  readonly listing?: boolean;
  /**
   * The file served for a folder's URL, or `null` for none.
   * @default {"index.html"}
   */
  readonly index?: string | null;
  /**
   * Whether files and folders whose name starts with `.` are served and listed (else 404).
   * @default {false}
   */
  readonly dotfiles?: boolean;
  /**
   * Whether symbolic links that lead out of the root are followed (else 404). Links that stay
   * inside the root are always followed.
   * @default {false}
   */
  readonly followSymlinks?: boolean;
}

/**
 * Serves a file of a folder for a GET or HEAD request:
 * - 400 for a path that is refused: `.` and `..` segments (also `%2e%2e`), `%2f`, backslashes
 *   (`\` and `%5c`), NUL and other control characters, malformed percent-encoding and bytes that
 *   are not UTF-8;
 * - 404 for what does not exist, a dotfile (unless `dotfiles`), a link out of the root (unless
 *   `followSymlinks`), a file's URL with a trailing slash, and a folder with no index file and no
 *   listing; 403 for what may not be read; 405 for other methods;
 * - 301 to the URL with `/` (query kept) for a folder's URL without it;
 * - a folder's `index.html`, or its listing page with `listing: true`;
 * - a file as {@link serveFile} serves it (ranges, conditionals, precompressed siblings).
 *
 * @param request The request.
 * @param options The root, and what to serve.
 * @returns The response.
 *
 * @example A folder's index, a redirect, and a refused path
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { join } from "node:path";
 * import { serveDir } from "./serve_dir.ts";
 *
 * const root = mkdtempSync("/tmp/serve-dir-");
 * mkdirSync(join(root, "docs"));
 * writeFileSync(join(root, "docs", "index.html"), "<h1>Docs</h1>");
 * const index = await serveDir(new Request("http://localhost/docs/"), { root });
 * assert.equal(await index.text(), "<h1>Docs</h1>");
 * const redirect = await serveDir(new Request("http://localhost/docs?page=2"), { root });
 * assert.deepEqual([redirect.status, redirect.headers.get("location")], [301, "/docs/?page=2"]);
 * assert.equal((await serveDir(new Request("http://localhost/.git/config"), { root })).status, 404);
 * rmSync(root, { recursive: true });
 * ```
 */
export async function serveDir(request: Request, options: ServeDirOptions): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") return errorResponse(405);
  const path = decodeRequestPath(request.url);
  if (!path.ok) return errorResponse(400, `the path is refused (${path.refusal})`);
  const dotfiles = options.dotfiles ?? false;
  if (!dotfiles && path.segments.some((segment) => segment.startsWith("."))) return errorResponse(404);
  let root: string;
  try {
    root = realpathSync.native(options.root);
  } catch (error) {
    return errorResponse(statusOfError(error));
  }
  const inside = insideCheck(root, options);
  let target: string | null;
  let stats: Stats;
  try {
    target = inside(join(root, ...path.segments));
    if (target === null) return errorResponse(404);
    stats = statSync(target);
  } catch (error) {
    return errorResponse(statusOfError(error));
  }
  const check: PathCheck = (sibling) => Promise.resolve(insideOrNull(inside, sibling) !== null);
  if (!stats.isDirectory()) {
    if (path.trailingSlash) return errorResponse(404);
    return serveFileChecked(request, target, options, check, stats);
  }
  if (!path.trailingSlash) {
    // One leading slash: `//host` would be another origin's URL.
    const location = `/${path.rawPath.replace(/^\/+/, "")}/${path.query}`;
    return new Response(null, { status: 301, headers: { location } });
  }
  const index = options.index === undefined ? "index.html" : options.index;
  if (index !== null) {
    const indexPath = insideOrNull(inside, join(target, index));
    const indexStats = indexPath === null ? null : statSync(indexPath, { throwIfNoEntry: false });
    if (indexPath !== null && indexStats?.isFile()) {
      return serveFileChecked(request, indexPath, options, check);
    }
  }
  if (!options.listing) return errorResponse(404);
  try {
    const entries = await listEntries(target, inside, dotfiles);
    const title = `/${path.segments.map((segment) => `${segment}/`).join("")}`;
    return new Response(renderListing(title, entries), {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
    });
  } catch (error) {
    return errorResponse(statusOfError(error));
  }
}

/**
 * The resolver of paths under the root: a path's real path (links followed) when it stays in the
 * root, its dotfile rule holds after the links, or `followSymlinks` lets it leave; else `null`.
 * Throws the file system's error (ENOENT for a missing path).
 */
function insideCheck(root: string, options: ServeDirOptions): (path: string) => string | null {
  return (path) => {
    const real = realpathSync.native(path);
    const within = real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
    if (!within) return options.followSymlinks ? real : null;
    if (!options.dotfiles && relative(root, real).split(sep).some((part) => part.startsWith("."))) {
      return null;
    }
    return real;
  };
}

/** What `inside` gives for a path, or `null` for one that cannot be resolved either. */
function insideOrNull(inside: (path: string) => string | null, path: string): string | null {
  try {
    return inside(path);
  } catch {
    return null;
  }
}

/** A folder's entries for its listing: hidden and out-of-root ones left out, broken links too. */
async function listEntries(
  folder: string,
  inside: (path: string) => string | null,
  dotfiles: boolean,
): Promise<ListingEntry[]> {
  const dirents: Dirent[] = await readdir(folder, { withFileTypes: true });
  const entries: ListingEntry[] = [];
  for (const dirent of dirents) {
    if (!dotfiles && dirent.name.startsWith(".")) continue;
    const path = join(folder, dirent.name);
    try {
      if (dirent.isSymbolicLink() && inside(path) === null) continue;
      const stats = await stat(path);
      if (!stats.isFile() && !stats.isDirectory()) continue;
      entries.push({
        name: dirent.name,
        directory: stats.isDirectory(),
        size: stats.size,
        modifiedMs: stats.mtimeMs,
      });
    } catch {
      // a broken link, or an entry removed since: not listed
    }
  }
  return entries;
}
