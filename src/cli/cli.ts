/**
 * The command line: serves the Hello World page and logs, as the classroom server did, who
 * connected and what they sent. The same output on Deno, Bun and Node.
 *
 * @module
 */

import { readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ServeOptions, Server } from "../server/options.ts";
import { serve } from "../server/serve.ts";
import { ForwardingPolicy } from "../server/forwarding.ts";
import { workerCount, workerIdentity } from "../server/workers.ts";
import { type Addr, addrText } from "../transport/transport.ts";
import { helloHandler } from "./hello.ts";
import { serveDir } from "../static/serve_dir.ts";
import { HarRecorder } from "./har.ts";
import { DEFAULT_TRACE_FORMAT, type TraceFormat, TracePrinter, visible } from "./trace_format.ts";

/** The `--help` text. */
export const USAGE: string = `h1serve: serves the Hello World page over HTTP/1.1

Usage: h1serve [options]
       deno run --allow-net mod.ts [options] | bun run mod.ts [options] | node mod.ts [options]

Options:
  --port N        port to listen on, 0 to 65535 (default 8000; 0 picks a free port)
  --hostname H    interface to listen on (default 0.0.0.0, every IPv4 interface)
  --cert FILE     serve HTTPS with this PEM certificate chain (with --key)
  --key FILE      the PEM private key of --cert
  --unix PATH     listen on a unix domain socket at PATH, in place of --port and --hostname
  --dir PATH      serve the files of the folder PATH in place of the Hello World page, with a
                  listing page for folders without index.html (Deno: add --allow-read)
  --workers N     serve with N processes sharing the port, or "auto" for one per CPU (default 1);
                  SIGHUP restarts them one at a time
  --trust-proxy LIST  believe X-Forwarded-For and X-Forwarded-Proto from these peers: addresses or
                  CIDR blocks, comma-separated, or the number of proxies in front
  --proxy-protocol  expect a PROXY protocol header (v1 or v2) first on every connection, as a
                  proxy such as HAProxy sends it; log the client it names
  --trace         print every connection as it happens: the bytes in and out with CR and LF shown,
                  each request's and response's framing and keep-alive, rejections with a
                  caret under the byte, timeouts, who closed and why (secrets redacted, bodies
                  cut at 256 bytes)
  --trace-secrets with --trace, show Authorization, Cookie, Set-Cookie and Proxy-Authorization
  --trace-body N  with --trace, show at most N bytes of each piece of a body (default 256)
  --trace-file F  write every exchange to F as a HAR 1.2 file when the server stops
  --verbose       also print each request's bytes exactly as they arrive, and why a request was rejected
  --quiet         print only the startup line
  --help          print this help and exit

Logs one line per connection and one per request (method, target, status, bytes, time).
SIGINT (Ctrl-C) or SIGTERM stops the server after the requests in flight.`;

/** Parsed command-line options. */
export interface CliOptions {
  /** Port to listen on. */
  readonly port: number;
  /** Interface to listen on. */
  readonly hostname: string;
  /** The TLS certificate chain and key files, or `null` for plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** A unix socket path to listen on, or `null`. */
  readonly unix: string | null;
  /** The folder to serve, as given, or `null` for the Hello World page. */
  readonly dir: string | null;
  /** Whether connections start with a PROXY protocol header. */
  readonly proxyProtocol: boolean;
  /** The trusted proxies, or `null`. */
  readonly trustProxy: readonly string[] | number | null;
  /** How many processes serve. */
  readonly workers: number | "auto";
  /** How much to print. */
  readonly logLevel: "quiet" | "normal" | "verbose";
  /** How to print the wire trace, or `null` without `--trace`. */
  readonly trace: TraceFormat | null;
  /** Where to write the HAR file of the exchanges, or `null`. */
  readonly harFile: string | null;
  /** Whether `--help` was asked for. */
  readonly help: boolean;
}

/** A command-line mistake; its message is the one line to print. */
export class UsageError extends Error {
  /** @param message One line naming the mistake and the fix. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses the command-line arguments.
 *
 * @param args The arguments after the program name.
 * @returns The options.
 * @throws {UsageError} For an unknown flag, a missing value or a bad port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./cli.ts";
 *
 * assert.equal(parseArgs(["--port", "9000"]).port, 9000);
 * assert.equal(parseArgs(["--port=0", "--quiet"]).logLevel, "quiet");
 * assert.throws(() => parseArgs(["--port", "http"]), /--port needs a number/);
 * ```
 */
export function parseArgs(args: readonly string[]): CliOptions {
  let port = 8000;
  let hostname = "0.0.0.0";
  const paths: Partial<Record<"--cert" | "--key" | "--unix" | "--dir", string>> = {};
  let proxyProtocol = false;
  let trustProxy: readonly string[] | number | null = null;
  let workers: number | "auto" = 1;
  let logLevel: CliOptions["logLevel"] = "normal";
  let trace: TraceFormat | null = null;
  let harFile: string | null = null;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq !== -1 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value (see --help)`);
      return next;
    };
    switch (flag) {
      case "--port":
        port = portArg(value());
        break;
      case "--hostname": {
        hostname = value();
        if (hostname === "") throw new UsageError("--hostname needs a non-empty value (see --help)");
        break;
      }
      case "--cert":
      case "--key":
      case "--unix":
      case "--dir": {
        const text = value();
        if (text === "") throw new UsageError(`${flag} needs a non-empty value (see --help)`);
        paths[flag] = text;
        break;
      }
      case "--workers":
        workers = workersArg(value());
        break;
      case "--trust-proxy":
        trustProxy = trustProxyArg(value());
        break;
      case "--proxy-protocol":
        if (inline !== undefined) throw new UsageError(`${flag} takes no value (see --help)`);
        proxyProtocol = true;
        break;
      case "--trace-file":
        harFile = value();
        if (harFile === "") throw new UsageError("--trace-file needs a file name (see --help)");
        break;
      case "--trace":
      case "--trace-secrets":
      case "--trace-body":
        trace = traceArg(flag, flag === "--trace-body" ? value() : inline, trace);
        break;
      case "--verbose":
      case "--quiet":
        if (inline !== undefined) throw new UsageError(`${flag} takes no value (see --help)`);
        logLevel = flag === "--verbose" ? "verbose" : "quiet";
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(flag)} (see --help)`);
    }
  }
  const [unix, dir] = [paths["--unix"] ?? null, paths["--dir"] ?? null];
  const tls = tlsArgs(paths["--cert"] ?? null, paths["--key"] ?? null, unix, proxyProtocol);
  if (workers !== 1 && unix !== null) throw new UsageError("--workers shares a TCP port, not a unix socket");
  const where = { port, hostname, tls, unix, dir, proxyProtocol, trustProxy, workers };
  return { ...where, logLevel, trace, harFile, help };
}

/** The trace flags: `--trace`, `--trace-secrets` (no value), `--trace-body N`. */
function traceArg(flag: string, value: string | undefined, trace: TraceFormat | null): TraceFormat {
  const format = trace ?? DEFAULT_TRACE_FORMAT;
  if (flag === "--trace-body") {
    if (!/^[0-9]{1,9}$/.test(value!)) {
      throw new UsageError(`--trace-body needs a number of bytes, got "${value}"`);
    }
    return { ...format, bodyBytes: Number(value) };
  }
  if (value !== undefined) throw new UsageError(`${flag} takes no value (see --help)`);
  return flag === "--trace-secrets" ? { ...format, secrets: true } : format;
}

/** `--workers`' value: a count from 1, or `auto`. */
function workersArg(text: string): number | "auto" {
  if (text === "auto") return "auto";
  if (!/^[1-9][0-9]{0,3}$/.test(text)) {
    throw new UsageError(`--workers needs a count of 1 or more, or auto, got "${text}"`);
  }
  return Number(text);
}

/** `--port`'s value. */
function portArg(text: string): number {
  const parsed = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(parsed >= 0 && parsed <= 65535)) {
    throw new UsageError(`--port needs a number from 0 to 65535, got "${text}"`);
  }
  return parsed;
}

/** `--trust-proxy`'s value: a hop count, or addresses and CIDR blocks, checked now. */
function trustProxyArg(text: string): readonly string[] | number {
  const trustProxy = /^\d+$/.test(text) ? Number(text) : text.split(",").map((entry) => entry.trim());
  try {
    new ForwardingPolicy(trustProxy, "x-forwarded-for");
  } catch (error) {
    throw new UsageError(`--trust-proxy: ${(error as Error).message.replace(/^trustProxy: /, "")}`);
  }
  return trustProxy;
}

/** `--cert` and `--key`, which come together, over TCP and without `--proxy-protocol`. */
function tlsArgs(
  certFile: string | null,
  keyFile: string | null,
  unix: string | null,
  proxyProtocol: boolean,
): CliOptions["tls"] {
  if (certFile === null && keyFile === null) return null;
  if (certFile === null || keyFile === null) {
    throw new UsageError(
      `${certFile === null ? "--key" : "--cert"} needs ${certFile === null ? "--cert" : "--key"} too`,
    );
  }
  if (unix !== null) throw new UsageError("--cert and --key work over TCP, not with --unix");
  if (proxyProtocol) {
    throw new UsageError("--proxy-protocol works on plain listeners: the header comes before TLS");
  }
  return { certFile, keyFile };
}

/**
 * Shows bytes as they arrived (`--verbose`): printable text as it is, CR as `\r`, tab as `\t`
 * and other control or non-ASCII bytes as `\xNN`; LF stays a line break. The trace's renderer,
 * {@link visible}, in its `escapes` style.
 *
 * @param bytes The bytes.
 * @returns The readable text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showBytes } from "./cli.ts";
 *
 * assert.equal(showBytes(new TextEncoder().encode("GET / HTTP/1.1\r\n\x00")), "GET / HTTP/1.1\\r\n\\x00");
 * ```
 */
export function showBytes(bytes: Uint8Array): string {
  return visible(bytes, { style: "escapes" });
}

/**
 * Runs the command line: serves the Hello World page until SIGINT or SIGTERM, then shuts down
 * gracefully and exits 0. A usage mistake exits 2 and a listen failure exits 1, each with one line.
 *
 * @param args The arguments after the program name.
 * @returns Resolves when the server has stopped.
 *
 * @example
 * ```ts ignore
 * import { main } from "./cli.ts";
 * await main(["--port", "8080"]);
 * ```
 */
export async function main(args: readonly string[]): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`h1serve: ${error.message}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (options.dir !== null) options = { ...options, dir: folderArg(options.dir) };
  const har = options.harFile === null ? null : new HarRecorder(options.tls === null ? "http" : "https");
  const serveOptions = serveOptionsOf(options, har);
  // TCP or unix, chosen at run time: the hooks above take either kind of address.
  const server = serve(serveOptions as ServeOptions) as unknown as Server<Addr>;
  // Signal handlers come first, so that a signal sent right after the startup line is handled.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`h1serve: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    if (options.logLevel !== "quiet") {
      console.log(`${signal}: finishing the requests in flight, then exiting`);
    }
    server.shutdown();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  let addr: Addr;
  try {
    addr = await server.ready;
  } catch (error) {
    console.error(`h1serve: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  printListening(addr, options.tls !== null, options.workers, options.dir);
  await server.finished;
  if (har !== null) writeHar(options.harFile!, har);
  process.exit(0);
}

/** Writes the HAR file; a failure is one line, and the exit stays 0 (the serving went well). */
function writeHar(path: string, har: HarRecorder): void {
  const archive = har.toJSON();
  try {
    writeFileSync(path, JSON.stringify(archive, null, 2));
    console.log(`h1serve: wrote ${archive.log.entries.length} exchanges to ${path}`);
  } catch (error) {
    console.error(`h1serve: could not write ${path}: ${(error as Error).message}`);
  }
}

/** What `serve` is given for the command line's options: where, TLS, the hooks that print. */
function serveOptionsOf(options: CliOptions, har: HarRecorder | null): ServeOptions<Addr> {
  // The trace tells all that the log lines would, and more: with it they are not printed.
  const normal = options.logLevel !== "quiet" && options.trace === null;
  const verbose = options.logLevel === "verbose" && options.trace === null;
  const printer = options.trace === null ? null : new TracePrinter(options.trace);
  const tls = options.tls &&
    { cert: readPem(options.tls.certFile, "certificate"), key: readPem(options.tls.keyFile, "key") };
  return {
    port: options.port,
    hostname: options.hostname,
    ...(options.unix === null ? {} : { path: options.unix }),
    ...(options.proxyProtocol ? { proxyProtocol: true } : {}),
    ...(options.trustProxy === null ? {} : { trustProxy: options.trustProxy }),
    ...(options.workers === 1 ? {} : { workers: options.workers }),
    ...tls,
    handler: options.dir === null ? helloHandler : dirHandler(options.dir),
    ...(printer === null && har === null ? {} : {
      trace: (event) => {
        har?.add(event);
        if (printer !== null) console.log(printer.print(event).join("\n"));
      },
    }),
    onConnection: normal
      ? (addr, client) => console.log(`connection from ${peerText(addr, client)}`)
      : undefined,
    onData: verbose
      ? (bytes, addr) => console.log(`${addrText(addr)} sent ${bytes.byteLength} bytes:\n${showBytes(bytes)}`)
      : undefined,
    onResponse: normal
      ? (entry) =>
        console.log(
          `${
            peerText(entry.remoteAddr, entry.clientAddr)
          } ${entry.method} ${entry.target} ${entry.status} ${entry.bytes} bytes ${entry.durationMs} ms${
            entry.status === 101 ? " (WebSocket, open for that long)" : ""
          }`,
        )
      : undefined,
    onProtocolError: verbose
      ? (info) =>
        console.log(
          `${
            addrText(info.remoteAddr)
          } rejected: ${info.status} ${info.code} (${info.rfc}) at byte ${info.offset}: ${info.message}`,
        )
      : undefined,
  };
}

/** The startup line; a worker's own comes from serve(), and its primary prefixes it with the worker's id. */
function printListening(addr: Addr, https: boolean, workers: number | "auto", dir: string | null): void {
  if (workers !== 1 && workerIdentity() !== null) return;
  const notes = [
    ...(dir === null ? [] : [`serving ${dir}`]),
    ...(workers === 1 ? [] : [`${workerCount(workers)} workers`]),
  ];
  console.log(
    `h1serve listening on ${listeningText(addr, https)}${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`,
  );
}

/** The handler of `--dir`: the folder's files, with listing pages. */
function dirHandler(root: string): (request: Request) => Promise<Response> {
  return (request) => serveDir(request, { root, listing: true });
}

/** `--dir`'s folder as an absolute path, or exits 2 with one line when it is not a folder it can read. */
function folderArg(path: string): string {
  const absolute = resolve(path);
  let reason: string | null = null;
  try {
    if (!statSync(absolute).isDirectory()) reason = "it is not a folder";
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    reason = code === "ENOENT" || code === "ENOTDIR"
      ? "no such folder"
      : code === "EACCES"
      ? "permission denied"
      : "Deno" in globalThis && /NotCapable|--allow-read/.test(String(message))
      ? "not allowed (Deno: add --allow-read)"
      : String(message ?? error).split("\n")[0];
  }
  if (reason === null) return absolute;
  console.error(`h1serve: --dir ${path}: ${reason}`);
  process.exit(2);
}

/** Where the server listens, as a URL to open, or a unix socket and how to reach it with curl. */
function listeningText(addr: Addr, https: boolean): string {
  if (addr.transport === "unix") {
    return `${addr.path} (try: curl --unix-socket ${addr.path} http://localhost/)`;
  }
  return `${https ? "https" : "http"}://${addrText(addr)}/`;
}

/** Reads a PEM file, or exits with one line that names the file and the reason. */
function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const reason = code === "ENOENT"
      ? "no such file"
      : code === "EACCES"
      ? "permission denied"
      : "Deno" in globalThis && /NotCapable|--allow-read/.test(String(message))
      ? "not allowed (Deno: add --allow-read)"
      : String(message ?? error).split("\n")[0];
    console.error(`h1serve: cannot read the ${what} file ${file}: ${reason}`);
    process.exit(2);
  }
}

/** The client as logs show it: its address, and the proxy's after `via` when they differ. */
function peerText(peer: Addr, client: Addr): string {
  const text = addrText(peer);
  const clientText = addrText(client);
  return clientText === text ? text : `${clientText} via ${text}`;
}
