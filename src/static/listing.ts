/**
 * The directory listing page of `serveDir({ listing: true })`: a plain, accessible HTML table of
 * a folder's entries (name, size, last modified), every name HTML-escaped and every link
 * percent-encoded. A pure function: the entries come in, the page goes out.
 *
 * @module
 */

/** One entry of a listed folder. */
export interface ListingEntry {
  /** The entry's name, as the file system has it. */
  readonly name: string;
  /** Whether it is a folder (its link ends with `/`). */
  readonly directory: boolean;
  /** Its size in bytes (not shown for folders). */
  readonly size: number;
  /** Its modification time in milliseconds since the epoch. */
  readonly modifiedMs: number;
}

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @param text The text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` as character references.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./listing.ts";
 *
 * assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * A size as people read it: bytes below 1 KiB, then KiB, MiB, GiB with one decimal.
 *
 * @param bytes The size.
 * @returns The text, such as `1.5 KiB`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readableSize } from "./listing.ts";
 *
 * assert.equal(readableSize(512), "512 B");
 * assert.equal(readableSize(1536), "1.5 KiB");
 * assert.equal(readableSize(64 * 1024 * 1024), "64.0 MiB");
 * ```
 */
export function readableSize(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const STYLE = `
:root { color-scheme: light dark; --line: #d0d7de; --muted: #57606a; --link: #0969da; }
@media (prefers-color-scheme: dark) { :root { --line: #30363d; --muted: #8b949e; --link: #58a6ff; } }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; margin: 0; }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; font-weight: 600; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; color: var(--muted); padding-bottom: .5rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; }
td:nth-child(2), th:nth-child(2) { text-align: right; white-space: nowrap; }
td:nth-child(3) { white-space: nowrap; color: var(--muted); }
td:first-child { overflow-wrap: anywhere; }
a { color: var(--link); text-decoration: none; }
a:hover, a:focus-visible { text-decoration: underline; }
footer { color: var(--muted); font-size: .85rem; margin-top: 1rem; }`;

/**
 * Renders the listing page of a folder: folders first, then files, each group by name (code-point
 * order, the same on every runtime); a link to the parent folder unless this is the root.
 *
 * @param path The folder's URL path, decoded, with its trailing slash (shown as the title).
 * @param entries The entries to list (hidden ones already left out).
 * @returns The page, UTF-8 HTML.
 *
 * @example Names are escaped in the text and percent-encoded in the links
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderListing } from "./listing.ts";
 *
 * const page = renderListing("/docs/", [{ name: "<b>&.txt", directory: false, size: 5, modifiedMs: 0 }]);
 * assert.match(page, /<title>Index of \/docs\/<\/title>/);
 * assert.match(page, /<a href="%3Cb%3E%26.txt">&lt;b&gt;&amp;.txt<\/a>/);
 * assert.match(page, /<a href="..\/">/);
 * ```
 */
export function renderListing(path: string, entries: readonly ListingEntry[]): string {
  const sorted = entries.slice().sort((a, b) =>
    a.directory !== b.directory ? (a.directory ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  const rows = sorted.map((entry) => {
    const slash = entry.directory ? "/" : "";
    const href = escapeHtml(encodeURIComponent(entry.name) + slash);
    const iso = new Date(entry.modifiedMs).toISOString();
    const size = entry.directory
      ? `<span aria-label="folder">—</span>`
      : `<span title="${entry.size} bytes">${readableSize(entry.size)}</span>`;
    return `<tr><td><a href="${href}">${escapeHtml(entry.name)}${slash}</a></td><td>${size}</td>` +
      `<td><time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")}</time></td></tr>`;
  });
  if (path !== "/") {
    rows.unshift(
      `<tr><td><a href="../">../</a> <span class="visually-hidden">(parent folder)</span></td><td></td><td></td></tr>`,
    );
  }
  const count = entries.length === 1 ? "1 entry" : `${entries.length} entries`;
  const title = escapeHtml(`Index of ${path}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
</style>
</head>
<body>
<main>
<h1>${title}</h1>
<table>
<caption>${count}${entries.length === 0 ? ": this folder is empty" : ""}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Last modified (UTC)</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
<footer>Served by h1serve</footer>
</main>
</body>
</html>
`;
}
