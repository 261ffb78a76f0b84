/**
 * The listing page of serveDir in a real browser: headless Chromium (Debian's `/usr/bin/chromium`)
 * driven by playwright-core, as tests/e2e/browser_test.ts drives it. The page renders with its
 * table and headings, names with HTML in them show as text, and every link, followed by a click,
 * loads what it names (a file, a subfolder's listing, the parent folder).
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../../scripts/setup.ts";
import { serveDir } from "../../src/static/serve_dir.ts";
import { Cleanup } from "../e2e/_helpers.ts";

describe("the listing page in headless Chromium", () => {
  const cleanup = new Cleanup();
  let browser: Browser | null = null;
  const folder = mkdtempSync(join(tmpdir(), "h1serve-listing-"));

  after(async () => {
    await browser?.close();
    await cleanup.run();
    rmSync(folder, { recursive: true, force: true });
  });

  test("renders the table and every link loads what it names", { timeout: 120_000 }, async () => {
    writeFileSync(join(folder, "<em>bold & 'co'.txt"), "escaped name");
    writeFileSync(join(folder, "100% café.txt"), "encoded name");
    mkdirSync(join(folder, "sub folder"));
    writeFileSync(join(folder, "sub folder", "inner.txt"), "inner");
    const { origin } = await cleanup.server((request) => serveDir(request, { root: folder, listing: true }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], timeout: 100_000 });
    const page = await browser.newPage();
    const response = await page.goto(`${origin}/`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "Index of /");
    assert.equal(await page.locator("html").getAttribute("lang"), "en");
    assert.deepEqual(await page.locator("th[scope=col]").allInnerTexts(), [
      "Name",
      "Size",
      "Last modified (UTC)",
    ]);
    const names = await page.locator("tbody a").allInnerTexts();
    assert.deepEqual(names, ["sub folder/", "100% café.txt", "<em>bold & 'co'.txt"]);
    assert.equal(await page.locator("tbody em").count(), 0, "a name's HTML is text, not markup");
    const expected: Record<string, string> = {
      "100% café.txt": "encoded name",
      "<em>bold & 'co'.txt": "escaped name",
    };
    for (const name of names) {
      await page.goto(`${origin}/`);
      const [loaded] = await Promise.all([
        page.waitForNavigation(),
        page.getByRole("link", { name }).click(),
      ]);
      assert.equal(loaded?.status(), 200, name);
      if (name.endsWith("/")) {
        assert.equal(await page.title(), `Index of /${name}`);
        await page.getByRole("link", { name: "../" }).click();
        assert.equal(await page.title(), "Index of /");
      } else {
        assert.equal(await page.locator("body").innerText(), expected[name]);
      }
    }
  });
});
