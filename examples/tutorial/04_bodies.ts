/**
 * Step 4 of docs/TUTORIAL.md: request bodies and their framing. A body of known length, a chunked
 * body read by a small hand decoder (chunk sizes, extensions, trailers) that gives the same result
 * however its input is split, why a request's body never runs to the close while a response's may,
 * and how the framing decides where the next pipelined request starts; each beside what h1serve's
 * core reads from the same bytes. It needs no permissions:
 *
 *   deno run examples/tutorial/04_bodies.ts
 *   bun run examples/tutorial/04_bodies.ts
 *   node examples/tutorial/04_bodies.ts
 */

import {
  ChunkedDecoder,
  DEFAULT_PROTOCOL_LIMITS,
  frameResponse,
  ServerConnection,
} from "../../src/core/mod.ts";

const visible = (text: string) => text.replaceAll("\r", "␍").replaceAll("\n", "␊");

/** The parts of the chunked grammar (RFC 9112 §7.1), one state each. */
type ChunkedState = "size" | "extension" | "size LF" | "data" | "data CR" | "data LF" | "trailer" | "done";

/**
 * A chunked body decoder by hand: it takes the bytes in any pieces, keeps its place between them,
 * and stops at the end of the body.
 */
class ChunkedReader {
  state: ChunkedState = "size";
  body = "";
  readonly extensions: string[] = [];
  readonly trailers: string[] = [];
  #size = 0;
  #digits = 0;
  #left = 0;
  #line = "";

  /** Takes bytes (as text, a character a byte); returns how many it used: all, unless the body ended. */
  push(text: string): number {
    let i = 0;
    while (i < text.length && this.state !== "done") {
      if (this.state === "data") {
        const piece = text.slice(i, i + this.#left); // the chunk's data: as much as there is, at once
        this.body += piece;
        this.#left -= piece.length;
        if (this.#left === 0) this.state = "data CR";
        i += piece.length;
      } else {
        this.#byte(text[i]);
        i++;
      }
    }
    return i;
  }

  #byte(char: string): void {
    const fail = () => {
      throw new Error(`malformed chunked body: ${JSON.stringify(char)} in state ${this.state}`);
    };
    switch (this.state) {
      case "size": {
        const digit = parseInt(char, 16);
        if (!Number.isNaN(digit)) {
          this.#size = this.#size * 16 + digit;
          if (++this.#digits > 12) fail(); // a size past 2^48: refuse it before it overflows
        } else if (this.#digits === 0) fail();
        else if (char === ";") this.state = "extension";
        else if (char === "\r") this.state = "size LF";
        else fail();
        return;
      }
      case "extension": // `;name=value` after the size: kept here, meaningless to most servers
        if (char === "\r") {
          this.extensions.push(this.#line);
          this.#line = "";
          this.state = "size LF";
        } else if (char === "\n") fail();
        else this.#line += char;
        return;
      case "size LF":
        if (char !== "\n") fail();
        this.#left = this.#size;
        this.state = this.#size === 0 ? "trailer" : "data";
        this.#size = this.#digits = 0;
        return;
      case "data CR":
        if (char !== "\r") fail();
        this.state = "data LF";
        return;
      case "data LF":
        if (char !== "\n") fail();
        this.state = "size";
        return;
      case "trailer": // field lines after the last chunk, up to a blank line
        if (char !== "\n") this.#line += char;
        else if (!this.#line.endsWith("\r")) fail();
        else if (this.#line === "\r") this.state = "done";
        else {
          this.trailers.push(this.#line.slice(0, -1));
          this.#line = "";
        }
        return;
      default:
        fail();
    }
  }
}

/** What a decoder made of a chunked body: its data and trailers, and how many bytes it took. */
interface Decoded {
  readonly body: string;
  readonly trailers: string;
  readonly used: number;
}

/** Reads a chunked body from the pieces by hand. */
function readChunked(pieces: string[]): Decoded & { readonly extensions: string } {
  const reader = new ChunkedReader();
  let used = 0;
  for (const piece of pieces) used += reader.push(piece);
  return {
    body: reader.body,
    trailers: reader.trailers.join(", "),
    extensions: reader.extensions.join(", "),
    used,
  };
}

/** Reads a chunked body from the pieces with h1serve's core decoder. */
function coreChunked(pieces: string[]): Decoded {
  const decoder = new ChunkedDecoder(DEFAULT_PROTOCOL_LIMITS);
  let body = "";
  let used = 0;
  for (const piece of pieces) {
    const bytes = new TextEncoder().encode(piece);
    for (let at = 0; at < bytes.length && !decoder.done;) {
      const next = decoder.read(bytes, at, bytes.length, used);
      if (decoder.data) body += new TextDecoder().decode(decoder.data);
      used += next - at;
      at = next;
    }
  }
  const trailers: string[] = [];
  for (let i = 0; i < decoder.trailers.length; i += 2) {
    trailers.push(decoder.trailers.slice(i, i + 2).join(": "));
  }
  return { body, trailers: trailers.join(", "), used };
}

const sameAs = (a: Decoded, b: Decoded) =>
  a.body === b.body && a.trailers === b.trailers && a.used === b.used;

/** The events h1serve's core gives for the bytes, each request answered 204 once its body is in. */
function coreEvents(text: string): string[] {
  const connection = new ServerConnection({ now: 0 });
  connection.receive(new TextEncoder().encode(text), 0);
  const events: string[] = [];
  const answer = () => {
    connection.startResponse({ status: 204, headers: [], bodyLength: 0 }, 0);
    connection.endResponse(0);
  };
  for (;;) {
    const event = connection.nextEvent();
    if (event.type === "request") {
      const { method, target, bodyFraming, contentLength } = event.head;
      const framing = bodyFraming === "length" ? `Content-Length ${contentLength}` : bodyFraming;
      events.push(`request ${method} ${target}, body: ${framing}`);
      if (bodyFraming === "none") answer();
    } else if (event.type === "data") {
      events.push(`data "${visible(new TextDecoder().decode(event.data))}"`);
    } else if (event.type === "end") {
      events.push(`end${event.trailers.length > 0 ? `, trailers ${event.trailers.join(": ")}` : ""}`);
      answer();
    } else if (event.type === "error") {
      events.push(`error ${event.error.status} ${event.error.message} (${event.error.code})`);
      return events;
    } else return events;
  }
}

/** Prints a title, then each line indented (a line that is a list, one step further). */
function print(title: string, lines: (string | string[])[]): void {
  console.log(title);
  for (const line of lines) {
    if (typeof line === "string") console.log(`  ${line}`);
    else for (const inner of line) console.log(`    ${inner}`);
  }
}

/** The bytes, as the first head on one line and what follows it on the next. */
const bytesOf = (text: string) => {
  const headEnd = text.indexOf("\r\n\r\n") + 4;
  return [visible(text.slice(0, headEnd)), visible(text.slice(headEnd))];
};

const NEXT = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

// 1. Content-Length: the body is the next N bytes, and the next request starts right after them.
const withLength = `POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello${NEXT}`;
print("Content-Length: 5", [...bytesOf(withLength), "h1serve's core:", coreEvents(withLength)]);

// 2. Chunked: sizes in hex, each chunk's data, the size 0, trailers, a blank line.
const chunks = "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n";
const splits = [[...chunks]]; // a byte at a time, and in two pieces at every offset
for (let at = 1; at < chunks.length; at++) splits.push([chunks.slice(0, at), chunks.slice(at)]);
const byHand = readChunked([chunks]);
const byCore = coreChunked([chunks]);
const each = (same: boolean) => (same ? "the same each time" : "NOT the same each time");
const rest = chunks + NEXT;
const stop = readChunked([rest]).used;
const withChunks = `POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}${NEXT}`;
print("\nTransfer-Encoding: chunked", [
  visible(chunks),
  `by hand: body "${byHand.body}", extensions ${byHand.extensions}, trailers ${byHand.trailers}`,
  `by hand, in two pieces at each of ${chunks.length - 1} offsets and a byte at a time: ` +
  each(splits.every((pieces) => sameAs(readChunked(pieces), byHand))),
  "h1serve's ChunkedDecoder, whole and split the same ways: body and trailers " +
  each(sameAs(byCore, byHand) && splits.every((pieces) => sameAs(coreChunked(pieces), byHand))),
  `with the next request after it, both stop after ${stop} bytes, before "${
    visible(rest.slice(stop, stop + 20))
  }"` +
  (coreChunked([rest]).used === stop ? "" : " (NOT the core)"),
  "h1serve's core, with a head before it and the next request after it:",
  coreEvents(withChunks),
]);

// 3. Neither field: a request has no body at all (RFC 9112 §6.3), so what follows is the next request.
const noFraming = "POST /upload HTTP/1.1\r\nHost: a\r\n\r\nhello\r\n";
print("\nneither field in a request", [...bytesOf(noFraming), "h1serve's core:", coreEvents(noFraming)]);

// A response may run to the close, where no length is known and the client cannot read chunked.
const streamed = { status: 200, headers: [], bodyLength: null }; // a body streamed, of unknown length
print(
  "\na response of unknown length, as h1serve's core frames it",
  (["HTTP/1.1", "HTTP/1.0"] as const).map((version) => {
    const { framing, keepAlive } = frameResponse({ method: "GET", version }, streamed, true, "", "");
    const open = keepAlive ? "the connection stays open" : "it ends where the server closes";
    return `to an ${version} client: ${framing === "close" ? "close-delimited" : framing}, ${open}`;
  }),
);

// 4. The framing decides where the next pipelined request starts: the same bytes with another length.
for (const length of [3, 7]) {
  const miscounted = withLength.replace("Content-Length: 5", `Content-Length: ${length}`);
  print(`\nContent-Length: ${length} over the same bytes`, ["h1serve's core:", coreEvents(miscounted)]);
}
