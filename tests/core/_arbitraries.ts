/**
 * fast-check arbitraries, a server-like driver for {@link ServerConnection}, a small independent
 * reference reading of HTTP/1.1 framing, and the four protocol properties built from them. The
 * CI test (`fast_check_test.ts`) runs each property with a fixed seed; `scripts/fuzz.ts` runs the
 * very same properties for millions of cases with a random seed.
 *
 * The properties:
 *   (a) no exception escapes the core: a protocol violation only ever comes out as an `error`
 *       event carrying an {@link HttpError} (an HttpError that is *thrown* fails too);
 *   (b) every input ends in exactly one outcome: complete requests only, need more bytes, or one
 *       error with an allowed status, and nothing at all comes after that error;
 *   (c) the whole run (events, body bytes, where each request ended, final state) is the same for
 *       every way of splitting the input, with fast-check choosing the pieces;
 *   (d) mutation safety: see {@link mutationProperty} for the oracle.
 *
 * Not a test file: its name does not end in `_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { HttpError, type Limits, ServerConnection } from "../../src/core/mod.ts";
import { bytes, pairs, str } from "./_feed.ts";

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

/** One request as the driver saw it come out of the connection. */
export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  fields: [string, string][];
  bodyFraming: string;
  contentLength: number;
  keepAlive: boolean;
  /** `head.byteLength`: the head's length, leading empty lines and final CRLF included. */
  headLength: number;
  /** Stream offset just past the head, when the request event came. */
  headEnd: number;
  /** Body bytes from the data events, as a Latin-1 string. */
  body: string;
  /** Trailer fields from the end event. */
  trailers: [string, string][];
  /** Stream offset just past the request (head or end event), or -1 while it is incomplete. */
  end: number;
}

/** What one drive produced: the whole observable behaviour of the connection. */
export interface Run {
  requests: ParsedRequest[];
  error: { code: string; status: number; offset: number } | null;
  /** Whether a `close` event came. */
  closed: boolean;
  /** How the last pump ended: the event that stopped it. */
  last: "need-data" | "paused" | "error" | "close";
  /** Broken invariants seen while driving (events after an error, data outside a body, …). */
  violations: string[];
  /** Bytes fed in all. */
  fed: number;
  readState: string;
  writeState: string;
  idle: boolean;
}

/** How {@link drive} feeds the connection. */
export interface DriveOptions {
  /** Limits for the connection (defaults when absent). */
  readonly limits?: Partial<Limits>;
  /** Report EOF after the last piece. */
  readonly eof?: boolean;
  /**
   * Answer each request as soon as its head arrives, leaving its body to the connection (which
   * drains or refuses it), instead of after its body.
   */
  readonly early?: boolean;
}

/**
 * Drives a new connection like a server: feeds each piece, pulls events until NEED_DATA or
 * PAUSED, answers each request (200, empty body) once its body is in (or at once with `early`),
 * and on an error answers it and stops, while still checking that nothing more comes out.
 *
 * Stream offsets of request boundaries are read as `fed - bufferedBytes` at the event.
 *
 * @throws Whatever the core throws; an {@link HttpError} thrown rather than reported is turned
 *   into an Error that says so.
 */
export function drive(pieces: readonly Uint8Array[], options: DriveOptions = {}): Run {
  const conn = new ServerConnection({ limits: options.limits, now: 0 });
  const run: Run = {
    requests: [],
    error: null,
    closed: false,
    last: "need-data",
    violations: [],
    fed: 0,
    readState: "",
    writeState: "",
    idle: false,
  };
  const early = options.early === true;
  let current: ParsedRequest | null = null;
  const respond = () => {
    conn.startResponse({ status: 200, headers: [], bodyLength: 0 }, 0);
    conn.endResponse(0);
  };
  const pump = () => {
    for (let guard = 0; guard < 100_000; guard++) {
      const event = conn.nextEvent();
      if (run.error !== null || run.closed) {
        if (event.type !== "paused") {
          run.violations.push(`${event.type} event after ${run.error !== null ? "an error" : "a close"}`);
        }
        return;
      }
      const consumed = run.fed - conn.bufferedBytes;
      switch (event.type) {
        case "request": {
          if (!early && current !== null && current.end === -1) {
            run.violations.push("a request event before the previous body ended");
          }
          const head = event.head;
          current = {
            method: head.method,
            target: head.target,
            version: head.version,
            fields: pairs(head.fields),
            bodyFraming: head.bodyFraming,
            contentLength: head.contentLength,
            keepAlive: head.keepAlive,
            headLength: head.byteLength,
            headEnd: consumed,
            body: "",
            trailers: [],
            end: head.bodyFraming === "none" ? consumed : -1,
          };
          run.requests.push(current);
          if (early) respond();
          break;
        }
        case "data":
          if (current === null || current.end !== -1) run.violations.push("a data event outside a body");
          else if (event.data.byteLength === 0) run.violations.push("an empty data event");
          else current.body += str(event.data);
          break;
        case "end":
          if (current === null || current.end !== -1) run.violations.push("an end event outside a body");
          else {
            current.end = consumed;
            current.trailers = pairs(event.trailers);
          }
          break;
        case "error":
          if (!(event.error instanceof HttpError)) run.violations.push("an error event without an HttpError");
          run.error = { code: event.error.code, status: event.error.status, offset: event.error.offset };
          run.last = "error";
          conn.errorResponse(event.error, 0);
          break;
        case "close":
          run.closed = true;
          run.last = "close";
          break;
        case "need-data":
          run.last = "need-data";
          return;
        case "paused":
          if (!early && conn.readState === "done" && conn.writeState === "idle" && conn.request !== null) {
            respond();
            continue;
          }
          run.last = "paused";
          return;
        default:
          throw new Error(`unknown event ${JSON.stringify(event)}`);
      }
    }
    throw new Error("nextEvent never returned NEED_DATA or PAUSED");
  };
  try {
    for (const piece of pieces) {
      if (piece.byteLength === 0) continue;
      run.fed += piece.byteLength;
      conn.receive(piece, 0);
      pump();
    }
    if (options.eof) {
      conn.receiveEof();
      pump();
    }
  } catch (error) {
    if (error instanceof HttpError) {
      throw new Error(
        `HttpError ${error.code} was thrown out of the core instead of reported as an error event`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  run.readState = conn.readState;
  run.writeState = conn.writeState;
  run.idle = conn.idle;
  return run;
}

/** Cuts an input into pieces whose sizes cycle through `sizes` (each at least 1). */
export function cutBySizes(input: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; at < input.length; k++) {
    const size = Math.max(1, sizes.length === 0 ? input.length : sizes[k % sizes.length]);
    pieces.push(input.slice(at, at + size));
    at += size;
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// Outcome (property b)
// ---------------------------------------------------------------------------------------------

/** The statuses a protocol error may carry. */
export const ALLOWED_STATUSES: ReadonlySet<number> = new Set([400, 408, 413, 414, 417, 421, 431, 501, 505]);

/** How a run ended. */
export type Outcome = "complete" | "partial" | "error";

function fail(message: string): never {
  throw new Error(message);
}

/**
 * Classifies how a run ended and checks that it is exactly one well-formed outcome:
 * - `complete`: every request complete, then NEED_DATA with nothing pending; or the connection
 *   closed after answering a request that asked to close; or, after EOF, a `close` event;
 * - `partial`: NEED_DATA with a request still arriving (all earlier ones complete);
 * - `error`: exactly one error event, the last event of all, with an allowed status and an offset
 *   within the input.
 */
export function checkOutcome(run: Run, options: DriveOptions = {}): Outcome {
  if (run.violations.length > 0) fail(run.violations.join("; "));
  const early = options.early === true;
  if (!early) {
    for (let i = 0; i < run.requests.length - 1; i++) {
      if (run.requests[i].end === -1) fail(`request ${i} never ended, yet request ${i + 1} came`);
    }
  }
  const lastRequest = run.requests.at(-1);
  if (run.error !== null) {
    if (run.last !== "error") fail("an error was not the last event");
    if (!ALLOWED_STATUSES.has(run.error.status)) {
      fail(`error ${run.error.code} has status ${run.error.status}`);
    }
    if (!(run.error.offset >= 0 && run.error.offset <= run.fed)) {
      fail(`error offset ${run.error.offset} outside the ${run.fed} bytes received`);
    }
    return "error";
  }
  switch (run.last) {
    case "close":
      if (!options.eof && !early) fail("a close event without EOF");
      if (!early && lastRequest !== undefined && lastRequest.end === -1) {
        fail("closed cleanly with a request incomplete");
      }
      return "complete";
    case "need-data":
      if (options.eof) fail("NEED_DATA after EOF");
      if (run.writeState === "closed") fail("NEED_DATA from a closed connection");
      if (run.idle) {
        if (!early && lastRequest !== undefined && lastRequest.end === -1) {
          fail("idle with a request incomplete");
        }
        return "complete";
      }
      return "partial";
    case "paused":
      // Only a connection closed after its last response stops without NEED_DATA.
      if (run.writeState !== "closed") {
        fail(`PAUSED with read state ${run.readState} and write state ${run.writeState}`);
      }
      if (!early && (lastRequest === undefined || lastRequest.keepAlive || lastRequest.end === -1)) {
        fail("the connection closed after a request that did not ask to close");
      }
      return "complete";
    default:
      return fail(`run ended on ${run.last}`);
  }
}

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
  host: fc.constantFrom("a", "example.com", "example.com:8080", "[::1]", "", "127.0.0.1:80", "h-1.example"),
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
const limitsArb: fc.Arbitrary<Partial<Limits> | undefined> = fc.oneof(
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

// ---------------------------------------------------------------------------------------------
// Reference reading of the framing (the oracle for what the core accepts)
// ---------------------------------------------------------------------------------------------

const TCHAR_CLASS = "!#$%&'*+\\-.^_`|~0-9A-Za-z";
const TOKEN = `[${TCHAR_CLASS}]+`;
const REQUEST_LINE = new RegExp(`^(${TOKEN}) ([\\x21-\\x7e]+) (HTTP/1\\.[01])$`);
const FIELD_LINE = new RegExp(`^(${TOKEN}):([^]*)$`);
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*"';
const CHUNK_EXT = new RegExp(
  `^(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)+[ \\t]*$`,
);
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;

/** A field line as RFC 9112 §5 reads it, or null. */
function referenceField(line: string): [string, string] | null {
  const match = FIELD_LINE.exec(line);
  if (match === null) return null;
  const value = match[2].replace(/^[ \t]+|[ \t]+$/g, "");
  return FIELD_VALUE.test(value) ? [match[1], value] : null;
}

interface ReferenceHead {
  framing: "none" | "length" | "chunked";
  length: number;
  keepAlive: boolean;
}

/**
 * The framing and persistence a head's fields imply (RFC 9112 §6.3, §9.3), written independently of
 * the parser; or why a strict server must refuse the head.
 */
function referenceSemantics(fields: readonly [string, string][], version: string): ReferenceHead | string {
  let hosts = 0;
  let host = "";
  let codings: string[] | null = null;
  let length: number | null = null;
  let close = false;
  let keep = false;
  for (const [name, value] of fields) {
    switch (name.toLowerCase()) {
      case "host":
        hosts++;
        host = value;
        break;
      case "transfer-encoding":
        // Empty list elements are ignored (RFC 9110 §5.6.1.2).
        codings = (codings ?? ([] as string[])).concat(
          value.split(",").map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== ""),
        );
        break;
      case "content-length":
        for (const part of value.split(",")) {
          const text = part.trim();
          if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
            return "Content-Length is not a number";
          }
          if (length !== null && length !== Number(text)) return "Content-Length values differ";
          length = Number(text);
        }
        break;
      case "connection":
        for (const option of value.toLowerCase().split(",")) {
          if (option.trim() === "close") close = true;
          if (option.trim() === "keep-alive") keep = true;
        }
        break;
      case "expect":
        {
          const expectations = value.split(",").map((item) => item.trim().toLowerCase()).filter((item) =>
            item
          );
          if (expectations.some((item) => item !== "100-continue")) {
            return "an unknown expectation";
          }
        }
        break;
    }
  }
  if (version === "HTTP/1.1" ? hosts !== 1 : hosts > 1) return `${hosts} Host fields`;
  if (hosts === 1 && !HOST.test(host)) return "an invalid Host";
  const keepAlive = version === "HTTP/1.1" ? !close : keep && !close;
  if (codings !== null) {
    if (version !== "HTTP/1.1") return "Transfer-Encoding in HTTP/1.0";
    if (length !== null) return "both Transfer-Encoding and Content-Length";
    if (codings.length !== 1 || codings[0] !== "chunked") return "a transfer coding other than chunked";
    return { framing: "chunked", length: 0, keepAlive };
  }
  if (length !== null && length > 0) return { framing: "length", length, keepAlive };
  return { framing: "none", length: 0, keepAlive };
}

interface ReferenceChunked {
  status: "complete" | "incomplete" | "invalid";
  /** Just past the body when complete. */
  end: number;
  data: string;
  trailers: [string, string][];
  reason: string;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Reads a chunked body (RFC 9112 §7.1) from `start`, as simply as possible. */
function referenceChunked(text: string, start: number): ReferenceChunked {
  const n = text.length;
  let at = start;
  let data = "";
  const trailers: [string, string][] = [];
  const result = (status: ReferenceChunked["status"], reason = ""): ReferenceChunked => ({
    status,
    end: at,
    data,
    trailers,
    reason,
  });
  while (true) {
    let size = 0;
    let digits = 0;
    for (; at < n && hexDigit(text.charCodeAt(at)) !== -1; at++) {
      size = size * 16 + hexDigit(text.charCodeAt(at));
      digits++;
    }
    if (digits > 16 || !Number.isSafeInteger(size)) return result("invalid", "chunk size too long");
    if (at === n) return result("incomplete");
    if (digits === 0) return result("invalid", "no chunk size");
    if (!"\r; \t".includes(text[at])) return result("invalid", "a bad byte after the chunk size");
    const cr = text.indexOf("\r", at);
    const lf = text.indexOf("\n", at);
    if (lf !== -1 && (cr === -1 || lf < cr)) return result("invalid", "an LF in the chunk-size line");
    if (cr === -1) return result("incomplete");
    const ext = text.slice(at, cr);
    if (ext !== "" && !CHUNK_EXT.test(ext)) return result("invalid", "a bad chunk extension");
    at = cr + 1;
    if (at === n) return result("incomplete");
    if (text[at] !== "\n") return result("invalid", "no LF after CR");
    at++;
    if (size === 0) break;
    if (n - at < size) {
      data += text.slice(at);
      at = n;
      return result("incomplete");
    }
    data += text.slice(at, at + size);
    at += size;
    if (at === n) return result("incomplete");
    if (text[at] !== "\r") return result("invalid", "no CR after chunk data");
    at++;
    if (at === n) return result("incomplete");
    if (text[at] !== "\n") return result("invalid", "no LF after chunk data");
    at++;
  }
  while (true) {
    const lf = text.indexOf("\n", at);
    if (lf === -1) return result("incomplete");
    if (lf === at || text[lf - 1] !== "\r") return result("invalid", "a bare LF in the trailer section");
    const line = text.slice(at, lf - 1);
    at = lf + 1;
    if (line === "") return result("complete");
    const field = referenceField(line);
    if (field === null) return result("invalid", "a bad trailer line");
    trailers.push(field);
  }
}

/** Bytes the connection holds while it waits for the rest of a head: each complete line must be valid. */
function checkPendingHead(rest: string): void {
  let at = 0;
  while (rest.startsWith("\r\n", at)) at += 2;
  const lines = rest.slice(at).split("\n");
  for (let k = 0; k < lines.length - 1; k++) {
    const line = lines[k];
    if (!line.endsWith("\r")) {
      fail(`waiting for more although a bare LF is buffered: ${JSON.stringify(rest)}`);
    }
    const content = line.slice(0, -1);
    if (k === 0 ? !REQUEST_LINE.test(content) : content === "" || referenceField(content) === null) {
      fail(`waiting for more after the line ${JSON.stringify(content)}: ${JSON.stringify(rest)}`);
    }
  }
}

/**
 * Checks every request the core accepted against an independent reading of the same bytes:
 * 1. its head is exactly what lies between the previous request's end and `headEnd`: optional
 *    empty lines, a request line with the same method, target and version, and one line per field
 *    with the same name and (trimmed) value, each matching the RFC 9112 grammar;
 * 2. a strict server may accept those fields (one Host, no TE with CL, TE exactly `chunked`, all
 *    CL values equal, …), and they imply the core's framing, length and keep-alive;
 * 3. the body is exactly what that framing takes (the next N bytes, or a chunked body read by a
 *    small reference decoder, trailers included), and the request ends where the body does;
 * 4. nothing follows a request that closes the connection; a core waiting for a body waits on an
 *    incomplete one; a core waiting for a head holds no complete line that is invalid and no
 *    complete head.
 *
 * @returns Every request's trailer fields as the reference read them (forbidden names included).
 */
export function checkAgainstReference(text: string, run: Run): [string, string][][] {
  let pos = 0;
  const referenceTrailers: [string, string][][] = [];
  for (let i = 0; i < run.requests.length; i++) {
    const r = run.requests[i];
    const at = `request ${i}`;
    if (r.headEnd !== pos + r.headLength) {
      fail(`${at}: its head ends at ${r.headEnd}, but it began at ${pos} and is ${r.headLength} bytes long`);
    }
    let lead = pos;
    while (text.startsWith("\r\n", lead) && lead < r.headEnd) lead += 2;
    const head = text.slice(lead, r.headEnd);
    if (!head.endsWith("\r\n\r\n")) {
      fail(`${at}: its head does not end in an empty line: ${JSON.stringify(head)}`);
    }
    const lines = head.slice(0, -4).split("\r\n");
    const requestLine = REQUEST_LINE.exec(lines[0]);
    if (
      requestLine === null || requestLine[1] !== r.method || requestLine[2] !== r.target ||
      requestLine[3] !== r.version
    ) {
      fail(`${at}: request line ${JSON.stringify(lines[0])} read as ${r.method} ${r.target} ${r.version}`);
    }
    if (lines.length - 1 !== r.fields.length) {
      fail(
        `${at}: ${lines.length - 1} field lines read as ${r.fields.length} fields: ${JSON.stringify(head)}`,
      );
    }
    for (let j = 0; j < r.fields.length; j++) {
      const field = referenceField(lines[j + 1]);
      if (field === null || field[0] !== r.fields[j][0] || field[1] !== r.fields[j][1]) {
        fail(`${at}: field line ${JSON.stringify(lines[j + 1])} read as ${JSON.stringify(r.fields[j])}`);
      }
    }
    const semantics = referenceSemantics(r.fields, r.version);
    if (typeof semantics === "string") fail(`${at}: accepted with ${semantics}: ${JSON.stringify(head)}`);
    if (
      semantics.framing !== r.bodyFraming || semantics.keepAlive !== r.keepAlive ||
      (semantics.framing === "length" && semantics.length !== r.contentLength)
    ) {
      fail(
        `${at}: framing ${r.bodyFraming} ${r.contentLength}, keep-alive ${r.keepAlive}; the fields say ${
          JSON.stringify(semantics)
        }`,
      );
    }
    let trailers: [string, string][] = [];
    let end: number;
    if (semantics.framing === "none") {
      end = r.headEnd;
      if (r.body !== "" || r.trailers.length > 0) fail(`${at}: a body without framing`);
    } else if (semantics.framing === "length") {
      end = r.headEnd + semantics.length;
      if (r.end === -1) {
        if (run.error === null && end <= text.length) {
          fail(`${at}: its whole body is here but it never ended`);
        }
        if (run.error === null && r.body !== text.slice(r.headEnd)) {
          fail(`${at}: body data lost while waiting`);
        }
      } else if (r.body !== text.slice(r.headEnd, end)) {
        fail(`${at}: body ${JSON.stringify(r.body)} is not the ${semantics.length} bytes after the head`);
      }
    } else {
      const chunked = referenceChunked(text, r.headEnd);
      end = chunked.end;
      trailers = chunked.trailers;
      if (r.end === -1) {
        if (run.error === null && chunked.status === "complete") {
          fail(`${at}: its chunked body is complete but it never ended`);
        }
        if (run.error === null && chunked.status === "invalid") {
          fail(`${at}: waiting on a chunked body with ${chunked.reason}`);
        }
        if (!chunked.data.startsWith(r.body)) {
          fail(`${at}: body data ${JSON.stringify(r.body)} is not chunk data`);
        }
      } else {
        if (chunked.status !== "complete") {
          fail(
            `${at}: accepted a chunked body that the reference reads as ${chunked.status} (${chunked.reason})`,
          );
        }
        if (r.body !== chunked.data) {
          fail(`${at}: chunked body ${JSON.stringify(r.body)}, expected ${chunked.data}`);
        }
        let k = 0;
        for (const field of chunked.trailers) {
          const kept = r.trailers[k];
          if (kept !== undefined && kept[0] === field[0] && kept[1] === field[1]) k++;
          else if (/^x-/i.test(field[0])) fail(`${at}: trailer ${JSON.stringify(field)} dropped`);
        }
        if (k !== r.trailers.length) fail(`${at}: trailers ${JSON.stringify(r.trailers)} were not sent`);
      }
    }
    referenceTrailers.push(trailers);
    if (r.end === -1) {
      if (i !== run.requests.length - 1) fail(`${at}: incomplete, yet another request followed`);
      return referenceTrailers;
    }
    if (r.end !== end) fail(`${at}: ends at ${r.end}; its framing ends it at ${end}`);
    if (!r.keepAlive) {
      if (i !== run.requests.length - 1) fail(`${at}: a request came after one that closes the connection`);
      if (run.error === null && run.writeState !== "closed") fail(`${at}: the connection did not close`);
      return referenceTrailers;
    }
    pos = r.end;
  }
  if (run.error === null && run.last === "need-data") checkPendingHead(text.slice(pos));
  return referenceTrailers;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Counters of outcome classes, to show that the properties reach every case. */
export type Stats = Record<string, number>;

function count(stats: Stats | undefined, key: string): void {
  if (stats !== undefined) stats[key] = (stats[key] ?? 0) + 1;
}

/** Adds the input's text to a failure, so that a counterexample can be read as bytes. */
function withInput<T>(label: string, text: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${label}: ${JSON.stringify(text)}`, { cause: error });
  }
}

/** (a) On any input, in two splits, nothing but error events comes out of the core: no exception escapes. */
export function noEscapeProperty(): fc.IPropertyWithHooks<[string, DriveOptions, number[]]> {
  return fc.property(inputArb, driveOptionsArb, sizesArb, (text, options, sizes) => {
    withInput("input", text, () => {
      const input = bytes(text);
      drive([input], options);
      drive(cutBySizes(input, sizes), options);
    });
  });
}

/**
 * (b) Every input ends in exactly one outcome (see {@link checkOutcome}). Moreover, unless requests
 * are answered early (so that their bodies are not seen), every request accepted on the way agrees
 * with the reference reading of the bytes ({@link checkAgainstReference}).
 */
export function outcomeProperty(stats?: Stats): fc.IPropertyWithHooks<[string, DriveOptions]> {
  return fc.property(inputArb, driveOptionsArb, (text, options) => {
    withInput("input", text, () => {
      const run = drive([bytes(text)], options);
      count(stats, checkOutcome(run, options));
      if (!options.early) checkAgainstReference(text, run);
      // The very same input fed again only ever finds the same outcome: the core has no hidden state.
      if (JSON.stringify(drive([bytes(text)], options)) !== JSON.stringify(run)) fail("two runs differ");
    });
  });
}

/** (c) The run is the same for the whole input and for the input cut into pieces of the generated sizes. */
export function splitProperty(): fc.IPropertyWithHooks<[string, DriveOptions, number[]]> {
  return fc.property(inputArb, driveOptionsArb, sizesArb, (text, options, sizes) => {
    withInput("input", text, () => {
      const input = bytes(text);
      const whole = drive([input], options);
      const split = drive(cutBySizes(input, sizes), options);
      if (JSON.stringify(split) !== JSON.stringify(whole)) {
        assert.deepEqual(
          split,
          whole,
          `fed in pieces of ${sizes.join(",")} the run differs from the whole input's`,
        );
      }
    });
  });
}

const SEMANTIC_NAMES = new Set(["host", "content-length", "transfer-encoding", "connection", "expect"]);

/**
 * (d) Mutation safety. A valid pipeline is built with the zone of every byte known, parsed as a
 * check of the generator (it must give exactly the requests it was built from), then mutated by one
 * to three edits (replace, flip, insert, delete, mostly with CR, LF, SP, HTAB, NUL, `:`, `;`, `,`,
 * `"`, `=`, hex digits; half of them aimed at DECL or STRICT bytes). The mutated bytes must
 * satisfy properties (a) and (b), and:
 *
 * 1. Reference: every request the core accepts is exactly what an independent reading of those
 *    bytes gives: the same head lines, framing implied by the same fields, the same body, ending at
 *    the same byte ({@link checkAgainstReference}). A mutation can thus change framing only by
 *    producing bytes that, read plainly, *declare* another framing (a different Content-Length
 *    digit, chunk size or version); never by the core reading something other than what is there.
 *    This is the smuggling property, and it needs no description of the edits.
 * 2. Prefix: every request that lies wholly within the bytes the mutation left unchanged at the
 *    start is parsed exactly as before, offsets included, whatever follows it.
 * 3. Local rule. Zones: STRICT is pure syntax (request-line SPs, CRLFs); FREE is free text
 *    (method and target, an `X-` field's name, colon and value, the Host value, a chunk
 *    extension after its `;`, a trailer); BODY is body data; DECL declares framing or semantics
 *    (version, Content-Length, Transfer-Encoding, Connection, Expect, Host's name, chunk sizes
 *    and the `BWS ;` before an extension, and an empty line that ends a section when `\r\n` or a
 *    Content-Length body follows it, since text inserted before it makes it a field line and moves
 *    the end of the section). When every edit only touched STRICT or FREE places or overwrote body
 *    bytes, the input is refused (an error event, after which only the requests before it count),
 *    or waits for more bytes (an edit cut the last request short), or parses to the same number of
 *    requests, each ending exactly where the original one ends after the edits' shifts, with the
 *    same version, framing, length and keep-alive, and with method/target, each field, the body and
 *    each trailer equal to the original's unless an edit touched that very item. A STRICT edit
 *    touches no item, so it must be refused or change nothing.
 *
 *    The rule needs the edits' description, so it steps aside when that description is ambiguous
 *    and another description of the same bytes would not be local: when two edits write or erase
 *    a CR or LF outside a body (they can make or move a line); when an inserted or overwritten CR
 *    or LF sits within four bytes of an original one (which of them ends the line?); when an
 *    inserted or deleted run can slide past equal bytes into another zone or item ("\r\n" + "\0\n"
 *    is also "\r" + "\n\0" + "\n"); and when a FREE edit renames a field into one the parser
 *    interprets (`X-Host` into `Host`). Rules 1 and 2 still apply then.
 *
 * Edits to DECL places and resizing edits in a body may legitimately declare another framing:
 * rules 1 and 2 cover them.
 */
export function mutationProperty(stats?: Stats): fc.IPropertyWithHooks<[RequestSpec[], Edit[]]> {
  return fc.property(pipelineSpecArb, editsArb, (specs, edits) => {
    const pipeline = buildPipeline(specs);
    const original = withInput("pipeline", pipeline.text, () => {
      const run = drive([pipeline.bytes]);
      if (run.error !== null || run.violations.length > 0) {
        fail(`a valid pipeline failed: ${JSON.stringify(run)}`);
      }
      assert.deepEqual(
        run.requests,
        pipeline.expected,
        "a valid pipeline parsed to other requests than built",
      );
      return run;
    });
    const mutated = applyEdits(pipeline, edits);
    const text = str(mutated.bytes);
    withInput(`original: ${JSON.stringify(pipeline.text)}\nmutated`, text, () => {
      const run = drive([mutated.bytes]);
      checkOutcome(run);
      const referenceTrailers = checkAgainstReference(text, run);
      for (let i = 0; i < pipeline.ends.length && pipeline.ends[i] <= mutated.firstChange; i++) {
        const request = run.requests[i];
        if (request === undefined) fail(`request ${i} lies before the first mutated byte but was not parsed`);
        assert.deepEqual(request, original.requests[i], `request ${i} lies before the first mutated byte`);
      }
      const kind = mutated.local ? checkLocal(run, original, mutated, referenceTrailers) : "non-local";
      count(stats, run.error !== null ? `${kind}: rejected` : `${kind}: ${resultClass(run, original)}`);
    });
  });
}

/** How an accepted mutated run compares with the original, for the statistics. */
function resultClass(run: Run, original: Run): string {
  const same = (r: ParsedRequest, o: ParsedRequest) =>
    r.method === o.method && r.target === o.target && r.version === o.version && r.body === o.body &&
    r.bodyFraming === o.bodyFraming && JSON.stringify(r.fields) === JSON.stringify(o.fields) &&
    JSON.stringify(r.trailers) === JSON.stringify(o.trailers);
  if (run.requests.some((r) => r.end === -1) || !run.idle && run.writeState !== "closed") return "waiting";
  if (
    run.requests.length === original.requests.length &&
    run.requests.every((r, i) => same(r, original.requests[i]))
  ) {
    return "same";
  }
  return "changed";
}

/** Rule 3 of {@link mutationProperty}. */
function checkLocal(
  run: Run,
  original: Run,
  mutated: Mutated,
  referenceTrailers: [string, string][][],
): string {
  const k = original.requests.length;
  const touched = mutated.touched;
  // A field renamed into one the parser interprets (X-Host → Host) may reframe: rules 1 and 2 cover it.
  for (let i = 0; i < Math.min(k, run.requests.length); i++) {
    const fields = run.requests[i].fields;
    const before = original.requests[i].fields;
    for (let j = 0; j < Math.min(fields.length, before.length); j++) {
      const name = fields[j][0].toLowerCase();
      if (touched.has(`${i}:f${j}`) && name !== before[j][0].toLowerCase() && SEMANTIC_NAMES.has(name)) {
        return "renamed";
      }
    }
  }
  // Refused, or waiting for more bytes (the edit cut the last request short): only the requests
  // that came count, and the reference has checked that what is pending is no complete head.
  const stopped = run.error !== null || (run.last === "need-data" && !run.idle);
  if (!stopped && run.requests.length !== k) {
    fail(`local edits changed the number of requests from ${k} to ${run.requests.length}`);
  }
  if (run.requests.length > k) fail(`local edits made ${run.requests.length} requests of ${k}`);
  for (let i = 0; i < run.requests.length; i++) {
    const r = run.requests[i];
    const o = original.requests[i];
    const at = `local edits, request ${i}`;
    if (r.end === -1 && !stopped) fail(`${at}: incomplete`);
    if (r.end !== -1 && r.end !== mutated.ends[i]) {
      fail(`${at}: ends at ${r.end}, but the original request now ends at ${mutated.ends[i]}`);
    }
    if (r.version !== o.version || r.bodyFraming !== o.bodyFraming || r.contentLength !== o.contentLength) {
      fail(
        `${at}: framing ${r.version} ${r.bodyFraming} ${r.contentLength}, was ${o.bodyFraming} ${o.contentLength}`,
      );
    }
    if (r.keepAlive !== o.keepAlive) fail(`${at}: keep-alive ${r.keepAlive}, was ${o.keepAlive}`);
    if (!touched.has(`${i}:line`) && (r.method !== o.method || r.target !== o.target)) {
      fail(`${at}: ${r.method} ${r.target}, was ${o.method} ${o.target}`);
    }
    if (r.fields.length !== o.fields.length) fail(`${at}: ${r.fields.length} fields, was ${o.fields.length}`);
    for (let j = 0; j < r.fields.length; j++) {
      if (
        !touched.has(`${i}:f${j}`) && (r.fields[j][0] !== o.fields[j][0] || r.fields[j][1] !== o.fields[j][1])
      ) {
        fail(`${at}: field ${j} is ${JSON.stringify(r.fields[j])}, was ${JSON.stringify(o.fields[j])}`);
      }
    }
    if (r.end === -1) continue;
    if (r.body.length !== o.body.length || (!touched.has(`${i}:body`) && r.body !== o.body)) {
      fail(`${at}: body ${JSON.stringify(r.body)}, was ${JSON.stringify(o.body)}`);
    }
    const trailers = referenceTrailers[i];
    if (trailers.length !== o.trailers.length) {
      fail(`${at}: ${trailers.length} trailers, was ${o.trailers.length}`);
    }
    for (let j = 0; j < trailers.length; j++) {
      if (
        !touched.has(`${i}:t${j}`) &&
        (trailers[j][0] !== o.trailers[j][0] || trailers[j][1] !== o.trailers[j][1])
      ) {
        fail(`${at}: trailer ${j} is ${JSON.stringify(trailers[j])}, was ${JSON.stringify(o.trailers[j])}`);
      }
    }
  }
  return "local";
}

/** A property as the test and the fuzzer run it. */
export interface PropertyDefinition {
  /** Short id: "a" to "d". */
  readonly id: string;
  /** Test name. */
  readonly title: string;
  /** Fixed seed for CI. */
  readonly seed: number;
  /** Runs in CI, unless `H1SERVE_FC_RUNS` says otherwise. */
  readonly runs: number;
  /** Relative share of the fuzzer's cases. */
  readonly weight: number;
  /** Builds the property, counting outcome classes into `stats`. */
  readonly property: (stats: Stats) => fc.IProperty<unknown>;
}

/** The four properties. */
export const PROPERTIES: readonly PropertyDefinition[] = [
  {
    id: "a",
    title: "ServerConnection lets no exception escape, only HttpError error events",
    seed: 0x1a2b3c,
    runs: 3000,
    weight: 1,
    property: () => noEscapeProperty(),
  },
  {
    id: "b",
    title: "ServerConnection ends every input in one outcome: complete, need more, or one allowed error",
    seed: 0x2b3c4d,
    runs: 6000,
    weight: 1,
    property: (stats) => outcomeProperty(stats),
  },
  {
    id: "c",
    title: "ServerConnection gives the same events for every split of the input",
    seed: 0x3c4d5e,
    runs: 3000,
    weight: 1,
    property: () => splitProperty(),
  },
  {
    id: "d",
    title: "ServerConnection refuses a mutated request or parses it without silently reframing",
    seed: 0x4d5e6f,
    runs: 6000,
    weight: 2,
    property: (stats) => mutationProperty(stats),
  },
];

/** Runs per property: `H1SERVE_FC_RUNS` when set to a positive integer, else `fallback`. */
export function runsFor(fallback: number): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const runs = Number(env?.H1SERVE_FC_RUNS ?? "");
  return Number.isSafeInteger(runs) && runs > 0 ? runs : fallback;
}
