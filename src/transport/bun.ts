/**
 * The Bun adapter: `Bun.listen` (TCP, TLS or unix) behind the {@link Transport} interface. Bun's `write` may take
 * only part of the bytes; the rest waits in a queue until Bun's `drain` callback.
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
  TLS12_CIPHERS,
  type Transport,
  type TransportListener,
  type TransportSocket,
} from "./transport.ts";

/** The part of Bun's API this adapter uses. */
interface BunSocket {
  data: BunAdapterSocket;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
  shutdown(): void;
  end(): void;
  terminate(): void;
}
interface BunSocketHandler {
  open(socket: BunSocket): void;
  data(socket: BunSocket, bytes: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket): void;
  error(socket: BunSocket, error: Error): void;
}
interface BunListenOptions {
  hostname?: string;
  port?: number;
  unix?: string;
  tls?: { cert: string; key: string; ALPNProtocols: string; ciphers: string };
  allowHalfOpen?: boolean;
  reusePort?: boolean;
  socket: BunSocketHandler;
}
declare const Bun: {
  listen(options: BunListenOptions): {
    readonly hostname: string;
    readonly port: number;
    readonly unix?: string;
    stop(closeActiveConnections?: boolean): void;
  };
};

/** The port of a unix socket's peer, which has none: such a socket's address is `{ transport: "unix" }`. */
const UNIX_PEER = -1;

/** Where a socket's output stands: open, ending (a FIN follows what is queued), or closed. */
type OutputState = "open" | "ending" | "closed";

/**
 * One accepted socket. An idle connection of the server is this object and nothing else, so it
 * keeps few fields: the peer's address is read once, at accept (Bun forgets it when the socket
 * closes), and kept as a string and a number.
 */
class BunAdapterSocket implements TransportSocket {
  events: SocketEvents;
  readonly #socket: BunSocket;
  readonly #hostname: string;
  readonly #port: number;
  #bytesRead = 0;
  #state: OutputState = "open";
  /** Bytes Bun did not take yet; `null` when none, the common case. */
  #pending: PendingWrites | null = null;

  constructor(socket: BunSocket, events: SocketEvents, unix: boolean) {
    this.#socket = socket;
    this.events = events;
    this.#hostname = unix ? "" : socket.remoteAddress ?? "";
    this.#port = unix ? UNIX_PEER : socket.remotePort ?? 0;
  }

  get remoteAddr(): Addr {
    if (this.#port === UNIX_PEER) return { transport: "unix", path: "" };
    return { transport: "tcp", hostname: this.#hostname, port: this.#port };
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  write(bytes: Uint8Array, sent?: () => void): boolean {
    if (this.#state !== "open") return false;
    if (this.#pending === null) {
      const written = this.#socket.write(bytes);
      if (written >= bytes.byteLength) {
        sent?.();
        return true;
      }
      bytes = bytes.subarray(Math.max(written, 0));
      this.#pending = new PendingWrites();
    }
    this.#pending.push(bytes, sent);
    return false;
  }

  pause(): void {
    if (this.#state !== "closed") this.#socket.pause();
  }

  resume(): void {
    if (this.#state !== "closed") this.#socket.resume();
  }

  end(): void {
    if (this.#state !== "open") return;
    this.#state = "ending";
    if (this.#pending === null) this.#socket.shutdown();
  }

  destroy(): void {
    if (this.#state === "closed") return;
    this.#socket.terminate();
    this.closed();
  }

  /** Bun's data: count the bytes and pass them on. */
  received(bytes: Uint8Array): void {
    this.#bytesRead += bytes.byteLength;
    this.events.data(bytes, this);
  }

  /** Bun's drain: send what waited, then tell the server. */
  drained(): void {
    const pending = this.#pending;
    if (pending === null || this.#state === "closed") return;
    const { bytes, sent } = pending.take();
    const written = this.#socket.write(bytes);
    if (written < bytes.byteLength) {
      pending.putBack(bytes.subarray(Math.max(written, 0)), sent);
      return;
    }
    this.#pending = null;
    runAll(sent);
    if (this.#state === "ending") this.#socket.shutdown();
    this.events.drain(this);
  }

  closed(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#pending = null;
    this.events.close(this);
  }
}

/**
 * The {@link Transport} for Bun.
 *
 * @example
 * ```ts ignore
 * import { bunTransport } from "./bun.ts";
 * const listener = await bunTransport.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => ({
 *   data: (bytes) => socket.write(bytes),
 *   end: () => socket.end(),
 *   drain: () => {},
 *   close: () => {},
 * }));
 * listener.close();
 * ```
 */
export const bunTransport: Transport = {
  listen(options: ListenOptions, accept: (socket: TransportSocket) => SocketEvents): TransportListener {
    const { hostname, port, path, tls } = options;
    const unix = path !== undefined;
    const socket: BunSocketHandler = {
      // No setNoDelay: Bun sets TCP_NODELAY on every socket it accepts (strace shows the setsockopt
      // right after accept4), and a second call per connection costs CPU (docs/BENCHMARKS.md).
      open(socket) {
        socket.data = new BunAdapterSocket(socket, NO_EVENTS, unix);
        socket.data.events = accept(socket.data);
      },
      data: (socket, bytes) => socket.data.received(bytes),
      drain: (socket) => socket.data.drained(),
      end: (socket) => socket.data.events.end(socket.data),
      close: (socket) => socket.data?.closed(),
      error: (socket) => socket.data?.destroy(),
    };
    let server;
    try {
      // A peer's FIN only ends its side: the server may still answer (as on Deno and Node).
      server = unix ? Bun.listen({ unix: path, allowHalfOpen: true, socket }) : Bun.listen({
        hostname,
        port,
        allowHalfOpen: true,
        reusePort: options.reusePort === true,
        socket,
        // ALPN's wire form (RFC 7301 §3.1): each protocol name after its length.
        tls: tls &&
          { cert: tls.cert, key: tls.key, ALPNProtocols: alpnWire(ALPN_PROTOCOLS), ciphers: TLS12_CIPHERS },
      });
    } catch (error) {
      throw tls === undefined ? ListenError.from(error, options) : ListenError.fromTlsListen(error, options);
    }
    const listening = server;
    return {
      addr: unix
        ? { transport: "unix", path: path! }
        : { transport: "tcp", hostname: listening.hostname, port: listening.port },
      close: () => listening.stop(false),
    };
  },
};

function alpnWire(protocols: readonly string[]): string {
  return protocols.map((name) => String.fromCharCode(name.length) + name).join("");
}
