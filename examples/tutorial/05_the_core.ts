/**
 * Step 5 of docs/TUTORIAL.md: h1serve's core at work, with no socket. One request is fed to the
 * core's state machine (`ServerConnection`) whole, in two pieces split after every one of its bytes,
 * and a byte at a time, and gives the same events each time; then the serializer builds the
 * responses, and the keep-alive deadline is checked at times the program chooses. It needs no
 * permissions:
 *
 *   deno run examples/tutorial/05_the_core.ts
 *   bun run examples/tutorial/05_the_core.ts
 *   node examples/tutorial/05_the_core.ts
 */

import { NEED_DATA, PAUSED, ServerConnection } from "../../src/core/mod.ts";

const visible = (text: string) => text.replaceAll("\r", "␍").replaceAll("\n", "␊");
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (text: string) => new TextEncoder().encode(text);

/** The time the program gives the core: the core reads no clock, so this is the only time it knows. */
const NOW = Date.UTC(2026, 0, 1);

const REQUEST = "POST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello";

/** Feeds the pieces to a new state machine, one read each, and lists the events it gives. */
function eventsFor(pieces: Uint8Array[]): string[] {
  const connection = new ServerConnection({ now: NOW });
  const events: string[] = [];
  for (const piece of pieces) {
    connection.receive(piece, NOW);
    for (let event = connection.nextEvent(); event !== NEED_DATA; event = connection.nextEvent()) {
      if (event === PAUSED) return events; // the request is in: nothing more until it is answered
      if (event.type === "request") {
        const { method, target, contentLength } = event.head;
        events.push(`request ${method} ${target} (Content-Length ${contentLength})`);
      } else if (event.type === "data") events.push(`data "${text(event.data)}"`);
      else events.push(event.type);
    }
  }
  return events;
}

/** The events with the data of adjacent data events joined: how a handler reads the body. */
const joined = (events: string[]) => events.join(", ").replaceAll('", data "', "");

const input = bytes(REQUEST);
const whole = eventsFor([input]);
const splits: string[][] = [];
for (let at = 1; at < input.length; at++) splits.push(eventsFor([input.subarray(0, at), input.subarray(at)]));
const byteAtATime = eventsFor([...input].map((byte) => Uint8Array.of(byte)));
const inTheBody = splits.find((events) => events.length > whole.length)!;
const bodyStart = REQUEST.indexOf("hello");

console.log(`one request, ${input.length} bytes:`);
console.log(`  ${visible(REQUEST.slice(0, bodyStart))}\n  ${REQUEST.slice(bodyStart)}`);
console.log(`fed whole: ${whole.join(", ")}`);
const sameSplits = splits.every((events) => joined(events) === joined(whole));
console.log(
  `split in two after each of its first ${splits.length} bytes: ${sameSplits ? "the same" : "NOT the same"}`,
);
console.log(
  `  (a read that ends inside the body gives its data in two pieces: ${inTheBody.slice(1, -1).join(", ")})`,
);
const sameBytes = joined(byteAtATime) === joined(whole);
const pieces = byteAtATime.filter((event) => event.startsWith("data")).length;
console.log(
  `a byte at a time, ${input.length} reads: ${
    sameBytes ? "the same" : "NOT the same"
  } (the body in ${pieces} data events)`,
);

/** Prints a response's bytes, a line of the head at a time. */
function printBytes(what: string, out: Uint8Array): void {
  const lines = visible(text(out)).split("␍␊").map((
    line,
    i,
    all,
  ) => (i < all.length - 1 ? `${line}␍␊` : line));
  console.log(`  ${what} → ${out.length === 0 ? "nothing" : lines.shift()}`);
  for (const line of lines) if (line !== "") console.log(`      ${line}`);
}

// The response to it, from the serializer: the core frames it and returns the bytes to send.
const connection = new ServerConnection({ now: NOW });
connection.receive(input, NOW);
for (let event = connection.nextEvent(); event !== PAUSED; event = connection.nextEvent());
console.log("\nthe answer, built by the core:");
const head = connection.startResponse({
  status: 200,
  headers: [["content-type", "text/plain"]],
  bodyLength: 5,
}, NOW);
printBytes("startResponse (status 200, a content-type, 5 bytes)", head);
printBytes('writeBody("hello")', connection.writeBody(bytes("hello")));
printBytes("endResponse", connection.endResponse(NOW));
console.log(
  `  the connection: read ${connection.readState}, write ${connection.writeState}, waits for a request`,
);

// The next request on the same connection, with a body of unknown length: chunked.
connection.receive(bytes("GET /stream HTTP/1.1\r\nHost: example.com\r\n\r\n"), NOW + 10);
connection.nextEvent();
console.log("\nthe next request on it, GET /stream, answered with a streamed body:");
printBytes(
  "startResponse (status 200, length unknown)",
  connection.startResponse({ status: 200, headers: [], bodyLength: null }, NOW + 20),
);
printBytes('writeBody("hi")', connection.writeBody(bytes("hi")));
printBytes("endResponse", connection.endResponse(NOW + 30));

// Time comes in as an argument: the keep-alive deadline is a number, checked at times the caller gives.
const idleFor = connection.deadline - (NOW + 30);
console.log(`\nthe keep-alive deadline: ${idleFor} ms after that response`);
console.log(`  checkTimeout one ms before it: ${connection.checkTimeout(connection.deadline - 1)}`);
console.log(
  `  checkTimeout at it: ${connection.checkTimeout(connection.deadline)}, closed: ${connection.closed}`,
);
