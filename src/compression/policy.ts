/**
 * Whether to compress a response, and the header fields it is then sent with, with no runtime API
 * (the compressing itself is `encoder.ts`'s). A response is compressed when:
 * - compression is on, the request is not HEAD, and the status may have content and is not 206
 *   (1xx, 101, 204 and 304 never get here with a body);
 * - its body is at least the threshold long, or of unknown length (a stream);
 * - its `Content-Type` is compressible (`compressible.ts`), and it has no `Content-Encoding`, no
 *   `Content-Range` and no `Cache-Control: no-transform`;
 * - the request's `Accept-Encoding` accepts one of the offered codings (`negotiate.ts`).
 *
 * A response that passes every rule but the last two (a HEAD request's, or one for a client that
 * takes no coding) is sent as it is, with `Vary: Accept-Encoding`: another request could get it
 * compressed. A compressed response gets `Content-Encoding`, `Vary: Accept-Encoding`, its strong
 * `ETag` made weak (`W/`), and no `Content-Length` of the handler's (the server states the new one).
 * An existing `Vary` is kept and `Accept-Encoding` added to it, unless it is `*` or lists it already.
 *
 * @module
 */

import { hasListElement, isNamed } from "../core/_bytes.ts";
import type { RequestHead } from "../core/mod.ts";
import type { FieldList } from "../fetch/outgoing.ts";
import { isCompressibleType } from "./compressible.ts";
import { acceptEncodingOf, type ContentCoding, EncodingNegotiator } from "./negotiate.ts";
import type { CompressionSettings } from "./options.ts";

/**
 * What to do with one response: compress it (`coding`), or send it as it is with the `varied` fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CompressionPlan } from "./policy.ts";
 *
 * const plan: CompressionPlan = { coding: null, level: 0, fields: [], varied: [["vary", "Accept-Encoding"]] };
 * assert.equal(plan.coding, null);
 * ```
 */
export interface CompressionPlan {
  /** The coding to compress with, or `null` to send the body as it is, with {@link CompressionPlan.varied}. */
  readonly coding: ContentCoding | null;
  /** The coding's level. */
  readonly level: number;
  /** The fields of the compressed response (empty when `coding` is `null`). */
  readonly fields: FieldList;
  /** The fields of the response sent as it is: the handler's, with `Vary: Accept-Encoding`. */
  readonly varied: FieldList;
}

/** The fields of a response, as the send path has them. */
type ResponseFields = FieldList | Headers;

/**
 * A server's compression rules (the module summary lists them), made once from its settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeadParser } from "../core/parser.ts";
 * import { DEFAULT_PROTOCOL_LIMITS } from "../core/limits.ts";
 * import { resolveCompression } from "./options.ts";
 * import { CompressionPolicy } from "./policy.ts";
 *
 * const parser = new RequestHeadParser(DEFAULT_PROTOCOL_LIMITS);
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
 * parser.push(bytes, 0, bytes.length, 0);
 * const policy = new CompressionPolicy(resolveCompression(undefined, ["br", "gzip"])!);
 * const fields = [["content-type", "application/json"], ["etag", '"v1"']] as const;
 * const plan = policy.plan(parser.head, 200, fields, 4096);
 * assert.equal(plan?.coding, "gzip");
 * assert.deepEqual(plan?.fields, [
 *   ["content-type", "application/json"],
 *   ["etag", 'W/"v1"'],
 *   ["content-encoding", "gzip"],
 *   ["vary", "Accept-Encoding"],
 * ]);
 * assert.equal(policy.plan(parser.head, 200, fields, 10), null); // under the threshold
 * assert.equal(policy.plan(parser.head, 200, [["content-type", "image/png"]], 4096), null);
 * ```
 */
export class CompressionPolicy {
  readonly #settings: CompressionSettings;
  readonly #negotiator: EncodingNegotiator;
  /** The last frozen field list seen, and what was made of it. */
  #lastList: FieldList | null = null;
  #lastForms: FieldForms | null = null;

  /** @param settings The settings, checked (`resolveCompression`). */
  constructor(settings: CompressionSettings) {
    this.#settings = settings;
    this.#negotiator = new EncodingNegotiator(settings.encodings);
  }

  /**
   * What to do with a response.
   * @param request The request's head (`null`: nothing is compressed).
   * @param status The response's status.
   * @param fields Its header fields.
   * @param bodyLength Its body's length, or `null` when unknown (a stream).
   * @returns The plan, or `null` to send the response exactly as it is.
   */
  plan(
    request: RequestHead | null,
    status: number,
    fields: ResponseFields,
    bodyLength: number | null,
  ): CompressionPlan | null {
    if (request === null || status < 200 || status === 204 || status === 206 || status === 304) return null;
    if (bodyLength !== null && (bodyLength === 0 || bodyLength < this.#settings.threshold)) return null;
    const forms = this.#formsOf(fields);
    if (forms === null) return null;
    const coding = request.method === "HEAD"
      ? null
      : this.#negotiator.choose(acceptEncodingOf(request.fields));
    if (coding === null) return { coding, level: 0, fields: [], varied: forms.varied() };
    return {
      coding,
      level: this.#settings.level[coding],
      fields: forms.encoded(coding),
      varied: forms.varied(),
    };
  }

  /** The forms of a response's fields, or `null` when its fields rule compression out. */
  #formsOf(fields: ResponseFields): FieldForms | null {
    if (fields === this.#lastList) return this.#lastForms;
    const forms = compressibleFields(fields) ? new FieldForms(fields) : null;
    // A frozen list stays as it is: what was made of it holds for the next response with it.
    if (Array.isArray(fields) && Object.isFrozen(fields)) {
      this.#lastList = fields as FieldList;
      this.#lastForms = forms;
    }
    return forms;
  }
}

/** Whether a response's fields allow compressing it: a compressible type, no coding or range, and no `no-transform`. */
function compressibleFields(fields: ResponseFields): boolean {
  if (!Array.isArray(fields)) {
    const headers = fields as Headers;
    if (!isCompressibleType(headers.get("content-type"))) return false;
    if (headers.has("content-encoding") || headers.has("content-range")) return false;
    const cacheControl = headers.get("cache-control");
    return cacheControl === null || !hasListElement(cacheControl, "no-transform");
  }
  let compressibleType = false;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (isNamed(name, "content-type")) compressibleType = isCompressibleType(value);
    else if (isNamed(name, "content-encoding") || isNamed(name, "content-range")) return false;
    else if (isNamed(name, "cache-control") && hasListElement(value, "no-transform")) return false;
  }
  return compressibleType;
}

/**
 * The fields of one compressible response in the forms it can be sent with: as they are with
 * `Vary`, and compressed with each coding. Each form is made when first asked for; the forms of a
 * frozen list are frozen lists, made once, so that the serializer reuses their heads too.
 */
class FieldForms {
  readonly #fields: ResponseFields;
  #varied: FieldList | null = null;
  readonly #encoded: Partial<Record<ContentCoding, FieldList>> = {};

  constructor(fields: ResponseFields) {
    this.#fields = fields;
  }

  varied(): FieldList {
    return this.#varied ??= transformFields(this.#fields, null);
  }

  encoded(coding: ContentCoding): FieldList {
    return this.#encoded[coding] ??= transformFields(this.#fields, coding);
  }
}

/**
 * The handler's fields with `Vary: Accept-Encoding` merged in, and, for a coding, `Content-Encoding`,
 * a weak `ETag` and no `Content-Length`.
 */
function transformFields(fields: ResponseFields, coding: ContentCoding | null): FieldList {
  const pairs: (readonly [string, string])[] = [];
  if (Array.isArray(fields)) { for (const pair of fields as FieldList) pairs.push(pair); }
  else (fields as Headers).forEach((value, name) => pairs.push([name, value]));
  let varyAt = -1;
  let varies = false;
  const out: (readonly [string, string])[] = [];
  for (const [name, value] of pairs) {
    if (isNamed(name, "vary")) {
      if (varyAt === -1) varyAt = out.length;
      if (hasListElement(value, "*") || hasListElement(value, "accept-encoding")) varies = true;
    } else if (coding !== null && isNamed(name, "content-length")) continue;
    else if (coding !== null && isNamed(name, "etag") && !value.startsWith("W/")) {
      out.push(Object.freeze([name, `W/${value}`] as const));
      continue;
    }
    out.push(pair(name, value));
  }
  if (coding !== null) out.push(pair("content-encoding", coding));
  if (!varies) {
    if (varyAt === -1) out.push(pair("vary", "Accept-Encoding"));
    else out[varyAt] = pair(out[varyAt][0], `${out[varyAt][1]}, Accept-Encoding`);
  }
  return Object.freeze(out);
}

function pair(name: string, value: string): readonly [string, string] {
  return Object.freeze([name, value] as const);
}
