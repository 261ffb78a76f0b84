/**
 * `--trace-file FILE.har`: every exchange the trace saw, as an HTTP Archive (HAR 1.2) that browsers'
 * devtools and HAR viewers open. The requests and responses are read back from each connection's
 * bytes in and out, in order (pipelined ones too), each request's body by the framing the server
 * decided; the timings come from the trace's events: the first byte of a request in, its head read,
 * the first byte of its response out, and the response's last.
 *
 * @module
 */

import { concatBytes, latin1 } from "../core/_bytes.ts";
import type { BodyFraming } from "../core/mod.ts";
import type { TraceEvent } from "../server/trace.ts";
import { indexOfBlankLine, parseFields, readChunked, readResponses } from "../testing/response_reader.ts";

/** The most bytes kept of one connection's input or output. */
const KEPT_BYTES = 1024 * 1024;

/** One HAR 1.2 entry (the fields h1serve fills). */
export interface HarEntry {
  /** When the request's first byte arrived, ISO 8601. */
  readonly startedDateTime: string;
  /** The whole exchange, in milliseconds. */
  readonly time: number;
  /** The request. */
  readonly request: Record<string, unknown>;
  /** The response. */
  readonly response: Record<string, unknown>;
  /** No cache was involved. */
  readonly cache: Record<string, never>;
  /** Send (the request's head coming in), wait (to the response's first byte) and receive, in milliseconds. */
  readonly timings: { readonly send: number; readonly wait: number; readonly receive: number };
  /** The connection's id in the trace. */
  readonly connection: string;
}

/** One request of a connection, as the trace's events told it. */
interface Exchange {
  /** When its first byte came in. */
  readonly startedAt: number;
  /** When its head was read. */
  readonly headAt: number;
  readonly framing: BodyFraming;
  readonly contentLength: number;
  /** When its response's first byte went out, and its last. */
  firstOutAt: number | null;
  endAt: number | null;
  method: string;
}

interface Flow {
  readonly id: number;
  readonly input: Uint8Array[];
  inputBytes: number;
  readonly output: Uint8Array[];
  outputBytes: number;
  /** When the first byte since the last request's head came in, or `null`. */
  nextStartedAt: number | null;
  readonly exchanges: Exchange[];
  /** How many of them are answered. */
  answered: number;
}

/**
 * Collects the trace's events and writes them out as HAR 1.2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HarRecorder } from "./har.ts";
 *
 * const har = new HarRecorder("http");
 * assert.deepEqual(har.toJSON().log.entries, []);
 * ```
 */
export class HarRecorder {
  readonly #scheme: string;
  readonly #flows = new Map<number, Flow>();
  readonly #entries: HarEntry[] = [];

  /**
   * Makes a recorder.
   * @param scheme `http` or `https`, for the requests' URLs.
   */
  constructor(scheme: string) {
    this.#scheme = scheme;
  }

  /**
   * Takes one trace event.
   * @param event The event.
   */
  add(event: TraceEvent): void {
    if (event.type === "open") {
      this.#flows.set(event.id, {
        id: event.id,
        input: [],
        inputBytes: 0,
        output: [],
        outputBytes: 0,
        nextStartedAt: null,
        exchanges: [],
        answered: 0,
      });
      return;
    }
    const flow = this.#flows.get(event.id);
    if (flow === undefined) return;
    const answering = flow.exchanges[flow.answered];
    switch (event.type) {
      case "in":
        flow.nextStartedAt ??= event.at;
        if (flow.inputBytes < KEPT_BYTES) flow.input.push(event.bytes);
        flow.inputBytes += event.bytes.byteLength;
        break;
      case "out":
        if (answering !== undefined) answering.firstOutAt ??= event.at;
        if (flow.outputBytes < KEPT_BYTES) flow.output.push(event.bytes);
        flow.outputBytes += event.bytes.byteLength;
        break;
      case "request": {
        const { framing, contentLength, method } = event;
        const startedAt = flow.nextStartedAt ?? event.at;
        flow.nextStartedAt = null;
        flow.exchanges.push({
          startedAt,
          headAt: event.at,
          framing,
          contentLength,
          firstOutAt: null,
          endAt: null,
          method,
        });
        break;
      }
      case "response":
        if (answering === undefined) break;
        answering.firstOutAt ??= event.at;
        answering.endAt = event.at;
        answering.method = event.entry.method;
        flow.answered++;
        break;
      case "close":
        this.#finish(flow);
    }
  }

  /**
   * The archive so far (connections still open are read as they stand).
   * @returns HAR 1.2, as an object.
   */
  toJSON(): { log: { version: string; creator: { name: string; version: string }; entries: HarEntry[] } } {
    for (const flow of this.#flows.values()) this.#finish(flow);
    const entries = [...this.#entries].sort((a, b) => a.startedDateTime.localeCompare(b.startedDateTime));
    return { log: { version: "1.2", creator: { name: "h1serve", version: "0.1.0" }, entries } };
  }

  #finish(flow: Flow): void {
    this.#flows.delete(flow.id);
    const input = concatBytes(flow.input);
    const answered = flow.exchanges.slice(0, flow.answered);
    // The final responses (a 101 is one), in the order of the requests: interim ones are not exchanges.
    const finals = readResponses(concatBytes(flow.output), answered.map(({ method }) => method), true)
      .filter((response) => response.status >= 200 || response.status === 101);
    let inAt = 0;
    for (const [i, exchange] of answered.entries()) {
      const request = readRequest(input, inAt, exchange);
      const response = finals[i];
      if (request === null || response === undefined) break;
      inAt = request.end;
      const { status, reason, fields, body, raw } = response;
      const host = request.fields.find(([name]) => name.toLowerCase() === "host")?.[1] ?? "localhost";
      const url = `${this.#scheme}://${host}${request.target.startsWith("/") ? request.target : "/"}`;
      const mimeType = fields.find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
      const endAt = exchange.endAt as number, firstOutAt = exchange.firstOutAt as number;
      const timings = {
        send: exchange.headAt - exchange.startedAt,
        wait: firstOutAt - exchange.headAt,
        receive: endAt - firstOutAt,
      };
      this.#entries.push({
        startedDateTime: new Date(exchange.startedAt).toISOString(),
        time: timings.send + timings.wait + timings.receive,
        request: {
          method: request.method,
          url,
          httpVersion: request.version,
          cookies: [],
          headers: request.fields.map(([name, value]) => ({ name, value })),
          queryString: queryOf(url),
          headersSize: request.headBytes,
          bodySize: request.bodyBytes,
        },
        response: {
          status,
          statusText: reason,
          httpVersion: response.version,
          cookies: [],
          headers: fields.map(([name, value]) => ({ name, value })),
          content: { size: body.byteLength, mimeType, text: new TextDecoder().decode(body) },
          redirectURL: fields.find(([name]) => name.toLowerCase() === "location")?.[1] ?? "",
          headersSize: raw.byteLength - body.byteLength,
          bodySize: body.byteLength,
        },
        cache: {},
        timings,
        connection: String(flow.id),
      });
    }
  }
}

/**
 * A request's head and the length of its body (by the framing the server read), from `at`; `null`
 * when there is none.
 */
function readRequest(bytes: Uint8Array, at: number, framed: Pick<Exchange, "framing" | "contentLength">): {
  method: string;
  target: string;
  version: string;
  fields: [string, string][];
  headBytes: number;
  bodyBytes: number;
  end: number;
} | null {
  const headEnd = indexOfBlankLine(bytes, at);
  if (headEnd === -1) return null;
  const lines = latin1(bytes, at, headEnd).split("\r\n");
  const [method = "", target = "", version = "HTTP/1.1"] = lines[0].split(" ");
  const fields = parseFields(lines.slice(1));
  if (typeof fields === "string") return null;
  const bodyStart = headEnd + 4;
  let end: number;
  if (framed.framing === "chunked") {
    const chunked = readChunked(bytes, bodyStart);
    end = chunked === null || typeof chunked === "string" ? bytes.byteLength : chunked.end;
  } else {
    end = Math.min(bytes.byteLength, bodyStart + (framed.framing === "length" ? framed.contentLength : 0));
  }
  return { method, target, version, fields, headBytes: bodyStart - at, bodyBytes: end - bodyStart, end };
}

function queryOf(url: string): { name: string; value: string }[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}
