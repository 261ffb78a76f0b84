/**
 * HTTP dates (RFC 9110 §5.6.7): the three formats a recipient must accept, IMF-fixdate, the
 * obsolete RFC 850 format with its two-digit year, and ANSI C's asctime format, and the one a
 * sender generates (IMF-fixdate). Pure functions: the current time comes in as an argument.
 *
 * @module
 */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const DAY = DAYS.join("|");
const MONTH = MONTHS.join("|");
const TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})";
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), ([0-9]{2}) (${MONTH}) ([0-9]{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC_850 = new RegExp(`^(?:${LONG_DAYS.join("|")}), ([0-9]{2})-(${MONTH})-([0-9]{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space) */
const ASCTIME = new RegExp(`^(?:${DAY}) (${MONTH}) ([0-9]{2}| [0-9]) ${TIME} ([0-9]{4})$`);

/** Fifty years, the RFC 850 two-digit-year horizon of RFC 9110 §5.6.7. */
const FIFTY_YEARS_MS = 50 * 365.2425 * 24 * 60 * 60 * 1000;

/**
 * Parses an HTTP date in any of the three formats of RFC 9110 §5.6.7, strictly: the whole value
 * must be one date (a list of dates, a time zone other than GMT, a day of the month that does not
 * exist or an hour past 23 make it invalid, and an invalid date is to be ignored by the caller).
 * The day name must be one of the seven, but is not checked against the date. A leap second
 * (`:60`) counts as `:59`. An RFC 850 year that would be more than 50 years in the future is read
 * as the most recent year in the past with those two digits, as §5.6.7 requires.
 *
 * @param value The field value (surrounding whitespace is ignored).
 * @param nowMs The current time in milliseconds since the epoch, for RFC 850's two-digit years.
 * @returns The time in milliseconds since the epoch, or `null` for a value that is not an HTTP date.
 *
 * @example The three formats of the same instant
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHttpDate } from "./http_date.ts";
 *
 * const now = Date.UTC(2026, 0, 1);
 * const instant = Date.UTC(1994, 10, 6, 8, 49, 37);
 * assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", now), instant);
 * assert.equal(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now), instant);
 * assert.equal(parseHttpDate("Sun Nov  6 08:49:37 1994", now), instant);
 * assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 UTC", now), null);
 * assert.equal(parseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT", now), null);
 * ```
 */
export function parseHttpDate(value: string, nowMs: number): number | null {
  const text = value.trim();
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) {
    const [, day, month, year, hour, minute, second] = match;
    return utc(Number(year), month, Number(day), hour, minute, second);
  }
  match = ASCTIME.exec(text);
  if (match !== null) {
    const [, month, day, hour, minute, second, year] = match;
    return utc(Number(year), month, Number(day.trim()), hour, minute, second);
  }
  match = RFC_850.exec(text);
  if (match === null) return null;
  const [, day, month, twoDigits, hour, minute, second] = match;
  const century = Math.floor(new Date(nowMs).getUTCFullYear() / 100) * 100;
  // The year with those two digits nearest to now, and never more than 50 years ahead.
  let year = century + Number(twoDigits);
  const candidate = utc(year, month, Number(day), hour, minute, second);
  if (candidate === null) return null;
  if (candidate - nowMs > FIFTY_YEARS_MS) year -= 100;
  else if (nowMs - candidate >= FIFTY_YEARS_MS) year += 100;
  return utc(year, month, Number(day), hour, minute, second);
}

/** The instant of a checked date and time, or `null` when a field is out of its range. */
function utc(
  year: number,
  monthName: string,
  day: number,
  hour: string,
  minute: string,
  second: string,
): number | null {
  const month = MONTHS.indexOf(monthName);
  const [h, m, s] = [Number(hour), Number(minute), Math.min(Number(second), 59)];
  if (h > 23 || m > 59 || Number(second) > 60 || day < 1) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(h, m, s, 0);
  // A day past the end of its month rolls over into the next one: that date does not exist.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month) return null;
  return date.getTime();
}

/**
 * Formats a time as an IMF-fixdate, the one format a sender generates (RFC 9110 §5.6.7), to the
 * second below.
 *
 * @param ms Milliseconds since the epoch.
 * @returns The date, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatHttpDate } from "./http_date.ts";
 *
 * assert.equal(formatHttpDate(Date.UTC(1994, 10, 6, 8, 49, 37, 999)), "Sun, 06 Nov 1994 08:49:37 GMT");
 * ```
 */
export function formatHttpDate(ms: number): string {
  const date = new Date(Math.floor(ms / 1000) * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${
    String(date.getUTCFullYear()).padStart(4, "0")
  } ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} GMT`;
}

/**
 * The Last-Modified time of a file, as RFC 9110 §8.8.2.1 has an origin server state it: to the
 * second (the precision of an HTTP date), and never later than the response's own Date (a
 * modification time in the future, by the server's clock, is replaced by the current time).
 *
 * @param mtimeMs The file's modification time in milliseconds since the epoch.
 * @param nowMs The current time in milliseconds since the epoch.
 * @returns The Last-Modified time in milliseconds, a whole second.
 *
 * @example A time in the future becomes the current time
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastModifiedOf } from "./http_date.ts";
 *
 * assert.equal(lastModifiedOf(1_500, 10_000), 1_000);
 * assert.equal(lastModifiedOf(20_000, 10_400), 10_000);
 * ```
 */
export function lastModifiedOf(mtimeMs: number, nowMs: number): number {
  return Math.floor(Math.min(mtimeMs, nowMs) / 1000) * 1000;
}
