/**
 * The Hello World page of the classroom server, and the handler that serves it.
 *
 * @module
 */

import { upgradeWebSocket } from "../websocket/upgrade.ts";

/**
 * The page: title "Hello World", heading "The Hello World! HTML page", paragraph "Hello World!".
 *
 * @example The page served at /
 * ```ts
 * import assert from "node:assert/strict";
 * import { HELLO_HTML, helloHandler } from "./hello.ts";
 *
 * assert.match(HELLO_HTML, /<title>Hello World<\/title>/);
 * assert.equal(await helloHandler(new Request("http://localhost/index.html")).text(), HELLO_HTML);
 * ```
 */
export const HELLO_HTML: string = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hello World</title>
</head>
<body>
<h1>The Hello World! HTML page</h1>
<p>Hello World!</p>
</body>
</html>
`;

/**
 * Serves {@link HELLO_HTML} at `/` and `/index.html` for GET and HEAD, and a WebSocket echo at
 * `/echo` (a request that asks for a WebSocket there gets one: every message comes back); 404 for
 * other paths and 405 for other methods.
 *
 * @param request The request.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helloHandler } from "./hello.ts";
 *
 * const response = helloHandler(new Request("http://localhost/"));
 * assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
 * assert.match(await response.text(), /<p>Hello World!<\/p>/);
 * assert.equal(helloHandler(new Request("http://localhost/nope")).status, 404);
 * ```
 */
export function helloHandler(request: Request): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method Not Allowed\n", {
      status: 405,
      headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
    });
  }
  const path = new URL(request.url).pathname;
  if (path === "/echo" && request.headers.get("upgrade")?.toLowerCase() === "websocket") return echo(request);
  if (path !== "/" && path !== "/index.html") {
    return new Response("Not Found\n", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(HELLO_HTML, { headers: { "content-type": "text/html; charset=utf-8" } });
}

/** The WebSocket echo of `/echo`: text comes back as text, binary as binary. */
function echo(request: Request): Response {
  const { socket, response } = upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
}
