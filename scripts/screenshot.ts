/**
 * `deno task screenshot`: renders the Hello World page and a directory listing page of `serveDir`
 * in headless Chromium and saves the pictures the documentation shows, `docs/hello-world.png` and
 * `docs/listing.png`. Generated assets: the test suite renders the pages too, but writes nothing
 * into the tree. It installs what it needs first (the pinned
 * toolchain, and Debian's Chromium when missing).
 *
 * @module
 */

import { CHROMIUM, CHROMIUM_ARGS, ensureSystemTools, ensureToolchain } from "./setup.ts";

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const target = decodeURIComponent(new URL("../docs/hello-world.png", import.meta.url).pathname);
const listingTarget = decodeURIComponent(new URL("../docs/listing.png", import.meta.url).pathname);

await ensureToolchain();
await ensureSystemTools([["chromium", CHROMIUM]], "the screenshot");
const { chromium } = await import("playwright-core");
const { helloHandler, serve } = await import("../mod.ts");
const { serveDir } = await import("../src/static/serve_dir.ts");

const server = serve({ port: 0, hostname: "127.0.0.1", replaceGlobalResponse: false }, helloHandler);
const { port } = await server.ready;
// A folder of example files with fixed dates, so that the picture is the same on every run.
const folder = mkdtempSync(join(tmpdir(), "h1serve-listing-"));
const examples: Record<string, number> = {
  "css/": 0,
  "images/": 0,
  "index & notes <draft>.md": 2_345,
  "report 2026.pdf": 1_572_864,
  "app.js": 18_230,
  "app.js.gz": 5_120,
  "video.mp4": 73_400_320,
};
for (const [name, size] of Object.entries(examples)) {
  const path = join(folder, name);
  if (name.endsWith("/")) mkdirSync(path);
  else writeFileSync(path, new Uint8Array(size));
  utimesSync(path, new Date(Date.UTC(2026, 10, 24, 9, 30)), new Date(Date.UTC(2026, 10, 24, 9, 30)));
}
const listing = serve(
  { port: 0, hostname: "127.0.0.1", replaceGlobalResponse: false },
  (request) => serveDir(request, { root: folder, listing: true }),
);
const listingPort = (await listing.ready).port;
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
  const listingPage = await browser.newPage({ viewport: { width: 900, height: 480 } });
  await listingPage.goto(`http://127.0.0.1:${listingPort}/`);
  await listingPage.screenshot({ path: listingTarget });
  console.log(`saved ${listingTarget.slice(listingTarget.lastIndexOf("/docs/") + 1)}`);
} finally {
  await browser.close();
  await server.shutdown();
  await listing.shutdown();
  rmSync(folder, { recursive: true, force: true });
}
