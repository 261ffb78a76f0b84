/**
 * The CLI's `--trace`: each {@link TraceEvent} as lines a student can read. Bytes are shown line by
 * line with CR and LF made visible (`␍␊`) and other non-printable bytes escaped (`\x00`); each
 * request's and response's framing and keep-alive are named as the server decided them, with their
 * RFC sections; a rejection shows its line of input with a caret under the byte; timeouts name their
 * limit; secrets are redacted and bodies cut.
 *
 * @module
 */

import { latin1 } from "../core/_bytes.ts";
import type { TimeoutPhase, TraceEvent } from "../server/trace.ts";
import { addrText } from "../transport/transport.ts";

/** How the trace is printed. */
export interface TraceFormat {
  /** Show the values of Authorization, Cookie, Set-Cookie and Proxy-Authorization. */
  readonly secrets: boolean;
  /** The most body bytes shown of each piece of input or output. */
  readonly bodyBytes: number;
}

/** The default: secrets redacted, bodies cut at 256 bytes. */
export const DEFAULT_TRACE_FORMAT: TraceFormat = { secrets: false, bodyBytes: 256 };

const SECRET_FIELD = /^(authorization|cookie|set-cookie|proxy-authorization)[ \t]*:/i;
const START_LINE = /^([A-Z]+ \S+ HTTP\/\d\.\d|HTTP\/\d\.\d \d{3}\b)/;

/** What each deadline's passing means, and the limit that sets it. */
const TIMEOUTS: Readonly<Record<TimeoutPhase, (ms: number) => string>> = {
  head: (ms) => `no whole request head within ${ms} ms (limits.headersTimeoutMs)`,
  body: (ms) => `the request body stalled for ${ms} ms (limits.bodyTimeoutMs)`,
  "keep-alive": (ms) => `no next request within ${ms} ms of keep-alive (limits.keepAliveTimeoutMs)`,
  send: (ms) => `the client read nothing of its responses for ${ms} ms (limits.sendTimeoutMs)`,
};

/** A response's framing in words. */
const RESPONSE_FRAMING = {
  length: "body framed by Content-Length (RFC 9112 §6.2)",
  chunked: "body framed by Transfer-Encoding: chunked (RFC 9112 §7.1)",
  close: "body delimited by the close of the connection (RFC 9112 §6.3, rule 8)",
  switched: "then the connection switched protocols",
} as const;

/**
 * How {@link visible} shows the bytes that are not printable text: `symbols` (the trace's) as `␍`,
 * `␊` and `␉`, each line ending in its visible `␊`; `escapes` (`--verbose`'s, the request as it
 * arrived) as `\r` and `\t`, with LF a real line break.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ByteStyle, visible } from "./trace_format.ts";
 *
 * const style: ByteStyle = "escapes";
 * assert.equal(visible(new TextEncoder().encode("a\r\n"), { style }), "a\\r\n");
 * ```
 */
export type ByteStyle = "symbols" | "escapes";

/** The symbols and escapes of CR, LF and tab in each {@link ByteStyle}. */
const CONTROL_BYTES: Readonly<Record<ByteStyle, Readonly<Record<number, string>>>> = {
  symbols: { 13: "␍", 10: "␊", 9: "␉" },
  escapes: { 13: "\\r", 10: "\n", 9: "\\t" },
};

/**
 * Bytes as visible text: printable ASCII as is, CR, LF and tab by `style` (see {@link ByteStyle}),
 * a space in its place (or as `␠`), and every other byte as `\xNN`.
 *
 * @param bytes The bytes.
 * @param options `spaces`: whether spaces show as `␠` (where whitespace is what is wrong);
 *   `style`: symbols (the default) or escapes.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { visible } from "./trace_format.ts";
 *
 * assert.equal(visible(new TextEncoder().encode("GET / HTTP/1.1\r\n\u0000")), "GET / HTTP/1.1␍␊\\x00");
 * assert.equal(visible(new TextEncoder().encode("a b"), { spaces: true }), "a␠b");
 * ```
 */
export function visible(
  bytes: Uint8Array,
  options: { readonly spaces?: boolean; readonly style?: ByteStyle } = {},
): string {
  const spaces = options.spaces ?? false;
  const control = CONTROL_BYTES[options.style ?? "symbols"];
  let text = "";
  for (const byte of bytes) {
    const shown = control[byte];
    if (shown !== undefined) text += shown;
    else if (byte === 32 && spaces) text += "␠";
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return text;
}

/** Where a connection's bytes in one direction stand between two pieces: in a head, and in which line. */
interface HeadState {
  inHead: boolean;
  /** The start of a head line that the last piece left unfinished (enough of it to name its field). */
  lineStart: string;
}

/**
 * Prints the trace's events as lines. It remembers, for each connection and direction, whether the
 * last piece of bytes ended inside a head, so that a head split across reads is still shown (and
 * its secrets redacted) as a head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TracePrinter } from "./trace_format.ts";
 *
 * const printer = new TracePrinter();
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * printer.print({ type: "in", id: 1, at: 0, bytes: bytes("GET / HTTP/1.1\r\nCook") });
 * const second = printer.print({ type: "in", id: 1, at: 0, bytes: bytes("ie: id=42\r\n\r\n") });
 * assert.deepEqual(second, [
 *   "[#1] ← 13 bytes",
 *   "[#1] ←   ie: ‹redacted, 6 bytes; --trace-secrets shows it›␍␊",
 *   "[#1] ←   ␍␊",
 * ]);
 * ```
 */
export class TracePrinter {
  readonly #format: TraceFormat;
  readonly #heads = new Map<string, HeadState>();

  /**
   * Makes a printer.
   * @param format Secrets and body length.
   */
  constructor(format: TraceFormat = DEFAULT_TRACE_FORMAT) {
    this.#format = format;
  }

  /**
   * The lines that print one event.
   *
   * @param event The event.
   * @returns The lines, each starting with the connection's id.
   */
  print(event: TraceEvent): string[] {
    if (event.type === "in" || event.type === "out") {
      const key = `${event.id}${event.type}`;
      const state = this.#heads.get(key) ?? { inHead: false, lineStart: "" };
      const arrow = event.type === "in" ? "←" : "→";
      const lines = bytesLines(`[#${event.id}]`, arrow, event.bytes, this.#format, state);
      if (state.inHead || state.lineStart !== "") this.#heads.set(key, state);
      else this.#heads.delete(key);
      return lines;
    }
    if (event.type === "close") {
      this.#heads.delete(`${event.id}in`);
      this.#heads.delete(`${event.id}out`);
    }
    return formatTraceEvent(event, this.#format);
  }
}

/**
 * The lines that print one event, on its own (a piece of bytes is read as if nothing came before it:
 * {@link TracePrinter} follows heads across pieces).
 *
 * @param event The event.
 * @param format Secrets and body length.
 * @returns The lines, each starting with the connection's id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTraceEvent } from "./trace_format.ts";
 *
 * const lines = formatTraceEvent({
 *   type: "open",
 *   id: 1,
 *   at: 0,
 *   remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 5555 },
 * });
 * assert.deepEqual(lines, ["[#1] connection from 127.0.0.1:5555"]);
 * ```
 */
export function formatTraceEvent(event: TraceEvent, format: TraceFormat = DEFAULT_TRACE_FORMAT): string[] {
  const tag = `[#${event.id}]`;
  switch (event.type) {
    case "open":
      return [`${tag} connection from ${addrText(event.remoteAddr)}`];
    case "in":
    case "out":
      return bytesLines(tag, event.type === "in" ? "←" : "→", event.bytes, format, {
        inHead: false,
        lineStart: "",
      });
    case "pause":
      return [`${tag} the server stops reading (its output waits for the client to read)`];
    case "resume":
      return [`${tag} the server reads again`];
    case "end": {
      const who = event.by === "client" ? "the client" : "the server";
      return [`${tag} ${who} sent FIN: it sends nothing more${because(event.why)}`];
    }
    case "close":
      return [
        `${tag} closed by ${event.by === "client" ? "the client (or the network)" : "the server"}${
          because(event.why)
        }`,
      ];
    case "request":
      return [
        `${tag} request ${event.n}: ${event.method} ${event.target} ${event.version}; ${requestWords(event)}`,
      ];
    case "response": {
      const { entry, n } = event;
      return [
        `${tag} response ${n}: ${entry.method} ${entry.target} → ${entry.status}, ${entry.bytes} bytes, ${entry.durationMs} ms; ${
          responseWords(event)
        }`,
      ];
    }
    case "timeout":
      return [`${tag} timeout: ${TIMEOUTS[event.phase](event.limitMs)}`];
    case "rejected": {
      const { info, line, column } = event;
      const shown = visible(line, { spaces: true });
      const caret = " ".repeat(visible(line.subarray(0, column), { spaces: true }).length) + "^";
      return [
        `${tag} rejected: ${info.status} ${info.code} (${info.rfc}) at byte ${info.offset}: ${info.message}`,
        `${tag}   ${shown}`,
        `${tag}   ${caret}`,
      ];
    }
  }
}

/** A reason in parentheses, or nothing. */
function because(why: string | undefined): string {
  return why === undefined ? "" : ` (${why})`;
}

/**
 * A piece of input or output: a count, then its lines, with secrets in heads redacted and bodies
 * cut. `state` says where the piece before it left off, and is updated to where this one does.
 */
function bytesLines(
  tag: string,
  arrow: string,
  bytes: Uint8Array,
  format: TraceFormat,
  state: HeadState,
): string[] {
  const lines = [`${tag} ${arrow} ${bytes.byteLength} bytes`];
  const startedWith = state.lineStart;
  let bodyShown = 0;
  let at = 0;
  while (at < bytes.byteLength) {
    let end = bytes.indexOf(10, at);
    end = end === -1 ? bytes.byteLength : end + 1;
    const line = bytes.subarray(at, end);
    const text = latin1(line, 0, line.byteLength);
    const before = state.lineStart;
    // A start line begins a head, also one whose start came at the end of the piece before.
    if (!state.inHead && START_LINE.test(before + text)) state.inHead = true;
    if (state.inHead) {
      lines.push(`${tag} ${arrow}   ${format.secrets ? visible(line) : redacted(line, text, before)}`);
      const finished = text.endsWith("\n");
      state.lineStart = finished ? "" : (before + text).slice(0, 64);
      const whole = before + text;
      if (finished && (whole === "\r\n" || whole === "\n")) {
        state.inHead = false;
        bodyShown = 0;
      }
      at = end;
      continue;
    }
    // Body bytes (or bytes that are no head): shown up to the limit, and counted after it.
    const room = format.bodyBytes - bodyShown;
    if (room <= 0) {
      const rest = bytes.byteLength - at;
      lines.push(`${tag} ${arrow}   … ${rest} more bytes`);
      break;
    }
    const piece = line.subarray(0, room);
    lines.push(`${tag} ${arrow}   ${visible(piece)}`);
    bodyShown += piece.byteLength;
    at += piece.byteLength;
  }
  if (!state.inHead) {
    // The piece's last line, unfinished, may be the start of a head that the next piece goes on with.
    const lastLf = bytes.lastIndexOf(10);
    const tail = latin1(bytes, lastLf + 1, Math.min(bytes.byteLength, lastLf + 65));
    state.lineStart = (lastLf === -1 ? startedWith + tail : tail).slice(0, 64);
  }
  return lines;
}

/** A head line with the value of a secret field replaced; `before` is the line's start in earlier pieces. */
function redacted(line: Uint8Array, text: string, before: string): string {
  const secret = SECRET_FIELD.exec(before + text);
  if (secret === null) return visible(line);
  // Where the value starts in this piece (at its start when the name came in an earlier piece).
  const valueStart = Math.max(0, secret[0].length - before.length);
  const ending = text.endsWith("\r\n") ? "␍␊" : text.endsWith("\n") ? "␊" : "";
  const valueBytes = line.byteLength - valueStart - ending.length;
  return `${text.slice(0, valueStart)} ‹redacted, ${valueBytes} bytes; --trace-secrets shows it›${ending}`;
}

/** A request's framing and keep-alive, as the server read them from its head, in words. */
function requestWords(event: TraceEvent & { type: "request" }): string {
  const framing = event.framing === "chunked"
    ? "a body framed by Transfer-Encoding: chunked (RFC 9112 §7.1)"
    : event.framing === "length"
    ? `a body of ${event.contentLength} bytes, framed by Content-Length (RFC 9112 §6.2)`
    : "no body: neither Content-Length nor Transfer-Encoding (RFC 9112 §6.3, rule 7)";
  const closing = event.version === "HTTP/1.1" ? "Connection: close" : "HTTP/1.0 without keep-alive";
  const keepAlive = event.keepAlive
    ? "the client would keep the connection open (keep-alive)"
    : `${closing}: the client wants the connection to end after it`;
  const expects = event.expectContinue
    ? "; it waits for 100 Continue to send its body (RFC 9110 §10.1.1)"
    : "";
  return `${framing}; ${keepAlive}${expects}`;
}

/** A response's framing, and whether the connection stays open after it, in words. */
function responseWords(event: TraceEvent & { type: "response" }): string {
  const { framing, entry } = event;
  const body = framing !== "none"
    ? RESPONSE_FRAMING[framing]
    : entry.method === "HEAD"
    ? "no body: a response to HEAD (RFC 9112 §6.3, rule 1)"
    : `no body: status ${entry.status} has none (RFC 9112 §6.3, rule 1)`;
  const next = event.keepAlive
    ? "the connection stays open for the next request (keep-alive)"
    : "the connection ends after it";
  return `${body}; ${next}`;
}
