/**
 * The Node adapter: `node:net` (TCP or unix) and `node:tls` behind the {@link Transport} interface. Node's sockets already
 * queue writes and report drain, so this file maps names, counts the bytes it delivers, runs a
 * write's `sent` callback only on success, and sends several parts as one corked writev.
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
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

class NodeSocket implements TransportSocket {
  readonly remoteAddr: Addr;
  events: SocketEvents = NO_EVENTS;
  readonly #socket: Socket;
  #bytesRead = 0;

  constructor(socket: Socket, unix: boolean) {
    this.#socket = socket;
    this.remoteAddr = unix ? { transport: "unix", path: "" } : {
      transport: "tcp",
      hostname: (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.)/, ""),
      port: socket.remotePort ?? 0,
    };
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  /**
   * Node's data: count the bytes and pass them on. (Node's own `bytesRead` also counts what a
   * paused socket holds back.)
   */
  received(bytes: Uint8Array): void {
    this.#bytesRead += bytes.byteLength;
    this.events.data(bytes, this);
  }

  write(bytes: Uint8Array, sent?: () => void): boolean {
    if (this.#socket.writableEnded || this.#socket.destroyed) return false;
    return this.#socket.write(bytes, sent && whenWritten(sent));
  }

  writeParts(parts: readonly Uint8Array[], sent?: () => void): boolean {
    if (this.#socket.writableEnded || this.#socket.destroyed) return false;
    if (parts.length === 0) return true;
    // Corked writes leave as one writev on uncork: a head and a large body, uncopied.
    this.#socket.cork();
    let writable = true;
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) writable = this.#socket.write(parts[i]);
    writable = this.#socket.write(parts[last], sent && whenWritten(sent));
    this.#socket.uncork();
    return writable;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Node's write callback, which also runs on failure: `sent` only runs once the bytes were written. */
/**
 * Each Node socket's adapter socket, kept on it, so that every socket shares the same five
 * listeners (Node calls a listener with the socket as `this`) instead of having five closures of
 * its own: an idle connection keeps a few hundred bytes less.
 */
const WRAPPED = Symbol("h1serve adapter socket");
type WrappedSocket = Socket & { [WRAPPED]: NodeSocket };

function onData(this: WrappedSocket, bytes: Uint8Array): void {
  this[WRAPPED].received(bytes);
}
function onEnd(this: WrappedSocket): void {
  const wrapped = this[WRAPPED];
  wrapped.events.end(wrapped);
}
function onDrain(this: WrappedSocket): void {
  const wrapped = this[WRAPPED];
  wrapped.events.drain(wrapped);
}
function onClose(this: WrappedSocket): void {
  const wrapped = this[WRAPPED];
  wrapped.events.close(wrapped);
}
function onError(this: WrappedSocket): void {
  this.destroy();
}

function whenWritten(sent: () => void): (error?: Error | null) => void {
  return (error) => {
    if (!error) sent();
  };
}

/**
 * The {@link Transport} for Node.
 *
 * @example
 * ```ts ignore
 * import { nodeTransport } from "./node.ts";
 * const listener = await nodeTransport.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => ({
 *   data: (bytes) => socket.write(bytes),
 *   end: () => socket.end(),
 *   drain: () => {},
 *   close: () => {},
 * }));
 * listener.close();
 * ```
 */
export const nodeTransport: Transport = {
  listen(
    options: ListenOptions,
    accept: (socket: TransportSocket) => SocketEvents,
  ): Promise<TransportListener> {
    const { path, tls } = options;
    const unix = path !== undefined;
    const connected = (socket: Socket) => {
      const wrapped = new NodeSocket(socket, unix);
      (socket as WrappedSocket)[WRAPPED] = wrapped;
      wrapped.events = accept(wrapped);
      socket.on("data", onData);
      socket.on("end", onEnd);
      socket.on("drain", onDrain);
      socket.on("close", onClose);
      socket.on("error", onError);
    };
    let server: Server;
    if (tls === undefined) {
      server = createServer({ allowHalfOpen: true, noDelay: true }, connected);
    } else {
      try {
        const { cert, key } = tls;
        const tlsOptions = { cert, key, ALPNProtocols: [...ALPN_PROTOCOLS], ciphers: TLS12_CIPHERS };
        server = createTlsServer({ allowHalfOpen: true, noDelay: true, ...tlsOptions }, connected);
        // A client that fails the handshake is its own problem: the server goes on.
        server.on("tlsClientError", (_error, socket) => socket.destroy());
      } catch (error) {
        throw ListenError.tls(error, options);
      }
    }
    return new Promise((resolve, reject) => {
      server.once("error", (error) => reject(ListenError.from(error, options)));
      const where = unix
        ? { path }
        : { host: options.hostname, port: options.port, reusePort: options.reusePort === true };
      server.listen(where, () => {
        server.on("error", () => {/* accept errors (such as EMFILE) must not crash the server */});
        const address = server.address();
        const bound = typeof address === "object" && address !== null ? address : { address: "", port: 0 };
        resolve({
          addr: unix
            ? { transport: "unix", path: path! }
            : { transport: "tcp", hostname: bound.address, port: bound.port },
          close: () => server.close(),
        });
      });
    });
  },
};
