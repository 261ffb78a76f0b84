/**
 * The WHATWG-style socket's own event registry, without a connection: listeners by type (the four
 * of a WebSocket and any other), `once`, removal, the `on…` handlers, and what a dispatch calls.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ServerWebSocket } from "../../src/websocket/socket.ts";

describe("ServerWebSocket listeners", () => {
  test("calls the listeners of an event's type in order, for the four types and any other", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    for (const type of ["open", "message", "error", "close", "custom"]) {
      socket.addEventListener(type, () => calls.push(`${type} 1`));
      socket.addEventListener(type, { handleEvent: () => calls.push(`${type} 2`) });
    }
    for (const type of ["close", "custom", "open", "other"]) socket.dispatchEvent(new Event(type));
    assert.deepEqual(calls, ["close 1", "close 2", "custom 1", "custom 2", "open 1", "open 2"]);
  });

  test("a listener is added once, removed by the same function, and `once` runs one time", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    const listener = () => calls.push("kept");
    socket.addEventListener("custom", listener);
    socket.addEventListener("custom", listener);
    socket.addEventListener("custom", () => calls.push("once"), { once: true });
    socket.dispatchEvent(new Event("custom"));
    socket.dispatchEvent(new Event("custom"));
    socket.removeEventListener("custom", listener);
    socket.dispatchEvent(new Event("custom"));
    assert.deepEqual(calls, ["kept", "once", "kept"]);
  });

  test("an on… handler replaces the one before it, and null removes it", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    socket.onmessage = () => calls.push("first");
    socket.onmessage = () => calls.push("second");
    socket.dispatchEvent(new Event("message"));
    socket.onmessage = null;
    socket.dispatchEvent(new Event("message"));
    assert.deepEqual(calls, ["second"]);
    assert.equal(socket.onmessage, null);
  });

  test("a listener added during a dispatch is not called by that dispatch", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    socket.addEventListener("message", () => {
      calls.push("first");
      socket.addEventListener("message", () => calls.push("added"));
    });
    socket.dispatchEvent(new Event("message"));
    assert.deepEqual(calls, ["first"]);
    socket.dispatchEvent(new Event("message"));
    assert.deepEqual(calls, ["first", "first", "added"]);
  });

  test("an on… handler keeps its place among the listeners while changed, and takes the last after null", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    socket.addEventListener("message", () => calls.push("before"));
    socket.onmessage = () => calls.push("first handler");
    socket.addEventListener("message", () => calls.push("after"));
    socket.onmessage = () => calls.push("second handler");
    socket.dispatchEvent(new Event("message"));
    assert.deepEqual(calls.splice(0), ["before", "second handler", "after"]);
    socket.onmessage = null;
    socket.onmessage = () => calls.push("third handler");
    socket.dispatchEvent(new Event("message"));
    assert.deepEqual(calls, ["before", "after", "third handler"]);
  });

  test("a listener removed during a dispatch is not called by it", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    const later = () => calls.push("later");
    socket.addEventListener("close", () => {
      calls.push("first");
      socket.removeEventListener("close", later);
    });
    socket.addEventListener("close", later);
    socket.dispatchEvent(new Event("close"));
    assert.deepEqual(calls, ["first"]);
  });

  test("a function listening once is not added again while listed, and its removal leaves none", () => {
    const socket = new ServerWebSocket("ws://a/");
    const calls: string[] = [];
    const listener = () => calls.push("called");
    socket.addEventListener("open", listener, { once: true });
    socket.addEventListener("open", listener);
    socket.dispatchEvent(new Event("open"));
    socket.dispatchEvent(new Event("open"));
    assert.deepEqual(calls, ["called"]);
    socket.addEventListener("open", listener);
    socket.removeEventListener("open", listener);
    socket.dispatchEvent(new Event("open"));
    assert.deepEqual(calls, ["called"]);
  });
});
