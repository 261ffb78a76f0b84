/**
 * The ResponseMemo of the send path (`respond.ts`): the bytes of the last small string body and of
 * the last small response, so that a server sending the same answer over and over encodes and
 * joins it once.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";

/**
 * Bodies up to this size are remembered by the ResponseMemo.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MEMO_LIMIT } from "./response_memo.ts";
 *
 * assert.equal(MEMO_LIMIT, 1024);
 * ```
 */
export const MEMO_LIMIT = 1024;
const UTF8 = new TextEncoder();

/**
 * The bytes of the last small string body, and of the last small response (head and body
 * joined): a server that sends the same answer over and over encodes and joins it once.
 *
 * @example The same string and the same pair give the same arrays
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResponseMemo } from "./response_memo.ts";
 *
 * const memo = new ResponseMemo();
 * const body = memo.encode("Hello");
 * assert.equal(memo.encode("Hello"), body);
 * const head = new TextEncoder().encode("HEAD ");
 * assert.equal(memo.join(head, body), memo.join(head, body));
 * assert.equal(new TextDecoder().decode(memo.join(head, body)), "HEAD Hello");
 * ```
 */
export class ResponseMemo {
  #text = "";
  #textBytes: Uint8Array = new Uint8Array(0);
  #head: Uint8Array | null = null;
  #body: Uint8Array | null = null;
  #joined: Uint8Array = new Uint8Array(0);

  /**
   * The UTF-8 bytes of a string body.
   * @param text The body.
   * @returns Its bytes, which must not be changed.
   */
  encode(text: string): Uint8Array {
    if (text === this.#text) return this.#textBytes;
    const bytes = UTF8.encode(text);
    if (text.length <= MEMO_LIMIT) {
      this.#text = text;
      this.#textBytes = bytes;
    }
    return bytes;
  }

  /**
   * Head and body in one array; the arrays must not be changed afterwards.
   * @param head The head's bytes.
   * @param body The body's bytes.
   * @returns Both joined.
   */
  join(head: Uint8Array, body: Uint8Array): Uint8Array {
    if (head === this.#head && body === this.#body) return this.#joined;
    const joined = concatBytes([head, body]);
    if (body.byteLength <= MEMO_LIMIT) {
      this.#head = head;
      this.#body = body;
      this.#joined = joined;
    }
    return joined;
  }
}
