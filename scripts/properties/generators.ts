/**
 * The fast-check arbitraries of the properties, and the pipeline builder and mutator:
 * - inputs for properties (a) to (c) ({@link inputArb}): random bytes, token soup, request
 *   smuggling material, valid pipelines and mutated valid pipelines;
 * - how to drive them ({@link driveOptionsArb}: EOF, early answers, small limits) and how to split
 *   them ({@link sizesArb});
 * - for property (d), valid pipelines ({@link pipelineSpecArb}, serialized by
 *   {@link buildPipeline} with the zone and item of every byte and the requests they must parse
 *   to) and byte edits ({@link editsArb}, applied by {@link applyEdits}, which tells the oracle
 *   what the edits touched).
 *
 * Used by `properties.ts` (and so by `tests/core/fast_check_test.ts` and `scripts/fuzz.ts`).
 *
 * @module
 */

import fc from "fast-check";
import type { ProtocolLimits } from "../../src/core/mod.ts";
import { bytes, str } from "./bytes.ts";
import type { DriveOptions, ParsedRequest } from "./drive.ts";

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%/?";

const charOf = (alphabet: string): fc.Arbitrary<string> => fc.constantFrom(...alphabet.split(""));
const latin1Char: fc.Arbitrary<string> = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const tokenArb = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: charOf(TCHARS), minLength, maxLength });

/** A field value: field-vchar, obs-text and inner whitespace, never surrounding whitespace. */
const valueArb: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
    { weight: 1, arbitrary: charOf(" \t") },
  ),
  maxLength: 12,
}).map((value) => value.replace(/^[ \t]+|[ \t]+$/g, ""));

const owsArb: fc.Arbitrary<string> = fc.constantFrom("", " ", "\t", "  ", " \t");

/** A header or trailer field line's parts. */
export interface FieldSpec {
  readonly name: string;
  readonly ows1: string;
  readonly value: string;
  readonly ows2: string;
}

/** Fields with an `X-` name, so that none is interpreted by the parser. */
const freeFieldArb: fc.Arbitrary<FieldSpec> = fc.record({
  name: tokenArb(1, 10).map((name) => `X-${name}`),
  ows1: owsArb,
  value: valueArb,
  ows2: owsArb,
});

/** Body bytes: any byte, often ones that look like framing. */
const dataArb = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(latin1Char, charOf("\r\n0123456789abcdef;: GET/HTTP1.")),
    minLength,
    maxLength,
  });

const quotedArb: fc.Arbitrary<string> = fc.string({ unit: charOf('ab ;=\\"\t\x80'), maxLength: 5 })
  .map((text) => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

/** Chunk extensions (RFC 9112 §7.1.1): `*( BWS ";" BWS name [ BWS "=" BWS value ] )`. */
const extArb: fc.Arbitrary<string> = fc.array(
  fc.record({
    bws1: fc.constantFrom("", " ", "\t"),
    bws2: fc.constantFrom("", " "),
    name: tokenArb(1, 5),
    value: fc.option(fc.oneof(tokenArb(1, 5), quotedArb), { nil: null }),
    bws3: fc.constantFrom("", " "),
  }),
  { maxLength: 2 },
).map((exts) =>
  exts.map((e) => `${e.bws1};${e.bws2}${e.name}${e.value === null ? "" : `${e.bws3}=${e.bws3}${e.value}`}`)
    .join("")
);

/** One chunk: its data, and how its size is written. */
export interface ChunkSpec {
  readonly data: string;
  readonly zeros: number;
  readonly upper: boolean;
  readonly ext: string;
}

const chunkArb: fc.Arbitrary<ChunkSpec> = fc.record({
  data: dataArb(1, 20),
  zeros: fc.nat(2),
  upper: fc.boolean(),
  ext: extArb,
});

/** The random choices behind one valid request; {@link buildPipeline} resolves them. */
export interface RequestSpec {
  readonly lead: boolean;
  readonly method: string;
  readonly target: string;
  readonly http10: boolean;
  readonly hostName: string;
  readonly host: string;
  readonly omitHost: boolean;
  readonly extra: readonly FieldSpec[];
  readonly framing: "none" | "zero" | "length" | "chunked";
  readonly clName: string;
  readonly clForm: number;
  readonly teName: string;
  readonly teValue: string;
  readonly body: string;
  readonly chunks: readonly ChunkSpec[];
  readonly lastZeros: number;
  readonly lastExt: string;
  readonly trailers: readonly FieldSpec[];
  readonly expect: boolean;
  readonly close: boolean;
  readonly places: readonly number[];
}

const requestSpecArb: fc.Arbitrary<RequestSpec> = fc.record({
  lead: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  method: fc.oneof(
    fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "purge"),
    tokenArb(1, 8),
  ).filter((method) => method !== "CONNECT"),
  target: fc.string({ unit: charOf(PCHARS), maxLength: 20 }).map((path) => `/${path}`),
  http10: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  hostName: fc.constantFrom("Host", "host", "HOST"),
  host: fc.constantFrom(
    "a",
    "example.com",
    "example.com:8080",
    "[::1]",
    "x.example",
    "127.0.0.1:80",
    "h-1.example",
  ),
  omitHost: fc.boolean(),
  extra: fc.array(freeFieldArb, { maxLength: 4 }),
  framing: fc.constantFrom("none", "zero", "length", "length", "chunked", "chunked"),
  clName: fc.constantFrom("Content-Length", "content-length", "CONTENT-LENGTH"),
  clForm: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2) }),
  teName: fc.constantFrom("Transfer-Encoding", "transfer-encoding"),
  teValue: fc.constantFrom("chunked", "Chunked", "CHUNKED"),
  body: dataArb(1, 40),
  chunks: fc.array(chunkArb, { maxLength: 3 }),
  lastZeros: fc.nat(2),
  lastExt: extArb,
  trailers: fc.array(freeFieldArb, { maxLength: 2 }),
  expect: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  close: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  places: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
});

/** One to three valid requests, pipelined. */
export const pipelineSpecArb: fc.Arbitrary<RequestSpec[]> = fc.array(requestSpecArb, {
  minLength: 1,
  maxLength: 3,
});

/** Where a byte sits, for the mutation oracle. The order is the priority for an insertion between two zones. */
export const STRICT = 0; // pure syntax (SP of the request line, CRLFs): a change must be refused or be no change
export const FREE = 1; // free text (method, target, field names and values, chunk extensions): may change its item only
export const BODY = 2; // body data: may be overwritten (its item changes); an insertion or deletion reframes
export const DECL = 3; // declares framing or semantics (version, Content-Length, chunk sizes, …): anything consistent

/** A built pipeline: its bytes, the zone and item of every byte, and the requests it must parse to. */
export interface Pipeline {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly zones: readonly number[];
  /** Item id of every byte, or -1: an item is one request line, field, body, trailer or chunk extension. */
  readonly items: readonly number[];
  /** Item keys by id: `"<request>:line"`, `"<request>:f<index>"`, `"<request>:body"`, `"<request>:t<index>"`, `"<request>:ext"`. */
  readonly keys: readonly string[];
  /** Gaps (insertion points, by the index of the byte after them) that belong to an item although no byte of it borders them. */
  readonly gapItems: ReadonlyMap<number, number>;
  /** Stream offset just past each request. */
  readonly ends: readonly number[];
  /** What each request must parse to. */
  readonly expected: readonly ParsedRequest[];
}

class Emitter {
  text = "";
  zones: number[] = [];
  items: number[] = [];
  keys: string[] = [];
  gapItems = new Map<number, number>();

  get length(): number {
    return this.text.length;
  }

  item(key: string): number {
    this.keys.push(key);
    return this.keys.length - 1;
  }

  emit(text: string, zone: number, item = -1): void {
    this.text += text;
    for (let i = 0; i < text.length; i++) {
      this.zones.push(zone);
      this.items.push(item);
    }
  }

  ownGaps(from: number, to: number, item: number): void {
    for (let g = from; g <= to; g++) this.gapItems.set(g, item);
  }
}

interface BuiltField extends FieldSpec {
  readonly kind: "free" | "host" | "decl";
}

function buildRequest(e: Emitter, spec: RequestSpec, i: number, last: boolean): ParsedRequest {
  const start = e.length;
  if (spec.lead) e.emit("\r\n", STRICT);
  const line = e.item(`${i}:line`);
  const version = spec.http10 ? "HTTP/1.0" : "HTTP/1.1";
  e.emit(spec.method, FREE, line);
  e.emit(" ", STRICT);
  e.emit(spec.target, FREE, line);
  e.emit(" ", STRICT);
  e.emit(version, DECL);
  e.emit("\r\n", STRICT);

  const fields: BuiltField[] = spec.extra.map((field) => ({ ...field, kind: "free" }));
  const place = (field: BuiltField, k: number) =>
    fields.splice(spec.places[k] % (fields.length + 1), 0, field);
  const decl = (name: string, value: string): BuiltField => ({
    name,
    ows1: " ",
    value,
    ows2: "",
    kind: "decl",
  });
  if (!spec.http10 || !spec.omitHost) {
    place({ name: spec.hostName, ows1: " ", value: spec.host, ows2: "", kind: "host" }, 0);
  }
  // HTTP/1.0 has no chunked coding: its body is framed by Content-Length.
  const framing = spec.http10 && spec.framing === "chunked" ? "length" : spec.framing;
  if (framing === "zero") place(decl(spec.clName, "0"), 1);
  if (framing === "length") {
    const n = String(spec.body.length);
    place(decl(spec.clName, spec.clForm === 1 ? `${n}, ${n}` : n), 1);
    if (spec.clForm === 2) place(decl("Content-Length", n), 2);
  }
  if (framing === "chunked") place(decl(spec.teName, spec.teValue), 1);
  // Every request but the last keeps the connection open, so that the pipeline goes on.
  const close = last && spec.close;
  let keepAlive = true;
  if (spec.http10) {
    if (close) keepAlive = false;
    else place(decl("Connection", "keep-alive"), 3);
  } else if (close) {
    place(decl("Connection", "close"), 3);
    keepAlive = false;
  }
  if (spec.expect && (framing === "length" || framing === "chunked")) {
    place(decl("Expect", "100-continue"), 4);
  }

  fields.forEach((field, j) => {
    const rest = `${field.ows1}${field.value}${field.ows2}`;
    if (field.kind === "decl") e.emit(`${field.name}:${rest}`, DECL);
    else {
      const item = e.item(`${i}:f${j}`);
      e.emit(field.name, field.kind === "host" ? DECL : FREE, item);
      e.emit(`:${rest}`, FREE, item);
      // An insertion anywhere after the colon, up to the CR, changes this field's value.
      e.ownGaps(e.length - rest.length, e.length, item);
    }
    e.emit("\r\n", STRICT);
  });
  e.emit("\r\n", STRICT);
  const headEnd = e.length;

  let body = "";
  const trailers: [string, string][] = [];
  if (framing === "length") {
    body = spec.body;
    e.emit(body, BODY, e.item(`${i}:body`));
  } else if (framing === "chunked") {
    const bodyItem = e.item(`${i}:body`);
    const extItem = e.item(`${i}:ext`);
    const emitExt = (ext: string) => {
      if (ext === "") return;
      // Up to the first ";", a change can turn into a size digit; after it, extension text.
      const semi = ext.indexOf(";");
      e.emit(ext.slice(0, semi + 1), DECL);
      e.emit(ext.slice(semi + 1), FREE, extItem);
    };
    for (const chunk of spec.chunks) {
      const size = chunk.data.length.toString(16);
      e.emit("0".repeat(chunk.zeros) + (chunk.upper ? size.toUpperCase() : size), DECL);
      emitExt(chunk.ext);
      e.emit("\r\n", STRICT);
      e.emit(chunk.data, BODY, bodyItem);
      e.emit("\r\n", STRICT);
      body += chunk.data;
    }
    e.emit("0".repeat(1 + spec.lastZeros), DECL);
    emitExt(spec.lastExt);
    e.emit("\r\n", STRICT);
    spec.trailers.forEach((field, j) => {
      const item = e.item(`${i}:t${j}`);
      const rest = `${field.ows1}${field.value}${field.ows2}`;
      e.emit(field.name, FREE, item);
      e.emit(`:${rest}`, FREE, item);
      e.ownGaps(e.length - rest.length, e.length, item);
      e.emit("\r\n", STRICT);
      trailers.push([field.name, field.value]);
    });
    e.emit("\r\n", STRICT);
  }
  return {
    method: spec.method,
    target: spec.target,
    version,
    fields: fields.map((field) => [field.name, field.value]),
    bodyFraming: framing === "zero" ? "none" : framing,
    contentLength: framing === "length" ? body.length : 0,
    keepAlive,
    headLength: headEnd - start,
    headEnd,
    body,
    trailers,
    end: e.length,
  };
}

/** Serializes requests, recording the zone and item of every byte and what each request must parse to. */
export function buildPipeline(specs: readonly RequestSpec[]): Pipeline {
  const e = new Emitter();
  const expected: ParsedRequest[] = [];
  // A request that closes the connection ends the pipeline.
  for (let i = 0; i < specs.length; i++) {
    const request = buildRequest(e, specs[i], i, i === specs.length - 1);
    expected.push(request);
  }
  // An empty line that ends a head or a trailer section can become a field line when text is
  // inserted before its CR, and then the next "\r\n" ends the section instead: the next request's
  // leading empty line, or body bytes that read as field lines. Such an empty line declares
  // framing.
  const declare = (at: number) => e.zones.splice(at, 2, DECL, DECL);
  for (const request of expected) {
    if (request.bodyFraming === "length" || e.text.startsWith("\r\n", request.headEnd)) {
      declare(request.headEnd - 2);
    }
    if (request.bodyFraming === "chunked" && e.text.startsWith("\r\n", request.end)) declare(request.end - 2);
  }
  return {
    text: e.text,
    bytes: bytes(e.text),
    zones: e.zones,
    items: e.items,
    keys: e.keys,
    gapItems: e.gapItems,
    ends: expected.map((request) => request.end),
    expected,
  };
}

/**
 * One byte mutation. `at` picks the place modulo the number of candidates: every byte (or gap), or
 * with a focus only those in DECL places (framing declarations) or in STRICT ones (syntax).
 */
export interface Edit {
  readonly op: "replace" | "flip" | "insert" | "delete";
  readonly focus: "any" | "decl" | "strict";
  readonly at: number;
  readonly byte: number;
  readonly bit: number;
}

/** The bytes that matter most to an HTTP/1.1 parser. */
const INTERESTING = [...'\r\n \t\0:;,"=0123456789abcdefABCDEF'].map((c) => c.charCodeAt(0))
  .concat([0x7f, 0x80, 0xff]);

/** One to three mutations, mostly with bytes that matter to the grammar. */
export const editsArb: fc.Arbitrary<Edit[]> = fc.array(
  fc.record({
    op: fc.constantFrom("replace", "flip", "insert", "delete"),
    focus: fc.constantFrom("any", "any", "decl", "strict"),
    at: fc.nat(),
    byte: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...INTERESTING) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    bit: fc.nat(7),
  }),
  { minLength: 1, maxLength: 3 },
);

/** A pipeline after mutation, with what the oracle needs to know about the edits. */
export interface Mutated {
  readonly bytes: Uint8Array;
  /** Every edit changed only STRICT or FREE places, and overwrote body bytes at most (so the oracle's local rule applies). */
  readonly local: boolean;
  /** Keys of the items an edit changed. */
  readonly touched: ReadonlySet<string>;
  /** Where each original request now ends (just past its last byte), or -1 if that byte was deleted. */
  readonly ends: readonly number[];
  /** The first index where the mutated bytes differ from the original ones (Infinity if none). */
  readonly firstChange: number;
}

const CR = 0x0d;
const LF = 0x0a;

/** Applies edits to a pipeline, tracking which zones and items they touched and where each request now ends. */
export function applyEdits(pipeline: Pipeline, edits: readonly Edit[]): Mutated {
  const b = Array.from(pipeline.bytes);
  const zone = pipeline.zones.slice();
  const item = pipeline.items.slice();
  const orig = b.map((_, i) => i);
  const changed = b.map(() => false);
  const touched = new Set<number>();
  const deleted = new Set<number>();
  let local = true;
  // Edits that write or erase a CR or LF outside body data: two of them can make or move a line.
  let lineEdits = 0;
  const touch = (z: number, it: number, resize: boolean) => {
    if (z === DECL || (z === BODY && resize)) local = false;
    else if (z !== STRICT && it >= 0) touched.add(it);
  };
  const place = (edit: Edit, n: number): number => {
    if (edit.focus !== "any") {
      const want = edit.focus === "decl" ? DECL : STRICT;
      let candidates = 0;
      for (let j = 0; j < n; j++) if (zone[j] === want) candidates++;
      let pick = candidates === 0 ? -1 : edit.at % candidates;
      for (let j = 0; j < n; j++) if (zone[j] === want && pick-- === 0) return j;
    }
    return edit.at % (edit.op === "insert" ? n + 1 : n);
  };
  for (const edit of edits) {
    const n = b.length;
    if (edit.op === "insert") {
      // Inserting a byte before an equal byte gives the same bytes as inserting it after: take the
      // last such place, so that equal results get one reading ("\r" "\n" + "\n" is "\r\n" + "\n").
      let at = place(edit, n);
      while (at < n && b[at] === edit.byte) at++;
      const left = at > 0 ? zone[at - 1] : STRICT;
      const right = at < n ? zone[at] : STRICT;
      let z = Math.max(left, right);
      const gap = at < n && orig[at] !== -1
        ? orig[at]
        : at > 0 && orig[at - 1] !== -1
        ? orig[at - 1] + 1
        : -1;
      const owner = gap === -1 ? undefined : pipeline.gapItems.get(gap);
      let it = -1;
      if (z <= FREE) {
        if (owner !== undefined) {
          z = FREE;
          touched.add(owner);
          it = owner;
        }
        if (left === FREE) touched.add(it = item[at - 1]);
        if (right === FREE) touched.add(it = item[at]);
      } else touch(z, -1, true);
      if ((edit.byte === CR || edit.byte === LF) && z !== BODY) lineEdits++;
      b.splice(at, 0, edit.byte);
      zone.splice(at, 0, z);
      item.splice(at, 0, it);
      orig.splice(at, 0, -1);
      changed.splice(at, 0, true);
      continue;
    }
    if (n === 0) continue;
    let at = place(edit, n);
    if (edit.op === "delete") {
      // Likewise, deleting any byte of a run of equal bytes: take the last.
      while (at + 1 < n && b[at + 1] === b[at]) at++;
      touch(zone[at], item[at], true);
      if ((b[at] === CR || b[at] === LF) && zone[at] !== BODY) lineEdits++;
      if (orig[at] !== -1) deleted.add(orig[at]);
      b.splice(at, 1);
      zone.splice(at, 1);
      item.splice(at, 1);
      orig.splice(at, 1);
      changed.splice(at, 1);
      continue;
    }
    const byte = edit.op === "flip" ? b[at] ^ (1 << edit.bit) : edit.byte;
    if (byte === b[at]) continue;
    touch(zone[at], item[at], false);
    if ((byte === CR || byte === LF || b[at] === CR || b[at] === LF) && zone[at] !== BODY) lineEdits++;
    b[at] = byte;
    changed[at] = true;
  }
  if (lineEdits >= 2) local = false;
  // Which CR or LF "is" an original line end is ambiguous when an edit leaves a CR or LF near
  // one: "\r5\n" with an LF inserted after the CR is "\r\n" followed by "5\n" (a longer body),
  // and "\r\n" + "\0\n" reads as "\r" + "\n\0" + "\n" as well. Leave such edits to the rules
  // that need no description of the edits.
  const isLineByte = (byte: number) => byte === CR || byte === LF;
  for (let j = 0; j < b.length && local; j++) {
    if ((orig[j] !== -1 && !changed[j]) || !isLineByte(b[j]) || zone[j] === BODY) continue;
    for (let k = Math.max(0, j - 4); k <= Math.min(b.length - 1, j + 4); k++) {
      if (orig[k] !== -1 && !changed[k] && isLineByte(b[k]) && zone[k] !== BODY) local = false;
    }
  }
  if (local && slidesAcrossZones(pipeline, b, orig, deleted)) local = false;
  // The first byte that differs, whatever edits made the difference.
  let firstChange = 0;
  const original = pipeline.bytes;
  while (
    firstChange < b.length && firstChange < original.length && b[firstChange] === original[firstChange]
  ) {
    firstChange++;
  }
  if (firstChange === b.length && b.length === original.length) firstChange = Infinity;
  const where = new Map<number, number>();
  orig.forEach((o, j) => where.set(o, j));
  return {
    bytes: Uint8Array.from(b),
    local,
    touched: new Set([...touched].map((id) => pipeline.keys[id])),
    ends: pipeline.ends.map((end) => {
      const j = where.get(end - 1);
      return j === undefined ? -1 : j + 1;
    }),
    firstChange,
  };
}

/**
 * Whether the edits have another description that puts them in another zone or item. An inserted
 * run of bytes can slide one place right past an original byte equal to its first byte (or left
 * past one equal to its last), and a deleted run likewise: the bytes stay the same, but the edit
 * may move, say, from the end of a head into the body (`"\r5\n"` with an LF inserted after the CR
 * is `"\r\n"` followed by `"5\n"`), or from a head's last LF to a one-byte body `"\n"`.
 */
function slidesAcrossZones(
  pipeline: Pipeline,
  b: readonly number[],
  orig: readonly number[],
  deleted: ReadonlySet<number>,
): boolean {
  const original = pipeline.bytes;
  const n = original.length;
  // What an insertion at original gap g (before original byte g) would touch.
  const gapKey = (g: number): string => {
    const left = g > 0 ? pipeline.zones[g - 1] : STRICT;
    const right = g < n ? pipeline.zones[g] : STRICT;
    const zone = Math.max(left, right);
    const items = new Set<number>();
    const owner = pipeline.gapItems.get(g);
    if (owner !== undefined && zone <= FREE) items.add(owner);
    if (zone === FREE && left === FREE) items.add(pipeline.items[g - 1]);
    if (zone === FREE && right === FREE) items.add(pipeline.items[g]);
    return `${zone === FREE && items.size > 0 ? FREE : zone}:${[...items].sort()}`;
  };
  const byteKey = (d: number): string => `${pipeline.zones[d]}:${pipeline.items[d]}`;
  // The byte an original position holds now (it may have been overwritten), or -1 once deleted.
  const position = new Map<number, number>();
  orig.forEach((o, j) => position.set(o, j));
  const now = (o: number): number => position.has(o) ? b[position.get(o) as number] : -1;
  // Inserted runs: slide right past an original byte that now equals the run's first byte, or
  // left past one that equals its last.
  for (let j = 0; j < b.length; j++) {
    if (orig[j] !== -1) continue;
    let end = j;
    while (end + 1 < b.length && orig[end + 1] === -1) end++;
    let left = j - 1;
    while (left >= 0 && orig[left] === -1) left--;
    const gap = left >= 0 ? orig[left] + 1 : 0;
    const here = gapKey(gap);
    const right = b.slice(j, end + 1);
    for (let g = gap; g < n && right[0] === now(g); g++) {
      if (gapKey(g + 1) !== here) return true;
      right.push(right.shift() as number);
    }
    const leftward = b.slice(j, end + 1);
    for (let g = gap; g > 0 && leftward[leftward.length - 1] === now(g - 1); g--) {
      if (gapKey(g - 1) !== here) return true;
      leftward.unshift(leftward.pop() as number);
    }
    j = end;
  }
  // Deleted runs of original bytes d..last: keeping d + k as it was and deleting last + 1 + k
  // instead gives the same bytes when that one now holds what d + k held (and likewise leftwards).
  for (const d of deleted) {
    if (deleted.has(d - 1)) continue;
    let last = d;
    while (deleted.has(last + 1)) last++;
    for (let k = 0; last + 1 + k < n && original[d + k] === now(last + 1 + k); k++) {
      if (byteKey(last + 1 + k) !== byteKey(d + k)) return true;
    }
    for (let k = 0; d - 1 - k >= 0 && original[last - k] === now(d - 1 - k); k++) {
      if (byteKey(d - 1 - k) !== byteKey(last - k)) return true;
    }
  }
  return false;
}

/** Token soup: pieces of requests in random order, which reach deeper states than random bytes. */
const soupArb: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "GET",
        "POST",
        "HEAD",
        "OPTIONS",
        "CONNECT",
        " ",
        "/",
        "/a?b",
        "*",
        "http://h/x",
        "h:80",
        "HTTP/1.1",
        "HTTP/1.0",
        "HTTP/2.0",
        "\r\n",
        "\r",
        "\n",
        "\t",
        ":",
        "Host: a",
        "Host:",
        "Content-Length: ",
        "Content-Length: 3",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip",
        "Connection: close",
        "Connection: keep-alive",
        "Expect: 100-continue",
        "Expect: x",
        "Trailer: x",
        "0",
        "5",
        "a",
        "F",
        ";",
        ";x=y",
        "=",
        '"',
        ",",
        "\r\n\r\n",
        "0\r\n\r\n",
        "3\r\nabc\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n",
        "\0",
        "\x7f",
        "\xff",
        "X-a: b",
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: latin1Char, maxLength: 4 }) },
  ),
  { maxLength: 30 },
).map((parts) => parts.join(""));

/**
 * Request smuggling material: heads whose fields come from a list of framing fields that parsers
 * have disagreed on (CL and TE variants, duplicates, lists, obs-fold, space before the colon…),
 * followed by pieces of bodies, chunked or not, and whole next requests.
 */
const smuggleArb: fc.Arbitrary<string> = fc.array(
  fc.record({
    host: fc.oneof(
      { weight: 6, arbitrary: fc.constant<string[]>(["Host: a"]) },
      { weight: 1, arbitrary: fc.constantFrom<string[]>([], ["Host: a", "Host: b"], ["Host: a b"]) },
    ),
    line: fc.constantFrom(
      "GET / HTTP/1.1",
      "POST /x HTTP/1.1",
      "POST / HTTP/1.0",
      "PUT /a?b HTTP/1.1",
      "GET / HTTP/1.2",
      "GET http://a/ HTTP/1.1",
      "OPTIONS * HTTP/1.1",
      "CONNECT a:443 HTTP/1.1",
    ),
    fields: fc.array(
      fc.oneof(
        // Framing fields a strict parser accepts one at a time: combinations are the point.
        fc.constantFrom(
          "Content-Length: 5",
          "Content-Length: 3",
          "Content-Length: 0",
          "Transfer-Encoding: chunked",
          "transfer-encoding: Chunked",
          "Connection: close",
        ),
        fc.constantFrom(
          "Content-Length: 0",
          "Content-Length: 3",
          "content-length: 5",
          "Content-Length: 5, 5",
          "Content-Length: 5,6",
          "Content-Length: +5",
          "Content-Length: -1",
          "Content-Length: 05",
          "Content-Length:  5 ",
          "Content-Length: 0x5",
          "Content-Length: 5 5",
          "Content-Length: 99999999999999999999",
          "Content-Length:",
          "Transfer-Encoding: chunked",
          "Transfer-Encoding: chunked",
          "transfer-encoding: Chunked",
          "Transfer-Encoding: chunked, chunked",
          "Transfer-Encoding: gzip, chunked",
          "Transfer-Encoding: chunked, gzip",
          "Transfer-Encoding: gzip",
          "Transfer-Encoding: identity",
          "Transfer-Encoding: ",
          "Transfer-Encoding:\tchunked",
          "Transfer-Encoding : chunked",
          " Transfer-Encoding: chunked",
          "Transfer-Encoding: xchunked",
          "Transfer-Encoding: chunked;q=1",
          'Transfer-Encoding: "chunked"',
          "Transfer-Encoding: ,chunked",
          "Transfer_Encoding: chunked",
          "Transfer-Encoding: chunked\x00",
          "Transfer-Encoding: \x0bchunked",
          "Connection: close",
          "Connection: keep-alive",
          "Connection: Close, keep-alive",
          "Expect: 100-continue",
          "Expect: 100-Continue",
          "Expect: nope",
          "X: y",
          "X: y\r\n z",
          "X: y\n",
          "X: y\rz",
          "Trailer: Content-Length",
        ),
      ),
      { maxLength: 5 },
    ),
    body: fc.array(
      fc.constantFrom(
        "0\r\n\r\n",
        "5\r\nhello\r\n",
        "5;a=b\r\nhello\r\n",
        '3;a="x;y"\r\nabc\r\n',
        "3 ;a\r\nabc\r\n",
        "0\r\nX: y\r\n\r\n",
        "0\r\nContent-Length: 5\r\n\r\n",
        "0\r\n\r",
        "0\n\n",
        "hello",
        "abc",
        "\r\n",
        "ff\r\n",
        "0x5\r\n",
        "5 \r\n",
        "-1\r\n",
        "00000000000000005\r\nhello\r\n",
        "fffffffffffffffff\r\n",
        "100000005\r\nhello\r\n",
        "10000000000000003\r\nabc\r\n",
        "1000000000000003\r\nabc\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /smuggled HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
      ),
      { maxLength: 4 },
    ),
  }),
  { minLength: 1, maxLength: 3 },
).map((requests) =>
  requests.map((r) => {
    const fields: string[] = r.fields.slice();
    for (const host of r.host) fields.splice(fields.length >> 1, 0, host);
    return `${r.line}\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n${r.body.join("")}`;
  }).join("")
);

/**
 * Inputs for properties (a) to (c), as Latin-1 strings: random bytes, token soup, smuggling
 * material, valid pipelines, and mutated valid pipelines.
 */
export const inputArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: latin1Char, maxLength: 120 }) },
  { weight: 3, arbitrary: soupArb },
  { weight: 3, arbitrary: smuggleArb },
  { weight: 1, arbitrary: pipelineSpecArb.map((specs) => buildPipeline(specs).text) },
  {
    weight: 4,
    arbitrary: fc.tuple(pipelineSpecArb, editsArb).map(([specs, edits]) =>
      str(applyEdits(buildPipeline(specs), edits).bytes)
    ),
  },
);

/** Small limits, so that every limit is reached; or the defaults. */
const limitsArb: fc.Arbitrary<Partial<ProtocolLimits> | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({
    maxTargetLength: fc.integer({ min: 1, max: 40 }),
    maxHeaderBytes: fc.integer({ min: 16, max: 400 }),
    maxHeaderCount: fc.integer({ min: 1, max: 8 }),
    maxBodyBytes: fc.integer({ min: 1, max: 80 }),
    maxChunkExtensionBytes: fc.integer({ min: 1, max: 24 }),
    maxTrailerBytes: fc.integer({ min: 1, max: 80 }),
    maxDrainBytes: fc.integer({ min: 1, max: 60 }),
  }, { requiredKeys: [] }),
);

/** How to drive: EOF or not, early answers or not, small limits or the defaults. */
export const driveOptionsArb: fc.Arbitrary<DriveOptions> = fc.record({
  eof: fc.boolean(),
  early: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  limits: limitsArb,
});

/** Piece sizes for splitting an input: cycled until the input is used up. */
export const sizesArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 40 }), {
  minLength: 1,
  maxLength: 12,
});
