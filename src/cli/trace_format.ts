/**
 * The CLI's `--trace`: each {@link TraceEvent} as lines a student can read. Bytes are shown line by
 * line with CR and LF made visible (`␍␊`) and other non-printable bytes escaped (`\x00`); a
 * response's and a request's framing and keep-alive are named from their heads; a rejection shows its
 * line of input with a caret under the byte; secrets are redacted and bodies cut.
 *
 * @module
 */

import { latin1 } from "../core/_bytes.ts";
import type { TraceEvent } from "../server/trace.ts";
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

/**
 * Bytes as visible text: printable ASCII as is, CR as `␍`, LF as `␊`, tab as `␉`, space in its place
 * (or as `␠`), and every other byte as `\xNN`.
 *
 * @param bytes The bytes.
 * @param spaces Whether spaces show as `␠` (where whitespace is what is wrong).
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { visible } from "./trace_format.ts";
 *
 * assert.equal(visible(new TextEncoder().encode("GET / HTTP/1.1\r\n\u0000")), "GET / HTTP/1.1␍␊\\x00");
 * ```
 */
export function visible(bytes: Uint8Array, spaces = false): string {
  let text = "";
  for (const byte of bytes) {
    if (byte === 32 && spaces) text += "␠";
    else if (byte === 13) text += "␍";
    else if (byte === 10) text += "␊";
    else if (byte === 9) text += "␉";
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return text;
}

/**
 * The lines that print one event.
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
      return bytesLines(tag, event.type === "in" ? "←" : "→", event.bytes, format);
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
    case "response": {
      const { entry, n } = event;
      return [
        `${tag} request ${n}: ${entry.method} ${entry.target} → ${entry.status}, ${entry.bytes} bytes, ${entry.durationMs} ms`,
      ];
    }
    case "rejected": {
      const { info, line, column } = event;
      const shown = visible(line, true);
      const caret = " ".repeat(visible(line.subarray(0, column), true).length) + "^";
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

/** A piece of input or output: a count, then its lines, with heads annotated and bodies cut. */
function bytesLines(tag: string, arrow: string, bytes: Uint8Array, format: TraceFormat): string[] {
  const lines = [`${tag} ${arrow} ${bytes.byteLength} bytes`];
  let head: string[] | null = null;
  let bodyShown = 0;
  let at = 0;
  while (at < bytes.byteLength) {
    let end = bytes.indexOf(10, at);
    end = end === -1 ? bytes.byteLength : end + 1;
    const line = bytes.subarray(at, end);
    const text = latin1(line, 0, line.byteLength);
    if (head === null && START_LINE.test(text)) head = [];
    if (head !== null) {
      lines.push(`${tag} ${arrow}   ${format.secrets ? visible(line) : redacted(line, text)}`);
      if (text === "\r\n" || text === "\n") {
        lines.push(`${tag} ${arrow}   (${describeHead(head)})`);
        head = null;
        bodyShown = 0;
      } else head.push(text);
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
  return lines;
}

function redacted(line: Uint8Array, text: string): string {
  const secret = SECRET_FIELD.exec(text);
  if (secret === null) return visible(line);
  const ending = text.endsWith("\r\n") ? "␍␊" : text.endsWith("\n") ? "␊" : "";
  const valueBytes = line.byteLength - secret[0].length - ending.length;
  return `${
    text.slice(0, secret[0].length)
  } ‹redacted, ${valueBytes} bytes; --trace-secrets shows it›${ending}`;
}

/** The framing and keep-alive that a head's fields decide, in words. */
function describeHead(lines: string[]): string {
  const start = lines[0]?.trimEnd() ?? "";
  const field = (name: string) =>
    lines.slice(1).filter((line) => line.toLowerCase().startsWith(`${name}:`)).map((line) =>
      line.slice(name.length + 1).trim()
    );
  const isResponse = start.startsWith("HTTP/");
  const status = isResponse ? Number(start.slice(9, 12)) : 0;
  const chunked = field("transfer-encoding").join(",").toLowerCase().includes("chunked");
  const length = field("content-length")[0];
  let framing: string;
  if (isResponse && (status < 200 || status === 204 || status === 304)) framing = "no body (by its status)";
  else if (chunked) framing = "body framed by Transfer-Encoding: chunked (RFC 9112 §7.1)";
  else if (length !== undefined) framing = `body framed by Content-Length: ${length} (RFC 9112 §6.2)`;
  else if (isResponse) framing = "body up to the close (RFC 9112 §6.3, rule 8)";
  else framing = "no body: neither Content-Length nor Transfer-Encoding (RFC 9112 §6.3, rule 7)";
  const connection = field("connection").join(",").toLowerCase();
  const version = isResponse ? start.slice(0, 8) : start.slice(-8);
  const closing = connection.includes("close")
    ? "Connection: close"
    : version === "HTTP/1.0" && !connection.includes("keep-alive")
    ? "HTTP/1.0 without keep-alive"
    : null;
  // A request's fields are the client's wish; a response's are the server's decision.
  const keepAlive = isResponse
    ? closing === null
      ? "the connection stays open for the next request (keep-alive)"
      : `${closing}, the connection ends after this`
    : closing === null
    ? "the client would keep the connection open (keep-alive)"
    : `${closing}, the client wants the connection to end after this`;
  return `${isResponse ? "response" : "request"}: ${framing}; ${keepAlive}`;
}
