/**
 * A request's `Headers` (src/fetch/request_headers.ts): the lazily filled `RequestHeaders` answers
 * every question as a `Headers` filled at once with the same fields does, before and after it is
 * filled, and `requestHeaders` (lazy only where the runtime copies a `Headers` through its public
 * methods) gives headers that every way of passing them on copies whole.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RequestHeaders, requestHeaders } from "../../src/fetch/request_headers.ts";
import { OriginalResponse } from "../../src/fetch/response.ts";

/** Field lists as the parser gives them: name, value, name, value… */
const FIELD_LISTS: readonly (readonly string[])[] = [
  [],
  ["Host", "a.test"],
  ["Host", "a.test", "Accept", "text/html", "accept", "*/*", "X-Empty", ""],
  ["Cookie", "a=1", "cookie", "b=2", "COOKIE", "c=3", "Host", "h"],
  ["Set-Cookie", "a=1; Path=/", "set-cookie", "b=2", "X-A", "1"],
  ["a^", "caret", "a~", "tilde", "Content-Length", "0"],
];

/** Names to ask about: each field's in three cases, and absent ones. */
function namesFor(fields: readonly string[]): string[] {
  const names = ["absent", "x-absent-name", "cookie", "set-cookie", "A^", "a~"];
  for (let i = 0; i < fields.length; i += 2) {
    names.push(fields[i], fields[i].toLowerCase(), fields[i].toUpperCase());
  }
  return names;
}

/** A `Headers` filled at once, as the server made them before: Cookie's repeats joined with `; `. */
function eager(fields: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (name.toLowerCase() === "cookie" && headers.has(name)) {
      headers.set(name, `${headers.get(name)}; ${fields[i + 1]}`);
    } else headers.append(name, fields[i + 1]);
  }
  return headers;
}

/** Everything a handler can read of a `Headers`, as one value. */
function view(headers: Headers, names: readonly string[]): unknown {
  return {
    get: names.map((name) => headers.get(name)),
    has: names.map((name) => headers.has(name)),
    entries: [...headers.entries()],
    keys: [...headers.keys()],
    values: [...headers.values()],
    forEach: (() => {
      const seen: string[][] = [];
      headers.forEach((value, key) => seen.push([key, value]));
      return seen;
    })(),
    setCookie: headers.getSetCookie(),
  };
}

describe("RequestHeaders, filled on first need", () => {
  test("get and has answer as a filled Headers does, for every name in any case and absent ones", () => {
    for (const fields of FIELD_LISTS) {
      const names = namesFor(fields);
      const lazy = new RequestHeaders(fields);
      const expected = eager(fields);
      for (const name of names) {
        assert.equal(lazy.get(name), expected.get(name), `get(${name}) of ${fields}`);
        assert.equal(lazy.has(name), expected.has(name), `has(${name}) of ${fields}`);
      }
      assert.ok(lazy instanceof Headers);
      assert.equal(lazy.constructor, Headers);
      assert.deepEqual(view(lazy, names), view(expected, names), `${fields}`);
    }
  });

  test("an invalid name throws the runtime's TypeError, as from a filled Headers", () => {
    // "\u212A" (the Kelvin sign) is "k" in lower case: not a token, so never the field "Key".
    for (const name of ["bad name", "a:b", "é", "", "\u212Aey"]) {
      for (const method of ["get", "has"] as const) {
        const expected = (() => {
          try {
            eager(["A", "1", "Key", "2"])[method](name);
            return null;
          } catch (error) {
            return (error as Error).name;
          }
        })();
        const actual = (() => {
          try {
            new RequestHeaders(["A", "1", "Key", "2"])[method](name);
            return null;
          } catch (error) {
            return (error as Error).name;
          }
        })();
        assert.equal(actual, expected, `${method}(${JSON.stringify(name)})`);
      }
    }
  });

  test("every change is made to the whole list: append, set and delete after reads, and before any", () => {
    const fields = ["Host", "a.test", "Accept", "text/html", "Cookie", "a=1", "cookie", "b=2"];
    const changes: ((headers: Headers) => void)[] = [
      (headers) => headers.append("accept", "*/*"),
      (headers) => headers.set("Host", "b.test"),
      (headers) => headers.delete("cookie"),
      (headers) => headers.append("Set-Cookie", "s=1"),
    ];
    for (const [i, change] of changes.entries()) {
      for (const readFirst of [false, true]) {
        const lazy = new RequestHeaders(fields);
        const expected = eager(fields);
        if (readFirst) assert.equal(lazy.get("host"), "a.test");
        change(lazy);
        change(expected);
        const names = namesFor(fields);
        assert.deepEqual(view(lazy, names), view(expected, names), `change ${i}, read first ${readFirst}`);
      }
    }
  });
});

describe("requestHeaders, lazy where the runtime allows it", () => {
  test("every way of passing a request's headers on copies them whole, the runtime's own Response too", () => {
    const fields = [
      "Host",
      "a.test",
      "Accept",
      "text/html",
      "X-A",
      "1",
      "x-a",
      "2",
      "Cookie",
      "a=1",
      "cookie",
      "b=2",
    ];
    const expected = [...eager(fields)];
    const copies: [string, (headers: Headers) => Headers][] = [
      ["new Headers", (headers) => new Headers(headers)],
      ["new Request", (headers) => new Request("http://a.test/", { headers }).headers],
      ["the runtime's new Response", (headers) => new OriginalResponse(null, { headers }).headers],
      ["the global new Response", (headers) => new Response("x", { headers }).headers],
      ["the runtime's Response.json", (headers) => OriginalResponse.json(1, { headers }).headers],
      ["Object.fromEntries", (headers) => new Headers(Object.fromEntries(headers))],
    ];
    for (const [label, copy] of copies) {
      const copied = [...copy(requestHeaders(fields))].filter(([name]) => name !== "content-type");
      assert.deepEqual(copied, expected, label);
    }
  });

  test("lazy on Node, whose Headers copies another by iterating it; filled at once on Deno and Bun", () => {
    // Bun copies a Headers from its internal list everywhere, and Deno's Response constructor does.
    const lazy = requestHeaders(["Host", "a.test"]) instanceof RequestHeaders;
    assert.equal(lazy, !("Deno" in globalThis) && !("Bun" in globalThis));
  });

  test("what a handler reads is what a filled Headers gives, lazy or not", () => {
    for (const fields of FIELD_LISTS) {
      const names = namesFor(fields);
      assert.deepEqual(view(requestHeaders(fields), names), view(eager(fields), names), `${fields}`);
      const headers = requestHeaders(fields);
      const Kind = headers.constructor as typeof Headers;
      assert.deepEqual([...new Kind(headers)], [...eager(fields)], "another of its kind");
    }
  });
});
