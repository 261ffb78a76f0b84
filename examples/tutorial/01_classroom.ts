/**
 * Step 1 of docs/TUTORIAL.md: the classroom program. A listening TCP socket, an accept loop that
 * prints who connected and what they sent, and a Hello World page for everyone. It runs as it is on
 * Deno, Bun and Node (all three have `node:net`):
 *
 *   deno run --allow-net examples/tutorial/01_classroom.ts [port]
 *   bun run examples/tutorial/01_classroom.ts [port]
 *   node examples/tutorial/01_classroom.ts [port]
 *
 * It is a lesson, not a server: step 2 shows how it breaks.
 */

import { createServer, type Socket } from "node:net";
import process from "node:process";

const PAGE = `<!DOCTYPE html>
<html><head><title>Hello World</title></head>
<body><h1>The Hello World! HTML page</h1><p>Hello World!</p></body></html>
`;

const port = Number(process.argv[2] ?? 8000);

// A TCP stream socket. node:net sets SO_REUSEADDR on it before bind (every runtime here does): a
// server that restarts can bind its port again at once, while connections of the old one still
// wait out TIME_WAIT. It does not let two servers share a port: that is SO_REUSEPORT.
const server = createServer((socket: Socket) => {
  // The accept loop's body: one connection.
  console.log(`GOT a connection from ${socket.remoteAddress}:${socket.remotePort}`);
  socket.once("data", (bytes: Uint8Array) => {
    // One read, printed as it came. (Step 2: a request may need several reads, or one read may
    // hold two requests.)
    console.log(`it sent ${bytes.byteLength} bytes:\n${new TextDecoder().decode(bytes)}`);
    const body = new TextEncoder().encode(PAGE);
    socket.end(
      `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${body.byteLength}\r\n` +
        `Connection: close\r\n\r\n${PAGE}`,
    );
  });
  socket.on("error", () => socket.destroy());
});

// Bind and listen; say clearly when the port is taken.
server.on("error", (error: Error & { code?: string }) => {
  if (error.code === "EADDRINUSE") {
    console.error(`port ${port} is already in use: stop the other server, or pass another port`);
  } else console.error(`cannot listen on port ${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(
    `listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`,
  );
});
