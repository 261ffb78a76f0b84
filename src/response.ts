/**
 * `FastResponse`: the runtime's own `Response`, subclassed only to remember what its body was
 * made from. Reading a `Response` body goes through a `ReadableStream` (a stream, a reader and
 * promise turns: 1–3 µs), even when the body is a string the handler wrote a moment ago. A
 * `FastResponse` made from a string lets the server encode that string directly; one made from
 * bytes lets it read them whole, with no race to find out whether the body is a stream.
 *
 * `serve()` puts `FastResponse` in place of the global `Response` (unless told not to with
 * `replaceGlobalResponse: false`), so that a plain `new Response("Hello World!")` gets the fast
 * path. Every `FastResponse` is a real `Response` of the runtime, made by its own constructor:
 * it passes the runtime's internal checks (`Deno.serve`, `Bun.serve`, `caches`), and
 * `instanceof Response` holds for responses made before or elsewhere (`fetch` results,
 * subclasses of the original class), as `instanceof FastResponse` does.
 *
 * @module
 */

const NativeResponse = globalThis.Response;

/** The property where a `FastResponse` keeps the string its body was made from. */
export const BODY_TEXT: unique symbol = Symbol("h1serve.bodyText");
/** The property that says a `FastResponse` body was made from bytes (held in memory, not a stream). */
export const BODY_IN_MEMORY: unique symbol = Symbol("h1serve.bodyInMemory");

/**
 * A `Response` that remembers the string its body was made from, or that it was made from bytes.
 *
 * @example Use it directly, or as the global `Response` that `serve` installs
 * ```ts
 * import assert from "node:assert/strict";
 * import { BODY_IN_MEMORY, BODY_TEXT, FastResponse } from "./response.ts";
 *
 * const response = new FastResponse("Hello World!", { status: 201 });
 * assert.ok(response instanceof Response);
 * assert.equal(response[BODY_TEXT], "Hello World!");
 * assert.equal(new FastResponse(new Uint8Array(2))[BODY_IN_MEMORY], true);
 * assert.equal(response.status, 201);
 * assert.equal(await response.text(), "Hello World!");
 * assert.ok(new Response("native") instanceof FastResponse);
 * ```
 */
export class FastResponse extends globalThis.Response {
  /** The string the body was made from, or `undefined` for any other kind of body. */
  readonly [BODY_TEXT]: string | undefined;
  /** Whether the body was made from bytes (an `ArrayBuffer` or a view of one). */
  readonly [BODY_IN_MEMORY]: boolean;

  /**
   * Makes a response, exactly as `new Response(body, init)` does.
   * @param body The body.
   * @param init Status, status text and headers.
   */
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    super(body, init);
    this[BODY_TEXT] = typeof body === "string" ? body : undefined;
    this[BODY_IN_MEMORY] = body instanceof ArrayBuffer || ArrayBuffer.isView(body);
  }

  /**
   * A JSON response, as `Response.json` makes it, whose text the server can send directly.
   * @param data The value to serialize.
   * @param init Status, status text and headers; Content-Type defaults to `application/json`.
   * @returns The response.
   */
  static override json(data: unknown, init: ResponseInit = {}): FastResponse {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("the value cannot be serialized to JSON");
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new FastResponse(text, { status: init.status, statusText: init.statusText, headers });
  }

  /** `instanceof FastResponse` (and so `instanceof Response` once installed) holds for every `Response`. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null &&
      Object.prototype.isPrototypeOf.call(NativeResponse.prototype, value);
  }
}

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
