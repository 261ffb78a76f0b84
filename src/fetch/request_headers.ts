/**
 * A request's `Headers`, made from the parsed field list. Where the runtime lets it, the object
 * answers `get` and `has` from that list and fills the runtime's own header list (one
 * `Headers.append` per field, each of which checks again what the parser checked) only when
 * anything else is asked of it: iteration, a change, `getSetCookie`, inspection. A handler that
 * reads a few fields, the common case, then pays for none of the appends (docs/BENCHMARKS.md,
 * "Real requests": 14 appends cost 4.2 µs on Node).
 *
 * Whether the runtime lets it is found out once, by behaviour: an unfilled object is passed to
 * `new Headers`, `new Request` and the runtime's own `Response` and `Response.json`, as a handler
 * would pass `request.headers` on, and each must see the fields. A runtime that copies a `Headers`
 * by reading its internal list instead of iterating it (Bun everywhere, Deno's `Response`) fails,
 * and there the headers are filled at once, as before.
 *
 * @module
 */

import { isNamed } from "../core/_bytes.ts";
import { OriginalResponse } from "./response.ts";

const PROBE_NAME = "X-H1serve-Probe";
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A real `Headers` (a subclass) over a parsed field list, filled on first need.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHeaders } from "./request_headers.ts";
 *
 * const headers = new RequestHeaders(["Accept", "text/html", "cookie", "a=1", "Cookie", "b=2"]);
 * assert.ok(headers instanceof Headers);
 * assert.equal(headers.get("accept"), "text/html");
 * assert.equal(headers.get("Cookie"), "a=1; b=2");
 * assert.deepEqual([...headers], [["accept", "text/html"], ["cookie", "a=1; b=2"]]);
 * ```
 */
export class RequestHeaders extends Headers {
  /** The fields not yet given to the runtime's list (name, value, name, value…), or `null` once they are. */
  #fields: readonly string[] | null;

  /**
   * @param fields The parsed fields: name, value, name, value… (names as sent, values trimmed).
   */
  constructor(fields: readonly string[]) {
    super();
    this.#fields = fields;
  }

  /**
   * The value of a field, its repeats joined with `, ` (Cookie's with `; `), or `null`.
   * @param name A field name, in any case.
   * @returns The value, or `null` when there is no such field.
   */
  override get(name: string): string | null {
    const fields = this.#fields;
    if (fields !== null && typeof name === "string") {
      const value = valueOf(fields, name);
      if (value !== null || isPlainToken(name)) return value;
    }
    this.#fill();
    return super.get(name);
  }

  /**
   * Whether there is a field of that name.
   * @param name A field name, in any case.
   * @returns Whether the request has it.
   */
  override has(name: string): boolean {
    const fields = this.#fields;
    if (fields !== null && typeof name === "string") {
      if (valueOf(fields, name) !== null) return true;
      if (isPlainToken(name)) return false;
    }
    this.#fill();
    return super.has(name);
  }

  /** @inheritdoc */
  override append(name: string, value: string): void {
    this.#fill();
    super.append(name, value);
  }

  /** @inheritdoc */
  override set(name: string, value: string): void {
    this.#fill();
    super.set(name, value);
  }

  /** @inheritdoc */
  override delete(name: string): void {
    this.#fill();
    super.delete(name);
  }

  /** @inheritdoc */
  override getSetCookie(): string[] {
    this.#fill();
    return super.getSetCookie();
  }

  /** @inheritdoc */
  override entries(): ReturnType<Headers["entries"]> {
    this.#fill();
    return super.entries();
  }

  /** @inheritdoc */
  override keys(): ReturnType<Headers["keys"]> {
    this.#fill();
    return super.keys();
  }

  /** @inheritdoc */
  override values(): ReturnType<Headers["values"]> {
    this.#fill();
    return super.values();
  }

  /** @inheritdoc */
  override forEach(callback: (value: string, key: string, parent: never) => void, thisArg?: unknown): void {
    this.#fill();
    super.forEach(callback as Parameters<Headers["forEach"]>[0], thisArg);
  }

  /** @inheritdoc */
  override [Symbol.iterator](): ReturnType<Headers[typeof Symbol.iterator]> {
    this.#fill();
    return super[Symbol.iterator]();
  }

  /**
   * Node's `util.inspect` (and `console.log`) shows the fields, as for any `Headers`.
   * @param args What `util.inspect` passes: depth, options, inspect.
   * @returns What the runtime's `Headers` shows.
   */
  [INSPECT](...args: unknown[]): unknown {
    this.#fill();
    const inspect = (Headers.prototype as unknown as Record<symbol, unknown>)[INSPECT];
    return typeof inspect === "function" ? inspect.apply(this, args) : this;
  }

  #fill(): void {
    const fields = this.#fields;
    if (fields === null) return;
    this.#fields = null;
    appendFields(this, fields); // its own append, which goes straight to the runtime's now
  }
}

/**
 * A request's `Headers` for its parsed fields: a lazily filled {@link RequestHeaders} where the
 * runtime copies a `Headers` through its public methods, else a `Headers` filled at once.
 *
 * @param fields The parsed fields: name, value, name, value…
 * @returns The headers a handler sees as `request.headers`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestHeaders } from "./request_headers.ts";
 *
 * const headers = requestHeaders(["Host", "a.test", "X-A", "1", "x-a", "2"]);
 * assert.equal(headers.get("x-a"), "1, 2");
 * assert.deepEqual([...new Headers(headers)], [["host", "a.test"], ["x-a", "1, 2"]]);
 * ```
 */
export function requestHeaders(fields: readonly string[]): Headers {
  if (LAZY_HEADERS_PASS_ON) return new RequestHeaders(fields);
  const headers = new Headers();
  appendFields(headers, fields);
  return headers;
}

/**
 * Gives the fields to a `Headers` through `append`, Cookie's repeats joined with `; ` (RFC 9113
 * §8.2.3, and what `Deno.serve` and Node's and Bun's `Headers` do; Deno's own `append` would use `, `).
 */
function appendFields(headers: Headers, fields: readonly string[]): void {
  let cookieGiven = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (isNamed(name, "cookie")) {
      if (!cookieGiven) headers.append(name, valueOf(fields, "cookie", i)!); // every Cookie field, joined
      cookieGiven = true;
    } else {
      headers.append(name, fields[i + 1]);
    }
  }
}

/**
 * The value of the fields named `name` (in any case) from index `from` on, joined as `Headers.get`
 * joins them (Cookie's with `; `), or `null` when there are none.
 */
function valueOf(fields: readonly string[], name: string, from = 0): string | null {
  let value: string | null = null;
  const separator = isNamed(name, "cookie") ? "; " : ", ";
  for (let i = from; i < fields.length; i += 2) {
    if (sameName(fields[i], name)) {
      value = value === null ? fields[i + 1] : `${value}${separator}${fields[i + 1]}`;
    }
  }
  return value;
}

/** Whether two names are the same but for the case of ASCII letters (as `Headers` compares them). */
function sameName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const lower = x | 0x20;
    if (lower !== (y | 0x20) || lower < 0x61 || lower > 0x7a) return false; // only letters differ in case
  }
  return true;
}

/** Whether `name` is a field name (an RFC 9110 token), so that `get` of an absent one is plainly `null`. */
function isPlainToken(name: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
}

/** Whether an unfilled {@link RequestHeaders} reaches every copy a handler may make of it whole. */
function lazyHeadersPassOn(): boolean {
  const probe = () => new RequestHeaders([PROBE_NAME, "1"]);
  try {
    return [
      new Headers(probe()),
      new Request("http://probe.invalid/", { headers: probe() }).headers,
      new OriginalResponse(null, { headers: probe() }).headers,
      OriginalResponse.json(null, { headers: probe() }).headers,
    ].every((headers) => headers.get(PROBE_NAME) === "1");
  } catch {
    return false;
  }
}

// `headers.constructor` is `Headers`, as for the runtime's own request headers: code that makes
// another of the same kind (`new headers.constructor(init)`) gets a plain `Headers` from its init.
Object.defineProperty(RequestHeaders.prototype, "constructor", {
  value: Headers,
  writable: true,
  configurable: true,
  enumerable: false,
});

const LAZY_HEADERS_PASS_ON = lazyHeadersPassOn();
