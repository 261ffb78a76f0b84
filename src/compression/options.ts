/**
 * The `compression` option of `serve`: on by default, `false` to turn it off, or an object that
 * tunes it. It is checked and completed once, when the server starts ({@link resolveCompression}).
 *
 * @module
 */

import { CONTENT_CODINGS, type ContentCoding } from "./negotiate.ts";

/**
 * The compression level of each coding: gzip 1 (fastest) to 9 (smallest), Brotli 0 to 11, Zstandard
 * 1 to 19.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CompressionLevels } from "./options.ts";
 *
 * const levels: CompressionLevels = { gzip: 6, br: 4, zstd: 3 };
 * assert.equal(levels.br, 4);
 * ```
 */
export interface CompressionLevels {
  /**
   * gzip's level, 1 to 9 (zlib's default).
   * @default {6}
   */
  readonly gzip: number;
  /**
   * Brotli's quality, 0 to 11: 4 is fast enough to compress every response as it is made (11,
   * Brotli's own default, is for files compressed once, ahead of time).
   * @default {4}
   */
  readonly br: number;
  /**
   * Zstandard's level, 1 to 19 (Zstandard's default).
   * @default {3}
   */
  readonly zstd: number;
}

/**
 * How `serve` compresses responses; every member is optional.
 *
 * @example Compress with gzip only, from 1 KiB
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "../server/serve.ts";
 * import type { CompressionOptions } from "./options.ts";
 *
 * const compression: CompressionOptions = { threshold: 1024, encodings: ["gzip"] };
 * const body = "a".repeat(2000);
 * const server = serve({ port: 0, hostname: "127.0.0.1", compression }, () => new Response(body));
 * const { port } = await server.ready;
 * const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { "accept-encoding": "br, gzip" } });
 * assert.equal(response.headers.get("content-encoding"), "gzip");
 * assert.equal(await response.text(), body);
 * await server.shutdown();
 * ```
 */
export interface CompressionOptions {
  /**
   * The smallest body, in bytes, that is compressed. A body of unknown length (a stream that does
   * not end at once) is compressed whatever its length. Below 1 KiB a response fits in one TCP
   * segment either way, so compressing it saves no round trip and costs CPU on every request
   * (docs/COMPRESSION.md has the figures).
   * @default {1024}
   */
  readonly threshold?: number;
  /** Each coding's level; see {@link CompressionLevels} for the defaults. */
  readonly level?: Partial<CompressionLevels>;
  /**
   * The codings offered, in the server's order of preference (which breaks ties between codings
   * the client weighs alike). `zstd` is offered where the runtime's `node:zlib` has it (Deno 2.9,
   * Bun 1.4 and Node 22.15 and later do); naming it where it does not is an error.
   * @default {["br", "zstd", "gzip"]}
   */
  readonly encodings?: readonly ContentCoding[];
}

/**
 * The compression settings in force: {@link CompressionOptions} complete and checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveCompression, type CompressionSettings } from "./options.ts";
 *
 * const settings: CompressionSettings | null = resolveCompression(undefined, ["br", "gzip"]);
 * assert.deepEqual(settings?.encodings, ["br", "gzip"]);
 * ```
 */
export interface CompressionSettings {
  /** The smallest body compressed, in bytes. */
  readonly threshold: number;
  /** Each coding's level. */
  readonly level: CompressionLevels;
  /** The codings offered, in order of preference. */
  readonly encodings: readonly ContentCoding[];
}

/**
 * The default settings, before the runtime's codings are known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_COMPRESSION } from "./options.ts";
 *
 * assert.equal(DEFAULT_COMPRESSION.threshold, 1024);
 * assert.deepEqual(DEFAULT_COMPRESSION.level, { gzip: 6, br: 4, zstd: 3 });
 * ```
 */
export const DEFAULT_COMPRESSION: CompressionSettings = Object.freeze({
  threshold: 1024,
  level: Object.freeze({ gzip: 6, br: 4, zstd: 3 }),
  encodings: CONTENT_CODINGS,
});

/** The levels each coding takes, lowest and highest. */
const LEVEL_RANGES: Readonly<Record<ContentCoding, readonly [number, number]>> = {
  gzip: [1, 9],
  br: [0, 11],
  zstd: [1, 19],
};
const OPTION_NAMES = new Set(["threshold", "level", "encodings"]);

/**
 * Checks and completes `serve`'s `compression` option.
 *
 * @param option `false` (off), `true` or `undefined` (the defaults), or the options.
 * @param available The codings the runtime can apply, in the default order.
 * @returns The settings, or `null` when compression is off.
 * @throws {RangeError} For an unknown option, a threshold that is not a whole number of bytes, a level
 *   out of its coding's range, or an encodings list that is empty, repeats a coding, or names one that
 *   is unknown or not available.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveCompression } from "./options.ts";
 *
 * assert.equal(resolveCompression(false, ["gzip"]), null);
 * const settings = resolveCompression({ threshold: 0, level: { gzip: 9 } }, ["br", "gzip"]);
 * assert.deepEqual([settings?.threshold, settings?.level.gzip, settings?.level.br], [0, 9, 4]);
 * assert.throws(() => resolveCompression({ level: { br: 12 } }, ["br"]), RangeError);
 * assert.throws(() => resolveCompression({ encodings: ["zstd"] }, ["br", "gzip"]), RangeError);
 * ```
 */
export function resolveCompression(
  option: boolean | CompressionOptions | undefined,
  available: readonly ContentCoding[],
): CompressionSettings | null {
  if (option === false) return null;
  if (option === undefined || option === true) {
    return Object.freeze({ ...DEFAULT_COMPRESSION, encodings: Object.freeze([...available]) });
  }
  if (typeof option !== "object" || option === null) {
    throw new RangeError("compression must be true, false or an object of options");
  }
  for (const name of Object.keys(option)) {
    if (!OPTION_NAMES.has(name)) throw new RangeError(`compression has no option ${JSON.stringify(name)}`);
  }
  const threshold = option.threshold ?? DEFAULT_COMPRESSION.threshold;
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new RangeError(`compression.threshold must be a whole number of bytes, not ${String(threshold)}`);
  }
  return Object.freeze({
    threshold,
    level: resolveLevels(option.level ?? {}),
    encodings: resolveEncodings(option.encodings ?? available, available),
  });
}

function resolveLevels(level: Partial<CompressionLevels>): CompressionLevels {
  if (typeof level !== "object" || level === null) {
    throw new RangeError("compression.level must be an object");
  }
  const levels = { ...DEFAULT_COMPRESSION.level };
  for (const [name, value] of Object.entries(level)) {
    if (!Object.hasOwn(LEVEL_RANGES, name)) {
      throw new RangeError(`compression.level has no coding ${JSON.stringify(name)}`);
    }
    const [lowest, highest] = LEVEL_RANGES[name as ContentCoding];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < lowest || value > highest) {
      throw new RangeError(`compression.level.${name} must be a whole number from ${lowest} to ${highest}`);
    }
    levels[name as ContentCoding] = value;
  }
  return Object.freeze(levels);
}

function resolveEncodings(
  encodings: readonly ContentCoding[],
  available: readonly ContentCoding[],
): readonly ContentCoding[] {
  if (!Array.isArray(encodings) || encodings.length === 0) {
    throw new RangeError("compression.encodings must list at least one coding (or set compression: false)");
  }
  for (const [index, coding] of encodings.entries()) {
    if (!CONTENT_CODINGS.includes(coding)) {
      throw new RangeError(
        `compression.encodings: unknown coding ${JSON.stringify(coding)} (br, zstd, gzip)`,
      );
    }
    if (!available.includes(coding)) {
      throw new RangeError(`compression.encodings: this runtime's node:zlib has no ${coding}`);
    }
    if (encodings.indexOf(coding) !== index) {
      throw new RangeError(`compression.encodings names ${coding} twice`);
    }
  }
  return Object.freeze([...encodings]);
}
