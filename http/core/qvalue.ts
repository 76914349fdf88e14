/**
 * Weighted lists (RFC 9110 §12.4.2, §12.5): `Accept`, `Accept-Encoding`,
 * `Accept-Language`, `TE` values with `q` weights, parsed and ordered by
 * preference.
 *
 * @example
 * ```ts
 * import { parseQList } from "./qvalue.ts";
 * console.log(parseQList("gzip;q=0.5, br, *;q=0").map((e) => [e.value, e.q]));
 * // [["br", 1], ["gzip", 0.5], ["*", 0]]
 * ```
 *
 * @module
 */
import { parseParameters } from "./media_type.ts";

/** One element of a weighted list. */
export interface QListEntry {
  /** The element without its parameters (a media range, coding, language tag). */
  value: string;
  /** The weight, 0–1 (1 when absent). */
  q: number;
  /** Parameters other than `q`, names lower-cased. */
  params: Map<string, string>;
}

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * Parses a q-value (`0`, `0.5`, `1.000`; at most three decimals), or returns
 * null when it is malformed.
 *
 * @example
 * ```ts
 * import { parseQValue } from "./qvalue.ts";
 * console.log(parseQValue("0.8"), parseQValue("1.5")); // 0.8 null
 * ```
 */
export function parseQValue(text: string): number | null {
  return QVALUE.test(text) ? Number(text) : null;
}

/**
 * Parses a comma-separated weighted list, sorted by descending q (stable:
 * ties keep their order). Malformed elements are skipped, as a recipient
 * should; empty elements are ignored (RFC 9110 §5.6.1).
 *
 * @example
 * ```ts
 * import { parseQList } from "./qvalue.ts";
 * console.log(parseQList("en-US, fr;q=0.7")[1]?.value); // "fr"
 * ```
 */
export function parseQList(text: string): QListEntry[] {
  const out: QListEntry[] = [];
  for (const part of splitList(text)) {
    const semi = part.indexOf(";");
    const value = (semi === -1 ? part : part.slice(0, semi)).trim();
    if (value === "" || /[\s"]/.test(value)) continue;
    const params = semi === -1 ? new Map<string, string>() : parseParameters(part.slice(semi));
    if (params === null) continue;
    let q = 1;
    const qText = params.get("q");
    if (qText !== undefined) {
      const parsed = parseQValue(qText);
      if (parsed === null) continue;
      q = parsed;
      params.delete("q");
    }
    out.push({ value, q, params });
  }
  return out.map((e, i) => [e, i] as const).sort((a, b) => b[0].q - a[0].q || a[1] - b[1]).map(([e]) => e);
}

/**
 * Splits a list field value on commas that are outside quoted strings.
 *
 * @example
 * ```ts
 * import { splitList } from "./qvalue.ts";
 * console.log(splitList('a, "b,c", d')); // ["a", '"b,c"', "d"]
 * ```
 */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x2c) {
      const item = text.slice(start, i).trim();
      if (item !== "") out.push(item);
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== "") out.push(last);
  return out;
}

/**
 * Picks the best of `available` for a weighted list (exact match first, then
 * `*`); returns null when none is acceptable (q = 0 or absent without `*`).
 *
 * @example
 * ```ts
 * import { negotiate } from "./qvalue.ts";
 * console.log(negotiate("gzip;q=0.5, br", ["gzip", "br"])); // "br"
 * ```
 */
export function negotiate(header: string, available: readonly string[]): string | null {
  const list = parseQList(header);
  let best: string | null = null;
  let bestQ = 0;
  for (const candidate of available) {
    const lower = candidate.toLowerCase();
    const exact = list.find((e) => e.value.toLowerCase() === lower);
    const q = exact ? exact.q : (list.find((e) => e.value === "*")?.q ?? 0);
    if (q > bestQ) {
      best = candidate;
      bestQ = q;
    }
  }
  return best;
}
