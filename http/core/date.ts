/**
 * HTTP dates (RFC 9110 §5.6.7): IMF-fixdate formatting, and parsing of
 * IMF-fixdate plus the two obsolete forms (RFC 850 and ANSI C asctime).
 *
 * @example
 * ```ts
 * import { formatHTTPDate, parseHTTPDate } from "./date.ts";
 * console.log(formatHTTPDate(784111777000)); // "Sun, 06 Nov 1994 08:49:37 GMT"
 * console.log(parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT")); // 784111777000
 * ```
 *
 * @module
 */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Formats a time (a `Date` or milliseconds since the epoch) as IMF-fixdate.
 *
 * @throws RangeError for an invalid date or a year outside 0–9999.
 * @example
 * ```ts
 * import { formatHTTPDate } from "./date.ts";
 * console.log(formatHTTPDate(new Date(0))); // "Thu, 01 Jan 1970 00:00:00 GMT"
 * ```
 */
export function formatHTTPDate(time: Date | number): string {
  const d = typeof time === "number" ? new Date(time) : time;
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError("Invalid date");
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`Year ${year} cannot be written in an HTTP date`);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${
    String(year).padStart(4, "0")
  } ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

const IMF = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
const RFC850 = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/;
const ASCTIME = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$/;

function build(
  dayName: number,
  day: number,
  monthName: string,
  year: number,
  h: number,
  m: number,
  s: number,
): number | null {
  const month = MONTHS.indexOf(monthName);
  if (month < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  const d = new Date(0);
  d.setUTCFullYear(year, month, day); // Date.UTC would map years 0-99 to 1900-1999
  d.setUTCHours(h, m, s === 60 ? 59 : s, 0);
  const t = d.getTime();
  // The date must exist (no 31 Feb) and the weekday must match.
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month) return null;
  if (d.getUTCDay() !== dayName) return null;
  return s === 60 ? t + 1000 : t;
}

/**
 * Parses an HTTP date in any of the three forms RFC 9110 §5.6.7 requires a
 * recipient to accept. Returns milliseconds since the epoch, or null when
 * the text is not a valid date (wrong weekday, impossible day, other
 * format). A two-digit RFC 850 year more than 50 years in the future is
 * taken to be in the past, as the RFC says.
 *
 * @example
 * ```ts
 * import { parseHTTPDate } from "./date.ts";
 * console.log(parseHTTPDate("Sun Nov  6 08:49:37 1994")); // 784111777000
 * console.log(parseHTTPDate("yesterday")); // null
 * ```
 */
export function parseHTTPDate(text: string, now: number = Date.now()): number | null {
  let m = IMF.exec(text);
  if (m) {
    return build(DAYS.indexOf(m[1]!), Number(m[2]), m[3]!, Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = RFC850.exec(text);
  if (m) {
    const currentYear = new Date(now).getUTCFullYear();
    let year = Math.floor(currentYear / 100) * 100 + Number(m[4]);
    if (year > currentYear + 50) year -= 100;
    return build(LONG_DAYS.indexOf(m[1]!), Number(m[2]), m[3]!, year, Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = ASCTIME.exec(text);
  if (m) {
    return build(DAYS.indexOf(m[1]!), Number(m[3]!.trim()), m[2]!, Number(m[7]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  return null;
}
