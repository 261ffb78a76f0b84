/**
 * What a handler reads of a request, field for field, on h1serve and on the runtime's own server,
 * for the same raw bytes: `Deno.serve` on Deno, `Bun.serve` on Bun, and on Node `node:http`'s
 * fields (its `rawHeaders`) appended in order to a `Headers`, as Node's Fetch API would hold them.
 * Both handlers answer with the same view of their `Request`: whether `request.headers` is a
 * `Headers`, its entries in iteration order, its keys, `get` and `has` of every name sent and of
 * one not sent, `getSetCookie()`, the method, the URL (port left out), the query as
 * `URLSearchParams` read it, and what a `set` on the headers does (which differs on Deno, by
 * design: see the test).
 */

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { browserRequest } from "./_browser_request.ts";
import { Cleanup, RawClient } from "./_helpers.ts";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(): void },
    handler: (request: Request) => Response,
  ): { addr: { port: number }; shutdown(): Promise<void> };
};
declare const Bun: {
  serve(options: { port: number; hostname: string; fetch(request: Request): Response }): {
    port: number;
    stop(force: boolean): Promise<void>;
  };
};

/** What a handler sees of a request. */
interface RequestView {
  readonly isHeaders: boolean;
  readonly method: string;
  readonly url: string;
  readonly query: [string, string][];
  readonly entries: [string, string][];
  readonly keys: string[];
  readonly got: Record<string, string | null>;
  readonly has: Record<string, boolean>;
  readonly setCookie: string[];
  readonly afterSet: string;
}

/** The view of a request, reading every name of `names` (lowercase and as sent). */
function view(request: Request): RequestView {
  const headers = request.headers;
  const names = [...new Set([...headers.keys(), "x-not-sent", "ACCEPT", "Cookie", "cookie"])];
  const url = new URL(request.url);
  let afterSet: string;
  try {
    headers.set("x-probe", "1");
    afterSet = `set: ${headers.get("x-probe")}`;
  } catch (error) {
    afterSet = `threw ${(error as Error).name}`;
  }
  return {
    isHeaders: headers instanceof Headers,
    method: request.method,
    url: request.url.replace(`:${url.port}/`, ":PORT/"),
    query: [...url.searchParams],
    entries: [...headers].filter(([name]) => name !== "x-probe"),
    keys: [...headers.keys()].filter((name) => name !== "x-probe"),
    got: Object.fromEntries(names.map((name) => [name, headers.get(name)])),
    has: Object.fromEntries(names.map((name) => [name, headers.has(name)])),
    setCookie: headers.getSetCookie(),
    afterSet,
  };
}

const answer = (request: Request) => Response.json(view(request));

/** The runtime's own server with the same handler: its port, and how to stop it. */
async function startOwnServer(): Promise<{ name: string; port: number; stop(): Promise<void> }> {
  const hostname = "127.0.0.1";
  if ("Deno" in globalThis) {
    const server = Deno.serve({ port: 0, hostname, onListen() {} }, answer);
    return { name: "Deno.serve", port: server.addr.port, stop: () => server.shutdown() };
  }
  if ("Bun" in globalThis) {
    const server = Bun.serve({ port: 0, hostname, fetch: answer });
    return { name: "Bun.serve", port: server.port, stop: () => server.stop(true) };
  }
  // node:http: its fields as received, appended in order to a Headers, and the URL from Host.
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers });
    const response = answer(request);
    res.writeHead(response.status, { "content-type": "application/json" });
    res.end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, hostname, resolve));
  return {
    name: "node:http",
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The raw requests: each is sent byte for byte to both servers. */
const REQUESTS: Record<string, string> = {
  "a browser's API request (14 fields)": browserRequest(),
  "a browser's request for the root": browserRequest("/"),
  "repeated fields: Accept, Cookie, X-Forwarded-For, Set-Cookie": "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
    "Accept: text/html\r\nCookie: a=1\r\nX-Forwarded-For: 10.0.0.1\r\nAccept: application/json\r\n" +
    "Set-Cookie: s=1; Path=/\r\nCookie: b=2\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nSet-Cookie: t=2\r\n\r\n",
  "names in mixed case, values with spaces and tabs around and inside, an empty value":
    "GET /s HTTP/1.1\r\nhOsT: 127.0.0.1\r\nX-Padded:   a  b \t\r\nX-TAB:\tc\td\r\nx-empty:\r\nX-Empty-Spaced:   \r\n" +
    "CONTENT-TYPE: text/plain\r\n\r\n",
  "many fields (60), in an order that is not sorted": "GET /many HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
    Array.from({ length: 59 }, (_, i) => `X-Field-${(i * 37) % 59}: value ${i}\r\n`).join("") + "\r\n",
  "a query with percent-encoding, plus signs, an empty value and a repeated name":
    "GET /caf%C3%A9/a%20b?q=a+b&x=%20y&empty=&q=2&flag HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "a DELETE with a body, and a field with a bare value of punctuation":
    'DELETE /items/7 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nIf-Match: "x", W/"y"\r\n' +
    "X-Odd: !#$%&'*+-.^_`|~:;,\r\n\r\nhi",
};

describe("a handler reads the same request on h1serve and on the runtime's own server", () => {
  const cleanup = new Cleanup();
  let h1servePort = 0;
  let own: { name: string; port: number; stop(): Promise<void> };

  before(async () => {
    // Uncompressed, as the runtimes' own servers answer: this test is about what the handler reads.
    h1servePort = (await cleanup.server(answer, { compression: false })).port;
    own = await startOwnServer();
  });
  after(async () => {
    await cleanup.run();
    await own.stop();
  });

  for (const [name, raw] of Object.entries(REQUESTS)) {
    it(name, async () => {
      const [mine, theirs] = await Promise.all([viewAt(h1servePort, raw), viewAt(own.port, raw)]);
      assert.equal(mine.isHeaders, true, "request.headers is a Headers");
      assert.ok(mine.entries.length > 0, "the view holds the fields");
      // h1serve's headers are a Headers of its own making, which a handler may change, as on
      // Bun.serve and in Node's Fetch API; Deno.serve's are immutable (a set throws a TypeError),
      // which no Headers made by a constructor can be.
      assert.equal(mine.afterSet, "set: 1");
      // Repeated Cookie fields are joined with "; " (RFC 9113's rule for HTTP/2's split cookies, and
      // what Node's and Bun's Headers and Deno.serve do), every other field with ", ".
      const cookies = [...raw.matchAll(/\r\ncookie: ([^\r]*)/gi)].map((match) => match[1]);
      assert.equal(mine.got.cookie, cookies.length === 0 ? null : cookies.join("; "));
      if (own.name === "Deno.serve") {
        assert.equal(theirs.afterSet, "threw TypeError");
        assert.deepEqual(
          { ...mine, afterSet: "" },
          { ...theirs, afterSet: "" },
          "h1serve and Deno.serve differ",
        );
      } else {
        assert.deepEqual(mine, theirs, `h1serve and ${own.name} differ`);
      }
    });
  }
});

/** Sends raw request bytes on a new connection and returns the view the handler answered with. */
async function viewAt(port: number, raw: string): Promise<RequestView> {
  const client = await RawClient.connect(port);
  try {
    await client.write(new Uint8Array(Array.from(raw, (char) => char.charCodeAt(0))));
    const response = await client.response();
    assert.equal(response.status, 200, `${response.statusLine}: ${response.text()}`);
    return JSON.parse(response.text()) as RequestView;
  } finally {
    client.destroy();
  }
}
