/**
 * The tutorial's steps (docs/TUTORIAL.md, `examples/tutorial/`) run on the runtime under test, as a
 * reader runs them, and print what the text says they print.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { RawClient, within } from "./_helpers.ts";
import { runtime } from "./_processes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A step's program, with its output so far and a wait for a line of it. */
class Step {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  out = "";
  done = false;
  #waiters: (() => void)[] = [];

  constructor(file: string, args: string[]) {
    const command = runtime === "deno"
      ? ["run", "--allow-net", file, ...args]
      : runtime === "bun"
      ? ["run", file, ...args]
      : [file, ...args];
    this.child = spawn(process.execPath, command, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const add = (chunk: string) => {
      this.out += chunk;
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.child.stdout!.setEncoding("utf8").on("data", add);
    this.child.stderr!.setEncoding("utf8").on("data", add);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => ((this.done = true), resolve(code)))
    );
  }

  async line(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    const find = async () => {
      for (;;) {
        const found = pattern.exec(this.out);
        if (found) return found;
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    };
    return await within(find(), 20_000, () => `${what} in:\n${this.out}`);
  }

  async stop(): Promise<void> {
    if (this.done) return;
    process.kill(this.child.pid!, "SIGTERM");
    await this.exited;
  }
}

describe(`the tutorial on ${runtime}`, () => {
  const running: Step[] = [];
  after(async () => {
    for (const step of running) await step.stop();
  });

  test(
    "step 1, the classroom program: the peer and its request printed, the page served, SO_REUSEADDR, the port in use",
    { timeout: 30_000 },
    async () => {
      const file = "examples/tutorial/01_classroom.ts";
      const first = new Step(file, ["0"]);
      running.push(first);
      const port = Number(
        (await first.line(/^listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m, "the listening line"))[1],
      );
      const client = await RawClient.connect(port);
      await client.write("GET / HTTP/1.1\r\nHost: tutorial\r\n\r\n");
      const page = await client.untilEnd(); // the server closes first: its side of the connection waits in TIME_WAIT
      assert.match(new TextDecoder().decode(page), /^HTTP\/1\.1 200 OK\r\n[^]*<p>Hello World!<\/p>/);
      // (Bun's node:net client reports another localPort than the one the server sees.)
      await first.line(/^GOT a connection from 127\.0\.0\.1:\d+$/m, "the peer");
      await first.line(
        /^it sent 34 bytes:\nGET \/ HTTP\/1\.1\r?\nHost: tutorial\r?\n/m,
        "the request as it came",
      );

      // A second copy on the same port, while the first runs: one line, exit 1.
      const second = new Step(file, [String(port)]);
      running.push(second);
      assert.equal(await second.exited, 1);
      assert.match(
        second.out,
        new RegExp(`^port ${port} is already in use: stop the other server, or pass another port\\n$`),
      );

      // A restart right after a connection that the server closed first binds at once (SO_REUSEADDR).
      await first.stop();
      const again = new Step(file, [String(port)]);
      running.push(again);
      await again.line(
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
      const classroom = new Step("examples/tutorial/01_classroom.ts", ["0"]);
      running.push(classroom);
      const port =
        (await classroom.line(/^listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m, "the listening line"))[1];
      const broken = new Step("examples/tutorial/02_why_it_breaks.ts", [port]);
      running.push(broken);
      assert.equal(await broken.exited, 0, broken.out);
      assert.equal(
        broken.out,
        [
          "a request in two pieces: 1 answer(s) (200), the first before the request was all sent",
          "two pipelined requests in one write: 1 answer(s) (200)",
          "two requests on one connection, one after the other: 1 answer(s) (200)",
          "a request a byte at a time: 1 answer(s) (200), the first before the request was all sent",
          "",
        ].join("\n"),
      );

      const h1serve = new Step("mod.ts", ["--port", "0", "--hostname", "127.0.0.1", "--quiet"]);
      running.push(h1serve);
      const h1port =
        (await h1serve.line(/^h1serve listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m, "h1serve's line"))[1];
      const fine = new Step("examples/tutorial/02_why_it_breaks.ts", [h1port]);
      running.push(fine);
      assert.equal(await fine.exited, 0, fine.out);
      assert.equal(
        fine.out,
        [
          "a request in two pieces: 1 answer(s) (200)",
          "two pipelined requests in one write: 2 answer(s) (200, 200)",
          "two requests on one connection, one after the other: 2 answer(s) (200, 200)",
          "a request a byte at a time: 1 answer(s) (200)",
          "",
        ].join("\n"),
      );
    },
  );
});
