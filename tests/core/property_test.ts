/**
 * Property tests without a library: a seeded generator (mulberry32) builds random valid requests
 * (methods, targets, fields, bodies framed by Content-Length or chunked with extensions and
 * trailers), pipelines them, and mutates bytes. For every case:
 *   1. nothing but HttpError is ever raised, and only as an error event;
 *   2. the event log is the same whole, byte by byte, and for several random split patterns;
 *   3. an unmutated input gives exactly the requests it was built from.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChunkedDecoder, HttpError, resolveProtocolLimits } from "../../src/core/mod.ts";
import {
  assertLog,
  bytes,
  cut,
  type Expected,
  feedConnection,
  type FeedOptions,
  mulberry32,
  str,
} from "./_feed.ts";

type Random = () => number;

const int = (rand: Random, min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const chance = (rand: Random, p: number) => rand() < p;

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PCHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%";
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "X-CUSTOM", "purge"];

function randomText(rand: Random, alphabet: string, min: number, max: number): string {
  let text = "";
  const n = int(rand, min, max);
  for (let i = 0; i < n; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
  return text;
}

/** A field value: visible bytes, obs-text and inner whitespace, never surrounding whitespace. */
function randomValue(rand: Random): string {
  const n = int(rand, 0, 12);
  let value = "";
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.8) value += String.fromCharCode(int(rand, 0x21, 0x7e));
    else if (r < 0.9) value += String.fromCharCode(int(rand, 0x80, 0xff));
    else if (i > 0 && i < n - 1) value += pick(rand, [" ", "\t"]);
    else value += "v";
  }
  return value;
}

function randomFieldName(rand: Random): string {
  // Prefixed so that it never names a field the parser interprets.
  return `X-${randomText(rand, TCHARS, 1, 10)}`;
}

interface Built {
  text: string;
  expect: Expected[];
  keepAlive: boolean;
}

function randomBody(rand: Random): string {
  let body = "";
  const n = int(rand, 1, 40);
  for (let i = 0; i < n; i++) body += String.fromCharCode(int(rand, 0, 255));
  return body;
}

function randomExtension(rand: Random): string {
  let ext = "";
  const n = int(rand, 0, 2);
  for (let i = 0; i < n; i++) {
    ext += `${pick(rand, ["", " "])};${randomText(rand, TCHARS, 1, 5)}`;
    if (chance(rand, 0.5)) {
      ext += chance(rand, 0.5)
        ? `=${randomText(rand, TCHARS, 1, 5)}`
        : `="${randomText(rand, "ab ;=\\x", 0, 5).replace(/\\/g, "\\\\")}"`;
    }
  }
  return ext;
}

function randomRequest(rand: Random): Built {
  const method = pick(rand, METHODS);
  const http10 = chance(rand, 0.2);
  const target = `/${randomText(rand, PCHARS, 0, 20)}${
    chance(rand, 0.3) ? `?${randomText(rand, PCHARS + "/?", 0, 10)}` : ""
  }`;
  const headers: [string, string][] = [];
  if (!http10 || chance(rand, 0.5)) {
    headers.push([
      pick(rand, ["Host", "host", "HOST"]),
      pick(rand, ["a", "example.com:8080", "[::1]", "x.example"]),
    ]);
  }
  const extra = int(rand, 0, 5);
  for (let i = 0; i < extra; i++) headers.push([randomFieldName(rand), randomValue(rand)]);
  let keepAlive = !http10;
  if (http10 && chance(rand, 0.7)) {
    headers.push(["Connection", "keep-alive"]);
    keepAlive = true;
  } else if (!http10 && chance(rand, 0.1)) {
    headers.push(["Connection", "close"]);
    keepAlive = false;
  }
  let body = "";
  let framed = "";
  let trailers: [string, string][] = [];
  const kind = chance(rand, 0.5) ? "none" : http10 || chance(rand, 0.5) ? "length" : "chunked";
  if (kind === "length") {
    body = randomBody(rand);
    headers.splice(int(rand, 0, headers.length), 0, ["Content-Length", String(body.length)]);
    framed = body;
  } else if (kind === "chunked") {
    headers.splice(int(rand, 0, headers.length), 0, ["Transfer-Encoding", "chunked"]);
    const pieces = int(rand, 0, 3);
    for (let i = 0; i < pieces; i++) {
      const piece = randomBody(rand);
      body += piece;
      const size = piece.length.toString(16);
      framed += `${chance(rand, 0.3) ? size.toUpperCase() : size}${randomExtension(rand)}\r\n${piece}\r\n`;
    }
    framed += `0${randomExtension(rand)}\r\n`;
    const count = int(rand, 0, 2);
    for (let i = 0; i < count; i++) {
      const name = randomFieldName(rand);
      const value = randomValue(rand);
      trailers.push([name, value]);
      framed += `${name}:${pick(rand, ["", " ", "  "])}${value}\r\n`;
    }
    framed += "\r\n";
  }
  const version = http10 ? "HTTP/1.0" : "HTTP/1.1";
  const leading = chance(rand, 0.1) ? "\r\n" : "";
  const head = `${leading}${method} ${target} ${version}\r\n` +
    headers.map(([name, value]) =>
      `${name}:${pick(rand, ["", " ", "\t"])}${value}${pick(rand, ["", " "])}\r\n`
    ).join("") +
    "\r\n";
  const hosts = headers.filter(([name]) => name.toLowerCase() === "host");
  const expect: Expected[] = [{
    type: "request",
    method,
    target,
    version,
    headers,
    keepAlive,
    authority: hosts.length === 1 ? hosts[0][1] : null,
    bodyFraming: kind,
  }];
  if (kind !== "none") {
    if (body !== "") expect.push({ type: "data", data: body });
    trailers = kind === "chunked" ? trailers : [];
    expect.push({ type: "end", trailers });
  }
  expect.push({ type: "response" });
  return { text: head + framed, expect, keepAlive };
}

function randomPipeline(rand: Random): { text: string; expect: Expected[]; open: boolean } {
  let text = "";
  const expect: Expected[] = [];
  const count = int(rand, 1, 4);
  let open = true;
  for (let i = 0; i < count; i++) {
    const built = randomRequest(rand);
    text += built.text;
    if (open) expect.push(...built.expect);
    open &&= built.keepAlive;
  }
  return { text, expect, open };
}

const INTERESTING = [
  0x00,
  0x09,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x2c,
  0x30,
  0x3a,
  0x3b,
  0x3d,
  0x46,
  0x7f,
  0x80,
  0xff,
];

function mutate(rand: Random, input: Uint8Array): Uint8Array {
  const out = [...input];
  const count = int(rand, 1, 3);
  for (let i = 0; i < count; i++) {
    const at = int(rand, 0, Math.max(0, out.length - 1));
    const byte = chance(rand, 0.7) ? pick(rand, INTERESTING) : int(rand, 0, 255);
    switch (int(rand, 0, 3)) {
      case 0:
        out[at] = byte;
        break;
      case 1:
        out.splice(at, 0, byte);
        break;
      case 2:
        out.splice(at, 1);
        break;
      default:
        out.splice(at, 0, ...out.slice(at, at + int(rand, 1, 8)));
    }
  }
  return new Uint8Array(out);
}

function randomCuts(rand: Random, length: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  while (true) {
    at += int(rand, 1, Math.max(1, Math.min(40, length)));
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

/** Feeds whole, byte by byte and with three random split patterns; asserts they agree. */
function checkSplits(rand: Random, input: Uint8Array, options: FeedOptions) {
  const whole = feedConnection([input.slice()], options);
  const everyByte = Array.from({ length: input.length }, (_, i) => i + 1);
  const patterns = [
    everyByte,
    randomCuts(rand, input.length),
    randomCuts(rand, input.length),
    randomCuts(rand, input.length),
  ];
  for (const cuts of patterns) {
    assert.deepEqual(
      feedConnection(cut(input, cuts), options),
      whole,
      `split at ${cuts.join(",")} of ${JSON.stringify(str(input))}`,
    );
  }
  return whole;
}

describe("ServerConnection properties", () => {
  it("ServerConnection parses random valid pipelines exactly, in any split", () => {
    const rand = mulberry32(0x5eed);
    for (let n = 0; n < 150; n++) {
      const { text, expect, open } = randomPipeline(rand);
      const eof = chance(rand, 0.3);
      const result = checkSplits(rand, bytes(text), { eof });
      // After EOF a connection still open reports a clean close.
      assertLog(result.log, eof && open ? [...expect, { type: "close" }] : expect);
      assert.equal(result.writeState, open && !eof ? "idle" : "closed");
    }
  });

  it("ServerConnection raises nothing but HttpError events for random mutations, in any split", () => {
    const rand = mulberry32(0xbad5eed);
    const seen = new Set<string>();
    for (let n = 0; n < 300; n++) {
      const { text } = randomPipeline(rand);
      const input = mutate(rand, bytes(text));
      const small = chance(rand, 0.3);
      const options: FeedOptions = {
        eof: chance(rand, 0.5),
        respondEarly: chance(rand, 0.2),
        limits: small
          ? {
            maxHeaderBytes: 200,
            maxHeaderCount: 4,
            maxBodyBytes: 30,
            maxTrailerBytes: 40,
            maxDrainBytes: 10,
          }
          : {},
      };
      const result = checkSplits(rand, input, options);
      for (const entry of result.log) if (entry.type === "error") seen.add(entry.code);
    }
    // The mutations must actually reach the error paths, or this test proves nothing.
    assert.ok(seen.size >= 8, `error codes seen: ${[...seen].join(", ")}`);
  });

  it("ChunkedDecoder throws only HttpError for random mutated chunked bodies", () => {
    const rand = mulberry32(42);
    const limits = resolveProtocolLimits({ maxChunkExtensionBytes: 16, maxTrailerBytes: 64 });
    for (let n = 0; n < 300; n++) {
      let framed = "";
      for (let i = int(rand, 0, 3); i > 0; i--) {
        const piece = randomBody(rand);
        framed += `${piece.length.toString(16)}${randomExtension(rand)}\r\n${piece}\r\n`;
      }
      framed += `0\r\n${chance(rand, 0.5) ? "X-T: 1\r\n" : ""}\r\n`;
      const input = mutate(rand, bytes(framed));
      const decoder = new ChunkedDecoder(limits);
      let at = 0;
      try {
        while (at < input.length && !decoder.done) {
          const next = decoder.read(input, at, input.length, at);
          assert.ok(next > at || decoder.done, "read makes progress");
          at = next;
        }
      } catch (error) {
        assert.ok(error instanceof HttpError, String(error));
        assert.ok(
          error.offset >= 0 && error.offset <= input.length,
          `offset ${error.offset} within the input`,
        );
      }
    }
  });
});
