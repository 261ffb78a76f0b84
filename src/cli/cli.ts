/**
 * The command line: serves the Hello World page and logs, as the classroom server did, who
 * connected and what they sent. The same output on Deno, Bun and Node.
 *
 * @module
 */

import { serve } from "../server/serve.ts";
import { hostPort, type NetAddr } from "../transport/transport.ts";
import { helloHandler } from "./hello.ts";

/** The `--help` text. */
export const USAGE: string = `h1serve: serves the Hello World page over HTTP/1.1

Usage: h1serve [options]
       deno run --allow-net mod.ts [options] | bun run mod.ts [options] | node mod.ts [options]

Options:
  --port N        port to listen on, 0 to 65535 (default 8000; 0 picks a free port)
  --hostname H    interface to listen on (default 0.0.0.0, every IPv4 interface)
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
  /** How much to print. */
  readonly logLevel: "quiet" | "normal" | "verbose";
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
  let logLevel: CliOptions["logLevel"] = "normal";
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
      case "--port": {
        const text = value();
        const parsed = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
        if (!(parsed >= 0 && parsed <= 65535)) {
          throw new UsageError(`--port needs a number from 0 to 65535, got "${text}"`);
        }
        port = parsed;
        break;
      }
      case "--hostname": {
        hostname = value();
        if (hostname === "") throw new UsageError("--hostname needs a non-empty value (see --help)");
        break;
      }
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
  return { port, hostname, logLevel, help };
}

/**
 * Shows bytes as they arrived: printable text as it is, CR as `\r` and other control or
 * non-ASCII bytes as `\xNN`; LF stays a line break.
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
  let text = "";
  for (const byte of bytes) {
    if (byte === 0x0a) text += "\n";
    else if (byte === 0x0d) text += "\\r";
    else if (byte === 0x09) text += "\\t";
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return text;
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
  const normal = options.logLevel !== "quiet";
  const verbose = options.logLevel === "verbose";
  const server = serve({
    port: options.port,
    hostname: options.hostname,
    handler: helloHandler,
    onConnection: normal ? (addr) => console.log(`connection from ${hostPort(addr)}`) : undefined,
    onData: verbose
      ? (bytes, addr) => console.log(`${hostPort(addr)} sent ${bytes.byteLength} bytes:\n${showBytes(bytes)}`)
      : undefined,
    onResponse: normal
      ? (entry) =>
        console.log(
          `${
            hostPort(entry.remoteAddr)
          } ${entry.method} ${entry.target} ${entry.status} ${entry.bytes} bytes ${entry.durationMs} ms${
            entry.status === 101 ? " (WebSocket, open for that long)" : ""
          }`,
        )
      : undefined,
    onProtocolError: verbose
      ? (info) =>
        console.log(
          `${
            hostPort(info.remoteAddr)
          } rejected: ${info.status} ${info.code} (${info.rfc}) at byte ${info.offset}: ${info.message}`,
        )
      : undefined,
  });
  // Signal handlers come first, so that a signal sent right after the startup line is handled.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`h1serve: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    if (normal) console.log(`${signal}: finishing the requests in flight, then exiting`);
    server.shutdown();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  let addr: NetAddr;
  try {
    addr = await server.ready;
  } catch (error) {
    console.error(`h1serve: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`h1serve listening on http://${hostPort(addr)}/`);
  await server.finished;
  process.exit(0);
}
