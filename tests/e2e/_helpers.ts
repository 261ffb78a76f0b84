/**
 * Shared helpers of the end-to-end tests: start a server on 127.0.0.1 with port 0, talk to it
 * over a raw TCP socket (`node:net` works on Deno, Bun and Node), and parse the responses.
 *
 * This file is not a test file (its name does not end in `_test.ts`).
 *
 * @module
 */

import { concatBytes } from "../../src/core/_bytes.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { serve } from "../../src/server/serve.ts";
import type { ServeHandler, ServeOptions, Server } from "../../src/server/options.ts";
import type { Addr } from "../../src/transport/transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a string as UTF-8 bytes. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes bytes as Latin-1, so that every byte maps to one character (for exact comparisons). */
export function latin1(data: Uint8Array): string {
  let text = "";
  for (let i = 0; i < data.byteLength; i += 8192) {
    text += String.fromCharCode(...data.subarray(i, Math.min(i + 8192, data.byteLength)));
  }
  return text;
}

/** A started server plus the things a test needs to reach it. */
export interface TestServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
}

/**
 * Starts a server on 127.0.0.1, port 0, and waits until it listens.
 * The caller must shut it down (use {@link shutdownAll} in `after`).
 */
export async function startServer(handler: ServeHandler, options: ServeOptions = {}): Promise<TestServer> {
  const server = serve({ ...options, port: 0, hostname: "127.0.0.1" }, handler);
  const addr = await server.ready;
  return { server, port: addr.port, origin: `http://127.0.0.1:${addr.port}` };
}

/** Rejects with a clear message if the promise has not settled in time (a guard against hangs, not a sleep). */
export async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise with its resolve function outside, to let a test open a gate the handler waits on. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Waits until a value has stopped changing for `quietMs` (polled), for the few checks whose event
 * is "nothing more happens", such as a producer that stopped because of backpressure.
 * Gives up after `maxMs` and returns the last value.
 */
export async function settledValue(read: () => number, quietMs = 200, maxMs = 8000): Promise<number> {
  const start = Date.now();
  let last = read();
  let lastChange = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = read();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) {
      break;
    }
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 response parser for tests
// ---------------------------------------------------------------------------------------------

/** One parsed response. */
export interface ParsedResponse {
  /** e.g. `"HTTP/1.1 200 OK"` */
  readonly statusLine: string;
  readonly status: number;
  /** Header fields in the order sent, names as sent. */
  readonly headers: readonly [string, string][];
  /** The head exactly as sent, status line to the empty line included (Latin-1). */
  readonly head: string;
  /** The decoded body (de-chunked). */
  readonly body: Uint8Array;
  /** The body's raw bytes on the wire, framing included (Latin-1). */
  readonly rawBody: string;
  /** Whether the body was chunked. */
  readonly chunked: boolean;
  /** The value of a header field (case-insensitive), joined with ", " when repeated, or `null`. */
  header(name: string): string | null;
  /** The body as UTF-8 text. */
  text(): string;
}

/** Where a response ended, or `null` when more bytes are needed. */
export interface ParseResult {
  readonly response: ParsedResponse;
  readonly end: number;
}

function indexOfCrlfCrlf(data: Uint8Array, from: number): number {
  for (let i = from; i + 3 < data.byteLength; i++) {
    if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) return i;
  }
  return -1;
}

function indexOfCrlf(data: Uint8Array, from: number): number {
  for (let i = from; i + 1 < data.byteLength; i++) {
    if (data[i] === 13 && data[i + 1] === 10) return i;
  }
  return -1;
}

/**
 * Parses one response starting at `start`.
 *
 * @param data The bytes received so far.
 * @param start Where the response starts.
 * @param options `method` of the request (HEAD responses have no body); `eof` whether the peer has
 *   closed (a response without length then ends at the end of the data).
 * @returns The response and where it ended, or `null` if it is incomplete.
 * @throws {Error} If the bytes are not a valid response.
 */
export function parseResponse(
  data: Uint8Array,
  start: number,
  options: { method?: string; eof?: boolean } = {},
): ParseResult | null {
  const headEnd = indexOfCrlfCrlf(data, start);
  if (headEnd === -1) return null;
  const head = latin1(data.subarray(start, headEnd + 4));
  const lines = head.slice(0, -4).split("\r\n");
  const statusLine = lines[0];
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (match === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const status = Number(match[1]);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const header = (name: string): string | null => {
    const values = headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    return values.length === 0 ? null : values.join(", ");
  };
  let at = headEnd + 4;
  let body: Uint8Array;
  let chunked = false;
  const te = header("transfer-encoding");
  const cl = header("content-length");
  if (options.method === "HEAD" || status < 200 || status === 204 || status === 304) {
    body = new Uint8Array(0);
  } else if (te !== null) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new Error(`unexpected transfer-encoding ${te}`);
    chunked = true;
    const parts: Uint8Array[] = [];
    while (true) {
      const lineEnd = indexOfCrlf(data, at);
      if (lineEnd === -1) return null;
      const sizeText = latin1(data.subarray(at, lineEnd)).split(";")[0].trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
      const size = parseInt(sizeText, 16);
      at = lineEnd + 2;
      if (size === 0) {
        // Trailer section: lines until an empty one.
        while (true) {
          const end = indexOfCrlf(data, at);
          if (end === -1) return null;
          const empty = end === at;
          at = end + 2;
          if (empty) break;
        }
        break;
      }
      if (data.byteLength < at + size + 2) return null;
      parts.push(data.subarray(at, at + size));
      if (data[at + size] !== 13 || data[at + size + 1] !== 10) {
        throw new Error("chunk data not followed by CRLF");
      }
      at += size + 2;
    }
    body = concatBytes(parts);
  } else if (cl !== null) {
    const length = Number(cl);
    if (data.byteLength < at + length) return null;
    body = data.subarray(at, at + length);
    at += length;
  } else {
    if (!options.eof) return null;
    body = data.subarray(at);
    at = data.byteLength;
  }
  const rawBody = latin1(data.subarray(headEnd + 4, at));
  const response: ParsedResponse = {
    statusLine,
    status,
    headers,
    head,
    body,
    rawBody,
    chunked,
    header,
    text: () => decoder.decode(body),
  };
  return { response, end: at };
}

/**
 * The body received so far of a response that may be incomplete (chunk framing removed, the
 * partial data of an incomplete chunk included), as UTF-8 text; `""` until the head is complete.
 */
export function bodySoFar(data: Uint8Array): string {
  const headEnd = indexOfCrlfCrlf(data, 0);
  if (headEnd === -1) return "";
  const head = latin1(data.subarray(0, headEnd)).toLowerCase();
  let at = headEnd + 4;
  if (!/\r\ntransfer-encoding: *chunked/.test(head)) return decoder.decode(data.subarray(at));
  const parts: Uint8Array[] = [];
  while (true) {
    const lineEnd = indexOfCrlf(data, at);
    if (lineEnd === -1) break;
    const size = parseInt(latin1(data.subarray(at, lineEnd)), 16);
    if (!(size > 0)) break;
    const start = lineEnd + 2;
    parts.push(data.subarray(start, Math.min(start + size, data.byteLength)));
    at = start + size + 2;
    if (at > data.byteLength) break;
  }
  return decoder.decode(concatBytes(parts));
}

/** Parses every complete response in `data`; `methods` gives the request method of each, in order. */
export function parseAll(
  data: Uint8Array,
  options: { methods?: readonly string[]; eof?: boolean } = {},
): { responses: ParsedResponse[]; end: number } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < data.byteLength) {
    const interimOrFinal = parseResponse(data, at, {
      method: options.methods?.[responses.filter((r) => r.status >= 200).length],
      eof: options.eof,
    });
    if (interimOrFinal === null) break;
    responses.push(interimOrFinal.response);
    at = interimOrFinal.end;
  }
  return { responses, end: at };
}

// ---------------------------------------------------------------------------------------------
// A raw TCP client
// ---------------------------------------------------------------------------------------------

/** A raw TCP connection that records everything it receives. */
export class RawClient {
  readonly socket: Socket;
  /** Resolves once the socket has fully closed. */
  readonly closed: Promise<void>;
  #buffer: Uint8Array = new Uint8Array(64 * 1024);
  #receivedBytes = 0;
  #ended = false;
  #isClosed = false;
  #error: Error | null = null;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      const needed = this.#receivedBytes + chunk.byteLength;
      if (needed > this.#buffer.byteLength) {
        const grown = new Uint8Array(Math.max(needed, this.#buffer.byteLength * 2));
        grown.set(this.#buffer.subarray(0, this.#receivedBytes));
        this.#buffer = grown;
      }
      this.#buffer.set(chunk, this.#receivedBytes);
      this.#receivedBytes = needed;
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
    });
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.#isClosed = true;
        this.#notify();
        resolve();
      });
    });
  }

  /** Connects to 127.0.0.1:port. Rejects if the connection is refused. */
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      const onError = (error: Error) => reject(error);
      socket.once("error", onError);
      socket.once("connect", () => {
        socket.off("error", onError);
        socket.setNoDelay(true);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Every byte received so far. */
  get received(): Uint8Array {
    return this.#buffer.subarray(0, this.#receivedBytes);
  }

  /** How many bytes have been received (cheap). */
  get receivedBytes(): number {
    return this.#receivedBytes;
  }

  /** Everything received so far as Latin-1 text. */
  get text(): string {
    return latin1(this.received);
  }

  /** Whether the server sent its FIN (or the socket closed). */
  get ended(): boolean {
    return this.#ended || this.#isClosed;
  }

  /** Whether the socket has closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** The socket error, if one happened (e.g. ECONNRESET). */
  get error(): Error | null {
    return this.#error;
  }

  /** Writes bytes; resolves once the runtime has taken them. */
  write(data: string | Uint8Array): Promise<void> {
    const chunk = typeof data === "string" ? bytes(data) : data;
    return new Promise((resolve, reject) => {
      this.socket.write(chunk, (error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  /** Writes each piece in its own write, waiting for each to be taken (and a turn of the event loop). */
  async writePieces(pieces: readonly (string | Uint8Array)[]): Promise<void> {
    for (const piece of pieces) {
      await this.write(piece);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Sends a FIN. */
  end(): void {
    this.socket.end();
  }

  /** Closes the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Waits until `check` returns true. Rejects if the socket ends first without it, or after
   * `timeoutMs` (so that a test fails instead of hanging).
   *
   * @param check Called after every event of the socket.
   * @param what For the error message.
   * @param timeoutMs How long to wait at most.
   */
  until(check: () => boolean, what = "the condition", timeoutMs = 10_000): Promise<void> {
    return within(
      this.#until(check, what),
      timeoutMs,
      () => `${what} (received ${this.receivedBytes} bytes)`,
    );
  }

  async #until(check: () => boolean, what: string): Promise<void> {
    while (!check()) {
      if (this.#ended || this.#isClosed) {
        if (check()) return;
        throw new Error(
          `the connection ended before ${what}; received ${JSON.stringify(this.text.slice(0, 500))}`,
        );
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Waits until at least `n` bytes have arrived. */
  untilBytes(n: number): Promise<void> {
    return this.until(() => this.#receivedBytes >= n, `${n} bytes`);
  }

  /**
   * Waits until `n` complete final responses (status >= 200) have arrived and returns every
   * response received (interim 1xx ones included).
   */
  async responses(n: number, methods?: readonly string[]): Promise<ParsedResponse[]> {
    let parsed: ParsedResponse[] = [];
    const count = () => {
      parsed = parseAll(this.received, { methods, eof: this.ended }).responses;
      return parsed.filter((r) => r.status >= 200).length >= n;
    };
    await this.until(count, `${n} responses`);
    return parsed;
  }

  /** Waits for one complete final response and returns it. */
  async response(method?: string): Promise<ParsedResponse> {
    const all = await this.responses(1, method ? [method] : undefined);
    return all.filter((r) => r.status >= 200)[0];
  }

  /** Waits until the server closes (FIN or reset) and returns everything received. */
  async untilEnd(): Promise<Uint8Array> {
    await this.until(() => this.ended, "the end");
    return this.received;
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Tracks servers and raw clients of a test file, to clean them up in `after`/`t.after`. */
export class Cleanup {
  #servers: Server<Addr>[] = [];
  #clients: RawClient[] = [];
  #gates: Deferred<void>[] = [];

  /**
   * A {@link Deferred} that {@link Cleanup.run} opens if the test did not, so that a handler
   * waiting on it cannot keep a server from shutting down after a failed test.
   */
  gate(): Deferred<void> {
    const gate = deferred();
    this.#gates.push(gate);
    return gate;
  }

  /** Starts a server and registers it. */
  async server(handler: ServeHandler, options: ServeOptions = {}): Promise<TestServer> {
    const started = await startServer(handler, options);
    this.#servers.push(started.server);
    return started;
  }

  /** Registers a server started elsewhere. */
  addServer<S extends Server<Addr>>(server: S): S {
    this.#servers.push(server);
    return server;
  }

  /** Connects a raw client and registers it. */
  async client(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    this.#clients.push(client);
    return client;
  }

  /** Destroys every client, then shuts every server down. */
  async run(): Promise<void> {
    for (const gate of this.#gates) gate.resolve();
    this.#gates = [];
    for (const client of this.#clients) client.destroy();
    this.#clients = [];
    const servers = this.#servers;
    this.#servers = [];
    await within(
      Promise.all(servers.map((server) => server.shutdown().catch(() => {}))),
      10_000,
      "the servers to shut down",
    );
  }
}

/** The one-line body of a protocol-error response must not echo request bytes. */
export const ERROR_BODY_PATTERN: RegExp = /^[A-Za-z' -]+: [a-zA-Z0-9 ,'./-]+ \([A-Z0-9_]+\)\n$/;

/** A port on 127.0.0.1 that was free a moment ago, for a program that binds it itself (a proxy). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once something accepts connections on the port: for a program that prints nothing when it
 * is up (HAProxy, nginx). Rejects if the program exits first.
 */
export async function acceptsConnections(port: number, program: ChildProcess, name: string): Promise<void> {
  for (;;) {
    if (program.exitCode !== null) throw new Error(`${name} exited with ${program.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the next attempt to connect
  }
}

/** Runs a program to its end without blocking the event loop (a server may run in this process). */
export function runProgram(
  command: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Uint8Array) => (stdout += new TextDecoder().decode(chunk)));
  child.stderr.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
