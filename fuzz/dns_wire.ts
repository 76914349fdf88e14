/**
 * Fuzz target for the DNS wire parser: the input goes through
 * `decodeMessage`; only a `DNSError` may escape. A message that decodes is
 * encoded again (uncompressed) and must decode to the same message.
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { decodeMessage, type DNSMessage, encodeMessage } from "../dns/wire.ts";

function same(a: DNSMessage, b: DNSMessage): boolean {
  const text = (m: DNSMessage): string => JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
  return text(a) === text(b);
}

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./dns_wire.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export function fuzz(data: Uint8Array): void {
  let m: DNSMessage;
  try {
    m = decodeMessage(data);
  } catch (e) {
    if (e instanceof DNSError) return;
    throw e;
  }
  let again: Uint8Array;
  try {
    again = encodeMessage({ ...m, compress: data.length % 2 === 0 });
  } catch (e) {
    // A decoded message may hold what the encoder refuses (an unknown-kind
    // mismatch cannot happen; a name made > 255 by re-encoding cannot
    // either): only DNSError is acceptable.
    if (e instanceof DNSError) return;
    throw e;
  }
  if (!same(decodeMessage(again), m)) throw new Error("decode(encode(decode(x))) differs from decode(x)");
}

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/**
 * Seed inputs: a query with EDNS, an answer using compression, a pointer
 * loop, an SOA in the authority section.
 *
 * @example
 * ```ts
 * import { seeds } from "./dns_wire.ts";
 * console.log(seeds.length > 0); // true
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  // query example.com A with OPT 1232
  hex("1234 0100 0001 0000 0000 0001 076578616d706c6503636f6d00 0001 0001 00 0029 04d0 00000000 0000"),
  // answer: example.com A 93.184.216.34 via a pointer to offset 12, MX and TXT
  hex(
    "1234 8180 0001 0003 0000 0000 076578616d706c6503636f6d00 0001 0001" +
      "c00c 0001 0001 0000012c 0004 5db8d822" +
      "c00c 000f 0001 0000012c 0009 000a 046d61696c c00c" +
      "c00c 0010 0001 0000012c 0006 0568656c6c6f",
  ),
  // a name pointing to itself
  hex("0001 8180 0001 0000 0000 0000 c00c 0001 0001"),
  // NXDOMAIN with SOA
  hex(
    "0002 8183 0001 0000 0001 0000 016e 0474657374 00 0001 0001" +
      "c00e 0006 0001 00000e10 0020 026e73 c00e 04686f7374 c00e 00000001 00000e10 00000258 00093a80 0000003c",
  ),
];
