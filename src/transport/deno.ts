/**
 * The Deno adapter: `Deno.listen` (TCP or unix), `Deno.listenTls` and their `Deno.Conn`s behind the
 * {@link Transport} interface. It only moves bytes: a read loop that honours pause, and a write
 * queue that reports drain.
 *
 * @module
 */

import { PendingWrites, runAll } from "./_pending_writes.ts";
import {
  type Addr,
  ALPN_PROTOCOLS,
  ListenError,
  type ListenOptions,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportListener,
  type TransportSocket,
} from "./transport.ts";

/** The part of Deno's API this adapter uses. */
type DenoAddr = { transport: "tcp"; hostname: string; port: number } | { transport: "unix"; path: string };
interface DenoConn {
  readonly remoteAddr: DenoAddr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  /** TCP connections only (not TLS or unix ones). */
  setNoDelay?(noDelay?: boolean): void;
}
interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}
declare const Deno: {
  listen(
    options: { hostname: string; port: number; transport: "tcp"; reusePort?: boolean } | {
      path: string;
      transport: "unix";
    },
  ): DenoListener;
  listenTls(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    cert: string;
    key: string;
    alpnProtocols: string[];
    reusePort?: boolean;
  }): DenoListener;
  removeSync(path: string): void;
};

/** Room for a 64 KiB payload and its WebSocket frame header (at most 14 bytes) in one read. */
const READ_SIZE = 65 * 1024;
const SMALL_READ_SIZE = 2 * 1024;
const HIGH_WATER = 64 * 1024;

/**
 * Accept errors that concern one connection, not the listener: its peer reset it between the kernel's
 * accept and Deno's look at its address (a client, or a proxy's probe, that connects and resets at
 * once). The next connection is accepted at once.
 */
const LOST_CONNECTION_CODES: ReadonlySet<string> = new Set([
  "ENOTCONN",
  "ECONNRESET",
  "ECONNABORTED",
  "EPROTO",
]);
/** Accept errors of a full descriptor table or memory: accepting is tried again after a pause. */
const RESOURCE_CODES: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);
const RESOURCE_RETRY_MS = 50;

class DenoSocket implements TransportSocket {
  events: SocketEvents = NO_EVENTS;
  readonly #conn: DenoConn;
  #bytesRead = 0;
  /** Bytes written but not yet sent: in the write in flight, and in #pending. */
  #queued = 0;
  /** Bytes that wait while a write is in flight; `null` when none do, the common case. */
  #pending: PendingWrites | null = null;
  #writing = false;
  #ending = false;
  #closed = false;
  #readDone = false;
  #writeDone = false;
  #resume: (() => void) | null = null;
  #paused = false;

  constructor(conn: DenoConn) {
    this.#conn = conn;
  }

  get remoteAddr(): Addr {
    return addrOf(this.#conn.remoteAddr);
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  write(bytes: Uint8Array, sent?: () => void): boolean {
    if (this.#closed || this.#ending) return false;
    this.#queued += bytes.byteLength;
    if (this.#writing) (this.#pending ??= new PendingWrites()).push(bytes, sent);
    else this.#writeLoop(bytes, sent);
    return this.#queued < HIGH_WATER;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#resume?.();
    this.#resume = null;
  }

  end(): void {
    this.#ending = true;
    if (!this.#writing) this.#writeLoop(null, undefined);
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.resume();
    this.events.close(this);
  }

  async readLoop(): Promise<void> {
    // An idle connection waits with a small buffer (2 KiB, not 64 KiB of resident memory per
    // connection); a read that fills it switches to the large one until reads get small again.
    // What was read is handed on in an array of its own: a copy for a read that fills less than half
    // of its buffer, and otherwise the buffer itself, with a fresh one for the next read.
    const small = new Uint8Array(SMALL_READ_SIZE);
    let buffer = small;
    try {
      while (!this.#closed) {
        if (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve));
        if (this.#closed) return;
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#bytesRead += n;
        const large = buffer !== small && n >= READ_SIZE / 2;
        this.events.data(large ? buffer.subarray(0, n) : buffer.slice(0, n), this);
        if (n === buffer.byteLength) {
          buffer = new Uint8Array(READ_SIZE);
        } else if (n < SMALL_READ_SIZE) {
          buffer = small;
        } else if (large) {
          buffer = new Uint8Array(READ_SIZE);
        }
      }
    } catch {
      return this.destroy();
    }
    this.#readDone = true;
    if (!this.#closed) this.events.end(this);
    if (this.#writeDone) this.destroy();
  }

  /**
   * Writes `first`, then whatever was queued meanwhile, until nothing waits; then the FIN, if
   * `end` was called.
   */
  async #writeLoop(first: Uint8Array | null, firstSent: (() => void) | undefined): Promise<void> {
    this.#writing = true;
    try {
      let bytes = first;
      let sent: (() => void)[] | null = firstSent === undefined ? null : [firstSent];
      while (bytes !== null && !this.#closed) {
        for (let offset = 0; offset < bytes.byteLength;) {
          offset += await this.#conn.write(bytes.subarray(offset));
        }
        runAll(sent);
        const wasFull = this.#queued >= HIGH_WATER;
        this.#queued -= bytes.byteLength;
        if (wasFull && this.#queued < HIGH_WATER) this.events.drain(this);
        const pending = this.#pending;
        this.#pending = null;
        bytes = null;
        if (pending !== null) ({ bytes, sent } = pending.take());
      }
      if (this.#ending && !this.#closed && !this.#writeDone) {
        this.#writeDone = true;
        await this.#conn.closeWrite();
        if (this.#readDone) this.destroy();
      }
    } catch {
      this.destroy();
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * The {@link Transport} for Deno.
 *
 * @example
 * ```ts ignore
 * import { denoTransport } from "./deno.ts";
 * const listener = await denoTransport.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => ({
 *   data: (bytes) => socket.write(bytes),
 *   end: () => socket.end(),
 *   drain: () => {},
 *   close: () => {},
 * }));
 * listener.close();
 * ```
 */
export const denoTransport: Transport = {
  listen(options: ListenOptions, accept: (socket: TransportSocket) => SocketEvents): TransportListener {
    const listener = openListener(options);
    let closed = false;
    acceptEach(listener, () => closed, (conn) => {
      conn.setNoDelay?.(true);
      const socket = new DenoSocket(conn);
      socket.events = accept(socket);
      socket.readLoop();
    });
    return {
      addr: addrOf(listener.addr),
      close: () => {
        closed = true;
        try {
          listener.close();
        } catch { /* already closed */ }
        // Node and Bun remove a unix socket's file when its listener closes; Deno leaves it.
        if (options.path !== undefined) {
          try {
            Deno.removeSync(options.path);
          } catch { /* already gone */ }
        }
      },
    };
  },
};

/**
 * Accepts connections until the listener is closed. An error that concerns one connection, or a
 * shortage of descriptors, does not stop it: Deno's `for await` over a listener ends at the first
 * error, which would leave the port open with nobody accepting.
 */
async function acceptEach(listener: DenoListener, isClosed: () => boolean, onConn: (conn: DenoConn) => void) {
  for (;;) {
    let conn: DenoConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (isClosed() || typeof code !== "string") return;
      if (RESOURCE_CODES.has(code)) await new Promise((resolve) => setTimeout(resolve, RESOURCE_RETRY_MS));
      else if (!LOST_CONNECTION_CODES.has(code)) return;
      continue;
    }
    onConn(conn);
  }
}

/** Opens the listener that the options ask for. */
function openListener(options: ListenOptions): DenoListener {
  const { hostname, port, path, tls } = options;
  // Only when asked: Deno.listen takes reusePort under --unstable-net alone.
  const reuse = options.reusePort === true ? { reusePort: true } : {};
  try {
    if (path !== undefined) return Deno.listen({ path, transport: "unix" });
    if (tls === undefined) return Deno.listen({ hostname, port, transport: "tcp", ...reuse });
    const { cert, key } = tls;
    return Deno.listenTls({
      hostname,
      port,
      transport: "tcp",
      cert,
      key,
      alpnProtocols: [...ALPN_PROTOCOLS],
      ...reuse,
    });
  } catch (error) {
    throw tls === undefined ? ListenError.from(error, options) : ListenError.fromTlsListen(error, options);
  }
}

/** A Deno address as the transport's (a fresh object: Deno's may carry more fields). */
function addrOf(addr: DenoAddr): Addr {
  return addr.transport === "unix"
    ? { transport: "unix", path: addr.path ?? "" }
    : { transport: "tcp", hostname: addr.hostname, port: addr.port };
}
