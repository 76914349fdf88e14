/**
 * `HeadCache`: the strings of a response head, reused while an origin keeps
 * sending the same header section. A server answering one URL sends the
 * same fields again and again (only `Date` changes, once a second), and
 * turning a head's bytes into strings — then into the runtime's `Headers` —
 * was the largest part of `fetch`'s own cost on Bun (~3 µs of ~13 per
 * request in process). A head whose bytes (HTTP/1.1) or strings (HTTP/2)
 * equal the last one of its origin gets the same pairs back, compared byte
 * by byte, so nothing is ever guessed.
 *
 * The pairs, record and `Headers` handed out are shared: callers must not
 * change them (`request` hands users a copy of the record).
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "../h1/parser.ts";
 * import { HeadCache } from "./head_cache.ts";
 * const cache = new HeadCache();
 * const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
 * let first: unknown;
 * new HTTP1Parser({ kind: "response" }, { onHead: (h) => first = cache.fields("http://a", h).pairs }).push(bytes);
 * new HTTP1Parser({ kind: "response" }, { onHead: (h) => console.log(cache.fields("http://a", h).pairs === first) }).push(bytes); // true
 * ```
 *
 * @module
 */
import type { FieldBlock } from "../h1/fields.ts";
import { h2Fields, h2FieldsFrom } from "./h2_head.ts";

/** Heads with more field bytes than this are not kept. */
const MAX_BYTES = 4096;
/** Heads with more fields than this are not kept. */
const MAX_FIELDS = 64;
/** Origins kept at once (the map starts over beyond). */
const MAX_ORIGINS = 64;

/**
 * The strings of one header section, shared between the responses that
 * carried it. Read-only for everyone but {@link HeadCache}.
 *
 * @example
 * ```ts
 * import type { CachedFields } from "./head_cache.ts";
 * const show = (c: CachedFields) => c.pairs.map(([n, v]) => `${n}: ${v}`).join("\n");
 * ```
 */
export interface CachedFields {
  /** `[lower-case name, value]` in order, duplicates kept. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** How many responses reused these (0 for the first). */
  hits: number;
  /** A runtime `Headers` of the pairs, made by the caller on a reuse. */
  headers: Headers | undefined;
  /** The pairs as a record (lower-case names, arrays for repeats and set-cookie), made by the caller. */
  record: Readonly<Record<string, string | string[]>> | undefined;
}

interface Entry extends CachedFields {
  /** HTTP/1.1: name and value bytes back to back, with their lengths; HTTP/2: the strings. */
  bytes: Uint8Array | null;
  lengths: Int32Array | null;
  strings: readonly string[] | null;
}

/**
 * Response head strings per origin, reused while the head stays the same.
 * See the module documentation.
 *
 * @example
 * ```ts
 * import { HeadCache } from "./head_cache.ts";
 * const cache = new HeadCache();
 * cache.clear();
 * ```
 */
export class HeadCache {
  #byOrigin = new Map<string, Entry>();

  /** The pairs of `head` (lower-case names), the cached ones when `origin`'s last head was the same. */
  fields(origin: string, head: FieldBlock): CachedFields {
    const entry = this.#byOrigin.get(origin);
    const strings = h2Fields(head);
    const from = strings !== null ? h2FieldsFrom(head) : 0;
    if (entry !== undefined && (strings !== null ? sameStrings(entry, strings, from) : sameBytes(entry, head))) {
      entry.hits++;
      return entry;
    }
    const pairs: Array<readonly [string, string]> = [];
    for (let i = 0; i < head.count; i++) pairs.push([head.name(i), head.value(i)]);
    const fresh: Entry = { pairs, hits: 0, headers: undefined, record: undefined, bytes: null, lengths: null, strings: null };
    if (head.count > MAX_FIELDS) return fresh;
    if (strings !== null) {
      let size = 0;
      for (let i = from; i < strings.length; i++) size += strings[i]!.length;
      if (size > MAX_BYTES) return fresh;
      fresh.strings = from === 0 ? strings : strings.slice(from);
    } else if (!keepBytes(fresh, head)) return fresh;
    if (entry === undefined && this.#byOrigin.size >= MAX_ORIGINS) this.#byOrigin.clear();
    this.#byOrigin.set(origin, fresh);
    return fresh;
  }

  /** Forgets every origin. */
  clear(): void {
    this.#byOrigin.clear();
  }
}

/** Whether the regular fields of `strings` (from `from` on) are the ones kept. */
function sameStrings(entry: Entry, strings: readonly string[], from: number): boolean {
  const kept = entry.strings;
  if (kept === null || kept.length !== strings.length - from) return false;
  for (let i = 0; i < kept.length; i++) if (kept[i] !== strings[from + i]) return false;
  return true;
}

function sameBytes(entry: Entry, head: FieldBlock): boolean {
  const kept = entry.bytes;
  const lengths = entry.lengths;
  if (kept === null || lengths === null || lengths.length !== 2 * head.count) return false;
  const buf = head.buffer;
  const spans = head.spans;
  const o = head.offset;
  let at = 0;
  for (let i = 0; i < head.count; i++) {
    for (let part = 0; part < 2; part++) {
      const s = o + spans[4 * i + 2 * part]!;
      const n = o + spans[4 * i + 2 * part + 1]! - s;
      if (n !== lengths[2 * i + part]) return false;
      for (let k = 0; k < n; k++) if (buf[s + k] !== kept[at + k]) return false;
      at += n;
    }
  }
  return true;
}

function keepBytes(entry: Entry, head: FieldBlock): boolean {
  const spans = head.spans;
  const o = head.offset;
  let size = 0;
  for (let i = 0; i < head.count; i++) size += spans[4 * i + 1]! - spans[4 * i]! + spans[4 * i + 3]! - spans[4 * i + 2]!;
  if (size > MAX_BYTES) return false;
  const bytes = new Uint8Array(size);
  const lengths = new Int32Array(2 * head.count);
  let at = 0;
  for (let i = 0; i < head.count; i++) {
    for (let part = 0; part < 2; part++) {
      const s = o + spans[4 * i + 2 * part]!;
      const e = o + spans[4 * i + 2 * part + 1]!;
      bytes.set(head.buffer.subarray(s, e), at);
      lengths[2 * i + part] = e - s;
      at += e - s;
    }
  }
  entry.bytes = bytes;
  entry.lengths = lengths;
  return true;
}
