/**
 * Step 2 of docs/TUTORIAL.md: a client that shows where the classroom program (step 1) breaks. Start
 * step 1, or h1serve with `--trace` to watch the wire, then run this against its port:
 *
 *   deno run --allow-net examples/tutorial/02_why_it_breaks.ts 8000
 *   bun run examples/tutorial/02_why_it_breaks.ts 8000
 *   node examples/tutorial/02_why_it_breaks.ts 8000
 *
 * Each case sends one kind of real traffic on a connection of its own and prints what came back.
 */

import { connect } from "node:net";
import process from "node:process";

const port = Number(process.argv[2] ?? 8000);

/** What came back: the answers' status codes, and whether the first came before the last piece was sent. */
interface Outcome {
  readonly statuses: string[];
  readonly early: boolean;
}

/** Sends the pieces, `pauseMs` apart, and resolves once the server closes or is quiet for 1 s. */
function exchange(pieces: string[], pauseMs = 0): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    let sentAll = false;
    let early = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve({ statuses: [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => match[1]), early });
    };
    socket.on("data", (bytes: Uint8Array) => {
      if (answer === "" && !sentAll) early = true;
      answer += new TextDecoder().decode(bytes);
      clearTimeout(quiet);
      quiet = setTimeout(done, 1000); // a server that keeps the connection open sends nothing more
    });
    socket.on("close", done);
    socket.on("error", done);
    socket.on("connect", async () => {
      for (const [i, piece] of pieces.entries()) {
        if (socket.destroyed) return;
        if (i === pieces.length - 1) sentAll = true;
        socket.write(piece);
        if (pauseMs > 0 && i < pieces.length - 1) await new Promise((wait) => setTimeout(wait, pauseMs));
      }
    });
  });
}

const said = ({ statuses, early }: Outcome, askEarly = true) =>
  `${statuses.length} answer(s)${statuses.length > 0 ? ` (${statuses.join(", ")})` : ""}${
    askEarly && early ? ", the first before the request was all sent" : ""
  }`;

// 1. A request in two reads: a server that reads once answers before the request is complete.
console.log(
  `a request in two pieces: ${said(await exchange(["GET / HTTP/1.1\r\nHo", "st: tutorial\r\n\r\n"], 500))}`,
);

// 2. Two requests in one write (pipelining): a server that reads once answers once.
const two = "GET / HTTP/1.1\r\nHost: tutorial\r\n\r\n".repeat(2);
console.log(`two pipelined requests in one write: ${said(await exchange([two]))}`);

// 3. Keep-alive: a second request on the same connection, after the first answer.
const one = "GET / HTTP/1.1\r\nHost: tutorial\r\n\r\n";
console.log(
  `two requests on one connection, one after the other: ${said(await exchange([one, one], 300), false)}`,
);

// 4. A slow client, one byte every 20 ms: a server that reads once takes the first byte for the request.
console.log(`a request a byte at a time: ${said(await exchange([...one], 20))}`);
