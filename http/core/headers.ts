/**
 * `HeaderList`: a WHATWG `Headers`-compatible collection that also keeps what the WHATWG class
 * loses: the order of field lines, duplicates and the case names were sent
 * in. Names are validated as tokens (RFC 9110 §5.1), values are stripped of
 * leading and trailing whitespace and refused when they contain CR, LF or
 * NUL (RFC 9110 §5.5) or a character above U+00FF. `Set-Cookie` is never
 * combined (`getSetCookie()`).
 *
 * @example
 * ```ts
 * import { HeaderList } from "./headers.ts";
 * const h = new HeaderList([["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["Accept", "x"]]);
 * console.log(h.get("accept"), h.getSetCookie()); // "x" ["a=1", "b=2"]
 * console.log(h.rawEntries()); // order and case kept
 * ```
 *
 * @module
 */

const TOKEN_CHARS = (() => {
  const t = new Uint8Array(128);
  const extra = "!#$%&'*+-.^_`|~";
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
})();

/**
 * Tells whether `s` is a non-empty `token` (RFC 9110 §5.6.2).
 *
 * @example
 * ```ts
 * import { isToken } from "./headers.ts";
 * console.log(isToken("Content-Type"), isToken("a b")); // true false
 * ```
 */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Normalizes a field value as `Headers` does (strips leading and trailing
 * SP, HTAB, CR, LF) and validates it: throws `TypeError` on CR, LF, NUL or a
 * character above U+00FF inside it.
 *
 * @example
 * ```ts
 * import { normalizeFieldValue } from "./headers.ts";
 * console.log(normalizeFieldValue("  text/html \t")); // "text/html"
 * ```
 */
export function normalizeFieldValue(value: string): string {
  let s = 0;
  let e = value.length;
  while (s < e && isWhitespace(value.charCodeAt(s))) s++;
  while (e > s && isWhitespace(value.charCodeAt(e - 1))) e--;
  for (let i = s; i < e; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) {
      throw new TypeError(`Invalid header value ${JSON.stringify(value.slice(0, 100))}`);
    }
  }
  return s === 0 && e === value.length ? value : value.slice(s, e);
}

function checkName(name: string): string {
  if (!isToken(name)) throw new TypeError(`Invalid header name ${JSON.stringify(name.slice(0, 100))}`);
  return name.toLowerCase();
}

/** What a {@link HeaderList} can be built from. */
export type HeaderListInit =
  | HeaderList
  | Iterable<readonly [string, string]>
  | Record<string, string | readonly string[]>;

/**
 * The header collection. Iteration (`entries`, `keys`, `values`, `forEach`,
 * `for…of`) follows WHATWG: lower-case names, sorted, values of repeated
 * names joined with ", ", except `set-cookie` which is listed once per value.
 * `rawEntries()` gives the field lines as sent.
 *
 * @example
 * ```ts
 * import { HeaderList } from "./headers.ts";
 * const h = new HeaderList({ "Content-Type": "text/plain" });
 * h.append("Vary", "a");
 * h.append("vary", "b");
 * console.log([...h]); // [["content-type","text/plain"],["vary","a, b"]]
 * ```
 */
export class HeaderList {
  #names: string[] = [];
  #lower: string[] = [];
  #values: string[] = [];

  /** Creates a list from `init` (pairs, a record or another list), keeping order and duplicates; empty without it. */
  constructor(init?: HeaderListInit) {
    if (init === undefined) return;
    if (init instanceof HeaderList) {
      for (const [n, v] of init.rawEntries()) this.append(n, v);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError("Header pairs must have two elements");
        this.append(pair[0], pair[1]);
      }
    } else {
      for (const [n, v] of Object.entries(init as Record<string, string | readonly string[]>)) {
        if (typeof v === "string") this.append(n, v);
        else for (const one of v) this.append(n, one);
      }
    }
  }

  /** Adds a field line, keeping those already present. */
  append(name: string, value: string): void {
    const lower = checkName(name);
    const v = normalizeFieldValue(String(value));
    this.#names.push(name);
    this.#lower.push(lower);
    this.#values.push(v);
  }

  /** Replaces every field line of `name` by one. */
  set(name: string, value: string): void {
    const lower = checkName(name);
    const v = normalizeFieldValue(String(value));
    const i = this.#lower.indexOf(lower);
    if (i === -1) {
      this.append(name, v);
      return;
    }
    this.#values[i] = v;
    this.#names[i] = name;
    for (let j = this.#lower.length - 1; j > i; j--) {
      if (this.#lower[j] === lower) this.#remove(j);
    }
  }

  /** Removes every field line of `name`. */
  delete(name: string): void {
    const lower = checkName(name);
    for (let j = this.#lower.length - 1; j >= 0; j--) if (this.#lower[j] === lower) this.#remove(j);
  }

  #remove(j: number): void {
    this.#names.splice(j, 1);
    this.#lower.splice(j, 1);
    this.#values.splice(j, 1);
  }

  /** The values of `name` joined with ", ", or null. */
  get(name: string): string | null {
    const lower = checkName(name);
    let out: string | null = null;
    for (let i = 0; i < this.#lower.length; i++) {
      if (this.#lower[i] === lower) out = out === null ? (this.#values[i] as string) : `${out}, ${this.#values[i]}`;
    }
    return out;
  }

  /** Every value of `name`, in order (useful for fields that are not lists). */
  getAll(name: string): string[] {
    const lower = checkName(name);
    const out: string[] = [];
    for (let i = 0; i < this.#lower.length; i++) if (this.#lower[i] === lower) out.push(this.#values[i] as string);
    return out;
  }

  /** The Set-Cookie values, each apart (RFC 6265 §3: they cannot be combined). */
  getSetCookie(): string[] {
    return this.getAll("set-cookie");
  }

  /** Tells whether `name` is present. */
  has(name: string): boolean {
    return this.#lower.includes(checkName(name));
  }

  /** Number of field lines (duplicates counted). */
  get size(): number {
    return this.#names.length;
  }

  /** The field lines in order, with names as they were given. */
  rawEntries(): Array<[string, string]> {
    return this.#names.map((n, i) => [n, this.#values[i] as string]);
  }

  /** WHATWG "sort and combine": sorted lower-case names, combined values, Set-Cookie apart. */
  entries(): IterableIterator<[string, string]> {
    const names = [...new Set(this.#lower)].sort();
    const out: Array<[string, string]> = [];
    for (const n of names) {
      if (n === "set-cookie") for (const v of this.getAll(n)) out.push([n, v]);
      else out.push([n, this.get(n) as string]);
    }
    return out[Symbol.iterator]();
  }

  /** Sorted lower-case names (set-cookie repeated per value). */
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  /** Values in the order of `keys()`. */
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  /** Calls `fn(value, name, this)` for each entry of `entries()`. */
  forEach(fn: (value: string, name: string, headers: HeaderList) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  /** Iterates `[name, value]` pairs in order (same as `entries()`). */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
