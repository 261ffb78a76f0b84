/**
 * What lets a lazily built object stand in for a runtime class (`Request`, `Response`): its
 * prototype is chained to the class's, so that `instanceof` holds, and every member of the class
 * (and of the prototypes above it, such as the Body mixin) that the stand-in does not define
 * itself is answered by the real object, made on first such use.
 *
 * @module
 */

/**
 * Makes `standIn` a stand-in for `native`.
 *
 * @param standIn The stand-in class's prototype.
 * @param native The runtime class's prototype.
 * @param tag What `Object.prototype.toString` names it.
 * @param real Makes (once) and returns the real object behind a stand-in.
 *
 * @example A lazy Headers that makes the real one on first use
 * ```ts
 * import assert from "node:assert/strict";
 * import { standIn } from "./stand_in.ts";
 *
 * class LazyHeaders {
 *   #real: Headers | null = null;
 *   real(): Headers {
 *     return (this.#real ??= new Headers({ "x-a": "1" }));
 *   }
 * }
 * standIn(LazyHeaders.prototype, Headers.prototype, "Headers", (self) => (self as LazyHeaders).real());
 * const headers = new LazyHeaders() as unknown as Headers;
 * assert.ok(headers instanceof Headers);
 * assert.equal(headers.get("x-a"), "1");
 * assert.equal(Object.prototype.toString.call(headers), "[object Headers]");
 * ```
 */
export function standIn(standIn: object, native: object, tag: string, real: (self: object) => object): void {
  Object.setPrototypeOf(standIn, native);
  for (let proto = native; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key === "constructor" || Object.prototype.hasOwnProperty.call(standIn, key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
      if (typeof descriptor.get === "function") {
        Object.defineProperty(standIn, key, {
          get(this: object) {
            return Reflect.get(real(this), key);
          },
          configurable: true,
        });
      } else if (typeof descriptor.value === "function") {
        Object.defineProperty(standIn, key, {
          value: function (this: object, ...args: unknown[]) {
            const target = real(this);
            return (Reflect.get(target, key) as (...a: unknown[]) => unknown).apply(target, args);
          },
          configurable: true,
          writable: true,
        });
      }
    }
  }
  Object.defineProperty(standIn, Symbol.toStringTag, { value: tag, configurable: true });
}
