/**
 * An X.509 certificate read from its DER bytes, in TypeScript without I/O:
 * subject, issuer, subject alternative names, serial, validity, SHA-256
 * fingerprint, SPKI pin (base64 SHA-256 of the SubjectPublicKeyInfo, as
 * HPKP) and the raw DER. Malformed input is a `TLSError` (ERR_TLS_CERT_PARSE).
 *
 * @example
 * ```ts
 * import { parseCertificate } from "./certificate.ts";
 * try {
 *   parseCertificate(new Uint8Array([0x30, 0x00]));
 * } catch (err) {
 *   console.log((err as Error).message); // certificate: …
 * }
 * ```
 *
 * @module
 */
import { TLSError } from "../core/errors.ts";
import { base64Encode, sha256 } from "../core/crypto.ts";

/** Subject alternative names by kind. */
export interface SubjectAltNames {
  /** DNS names ("localhost", "*.example.com"). */
  readonly dns: readonly string[];
  /** IP addresses, IPv6 in RFC 5952 form. */
  readonly ip: readonly string[];
  /** rfc822Name entries. */
  readonly email: readonly string[];
  /** URIs. */
  readonly uri: readonly string[];
}

/** A parsed certificate. */
export interface Certificate {
  /** The subject as "CN=localhost, O=ffinet" (attributes in stored order). */
  readonly subject: string;
  /** The issuer, same form. */
  readonly issuer: string;
  /** The subject's common name, "" when absent. */
  readonly commonName: string;
  /** The subject alternative names by kind (empty lists without the extension). */
  readonly subjectAltNames: SubjectAltNames;
  /** The serial number as upper-case hex without leading zero bytes. */
  readonly serialNumber: string;
  /** notBefore. */
  readonly validFrom: Date;
  /** notAfter. */
  readonly validTo: Date;
  /** SHA-256 of the DER as "AB:CD:…". */
  readonly fingerprint256: string;
  /** base64 SHA-256 of the SubjectPublicKeyInfo (a pin, as HPKP's pin-sha256). */
  readonly spkiSha256: string;
  /** The certificate's DER bytes. */
  readonly raw: Uint8Array;
}

interface TLV {
  readonly tag: number;
  /** Start of the whole element (tag byte). */
  readonly begin: number;
  /** Start of the content. */
  readonly start: number;
  /** End of the content (and of the element). */
  readonly end: number;
}

function fail(what: string): never {
  throw new TLSError("ERR_TLS_CERT_PARSE", `certificate: ${what}`);
}

function readTLV(der: Uint8Array, at: number, limit: number): TLV {
  if (at + 2 > limit) fail("truncated element");
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) fail("multi-byte tags are not used in certificates");
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) fail("bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > limit) fail("element runs past its parent");
  return { tag, begin: at, start, end: start + len };
}

function children(der: Uint8Array, parent: TLV): TLV[] {
  const out: TLV[] = [];
  for (let at = parent.start; at < parent.end;) {
    const t = readTLV(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

function expect(t: TLV | undefined, tag: number, what: string): TLV {
  if (t === undefined || t.tag !== tag) fail(`expected ${what}`);
  return t;
}

const NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
  "2.5.4.11": "OU", "2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress",
};

function oid(der: Uint8Array, t: TLV): string {
  if (t.end === t.start) fail("empty OID");
  const first = der[t.start]!;
  const parts = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let value = 0;
  for (let i = t.start + 1; i < t.end; i++) {
    value = value * 128 + (der[i]! & 0x7f);
    if (!(der[i]! & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const latin1 = new TextDecoder("latin1");

function text(der: Uint8Array, t: TLV): string {
  const bytes = der.subarray(t.start, t.end);
  if (t.tag === 0x1e) { // BMPString: UTF-16BE
    let s = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
    return s;
  }
  return t.tag === 0x0c ? utf8.decode(bytes) : latin1.decode(bytes);
}

function distinguishedName(der: Uint8Array, name: TLV): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const rdn of children(der, expect(name, 0x30, "Name"))) {
    for (const atv of children(der, expect(rdn, 0x31, "RDN set"))) {
      const [type, value] = children(der, expect(atv, 0x30, "attribute"));
      const id = oid(der, expect(type, 0x06, "attribute type"));
      if (value === undefined) fail("attribute without value");
      out.push([NAMES[id] ?? id, text(der, value)]);
    }
  }
  return out;
}

function time(der: Uint8Array, t: TLV): Date {
  const s = latin1.decode(der.subarray(t.start, t.end));
  const m = t.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : t.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (m === null) fail(`bad time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) return "";
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

function altNames(der: Uint8Array, value: TLV): SubjectAltNames {
  const dns: string[] = [], ip: string[] = [], email: string[] = [], uri: string[] = [];
  const seq = readTLV(der, value.start, value.end);
  for (const name of children(der, expect(seq, 0x30, "GeneralNames"))) {
    const bytes = der.subarray(name.start, name.end);
    if (name.tag === 0x82) dns.push(latin1.decode(bytes));
    else if (name.tag === 0x87) ip.push(ipText(bytes));
    else if (name.tag === 0x81) email.push(latin1.decode(bytes));
    else if (name.tag === 0x86) uri.push(latin1.decode(bytes));
  }
  return { dns, ip, email, uri };
}

function hex(bytes: Uint8Array, sep: string): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(sep);
}

/**
 * Parses a DER certificate.
 *
 * @throws TLSError ERR_TLS_CERT_PARSE for malformed input
 *
 * @example
 * ```ts
 * import { parseCertificate } from "./certificate.ts";
 * console.log(typeof parseCertificate); // "function"
 * ```
 */
export function parseCertificate(der: Uint8Array): Certificate {
  if (!(der instanceof Uint8Array)) throw new TypeError("parseCertificate: der must be a Uint8Array");
  const cert = expect(readTLV(der, 0, der.length), 0x30, "Certificate");
  const tbs = expect(children(der, cert)[0], 0x30, "TBSCertificate");
  const fields = children(der, tbs);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = expect(fields[i++], 0x02, "serial");
  expect(fields[i++], 0x30, "signature algorithm");
  const issuer = distinguishedName(der, expect(fields[i++], 0x30, "issuer"));
  const [from, to] = children(der, expect(fields[i++], 0x30, "validity"));
  if (from === undefined || to === undefined) fail("incomplete validity");
  const subject = distinguishedName(der, expect(fields[i++], 0x30, "subject"));
  const spki = expect(fields[i++], 0x30, "SubjectPublicKeyInfo");
  let sans: SubjectAltNames = { dns: [], ip: [], email: [], uri: [] };
  for (const f of fields.slice(i)) {
    if (f.tag !== 0xa3) continue;
    for (const ext of children(der, expect(children(der, f)[0], 0x30, "Extensions"))) {
      const parts = children(der, expect(ext, 0x30, "Extension"));
      if (oid(der, expect(parts[0], 0x06, "extension id")) !== "2.5.29.17") continue;
      sans = altNames(der, expect(parts[parts.length - 1], 0x04, "extension value"));
    }
  }
  let serialBytes = der.subarray(serial.start, serial.end);
  while (serialBytes.length > 1 && serialBytes[0] === 0) serialBytes = serialBytes.subarray(1);
  const raw = der.slice(cert.begin, cert.end);
  const join = (dn: Array<[string, string]>) => dn.map(([k, v]) => `${k}=${v}`).join(", ");
  return {
    subject: join(subject),
    issuer: join(issuer),
    commonName: subject.find(([k]) => k === "CN")?.[1] ?? "",
    subjectAltNames: sans,
    serialNumber: hex(serialBytes, ""),
    validFrom: time(der, from),
    validTo: time(der, to),
    fingerprint256: hex(sha256(raw), ":"),
    spkiSha256: base64Encode(sha256(der.subarray(spki.begin, spki.end))),
    raw,
  };
}
