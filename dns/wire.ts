/**
 * DNS messages on the wire (RFC 1035 §4, EDNS0 RFC 6891), I/O-free:
 * {@link encodeQuery} builds a query (with an OPT record advertising a
 * 1232-byte UDP payload by default), {@link decodeMessage} reads any
 * message, {@link encodeMessage} writes any message (with name
 * compression; servers in tests use it).
 *
 * Every failure is a {@link DNSError} with a stable code: the name codes of
 * `name.ts`, `ERR_DNS_TRUNCATED`, `ERR_DNS_MESSAGE_TOO_LONG`,
 * `ERR_DNS_TOO_MANY_RECORDS`, `ERR_DNS_BAD_RDATA`, `ERR_DNS_TRAILING_BYTES`,
 * `ERR_DNS_BAD_OPT`.
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeQuery } from "./wire.ts";
 * const q = decodeMessage(encodeQuery({ id: 7, name: "example.com", type: "AAAA" }));
 * console.log(q.id, q.questions[0], q.edns?.udpPayloadSize); // 7 { name: "example.com", type: 28, class: 1 } 1232
 * ```
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { decodeName, encodeName } from "./name.ts";
import { decodeRecordData, type EdnsOption, encodeRecordData, type RecordTypeName, RR_TYPE, type ResourceRecord, typeNumber } from "./records.ts";
import { MAX_MESSAGE_BYTES, WireWriter } from "./writer.ts";

/**
 * The UDP payload size ffinet advertises with EDNS0 (DNS flag day 2020).
 *
 * @example
 * ```ts
 * import { EDNS_UDP_PAYLOAD } from "./wire.ts";
 * console.log(EDNS_UDP_PAYLOAD); // 1232
 * ```
 */
export const EDNS_UDP_PAYLOAD = 1232;
/**
 * Questions in one message at most.
 *
 * @example
 * ```ts
 * import { MAX_QUESTIONS } from "./wire.ts";
 * console.log(MAX_QUESTIONS); // 16
 * ```
 */
export const MAX_QUESTIONS = 16;
/**
 * Records in one section at most.
 *
 * @example
 * ```ts
 * import { MAX_SECTION_RECORDS } from "./wire.ts";
 * console.log(MAX_SECTION_RECORDS); // 4096
 * ```
 */
export const MAX_SECTION_RECORDS = 4096;

/**
 * Response codes (RFC 1035 §4.1.1, RFC 6895).
 *
 * @example
 * ```ts
 * import { RCODE } from "./wire.ts";
 * console.log(RCODE.NXDOMAIN); // 3
 * ```
 */
export const RCODE: Readonly<{ NOERROR: 0; FORMERR: 1; SERVFAIL: 2; NXDOMAIN: 3; NOTIMP: 4; REFUSED: 5 }> = Object.freeze({
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
});

/** Header flags of a message. */
export interface DNSFlags {
  /** A response (QR). */
  readonly qr: boolean;
  /** The opcode (0 = QUERY). */
  readonly opcode: number;
  /** Authoritative answer. */
  readonly aa: boolean;
  /** Truncated: retry over TCP. */
  readonly tc: boolean;
  /** Recursion desired. */
  readonly rd: boolean;
  /** Recursion available. */
  readonly ra: boolean;
  /** Authentic data (DNSSEC). */
  readonly ad: boolean;
  /** Checking disabled (DNSSEC). */
  readonly cd: boolean;
  /** The header's 4-bit RCODE (see {@link DNSMessage.rcode} for the extended one). */
  readonly rcode: number;
}

/** A question. */
export interface Question {
  /** The name asked about (text form). */
  readonly name: string;
  /** The type number. */
  readonly type: number;
  /** The class (1 = IN). */
  readonly class: number;
}

/** EDNS0 parameters from an OPT record (RFC 6891 §6.1.3). */
export interface Edns {
  /** The sender's UDP payload size. */
  readonly udpPayloadSize: number;
  /** The upper 8 bits of the 12-bit RCODE. */
  readonly extendedRcode: number;
  /** The EDNS version (0). */
  readonly version: number;
  /** DNSSEC OK. */
  readonly dnssecOk: boolean;
  /** Options. */
  readonly options: readonly EdnsOption[];
}

/** A decoded message. OPT is not among `additionals`: it is `edns`. */
export interface DNSMessage {
  /** The 16-bit id. */
  readonly id: number;
  /** Header flags. */
  readonly flags: DNSFlags;
  /** The full RCODE (header bits plus EDNS extension). */
  readonly rcode: number;
  /** Questions. */
  readonly questions: readonly Question[];
  /** The answer section. */
  readonly answers: readonly ResourceRecord[];
  /** The authority section. */
  readonly authorities: readonly ResourceRecord[];
  /** The additional section without OPT. */
  readonly additionals: readonly ResourceRecord[];
  /** EDNS0 parameters, or null without an OPT record. */
  readonly edns: Edns | null;
}

/** What {@link encodeMessage} takes: a message, every field but `id` optional. */
export interface MessageInit {
  /** The 16-bit id. */
  id: number;
  /** Header flags (missing ones false / 0). */
  flags?: Partial<DNSFlags>;
  /** Questions. */
  questions?: readonly Question[];
  /** Answers. */
  answers?: readonly ResourceRecord[];
  /** Authority records. */
  authorities?: readonly ResourceRecord[];
  /** Additional records (without OPT: use `edns`). */
  additionals?: readonly ResourceRecord[];
  /** An OPT record to add, or null / absent for none. */
  edns?: Partial<Edns> | null;
  /** Compress names (default true). */
  compress?: boolean;
}

function u16ok(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new DNSError("ERR_DNS_BAD_FIELD", `${what} ${v} outside 0..65535`);
  return v;
}

function writeRecord(w: WireWriter, r: ResourceRecord): void {
  w.name(r.name);
  w.u16(u16ok(r.type, "type"));
  w.u16(u16ok(r.class, "class"));
  if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 0xffffffff) throw new DNSError("ERR_DNS_BAD_FIELD", `ttl ${r.ttl} outside 0..2^32-1`);
  w.u32(r.ttl);
  const at = w.length;
  w.u16(0);
  encodeRecordData(w, r.type, r.data);
  const size = w.length - at - 2;
  if (size > 0xffff) throw new DNSError("ERR_DNS_MESSAGE_TOO_LONG", "RDATA longer than 65535 bytes");
  w.patch16(at, size);
}

/**
 * Writes a whole message.
 *
 * @throws DNSError `ERR_DNS_MESSAGE_TOO_LONG`, `ERR_DNS_BAD_FIELD`,
 *   `ERR_DNS_BAD_RDATA`, name errors
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./wire.ts";
 * const reply = encodeMessage({
 *   id: 1,
 *   flags: { qr: true, rd: true, ra: true },
 *   questions: [{ name: "a.test", type: 1, class: 1 }],
 *   answers: [{ name: "a.test", type: 1, class: 1, ttl: 60, data: { kind: "A", address: "10.0.0.1" } }],
 * });
 * console.log(reply.length); // 40
 * ```
 */
export function encodeMessage(m: MessageInit): Uint8Array {
  const w = new WireWriter(m.compress ?? true);
  const f = m.flags ?? {};
  const questions = m.questions ?? [];
  const answers = m.answers ?? [];
  const authorities = m.authorities ?? [];
  const additionals = m.additionals ?? [];
  const edns = m.edns ?? null;
  const rcode = f.rcode ?? 0;
  if (!Number.isInteger(rcode) || rcode < 0 || rcode > 0xfff) throw new DNSError("ERR_DNS_BAD_FIELD", `rcode ${rcode} outside 0..4095`);
  if (rcode > 15 && edns === null) throw new DNSError("ERR_DNS_BAD_FIELD", `rcode ${rcode} needs EDNS`);
  const opcode = f.opcode ?? 0;
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new DNSError("ERR_DNS_BAD_FIELD", `opcode ${opcode} outside 0..15`);
  w.u16(u16ok(m.id, "id"));
  w.u8((f.qr ? 0x80 : 0) | (opcode << 3) | (f.aa ? 4 : 0) | (f.tc ? 2 : 0) | (f.rd ? 1 : 0));
  w.u8((f.ra ? 0x80 : 0) | (f.ad ? 0x20 : 0) | (f.cd ? 0x10 : 0) | (rcode & 0xf));
  w.u16(u16ok(questions.length, "question count"));
  w.u16(u16ok(answers.length, "answer count"));
  w.u16(u16ok(authorities.length, "authority count"));
  w.u16(u16ok(additionals.length + (edns === null ? 0 : 1), "additional count"));
  for (const q of questions) {
    w.name(q.name);
    w.u16(u16ok(q.type, "question type"));
    w.u16(u16ok(q.class, "question class"));
  }
  for (const r of answers) writeRecord(w, r);
  for (const r of authorities) writeRecord(w, r);
  for (const r of additionals) writeRecord(w, r);
  if (edns !== null) {
    const ext = edns.extendedRcode ?? (rcode >> 4);
    const version = edns.version ?? 0;
    if (!Number.isInteger(ext) || ext < 0 || ext > 0xff || !Number.isInteger(version) || version < 0 || version > 0xff) {
      throw new DNSError("ERR_DNS_BAD_FIELD", "EDNS extended rcode and version are bytes");
    }
    writeRecord(w, {
      name: ".",
      type: RR_TYPE.OPT,
      class: u16ok(edns.udpPayloadSize ?? EDNS_UDP_PAYLOAD, "UDP payload size"),
      ttl: ext * 0x1000000 + version * 0x10000 + (edns.dnssecOk ? 0x8000 : 0),
      data: { kind: "OPT", options: edns.options ?? [] },
    });
  }
  return w.finish();
}

/** What {@link encodeQuery} takes. */
export interface QueryInit {
  /** The 16-bit id (pick it at random: {@link randomQueryId}). */
  id: number;
  /** The name. */
  name: string;
  /** The type by name or number. */
  type: RecordTypeName | number;
  /** The class (default 1, IN). */
  class?: number;
  /** Recursion desired (default true). */
  rd?: boolean;
  /** EDNS0 OPT record: true / absent for a 1232-byte payload, false for none, or a payload size. */
  edns?: boolean | number;
}

/**
 * A query message for one question.
 *
 * @example
 * ```ts
 * import { encodeQuery } from "./wire.ts";
 * console.log(encodeQuery({ id: 1, name: "example.com", type: "A", edns: false }).length); // 29
 * ```
 */
export function encodeQuery(q: QueryInit): Uint8Array {
  const edns = q.edns ?? true;
  const klass = q.class ?? 1;
  const type = typeNumber(q.type);
  if (edns === true && Number.isInteger(q.id) && q.id >= 0 && q.id <= 0xffff && klass === 1) {
    // The common query, written directly: the same bytes as encodeMessage's.
    const name = encodeName(q.name);
    const out = new Uint8Array(12 + name.length + 4 + 11);
    out[0] = q.id >> 8;
    out[1] = q.id & 0xff;
    out[2] = (q.rd ?? true) ? 1 : 0;
    out[5] = 1; // one question
    out[11] = 1; // one additional: the OPT record
    out.set(name, 12);
    let at = 12 + name.length;
    out[at] = type >> 8;
    out[at + 1] = type & 0xff;
    out[at + 3] = 1; // class IN
    at += 4;
    // OPT: root name, type 41, class = the UDP payload size, TTL 0, no options.
    out[at + 2] = RR_TYPE.OPT;
    out[at + 3] = EDNS_UDP_PAYLOAD >> 8;
    out[at + 4] = EDNS_UDP_PAYLOAD & 0xff;
    return out;
  }
  return encodeMessage({
    id: q.id,
    flags: { rd: q.rd ?? true },
    questions: [{ name: q.name, type: typeNumber(q.type), class: q.class ?? 1 }],
    edns: edns === false ? null : { udpPayloadSize: edns === true ? EDNS_UDP_PAYLOAD : edns },
    compress: false,
  });
}

/**
 * A random 16-bit query id from the platform CSPRNG.
 *
 * @example
 * ```ts
 * import { randomQueryId } from "./wire.ts";
 * const id = randomQueryId();
 * console.log(id >= 0 && id <= 0xffff); // true
 * ```
 */
export function randomQueryId(): number {
  // One CSPRNG call per 256 ids: the call costs more than the bytes.
  if (idsLeft === 0) {
    crypto.getRandomValues(idPool);
    idsLeft = idPool.length;
  }
  const id = idPool[--idsLeft]!;
  idPool[idsLeft] = 0;
  return id;
}

const idPool = new Uint16Array(256);
let idsLeft = 0;

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function truncated(what: string, at: number): DNSError {
  return new DNSError("ERR_DNS_TRUNCATED", `${what} at offset ${at} runs past the message`);
}

/** Options of {@link decodeMessage}. */
export interface DecodeOptions {
  /**
   * Bytes after the last record the counts announce: "error" (the default,
   * `ERR_DNS_TRAILING_BYTES`) or "ignore", as stub resolvers (glibc,
   * c-ares, Go) read answers: padded or junk-tailed datagrams still answer.
   */
  trailingBytes?: "error" | "ignore";
}

/**
 * Reads a message. Rejects anything malformed with a {@link DNSError};
 * never throws anything else for any input bytes.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./wire.ts";
 * try { decodeMessage(new Uint8Array(5)); } catch (e) { console.log((e as { code: string }).code); } // ERR_DNS_TRUNCATED
 * const padded = new Uint8Array([0, 7, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * console.log(decodeMessage(padded, { trailingBytes: "ignore" }).id); // 7
 * ```
 */
export function decodeMessage(bytes: Uint8Array, options?: DecodeOptions): DNSMessage {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("decodeMessage takes a Uint8Array");
  if (bytes.length > MAX_MESSAGE_BYTES) throw new DNSError("ERR_DNS_MESSAGE_TOO_LONG", `${bytes.length} bytes, at most ${MAX_MESSAGE_BYTES}`);
  if (bytes.length < 12) throw truncated("the header", 0);
  const b2 = bytes[2]!;
  const b3 = bytes[3]!;
  const counts = [u16(bytes, 4), u16(bytes, 6), u16(bytes, 8), u16(bytes, 10)] as const;
  if (counts[0] > MAX_QUESTIONS) throw new DNSError("ERR_DNS_TOO_MANY_RECORDS", `${counts[0]} questions (at most ${MAX_QUESTIONS})`);
  for (let s = 1; s < 4; s++) {
    if (counts[s]! > MAX_SECTION_RECORDS) throw new DNSError("ERR_DNS_TOO_MANY_RECORDS", `${counts[s]} records in a section (at most ${MAX_SECTION_RECORDS})`);
  }
  let at = 12;
  const questions: Question[] = [];
  // Records usually name the question with a pointer to it (0xC00C): decoded once.
  let firstName: string | null = null;
  for (let i = 0; i < counts[0]; i++) {
    const n = decodeName(bytes, at);
    if (n.end + 4 > bytes.length) throw truncated("a question", at);
    if (i === 0) firstName = n.name;
    questions.push({ name: n.name, type: u16(bytes, n.end), class: u16(bytes, n.end + 2) });
    at = n.end + 4;
  }
  const sections: ResourceRecord[][] = [[], [], []];
  let edns: Edns | null = null;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const n = firstName !== null && bytes[at] === 0xc0 && bytes[at + 1] === 12 ? { name: firstName, end: at + 2 } : decodeName(bytes, at);
      if (n.end + 10 > bytes.length) throw truncated("a record header", at);
      const type = u16(bytes, n.end);
      const klass = u16(bytes, n.end + 2);
      const ttl = u16(bytes, n.end + 4) * 0x10000 + u16(bytes, n.end + 6);
      const size = u16(bytes, n.end + 8);
      const start = n.end + 10;
      if (start + size > bytes.length) throw truncated("RDATA", start);
      const data = decodeRecordData(bytes, start, start + size, type);
      at = start + size;
      if (type === RR_TYPE.OPT) {
        if (s !== 2 || edns !== null || n.name !== "." || data.kind !== "OPT") {
          throw new DNSError("ERR_DNS_BAD_OPT", "an OPT record outside the additional section, twice, or not at the root");
        }
        edns = { udpPayloadSize: klass, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options: data.options };
        continue;
      }
      sections[s]!.push({ name: n.name, type, class: klass, ttl, data });
    }
  }
  if (at !== bytes.length && options?.trailingBytes !== "ignore") {
    throw new DNSError("ERR_DNS_TRAILING_BYTES", `${bytes.length - at} bytes after the last record`);
  }
  const flags: DNSFlags = {
    qr: (b2 & 0x80) !== 0,
    opcode: (b2 >> 3) & 0xf,
    aa: (b2 & 4) !== 0,
    tc: (b2 & 2) !== 0,
    rd: (b2 & 1) !== 0,
    ra: (b3 & 0x80) !== 0,
    ad: (b3 & 0x20) !== 0,
    cd: (b3 & 0x10) !== 0,
    rcode: b3 & 0xf,
  };
  const ednsOf = edns as Edns | null;
  return {
    id: u16(bytes, 0),
    flags,
    rcode: (b3 & 0xf) | ((ednsOf?.extendedRcode ?? 0) << 4),
    questions,
    answers: sections[0]!,
    authorities: sections[1]!,
    additionals: sections[2]!,
    edns,
  };
}
