/**
 * The one send path: a handler's `Response` to bytes. A response whose whole body is in memory
 * (a `FastResponse` made from a string or bytes) is sent at once, head and body in one write.
 * Of any other body the path reads what is available without waiting: a body that is all there
 * is sent whole, with `Content-Length`; the rest of a longer one streams (chunked, or
 * close-delimited for HTTP/1.0) with backpressure.
 *
 * When a response cannot be sent (the handler threw or rejected, its value is not a `Response`,
 * a header field is invalid, its body failed before anything was sent), the server's error
 * response (`onError`'s, or a plain 500) goes instead. If that one cannot be sent either, the
 * core's built-in 500 goes, with `Connection: close`: every request gets an answer. A body that
 * fails after its head went out can only be cut: the connection is closed.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";
import {
  type RequestHead,
  type ServerConnection,
  statusAllowsContent,
  type SwitchedProtocols,
} from "../core/mod.ts";
import { BodyCompressor, compressBody } from "../compression/encoder.ts";
import { streamCompressed } from "./compressed_stream.ts";
import type { CompressionPlan, CompressionPolicy } from "../compression/policy.ts";
import { bodyPool } from "../fetch/body_pool.ts";
import { type FileBody, takeFileBody } from "../fetch/file_body.ts";
import { outgoing, type OutgoingResponse } from "../fetch/outgoing.ts";
import type { Clock } from "./clock.ts";
import { sendFile } from "./file_send.ts";
import { microtaskHops, NOT_YET, type Output } from "./output.ts";
import { MEMO_LIMIT, ResponseMemo } from "./response_memo.ts";
import { type ProtocolSwitch, protocolSwitchOf } from "./switch.ts";

export { ResponseMemo };

/** Body bytes read ahead, at most, to send a streamed body whole with a Content-Length. */
const READ_AHEAD_LIMIT = 1024 * 1024;
const ignore = (): void => {};

/**
 * What the send path needs of the server.
 *
 * @example The services a test can give
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "./clock.ts";
 * import { ResponseMemo, type ResponseServices } from "./respond.ts";
 *
 * const services: ResponseServices = {
 *   clock: systemClock,
 *   memo: new ResponseMemo(),
 *   errorResponse: async () => new Response("failed", { status: 500 }),
 * };
 * assert.equal((await services.errorResponse(new Error("x"))).status, 500);
 * ```
 */
export interface ResponseServices {
  /** Where the Date field's time comes from. */
  readonly clock: Clock;
  /** The encodings of recent small responses. */
  readonly memo: ResponseMemo;
  /** The response to send in place of one that failed: `onError`'s, or a plain 500. Never rejects. */
  errorResponse(error: unknown): Promise<Response>;
  /** The compression rules (`serve`'s `compression` option), or `null` (or absent) when it is off. */
  readonly compression?: CompressionPolicy | null;
}

/**
 * The connection a response is sent on, as the send path sees it.
 *
 * @example A connection that records what it is told
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection } from "../core/mod.ts";
 * import { FastResponse } from "../fetch/response.ts";
 * import { systemClock } from "./clock.ts";
 * import { Output } from "./output.ts";
 * import { respond, ResponseMemo, type ResponseTarget } from "./respond.ts";
 * import type { TransportSocket } from "../transport/transport.ts";
 *
 * const sent: string[] = [];
 * const socket = { write: (bytes: Uint8Array) => (sent.push(new TextDecoder().decode(bytes)), true) };
 * const core = new ServerConnection();
 * core.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
 * core.nextEvent();
 * const statuses: number[] = [];
 * const target: ResponseTarget = {
 *   core,
 *   request: null,
 *   output: new Output(socket as unknown as TransportSocket, systemClock),
 *   closing: false,
 *   services: { clock: systemClock, memo: new ResponseMemo(), errorResponse: async () => new Response() },
 *   responded: (status) => statuses.push(status),
 *   broken() {},
 *   switched() {},
 * };
 * respond(target, new FastResponse("hi", { status: 201 })); // a body in memory: sent at once
 * target.output.flush();
 * assert.deepEqual(statuses, [201]);
 * assert.match(sent[0], /^HTTP\/1\.1 201 Created\r\n[^]*\r\n\r\nhi$/);
 * ```
 */
export interface ResponseTarget {
  /** The connection's state machine, with a request waiting for its response. */
  readonly core: ServerConnection;
  /** The head of that request (its method and `Accept-Encoding` decide compression), or `null`. */
  readonly request: RequestHead | null;
  /** Where the bytes go. */
  readonly output: Output;
  /** Whether the connection is closing: nothing more is sent. */
  readonly closing: boolean;
  /** What the server provides. */
  readonly services: ResponseServices;
  /**
   * The response is complete.
   * @param status The status sent.
   */
  responded(status: number): void;
  /** The response cannot be completed (its body failed after the head went out): close at once. */
  broken(): void;
  /**
   * The 101 head is written: hand the socket to the new protocol.
   * @param protocolSwitch The protocol.
   * @param switched The head and the new protocol's first bytes.
   */
  switched(protocolSwitch: ProtocolSwitch, switched: SwitchedProtocols): void;
}

/**
 * Sends a handler's result as the response to the request that waits on `target`: synchronously
 * when it is a response whose body is in memory, else once it settles and its body is read.
 *
 * @param target The connection.
 * @param result The handler's result.
 *
 * @example
 * ```ts ignore
 * respond(connection, handler(request, info));
 * ```
 */
export function respond(target: ResponseTarget, result: Response | Promise<Response>): void {
  if (!(result instanceof Promise)) return guarded(target, send, result);
  // With output batched, settle sends it first if the result is not there at once.
  const settled = target.output.queued === 0 ? result : target.output.settle(result);
  settled.then((value) => guarded(target, send, value), (error) => guarded(target, replace, error));
}

/**
 * Runs a step of the send path (`send` or `replace`) on a first result, catching what it throws,
 * so that a fault of the server closes the connection instead of escaping into the runtime.
 */
function guarded(
  target: ResponseTarget,
  step: (target: ResponseTarget, value: unknown, isReplacement: boolean) => void,
  value: unknown,
): void {
  try {
    step(target, value, false);
  } catch (error) {
    broke(target, error);
  }
}

/** A fault of the server itself on the send path: it is logged, and the connection is closed, never left hanging. */
function broke(target: ResponseTarget, error: unknown): void {
  console.error("h1serve: sending a response failed:", error);
  target.broken();
}

/**
 * Sends a value as the response, or, if it cannot be sent, its replacement.
 * @param isReplacement Whether the value is the server's error response (whose failure leaves only the built-in 500).
 */
function send(target: ResponseTarget, value: unknown, isReplacement: boolean): void {
  if (target.closing) {
    if (value instanceof Response) value.body?.cancel().catch(ignore);
    return;
  }
  let parts: OutgoingResponse;
  let body: ReadableStream<Uint8Array> | null = null;
  let file: FileBody | null = null;
  const protocolSwitch = value instanceof Response ? protocolSwitchOf(value) : null;
  if (protocolSwitch !== null) return switchProtocols(target, protocolSwitch, isReplacement);
  try {
    if (!(value instanceof Response)) throw new TypeError("the handler did not return a Response");
    parts = outgoing(value);
    if (parts.body === null) [body, file] = [value.body, takeFileBody(value)];
  } catch (error) {
    return replace(target, error, isReplacement);
  }
  if (parts.body !== null) return sendWhole(target, parts, parts.body, isReplacement);
  if (file !== null) {
    // A file sent as it is goes by the file path; one to compress is read as a stream.
    const plan = target.services.compression?.plan(target.request, parts.status, parts.fields, file.length);
    if (plan == null || plan.coding === null) {
      const sent = plan == null ? parts : { ...parts, fields: plan.varied };
      return sendFile(target, sent, file, (error) => replace(target, error, isReplacement));
    }
  }
  sendRead(target, body, parts, isReplacement).catch((error) => broke(target, error));
}

/** Answers 101 and hands the connection over, or, when the request cannot be switched, sends the replacement. */
function switchProtocols(
  target: ResponseTarget,
  protocolSwitch: ProtocolSwitch,
  isReplacement: boolean,
): void {
  let switched: SwitchedProtocols;
  try {
    switched = target.core.switchProtocols(protocolSwitch.headers);
  } catch (error) {
    return replace(target, error, isReplacement);
  }
  target.switched(protocolSwitch, switched);
}

/** Sends a response whose whole body is in memory: a string, or a body copy that is the server's now. */
function sendWhole(
  target: ResponseTarget,
  parts: OutgoingResponse,
  body: string | Uint8Array,
  isReplacement: boolean,
): void {
  const { services } = target;
  const copy = typeof body === "string" ? null : body;
  const bytes = copy ?? services.memo.encode(body as string);
  const compression = services.compression;
  if (compression != null) {
    const plan = compression.plan(target.request, parts.status, parts.fields, bytes.byteLength);
    if (plan !== null) return compressWhole(target, parts, bytes, copy, plan, isReplacement);
  }
  sendBytes(target, parts, bytes, copy, isReplacement);
}

/**
 * Compresses a whole body in one go and sends it with its Content-Length (once compressed, for a
 * large body); a body that does not get smaller is sent as it is.
 * @param copy The body when it is a body copy (given back to the pool once it is no longer needed), else `null`.
 */
function compressWhole(
  target: ResponseTarget,
  parts: OutgoingResponse,
  bytes: Uint8Array,
  copy: Uint8Array | null,
  plan: CompressionPlan,
  isReplacement: boolean,
): void {
  if (plan.coding === null) {
    return sendBytes(target, { ...parts, fields: plan.varied }, bytes, copy, isReplacement);
  }
  let compressed: Uint8Array | Promise<Uint8Array>;
  try {
    compressed = compressBody(plan.coding, bytes, plan.level);
  } catch (error) {
    if (copy !== null) bodyPool.recycle(copy);
    return replace(target, error, isReplacement);
  }
  const sendCompressed = (result: Uint8Array): void => {
    if (result.byteLength >= bytes.byteLength) {
      return sendBytes(target, { ...parts, fields: plan.varied }, bytes, copy, isReplacement);
    }
    if (copy !== null) bodyPool.recycle(copy);
    sendBytes(target, { ...parts, fields: plan.fields }, result, null, isReplacement);
  };
  if (!(compressed instanceof Promise)) return sendCompressed(compressed);
  compressed.then((result) => {
    if (!target.closing) return sendCompressed(result);
    if (copy !== null) bodyPool.recycle(copy);
  }, (error) => {
    if (copy !== null) bodyPool.recycle(copy);
    replace(target, error, isReplacement);
  }).catch((error) => broke(target, error));
}

/**
 * Sends a response with its whole body.
 * @param copy The body when it is a body copy (its memory is reused once sent), else `null`.
 */
function sendBytes(
  target: ResponseTarget,
  parts: OutgoingResponse,
  bytes: Uint8Array,
  copy: Uint8Array | null,
  isReplacement: boolean,
): void {
  const { core, output, services } = target;
  const now = services.clock.now();
  let head: Uint8Array;
  try {
    head = startResponse(core, parts, statusAllowsContent(parts.status) ? bytes.byteLength : 0, now);
  } catch (error) {
    if (copy !== null) bodyPool.recycle(copy);
    return replace(target, error, isReplacement);
  }
  if (core.responseFraming === "none") {
    output.write(head);
    if (copy !== null) bodyPool.recycle(copy);
  } else if (copy !== null) {
    // The head goes into the room in front of the copy, and the copy's memory is reused once sent.
    core.writeBody(copy);
    const whole = bodyPool.withHead(copy, head);
    if (whole === null) output.write(head);
    output.write(whole ?? copy, true);
  } else {
    writeWhole(target, head, bytes);
  }
  output.write(core.endResponse(now));
  target.responded(parts.status);
}

/** Sends a response whose body is a stream: whole if it is all there at once, else streamed. */
async function sendRead(
  target: ResponseTarget,
  body: ReadableStream<Uint8Array> | null,
  parts: OutgoingResponse,
  isReplacement: boolean,
): Promise<void> {
  const { core, output, services } = target;
  let read: ReadAhead = NOTHING_READ;
  if (body !== null && statusAllowsContent(parts.status)) {
    try {
      read = await readAhead(body);
    } catch (error) {
      // The body failed (or was read already) before anything was sent: answer as for a handler that threw.
      return replace(target, error, isReplacement);
    }
  } else if (body !== null) {
    body.cancel().catch(ignore);
  }
  // A HEAD response with no body declares the length a GET would get: its Content-Length is the handler's.
  if (body === null && target.request?.method === "HEAD") read = HEAD_UNREAD;
  const { chunks, reader, pending } = read;
  const plan = services.compression?.plan(target.request, parts.status, parts.fields, read.length) ?? null;
  if (plan !== null && plan.coding !== null && read.length !== null) {
    // The whole body was there at once: compressed in one go, and sent with its length.
    if (target.closing) return;
    return compressWhole(
      target,
      parts,
      chunks.length === 1 ? chunks[0] : concatBytes(chunks),
      null,
      plan,
      isReplacement,
    );
  }
  const sent = plan === null ? parts : { ...parts, fields: plan.coding === null ? plan.varied : plan.fields };
  let head: Uint8Array;
  try {
    if (target.closing) throw new Error("the connection closed");
    head = startResponse(core, sent, read.length, services.clock.now());
  } catch (error) {
    reader?.cancel(error).catch(ignore);
    return replace(target, error, isReplacement);
  }
  let compressor: BodyCompressor | null = null;
  try {
    if (core.responseFraming === "none") {
      output.write(head);
      reader?.cancel().catch(ignore);
    } else if (plan !== null && plan.coding !== null) {
      output.write(head);
      compressor = new BodyCompressor(plan.coding, plan.level);
      await streamCompressed(target, compressor, chunks, reader, pending);
    } else if (chunks.length === 1 && pending === null) {
      writeWhole(target, head, chunks[0]); // the whole response is known
    } else {
      output.write(head);
      for (const chunk of chunks) output.write(core.writeBody(chunk));
      if (reader !== null && pending !== null) await streamRest(target, reader, pending);
    }
    output.write(core.endResponse(services.clock.now()));
  } catch (error) {
    // A broken stream or a body that does not match its Content-Length: the response cannot be
    // completed, so the connection is closed, which the client sees as a truncated response.
    reader?.cancel(error).catch(ignore);
    return target.broken();
  } finally {
    compressor?.close();
  }
  target.responded(parts.status);
}

/** Starts the response in the core; what it throws, it throws before changing anything. */
function startResponse(
  core: ServerConnection,
  parts: OutgoingResponse,
  bodyLength: number | null,
  now: number,
): Uint8Array {
  return core.startResponse(
    { status: parts.status, statusText: parts.statusText, headers: parts.fields, bodyLength },
    now,
  );
}

/**
 * Answers a failure before anything was sent (the handler failed, or the core refused the
 * response's status or a header field, which leaves the core as it was): with the server's error
 * response, or, when that one is what failed, with the built-in 500 and a close.
 */
function replace(target: ResponseTarget, error: unknown, isReplacement: boolean): void {
  if (target.closing) return;
  if (isReplacement) return sendInternalError(target);
  target.services.errorResponse(error).then((response) => send(target, response, true))
    .catch((fault) => broke(target, fault));
}

/** The core's built-in 500, with `Connection: close`: the answer when nothing else can be sent. */
function sendInternalError(target: ResponseTarget): void {
  if (target.closing) return;
  target.output.write(target.core.internalErrorResponse(target.services.clock.now()));
  target.responded(500);
}

/** What {@link readAhead} found of a body. */
interface ReadAhead {
  /** The chunks read. */
  readonly chunks: readonly Uint8Array[];
  /** The body's length when all of it was read, else `null`. */
  readonly length: number | null;
  /** The reader, while more of the body may follow. */
  readonly reader: ReadableStreamDefaultReader<Uint8Array> | null;
  /** The read in progress, when the body did not end within what was available. */
  readonly pending: Promise<ReadableStreamReadResult<Uint8Array>> | null;
}
const NOTHING_READ: ReadAhead = Object.freeze({ chunks: [], length: 0, reader: null, pending: null });
/** A HEAD response's missing body: nothing to send, and a length that is not 0 but unknown here. */
const HEAD_UNREAD: ReadAhead = Object.freeze({ chunks: [], length: null, reader: null, pending: null });

/**
 * Reads what of a body is available without waiting, up to a limit.
 * @throws What the stream throws, or a TypeError for a body that was read already.
 */
async function readAhead(body: ReadableStream<Uint8Array>): Promise<ReadAhead> {
  const reader = body.getReader(); // throws for a body the handler has already read
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const read = reader.read();
      const result = await Promise.race([read, microtaskHops()]);
      if (result === NOT_YET) return { chunks, length: null, reader, pending: read };
      if (result.done) return { chunks, length: total, reader: null, pending: null };
      chunks.push(result.value);
      total += result.value.byteLength;
      if (total > READ_AHEAD_LIMIT) {
        // Too long to wait for its end: send what was read, then stream the rest.
        const next = reader.read();
        next.catch(ignore); // awaited later, unless the response turns out to have no body
        return { chunks, length: null, reader, pending: next };
      }
    }
  } catch (error) {
    reader.cancel(error).catch(ignore);
    throw error;
  }
}

/** Streams the rest of a body, waiting for the socket's drain whenever it is full. */
async function streamRest(
  target: ResponseTarget,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  firstRead: Promise<ReadableStreamReadResult<Uint8Array>>,
): Promise<void> {
  const { core, output } = target;
  let read = firstRead;
  while (true) {
    const result = await output.settle(read);
    if (result.done) return;
    if (target.closing) throw new Error("the connection closed");
    output.write(core.writeBody(result.value));
    // write already sent the batch if it reached the high-water mark; wait while the socket is full.
    if (!output.writable) {
      output.flush();
      await output.whenDrained();
    }
    read = reader.read();
  }
}

/** Writes a head and its whole body: one array for a small body (the same one for the same pair). */
function writeWhole(target: ResponseTarget, head: Uint8Array, body: Uint8Array): void {
  const framed = target.core.writeBody(body);
  if (body.byteLength <= MEMO_LIMIT) target.output.write(target.services.memo.join(head, framed));
  else {
    target.output.write(head);
    target.output.write(framed);
  }
}
