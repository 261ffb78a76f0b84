/**
 * Why a listener could not be opened ({@link ListenError}), in one line that names the cause and
 * what to do, whatever the runtime: the address, the permission, or the TLS certificate and key.
 *
 * @module
 */

import type { ListenOptions, TlsFiles } from "./transport.ts";

/**
 * Why a listener could not be opened.
 *
 * @example Map a runtime's error to a code
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError, type ListenErrorCode } from "./listen_error.ts";
 *
 * const where = { hostname: "10.9.9.9", port: 8000 };
 * const code: ListenErrorCode = ListenError.from({ name: "AddrNotAvailable" }, where).code;
 * assert.equal(code, "ADDR_NOT_AVAILABLE");
 * assert.equal(ListenError.from(new Error("boom"), where).code, "OTHER");
 * ```
 */
export type ListenErrorCode =
  | "ADDR_IN_USE"
  | "PERMISSION_DENIED"
  | "ADDR_NOT_AVAILABLE"
  | "TLS_INVALID"
  | "OTHER";

/**
 * The address could not be bound, or the TLS certificate and key were refused. The message is one
 * line that names the cause and what to do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError } from "./listen_error.ts";
 *
 * const error = ListenError.from({ code: "EADDRINUSE" }, { hostname: "0.0.0.0", port: 8000 });
 * assert.equal(error.code, "ADDR_IN_USE");
 * assert.equal(
 *   error.message,
 *   "port 8000 is already in use: stop the other server or choose another with --port",
 * );
 * ```
 */
export class ListenError extends Error {
  /** The cause, independent of the runtime. */
  readonly code: ListenErrorCode;
  /** The interface that was asked for (`""` for a unix socket). */
  readonly hostname: string;
  /** The port that was asked for (0 for a unix socket). */
  readonly port: number;
  /** The unix socket path that was asked for, or `""`. */
  readonly path: string;

  /**
   * Creates the error, with the one-line message for its cause.
   * @param code The cause.
   * @param where Where it was to listen.
   * @param detail The runtime's own message, used when the cause is not recognised or for TLS.
   */
  constructor(code: ListenErrorCode, where: ListenPlace, detail = "") {
    super(listenMessage(code, where, detail));
    this.name = "ListenError";
    this.code = code;
    this.path = where.path ?? "";
    this.hostname = this.path === "" ? where.hostname : "";
    this.port = this.path === "" ? where.port : 0;
  }

  /**
   * Maps a runtime's listen error (Node's `code`, Deno's error class name) to a {@link ListenError}.
   *
   * @param error What the runtime threw.
   * @param where Where it was to listen.
   * @returns The matching error.
   */
  static from(error: unknown, where: ListenPlace): ListenError {
    const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
    const key = code ?? name ?? "";
    const detail = String(message ?? error).split("\n")[0];
    if (key === "EADDRINUSE" || key === "AddrInUse") return new ListenError("ADDR_IN_USE", where);
    if (key === "EACCES" || key === "PermissionDenied" || key === "EPERM" || key === "NotCapable") {
      return new ListenError("PERMISSION_DENIED", where, detail);
    }
    if (key === "EADDRNOTAVAIL" || key === "AddrNotAvailable" || key === "ENOTFOUND") {
      return new ListenError("ADDR_NOT_AVAILABLE", where);
    }
    return new ListenError("OTHER", where, detail);
  }

  /**
   * The error for a certificate or key that the runtime's TLS refused.
   *
   * @param error What the runtime threw.
   * @param where Where it was to listen.
   * @returns A `TLS_INVALID` error.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ListenError } from "./listen_error.ts";
   *
   * const error = ListenError.tls(new Error("no start line"), { hostname: "0.0.0.0", port: 8443 });
   * assert.equal(error.message, "the TLS certificate or key was refused: no start line");
   * ```
   */
  static tls(error: unknown, where: ListenPlace): ListenError {
    const { message } = (error ?? {}) as { message?: string };
    return new ListenError("TLS_INVALID", where, String(message ?? error).split("\n")[0]);
  }

  /**
   * Maps what a runtime threw when asked for a TLS listener, which binds and loads the certificate in
   * one call: a recognised address or permission error is that; anything else the certificate or key.
   *
   * @param error What the runtime threw.
   * @param where Where it was to listen.
   * @returns The matching error.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ListenError } from "./transport.ts";
   *
   * const where = { hostname: "0.0.0.0", port: 8443 };
   * assert.equal(ListenError.fromTlsListen({ code: "EADDRINUSE" }, where).code, "ADDR_IN_USE");
   * assert.equal(ListenError.fromTlsListen(new Error("KeyMismatch"), where).code, "TLS_INVALID");
   * ```
   */
  static fromTlsListen(error: unknown, where: ListenPlace): ListenError {
    const mapped = ListenError.from(error, where);
    return mapped.code === "OTHER" ? ListenError.tls(error, where) : mapped;
  }
}

/** Where a listener was to be opened: an interface and port, or a unix socket path. */
type ListenPlace = Pick<ListenOptions, "hostname" | "port" | "path">;

function listenMessage(code: ListenErrorCode, where: ListenPlace, detail: string): string {
  const { hostname, port, path } = where;
  switch (code) {
    case "ADDR_IN_USE":
      return path !== undefined
        ? `${path} already exists: if no server uses it any more (a stale socket file), remove it; or choose another path with --unix`
        : `port ${port} is already in use: stop the other server or choose another with --port`;
    case "PERMISSION_DENIED":
      if (path !== undefined) return `not allowed to make the socket file ${path}: ${detail}`;
      return port < 1024
        ? `port ${port} needs special privileges (ports below 1024 usually do): choose a port of 1024 or more with --port`
        : `not allowed to listen on ${hostname}:${port}: check the runtime's network permission (Deno: --allow-net)`;
    case "ADDR_NOT_AVAILABLE":
      return `cannot listen on ${hostname}: no such local address; choose another with --hostname`;
    case "TLS_INVALID":
      return `the TLS certificate or key was refused: ${detail}`;
    case "OTHER":
      return `cannot listen on ${path ?? `${hostname}:${port}`}: ${detail}`;
    default:
      throw new Error(`unreachable listen error ${code satisfies never}`);
  }
}

/**
 * Checks that a certificate and key look like PEM text before the runtime sees them, so that a
 * file name passed where its contents belong gets a message that says so.
 *
 * @param tls The certificate chain and key.
 * @param where Where it was to listen.
 * @throws {ListenError} `TLS_INVALID`, naming what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPem } from "./listen_error.ts";
 *
 * assert.throws(
 *   () => checkPem({ cert: "cert.pem", key: "key.pem" }, { hostname: "0.0.0.0", port: 8443 }),
 *   /the certificate is not PEM text/,
 * );
 * ```
 */
export function checkPem(tls: TlsFiles, where: ListenPlace): void {
  const certOk = typeof tls.cert === "string" && tls.cert.includes("-----BEGIN CERTIFICATE-----");
  const keyOk = typeof tls.key === "string" && /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(tls.key);
  if (certOk && keyOk) return;
  const which = certOk ? "key" : "certificate";
  const value = String(certOk ? tls.key : tls.cert);
  const expected = certOk ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN CERTIFICATE-----";
  // One short line is most likely a file's name where its contents belong.
  const hint = value.includes("\n") || value.length > 1024 ? "" : ": pass the file's contents, not its name";
  throw new ListenError("TLS_INVALID", where, `the ${which} is not PEM text (no ${expected} line)${hint}`);
}
