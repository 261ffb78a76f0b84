/**
 * `FastResponse`, the `Response` class `serve` installs globally (unless told not to with
 * `replaceGlobalResponse: false`), so that a plain `new Response("Hello World!")` is fast to make
 * and to send. Reading a runtime's `Response` body goes through a `ReadableStream` (a stream, a
 * reader and promise turns), even when the body is a string the handler wrote a moment ago; a
 * `FastResponse` remembers the string, or keeps a copy of the bytes with room in front for the
 * response head (`body_pool.ts`), and gives them to the server through the outgoing-response
 * protocol (`outgoing.ts`), so the server sends them directly, in one write.
 *
 * On Deno and Bun it is the runtime's own `Response`, subclassed: every instance is real and
 * passes the runtime's internal checks (`Deno.serve`, `Bun.serve`, `caches`). On Node it is a
 * `LightResponse` (`light_response.ts`), because making undici's `Response` is costly and it
 * copies byte bodies twice more when they are read back. `instanceof Response` holds for every
 * response, made before or elsewhere (`fetch` results, subclasses of the original class).
 *
 * @module
 */

import { bodyPool } from "./body_pool.ts";
import { isResponse, jsonBody, jsonText, LightResponse } from "./light_response.ts";
import {
  contentTypeFields,
  type FieldList,
  JSON_FIELDS,
  NO_FIELDS,
  OUTGOING,
  type OutgoingResponse,
  type SendableResponse,
  TEXT_FIELDS,
  TEXT_TYPE_LEFT_OUT,
} from "./outgoing.ts";

/**
 * The global `Response` as it was when h1serve was loaded: the runtime's own class.
 *
 * @example Put the runtime's class back after `serve` installed FastResponse
 * ```ts
 * import assert from "node:assert/strict";
 * import { FastResponse, installFastResponse, OriginalResponse } from "./response.ts";
 *
 * installFastResponse();
 * assert.equal(globalThis.Response, FastResponse);
 * globalThis.Response = OriginalResponse;
 * assert.notEqual(globalThis.Response, FastResponse);
 * ```
 */
export const OriginalResponse: typeof Response = globalThis.Response;
const NativeResponse = OriginalResponse;

/**
 * The runtime's `Response`, subclassed to remember a string body, or to keep a copy of a byte
 * body for the server (the runtime's own copy stays behind a stream).
 */
class RememberingResponse extends NativeResponse implements SendableResponse {
  readonly #text: string | undefined;
  #bytes: Uint8Array | undefined;
  /** The fields as a constant list while they are the runtime's defaults, untouched since; else `null`. */
  #defaultFields: FieldList | null = null;
  /** Whether a string body's Content-Type was added where the runtime leaves it out. */
  #typed = false;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    super(body, init);
    this.#text = typeof body === "string" ? body : undefined;
    this.#bytes = body instanceof ArrayBuffer || ArrayBuffer.isView(body) ? bodyPool.copy(body) : undefined;
    if (typeof body === "string" || this.#bytes !== undefined) {
      if (init?.headers === undefined) {
        this.#defaultFields = typeof body === "string" ? TEXT_FIELDS : NO_FIELDS;
      } else this.#defaultFields = contentTypeFields(init.headers);
    }
  }

  override get headers(): Headers {
    this.#defaultFields = null; // they may be changed from now on
    const headers = super.headers;
    // A runtime that leaves out a string's Content-Type (Bun) gets it here, on first sight, as Fetch says.
    if (TEXT_TYPE_LEFT_OUT && this.#text !== undefined && !this.#typed) {
      this.#typed = true;
      if (!headers.has("content-type")) headers.set("content-type", TEXT_FIELDS[0][1]);
    }
    return headers;
  }

  /**
   * The parts for the server: the fields as a constant list while they are the defaults, and the
   * remembered string or the byte copy while the body is unread. The byte copy is given up (the
   * runtime's own copy stays, unread, so the response can still be read or sent again).
   * @returns The status, fields and body.
   */
  [OUTGOING](): OutgoingResponse {
    let body: string | Uint8Array | null = null;
    if (!this.bodyUsed) {
      body = this.#text ?? this.#bytes ?? null;
      this.#bytes = undefined;
    }
    return {
      status: this.status,
      statusText: this.statusText,
      fields: this.#defaultFields ?? this.headers,
      body,
    };
  }

  static override json(data: unknown, init: ResponseInit = {}): RememberingResponse {
    if (init.headers !== undefined) return new RememberingResponse(...jsonBody(data, init));
    // No fields given: the runtime's Response gets JSON's Content-Type, and the server a constant list.
    const response = new RememberingResponse(jsonText(data), {
      status: init.status,
      statusText: init.statusText,
      headers: { "content-type": "application/json" }, // a fresh record: the quickest init on Bun and Deno
    });
    response.#defaultFields = JSON_FIELDS;
    return response;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isResponse(value);
  }
}

/**
 * The `Response` class `serve` installs globally: on Deno and Bun, the runtime's own `Response`
 * subclassed to remember a string body (real responses are cheap there, and `Deno.serve`,
 * `Bun.serve` and `caches` accept only real ones); on Node, a `LightResponse`, which holds a
 * string or byte body itself (undici's `Response` is costly to make and copies byte bodies).
 * Either way `instanceof Response` holds for it and for every other response, and `new
 * FastResponse(body, init)` behaves as `new Response(body, init)`.
 *
 * @example Use it directly, or as the global `Response` that `serve` installs
 * ```ts
 * import assert from "node:assert/strict";
 * import { FastResponse } from "./response.ts";
 *
 * const response = new FastResponse("Hello World!", { status: 201 });
 * assert.ok(response instanceof Response);
 * assert.equal(response.status, 201);
 * assert.equal(await response.text(), "Hello World!");
 * assert.ok(new Response("native") instanceof FastResponse);
 * assert.deepEqual(await FastResponse.json({ a: 1 }).json(), { a: 1 });
 * ```
 */
export const FastResponse: typeof Response = "Deno" in globalThis || "Bun" in globalThis
  ? RememberingResponse
  : LightResponse as unknown as typeof Response;

/**
 * Puts {@link FastResponse} in place of the global `Response`; does nothing when it is there
 * already. `serve` calls it unless `replaceGlobalResponse` is `false`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FastResponse, installFastResponse } from "./response.ts";
 *
 * const original = globalThis.Response;
 * installFastResponse();
 * assert.equal(globalThis.Response, FastResponse);
 * globalThis.Response = original;
 * ```
 */
export function installFastResponse(): void {
  if (globalThis.Response !== FastResponse) globalThis.Response = FastResponse;
}
