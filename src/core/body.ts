/**
 * Request body decoders (RFC 9112 §6–7): a fixed length, and chunked with extensions and trailers.
 *
 * A decoder reads from an input array and stops at each piece of body data, so that data is
 * handed on without a copy. After {@link BodyDecoder.read}, `data` holds the bytes found (or
 * `null`) and `done` says whether the body has ended.
 *
 * @module
 */

import { hexValue, TOKEN_CHARS } from "./_bytes.ts";
import { parseFieldLine } from "./_fields.ts";
import { LineReader } from "./_lines.ts";
import { HttpError } from "./errors.ts";
import type { ProtocolLimits } from "./limits.ts";

const CR = 0x0d;
const LF = 0x0a;

/**
 * What every body decoder offers.
 *
 * @example Read a whole body with either decoder
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BodyDecoder, ChunkedDecoder, ContentLengthDecoder } from "./body.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * function readAll(decoder: BodyDecoder, text: string): string {
 *   const input = new TextEncoder().encode(text);
 *   let body = "";
 *   for (let at = 0; !decoder.done;) {
 *     at = decoder.read(input, at, input.length, at);
 *     if (decoder.data) body += new TextDecoder().decode(decoder.data);
 *   }
 *   return body;
 * }
 * assert.equal(readAll(new ContentLengthDecoder(2), "hi"), "hi");
 * assert.equal(readAll(new ChunkedDecoder(DEFAULT_PROTOCOL_LIMITS), "2\r\nhi\r\n0\r\n\r\n"), "hi");
 * ```
 */
export interface BodyDecoder {
  /** Body bytes found by the last {@link BodyDecoder.read}, or `null`. A view into its input. */
  data: Uint8Array | null;
  /** Whether the body is complete. */
  done: boolean;
  /** Trailer fields (flat name, value list) once a chunked body is complete; always empty for a fixed length. */
  readonly trailers: readonly string[];
  /**
   * Reads from `input[start..end)` until it finds body data, reaches the end of the body, or runs out of input.
   *
   * @param input The array to read from.
   * @param start First unread byte.
   * @param end One past the last byte.
   * @param offset Stream offset of `input[start]`, for error positions.
   * @returns The index of the first byte not consumed.
   * @throws {HttpError} On malformed framing or when a limit is exceeded.
   */
  read(input: Uint8Array, start: number, end: number, offset: number): number;
  /** Bytes still expected, or -1 when unknown (chunked). */
  readonly remaining: number;
}

/**
 * Decodes a body of known length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContentLengthDecoder } from "./body.ts";
 *
 * const decoder = new ContentLengthDecoder(3);
 * const input = new TextEncoder().encode("abcGET");
 * assert.equal(decoder.read(input, 0, input.length, 0), 3);
 * assert.equal(new TextDecoder().decode(decoder.data!), "abc");
 * assert.equal(decoder.done, true);
 * ```
 */
export class ContentLengthDecoder implements BodyDecoder {
  /** Body bytes found by the last {@link BodyDecoder.read}, or `null`: a view into its input. */
  data: Uint8Array | null = null;
  /** Whether the body is complete. */
  done: boolean;
  /** Always empty: a body of known length has no trailers. */
  readonly trailers: readonly string[] = [];
  #remaining: number;

  /**
   * Creates a decoder for a body of `length` bytes.
   * @param length The declared Content-Length.
   */
  constructor(length: number) {
    this.#remaining = length;
    this.done = length === 0;
  }

  /** Bytes of the body still expected. */
  get remaining(): number {
    return this.#remaining;
  }

  /**
   * Takes up to the remaining body bytes from `input[start..end)`.
   * @param input The array to read from.
   * @param start First unread byte.
   * @param end One past the last byte.
   * @param _offset Stream offset (unused: a fixed-length body cannot be malformed).
   * @returns The index of the first byte not consumed.
   */
  read(input: Uint8Array, start: number, end: number, _offset: number): number {
    const take = Math.min(this.#remaining, end - start);
    this.data = take > 0 ? input.subarray(start, start + take) : null;
    this.#remaining -= take;
    this.done = this.#remaining === 0;
    return start + take;
  }
}

/**
 * The states of {@link ChunkedDecoder}, one per part of the chunked grammar (RFC 9112 §7.1).
 *
 * @example Stop in the middle of a chunk
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkedDecoder, type ChunkedState } from "./body.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const decoder = new ChunkedDecoder(DEFAULT_PROTOCOL_LIMITS);
 * const input = new TextEncoder().encode("5\r\nhel");
 * decoder.read(input, 0, input.length, 0);
 * const state: ChunkedState = decoder.state;
 * assert.equal(state, "data");
 * ```
 */
export type ChunkedState =
  | "size"
  | "ext"
  | "sizeLf"
  | "data"
  | "dataCr"
  | "dataLf"
  | "trailers"
  | "done";

/** Trailer fields that are never merged into a request (RFC 9110 §6.5.1): framing, routing, control. */
const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  "authorization",
  "cache-control",
  "connection",
  "content-encoding",
  "content-length",
  "content-range",
  "content-type",
  "cookie",
  "expect",
  "host",
  "keep-alive",
  "max-forwards",
  "pragma",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "range",
  "set-cookie",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Decodes a chunked body strictly: hex sizes with an overflow guard, chunk extensions checked
 * against their grammar and bounded, CRLF only, and a bounded trailer section whose framing and
 * routing fields are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkedDecoder } from "./body.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "./limits.ts";
 *
 * const decoder = new ChunkedDecoder(DEFAULT_PROTOCOL_LIMITS);
 * const input = new TextEncoder().encode("3;x=y\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n");
 * let at = 0;
 * let body = "";
 * while (!decoder.done) {
 *   at = decoder.read(input, at, input.length, at);
 *   if (decoder.data) body += new TextDecoder().decode(decoder.data);
 * }
 * assert.equal(body, "abc");
 * assert.deepEqual(decoder.trailers, ["X-Sum", "1"]);
 * ```
 */
export class ChunkedDecoder implements BodyDecoder {
  /** Body bytes found by the last {@link BodyDecoder.read}, or `null`: a view into its input. */
  data: Uint8Array | null = null;
  /** Whether the body is complete. */
  done = false;
  /** Trailer fields (flat name, value list) once the body is complete; framing and routing fields are dropped. */
  readonly trailers: string[] = [];
  /** The current state, for inspection and tests. */
  state: ChunkedState = "size";
  readonly #limits: ProtocolLimits;
  #size = 0;
  #sizeDigits = 0;
  #chunkLeft = 0;
  #total = 0;
  #extension: number[] = [];
  #trailerBytes = 0;
  readonly #lines = new LineReader();

  /**
   * Creates a decoder for one chunked body.
   * @param limits The size limits to enforce.
   */
  constructor(limits: ProtocolLimits) {
    this.#limits = limits;
  }

  /** Always -1: the length of a chunked body is not known in advance. */
  get remaining(): number {
    return -1;
  }

  /**
   * Reads from `input[start..end)` until it finds chunk data, reaches the end of the body, or runs out of input.
   * @param input The array to read from.
   * @param start First unread byte.
   * @param end One past the last byte.
   * @param offset Stream offset of `input[start]`, for error positions.
   * @returns The index of the first byte not consumed.
   * @throws {HttpError} On malformed framing or when a limit is exceeded.
   */
  read(input: Uint8Array, start: number, end: number, offset: number): number {
    this.data = null;
    let i = start;
    while (i < end) {
      const at = offset + i - start;
      switch (this.state) {
        case "size":
        case "ext":
        case "sizeLf":
          this.#sizeLineByte(input[i], at);
          i++;
          break;
        case "data": {
          const take = Math.min(this.#chunkLeft, end - i);
          this.data = input.subarray(i, i + take);
          this.#chunkLeft -= take;
          if (this.#chunkLeft === 0) this.state = "dataCr";
          return i + take;
        }
        case "dataCr":
          if (input[i] !== CR) throw new HttpError("BAD_CHUNK", at);
          this.state = "dataLf";
          i++;
          break;
        case "dataLf":
          if (input[i] !== LF) throw new HttpError("BAD_CHUNK", at);
          this.state = "size";
          i++;
          break;
        case "trailers": {
          const next = this.#readTrailerLine(input, i, end, at);
          if (next === -1) return end;
          i = next;
          break;
        }
        case "done":
          return i;
        default:
          throw new Error(`unreachable chunked state ${this.state satisfies never}`);
      }
    }
    return i;
  }

  /**
   * Takes one byte of a chunk-size line (`chunk-size [ chunk-ext ] CRLF`).
   * @param byte The byte.
   * @param at Its stream offset, for errors.
   */
  #sizeLineByte(byte: number, at: number): void {
    switch (this.state) {
      case "size": {
        const digit = hexValue(byte);
        if (digit !== -1) {
          this.#size = this.#size * 16 + digit;
          this.#sizeDigits++;
          if (this.#size > Number.MAX_SAFE_INTEGER || this.#sizeDigits > 16) {
            throw new HttpError("CHUNK_SIZE_OVERFLOW", at);
          }
          return;
        }
        if (this.#sizeDigits === 0) throw new HttpError("BAD_CHUNK", at);
        if (byte === CR) this.state = "sizeLf";
        else if (byte === 0x3b /* ; */ || byte === 0x20 || byte === 0x09) {
          this.state = "ext";
          this.#extension.length = 0;
          this.#extension.push(byte);
        } else throw new HttpError("BAD_CHUNK", at);
        return;
      }
      case "ext":
        if (byte === CR) {
          if (!isValidChunkExtension(this.#extension)) throw new HttpError("BAD_CHUNK", at);
          this.state = "sizeLf";
          return;
        }
        if (byte === LF) throw new HttpError("BAD_CHUNK", at);
        if (this.#extension.length >= this.#limits.maxChunkExtensionBytes) {
          throw new HttpError("CHUNK_EXTENSION_TOO_LARGE", at);
        }
        this.#extension.push(byte);
        return;
      case "sizeLf": {
        if (byte !== LF) throw new HttpError("BAD_CHUNK", at);
        const size = this.#size;
        this.#size = 0;
        this.#sizeDigits = 0;
        if (size === 0) {
          this.state = "trailers";
          return;
        }
        this.#total += size;
        if (this.#total > this.#limits.maxBodyBytes) throw new HttpError("BODY_TOO_LARGE", at);
        this.#chunkLeft = size;
        this.state = "data";
        return;
      }
      default:
        throw new Error(`not in a chunk-size line: ${this.state}`);
    }
  }

  #readTrailerLine(input: Uint8Array, start: number, end: number, offset: number): number {
    const lines = this.#lines;
    const lineOffset = offset - lines.pendingBytes;
    let next: number;
    try {
      next = lines.read(input, start, end, offset);
    } catch (error) {
      if (!(error instanceof HttpError) || error.code !== "BARE_LF") throw error;
      // As in every split: a line too long when its bare LF arrives is refused as too long.
      if (this.#trailerBytes + error.offset - lineOffset > this.#limits.maxTrailerBytes) {
        throw new HttpError("TRAILERS_TOO_LARGE", lineOffset);
      }
      throw new HttpError("BAD_CHUNK", error.offset);
    }
    if (next === -1) {
      if (this.#trailerBytes + lines.pendingBytes > this.#limits.maxTrailerBytes) {
        // The start of the incomplete line, as for a complete one, whatever the split.
        throw new HttpError("TRAILERS_TOO_LARGE", offset + (end - start) - lines.pendingBytes);
      }
      return -1;
    }
    const length = lines.lineEnd - lines.lineStart;
    this.#trailerBytes += length + 2;
    if (this.#trailerBytes > this.#limits.maxTrailerBytes) {
      throw new HttpError("TRAILERS_TOO_LARGE", lines.lineOffset);
    }
    if (length === 0) {
      this.state = "done";
      this.done = true;
      return next;
    }
    const fields: string[] = [];
    parseFieldLine(lines.line, lines.lineStart, lines.lineEnd, lines.lineOffset, fields);
    if (this.trailers.length >= this.#limits.maxHeaderCount * 2) {
      throw new HttpError("TRAILERS_TOO_LARGE", lines.lineOffset);
    }
    if (!FORBIDDEN_TRAILERS.has(fields[0].toLowerCase())) this.trailers.push(fields[0], fields[1]);
    return next;
  }
}

/**
 * Whether bytes match `chunk-ext` of RFC 9112 §7.1.1:
 * `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`, where a value is a token or
 * a quoted-string.
 *
 * @param ext The bytes after the chunk size, up to the CR.
 * @returns `true` if they match the grammar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidChunkExtension } from "./body.ts";
 *
 * const bytes = (text: string) => [...new TextEncoder().encode(text)];
 * assert.equal(isValidChunkExtension(bytes(';name="va\\"lue"; flag')), true);
 * assert.equal(isValidChunkExtension(bytes("; =x")), false);
 * ```
 */
export function isValidChunkExtension(ext: readonly number[]): boolean {
  let i = 0;
  const n = ext.length;
  const skipBws = () => {
    while (i < n && (ext[i] === 0x20 || ext[i] === 0x09)) i++;
  };
  const token = (): boolean => {
    const from = i;
    while (i < n && TOKEN_CHARS[ext[i]] === 1) i++;
    return i > from;
  };
  while (true) {
    skipBws();
    if (i === n) return n > 0 && ext.includes(0x3b);
    if (ext[i] !== 0x3b) return false;
    i++;
    skipBws();
    if (!token()) return false;
    skipBws();
    if (i < n && ext[i] === 0x3d /* = */) {
      i++;
      skipBws();
      if (i < n && ext[i] === 0x22 /* " */) {
        i++;
        let closed = false;
        while (i < n) {
          const c = ext[i];
          if (c === 0x22) {
            closed = true;
            i++;
            break;
          }
          if (c === 0x5c /* \ */) {
            i++;
            if (i >= n || (ext[i] !== 0x09 && (ext[i] < 0x20 || ext[i] === 0x7f))) return false;
          } else if (c !== 0x09 && (c < 0x20 || c === 0x7f)) return false;
          i++;
        }
        if (!closed) return false;
      } else if (!token()) return false;
    }
  }
}
