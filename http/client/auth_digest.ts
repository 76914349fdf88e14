/**
 * HTTP Digest access authentication, client side (RFC 7616, and the
 * RFC 2069 form when the challenge has no `qop`): choosing among offered
 * challenges (SHA-512-256 over SHA-256 over MD5; `auth` over `auth-int`),
 * computing `response` (`-sess` variants, `auth-int` over the body bytes,
 * `userhash`) and writing the `Authorization` value. I/O-free and
 * deterministic: the caller gives `cnonce` and `nc`.
 *
 * @example
 * ```ts
 * import { digestAuthorization } from "./auth_digest.ts";
 * // RFC 7616 §3.9.1, SHA-256:
 * const value = digestAuthorization({
 *   algorithm: "SHA-256", username: "Mufasa", password: "Circle of Life", realm: "http-auth@example.org",
 *   nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
 *   nc: 1, qop: "auth", method: "GET", uri: "/dir/index.html", opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
 * });
 * console.log(value.includes('response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"')); // true
 * ```
 *
 * @module
 */
import type { ParsedChallenge } from "./auth_challenge.ts";
import { type DigestHashName, digestHex } from "./auth_hash.ts";

/**
 * A Digest `algorithm` value this client computes.
 *
 * @example
 * ```ts
 * import type { DigestAuthAlgorithm } from "./auth_digest.ts";
 * const a: DigestAuthAlgorithm = "SHA-256-sess";
 * ```
 */
export type DigestAuthAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess" | "SHA-512-256" | "SHA-512-256-sess";

const ALGORITHMS: readonly DigestAuthAlgorithm[] = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"];
// Higher is preferred (RFC 7616 §3.7: the client uses the first one it supports of the server's order; we prefer strength).
const STRENGTH: Record<DigestHashName, number> = { "MD5": 1, "SHA-256": 2, "SHA-512-256": 3 };

/**
 * What one Digest computation needs.
 *
 * @example
 * ```ts
 * import type { DigestInput } from "./auth_digest.ts";
 * const input: DigestInput = { algorithm: "MD5", username: "u", password: "p", realm: "r", nonce: "n", cnonce: "c", nc: 1, qop: null, method: "GET", uri: "/" };
 * ```
 */
export interface DigestInput {
  /** The Digest algorithm. */
  algorithm: DigestAuthAlgorithm;
  /** The user name (UTF-8). */
  username: string;
  /** The password (UTF-8). */
  password: string;
  /** The challenge's realm, one char per octet as the field carried it (hashed as those octets). */
  realm: string;
  /** The challenge's nonce, one char per octet as the field carried it. */
  nonce: string;
  /** Client nonce; unused (and not sent) without qop. */
  cnonce: string;
  /** Request count under this nonce, from 1; sent as 8 hex digits. */
  nc: number;
  /** null is the RFC 2069 form. */
  qop: "auth" | "auth-int" | null;
  /** The request method. */
  method: string;
  /** The request-target as sent (path and query). */
  uri: string;
  /** The body for `auth-int` (null hashes as empty). */
  body?: Uint8Array | null;
  /** The challenge's opaque, echoed. */
  opaque?: string | null;
  /** Send H(username:realm) instead of the name (the challenge asked for it). */
  userhash?: boolean;
  /** Whether the algorithm parameter is written (it is when the challenge named one). */
  sendAlgorithm?: boolean;
}

/**
 * The hash behind an algorithm name, and whether it is a `-sess` variant.
 *
 * @example
 * ```ts
 * import { digestAlgorithmParts } from "./auth_digest.ts";
 * digestAlgorithmParts("SHA-256-sess"); // { hash: "SHA-256", session: true }
 * ```
 */
export function digestAlgorithmParts(algorithm: DigestAuthAlgorithm): { hash: DigestHashName; session: boolean } {
  const session = algorithm.endsWith("-sess");
  return { hash: (session ? algorithm.slice(0, -5) : algorithm) as DigestHashName, session };
}

/**
 * The `response` parameter (RFC 7616 §3.4.1; RFC 2069 §2.1.2 without qop).
 *
 * @example
 * ```ts
 * import { digestResponse } from "./auth_digest.ts";
 * // RFC 2617 §3.5:
 * digestResponse({ algorithm: "MD5", username: "Mufasa", password: "Circle Of Life", realm: "testrealm@host.com",
 *   nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", cnonce: "0a4f113b", nc: 1, qop: "auth", method: "GET", uri: "/dir/index.html" });
 * // "6629fae49393a05397450978507c4ef1"
 * ```
 */
export function digestResponse(input: DigestInput): string {
  const { hash, session } = digestAlgorithmParts(input.algorithm);
  const H = (data: string | Uint8Array) => digestHex(hash, data);
  const W = fieldOctets;
  let ha1 = H(joinOctets([utf8.encode(input.username), W(input.realm), utf8.encode(input.password)]));
  if (session) ha1 = H(joinOctets([W(ha1), W(input.nonce), W(input.cnonce)]));
  const a2 = input.qop === "auth-int" ? joinOctets([W(input.method), W(input.uri), W(H(input.body ?? new Uint8Array(0)))]) : joinOctets([W(input.method), W(input.uri)]);
  if (input.qop === null) return H(joinOctets([W(ha1), W(input.nonce), W(H(a2))]));
  return H(joinOctets([W(ha1), W(input.nonce), W(ncHex(input.nc)), W(input.cnonce), W(input.qop), W(H(a2))]));
}

const utf8 = new TextEncoder();

/**
 * The octets a string stands for in a field value: one octet per char when
 * every char is at most U+00FF (how field values reach us and go out, so a
 * realm or nonce of UTF-8 octets hashes as those octets, as curl and the
 * server hash them), else its UTF-8 (a caller's text that no field could
 * carry as it is). The user name and password are always UTF-8 (RFC 7616
 * §4, `charset=UTF-8`).
 */
function fieldOctets(s: string): Uint8Array {
  let wide = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  if (wide) return utf8.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The parts joined by ":". */
function joinOctets(parts: readonly Uint8Array[]): Uint8Array {
  let n = parts.length - 1;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[at++] = 0x3a;
    out.set(parts[i]!, at);
    at += parts[i]!.length;
  }
  return out;
}

/**
 * `nc` as RFC 7616 §3.4 writes it: 8 lower-case hex digits.
 *
 * @example
 * ```ts
 * import { ncHex } from "./auth_digest.ts";
 * ncHex(26); // "0000001a"
 * ```
 */
export function ncHex(nc: number): string {
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new RangeError(`nc out of range: ${nc}`);
  return nc.toString(16).padStart(8, "0");
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, "\\$&")}"`;
const NEEDS_EXTENDED = /[^\x20-\x7e]/;

/**
 * The full `Authorization` (or `Proxy-Authorization`) value: `Digest` and
 * its parameters in RFC 7616 §3.4's order. A username outside printable
 * ASCII goes as `username*` (RFC 8187) unless `userhash` hides it.
 *
 * @example
 * ```ts
 * import { digestAuthorization } from "./auth_digest.ts";
 * digestAuthorization({ algorithm: "MD5", username: "u", password: "p", realm: "r", nonce: "n", cnonce: "c", nc: 1, qop: null, method: "GET", uri: "/" })
 *   .startsWith('Digest username="u", realm="r"'); // true
 * ```
 */
export function digestAuthorization(input: DigestInput): string {
  const { hash } = digestAlgorithmParts(input.algorithm);
  const parts: string[] = [];
  if (input.userhash === true) parts.push(`username=${quote(digestHex(hash, joinOctets([utf8.encode(input.username), fieldOctets(input.realm)])))}`);
  else if (NEEDS_EXTENDED.test(input.username)) parts.push(`username*=UTF-8''${encodeRFC8187(input.username)}`);
  else parts.push(`username=${quote(input.username)}`);
  parts.push(`realm=${quote(input.realm)}`, `uri=${quote(input.uri)}`);
  if (input.sendAlgorithm !== false) parts.push(`algorithm=${input.algorithm}`);
  parts.push(`nonce=${quote(input.nonce)}`);
  if (input.qop !== null) parts.push(`nc=${ncHex(input.nc)}`, `cnonce=${quote(input.cnonce)}`, `qop=${input.qop}`);
  parts.push(`response=${quote(digestResponse(input))}`);
  if (input.opaque !== undefined && input.opaque !== null) parts.push(`opaque=${quote(input.opaque)}`);
  if (input.userhash === true) parts.push("userhash=true");
  return `Digest ${parts.join(", ")}`;
}

function encodeRFC8187(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/**
 * A Digest challenge the client can answer, with the choices made.
 *
 * @example
 * ```ts
 * import type { DigestChoice } from "./auth_digest.ts";
 * const c: DigestChoice = { algorithm: "SHA-256", qop: "auth", realm: "r", nonce: "n", opaque: null, stale: false, userhash: false, sendAlgorithm: true };
 * ```
 */
export interface DigestChoice {
  /** The algorithm chosen. */
  algorithm: DigestAuthAlgorithm;
  /** The qop chosen; null for the RFC 2069 form. */
  qop: "auth" | "auth-int" | null;
  /** The realm. */
  realm: string;
  /** The nonce. */
  nonce: string;
  /** The opaque to echo. */
  opaque: string | null;
  /** The challenge says the previous nonce went stale. */
  stale: boolean;
  /** The challenge asks for userhash. */
  userhash: boolean;
  /** The challenge named its algorithm (so the answer does too). */
  sendAlgorithm: boolean;
}

/**
 * Picks the Digest challenge to answer among parsed challenges: the
 * strongest hash offered, `auth` when offered (else `auth-int`; none when
 * the challenge has no qop). Challenges without realm or nonce, with only
 * unknown algorithms or qops, are passed over; null when none is left.
 *
 * @example
 * ```ts
 * import { parseAuthChallenges } from "./auth_challenge.ts";
 * import { chooseDigestChallenge } from "./auth_digest.ts";
 * const offered = parseAuthChallenges('Digest realm="r", nonce="a", algorithm=MD5, Digest realm="r", nonce="b", algorithm=SHA-256');
 * chooseDigestChallenge(offered)?.algorithm; // "SHA-256"
 * ```
 */
export function chooseDigestChallenge(challenges: readonly ParsedChallenge[]): DigestChoice | null {
  let best: DigestChoice | null = null;
  let bestStrength = 0;
  for (const c of challenges) {
    if (c.scheme !== "digest") continue;
    const realm = c.params.get("realm");
    const nonce = c.params.get("nonce");
    if (realm === undefined || nonce === undefined) continue;
    const named = c.params.get("algorithm");
    const algorithm = ALGORITHMS.find((a) => a.toLowerCase() === (named ?? "MD5").toLowerCase());
    if (algorithm === undefined) continue;
    const qopParam = c.params.get("qop");
    let qop: DigestChoice["qop"] = null;
    if (qopParam !== undefined) {
      const offered = qopParam.split(",").map((q) => q.trim().toLowerCase());
      if (offered.includes("auth")) qop = "auth";
      else if (offered.includes("auth-int")) qop = "auth-int";
      else continue;
    }
    const strength = STRENGTH[digestAlgorithmParts(algorithm).hash];
    if (strength <= bestStrength) continue;
    bestStrength = strength;
    best = {
      algorithm,
      qop,
      realm,
      nonce,
      opaque: c.params.get("opaque") ?? null,
      stale: c.params.get("stale")?.toLowerCase() === "true",
      userhash: c.params.get("userhash")?.toLowerCase() === "true",
      sendAlgorithm: named !== undefined,
    };
  }
  return best;
}
