/**
 * The opening handshake (RFC 6455 §4.2) and the permessage-deflate negotiation (RFC 7692 §5,
 * §7.1): what a valid upgrade request needs, each refusal, the accept key, subprotocols and
 * extension offers.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  acceptKey,
  checkWebSocketRequest,
  type HttpVersion,
  negotiateDeflate,
  parseExtensions,
  selectProtocol,
} from "../../../src/core/mod.ts";

const VALID = [
  "Host",
  "example.com",
  "Upgrade",
  "websocket",
  "Connection",
  "Upgrade",
  "Sec-WebSocket-Key",
  "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version",
  "13",
];

/** The valid fields with one field replaced (or removed, for `null`). */
function withField(name: string, value: string | null, fields: string[] = VALID): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === name) {
      if (value !== null) out.push(name, value);
    } else out.push(fields[i], fields[i + 1]);
  }
  if (value !== null && !fields.includes(name)) out.push(name, value);
  return out;
}

const check = (fields: string[], method = "GET", version: HttpVersion = "HTTP/1.1") =>
  checkWebSocketRequest({ method, version, fields });

describe("checkWebSocketRequest", () => {
  it("accepts the request of RFC 6455 §1.2, with tokens of any case and lists", () => {
    const checked = check(withField("Connection", "keep-alive, UPGRADE", withField("Upgrade", "WebSocket")));
    assert.deepEqual(checked, { key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: [], extensions: [] });
  });

  const refusals: [string, string[], string, HttpVersion, number][] = [
    ["a POST", VALID, "POST", "HTTP/1.1", 400],
    ["HTTP/1.0", VALID, "GET", "HTTP/1.0", 400],
    ["no Upgrade", withField("Upgrade", null), "GET", "HTTP/1.1", 400],
    ["Upgrade: h2c", withField("Upgrade", "h2c"), "GET", "HTTP/1.1", 400],
    ["no Connection: upgrade", withField("Connection", "keep-alive"), "GET", "HTTP/1.1", 400],
    ["no key", withField("Sec-WebSocket-Key", null), "GET", "HTTP/1.1", 400],
    ["a 15-byte key", withField("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j"), "GET", "HTTP/1.1", 400],
    [
      "a key that is not base64",
      withField("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ!="),
      "GET",
      "HTTP/1.1",
      400,
    ],
    ["two keys", [...VALID, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="], "GET", "HTTP/1.1", 400],
    ["version 8", withField("Sec-WebSocket-Version", "8"), "GET", "HTTP/1.1", 426],
    ["no version", withField("Sec-WebSocket-Version", null), "GET", "HTTP/1.1", 426],
    ["a protocol that is not a token", [...VALID, "Sec-WebSocket-Protocol", "a b"], "GET", "HTTP/1.1", 400],
    [
      "a malformed extension",
      [...VALID, "Sec-WebSocket-Extensions", "permessage-deflate; =1"],
      "GET",
      "HTTP/1.1",
      400,
    ],
  ];
  for (const [name, fields, method, version, status] of refusals) {
    it(`refuses ${name} with ${status}`, () => {
      const checked = check(fields, method, version);
      assert("status" in checked, JSON.stringify(checked));
      assert.equal(checked.status, status);
      assert.deepEqual(checked.headers, status === 426 ? [["sec-websocket-version", "13"]] : []);
      assert.doesNotMatch(checked.message, /\r|\n/);
    });
  }

  it("collects the offered protocols and extensions from every field line, in order", () => {
    const checked = check([
      ...VALID,
      "Sec-WebSocket-Protocol",
      "chat, superchat",
      "Sec-WebSocket-Protocol",
      "v2",
      "Sec-WebSocket-Extensions",
      "permessage-deflate; client_max_window_bits",
    ]);
    assert("key" in checked);
    assert.deepEqual(checked.protocols, ["chat", "superchat", "v2"]);
    assert.deepEqual(checked.extensions, [{
      name: "permessage-deflate",
      params: [["client_max_window_bits", true]],
    }]);
  });
});

describe("acceptKey", () => {
  it("gives RFC 6455's example and agrees with node:crypto on other keys", () => {
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    for (const key of ["AAAAAAAAAAAAAAAAAAAAAA==", "x3JJHMbDL1EzLkh9GBhXDw==", "/////////////////////w=="]) {
      const expected = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest(
        "base64",
      );
      assert.equal(acceptKey(key), expected);
    }
  });
});

describe("parseExtensions and selectProtocol", () => {
  it("parses names and parameters, quoted values unquoted, and refuses what is not tokens", () => {
    assert.deepEqual(
      parseExtensions('permessage-deflate;server_no_context_takeover ; server_max_window_bits="10"'),
      [
        {
          name: "permessage-deflate",
          params: [["server_no_context_takeover", true], ["server_max_window_bits", "10"]],
        },
      ],
    );
    assert.deepEqual(parseExtensions(" , "), []);
    for (const bad of ["a;b=", "a b", 'a;b="c d"', ";x"]) assert.equal(parseExtensions(bad), null, bad);
  });

  it("chooses the client's first protocol the server supports", () => {
    assert.equal(selectProtocol(["b", "a"], ["a", "b"]), "b");
    assert.equal(selectProtocol([], ["a"]), "");
  });
});

describe("negotiateDeflate", () => {
  const offer = (value: string) => parseExtensions(value)!;

  it("accepts a bare offer with no parameters in the answer", () => {
    const agreed = negotiateDeflate(offer("permessage-deflate"), {});
    assert.equal(agreed?.header, "permessage-deflate");
    assert.deepEqual(agreed?.parameters, {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    });
  });

  it("echoes server_no_context_takeover and the server window asked for, and adds the server's own wishes", () => {
    const agreed = negotiateDeflate(
      offer(
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits",
      ),
      { clientNoContextTakeover: true, clientMaxWindowBits: 11, serverMaxWindowBits: 12 },
    );
    assert.equal(
      agreed?.header,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11",
    );
    assert.equal(agreed?.parameters.serverMaxWindowBits, 10);
    assert.equal(agreed?.parameters.clientMaxWindowBits, 11);
  });

  it("never asks for client_max_window_bits the client did not offer", () => {
    assert.equal(
      negotiateDeflate(offer("permessage-deflate"), { clientMaxWindowBits: 10 })?.header,
      "permessage-deflate",
    );
  });

  const declined = [
    "permessage-deflate; server_max_window_bits=8",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=010",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; x_unknown",
    "x-webkit-deflate-frame",
  ];
  for (const value of declined) {
    it(`declines ${value}`, () => assert.equal(negotiateDeflate(offer(value), {}), null));
  }

  it("takes the first offer it can accept", () => {
    const agreed = negotiateDeflate(
      offer("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9"),
      {},
    );
    assert.equal(agreed?.header, "permessage-deflate; server_max_window_bits=9");
  });
});
