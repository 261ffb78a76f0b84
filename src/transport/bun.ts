/**
 * The Bun adapter: `Bun.listen` behind the {@link Transport} interface. Bun's `write` may take
 * only part of the bytes; the rest waits in a queue until Bun's `drain` callback.
 *
 * @module
 */

import { concatBytes } from "../core/bytes.ts";
import {
  ListenError,
  type ListenOptions,
  type NetAddr,
  NO_EVENTS,
  type SocketEvents,
  type Transport,
  type TransportListener,
  type TransportSocket,
} from "../transport.ts";

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
declare const Bun: {
  listen(options: { hostname: string; port: number; allowHalfOpen?: boolean; socket: BunSocketHandler }): {
    readonly hostname: string;
    readonly port: number;
    stop(closeActiveConnections?: boolean): void;
  };
};

/** Where a socket's output stands. */
const OPEN = 0;
const ENDING = 1;
const CLOSED = 2;

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
  #state = OPEN;
  /** Bytes Bun did not take yet; `null` when none, the common case. */
  #pending: Uint8Array[] | null = null;
  /** The `sent` callbacks of the bytes in #pending, if any. */
  #pendingSent: (() => void)[] | null = null;

  constructor(socket: BunSocket, events: SocketEvents) {
    this.#socket = socket;
    this.events = events;
    this.#hostname = socket.remoteAddress ?? "";
    this.#port = socket.remotePort ?? 0;
  }

  get remoteAddr(): NetAddr {
    return { transport: "tcp", hostname: this.#hostname, port: this.#port };
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  write(bytes: Uint8Array, sent?: () => void): boolean {
    if (this.#state !== OPEN) return false;
    if (this.#pending === null) {
      const written = this.#socket.write(bytes);
      if (written >= bytes.byteLength) {
        sent?.();
        return true;
      }
      bytes = bytes.subarray(Math.max(written, 0));
    }
    (this.#pending ??= []).push(bytes);
    if (sent !== undefined) (this.#pendingSent ??= []).push(sent);
    return false;
  }

  pause(): void {
    if (this.#state !== CLOSED) this.#socket.pause();
  }

  resume(): void {
    if (this.#state !== CLOSED) this.#socket.resume();
  }

  end(): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDING;
    if (this.#pending === null) this.#socket.shutdown();
  }

  destroy(): void {
    if (this.#state === CLOSED) return;
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
    if (this.#pending === null || this.#state === CLOSED) return;
    const bytes = concatBytes(this.#pending);
    const written = this.#socket.write(bytes);
    if (written < bytes.byteLength) {
      this.#pending = [bytes.subarray(Math.max(written, 0))];
      return;
    }
    this.#pending = null;
    const sent = this.#pendingSent;
    this.#pendingSent = null;
    if (sent !== null) { for (const callback of sent) callback(); }
    if (this.#state === ENDING) this.#socket.shutdown();
    this.events.drain(this);
  }

  closed(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#pending = null;
    this.#pendingSent = null;
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
  runtime: "bun",
  listen(options: ListenOptions, accept: (socket: TransportSocket) => SocketEvents): TransportListener {
    let server;
    try {
      server = Bun.listen({
        hostname: options.hostname,
        port: options.port,
        // A peer's FIN only ends its side: the server may still answer (as on Deno and Node).
        allowHalfOpen: true,
        socket: {
          // No setNoDelay: Bun sets TCP_NODELAY on every socket it accepts (strace shows the setsockopt
          // right after accept4), and a second call cost 2.6% of the CPU of a connection per request.
          open(socket) {
            socket.data = new BunAdapterSocket(socket, NO_EVENTS);
            socket.data.events = accept(socket.data);
          },
          data: (socket, bytes) => socket.data.received(bytes),
          drain: (socket) => socket.data.drained(),
          end: (socket) => socket.data.events.end(socket.data),
          close: (socket) => socket.data?.closed(),
          error: (socket) => socket.data?.destroy(),
        },
      });
    } catch (error) {
      throw ListenError.from(error, options.hostname, options.port);
    }
    const listening = server;
    return {
      addr: { transport: "tcp", hostname: listening.hostname, port: listening.port },
      close: () => listening.stop(false),
    };
  },
};
