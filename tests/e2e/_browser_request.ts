/**
 * The request of the `api` and `hono` benchmark scenarios and of the field-for-field tests: what a
 * browser's `fetch("/api/users/42?fields=name,email")` from a page of the same origin sends, with
 * the 14 header fields a current Chromium sends (Host, Connection, the three client hints,
 * User-Agent, Accept, the three Sec-Fetch fields, Referer, Accept-Encoding, Accept-Language and a
 * session's cookies), about 900 bytes.
 *
 * This file is not a test file (its name does not end in `_test.ts`).
 *
 * @module
 */

/** The request target of the api request. */
export const API_TARGET = "/api/users/42?fields=name,email";

/** The api request's header fields, in the order a browser sends them. */
export const BROWSER_FIELDS: readonly (readonly [string, string])[] = [
  ["Host", "127.0.0.1"],
  ["Connection", "keep-alive"],
  ["sec-ch-ua", '"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"'],
  ["sec-ch-ua-mobile", "?0"],
  ["sec-ch-ua-platform", '"Linux"'],
  [
    "User-Agent",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
  ],
  ["Accept", "application/json, text/plain, */*"],
  ["Sec-Fetch-Site", "same-origin"],
  ["Sec-Fetch-Mode", "cors"],
  ["Sec-Fetch-Dest", "empty"],
  ["Referer", "http://127.0.0.1/app/users?page=2&sort=name"],
  ["Accept-Encoding", "gzip, deflate, br, zstd"],
  ["Accept-Language", "en-US,en;q=0.9,de-DE;q=0.8,de;q=0.7,fr;q=0.6"],
  [
    "Cookie",
    "session=4f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d; theme=dark; lang=en-US; " +
    "_ga=GA1.1.1234567890.1764806400; _ga_ABCDEF1234=GS1.1.1764806400.3.1.1764806500.0.0.0; " +
    "consent=analytics%3Dtrue%26ads%3Dfalse; recently_viewed=42%2C17%2C256%2C1024%2C7; csrftoken=Zx81pQ2vLm",
  ],
];

/**
 * The api request as bytes on the wire: `GET` of {@link API_TARGET} with {@link BROWSER_FIELDS}.
 * @param target The request target (the api request's by default).
 * @returns The request head.
 */
export function browserRequest(target: string = API_TARGET): string {
  return `GET ${target} HTTP/1.1\r\n${
    BROWSER_FIELDS.map(([name, value]) => `${name}: ${value}\r\n`).join("")
  }\r\n`;
}
