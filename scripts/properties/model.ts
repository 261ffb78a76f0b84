/**
 * An independent reference model of HTTP/1.1 request parsing: what a correct, strict parser must
 * accept, and what it must produce from the bytes it accepts. It is written from the RFCs, not
 * from the core's parser, and kept as plain as possible (regular expressions and simple loops).
 * It models:
 * - the request line (RFC 9112 §3), field lines (RFC 9112 §5, values per RFC 9110 §5.5) and the
 *   empty lines a server ignores before a request line (RFC 9112 §2.2);
 * - what a head's fields imply, or why a strict server refuses them: one valid Host (RFC 9112
 *   §3.2, RFC 9110 §7.2), not empty where the target takes its host from it (RFC 9110 §4.2.1), Content-Length (RFC 9112 §6.2, RFC 9110 §8.6: equal values in a list),
 *   Transfer-Encoding exactly `chunked` and never with Content-Length nor in HTTP/1.0 (RFC 9112
 *   §6.1), the body length that follows (RFC 9112 §6.3), keep-alive (RFC 9112 §9.3) and
 *   `100-continue` as the only expectation (RFC 9110 §10.1.1);
 * - methods no longer than any a server implements (RFC 9112 §3), and CONNECT, whose head ends the
 *   requests of its connection: it frames no body and never keeps the connection (RFC 9110 §9.3.6);
 * - the chunked transfer coding (RFC 9112 §7.1): chunk sizes, chunk extensions (§7.1.1), chunk
 *   data and the trailer section (§7.1.2).
 *
 * {@link checkAgainstReference} checks every request of a core {@link Run} against it. Used by
 * properties (b) and (d) in `properties.ts`, and so by `tests/core/fast_check_test.ts` and
 * `scripts/fuzz.ts`.
 *
 * @module
 */

import { fail, type Run } from "./drive.ts";

// ---------------------------------------------------------------------------------------------
// Reference reading of the framing (the oracle for what the core accepts)
// ---------------------------------------------------------------------------------------------

const TCHAR_CLASS = "!#$%&'*+\\-.^_`|~0-9A-Za-z";
const TOKEN = `[${TCHAR_CLASS}]+`;
const REQUEST_LINE = new RegExp(`^(${TOKEN}) ([\\x21-\\x7e]+) (HTTP/1\\.[01])$`);
const FIELD_LINE = new RegExp(`^(${TOKEN}):([^]*)$`);
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*"';
const CHUNK_EXT = new RegExp(
  `^(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)+[ \\t]*$`,
);
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;

/** A field line as RFC 9112 §5 reads it, or null. */
function referenceField(line: string): [string, string] | null {
  const match = FIELD_LINE.exec(line);
  if (match === null) return null;
  const value = match[2].replace(/^[ \t]+|[ \t]+$/g, "");
  return FIELD_VALUE.test(value) ? [match[1], value] : null;
}

interface ReferenceHead {
  framing: "none" | "length" | "chunked";
  length: number;
  keepAlive: boolean;
}

/** The longest method a server with the default limits takes (`maxMethodLength`). */
const MAX_METHOD_LENGTH = 32;

/**
 * The framing and persistence a head implies (RFC 9112 §6.3, §9.3), written independently of
 * the parser; or why a strict server must refuse the head.
 */
function referenceSemantics(
  fields: readonly [string, string][],
  version: string,
  method: string,
  target: string,
): ReferenceHead | string {
  if (method.length > MAX_METHOD_LENGTH) return "a method longer than any implemented";
  let hosts = 0;
  let host = "";
  let codings: string[] | null = null;
  let length: number | null = null;
  let close = false;
  let keep = false;
  for (const [name, value] of fields) {
    switch (name.toLowerCase()) {
      case "host":
        hosts++;
        host = value;
        break;
      case "transfer-encoding":
        // Empty list elements are ignored (RFC 9110 §5.6.1.2).
        codings = (codings ?? ([] as string[])).concat(
          value.split(",").map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== ""),
        );
        break;
      case "content-length":
        for (const part of value.split(",")) {
          const text = part.trim();
          if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
            return "Content-Length is not a number";
          }
          if (length !== null && length !== Number(text)) return "Content-Length values differ";
          length = Number(text);
        }
        break;
      case "connection":
        for (const option of value.toLowerCase().split(",")) {
          if (option.trim() === "close") close = true;
          if (option.trim() === "keep-alive") keep = true;
        }
        break;
      case "expect":
        {
          const expectations = value.split(",").map((item) => item.trim().toLowerCase()).filter((item) =>
            item
          );
          if (expectations.some((item) => item !== "100-continue")) {
            return "an unknown expectation";
          }
        }
        break;
    }
  }
  if (version === "HTTP/1.1" ? hosts !== 1 : hosts > 1) return `${hosts} Host fields`;
  if (hosts === 1 && !HOST.test(host)) return "an invalid Host";
  // Origin- and asterisk-form targets take their URI's host from Host, and it must not be empty.
  if (hosts === 1 && host === "" && (target.startsWith("/") || target === "*")) return "an empty Host";
  const keepAlive = version === "HTTP/1.1" ? !close : keep && !close;
  if (codings !== null) {
    if (version !== "HTTP/1.1") return "Transfer-Encoding in HTTP/1.0";
    if (length !== null) return "both Transfer-Encoding and Content-Length";
    if (codings.length !== 1 || codings[0] !== "chunked") return "a transfer coding other than chunked";
  }
  // What follows a CONNECT head is tunnel data: never a body, never another request.
  if (method === "CONNECT") return { framing: "none", length: 0, keepAlive: false };
  if (codings !== null) return { framing: "chunked", length: 0, keepAlive };
  if (length !== null && length > 0) return { framing: "length", length, keepAlive };
  return { framing: "none", length: 0, keepAlive };
}

interface ReferenceChunked {
  status: "complete" | "incomplete" | "invalid";
  /** Just past the body when complete. */
  end: number;
  data: string;
  trailers: [string, string][];
  reason: string;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Reads a chunked body (RFC 9112 §7.1) from `start`, as simply as possible. */
function referenceChunked(text: string, start: number): ReferenceChunked {
  const n = text.length;
  let at = start;
  let data = "";
  const trailers: [string, string][] = [];
  const result = (status: ReferenceChunked["status"], reason = ""): ReferenceChunked => ({
    status,
    end: at,
    data,
    trailers,
    reason,
  });
  while (true) {
    let size = 0;
    let digits = 0;
    for (; at < n && hexDigit(text.charCodeAt(at)) !== -1; at++) {
      size = size * 16 + hexDigit(text.charCodeAt(at));
      digits++;
    }
    if (digits > 16 || !Number.isSafeInteger(size)) return result("invalid", "chunk size too long");
    if (at === n) return result("incomplete");
    if (digits === 0) return result("invalid", "no chunk size");
    if (!"\r; \t".includes(text[at])) return result("invalid", "a bad byte after the chunk size");
    const cr = text.indexOf("\r", at);
    const lf = text.indexOf("\n", at);
    if (lf !== -1 && (cr === -1 || lf < cr)) return result("invalid", "an LF in the chunk-size line");
    if (cr === -1) return result("incomplete");
    const ext = text.slice(at, cr);
    if (ext !== "" && !CHUNK_EXT.test(ext)) return result("invalid", "a bad chunk extension");
    at = cr + 1;
    if (at === n) return result("incomplete");
    if (text[at] !== "\n") return result("invalid", "no LF after CR");
    at++;
    if (size === 0) break;
    if (n - at < size) {
      data += text.slice(at);
      at = n;
      return result("incomplete");
    }
    data += text.slice(at, at + size);
    at += size;
    if (at === n) return result("incomplete");
    if (text[at] !== "\r") return result("invalid", "no CR after chunk data");
    at++;
    if (at === n) return result("incomplete");
    if (text[at] !== "\n") return result("invalid", "no LF after chunk data");
    at++;
  }
  while (true) {
    const lf = text.indexOf("\n", at);
    if (lf === -1) return result("incomplete");
    if (lf === at || text[lf - 1] !== "\r") return result("invalid", "a bare LF in the trailer section");
    const line = text.slice(at, lf - 1);
    at = lf + 1;
    if (line === "") return result("complete");
    const field = referenceField(line);
    if (field === null) return result("invalid", "a bad trailer line");
    trailers.push(field);
  }
}

/** Bytes the connection holds while it waits for the rest of a head: each complete line must be valid. */
function checkPendingHead(rest: string): void {
  let at = 0;
  while (rest.startsWith("\r\n", at)) at += 2;
  const lines = rest.slice(at).split("\n");
  for (let k = 0; k < lines.length - 1; k++) {
    const line = lines[k];
    if (!line.endsWith("\r")) {
      fail(`waiting for more although a bare LF is buffered: ${JSON.stringify(rest)}`);
    }
    const content = line.slice(0, -1);
    if (k === 0 ? !REQUEST_LINE.test(content) : content === "" || referenceField(content) === null) {
      fail(`waiting for more after the line ${JSON.stringify(content)}: ${JSON.stringify(rest)}`);
    }
  }
}

/**
 * Checks every request the core accepted against an independent reading of the same bytes:
 * 1. its head is exactly what lies between the previous request's end and `headEnd`: optional
 *    empty lines, a request line with the same method, target and version, and one line per field
 *    with the same name and (trimmed) value, each matching the RFC 9112 grammar;
 * 2. a strict server may accept those fields (one Host, no TE with CL, TE exactly `chunked`, all
 *    CL values equal, …), and they imply the core's framing, length and keep-alive;
 * 3. the body is exactly what that framing takes (the next N bytes, or a chunked body read by a
 *    small reference decoder, trailers included), and the request ends where the body does;
 * 4. nothing follows a request that closes the connection; a core waiting for a body waits on an
 *    incomplete one; a core waiting for a head holds no complete line that is invalid and no
 *    complete head.
 *
 * @returns Every request's trailer fields as the reference read them (forbidden names included).
 */
export function checkAgainstReference(text: string, run: Run): [string, string][][] {
  let pos = 0;
  const referenceTrailers: [string, string][][] = [];
  for (let i = 0; i < run.requests.length; i++) {
    const r = run.requests[i];
    const at = `request ${i}`;
    if (r.headEnd !== pos + r.headLength) {
      fail(`${at}: its head ends at ${r.headEnd}, but it began at ${pos} and is ${r.headLength} bytes long`);
    }
    let lead = pos;
    while (text.startsWith("\r\n", lead) && lead < r.headEnd) lead += 2;
    const head = text.slice(lead, r.headEnd);
    if (!head.endsWith("\r\n\r\n")) {
      fail(`${at}: its head does not end in an empty line: ${JSON.stringify(head)}`);
    }
    const lines = head.slice(0, -4).split("\r\n");
    const requestLine = REQUEST_LINE.exec(lines[0]);
    if (
      requestLine === null || requestLine[1] !== r.method || requestLine[2] !== r.target ||
      requestLine[3] !== r.version
    ) {
      fail(`${at}: request line ${JSON.stringify(lines[0])} read as ${r.method} ${r.target} ${r.version}`);
    }
    if (lines.length - 1 !== r.fields.length) {
      fail(
        `${at}: ${lines.length - 1} field lines read as ${r.fields.length} fields: ${JSON.stringify(head)}`,
      );
    }
    for (let j = 0; j < r.fields.length; j++) {
      const field = referenceField(lines[j + 1]);
      if (field === null || field[0] !== r.fields[j][0] || field[1] !== r.fields[j][1]) {
        fail(`${at}: field line ${JSON.stringify(lines[j + 1])} read as ${JSON.stringify(r.fields[j])}`);
      }
    }
    const semantics = referenceSemantics(r.fields, r.version, r.method, r.target);
    if (typeof semantics === "string") fail(`${at}: accepted with ${semantics}: ${JSON.stringify(head)}`);
    if (
      semantics.framing !== r.bodyFraming || semantics.keepAlive !== r.keepAlive ||
      (semantics.framing === "length" && semantics.length !== r.contentLength)
    ) {
      fail(
        `${at}: framing ${r.bodyFraming} ${r.contentLength}, keep-alive ${r.keepAlive}; the fields say ${
          JSON.stringify(semantics)
        }`,
      );
    }
    let trailers: [string, string][] = [];
    let end: number;
    if (semantics.framing === "none") {
      end = r.headEnd;
      if (r.body !== "" || r.trailers.length > 0) fail(`${at}: a body without framing`);
    } else if (semantics.framing === "length") {
      end = r.headEnd + semantics.length;
      if (r.end === -1) {
        if (run.error === null && end <= text.length) {
          fail(`${at}: its whole body is here but it never ended`);
        }
        if (run.error === null && r.body !== text.slice(r.headEnd)) {
          fail(`${at}: body data lost while waiting`);
        }
      } else if (r.body !== text.slice(r.headEnd, end)) {
        fail(`${at}: body ${JSON.stringify(r.body)} is not the ${semantics.length} bytes after the head`);
      }
    } else {
      const chunked = referenceChunked(text, r.headEnd);
      end = chunked.end;
      trailers = chunked.trailers;
      if (r.end === -1) {
        if (run.error === null && chunked.status === "complete") {
          fail(`${at}: its chunked body is complete but it never ended`);
        }
        if (run.error === null && chunked.status === "invalid") {
          fail(`${at}: waiting on a chunked body with ${chunked.reason}`);
        }
        if (!chunked.data.startsWith(r.body)) {
          fail(`${at}: body data ${JSON.stringify(r.body)} is not chunk data`);
        }
      } else {
        if (chunked.status !== "complete") {
          fail(
            `${at}: accepted a chunked body that the reference reads as ${chunked.status} (${chunked.reason})`,
          );
        }
        if (r.body !== chunked.data) {
          fail(`${at}: chunked body ${JSON.stringify(r.body)}, expected ${chunked.data}`);
        }
        let k = 0;
        for (const field of chunked.trailers) {
          const kept = r.trailers[k];
          if (kept !== undefined && kept[0] === field[0] && kept[1] === field[1]) k++;
          else if (/^x-/i.test(field[0])) fail(`${at}: trailer ${JSON.stringify(field)} dropped`);
        }
        if (k !== r.trailers.length) fail(`${at}: trailers ${JSON.stringify(r.trailers)} were not sent`);
      }
    }
    referenceTrailers.push(trailers);
    if (r.end === -1) {
      if (i !== run.requests.length - 1) fail(`${at}: incomplete, yet another request followed`);
      return referenceTrailers;
    }
    if (r.end !== end) fail(`${at}: ends at ${r.end}; its framing ends it at ${end}`);
    if (!r.keepAlive) {
      if (i !== run.requests.length - 1) fail(`${at}: a request came after one that closes the connection`);
      if (run.error === null && run.writeState !== "closed") fail(`${at}: the connection did not close`);
      return referenceTrailers;
    }
    pos = r.end;
  }
  if (run.error === null && run.last === "need-data") checkPendingHead(text.slice(pos));
  return referenceTrailers;
}
