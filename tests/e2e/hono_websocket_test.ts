/**
 * Hono's WebSocket routes on h1serve, through `h1serve/hono`'s `upgradeWebSocket`: a chat route
 * where what one client sends reaches every other client, and a plain GET on the same path that
 * goes on to the next handler.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type Context, Hono } from "hono";
import { upgradeWebSocket, type WSContext } from "../../src/hono.ts";
import { Cleanup, within } from "./_helpers.ts";

const cleanup = new Cleanup();
after(() => cleanup.run());

function chatApp(): Hono {
  const room = new Set<WSContext>();
  const app = new Hono();
  app.get(
    "/chat",
    upgradeWebSocket((c: Context) => {
      const name = c.req.query("name") ?? "anonymous";
      return {
        onOpen: (_event, ws) => void room.add(ws),
        onMessage: (event, ws) => {
          for (const peer of room) if (peer !== ws) peer.send(`${name}: ${event.data}`);
        },
        onClose: (_event, ws) => void room.delete(ws),
      };
    }),
    (c) => c.text("send Upgrade: websocket to chat", 426),
  );
  return app;
}

/** Opens a client and collects what it receives. */
async function join(
  port: number,
  name: string,
): Promise<{ ws: WebSocket; received: string[]; next(): Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat?name=${name}`, ["chat"]);
  const received: string[] = [];
  let waiter: ((text: string) => void) | null = null;
  ws.onmessage = (event) => {
    received.push(String(event.data));
    waiter?.(String(event.data));
    waiter = null;
  };
  await within(
    new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject))),
    5000,
    `${name} to join`,
  );
  return { ws, received, next: () => new Promise((resolve) => (waiter = resolve)) };
}

test("a Hono chat route on h1serve: a message reaches every other client, and a plain GET goes on to the next handler", async () => {
  const { port, origin } = await cleanup.server(chatApp().fetch);
  const ann = await join(port, "ann");
  const bob = await join(port, "bob");
  const cy = await join(port, "cy");
  assert.equal(ann.ws.protocol, "chat", "Hono's helper chooses the client's first subprotocol");
  const toBob = bob.next(), toCy = cy.next();
  ann.ws.send("hello");
  assert.deepEqual(await within(Promise.all([toBob, toCy]), 5000, "the message to reach bob and cy"), [
    "ann: hello",
    "ann: hello",
  ]);
  const toAnn = ann.next();
  cy.ws.send("hi ann");
  assert.equal(await within(toAnn, 5000, "cy's message"), "cy: hi ann");
  assert.deepEqual(cy.received, ["ann: hello"], "a sender does not get its own message");
  const plain = await fetch(`${origin}/chat`);
  assert.deepEqual([plain.status, await plain.text()], [426, "send Upgrade: websocket to chat"]);
  for (const client of [ann, bob, cy]) client.ws.close();
});
