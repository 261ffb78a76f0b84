/**
 * `h1serve/testing`: a handler tested against exact bytes, with no socket. The handler runs in the
 * real server (core and glue) on an in-memory transport, the same interface that the Deno, Bun and
 * Node adapters implement, with a {@link FakeClock}: timeouts fire when the test moves the clock.
 *
 * - {@link exchange}: bytes in (whole, or in pieces with delays), the raw response bytes and the
 *   responses read back out, and whether the server closed the connection.
 * - {@link connect}: a connection to drive step by step (`write`, `read`, `advance`, `end`), for
 *   keep-alive, pipelining, `100-continue` and timeouts as a client sees them.
 *
 * @example Exact bytes in, a parsed response out
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchange } from "@h1serve/h1serve/testing";
 *
 * const result = await exchange(() => new Response("Hello World!"), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * assert.equal(result.responses[0].status, 200);
 * assert.equal(result.responses[0].text, "Hello World!");
 * assert.equal(result.closed, false);
 * ```
 *
 * @module
 */

import { concatBytes, latin1 } from "../core/_bytes.ts";
import type { ServeHandler, ServeOptions, Server } from "../server/options.ts";
import { serveWith } from "../server/server.ts";
import { FakeClock } from "./fake_clock.ts";
import { type MemorySocket, MemoryTransport } from "./memory_transport.ts";
import { type ReadProgress, readResponses, type TestResponse } from "./response_reader.ts";

export { FakeClock } from "./fake_clock.ts";
export { MemorySocket, MemoryTransport } from "./memory_transport.ts";
export {
  type Framing,
  type ReadProgress,
  readResponse,
  readResponses,
  type ReadResult,
  type TestResponse,
} from "./response_reader.ts";

/**
 * The server's options in a test: hooks and limits as `serve` takes them. Where it listens is the
 * memory transport's business, and the clock is a {@link FakeClock} (a given one, or a new one).
 *
 * @example Limits and hooks, as `serve` takes them
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchange, type TestOptions } from "@h1serve/h1serve/testing";
 *
 * const options: TestOptions = { limits: { maxHeaderBytes: 64 } };
 * const result = await exchange(() => new Response("hi"), `GET / HTTP/1.1\r\nHost: ${"a".repeat(80)}\r\n\r\n`, options);
 * assert.equal(result.responses[0].status, 431);
 * ```
 */
export type TestOptions =
  & Omit<ServeOptions, "port" | "hostname" | "path" | "cert" | "key" | "workers" | "reusePort" | "clock">
  & { readonly clock?: FakeClock };

/** A piece of a request stream: bytes to send, or a time to let pass on the fake clock. */
export type Piece = string | Uint8Array | { readonly advanceMs: number };

/**
 * What {@link exchange} saw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchange, type ExchangeResult } from "@h1serve/h1serve/testing";
 *
 * const result: ExchangeResult = await exchange(() => new Response(null, { status: 204 }), "GET / HTTP/1.0\r\n\r\n");
 * assert.deepEqual([result.responses[0].status, result.closed], [204, true]);
 * ```
 */
export interface ExchangeResult {
  /** Every byte the server wrote, in order. */
  readonly bytes: Uint8Array;
  /** The same bytes as Latin-1 text, one character per byte. */
  readonly text: string;
  /** The complete responses read from them, interim (1xx) ones included. */
  readonly responses: readonly TestResponse[];
  /** Whether the server closed the connection (or sent its FIN). */
  readonly closed: boolean;
}

/**
 * Runs a handler through the real server on an in-memory connection, sends it `input`, and resolves
 * once the server has nothing more to do: every request it took has been answered, or it closed the
 * connection. Pieces of the form `{ advanceMs }` move the fake clock, after the server has done what
 * the bytes before them asked; so a timeout is tested without waiting.
 *
 * @param handler The request handler, as `serve` takes it.
 * @param input The bytes: a string (sent as UTF-8), a byte array, or a list of pieces.
 * @param options Hooks and limits, `end: true` to half-close after the input, and the clock.
 * @returns The bytes out, the responses read from them, and whether the connection closed.
 *
 * @example A timeout, on the fake clock
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchange } from "@h1serve/h1serve/testing";
 *
 * const result = await exchange(() => new Response("late"), ["GET / HTTP/1.1\r\n", { advanceMs: 31_000 }]);
 * assert.equal(result.responses[0].status, 408);
 * assert.equal(result.closed, true);
 * ```
 */
export async function exchange(
  handler: ServeHandler,
  input: string | Uint8Array | readonly Piece[],
  options: TestOptions & { readonly end?: boolean } = {},
): Promise<ExchangeResult> {
  const { end = false, ...serveOptions } = options;
  const connection = await connect(handler, serveOptions);
  try {
    const pieces: readonly Piece[] = typeof input === "string" || input instanceof Uint8Array
      ? [input]
      : input;
    for (const piece of pieces) {
      if (typeof piece === "string" || piece instanceof Uint8Array) connection.write(piece);
      else await connection.advance(piece.advanceMs);
    }
    if (end) connection.end();
    await connection.settled();
    const bytes = connection.received;
    return {
      bytes,
      text: latin1(bytes, 0, bytes.byteLength),
      responses: connection.responses(),
      closed: connection.closed,
    };
  } finally {
    await connection.close();
  }
}

/**
 * A connection to a handler in the real server, driven by hand from the client's side.
 *
 * @example Keep-alive and pipelining, as a client sees them
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "@h1serve/h1serve/testing";
 *
 * const connection = await connect((request) => new Response(new URL(request.url).pathname));
 * connection.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
 * assert.equal((await connection.read()).text, "/a");
 * assert.equal((await connection.read()).text, "/b");
 * await connection.advance(65_000); // the keep-alive timeout
 * assert.equal(connection.closed, true);
 * await connection.close();
 * ```
 */
export interface TestConnection {
  /** The fake clock the server runs on. */
  readonly clock: FakeClock;
  /** The server (for `shutdown()` and its promises). */
  readonly server: Server;
  /** The memory socket, for what the other methods do not cover (backpressure: `accepting`, `drain()`). */
  readonly socket: MemorySocket;
  /** Every byte the server wrote so far. */
  readonly received: Uint8Array;
  /** Whether the server closed the connection (or sent its FIN). */
  readonly closed: boolean;
  /**
   * Sends bytes to the server.
   * @param bytes A string (sent as UTF-8) or bytes.
   */
  write(bytes: string | Uint8Array): void;
  /**
   * Resolves with the next complete response (interim 1xx ones included). Rejects when the server
   * closes the connection, or has nothing more to do, before one is complete.
   * @returns The response.
   */
  read(): Promise<TestResponse>;
  /**
   * Lets the server finish what it can, then moves the fake clock by `ms`, one due task at a time,
   * letting the server act after each. The server has done what it can when every request is
   * answered, or when a turn of the event loop changes nothing (a handler that waits for the rest of
   * a request body, or for the clock): so a stalled body's timeout is tested too. A handler that
   * waits for something else (real time, another service) is best awaited before advancing.
   * @param ms How far to move the clock.
   */
  advance(ms: number): Promise<void>;
  /** Half-closes: the client sends nothing more, and still reads. */
  end(): void;
  /** Resolves once every request the server took has been answered or the connection closed. */
  settled(): Promise<void>;
  /**
   * Every complete response so far (interim 1xx ones included), whether read or not.
   * @returns The responses, in order.
   */
  responses(): TestResponse[];
  /** Closes the connection from the client's side, and shuts the server down. */
  close(): Promise<void>;
}

/**
 * Connects to a handler in the real server on an in-memory transport with a fake clock.
 *
 * @param handler The request handler, as `serve` takes it.
 * @param options Hooks and limits as `serve` takes them, and the clock.
 * @returns The connection.
 *
 * @example `100-continue`, as a client sees it
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "@h1serve/h1serve/testing";
 *
 * const connection = await connect(async (request) => new Response(await request.text()));
 * connection.write("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
 * assert.equal((await connection.read()).status, 100);
 * connection.write("hi");
 * assert.equal((await connection.read()).text, "hi");
 * await connection.close();
 * ```
 */
export async function connect(handler: ServeHandler, options: TestOptions = {}): Promise<TestConnection> {
  const connection = new InMemoryConnection(handler, options);
  await connection.server.ready;
  connection.open();
  return connection;
}

/** Where a connection's own clock starts: the Date field then reads `Thu, 01 Jan 2026 00:00:00 GMT`. */
const TEST_EPOCH = Date.UTC(2026, 0, 1);

/** How long a wait for the server may take in real time: a handler that never answers fails the test. */
const REAL_TIME_LIMIT_MS = 10_000;

class InMemoryConnection implements TestConnection {
  readonly clock: FakeClock;
  readonly server: Server;
  #socket: MemorySocket | null = null;
  #wakers: (() => void)[] = [];
  /** How many times the server wrote, closed or answered a request. */
  #changes = 0;
  #taken = 0;
  #answered = 0;
  #methods: string[] = [];
  /** The responses read so far, and where reading them stopped. */
  readonly #responses: TestResponse[] = [];
  readonly #progress: ReadProgress = { at: 0, finals: 0, switched: false };
  /** What the server wrote, joined, as of `#receivedPieces` writes. */
  #received = new Uint8Array(0);
  #receivedPieces = 0;
  #read = 0;
  #running = 0;
  readonly #drainMs: number;

  constructor(handler: ServeHandler, options: TestOptions) {
    this.clock = options.clock ?? new FakeClock(TEST_EPOCH);
    this.#drainMs = options.limits?.shutdownTimeoutMs ?? 20_000;
    const transport = new MemoryTransport(() => this.#wake());
    const counted: ServeHandler = async (request, info) => {
      this.#taken++;
      this.#running++;
      try {
        return await handler(request, info);
      } finally {
        this.#running--;
        this.#wake();
      }
    };
    this.server = serveWith(transport, {
      ...options,
      hostname: "127.0.0.1",
      port: 8000,
      clock: this.clock,
      onResponse: (entry) => {
        this.#answered++;
        this.#methods.push(entry.method);
        this.#wake();
        options.onResponse?.(entry);
      },
    }, counted);
    this.#transport = transport;
  }

  readonly #transport: MemoryTransport;

  open(): void {
    this.#socket = this.#transport.connect();
  }

  get socket(): MemorySocket {
    return this.#socket!;
  }

  get received(): Uint8Array {
    const written = this.socket.writtenBytes;
    if (this.#receivedPieces !== written.length) {
      this.#received = concatBytes(written, true);
      this.#receivedPieces = written.length;
    }
    return this.#received;
  }

  get closed(): boolean {
    return this.socket.closed || this.socket.ended;
  }

  write(bytes: string | Uint8Array): void {
    if (typeof bytes === "string") this.socket.receive(bytes);
    else this.socket.receiveBytes(bytes);
  }

  end(): void {
    this.socket.peerEnds();
  }

  responses(): TestResponse[] {
    // Read on from where the last call stopped: each response is read once.
    this.#responses.push(...readResponses(this.received, this.#methods, this.closed, this.#progress));
    return [...this.#responses];
  }

  async read(): Promise<TestResponse> {
    for (;;) {
      const responses = this.responses();
      if (responses.length > this.#read) return responses[this.#read++];
      if (this.closed) {
        throw new Error(`the server closed the connection before a response (${this.#leftover()})`);
      }
      if (this.#quiet()) {
        // One more turn: what the server started may still be on its way.
        await this.#turn();
        if (this.responses().length > this.#read || this.closed || !this.#quiet()) continue;
        throw new Error(
          `no response: the server waits for more bytes or for time to pass (${this.#leftover()})`,
        );
      }
      await this.#change();
    }
  }

  async settled(): Promise<void> {
    for (;;) {
      if (this.closed || this.#quiet()) {
        await this.#turn();
        if (this.closed || this.#quiet()) return;
      }
      await this.#change();
    }
  }

  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    await this.#steady();
    for (let due = this.clock.nextDue(); due !== null && due <= end; due = this.clock.nextDue()) {
      this.clock.advance(due - this.clock.now());
      await this.#steady();
    }
    this.clock.advance(end - this.clock.now());
    await this.#steady();
  }

  async close(): Promise<void> {
    this.socket.close();
    const finished = this.server.shutdown();
    // A drain runs on the clock: let it pass, so that shutdown needs no real time.
    await this.advance(this.#drainMs + 1000);
    await finished;
  }

  /**
   * Whether the server has nothing in hand: no handler call running, and every request the handler
   * took answered (the server answers some, such as a failed expectation, without the handler).
   */
  #quiet(): boolean {
    return this.#running === 0 && this.#answered >= this.#taken;
  }

  #leftover(): string {
    const bytes = this.received;
    return `${bytes.byteLength} bytes received, ${this.responses().length - this.#read} responses unread`;
  }

  /** Resolves once the server is settled, or a turn of the event loop changed nothing. */
  async #steady(): Promise<void> {
    for (;;) {
      if (this.closed || this.#quiet()) return await this.settled();
      const changes = this.#changes;
      await this.#turn();
      if (this.#changes === changes && !this.#quiet()) return;
    }
  }

  #wake(): void {
    this.#changes++;
    for (const wake of this.#wakers.splice(0)) wake();
  }

  /** Resolves at the server's next write, close or answered request, within the real-time limit. */
  #change(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the server did nothing for ${REAL_TIME_LIMIT_MS} ms (${this.#leftover()})`)),
        REAL_TIME_LIMIT_MS,
      );
      this.#wakers.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** A turn of the event loop, for work that the server has queued. */
  #turn(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
}
