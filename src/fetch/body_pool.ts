/**
 * The body pool: the copies of byte bodies that `FastResponse` makes. The Fetch standard's `new Response(bytes)`
 * copies the bytes ("extract a body"), so that a handler may change its buffer once the response
 * is made; h1serve keeps that rule, and makes the copy cheap to send:
 *
 * - Each copy has {@link HEAD_ROOM} free bytes in front of the body. The server writes the response
 *   head there, and head and body leave as one array without being joined.
 * - Large copies come from a pool. The server gives a copy back once the transport has sent it,
 *   so a server answering with 64 KiB bodies does not allocate (and page in) fresh memory for
 *   each one. A copy that is never given back is simply collected.
 *
 * @module
 */

/** The free bytes in front of every copy, for the response head. */
export const HEAD_ROOM = 512;
/** Copies (with their head room) from this size up come from the pool. */
const POOLED_MIN = 4 * 1024;
/** Larger copies are not pooled: they are rare, and the write costs far more than the allocation. */
const POOLED_MAX = 1024 * 1024;
/** Pooled buffers are sized in steps of this, so that bodies of similar sizes share buffers. */
const POOL_STEP = 4 * 1024;
/** The most bytes that free pooled buffers hold together; buffers given back beyond it are dropped. */
const POOL_LIMIT = 8 * 1024 * 1024;

/**
 * Copies byte bodies into buffers with room for a head, and reuses the large ones.
 *
 * @example Copy a body, put a head in front of it, give it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyPool } from "./body_pool.ts";
 *
 * const pool = new BodyPool();
 * const source = new Uint8Array(20_000).fill(0x61);
 * const body = pool.copy(source);
 * source.fill(0x62); // the copy does not change
 * assert.equal(body[0], 0x61);
 * const whole = pool.withHead(body, new TextEncoder().encode("HEAD"));
 * assert.ok(whole);
 * assert.equal(new TextDecoder().decode(whole.subarray(0, 5)), "HEADa");
 * assert.equal(whole.byteLength, 20_004);
 * pool.recycle(whole);
 * assert.equal(pool.copy(source).buffer, body.buffer); // the same memory, reused
 * ```
 */
export class BodyPool {
  /** Free buffers by size. */
  readonly #free = new Map<number, ArrayBuffer[]>();
  #freeBytes = 0;
  /** Pooled buffers that are in use: only these are taken back, and each only once. */
  readonly #lent = new WeakSet<ArrayBuffer>();

  /**
   * Copies bytes, with {@link HEAD_ROOM} free bytes in front.
   * @param source The bytes: an ArrayBuffer or any view of one (as `new Response` takes them).
   * @returns A new array with the same bytes; nothing else refers to its memory.
   */
  copy(source: ArrayBuffer | ArrayBufferView): Uint8Array<ArrayBuffer> {
    const bytes = source instanceof Uint8Array
      ? source
      : source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    const body = new Uint8Array(this.#buffer(HEAD_ROOM + bytes.byteLength), HEAD_ROOM, bytes.byteLength);
    body.set(bytes);
    return body;
  }

  /**
   * Lends an array to read body bytes into (a block of a file), with {@link HEAD_ROOM} free bytes
   * in front, as a copy has. Its bytes are not cleared: only what is read into it may be sent.
   * @param length The array's length.
   * @returns The array; give it back with {@link BodyPool.recycle} once it is sent.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BodyPool } from "./body_pool.ts";
   *
   * const pool = new BodyPool();
   * const block = pool.lend(65536);
   * assert.equal(block.byteLength, 65536);
   * pool.recycle(block);
   * assert.equal(pool.lend(65536).buffer, block.buffer);
   * ```
   */
  lend(length: number): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#buffer(HEAD_ROOM + length), HEAD_ROOM, length);
  }

  /**
   * Writes a head into the room in front of a copy.
   * @param body An array made by {@link BodyPool.copy}, which no one else has been given.
   * @param head The head's bytes.
   * @returns Head and body as one array, or `null` when the head does not fit in front.
   */
  withHead(body: Uint8Array, head: Uint8Array): Uint8Array | null {
    if (head.byteLength > body.byteOffset) return null;
    const whole = new Uint8Array(
      body.buffer,
      body.byteOffset - head.byteLength,
      head.byteLength + body.byteLength,
    );
    whole.set(head);
    return whole;
  }

  /**
   * Takes back the memory of a copy that is no longer needed, for later copies. Arrays whose
   * memory did not come from the pool, or came back already, are ignored.
   * @param bytes An array made by {@link BodyPool.copy} or {@link BodyPool.withHead}.
   */
  recycle(bytes: Uint8Array): void {
    const buffer = bytes.buffer as ArrayBuffer;
    if (!this.#lent.delete(buffer)) return;
    if (this.#freeBytes + buffer.byteLength > POOL_LIMIT) return;
    const list = this.#free.get(buffer.byteLength);
    if (list === undefined) this.#free.set(buffer.byteLength, [buffer]);
    else list.push(buffer);
    this.#freeBytes += buffer.byteLength;
  }

  #buffer(size: number): ArrayBuffer {
    if (size < POOLED_MIN || size > POOLED_MAX) return new ArrayBuffer(size);
    const pooledSize = Math.ceil(size / POOL_STEP) * POOL_STEP;
    let buffer = this.#free.get(pooledSize)?.pop();
    if (buffer === undefined) buffer = new ArrayBuffer(pooledSize);
    else this.#freeBytes -= pooledSize;
    this.#lent.add(buffer);
    return buffer;
  }
}

/**
 * The pool every `FastResponse` copies into, and the server gives copies back to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HEAD_ROOM, bodyPool } from "./body_pool.ts";
 *
 * const body = bodyPool.copy(new Uint8Array([1, 2, 3]));
 * assert.deepEqual([...body], [1, 2, 3]);
 * assert.equal(body.byteOffset, HEAD_ROOM);
 * ```
 */
export const bodyPool: BodyPool = new BodyPool();
