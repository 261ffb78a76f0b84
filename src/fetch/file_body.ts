/**
 * A file body that the server may send itself. A `Response` made by `serveFile` or `serveDir` has
 * a `ReadableStream` body that reads the file chunk by chunk, and it also carries, under a mark
 * kept here, what that stream reads from: the open file and the pieces to send. The server's send
 * path takes the mark when the body is untouched and reads the file into buffers of its own body
 * pool, which it reuses once the transport has sent them; every other reader of the `Response`
 * gets the stream as usual.
 *
 * This module is runtime-free: the file is reached only through the {@link FileBody}'s functions.
 *
 * @module
 */

/** Text between the parts of a `multipart/byteranges` body, or a range of the file (inclusive). */
export type FileBodyPiece =
  | { readonly text: string }
  | { readonly range: { readonly start: number; readonly end: number } };

/** An open file and what of it a response's body holds. */
export interface FileBody {
  /** What to send, in order. */
  readonly pieces: readonly FileBodyPiece[];
  /** The body's length in bytes. */
  readonly length: number;
  /**
   * Reads bytes of the file.
   * @returns How many bytes were read (0 at the end of the file).
   */
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Closes the file (once; later calls do nothing). */
  close(): Promise<void>;
}

const marks = new WeakMap<Response, FileBody>();

/**
 * Marks a response whose body stream reads a file, so that the server may send the file itself.
 * The stream must read nothing before it is first read (a high-water mark of 0), so that
 * whoever takes the mark has the file to itself.
 *
 * @param response The response.
 * @param body The file and its pieces.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markFileBody, takeFileBody } from "./file_body.ts";
 *
 * const body = {
 *   pieces: [{ text: "hi" }],
 *   length: 2,
 *   read: () => Promise.resolve(0),
 *   close: () => Promise.resolve(),
 * };
 * const response = markFileBody(new Response(new ReadableStream({}, { highWaterMark: 0 })), body);
 * assert.equal(takeFileBody(response), body);
 * ```
 */
export function markFileBody(response: Response, body: FileBody): Response {
  marks.set(response, body);
  return response;
}

/**
 * Takes a response's file body: the mark, when the response has one and its body stream has not
 * been read or locked (then the caller owns the file and closes it), else `null`.
 *
 * @param response The response.
 * @returns The file body or `null`.
 *
 * @example A response whose body was read keeps its stream
 * ```ts
 * import assert from "node:assert/strict";
 * import { markFileBody, takeFileBody } from "./file_body.ts";
 *
 * const response = markFileBody(new Response("x"), {
 *   pieces: [{ text: "x" }],
 *   length: 1,
 *   read: () => Promise.resolve(0),
 *   close: () => Promise.resolve(),
 * });
 * await response.text();
 * assert.equal(takeFileBody(response), null);
 * ```
 */
export function takeFileBody(response: Response): FileBody | null {
  const body = marks.get(response);
  if (body === undefined) return null;
  marks.delete(response);
  if (response.bodyUsed || response.body === null || response.body.locked) return null;
  return body;
}
