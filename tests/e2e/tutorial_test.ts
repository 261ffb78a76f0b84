/**
 * The tutorial's steps (docs/TUTORIAL.md, `examples/tutorial/`) run on the runtime under test, as a
 * reader runs them, and print what the text says they print.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { RawClient } from "./_helpers.ts";
import { CliProcess, runtime } from "./_processes.ts";

const CLASSROOM = "examples/tutorial/01_classroom.ts";
const WHY_IT_BREAKS = "examples/tutorial/02_why_it_breaks.ts";

/** A step's file, run as a reader runs it: Deno with `--allow-net`. */
const step = (file: string, args: string[]) => new CliProcess(args, ["--allow-net"], file);

describe(`the tutorial on ${runtime}`, () => {
  const running: CliProcess[] = [];
  after(async () => {
    for (const step of running) await step.stop();
  });

  test(
    "step 1, the classroom program: the peer and its request printed, the page served, SO_REUSEADDR, the port in use",
    { timeout: 30_000 },
    async () => {
      const first = step(CLASSROOM, ["0"]);
      running.push(first);
      const port = Number(
        (await first.match(/^listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m, "the listening line"))[1],
      );
      const client = await RawClient.connect(port);
      await client.write("GET / HTTP/1.1\r\nHost: tutorial\r\n\r\n");
      const page = await client.untilEnd(); // the server closes first: its side of the connection waits in TIME_WAIT
      assert.match(new TextDecoder().decode(page), /^HTTP\/1\.1 200 OK\r\n[^]*<p>Hello World!<\/p>/);
      // (Bun's node:net client reports another localPort than the one the server sees.)
      await first.match(/^GOT a connection from 127\.0\.0\.1:\d+$/m, "the peer");
      await first.match(
        /^it sent 34 bytes:\nGET \/ HTTP\/1\.1\r?\nHost: tutorial\r?\n/m,
        "the request as it came",
      );

      // A second copy on the same port, while the first runs: one line, exit 1.
      const second = step(CLASSROOM, [String(port)]);
      running.push(second);
      assert.equal(await second.exited, 1);
      assert.match(
        second.text,
        new RegExp(`^port ${port} is already in use: stop the other server, or pass another port\\n$`),
      );

      // A restart right after a connection that the server closed first binds at once (SO_REUSEADDR).
      await first.stop();
      const again = step(CLASSROOM, [String(port)]);
      running.push(again);
      await again.match(
        new RegExp(`^listening on http://127\\.0\\.0\\.1:${port}/$`, "m"),
        "the restart to listen",
      );
    },
  );
  test(
    "step 2: the classroom program breaks on split, pipelined, kept-alive and slow requests, and h1serve does not",
    {
      timeout: 30_000,
    },
    async () => {
      /** Runs step 2 against a port: its lines, once it has exited 0. */
      const breaking = async (port: string) => {
        const client = step(WHY_IT_BREAKS, [port]);
        running.push(client);
        assert.equal(await client.exited, 0, client.text);
        return client.text.split("\n");
      };
      const classroom = step(CLASSROOM, ["0"]);
      running.push(classroom);
      const port =
        (await classroom.match(/^listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m, "the listening line"))[1];
      assert.deepEqual(await breaking(port), [
        "a request in two pieces: 1 answer(s) (200), the first before the request was all sent",
        "two pipelined requests in one write: 1 answer(s) (200)",
        "two requests on one connection, one after the other: 1 answer(s) (200)",
        "a request a byte at a time: 1 answer(s) (200), the first before the request was all sent",
        "",
      ]);

      const h1serve = step("mod.ts", ["--port", "0", "--hostname", "127.0.0.1", "--quiet"]);
      running.push(h1serve);
      const h1port =
        (await h1serve.match(/^h1serve listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m, "h1serve's line"))[1];
      assert.deepEqual(await breaking(h1port), [
        "a request in two pieces: 1 answer(s) (200)",
        "two pipelined requests in one write: 2 answer(s) (200, 200)",
        "two requests on one connection, one after the other: 2 answer(s) (200, 200)",
        "a request a byte at a time: 1 answer(s) (200)",
        "",
      ]);
    },
  );
});
