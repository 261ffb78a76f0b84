/**
 * The tutorial's steps (docs/TUTORIAL.md, `examples/tutorial/`) run on the runtime under test, as a
 * reader runs them, and print what the text says they print.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RawClient } from "./_helpers.ts";
import { CliProcess, runtime } from "./_processes.ts";

const CLASSROOM = "examples/tutorial/01_classroom.ts";
const WHY_IT_BREAKS = "examples/tutorial/02_why_it_breaks.ts";

/** A step's file, run as a reader runs it: Deno with `--allow-net`, or with `deno` permissions. */
const step = (file: string, args: string[], deno = ["--allow-net"]) => new CliProcess(args, deno, file);

/**
 * The output docs/TUTORIAL.md shows for a step: the first fenced block with no language in the
 * step's section (its command lines are a `sh` block before it).
 */
function shownOutput(stepNumber: number): string {
  const tutorial = readFileSync(new URL("../../docs/TUTORIAL.md", import.meta.url), "utf8");
  const start = tutorial.indexOf(`\n## Step ${stepNumber}:`);
  assert.notEqual(start, -1, `docs/TUTORIAL.md has no step ${stepNumber}`);
  const end = tutorial.indexOf("\n## ", start + 1);
  const section = tutorial.slice(start, end === -1 ? undefined : end);
  // Fences at the start of a line, in pairs: an opening one names its language, a closing one nothing.
  const blocks: { language: string; text: string }[] = [];
  let open: { language: string; lines: string[] } | null = null;
  for (const line of section.split("\n")) {
    if (!line.startsWith("```")) open?.lines.push(line);
    else if (open === null) open = { language: line.slice(3), lines: [] };
    else {
      blocks.push({ language: open.language, text: open.lines.join("\n") + "\n" });
      open = null;
    }
  }
  const output = blocks.find((block) => block.language === "");
  assert.ok(output, `step ${stepNumber} of docs/TUTORIAL.md shows no output`);
  return output.text;
}

/** The command line, after the runtime binary, that runs a test file with the runtime's own test runner. */
function testRunnerArgs(file: string): string[] {
  if (runtime === "deno") return ["test", file];
  if (runtime === "bun") return ["test", `./${file}`];
  return ["--test", file];
}

/**
 * Runs a test file with the runtime's own test runner, as a reader does (`deno test`, `bun test`,
 * `node --test`): its exit code, and how many tests passed and failed as the runner's summary says.
 */
async function runTests(file: string): Promise<{ code: number | null; passed: number; failed: number }> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env.NODE_TEST_CONTEXT; // else Node's runner, run under a test, reports to its parent, not in text
  const child = spawn(process.execPath, testRunnerArgs(file), {
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  // The summaries: Deno's "ok | 5 passed | 0 failed", Bun's " 5 pass" and " 0 fail", Node's "ℹ pass 5"
  // and "ℹ fail 0" (or "# pass 5" in TAP).
  const summary = runtime === "deno"
    ? /^(?:ok|FAILED) \| (?<passed>\d+) passed[^|\n]*\| (?<failed>\d+) failed/m.exec(output)
    : runtime === "bun"
    ? /^ *(?<passed>\d+) pass\n *(?<failed>\d+) fail$/m.exec(output)
    : /^[ℹ#] pass (?<passed>\d+)\n[ℹ#] fail (?<failed>\d+)$/m.exec(output);
  assert.ok(summary?.groups, `no summary from the ${runtime} test runner in:\n${output}`);
  return { code, passed: Number(summary.groups.passed), failed: Number(summary.groups.failed) };
}

/** Runs a step that prints and exits, with no permissions on Deno: what it printed, once it exited 0. */
async function printed(file: string): Promise<string> {
  const program = step(file, [], []);
  assert.equal(await program.exited, 0, program.text);
  return program.text;
}

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
  test("step 3: the hand parsers and h1serve's core print what docs/TUTORIAL.md shows", async () => {
    const output = await printed("examples/tutorial/03_parsing_by_hand.ts");
    assert.equal(output, shownOutput(3));
    // The point of the step, whatever the text around it: the two readings differ, the core refuses.
    assert.equal(output.match(/: 1 request: POST \/\n/g)?.length, 5);
    assert.equal(output.match(/: 2 requests: POST \/, GET \/admin\n/g)?.length, 5);
    assert.equal(
      output.match(/^ {2}h1serve's core: HTTP\/1\.1 400 Bad Request \(connection: close\)/gm)?.length,
      5,
    );
  });
  test("step 4: the hand chunked decoder and h1serve's core print what docs/TUTORIAL.md shows", async () => {
    const output = await printed("examples/tutorial/04_bodies.ts");
    assert.equal(output, shownOutput(4));
    // Every split agrees, by hand and in the core, and a wrong length moves the next request.
    assert.equal(output.match(/: (body and trailers )?the same each time\n/g)?.length, 2);
    assert.match(
      output,
      /^ {2}with the next request after it, both stop after 53 bytes, before "GET \/next /m,
    );
    assert.match(output, /^ {4}request loGET \/next, body: none$/m);
  });
  test("step 5: the core's events for every split and its responses are what docs/TUTORIAL.md shows", async () => {
    const output = await printed("examples/tutorial/05_the_core.ts");
    assert.equal(output, shownOutput(5));
    assert.match(output, /^split in two after each of its first 65 bytes: the same$/m);
    assert.match(output, /^a byte at a time, 66 reads: the same /m);
    assert.match(output, /^ {2}checkTimeout at it: close, closed: true$/m);
  });
  test(
    "step 6: the runtime's own test runner runs the h1serve/testing tests and all of them pass",
    { timeout: 60_000 },
    async () => {
      const result = await runTests("examples/tutorial/06_testing_test.ts");
      assert.deepEqual(result, { code: 0, passed: 5, failed: 0 });
    },
  );
});
