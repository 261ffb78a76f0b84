/**
 * `serveFile(request, path)`: one file as a `Response`, with validators, conditional requests,
 * ranges and precompressed siblings, read with `node:fs` (which Deno, Bun and Node all have) and
 * streamed chunk by chunk. What to send is decided by the pure `planFileResponse`; this file only
 * opens, stats and reads. A file's bytes are read asynchronously; a `stat` of a path is synchronous,
 * for the reason serve_dir.ts gives (a system call answered from the kernel's caches).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { type Stats, statSync } from "node:fs";
import { markFileBody } from "../fetch/file_body.ts";
import { closeQuietly, fileStream, openFileBody } from "./_file_stream.ts";
import { chooseCoding, CODING_SUFFIXES, type PrecompressedCoding } from "./encoding.ts";
import { fileEtag } from "./etag.ts";
import { type FileRepresentation, type FileResponsePlan, planFileResponse } from "./file_response.ts";
import { contentTypeOf } from "./mime.ts";

/** How `serveFile` and `serveDir` serve a file. */
export interface ServeFileOptions {
  /**
   * How ETags are made: `"metadata"` from the file's inode, size and modification time (no read),
   * or `"content"` from a SHA-256 of its bytes (read once per version of the file, then kept in
   * memory for the 1,024 most recent versions), which stays the same when a file is copied or
   * rewritten with the same bytes.
   * @default {"metadata"}
   */
  readonly etag?: "metadata" | "content";
  /**
   * Whether to serve `FILE.br` or `FILE.gz` in place of `FILE` to a client whose Accept-Encoding
   * accepts it (not for a Range request, and not when the sibling is older than the file).
   * @default {true}
   */
  readonly precompressed?: boolean;
  /**
   * A Cache-Control value for the file's responses (200, 206 and 304), or `null` for none.
   * @default {null}
   */
  readonly cacheControl?: string | null;
  /**
   * The most ranges one Range field may ask for; a field that asks for more gets the whole file.
   * @default {16}
   */
  readonly maxRanges?: number;
  /**
   * The most bytes one read of the file takes, and so the size of the body's chunks.
   * @default {65536}
   */
  readonly chunkSize?: number;
}

/** Checks a path before it is served (serveDir: a precompressed sibling must stay inside the root). */
export type PathCheck = (path: string) => Promise<boolean>;

const allowAll: PathCheck = () => Promise.resolve(true);

/**
 * Serves one file for a GET or HEAD request: 200 with the whole file, 206 for a Range (one range,
 * or `multipart/byteranges`), 304 or 412 from the preconditions, 416 for an unsatisfiable Range,
 * 404 when there is no such file (or it is not a regular file), 403 when it cannot be read, 405
 * for other methods. The body is a stream that reads the file as the connection takes it; the file
 * is closed at the end or when the client goes away. See docs/STATIC.md.
 *
 * @param request The request.
 * @param path The file's path on disk.
 * @param options ETags, precompressed siblings, Cache-Control, the range cap and the chunk size.
 * @returns The response.
 *
 * @example A file, then a range of it
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { join } from "node:path";
 * import { serveFile } from "./serve_file.ts";
 *
 * const dir = mkdtempSync("/tmp/serve-file-");
 * writeFileSync(join(dir, "hello.txt"), "Hello World!");
 * const whole = await serveFile(new Request("http://localhost/hello.txt"), join(dir, "hello.txt"));
 * assert.equal(whole.headers.get("content-type"), "text/plain; charset=utf-8");
 * assert.equal(await whole.text(), "Hello World!");
 * const part = await serveFile(
 *   new Request("http://localhost/hello.txt", { headers: { range: "bytes=6-" } }),
 *   join(dir, "hello.txt"),
 * );
 * assert.equal(part.status, 206);
 * assert.equal(part.headers.get("content-range"), "bytes 6-11/12");
 * assert.equal(await part.text(), "World!");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function serveFile(request: Request, path: string, options: ServeFileOptions = {}): Promise<Response> {
  return serveFileChecked(request, path, options, allowAll);
}

/**
 * {@link serveFile} with a check of each precompressed sibling's path (for serveDir).
 *
 * @param request The request.
 * @param path The file's path on disk.
 * @param options How to serve it.
 * @param check Whether a sibling's path may be served.
 * @param known The file's metadata, when the caller has just read it (a conditional request may be
 *   answered from it without opening the file).
 * @returns The response.
 *
 * @example A check that refuses every sibling
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { join } from "node:path";
 * import { serveFileChecked } from "./serve_file.ts";
 *
 * const dir = mkdtempSync("/tmp/serve-file-");
 * writeFileSync(join(dir, "a.txt"), "plain");
 * writeFileSync(join(dir, "a.txt.gz"), "gzip");
 * const request = new Request("http://localhost/a.txt", { headers: { "accept-encoding": "gzip" } });
 * const response = await serveFileChecked(request, join(dir, "a.txt"), {}, () => Promise.resolve(false));
 * assert.equal(await response.text(), "plain");
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function serveFileChecked(
  request: Request,
  path: string,
  options: ServeFileOptions,
  check: PathCheck,
  known: Stats | null = null,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") return errorResponse(405);
  if (options.etag !== "content" && isConditional(request.headers)) {
    const early = await answerFromMetadata(request, path, options, check, known);
    if (early !== null) return early;
  }
  let handle: FileHandle;
  let stats: Stats;
  try {
    handle = await open(path, "r");
  } catch (error) {
    return errorResponse(statusOfError(error));
  }
  try {
    stats = await handle.stat();
  } catch (error) {
    await closeQuietly(handle);
    return errorResponse(statusOfError(error));
  }
  if (!stats.isFile()) {
    await closeQuietly(handle);
    return errorResponse(404);
  }
  const headers = request.headers;
  const siblings = options.precompressed === false
    ? []
    : [...(await availableSiblings(path, stats, check)).keys()];
  const coding = headers.get("range") === null
    ? chooseCoding(headers.get("accept-encoding"), siblings)
    : null;
  let encoding: string | null = null;
  if (coding !== null) {
    const sibling = await openFile(path + CODING_SUFFIXES[coding]);
    if (sibling !== null) {
      await closeQuietly(handle);
      [handle, stats, encoding] = [sibling.handle, sibling.stats, coding];
    }
  }
  try {
    return await respond(request, handle, stats, {
      contentType: contentTypeOf(path),
      contentEncoding: encoding,
      vary: siblings.length > 0 ? "Accept-Encoding" : null,
    }, options);
  } catch (error) {
    await closeQuietly(handle);
    return errorResponse(statusOfError(error));
  }
}

/** The response for an open file; the stream takes the handle, or it is closed here. */
async function respond(
  request: Request,
  handle: FileHandle,
  stats: Stats,
  what: Pick<FileRepresentation, "contentType" | "contentEncoding" | "vary">,
  options: ServeFileOptions,
): Promise<Response> {
  const etag = options.etag === "content" ? await contentEtag(handle, stats) : fileEtag(stats);
  const plan = planFor(request, stats, etag, what, options);
  // HEAD gets no body: the server sends the Content-Length of the plan, as a GET's would be.
  const init = { status: plan.status, headers: plan.headers as [string, string][] };
  if (plan.pieces.length === 0 || request.method === "HEAD") {
    await closeQuietly(handle);
    return new Response(null, init);
  }
  // The stream, for whoever reads the response; the server's send path takes the file instead.
  const file = openFileBody(handle, plan.pieces, plan.length);
  return markFileBody(new Response(fileStream(file, options.chunkSize ?? 65536), init), file);
}

/** The decision for a request and a representation's metadata. */
function planFor(
  request: Request,
  stats: Stats,
  etag: string,
  what: Pick<FileRepresentation, "contentType" | "contentEncoding" | "vary">,
  options: ServeFileOptions,
): FileResponsePlan {
  const headers = request.headers;
  return planFileResponse({
    method: request.method,
    range: headers.get("range"),
    ifRange: headers.get("if-range"),
    ifMatch: headers.get("if-match"),
    ifNoneMatch: headers.get("if-none-match"),
    ifModifiedSince: headers.get("if-modified-since"),
    ifUnmodifiedSince: headers.get("if-unmodified-since"),
  }, {
    ...what,
    size: stats.size,
    etag,
    modifiedMs: stats.mtimeMs,
    cacheControl: options.cacheControl ?? null,
  }, {
    nowMs: Date.now(),
    boundary: headers.get("range") === null ? "" : boundary(), // only a Range request can get multipart
    maxRanges: options.maxRanges,
  });
}

/** Whether a request has a precondition (which may be answered with a 304 or 412). */
function isConditional(headers: Headers): boolean {
  return headers.has("if-none-match") || headers.has("if-modified-since") || headers.has("if-match") ||
    headers.has("if-unmodified-since");
}

/**
 * A 304 or 412 answered from the metadata alone (stat, no open, no read): for a conditional request
 * on a regular file that every user may read (else the file is opened, so that one that cannot be
 * read gets its 403). `null` when the request needs the file's bytes, or anything is amiss (the
 * path that opens the file gives the answer then).
 */
async function answerFromMetadata(
  request: Request,
  path: string,
  options: ServeFileOptions,
  check: PathCheck,
  known: Stats | null,
): Promise<Response | null> {
  let stats: Stats;
  try {
    stats = known ?? statSync(path);
  } catch {
    return null;
  }
  if (!stats.isFile() || (stats.mode & 0o444) !== 0o444) return null;
  const headers = request.headers;
  const siblings = options.precompressed === false ? new Map() : await availableSiblings(path, stats, check);
  const coding = headers.get("range") === null
    ? chooseCoding(headers.get("accept-encoding"), [...siblings.keys()])
    : null;
  const chosen: Stats = coding === null ? stats : siblings.get(coding)!;
  if ((chosen.mode & 0o444) !== 0o444) return null;
  const plan = planFor(request, chosen, fileEtag(chosen), {
    contentType: contentTypeOf(path),
    contentEncoding: coding,
    vary: siblings.size > 0 ? "Accept-Encoding" : null,
  }, options);
  if (plan.status !== 304 && plan.status !== 412) return null;
  return new Response(null, { status: plan.status, headers: plan.headers as [string, string][] });
}

/** The codings whose sibling is a regular file at least as new as the file, and allowed, with their metadata. */
async function availableSiblings(
  path: string,
  file: Stats,
  check: PathCheck,
): Promise<Map<PrecompressedCoding, Stats>> {
  const found = new Map<PrecompressedCoding, Stats>();
  for (const coding of ["br", "gzip"] as const) {
    const siblingPath = path + CODING_SUFFIXES[coding];
    try {
      const sibling = statSync(siblingPath, { throwIfNoEntry: false });
      if (sibling === undefined) continue;
      if (sibling.isFile() && sibling.mtimeMs >= file.mtimeMs && await check(siblingPath)) {
        found.set(coding, sibling);
      }
    } catch {
      // no such sibling
    }
  }
  return found;
}

/** Opens a regular file and stats it, or `null`. */
async function openFile(path: string): Promise<{ handle: FileHandle; stats: Stats } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch {
    return null;
  }
  try {
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, stats };
  } catch {
    // fall through
  }
  await closeQuietly(handle);
  return null;
}

const contentTags = new Map<string, string>();
const CONTENT_TAGS_KEPT = 1024;

/** The SHA-256 ETag of a file's bytes, computed once per version (device, inode, size, time). */
async function contentEtag(handle: FileHandle, stats: Stats): Promise<string> {
  const key = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  const known = contentTags.get(key);
  if (known !== undefined) return known;
  const hash = createHash("sha256");
  const buffer = new Uint8Array(65536);
  for (let position = 0; position < stats.size;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  const tag = `"${hash.digest("base64url")}"`;
  if (contentTags.size >= CONTENT_TAGS_KEPT) contentTags.delete(contentTags.keys().next().value!);
  contentTags.set(key, tag);
  return tag;
}

/** A random multipart boundary: 24 hexadecimal digits, which no part's header text contains. */
function boundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The status for a file-system error: 404 for a missing file (or a path through a non-folder, a
 * loop of links, a name too long), 403 for one that may not be read, 500 for anything else.
 *
 * @param error The error `node:fs` threw.
 * @returns The status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusOfError } from "./serve_file.ts";
 *
 * assert.equal(statusOfError(Object.assign(new Error("gone"), { code: "ENOENT" })), 404);
 * assert.equal(statusOfError(Object.assign(new Error("denied"), { code: "EACCES" })), 403);
 * ```
 */
export function statusOfError(error: unknown): 403 | 404 | 500 {
  const code = (error as { code?: string })?.code;
  if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" || code === "ENAMETOOLONG") return 404;
  if (code === "EACCES" || code === "EPERM") return 403;
  // Deno without --allow-read throws its own NotCapable error.
  if ((error as Error)?.name === "NotCapable" || (error as Error)?.name === "PermissionDenied") return 403;
  return 500;
}

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  500: "Internal Server Error",
};

/**
 * A short plain-text error response (`Allow: GET, HEAD` with a 405).
 *
 * @param status The status.
 * @param detail A line to add after the reason, or none.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorResponse } from "./serve_file.ts";
 *
 * const response = errorResponse(405);
 * assert.equal(response.headers.get("allow"), "GET, HEAD");
 * assert.equal(await response.text(), "Method Not Allowed\n");
 * ```
 */
export function errorResponse(status: number, detail?: string): Response {
  const headers: [string, string][] = [["content-type", "text/plain; charset=utf-8"]];
  if (status === 405) headers.push(["allow", "GET, HEAD"]);
  const text = `${REASONS[status] ?? "Error"}${detail === undefined ? "" : `: ${detail}`}\n`;
  return new Response(text, { status, headers });
}
