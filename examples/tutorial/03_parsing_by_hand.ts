/**
 * Step 3 of docs/TUTORIAL.md: a request head parsed by hand, the way a first attempt does it (split
 * lines, split each field on its colon), and the request smuggling that each open question of that
 * way allows. Two hand parsers that differ in one choice, a proxy and the back end behind it, read
 * the same bytes as a different number of requests; h1serve's core answers each with a 400. It
 * needs no permissions:
 *
 *   deno run examples/tutorial/03_parsing_by_hand.ts
 *   bun run examples/tutorial/03_parsing_by_hand.ts
 *   node examples/tutorial/03_parsing_by_hand.ts
 */

import { ServerConnection } from "../../src/core/mod.ts";

/** The choices a hand parser makes where the bytes could be read two ways. */
interface Choices {
  /** What ends a line: CRLF only, or an LF with or without a CR before it. */
  readonly lineEnd: "CRLF" | "LF";
  /** Whether a line that starts with a space continues the field before it (obs-fold). */
  readonly unfold: boolean;
  /** Whether whitespace between a field's name and its colon is trimmed off the name. */
  readonly trimName: boolean;
  /** Which field frames the body when both come. */
  readonly framing: "Content-Length" | "Transfer-Encoding";
  /** Which of two Content-Length fields counts. */
  readonly duplicate: "first" | "last";
}

/** What a first attempt does: CRLF lines, no folding, names trimmed, Content-Length, the last one wins. */
const FIRST_ATTEMPT: Choices = {
  lineEnd: "CRLF",
  unfold: false,
  trimName: true,
  framing: "Content-Length",
  duplicate: "last",
};

/** One request as a hand parser read it. */
interface HandRequest {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly fields: [name: string, value: string][];
}

/** A cursor over the bytes of a connection, as text (each byte one character). */
class Cursor {
  readonly text: string;
  readonly choices: Choices;
  at = 0;

  constructor(text: string, choices: Choices) {
    this.text = text;
    this.choices = choices;
  }

  get done(): boolean {
    return this.at >= this.text.length;
  }

  /** The next line, without its line end, or `null` when no line end follows. */
  line(): string | null {
    const end = this.text.indexOf(this.choices.lineEnd === "CRLF" ? "\r\n" : "\n", this.at);
    if (end === -1) return null;
    const line = this.text.slice(this.at, end);
    this.at = end + (this.choices.lineEnd === "CRLF" ? 2 : 1);
    return this.choices.lineEnd === "LF" && line.endsWith("\r") ? line.slice(0, -1) : line;
  }

  skip(count: number): void {
    this.at += count;
  }
}

/** Reads one head by hand: the request line split on spaces, each field on its first colon. */
function readHead(cursor: Cursor): HandRequest | null {
  const [method, target, version] = (cursor.line() ?? "").split(" ");
  if (method === "") return null;
  const fields: [string, string][] = [];
  for (let line = cursor.line(); line !== null && line !== ""; line = cursor.line()) {
    if (cursor.choices.unfold && (line.startsWith(" ") || line.startsWith("\t")) && fields.length > 0) {
      fields[fields.length - 1][1] += ` ${line.trim()}`; // obs-fold: the value goes on
      continue;
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    fields.push([cursor.choices.trimName ? name.trim() : name, line.slice(colon + 1).trim()]);
  }
  return { method, target, version, fields };
}

/** The values of a field, by name (names are case-insensitive). */
const valuesOf = (request: HandRequest, name: string) =>
  request.fields.filter(([field]) => field.toLowerCase() === name.toLowerCase()).map(([, value]) => value);

/** Skips the body that the chosen framing field gives the request. */
function skipBody(cursor: Cursor, request: HandRequest): void {
  const lengths = valuesOf(request, "Content-Length");
  const chunked = valuesOf(request, "Transfer-Encoding").includes("chunked");
  if (chunked && (cursor.choices.framing === "Transfer-Encoding" || lengths.length === 0)) {
    // Chunks: a hex size line, that many bytes and a CRLF, until the size 0; then trailers and a blank line.
    for (let size = parseInt(cursor.line() ?? "0", 16); size > 0; size = parseInt(cursor.line() ?? "0", 16)) {
      cursor.skip(size + 2);
    }
    while (cursor.line()) { /* trailer fields */ }
    return;
  }
  if (lengths.length > 0) {
    cursor.skip(Number(cursor.choices.duplicate === "first" ? lengths[0] : lengths[lengths.length - 1]));
  }
}

/** Every request a hand parser with these choices reads from the bytes, as "METHOD target". */
function requestsIn(text: string, choices: Choices): string[] {
  const cursor = new Cursor(text, choices);
  const seen: string[] = [];
  while (!cursor.done) {
    const request = readHead(cursor);
    if (request === null) break;
    seen.push(`${request.method} ${request.target}`);
    skipBody(cursor, request);
  }
  return seen;
}

/** What h1serve's core answers to the same bytes: each request it reads, or its error response. */
function coreAnswer(text: string): string {
  const connection = new ServerConnection({ now: 0 });
  connection.receive(new TextEncoder().encode(text), 0);
  const requests: string[] = [];
  for (;;) {
    const event = connection.nextEvent();
    if (event.type === "request") {
      requests.push(`${event.head.method} ${event.head.target}`);
      connection.startResponse({ status: 204, headers: [], bodyLength: 0 }, 0);
      connection.endResponse(0);
    } else if (event.type === "error") {
      const answer = new TextDecoder().decode(connection.errorResponse(event.error, 0));
      const statusLine = answer.slice(0, answer.indexOf("\r\n"));
      const closes = answer.includes("\r\nconnection: close\r\n") ? " (connection: close)" : "";
      const body = answer.slice(answer.indexOf("\r\n\r\n") + 4).trim();
      return `${statusLine}${closes}, the error at byte ${event.error.offset}:\n    ${body}`;
    } else {
      return said(requests);
    }
  }
}

const said = (requests: string[]) =>
  `${requests.length} request${requests.length === 1 ? "" : "s"}: ${requests.join(", ")}`;
const visible = (text: string) => text.replaceAll("\r", "␍").replaceAll("\n", "␊");

// A request read by hand: it works, for this one.
const hello = "GET /hello HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
const request = readHead(new Cursor(hello, FIRST_ATTEMPT))!;
console.log(`by hand: ${visible(hello)}`);
console.log(`  method ${request.method}, target ${request.target}, version ${request.version}`);
console.log(`  fields: ${request.fields.map(([name, value]) => `${name} = ${value}`).join(", ")}`);
console.log(`  h1serve's core: ${coreAnswer(hello)}`);

// The request a proxy is there to refuse, hidden in what the proxy takes for a body.
const HIDDEN = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
const n = HIDDEN.length;

/** One ambiguity: the bytes, and the choices of the proxy and of the back end. */
interface Case {
  readonly title: string;
  readonly bytes: string;
  readonly proxy: [what: string, choices: Partial<Choices>];
  readonly backEnd: [what: string, choices: Partial<Choices>];
}

const CASES: Case[] = [
  {
    title: "bare LF (RFC 9112 §2.2)",
    bytes: `POST / HTTP/1.1\r\nHost: a\r\nX: y\nContent-Length: ${n}\r\n\r\n${HIDDEN}`,
    proxy: ["ends lines at LF", { lineEnd: "LF" }],
    backEnd: ["ends lines at CRLF only", {}],
  },
  {
    title: "obs-fold (RFC 9112 §5.2)",
    bytes: `POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Content-Length: ${n}\r\n\r\n${HIDDEN}`,
    proxy: ["takes the folded line for a field", {}],
    backEnd: ["unfolds it into X's value", { unfold: true }],
  },
  {
    title: "whitespace before the colon (RFC 9112 §5.1)",
    bytes: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length : ${n}\r\n\r\n${HIDDEN}`,
    proxy: ["trims the name", {}],
    backEnd: ['keeps "Content-Length " as another name', { trimName: false }],
  },
  {
    title: "Content-Length with Transfer-Encoding (RFC 9112 §6.1, §6.3)",
    bytes: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${5 + n}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `0\r\n\r\n${HIDDEN}`,
    proxy: ["honours Content-Length", {}],
    backEnd: ["honours Transfer-Encoding", { framing: "Transfer-Encoding" }],
  },
  {
    title: "two different Content-Lengths (RFC 9112 §6.3)",
    bytes: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: ${n}\r\n\r\n${HIDDEN}`,
    proxy: ["takes the last", {}],
    backEnd: ["takes the first", { duplicate: "first" }],
  },
];

for (const { title, bytes, proxy, backEnd } of CASES) {
  console.log(`\n${title}`);
  const headEnd = bytes.indexOf("\r\n\r\n") + 4; // the first head on one line, what follows on the next
  console.log(`  ${visible(bytes.slice(0, headEnd))}\n  ${visible(bytes.slice(headEnd))}`);
  console.log(`  a proxy that ${proxy[0]}: ${said(requestsIn(bytes, { ...FIRST_ATTEMPT, ...proxy[1] }))}`);
  console.log(
    `  a back end that ${backEnd[0]}: ${said(requestsIn(bytes, { ...FIRST_ATTEMPT, ...backEnd[1] }))}`,
  );
  console.log(`  h1serve's core: ${coreAnswer(bytes)}`);
}
