/**
 * A real browser as the client: headless Chromium (Debian's `/usr/bin/chromium`) driven by
 * playwright-core over its pipe. It renders the Hello World page (and checks its screenshot, which
 * it keeps in memory: the picture in the documentation is made by `deno task screenshot`), and
 * loads a page with 30 subresources over keep-alive connections, loads a page over HTTPS with a wss:
 * echo, and runs a WebSocket echo of 1,000
 * messages from a page. playwright-core runs on Deno,
 * Bun and Node alike.
 */

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { helloHandler } from "../../src/cli/hello.ts";
import { upgradeWebSocket } from "../../src/websocket/upgrade.ts";
import type { NetAddr } from "../../src/transport/transport.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../../scripts/setup.ts";
import { serve } from "../../src/server/serve.ts";
import { Cleanup } from "./_helpers.ts";
import { makeCertificate } from "./_tls.ts";

const IMAGES = 20;
const SCRIPTS = 10;

/** The page with `IMAGES` images and `SCRIPTS` scripts, each at its own URL. */
function manyPage(): string {
  const images = Array.from({ length: IMAGES }, (_, i) => `<img src="/res/img-${i}.svg" alt="${i}">`);
  const scripts = Array.from({ length: SCRIPTS }, (_, i) => `<script src="/res/script-${i}.js"></script>`);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Many resources</title><script>window.ran = [];</script></head>
<body>
${images.join("\n")}
${scripts.join("\n")}
</body>
</html>
`;
}

function resource(path: string): Response | null {
  const image = /^\/res\/img-(\d+)\.svg$/.exec(path);
  if (image) {
    const color = (Number(image[1]) * 0x0a0b0c).toString(16).padStart(6, "0").slice(-6);
    return new Response(
      `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#${color}"/></svg>`,
      { headers: { "content-type": "image/svg+xml" } },
    );
  }
  const script = /^\/res\/script-(\d+)\.js$/.exec(path);
  if (script) {
    return new Response(`window.ran.push(${script[1]});\n`, {
      headers: { "content-type": "text/javascript; charset=utf-8" },
    });
  }
  return null;
}

/**
 * A generous bound for each test, a guard against a hang rather than a speed check: the first
 * launch of a freshly installed Chromium can be slow on a loaded machine.
 */
const BROWSER_TEST = { timeout: 120_000 };

describe("headless Chromium as the client", () => {
  const cleanup = new Cleanup();
  let launched: Promise<Browser> | null = null;

  /**
   * The browser, launched by the first test that needs it: in a test, not in a `before` hook,
   * because Bun gives hooks 5 s whatever their options say, and a first launch may take longer.
   */
  function browser(): Promise<Browser> {
    launched ??= chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], timeout: 100_000 })
      .catch(
        (error) => {
          throw new Error(
            `could not start ${CHROMIUM} (Debian package "chromium"; fonts-liberation for the page's fonts): ${error}`,
          );
        },
      );
    return launched;
  }

  after(async () => {
    await (await launched?.catch(() => null))?.close();
    await cleanup.run();
  });

  test("Chromium renders the Hello World page, and a screenshot of it", BROWSER_TEST, async () => {
    const { origin } = await cleanup.server(helloHandler);
    const context = await (await browser()).newContext({ viewport: { width: 800, height: 400 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${origin}/`);
      assert.equal(response?.status(), 200);
      assert.equal(response?.headers()["content-type"], "text/html; charset=utf-8");
      assert.equal(await page.title(), "Hello World");
      assert.equal(await page.locator("h1").innerText(), "The Hello World! HTML page");
      assert.equal(await page.locator("p").innerText(), "Hello World!");
      assert.equal(await page.locator("p").isVisible(), true);
      assert.equal(await page.evaluate("document.characterSet"), "UTF-8");
      const png = await page.screenshot();
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
    } finally {
      await context.close();
    }
  });

  test(
    "Chromium loads a page and its 30 subresources over a few keep-alive connections",
    BROWSER_TEST,
    async () => {
      let connections = 0;
      const requests: { path: string; connection: string }[] = [];
      const key = (addr: NetAddr) => `${addr.hostname}:${addr.port}`;
      const { origin } = await cleanup.server((request, info) => {
        const path = new URL(request.url).pathname;
        requests.push({ path, connection: key(info.remoteAddr) });
        if (path === "/many") {
          return new Response(manyPage(), { headers: { "content-type": "text/html; charset=utf-8" } });
        }
        return resource(path) ?? new Response("Not Found\n", { status: 404 });
      }, {
        onConnection() {
          connections++;
        },
      });
      const context = await (await browser()).newContext();
      try {
        const page = await context.newPage();
        // `goto` resolves on the load event, once every image and script has loaded (or failed).
        const response = await page.goto(`${origin}/many`);
        assert.equal(response?.status(), 200);
        // (Expressions as strings: the tests are type-checked without the DOM library.)
        const inPage = await page.evaluate<{ images: number; ran: number[] }>(`({
        images: [...document.images].filter((img) => img.complete && img.naturalWidth === 8).length,
        ran: window.ran.slice().sort((a, b) => a - b),
      })`);
        assert.equal(inPage.images, IMAGES, "every image loaded and decoded");
        assert.deepEqual(inPage.ran, Array.from({ length: SCRIPTS }, (_, i) => i), "every script ran");
      } finally {
        await context.close();
      }
      // The server saw the page and each resource once (a favicon request, if any, aside).
      const paths = requests.map((r) => r.path).filter((path) => path !== "/favicon.ico");
      const expected = [
        "/many",
        ...Array.from({ length: IMAGES }, (_, i) => `/res/img-${i}.svg`),
        ...Array.from({ length: SCRIPTS }, (_, i) => `/res/script-${i}.js`),
      ];
      assert.deepEqual(paths.slice().sort(), expected.slice().sort());
      // Keep-alive: 31 requests over at most Chromium's 6 connections per host.
      assert.ok(
        connections >= 1 && connections <= 6,
        `${connections} connections for ${requests.length} requests`,
      );
      const used = new Set(requests.map((r) => r.connection));
      assert.ok(used.size <= connections);
      const most = Math.max(...[...used].map((c) => requests.filter((r) => r.connection === c).length));
      assert.ok(most >= 2, `at most ${most} request per connection`);
    },
  );

  test("Chromium loads the page over HTTPS and echoes over wss:", BROWSER_TEST, async (t) => {
    const certificate = makeCertificate();
    t.after(() => certificate.remove());
    const page =
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>TLS</title></head><body><script>
window.result = new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace("https", "wss") + "/echo");
  ws.onopen = () => ws.send("over TLS");
  ws.onmessage = (event) => { ws.close(1000); resolve({ protocol: location.protocol, echo: event.data }); };
});
</script></body></html>`;
    const server = cleanup.addServer(serve({
      port: 0,
      hostname: "127.0.0.1",
      cert: certificate.cert,
      key: certificate.key,
    }, (request) => {
      if (new URL(request.url).pathname !== "/echo") {
        return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      const { socket, response } = upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    }));
    const { port } = await server.ready;
    // The test authority is not in Chromium's store: certificate errors are ignored for this context.
    const context = await (await browser()).newContext({ ignoreHTTPSErrors: true });
    try {
      const tab = await context.newPage();
      const response = await tab.goto(`https://localhost:${port}/`);
      assert.equal(response?.status(), 200);
      const security = await response?.securityDetails();
      assert.equal(security?.subjectName, "localhost");
      assert.deepEqual(await tab.evaluate("window.result"), { protocol: "https:", echo: "over TLS" });
    } finally {
      await context.close();
    }
  });

  test(
    "Chromium opens a WebSocket, echoes 1,000 messages with permessage-deflate, and closes cleanly",
    BROWSER_TEST,
    async () => {
      const page =
        `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Echo</title></head><body><script>
window.result = new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace("http", "ws") + "/echo");
  const sent = [], got = [];
  ws.onopen = () => { for (let i = 0; i < 1000; i++) { const m = "message " + i + " " + "x".repeat(i % 200); sent.push(m); ws.send(m); } };
  ws.onmessage = (event) => { got.push(event.data); if (got.length === 1000) ws.close(1000, "done"); };
  ws.onclose = (event) => resolve({ same: got.join("|") === sent.join("|"), count: got.length, code: event.code, clean: event.wasClean, extensions: ws.extensions });
});
</script></body></html>`;
      let closed: [number, boolean] | null = null;
      const { origin } = await cleanup.server((request) => {
        if (new URL(request.url).pathname !== "/echo") {
          return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
        }
        const { socket, response } = upgradeWebSocket(request, { compression: { threshold: 64 } });
        socket.onmessage = (event) => socket.send(event.data);
        socket.onclose = (event) => (closed = [event.code, event.wasClean]);
        return response;
      });
      const context = await (await browser()).newContext();
      try {
        const tab = await context.newPage();
        await tab.goto(`${origin}/`);
        const result = await tab.evaluate<
          { same: boolean; count: number; code: number; clean: boolean; extensions: string }
        >(
          "window.result",
        );
        assert.deepEqual(result, {
          same: true,
          count: 1000,
          code: 1000,
          clean: true,
          extensions: result.extensions,
        });
        assert.match(result.extensions, /^permessage-deflate/);
        assert.deepEqual(closed, [1000, true]);
      } finally {
        await context.close();
      }
    },
  );
});
