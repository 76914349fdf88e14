/**
 * Resource record data (RDATA) of the types ffinet understands: A, AAAA,
 * CNAME, NS, PTR, MX, TXT, SRV, SOA, CAA, SVCB/HTTPS (RFC 9460, parsed
 * into parameters, not acted upon) and OPT (EDNS0 options); any other type
 * is kept as raw bytes. Malformed data is a {@link DNSError}
 * `ERR_DNS_BAD_RDATA` (or `ERR_DNS_TRUNCATED`).
 *
 * @example
 * ```ts
 * import { RR_TYPE, typeName } from "./records.ts";
 * console.log(RR_TYPE.AAAA, typeName(65), typeName(99)); // 28 "HTTPS" "TYPE99"
 * ```
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../socket/address.ts";
import { decodeName } from "./name.ts";
import type { WireWriter } from "./writer.ts";

/**
 * Record type numbers (IANA "Resource Record (RR) TYPEs").
 *
 * @example
 * ```ts
 * import { RR_TYPE } from "./records.ts";
 * console.log(RR_TYPE.A, RR_TYPE.MX); // 1 15
 * ```
 */
export const RR_TYPE: Readonly<{
  A: 1; NS: 2; CNAME: 5; SOA: 6; PTR: 12; MX: 15; TXT: 16; AAAA: 28; SRV: 33; OPT: 41; SVCB: 64; HTTPS: 65; ANY: 255; CAA: 257;
}> = Object.freeze({
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  SVCB: 64,
  HTTPS: 65,
  ANY: 255,
  CAA: 257,
});

/** A record type's name, as in {@link RR_TYPE}. */
export type RecordTypeName = keyof typeof RR_TYPE;

/**
 * The mnemonic of a type number (`TYPE<n>` for one without, RFC 3597).
 *
 * @example
 * ```ts
 * import { typeName } from "./records.ts";
 * console.log(typeName(1)); // "A"
 * ```
 */
export function typeName(type: number): string {
  for (const [k, v] of Object.entries(RR_TYPE)) if (v === type) return k;
  return `TYPE${type}`;
}

/**
 * A type given by name or number, as a number.
 *
 * @throws DNSError `ERR_DNS_BAD_TYPE` for an unknown name or a number outside 0..65535
 *
 * @example
 * ```ts
 * import { typeNumber } from "./records.ts";
 * console.log(typeNumber("aaaa"), typeNumber(99)); // 28 99
 * ```
 */
export function typeNumber(type: RecordTypeName | string | number): number {
  if (typeof type === "number") {
    if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw new DNSError("ERR_DNS_BAD_TYPE", `record type ${type} outside 0..65535`);
    return type;
  }
  const upper = String(type).toUpperCase();
  const known = (RR_TYPE as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(upper);
  if (m !== null && Number(m[1]) <= 0xffff) return Number(m[1]);
  throw new DNSError("ERR_DNS_BAD_TYPE", `unknown record type ${JSON.stringify(type)}`);
}

/** One SVCB/HTTPS parameter (RFC 9460 §2.1): its key and raw value. */
export interface SvcParam {
  /** The SvcParamKey (0 mandatory, 1 alpn, 2 no-default-alpn, 3 port, 4 ipv4hint, 5 ech, 6 ipv6hint). */
  readonly key: number;
  /** The raw SvcParamValue. */
  readonly value: Uint8Array;
}

/** An EDNS0 option (RFC 6891 §6.1.2). */
export interface EdnsOption {
  /** The option code. */
  readonly code: number;
  /** The option data. */
  readonly data: Uint8Array;
}

/** The data of one resource record, by kind. */
export type RecordData =
  | { readonly kind: "A"; readonly address: string }
  | { readonly kind: "AAAA"; readonly address: string }
  | { readonly kind: "CNAME" | "NS" | "PTR"; readonly target: string }
  | { readonly kind: "MX"; readonly preference: number; readonly exchange: string }
  | { readonly kind: "TXT"; readonly strings: readonly Uint8Array[] }
  | { readonly kind: "SRV"; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  | {
    readonly kind: "SOA";
    readonly mname: string;
    readonly rname: string;
    readonly serial: number;
    readonly refresh: number;
    readonly retry: number;
    readonly expire: number;
    readonly minimum: number;
  }
  | { readonly kind: "CAA"; readonly flags: number; readonly tag: string; readonly value: Uint8Array }
  | { readonly kind: "SVCB" | "HTTPS"; readonly priority: number; readonly target: string; readonly params: readonly SvcParam[] }
  | { readonly kind: "OPT"; readonly options: readonly EdnsOption[] }
  | { readonly kind: "unknown"; readonly rdata: Uint8Array };

/** A resource record. */
export interface ResourceRecord {
  /** The owner name (text form, no trailing dot). */
  readonly name: string;
  /** The type number. */
  readonly type: number;
  /** The class (1 = IN); for OPT, the UDP payload size. */
  readonly class: number;
  /** Seconds it may be cached; for OPT, the extended RCODE and flags. */
  readonly ttl: number;
  /** The data, decoded. */
  readonly data: RecordData;
}

/** Characters per TXT string at most. */
const MAX_CHARACTER_STRING = 255;

function bad(type: number, why: string): DNSError {
  return new DNSError("ERR_DNS_BAD_RDATA", `${typeName(type)} record: ${why}`);
}

/**
 * Decodes the RDATA of `type` at `message[start..end)` (names inside it may
 * point into the rest of the message).
 *
 * @example
 * ```ts
 * import { decodeRecordData } from "./records.ts";
 * console.log(decodeRecordData(new Uint8Array([127, 0, 0, 1]), 0, 4, 1)); // { kind: "A", address: "127.0.0.1" }
 * ```
 */
export function decodeRecordData(message: Uint8Array, start: number, end: number, type: number): RecordData {
  // Addresses, the usual answers, before the helpers the other types share.
  if (type === RR_TYPE.A) {
    if (end - start !== 4) throw bad(type, `${end - start} bytes, not 4`);
    return { kind: "A", address: formatIPv4(message, start) };
  }
  if (type === RR_TYPE.AAAA) {
    if (end - start !== 16) throw bad(type, `${end - start} bytes, not 16`);
    return { kind: "AAAA", address: formatIPv6(message.subarray(start, end)) };
  }
  // Module-level helpers, not closures: every answer with EDNS carries an OPT record.
  const len = end - start;
  switch (type) {
    case RR_TYPE.CNAME:
    case RR_TYPE.NS:
    case RR_TYPE.PTR: {
      const n = nameIn(message, end, type, start);
      if (n.end !== end) throw bad(type, "bytes after the name");
      return { kind: type === RR_TYPE.CNAME ? "CNAME" : type === RR_TYPE.NS ? "NS" : "PTR", target: n.name };
    }
    case RR_TYPE.MX: {
      if (len < 3) throw bad(type, "too short");
      const n = nameIn(message, end, type, start + 2);
      if (n.end !== end) throw bad(type, "bytes after the name");
      return { kind: "MX", preference: u16(message, start), exchange: n.name };
    }
    case RR_TYPE.TXT: {
      if (len === 0) throw bad(type, "no character-string");
      const strings: Uint8Array[] = [];
      let at = start;
      while (at < end) {
        const n = message[at]!;
        if (at + 1 + n > end) throw bad(type, "a character-string runs past the record");
        strings.push(message.slice(at + 1, at + 1 + n));
        at += 1 + n;
      }
      return { kind: "TXT", strings };
    }
    case RR_TYPE.SRV: {
      if (len < 7) throw bad(type, "too short");
      const n = nameIn(message, end, type, start + 6);
      if (n.end !== end) throw bad(type, "bytes after the name");
      return { kind: "SRV", priority: u16(message, start), weight: u16(message, start + 2), port: u16(message, start + 4), target: n.name };
    }
    case RR_TYPE.SOA: {
      const m = nameIn(message, end, type, start);
      const r = nameIn(message, end, type, m.end);
      if (end - r.end !== 20) throw bad(type, "the five counters are not 20 bytes");
      const at = r.end;
      return {
        kind: "SOA",
        mname: m.name,
        rname: r.name,
        serial: u32(message, at),
        refresh: u32(message, at + 4),
        retry: u32(message, at + 8),
        expire: u32(message, at + 12),
        minimum: u32(message, at + 16),
      };
    }
    case RR_TYPE.CAA: {
      if (len < 2) throw bad(type, "too short");
      const tagLen = message[start + 1]!;
      if (tagLen === 0 || start + 2 + tagLen > end) throw bad(type, "bad tag length");
      let tag = "";
      for (let i = 0; i < tagLen; i++) tag += String.fromCharCode(message[start + 2 + i]!);
      return { kind: "CAA", flags: message[start]!, tag, value: message.slice(start + 2 + tagLen, end) };
    }
    case RR_TYPE.SVCB:
    case RR_TYPE.HTTPS: {
      if (len < 3) throw bad(type, "too short");
      const n = nameIn(message, end, type, start + 2);
      const params: SvcParam[] = [];
      let at = n.end;
      let last = -1;
      while (at < end) {
        if (at + 4 > end) throw bad(type, "a parameter header runs past the record");
        const key = u16(message, at);
        const size = u16(message, at + 2);
        if (key <= last) throw bad(type, "parameter keys not in strictly increasing order");
        if (at + 4 + size > end) throw bad(type, "a parameter value runs past the record");
        last = key;
        params.push({ key, value: message.slice(at + 4, at + 4 + size) });
        at += 4 + size;
      }
      return { kind: type === RR_TYPE.SVCB ? "SVCB" : "HTTPS", priority: u16(message, start), target: n.name, params };
    }
    case RR_TYPE.OPT: {
      const options: EdnsOption[] = [];
      let at = start;
      while (at < end) {
        if (at + 4 > end) throw bad(type, "an option header runs past the record");
        const size = u16(message, at + 2);
        if (at + 4 + size > end) throw bad(type, "an option runs past the record");
        options.push({ code: u16(message, at), data: message.slice(at + 4, at + 4 + size) });
        at += 4 + size;
      }
      return { kind: "OPT", options };
    }
    default:
      return { kind: "unknown", rdata: message.slice(start, end) };
  }
}

function u16(message: Uint8Array, at: number): number {
  return (message[at]! << 8) | message[at + 1]!;
}

function u32(message: Uint8Array, at: number): number {
  return u16(message, at) * 0x10000 + u16(message, at + 2);
}

/** A name inside a record's data, which must end by `end`. */
function nameIn(message: Uint8Array, end: number, type: number, at: number): { name: string; end: number } {
  const n = decodeName(message, at);
  if (n.end > end) throw bad(type, "a name runs past the record");
  return n;
}

/**
 * Writes `data` as the RDATA of `type` (without the length field).
 *
 * @throws DNSError `ERR_DNS_BAD_RDATA` when `data.kind` does not fit `type`
 *   or a field is out of range
 *
 * @example
 * ```ts
 * import { encodeRecordData } from "./records.ts";
 * import { WireWriter } from "./writer.ts";
 * const w = new WireWriter();
 * encodeRecordData(w, 28, { kind: "AAAA", address: "::1" });
 * console.log(w.length); // 16
 * ```
 */
export function encodeRecordData(w: WireWriter, type: number, data: RecordData): void {
  const expected = type === RR_TYPE.CNAME || type === RR_TYPE.NS || type === RR_TYPE.PTR || type === RR_TYPE.A || type === RR_TYPE.AAAA ||
      type === RR_TYPE.MX || type === RR_TYPE.TXT || type === RR_TYPE.SRV || type === RR_TYPE.SOA || type === RR_TYPE.CAA ||
      type === RR_TYPE.SVCB || type === RR_TYPE.HTTPS || type === RR_TYPE.OPT
    ? typeName(type)
    : "unknown";
  if (data.kind !== expected) throw bad(type, `data of kind ${data.kind}`);
  const u16ok = (v: number, what: string): number => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw bad(type, `${what} ${v} outside 0..65535`);
    return v;
  };
  const u32ok = (v: number, what: string): number => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad(type, `${what} ${v} outside 0..2^32-1`);
    return v;
  };
  switch (data.kind) {
    case "A": {
      let bytes: Uint8Array;
      try {
        bytes = parseIPv4(data.address);
      } catch {
        throw bad(type, `not an IPv4 address: ${JSON.stringify(data.address)}`);
      }
      w.bytes(bytes);
      return;
    }
    case "AAAA": {
      let bytes: Uint8Array;
      try {
        bytes = parseIPv6(data.address).bytes;
      } catch {
        throw bad(type, `not an IPv6 address: ${JSON.stringify(data.address)}`);
      }
      w.bytes(bytes);
      return;
    }
    case "CNAME":
    case "NS":
    case "PTR":
      w.name(data.target);
      return;
    case "MX":
      w.u16(u16ok(data.preference, "preference"));
      w.name(data.exchange);
      return;
    case "TXT":
      if (data.strings.length === 0) throw bad(type, "no character-string");
      for (const s of data.strings) {
        if (s.length > MAX_CHARACTER_STRING) throw bad(type, `character-string of ${s.length} bytes (at most 255)`);
        w.u8(s.length);
        w.bytes(s);
      }
      return;
    case "SRV":
      w.u16(u16ok(data.priority, "priority"));
      w.u16(u16ok(data.weight, "weight"));
      w.u16(u16ok(data.port, "port"));
      w.name(data.target, false);
      return;
    case "SOA":
      w.name(data.mname);
      w.name(data.rname);
      w.u32(u32ok(data.serial, "serial"));
      w.u32(u32ok(data.refresh, "refresh"));
      w.u32(u32ok(data.retry, "retry"));
      w.u32(u32ok(data.expire, "expire"));
      w.u32(u32ok(data.minimum, "minimum"));
      return;
    case "CAA": {
      if (data.tag.length === 0 || data.tag.length > 255 || !/^[\x00-\xff]*$/.test(data.tag)) throw bad(type, "tag of 1..255 Latin-1 characters");
      w.u8(data.flags);
      w.u8(data.tag.length);
      w.bytes(Uint8Array.from(data.tag, (c) => c.charCodeAt(0)));
      w.bytes(data.value);
      return;
    }
    case "SVCB":
    case "HTTPS": {
      w.u16(u16ok(data.priority, "priority"));
      w.name(data.target, false);
      let last = -1;
      for (const p of data.params) {
        if (u16ok(p.key, "key") <= last) throw bad(type, "parameter keys not in strictly increasing order");
        last = p.key;
        w.u16(p.key);
        w.u16(u16ok(p.value.length, "value length"));
        w.bytes(p.value);
      }
      return;
    }
    case "OPT":
      for (const o of data.options) {
        w.u16(u16ok(o.code, "option code"));
        w.u16(u16ok(o.data.length, "option length"));
        w.bytes(o.data);
      }
      return;
    case "unknown":
      w.bytes(data.rdata);
      return;
  }
}

/** SVCB/HTTPS parameters in their meaning (RFC 9460 §7); absent keys are absent. */
export interface SvcParamsDecoded {
  /** Keys the client must understand (key 0). */
  mandatory?: number[];
  /** ALPN protocol ids (key 1). */
  alpn?: string[];
  /** no-default-alpn (key 2). */
  noDefaultAlpn?: boolean;
  /** The port (key 3). */
  port?: number;
  /** IPv4 hints (key 4). */
  ipv4hint?: string[];
  /** The ECHConfigList, raw (key 5). */
  ech?: Uint8Array;
  /** IPv6 hints (key 6). */
  ipv6hint?: string[];
}

/**
 * Interprets the known SVCB/HTTPS parameters (informational: ffinet does
 * not act on them).
 *
 * @throws DNSError `ERR_DNS_BAD_RDATA` for a value of the wrong shape
 *
 * @example
 * ```ts
 * import { svcParams } from "./records.ts";
 * const alpn = new Uint8Array([2, 0x68, 0x32]);
 * console.log(svcParams([{ key: 1, value: alpn }, { key: 3, value: new Uint8Array([1, 187]) }])); // { alpn: ["h2"], port: 443 }
 * ```
 */
export function svcParams(params: readonly SvcParam[]): SvcParamsDecoded {
  const out: SvcParamsDecoded = {};
  const t = RR_TYPE.SVCB;
  for (const { key, value } of params) {
    const v = value;
    switch (key) {
      case 0: {
        if (v.length === 0 || v.length % 2 !== 0) throw bad(t, "mandatory: length not a positive multiple of 2");
        out.mandatory = [];
        for (let i = 0; i < v.length; i += 2) out.mandatory.push((v[i]! << 8) | v[i + 1]!);
        break;
      }
      case 1: {
        out.alpn = [];
        let at = 0;
        if (v.length === 0) throw bad(t, "alpn: empty");
        while (at < v.length) {
          const n = v[at]!;
          if (n === 0 || at + 1 + n > v.length) throw bad(t, "alpn: bad id length");
          let id = "";
          for (let i = 0; i < n; i++) id += String.fromCharCode(v[at + 1 + i]!);
          out.alpn.push(id);
          at += 1 + n;
        }
        break;
      }
      case 2:
        if (v.length !== 0) throw bad(t, "no-default-alpn has a value");
        out.noDefaultAlpn = true;
        break;
      case 3:
        if (v.length !== 2) throw bad(t, "port: not 2 bytes");
        out.port = (v[0]! << 8) | v[1]!;
        break;
      case 4:
        if (v.length === 0 || v.length % 4 !== 0) throw bad(t, "ipv4hint: length not a positive multiple of 4");
        out.ipv4hint = [];
        for (let i = 0; i < v.length; i += 4) out.ipv4hint.push(formatIPv4(v, i));
        break;
      case 5:
        out.ech = v.slice();
        break;
      case 6:
        if (v.length === 0 || v.length % 16 !== 0) throw bad(t, "ipv6hint: length not a positive multiple of 16");
        out.ipv6hint = [];
        for (let i = 0; i < v.length; i += 16) out.ipv6hint.push(formatIPv6(v.subarray(i, i + 16)));
        break;
    }
  }
  return out;
}
