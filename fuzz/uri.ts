/**
 * Fuzz target for the URI parser: the input, as Latin-1 text, goes through
 * `parseURI`, `parseRequestTarget` (the first byte picks a method),
 * `percentDecode`, `removeDotSegments`, `formatURI` (must round-trip) and
 * `resolveReference`. Only `HTTPError` with code
 * `ERR_INVALID_URI` may escape; a parsed URI must reassemble to its input.
 *
 * @module
 */
import { HTTPError } from "../core/errors.ts";
import {
  formatURI,
  parseRequestTarget,
  parseURI,
  percentDecode,
  removeDotSegments,
  resolveReference,
  type URI,
} from "../http/core/uri.ts";

const METHODS = ["GET", "CONNECT", "OPTIONS", "POST"];

function expected(e: unknown): boolean {
  return e instanceof HTTPError && e.code === "ERR_INVALID_URI";
}

function reassemble(u: URI, text: string): void {
  // Every component is a slice of the input (scheme and host lower-cased).
  const lower = text.toLowerCase();
  if (u.scheme !== null && !lower.startsWith(u.scheme + ":")) throw new Error("scheme is not a prefix");
  if (u.query !== null && !text.includes("?" + u.query)) throw new Error("query is not in the input");
  if (u.fragment !== null && !text.endsWith("#" + u.fragment)) throw new Error("fragment is not a suffix");
  if (!text.includes(u.path)) throw new Error("path is not in the input");
  if (u.port !== null && (u.port < 0 || u.port > 65535 || !Number.isInteger(u.port))) throw new Error("bad port");
}

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./uri.ts";
 * fuzz(new TextEncoder().encode("\x00http://a/b?c#d"));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  const method = METHODS[data[0]! % METHODS.length]!;
  let text = "";
  for (let i = 1; i < data.length; i++) text += String.fromCharCode(data[i]!);
  try {
    const u = parseURI(text);
    reassemble(u, text);
    // Recomposition parses back to the same components.
    const again = parseURI(formatURI(u));
    if (JSON.stringify(again) !== JSON.stringify(u)) throw new Error("formatURI does not round-trip");
    const resolved = resolveReference("http://a/b/c/d;p?q", u);
    if (resolved.scheme === null) throw new Error("resolved URI is not absolute");
  } catch (e) {
    if (!expected(e)) throw e;
  }
  try {
    const t = parseRequestTarget(text, method);
    if (method === "CONNECT" && t.form !== "authority") throw new Error("CONNECT target is not authority-form");
    if (t.form === "asterisk" && method !== "OPTIONS") throw new Error("asterisk-form outside OPTIONS");
  } catch (e) {
    if (!expected(e)) throw e;
  }
  try {
    percentDecode(text);
  } catch (e) {
    if (!expected(e)) throw e;
  }
  const cleaned = removeDotSegments(text);
  if (cleaned.length > text.length) throw new Error("removeDotSegments grew the path");
  if (removeDotSegments(cleaned) !== cleaned && cleaned.startsWith("/")) throw new Error("removeDotSegments is not idempotent");
}

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * Valid inputs that mutations start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./uri.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc("\x00foo://user:pw@example.com:8042/over/there?name=ferret#nose"),
  enc("\x01[fe80::1%25en0]:443"),
  enc("\x00http://[v7.abc]/a/./b/../c?x=%20"),
  enc("\x02*"),
  enc("\x00/a/b/../../c%2F?q"),
];
