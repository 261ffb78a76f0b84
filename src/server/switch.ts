/**
 * How a handler hands its connection to another protocol: it returns a response made by
 * {@link switchingResponse}, which carries a {@link ProtocolSwitch}. The send path finds the
 * switch ({@link protocolSwitchOf}), the core writes the `101 Switching Protocols` head, and the
 * switch takes over the socket with what it needs of the server (a {@link Takeover}). WebSocket
 * (`src/websocket/`) is one such protocol; the server knows nothing more of it.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { ConnectionScope } from "./connection.ts";
import { runHook } from "./hooks.ts";
import { clientAddrOf } from "./proxy_stage.ts";
import type { Addr, SocketEvents, TransportSocket } from "../transport/transport.ts";

/**
 * A connection the connection table holds: the table ticks it, asks it to close at a shutdown,
 * and destroys it when the drain deadline passes.
 *
 * @example
 * ```ts
 * import type { LiveConnection } from "./switch.ts";
 *
 * const nothing: LiveConnection = { tick() {}, requestClose() {}, destroy() {} };
 * ```
 */
export interface LiveConnection {
  /**
   * Acts on the deadlines that have passed.
   * @param now The time.
   */
  tick(now: number): void;
  /** Closes gracefully (a shutdown). */
  requestClose(): void;
  /** Closes at once. */
  destroy(): void;
}

/**
 * What the server gives the protocol that takes over a socket.
 *
 * @example
 * ```ts
 * import type { Takeover } from "./switch.ts";
 * import { addrText } from "../transport/transport.ts";
 *
 * function describe(takeover: Takeover): string {
 *   return `${addrText(takeover.remoteAddr)}: ${takeover.rest.length} bytes already received`;
 * }
 * ```
 */
export interface Takeover {
  /** The socket; its `events` are set to what `start` returns. */
  readonly socket: TransportSocket;
  /** Bytes received after the request's head: the new protocol's first bytes, a copy of its own. */
  readonly rest: Uint8Array;
  /** The server's clock. */
  readonly clock: Clock;
  /** The peer. */
  readonly remoteAddr: Addr;
  /** How long the peer may read nothing of what is sent before the connection is dropped. */
  readonly sendTimeoutMs: number;
  /**
   * Reports a protocol failure to `onProtocolError`.
   * @param info What failed: a code, the RFC section, the offset, a message and more.
   */
  failed(info: Readonly<Record<string, unknown>>): void;
  /**
   * The socket closed: logs the exchange (status 101, bytes sent in all, the connection's
   * lifetime) and removes the connection from the server.
   * @param bytesSent The bytes the new protocol sent.
   */
  ended(bytesSent: number): void;
}

/**
 * A protocol that a handler switches its connection to.
 *
 * @example
 * ```ts
 * import type { ProtocolSwitch } from "./switch.ts";
 *
 * const echo: ProtocolSwitch = {
 *   headers: [["upgrade", "echo"]],
 *   start({ socket }) {
 *     const events = {
 *       data: (bytes: Uint8Array) => void socket.write(bytes),
 *       end: () => socket.end(),
 *       drain() {},
 *       close() {},
 *       tick() {},
 *       requestClose: () => socket.end(),
 *       destroy: () => socket.destroy(),
 *     };
 *     return events;
 *   },
 * };
 * ```
 */
export interface ProtocolSwitch {
  /** The 101's fields, `Upgrade` among them. */
  readonly headers: readonly (readonly [string, string])[];
  /**
   * Takes over the socket, once the 101 head is queued.
   * @param takeover The socket and what the server provides.
   * @returns The socket's events from now on, and the table's handle on the connection.
   */
  start(takeover: Takeover): SocketEvents & LiveConnection;
}

const switches = new WeakMap<Response, ProtocolSwitch>();

/**
 * A response that switches protocols: its status reads 101, and the server sends the switch's
 * head instead of it.
 *
 * @param protocolSwitch The protocol to switch to.
 * @returns The response for the handler to return.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolSwitchOf, switchingResponse } from "./switch.ts";
 *
 * const protocolSwitch = { headers: [["upgrade", "x"]] as const, start: () => { throw new Error("not here"); } };
 * const response = switchingResponse(protocolSwitch);
 * assert.equal(response.status, 101);
 * assert.equal(protocolSwitchOf(response), protocolSwitch);
 * assert.equal(protocolSwitchOf(new Response()), null);
 * ```
 */
export function switchingResponse(protocolSwitch: ProtocolSwitch): Response {
  const response = new Response(null, { status: 200 });
  // `Response` refuses statuses below 200; this one is only a token for the server.
  Object.defineProperty(response, "status", { value: 101 });
  Object.defineProperty(response, "statusText", { value: "Switching Protocols" });
  Object.defineProperty(response, "ok", { value: false });
  switches.set(response, protocolSwitch);
  return response;
}

/**
 * The switch a response carries, if it is one from {@link switchingResponse}.
 * @param response A handler's response.
 * @returns The switch, or `null`.
 */
export function protocolSwitchOf(response: Response): ProtocolSwitch | null {
  return switches.get(response) ?? null;
}

/**
 * What a switched connection's log line says of the exchange that switched it.
 *
 * @example
 * ```ts
 * import type { SwitchedExchange } from "./switch.ts";
 *
 * const exchange: SwitchedExchange = { method: "GET", target: "/chat", started: 0, headBytes: 129 };
 * ```
 */
export interface SwitchedExchange {
  readonly method: string;
  readonly target: string;
  readonly started: number;
  readonly headBytes: number;
}

/**
 * What a protocol that took a connection over gets of the server: one object per connection, its
 * methods shared (no closures of its own), since it lives as long as the connection.
 *
 * @example Made by the HTTP connection when a handler's 101 is queued
 * ```ts ignore
 * const takeover = new SwitchedTakeover(server, socket, remoteAddr, rest, exchange);
 * socket.events = protocolSwitch.start(takeover);
 * ```
 */
export class SwitchedTakeover implements Takeover {
  readonly socket: TransportSocket;
  readonly rest: Uint8Array;
  readonly remoteAddr: Addr;
  readonly #server: ConnectionScope;
  readonly #method: string;
  readonly #target: string;
  readonly #started: number;
  readonly #headBytes: number;

  constructor(
    server: ConnectionScope,
    socket: TransportSocket,
    remoteAddr: Addr,
    rest: Uint8Array,
    exchange: SwitchedExchange,
  ) {
    this.#server = server;
    this.socket = socket;
    this.remoteAddr = remoteAddr;
    // A copy: a view would keep the whole received array (on Node, a pool's).
    this.rest = rest.length === 0 ? NOTHING_RECEIVED : new Uint8Array(rest);
    this.#method = exchange.method;
    this.#target = exchange.target;
    this.#started = exchange.started;
    this.#headBytes = exchange.headBytes;
  }

  get clock(): Clock {
    return this.#server.clock;
  }

  get sendTimeoutMs(): number {
    return this.#server.limits.sendTimeoutMs;
  }

  failed(info: Readonly<Record<string, unknown>>): void {
    const onProtocolError = this.#server.options.onProtocolError;
    const remoteAddr = this.remoteAddr;
    this.#server.trace?.rejected(this.socket, { ...info, remoteAddr } as never);
    if (onProtocolError) runHook("onProtocolError", () => onProtocolError({ ...info, remoteAddr } as never));
  }

  ended(bytesSent: number): void {
    const server = this.#server, onResponse = server.options.onResponse, trace = server.trace;
    if (onResponse || trace) {
      const entry = {
        remoteAddr: this.remoteAddr,
        clientAddr: clientAddrOf(this.socket),
        method: this.#method,
        target: this.#target,
        status: 101,
        bytes: this.#headBytes + bytesSent,
        durationMs: server.clock.now() - this.#started,
      };
      trace?.responded(this.socket, entry, "switched", false, 0);
      if (onResponse) runHook("onResponse", () => onResponse(entry));
    }
    server.table.removed(this.socket);
  }
}

const NOTHING_RECEIVED = new Uint8Array(0);
