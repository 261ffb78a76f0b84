/**
 * The fast response classes on their own: `LightResponse` (FastResponse on Node) behaves as
 * `Response`, and what the server reads of a FastResponse through the outgoing-response protocol
 * (`src/fetch/outgoing.ts`) is what its headers say.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LightResponse } from "../../src/fetch/light_response.ts";
import { outgoing } from "../../src/fetch/outgoing.ts";
import { FastResponse, OriginalResponse } from "../../src/fetch/response.ts";

describe("FastResponse through the outgoing-response protocol", () => {
  test("the fields the server reads are the response's headers, before and after the handler changes them", () => {
    for (const body of ["text", new Uint8Array([1]), new ArrayBuffer(2), null]) {
      const response = new FastResponse(body);
      const fields = () => [...outgoing(response).fields].map(([name, value]) => [name, value]);
      // A string's Content-Type is the Fetch standard's on every runtime (Bun's own Response leaves it out).
      const expected = typeof body === "string"
        ? [["content-type", "text/plain;charset=UTF-8"]]
        : [...new OriginalResponse(body).headers];
      assert.deepEqual(fields(), expected, `a body of ${typeof body}`);
      response.headers.set("x-a", "1");
      assert.deepEqual(fields(), [...response.headers]);
      assert.ok(fields().some(([name]) => name === "x-a"));
    }
  });

  test("a record of one Content-Type (Hono's c.json) is one constant list for every response, until the headers are read", () => {
    for (const name of ["Content-Type", "content-type", "CONTENT-TYPE"]) {
      for (const body of ['{"a":1}', new Uint8Array([1])]) {
        const make = () => new FastResponse(body, { headers: { [name]: " application/json " } });
        const first = outgoing(make()).fields;
        assert.ok(Array.isArray(first) && Object.isFrozen(first), `${name}: a constant list`);
        assert.equal(outgoing(make()).fields, first, `${name}: the same list each time`);
        assert.deepEqual([...first], [
          ...new OriginalResponse(body, { headers: { [name]: "application/json" } }).headers,
        ]);
        const changed = make();
        changed.headers.set("x-a", "1");
        assert.deepEqual([...outgoing(changed).fields], [["content-type", "application/json"], ["x-a", "1"]]);
      }
    }
    const other =
      outgoing(new FastResponse("x", { headers: { "Content-Type": "text/html", "X-A": "1" } })).fields;
    assert.deepEqual([...other], [["content-type", "text/html"], ["x-a", "1"]]);
    assert.throws(() => new FastResponse("x", { headers: { "Content-Type": "a\nb" } }), TypeError);
  });

  test("a string body has the Fetch standard's Content-Type on every runtime, with fields of the handler's own too", () => {
    const type = (response: Response) => response.headers.get("content-type");
    assert.equal(type(new FastResponse("a")), "text/plain;charset=UTF-8");
    const withFields = new FastResponse("a", { headers: { "x-a": "1" } });
    assert.deepEqual(
      [...outgoing(withFields).fields].find(([name]) => name === "content-type")?.[1],
      "text/plain;charset=UTF-8",
    );
    assert.equal(type(new FastResponse("a", { headers: { "content-type": "text/html" } })), "text/html");
    assert.equal(type(new FastResponse(new Uint8Array(1))), null, "bytes have no type of their own");
    assert.equal(new LightResponse("a").headers.get("content-type"), "text/plain;charset=UTF-8");
  });

  test("a string body is given to the server whole, and a byte body once, as a copy", () => {
    const text = new FastResponse("hello");
    assert.equal(outgoing(text).body, "hello");
    assert.equal(outgoing(text).body, "hello", "a string can be sent again");
    const source = new Uint8Array([1, 2, 3]);
    const bytes = new FastResponse(source);
    const copy = outgoing(bytes).body;
    assert.ok(copy instanceof Uint8Array && copy !== source);
    assert.deepEqual([...copy], [1, 2, 3]);
    assert.equal(outgoing(bytes).body, null, "the copy is the server's: the next read is the stream's");
  });

  test("a response whose body the handler read gives no body: the server reads its stream", async () => {
    const response = new FastResponse("read");
    await response.text();
    assert.equal(outgoing(response).body, null);
    assert.equal(outgoing(new OriginalResponse("plain")).body, null);
  });
});

/** A real Response's fields, with the Content-Type of a string body that Bun's leaves out (as h1serve adds it). */
function realHeaders(body: unknown, real: Response): [string, string][] {
  const fields = [...real.headers];
  if (typeof body === "string" && !real.headers.has("content-type")) {
    fields.unshift(["content-type", "text/plain;charset=UTF-8"]);
  }
  return fields;
}

describe("LightResponse (FastResponse on Node) behaves as Response", () => {
  test("it checks its arguments as Response does", () => {
    assert.throws(() => new LightResponse("x", { status: 99 }), RangeError);
    assert.throws(() => new LightResponse("x", { status: 600 }), RangeError);
    assert.throws(() => new LightResponse("x", { status: 204 }), TypeError);
    assert.throws(() => new LightResponse("x", { statusText: "a\r\nb" }), TypeError);
    assert.throws(() => new LightResponse("x", { headers: { "bad name": "1" } }), TypeError);
    assert.equal(new LightResponse(null, { status: 204 }).status, 204);
  });

  test("its status, headers and type are those of a Response with the same arguments", () => {
    for (
      const [body, init] of [["text", { status: 201, statusText: "Made" }], [
        new Uint8Array([1]),
        {},
      ]] as const
    ) {
      const light = new LightResponse(body, init);
      const real = new OriginalResponse(body, init);
      assert.deepEqual(
        [light.status, light.statusText, light.ok, light.type, light.url, light.redirected, [
          ...light.headers,
        ]],
        [
          real.status,
          real.statusText,
          real.ok,
          real.type,
          real.url,
          real.redirected,
          realHeaders(body, real),
        ],
      );
    }
    assert.ok(new LightResponse("a") instanceof OriginalResponse);
    assert.equal(Object.prototype.toString.call(new LightResponse("a")), "[object Response]");
  });

  test("it copies a byte body when made, as the Fetch standard says", async () => {
    const source = new Uint8Array([1, 2, 3]);
    const response = new LightResponse(source);
    source[0] = 9;
    assert.deepEqual([...new Uint8Array(await response.arrayBuffer())], [1, 2, 3]);
  });

  test("fields given as a record are sent as the response's headers hold them", () => {
    const records: Record<string, string>[] = [
      { "Content-Type": "text/html", "X-B": " padded\t", "x-a": "1" },
      { "x-only": "v" },
      { "Set-Cookie": "a=1", "Cache-Control": "no-store", "content-length": "4" },
      { "X-Twice": "1", "x-twice": "2" },
      {},
    ];
    for (const body of ["text", new Uint8Array([1, 2, 3, 4])]) {
      for (const record of records) {
        const response = new FastResponse(body, { headers: record });
        const sent = [...outgoing(response).fields].map(([name, value]) => [name, value]);
        assert.deepEqual(sent, [...response.headers], `${JSON.stringify(record)} with a ${typeof body} body`);
      }
    }
    assert.throws(() => new FastResponse("x", { headers: { "bad name": "v" } }), TypeError);
  });

  test("json: application/json unless the handler gives a Content-Type, in the headers and in what the server sends", () => {
    for (const Class of [FastResponse, LightResponse as unknown as typeof Response]) {
      const sent = (response: Response) => Object.fromEntries(outgoing(response).fields);
      const plain = Class.json({ a: 1 }, { status: 201 });
      assert.equal(plain.status, 201);
      assert.deepEqual(
        sent(plain),
        Object.fromEntries(
          new OriginalResponse("{}", { headers: plain.headers })
            .headers,
        ),
      );
      assert.equal(sent(Class.json(null))["content-type"], "application/json");
      assert.equal(Class.json([]).headers.get("content-type"), "application/json");
      const read = Class.json(1);
      read.headers.set("x-a", "1");
      assert.deepEqual(sent(read), { "content-type": "application/json", "x-a": "1" });
      const typed = Class.json(1, { headers: { "content-type": "application/problem+json" } });
      assert.equal(sent(typed)["content-type"], "application/problem+json");
      assert.equal(sent(Class.json(1, { headers: { "x-b": "2" } }))["content-type"], "application/json");
      assert.throws(() => Class.json(undefined), TypeError);
    }
    // The standard's check of a null-body status (Bun's own Response.json does not make it).
    assert.throws(() => LightResponse.json(1, { status: 204 }), TypeError);
  });

  test("its body reads once, in any form, and members it lacks come from a real Response", async () => {
    const response = new LightResponse("héllo");
    const copy = response.clone();
    assert.equal(await (await copy.blob()).text(), "héllo");
    assert.equal(await response.text(), "héllo");
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), TypeError);
    assert.throws(() => response.clone(), TypeError);
    const streamed = new LightResponse("abc");
    assert.equal(await new OriginalResponse(streamed.body).text(), "abc");
    assert.deepEqual(await LightResponse.json({ a: [1] }).json(), { a: [1] });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("from a stream"));
        controller.close();
      },
    });
    assert.equal(await new LightResponse(stream).text(), "from a stream");
  });
});
