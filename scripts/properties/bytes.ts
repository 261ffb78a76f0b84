/**
 * Latin-1 byte strings: one byte per character, so that any byte can be written as `\xNN` and
 * shown back as text. Used by the property module (`drive.ts`, `generators.ts`,
 * `properties.ts`) and, through `tests/core/_feed.ts`, by the core tests.
 *
 * @module
 */

/** Latin-1 bytes of a string: one byte per character, so any byte can be written as `\xNN`. */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`not a Latin-1 character at ${i}`);
    out[i] = c;
  }
  return out;
}

/** The Latin-1 string of some bytes. */
export function str(data: Uint8Array): string {
  let text = "";
  for (let i = 0; i < data.length; i++) text += String.fromCharCode(data[i]);
  return text;
}

/** Pairs of a flat `name, value, …` list. */
export function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}
