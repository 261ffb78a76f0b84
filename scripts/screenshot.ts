/**
 * `deno task screenshot`: renders the Hello World page in headless Chromium and saves the picture
 * the documentation shows, `docs/hello-world.png`. A generated asset: the test suite renders the
 * page too, but writes nothing into the tree. It installs what it needs first (the pinned
 * toolchain, and Debian's Chromium when missing).
 *
 * @module
 */

import { CHROMIUM, CHROMIUM_ARGS, ensureSystemTools, ensureToolchain } from "./setup.ts";

const target = decodeURIComponent(new URL("../docs/hello-world.png", import.meta.url).pathname);

await ensureToolchain();
await ensureSystemTools([["chromium", CHROMIUM]], "the screenshot");
const { chromium } = await import("playwright-core");
const { helloHandler, serve } = await import("../mod.ts");

const server = serve({ port: 0, hostname: "127.0.0.1", replaceGlobalResponse: false }, helloHandler);
const { port } = await server.ready;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_ARGS],
  timeout: 120_000,
});
try {
  const page = await browser.newPage({ viewport: { width: 800, height: 400 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.screenshot({ path: target });
  console.log(`saved ${target.slice(target.lastIndexOf("/docs/") + 1)}`);
} finally {
  await browser.close();
  await server.shutdown();
}
