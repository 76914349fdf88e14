/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4): text names to labels
 * and back, with compression pointers on both sides.
 *
 * Text form: labels joined by dots, no trailing dot (the root is `"."`);
 * a dot or backslash inside a label is escaped as `\.` / `\\`, and a byte
 * outside printable ASCII as `\DDD` (decimal), so every wire name has one
 * text form and back.
 *
 * Decoding rejects, with a {@link DNSError} of a stable code: a label over
 * 63 bytes or a name over 255 (`ERR_DNS_NAME_TOO_LONG`), a pointer past
 * the message (`ERR_DNS_POINTER_OUT_OF_BOUNDS`), a pointer to itself or
 * forward (`ERR_DNS_POINTER_FORWARD`), a pointer that does not go strictly
 * further back than the one before it (`ERR_DNS_NAME_LOOP`), the reserved
 * label types 0x40/0x80 (`ERR_DNS_LABEL_TYPE`) and a name cut short
 * (`ERR_DNS_TRUNCATED`).
 *
 * @example
 * ```ts
 * import { decodeName, encodeName } from "./name.ts";
 * const wire = encodeName("www.example.com");
 * console.log(wire.length, decodeName(wire, 0).name); // 17 "www.example.com"
 * ```
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { DNS_LIMITS } from "../core/limits.ts";

/**
 * Bytes of one label at most.
 *
 * @example
 * ```ts
 * import { MAX_LABEL_BYTES } from "./name.ts";
 * console.log(MAX_LABEL_BYTES); // 63
 * ```
 */
export const MAX_LABEL_BYTES = 63;
/**
 * Bytes of a whole name on the wire (length octets included) at most.
 *
 * @example
 * ```ts
 * import { MAX_NAME_BYTES } from "./name.ts";
 * console.log(MAX_NAME_BYTES); // 255
 * ```
 */
export const MAX_NAME_BYTES = 255;

/**
 * Text name to its labels (raw bytes each), escapes resolved; the root
 * (`""` or `"."`) has none. A trailing dot is allowed.
 *
 * @throws DNSError `ERR_DNS_NAME_INVALID` (empty label, bad escape, a
 *   character above U+00FF), `ERR_DNS_LABEL_TOO_LONG`, `ERR_DNS_NAME_TOO_LONG`
 *
 * @example
 * ```ts
 * import { nameLabels } from "./name.ts";
 * console.log(nameLabels("a\\.b.c.").length); // 2
 * ```
 */
export function nameLabels(name: string): Uint8Array[] {
  if (typeof name !== "string") throw new TypeError("a DNS name must be a string");
  if (name === "" || name === ".") return [];
  const labels: Uint8Array[] = [];
  let current: number[] = [];
  let total = 1;
  const finish = (): void => {
    if (current.length === 0) throw new DNSError("ERR_DNS_NAME_INVALID", `empty label in ${JSON.stringify(name)}`);
    if (current.length > MAX_LABEL_BYTES) throw new DNSError("ERR_DNS_LABEL_TOO_LONG", `label of ${current.length} bytes (at most ${MAX_LABEL_BYTES})`);
    total += current.length + 1;
    if (total > MAX_NAME_BYTES) throw new DNSError("ERR_DNS_NAME_TOO_LONG", `name longer than ${MAX_NAME_BYTES} bytes`);
    labels.push(Uint8Array.from(current));
    current = [];
  };
  if (name.length > 4 * MAX_NAME_BYTES) throw new DNSError("ERR_DNS_NAME_TOO_LONG", `name longer than ${MAX_NAME_BYTES} bytes`);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      if (i === name.length - 1 && labels.length + (current.length > 0 ? 1 : 0) > 0) {
        finish();
        return labels;
      }
      finish();
    } else if (c === 0x5c) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0x30 && next <= 0x39) {
        const digits = name.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(digits) || Number(digits) > 255) throw new DNSError("ERR_DNS_NAME_INVALID", `bad \\DDD escape in ${JSON.stringify(name)}`);
        current.push(Number(digits));
        i += 3;
      } else if (i + 1 < name.length && next <= 0xff) {
        current.push(next);
        i += 1;
      } else {
        throw new DNSError("ERR_DNS_NAME_INVALID", `bad escape in ${JSON.stringify(name)}`);
      }
    } else if (c > 0xff) {
      throw new DNSError("ERR_DNS_NAME_INVALID", `character U+${c.toString(16).padStart(4, "0")} in a DNS name (use punycode)`);
    } else {
      current.push(c);
    }
    if (current.length > MAX_LABEL_BYTES) throw new DNSError("ERR_DNS_LABEL_TOO_LONG", `label longer than ${MAX_LABEL_BYTES} bytes`);
  }
  finish();
  return labels;
}

/**
 * Labels to the text form (escaped where needed).
 *
 * @example
 * ```ts
 * import { labelsToName } from "./name.ts";
 * console.log(labelsToName([new Uint8Array([0x61, 0x2e]), new Uint8Array([0x62])])); // "a\\..b"
 * ```
 */
export function labelsToName(labels: readonly Uint8Array[]): string {
  if (labels.length === 0) return ".";
  let out = "";
  for (let l = 0; l < labels.length; l++) {
    if (l > 0) out += ".";
    const label = labels[l]!;
    if (isPlainLabel(label)) {
      out += String.fromCharCode.apply(null, label as unknown as number[]);
      continue;
    }
    for (const b of label) {
      if (b === 0x2e || b === 0x5c) out += "\\" + String.fromCharCode(b);
      else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b);
      else out += "\\" + String(b).padStart(3, "0");
    }
  }
  return out;
}

/** Bytes that stand for themselves in text form (printable, not "." or "\\"). */
function isPlainLabel(label: Uint8Array): boolean {
  for (let i = 0; i < label.length; i++) {
    const b = label[i]!;
    if (b <= 0x20 || b >= 0x7f || b === 0x2e || b === 0x5c) return false;
  }
  return true;
}

/** The text form of the label bytes `message[from..to)`, as {@link labelsToName} writes a label. */
function labelText(message: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) {
    const b = message[i]!;
    if (b === 0x2e || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\" + String(b).padStart(3, "0");
  }
  return out;
}

/**
 * A name in canonical form for comparisons and cache keys: ASCII letters
 * lower-cased, no trailing dot (the root stays `"."`).
 *
 * @example
 * ```ts
 * import { canonicalName } from "./name.ts";
 * console.log(canonicalName("WWW.Example.COM.")); // "www.example.com"
 * ```
 */
export function canonicalName(name: string): string {
  // Most names are plain already (letters, digits, "-", "_"; no escapes):
  // those only lose a trailing dot and their capitals.
  if (typeof name === "string" && name.length <= MAX_NAME_BYTES - 2 + 1 && PLAIN_NAME.test(name)) {
    const bare = name.charCodeAt(name.length - 1) === 0x2e ? name.slice(0, -1) : name;
    if (bare.length <= MAX_NAME_BYTES - 2) return HAS_CAPITAL.test(bare) ? bare.toLowerCase() : bare;
  }
  return labelsToName(nameLabels(name)).replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Labels of 1–63 plain characters, dot-separated, with an optional final dot. */
const PLAIN_NAME = /^(?:[A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?$/;
const HAS_CAPITAL = /[A-Z]/;

/**
 * A name on the wire without compression.
 *
 * @example
 * ```ts
 * import { encodeName } from "./name.ts";
 * console.log(encodeName(".")); // Uint8Array(1) [ 0 ]
 * ```
 */
export function encodeName(name: string): Uint8Array {
  const plain = encodePlainName(name);
  if (plain !== null) return plain;
  const labels = nameLabels(name);
  let size = 1;
  for (const l of labels) size += l.length + 1;
  const out = new Uint8Array(size);
  let at = 0;
  for (const l of labels) {
    out[at++] = l.length;
    out.set(l, at);
    at += l.length;
  }
  out[at] = 0;
  return out;
}

/** {@link encodeName} of a plain name (see `PLAIN_NAME`) without label arrays; null for any other. */
function encodePlainName(name: string): Uint8Array | null {
  if (typeof name !== "string" || name.length > MAX_NAME_BYTES - 2 + 1 || !PLAIN_NAME.test(name)) return null;
  const bare = name.charCodeAt(name.length - 1) === 0x2e ? name.length - 1 : name.length;
  if (bare > MAX_NAME_BYTES - 2) return null;
  const out = new Uint8Array(bare + 2);
  let lengthAt = 0;
  for (let i = 0; i < bare; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      out[lengthAt] = i - lengthAt;
      lengthAt = i + 1;
    } else {
      out[i + 1] = c;
    }
  }
  out[lengthAt] = bare - lengthAt;
  out[bare + 1] = 0;
  return out;
}

/** A decoded name and the offset just after it where it sat (pointer included). */
export interface DecodedName {
  /** The name in text form. */
  readonly name: string;
  /** The offset after the name's own bytes in the message. */
  readonly end: number;
}

/**
 * Reads the name at `offset` of `message`, following compression pointers
 * (each must point strictly further back than the one before; at most
 * `DNS_LIMITS.maxPointerHops`).
 *
 * @throws DNSError with the codes listed in the module text
 *
 * @example
 * ```ts
 * import { decodeName } from "./name.ts";
 * // "a" then a pointer back to offset 0 would loop: rejected.
 * try { decodeName(new Uint8Array([1, 0x61, 0xc0, 0x00]), 0); } catch (e) { console.log((e as { code: string }).code); } // ERR_DNS_NAME_LOOP
 * ```
 */
export function decodeName(message: Uint8Array, offset: number): DecodedName {
  // The text is built as labels are read (what labelsToName would make of them), with no label copies.
  let text = "";
  let at = offset;
  let end = -1;
  let wireBytes = 1;
  let lowest = offset;
  let hops = 0;
  for (;;) {
    if (at >= message.length) throw new DNSError("ERR_DNS_TRUNCATED", `name at offset ${offset} runs past the message`);
    const len = message[at]!;
    if (len === 0) {
      if (end < 0) end = at + 1;
      return { name: text === "" ? "." : text, end };
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (at + 1 >= message.length) throw new DNSError("ERR_DNS_TRUNCATED", `pointer at offset ${at} runs past the message`);
      const target = ((len & 0x3f) << 8) | message[at + 1]!;
      if (target >= message.length) throw new DNSError("ERR_DNS_POINTER_OUT_OF_BOUNDS", `pointer at offset ${at} to ${target}, past the message (${message.length} bytes)`);
      if (target === at) throw new DNSError("ERR_DNS_NAME_LOOP", `pointer at offset ${at} points to itself`);
      if (target > at) throw new DNSError("ERR_DNS_POINTER_FORWARD", `pointer at offset ${at} points forward to ${target}`);
      if (target >= lowest) throw new DNSError("ERR_DNS_NAME_LOOP", `compression loop at offset ${at} (to ${target})`);
      if (++hops > DNS_LIMITS.maxPointerHops) throw new DNSError("ERR_DNS_NAME_LOOP", `more than ${DNS_LIMITS.maxPointerHops} compression pointers`);
      if (end < 0) end = at + 2;
      lowest = target;
      at = target;
      continue;
    }
    if (kind !== 0) throw new DNSError("ERR_DNS_LABEL_TYPE", `label type 0x${kind.toString(16)} at offset ${at}`);
    wireBytes += len + 1;
    if (wireBytes > MAX_NAME_BYTES) throw new DNSError("ERR_DNS_NAME_TOO_LONG", `name at offset ${offset} longer than ${MAX_NAME_BYTES} bytes`);
    if (at + 1 + len > message.length) throw new DNSError("ERR_DNS_TRUNCATED", `label at offset ${at} runs past the message`);
    if (text !== "") text += ".";
    text += labelText(message, at + 1, at + 1 + len);
    at += 1 + len;
  }
}
