/**
 * The WebSocket session (RFC 6455 §5–§7): every frame and message case fed whole, at every split
 * in two and in pieces of 1 to 7 bytes (`everySplitRun` fails when any way differs), then the
 * close handshake, the timeouts, and permessage-deflate with a node:zlib codec.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { LocalProtocolError, OPCODE, WebSocketSession } from "../../../src/core/mod.ts";
import {
  clientFrame,
  everySplitRun,
  hex,
  join,
  type SessionEntry,
} from "../../../scripts/properties/websocket.ts";

const { CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG } = OPCODE;
const closeCode = (code: number, reason = "") =>
  join(new Uint8Array([code >> 8, code & 0xff]), new TextEncoder().encode(reason));
const serverClose = (code: number) => hex(new Uint8Array([0x88, 2, code >> 8, code & 0xff]));

/** The error entry of a run's last event. */
function failure(input: Uint8Array, options = {}): SessionEntry {
  const run = everySplitRun(input, options);
  assert.equal(run.state, "closed");
  const last = run.log.at(-1)!;
  assert.equal(last.type, "error", JSON.stringify(run.log));
  return last;
}

describe("WebSocketSession frames", () => {
  it("reads the 7-, 16- and 64-bit length forms, at their edges", () => {
    for (
      const [length, bits] of [[0, 7], [125, 7], [126, 16], [65535, 16], [65536, 64], [3, 16], [
        3,
        64,
      ]] as const
    ) {
      const payload = Uint8Array.from({ length }, (_, i) => i & 0xff);
      const frame = clientFrame(BINARY, payload, { lengthBits: bits });
      const run = length > 200
        ? { log: [] as SessionEntry[] } // long frames: whole and in 1,000-byte pieces below
        : everySplitRun(frame, { maxFrameBytes: 1 << 17, maxMessageBytes: 1 << 17 });
      if (length <= 200) assert.deepEqual(run.log, [{ type: "message", binary: true, data: hex(payload) }]);
      else {
        const session = new WebSocketSession({
          now: 0,
          maxFrameBytes: 1 << 17,
          maxMessageBytes: 1 << 17,
          idleTimeoutMs: 0,
          closeTimeoutMs: 1,
        });
        for (let at = 0; at < frame.length; at += 1000) session.receive(frame.slice(at, at + 1000), 0);
        const event = session.nextEvent();
        assert(event.type === "message" && event.binary);
        assert.deepEqual(event.data, payload);
      }
    }
  });

  it("fails a 64-bit length with the high bit set with 1002", () => {
    const frame = new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
    assert.deepEqual(failure(frame), {
      type: "error",
      code: "BAD_LENGTH",
      closeCode: 1002,
      offset: 14,
      reply: serverClose(1002),
    });
  });

  it("fails an unmasked client frame with 1002 at its second byte", () => {
    assert.deepEqual(failure(clientFrame(TEXT, "hi", { mask: null })), {
      type: "error",
      code: "UNMASKED_FRAME",
      closeCode: 1002,
      offset: 2,
      reply: serverClose(1002),
    });
  });

  for (const rsv of [0x40, 0x20, 0x10]) {
    it(`fails RSV bits 0x${rsv.toString(16)} without an extension with 1002`, () => {
      const entry = failure(join(clientFrame(TEXT, "ok"), clientFrame(TEXT, "x", { rsv })));
      assert.deepEqual([entry.type === "error" && entry.code, entry.type === "error" && entry.offset], [
        "RESERVED_BITS",
        10,
      ]);
    });
  }

  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`fails reserved opcode 0x${opcode.toString(16)} with 1002`, () => {
      const entry = failure(clientFrame(opcode, ""));
      assert(entry.type === "error" && entry.code === "RESERVED_OPCODE" && entry.closeCode === 1002);
    });
  }

  it("fails a control frame over 125 bytes and a fragmented one with 1002", () => {
    const long = failure(clientFrame(PING, new Uint8Array(126)));
    assert(long.type === "error" && long.code === "CONTROL_TOO_LONG");
    const fragmented = failure(clientFrame(PING, "a", { fin: false }));
    assert(fragmented.type === "error" && fragmented.code === "CONTROL_FRAGMENTED");
  });

  it("fails a frame over maxFrameBytes with 1009 at its header, before its payload arrives", () => {
    const frame = clientFrame(BINARY, new Uint8Array(100));
    assert.deepEqual(failure(frame.subarray(0, 6), { maxFrameBytes: 99 }), {
      type: "error",
      code: "FRAME_TOO_BIG",
      closeCode: 1009,
      offset: 6,
      reply: serverClose(1009),
    });
  });
});

describe("WebSocketSession messages", () => {
  it("joins fragments, with pings and pongs between them, and answers each ping with its payload", () => {
    const input = join(
      clientFrame(TEXT, "Hel", { fin: false }),
      clientFrame(PING, "p1"),
      clientFrame(CONTINUATION, "lo, ", { fin: false }),
      clientFrame(PONG, "unsolicited"),
      clientFrame(CONTINUATION, "wörld"),
      clientFrame(BINARY, new Uint8Array([1, 2]), { fin: false }),
      clientFrame(CONTINUATION, new Uint8Array([3])),
    );
    assert.deepEqual(everySplitRun(input).log, [
      { type: "ping", data: hex(new TextEncoder().encode("p1")), reply: "8a027031" },
      { type: "pong", data: hex(new TextEncoder().encode("unsolicited")) },
      { type: "message", binary: false, data: "Hello, wörld" },
      { type: "message", binary: true, data: "010203" },
    ]);
  });

  it("hands out a message that arrives in one array as a view of it, and one that spans arrays in an array of its own", () => {
    const options = {
      now: 0,
      maxMessageBytes: 1 << 20,
      maxFrameBytes: 1 << 20,
      idleTimeoutMs: 0,
      closeTimeoutMs: 1,
    };
    const payload = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 7) & 0xff);
    const messageOf = (pieces: Uint8Array[]) => {
      const session = new WebSocketSession(options);
      for (const piece of pieces) session.receive(piece, 0);
      const event = session.nextEvent();
      assert(event.type === "message");
      return event.data;
    };
    const whole = clientFrame(BINARY, payload(1000));
    const view = messageOf([whole]);
    assert.equal(view.buffer, whole.buffer);
    assert.deepEqual(view, payload(1000));
    for (const length of [1000, 64 * 1024]) {
      const frame = clientFrame(BINARY, payload(length));
      const pieces = [frame.slice(0, 20), frame.slice(20, 500), frame.slice(500)];
      const own = messageOf(pieces);
      assert.deepEqual(own, payload(length));
      assert.equal(own.byteOffset, 0);
      assert.equal(own.buffer.byteLength, length);
      assert(pieces.every((piece) => piece.buffer !== own.buffer));
    }
    const long = clientFrame(BINARY, payload(64 * 1024 + 1));
    assert.deepEqual(messageOf([long.slice(0, 100), long.slice(100)]), payload(64 * 1024 + 1));
  });

  it("leaves pings unanswered with autoPong: false", () => {
    assert.deepEqual(everySplitRun(clientFrame(PING, ""), { autoPong: false }).log, [{
      type: "ping",
      data: "",
      reply: null,
    }]);
  });

  it("fails a continuation without a message, and a new message inside one, with 1002", () => {
    const stray = failure(clientFrame(CONTINUATION, "x"));
    assert(stray.type === "error" && stray.code === "UNEXPECTED_CONTINUATION");
    const nested = failure(join(clientFrame(TEXT, "a", { fin: false }), clientFrame(BINARY, "b")));
    assert(nested.type === "error" && nested.code === "MESSAGE_NOT_FINISHED" && nested.offset === 13);
  });

  it("fails invalid UTF-8 with 1007 at the first bad byte, inside a fragment, before the fragment ends", () => {
    // "ok", then 0xff, then more bytes that never arrive.
    const frame = clientFrame(TEXT, new Uint8Array([0x6f, 0x6b, 0xff, 0x61, 0x62]), { fin: false });
    assert.deepEqual(failure(frame.subarray(0, 9)), {
      type: "error",
      code: "INVALID_UTF8",
      closeCode: 1007,
      offset: 8,
      reply: serverClose(1007),
    });
  });

  it("accepts a character split across fragments, and fails a text that ends inside one with 1007", () => {
    const euro = [0xe2, 0x82, 0xac];
    const split = join(
      clientFrame(TEXT, new Uint8Array(euro.slice(0, 1)), { fin: false }),
      clientFrame(CONTINUATION, new Uint8Array(euro.slice(1))),
    );
    assert.deepEqual(everySplitRun(split).log, [{ type: "message", binary: false, data: "€" }]);
    const cut = failure(clientFrame(TEXT, new Uint8Array(euro.slice(0, 2))));
    assert(cut.type === "error" && cut.code === "INVALID_UTF8");
  });

  it("fails a message over maxMessageBytes with 1009 as soon as a frame header says so", () => {
    const input = join(
      clientFrame(BINARY, new Uint8Array(10), { fin: false }),
      clientFrame(CONTINUATION, new Uint8Array(10)).subarray(0, 6),
    );
    assert.deepEqual(failure(input, { maxMessageBytes: 15 }), {
      type: "error",
      code: "MESSAGE_TOO_BIG",
      closeCode: 1009,
      offset: 22,
      reply: serverClose(1009),
    });
  });
});

describe("WebSocketSession closing", () => {
  it("answers the peer's close with the same code and ignores what follows it", () => {
    const input = join(
      clientFrame(CLOSE, closeCode(1000, "bye")),
      clientFrame(TEXT, "after"),
      new Uint8Array([0xff]),
    );
    const run = everySplitRun(input);
    assert.deepEqual(run.log, [{
      type: "close",
      code: 1000,
      reason: "bye",
      wasClean: true,
      reply: serverClose(1000),
    }]);
    assert.equal(run.state, "closed");
  });

  it("answers an empty close with an empty one, and reports 1005", () => {
    assert.deepEqual(everySplitRun(clientFrame(CLOSE, "")).log, [
      { type: "close", code: 1005, reason: "", wasClean: true, reply: "8800" },
    ]);
  });

  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];
  const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];
  it(`accepts close codes ${valid.join(", ")}`, () => {
    for (const code of valid) {
      assert.equal(everySplitRun(clientFrame(CLOSE, closeCode(code))).log[0].type, "close", `${code}`);
    }
  });
  it(`fails close codes ${invalid.join(", ")} with 1002`, () => {
    for (const code of invalid) {
      const entry = failure(clientFrame(CLOSE, closeCode(code)));
      assert(
        entry.type === "error" && entry.code === "BAD_CLOSE_CODE" && entry.closeCode === 1002,
        `${code}`,
      );
    }
  });

  it("fails a 1-byte close payload with 1002 and a reason that is not UTF-8 with 1007", () => {
    const short = failure(clientFrame(CLOSE, new Uint8Array([3])));
    assert(short.type === "error" && short.code === "BAD_CLOSE_PAYLOAD" && short.closeCode === 1002);
    const reason = failure(clientFrame(CLOSE, join(closeCode(1000), new Uint8Array([0xc3, 0x28]))));
    assert(reason.type === "error" && reason.code === "INVALID_UTF8" && reason.closeCode === 1007);
  });

  it("after the server's close, drops messages, leaves pings unanswered, and ends at the peer's close with no reply", () => {
    const input = join(clientFrame(TEXT, "late"), clientFrame(PING, ""), clientFrame(CLOSE, closeCode(1000)));
    assert.deepEqual(everySplitRun(input, { serverCloses: true }).log, [
      { type: "ping", data: "", reply: null },
      { type: "close", code: 1000, reason: "", wasClean: true, reply: null },
    ]);
  });

  it("reports a peer that leaves between frames as 1006, and one that leaves mid-message as an error", () => {
    assert.deepEqual(everySplitRun(clientFrame(TEXT, "a"), { eof: true }).log, [
      { type: "message", binary: false, data: "a" },
      { type: "close", code: 1006, reason: "", wasClean: false, reply: null },
    ]);
    assert.deepEqual(failure(clientFrame(TEXT, "abc").subarray(0, 7), { eof: true }), {
      type: "error",
      code: "INCOMPLETE_FRAME",
      closeCode: 1006,
      offset: 7,
      reply: null,
    });
    assert.deepEqual(failure(clientFrame(TEXT, "a", { fin: false }), { eof: true }), {
      type: "error",
      code: "INCOMPLETE_FRAME",
      closeCode: 1006,
      offset: 7,
      reply: null,
    });
  });
});

describe("WebSocketSession sending and timeouts", () => {
  const open = (idleTimeoutMs = 0) =>
    new WebSocketSession({
      now: 0,
      maxMessageBytes: 1024,
      maxFrameBytes: 1024,
      idleTimeoutMs,
      closeTimeoutMs: 500,
    });

  it("sends unmasked frames, and nothing once closing", () => {
    const session = open();
    assert.equal(hex(join(...session.send(new TextEncoder().encode("Hi"), false))), "81024869");
    assert.equal(hex(session.ping(new Uint8Array([1]))), "890101");
    assert.equal(hex(session.close(1000, "ok", 0)), "880403e86f6b");
    assert.equal(session.state, "closing");
    assert.deepEqual(session.send(new Uint8Array(1), true), []);
    assert.equal(session.close(1000, "", 0).length, 0);
    assert.throws(() => open().close(1005, "", 0), RangeError);
    assert.throws(() => open().ping(new Uint8Array(126)), RangeError);
  });

  it("closes when the peer's close frame does not come within closeTimeoutMs", () => {
    const session = open();
    session.close(1001, "", 1000);
    assert.deepEqual(session.checkTimeout(1499), { type: "none" });
    assert.deepEqual(session.checkTimeout(1500), { type: "close" });
    assert.equal(session.state, "closed");
  });

  it("pings a peer idle for idleTimeoutMs, and closes when it stays silent as long again", () => {
    const session = open(1000);
    assert.deepEqual(session.checkTimeout(999), { type: "none" });
    assert.deepEqual(session.checkTimeout(1000), { type: "ping", bytes: new Uint8Array([0x89, 0]) });
    assert.deepEqual(session.checkTimeout(1999), { type: "none" });
    assert.deepEqual(session.checkTimeout(2000), { type: "close" });
  });

  it("counts anything received as a sign of life", () => {
    const session = open(1000);
    assert.equal(session.checkTimeout(1000).type, "ping");
    session.receive(clientFrame(PONG, ""), 1500);
    assert.equal(session.nextEvent().type, "pong");
    assert.deepEqual(session.checkTimeout(2499), { type: "none" });
    assert.equal(session.checkTimeout(2500).type, "ping");
  });
});

describe("WebSocketSession with permessage-deflate", () => {
  /** Inflating as the glue does, without context takeover (node:zlib's one-shot calls), to maxBytes. */
  function inflate(data: Uint8Array, maxBytes: number): Uint8Array | "too-big" | "corrupt" {
    try {
      return new Uint8Array(
        inflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: maxBytes }),
      );
    } catch (error) {
      return (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ? "too-big" : "corrupt";
    }
  }
  const deflate = { deflate: { threshold: 0, inflate } };
  /** A message compressed as a client would, the 00 00 ff ff tail stripped. */
  const compress = (data: Uint8Array | string) => {
    const out = deflateRawSync(typeof data === "string" ? new TextEncoder().encode(data) : data, {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    assert.deepEqual([...out.subarray(-4)], [0, 0, 0xff, 0xff]);
    return new Uint8Array(out.subarray(0, out.length - 4));
  };

  it("hands out compressed messages with the tail put back, fragmented or not, and plain ones beside them", () => {
    const text = "the quick brown fox jumps over the lazy dog";
    const compressed = compress(text);
    const input = join(
      clientFrame(TEXT, compressed, { rsv: 0x40 }),
      clientFrame(TEXT, "plain"),
      clientFrame(BINARY, compressed.subarray(0, 2), { rsv: 0x40, fin: false }),
      clientFrame(PING, ""),
      clientFrame(CONTINUATION, compressed.subarray(2)),
    );
    assert.deepEqual(everySplitRun(input, deflate).log, [
      { type: "message", binary: false, data: text },
      { type: "message", binary: false, data: "plain" },
      { type: "ping", data: "", reply: "8a00" },
      { type: "message", binary: true, data: hex(new TextEncoder().encode(text)) },
    ]);
  });

  it("gives the bytes to inflate exactly, and refuses to read on before they come back", () => {
    const session = new WebSocketSession({
      now: 0,
      maxMessageBytes: 100,
      maxFrameBytes: 100,
      idleTimeoutMs: 0,
      closeTimeoutMs: 1,
      deflate: { threshold: 0 },
    });
    session.receive(
      join(clientFrame(TEXT, new Uint8Array([1, 2]), { rsv: 0x40 }), clientFrame(TEXT, "next")),
      0,
    );
    const event = session.nextEvent();
    assert.deepEqual(event, {
      type: "inflate",
      binary: false,
      data: new Uint8Array([1, 2, 0, 0, 0xff, 0xff]),
      maxBytes: 100,
    });
    assert.throws(() => session.nextEvent(), LocalProtocolError);
    assert.deepEqual(session.inflated(new TextEncoder().encode("ok")), {
      type: "message",
      binary: false,
      data: new TextEncoder().encode("ok"),
    });
    assert.throws(() => session.inflated(new Uint8Array(0)), LocalProtocolError);
    assert.equal(session.nextEvent().type, "message");
  });

  it("fails a compression bomb with 1009, data that does not inflate with 1007, and inflated text that is not UTF-8 with 1007", () => {
    const bomb = compress(new Uint8Array(1 << 20));
    assert(bomb.length < 2000);
    const big = failure(clientFrame(BINARY, bomb, { rsv: 0x40 }), { ...deflate, maxMessageBytes: 4096 });
    assert(big.type === "error" && big.code === "MESSAGE_TOO_BIG" && big.closeCode === 1009);
    const junk = failure(clientFrame(BINARY, new Uint8Array([0xff, 0xff, 0xff]), { rsv: 0x40 }), deflate);
    assert(junk.type === "error" && junk.code === "BAD_COMPRESSED_DATA" && junk.closeCode === 1007);
    const latin1 = failure(
      clientFrame(TEXT, compress(new Uint8Array([0x63, 0x61, 0x66, 0xe9])), { rsv: 0x40 }),
      deflate,
    );
    assert(latin1.type === "error" && latin1.code === "INVALID_UTF8" && latin1.closeCode === 1007);
  });

  it("fails RSV1 on a continuation frame or a control frame with 1002, even with deflate", () => {
    const continuation = failure(
      join(clientFrame(TEXT, "a", { fin: false }), clientFrame(CONTINUATION, "b", { rsv: 0x40 })),
      deflate,
    );
    assert(continuation.type === "error" && continuation.code === "RESERVED_BITS");
    const ping = failure(clientFrame(PING, "", { rsv: 0x40 }), deflate);
    assert(ping.type === "error" && ping.code === "RESERVED_BITS");
  });

  it("says which messages to compress, and frames deflate output with RSV1 and without its tail", () => {
    const session = new WebSocketSession({
      now: 0,
      maxMessageBytes: 1024,
      maxFrameBytes: 1024,
      idleTimeoutMs: 0,
      closeTimeoutMs: 1,
      deflate: { threshold: 8 },
    });
    assert.deepEqual([session.compresses(7), session.compresses(8)], [false, true]);
    const text = "a long message, a long message, a long message";
    const deflated = deflateRawSync(new TextEncoder().encode(text), { finishFlush: constants.Z_SYNC_FLUSH });
    const frame = join(...session.send(new Uint8Array(deflated), false, true));
    assert.equal(frame[0], 0xc1, "FIN, RSV1, text");
    assert.equal(frame[1], deflated.length - 4);
    const inflated = inflateRawSync(join(frame.subarray(2), new Uint8Array([0, 0, 0xff, 0xff])), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    assert.equal(new TextDecoder().decode(inflated), text);
    const plain = new WebSocketSession({
      now: 0,
      maxMessageBytes: 1,
      maxFrameBytes: 1,
      idleTimeoutMs: 0,
      closeTimeoutMs: 1,
    });
    assert.equal(plain.compresses(1 << 20), false);
    assert.throws(() => plain.send(new Uint8Array(1), true, true), LocalProtocolError);
  });
});
