#!/usr/bin/env node
// Generates the HPACK tables (RFC 7541) that http/hpack/ uses:
//
//   http/hpack/static_table.ts   the 61 static entries of Appendix A
//   http/hpack/huffman_table.ts  the canonical Huffman code of Appendix B
//                                and a 4-bit-at-a-time decoding automaton
//
//   node tools/gen_hpack_tables.mjs
//
// The Huffman code of RFC 7541 is canonical: codes of one length are
// consecutive in symbol order and each length continues where the shorter
// one ended. So the bit length of every symbol (typed from Appendix B) is all
// the input needed; the codes are derived and checked against a sample of
// codes printed in the RFC.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

// ---------------------------------------------------------------------------
// Appendix A: the static table.
const STATIC = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];
if (STATIC.length !== 61) throw new Error("static table must have 61 entries");

// ---------------------------------------------------------------------------
// Appendix B: code length in bits of each symbol 0..255 and EOS (256).
// Runs are written as [length, count].
const RUNS = [
  // 0..31: control characters
  [13, 1], [23, 1], [28, 7], [24, 1], [30, 1], [28, 2], [30, 1], [28, 8], [30, 1], [28, 9],
  // 32..47: ' ' ! " # $ % & ' ( ) * + , - . /
  [6, 1], [10, 2], [12, 1], [13, 1], [6, 1], [8, 1], [11, 1], [10, 2], [8, 1], [11, 1], [8, 1], [6, 3],
  // 48..64: 0-2, 3-9, : ; < = > ? @
  [5, 3], [6, 7], [7, 1], [8, 1], [15, 1], [6, 1], [12, 1], [10, 1], [13, 1],
  // 65..96: A, B-W, X, Y, Z, [ \ ] ^ _ `
  [6, 1], [7, 22], [8, 1], [7, 1], [8, 1], [13, 1], [19, 1], [13, 1], [14, 1], [6, 1], [15, 1],
  // 97..127: a-z { | } ~ DEL
  [5, 1], [6, 1], [5, 1], [6, 1], [5, 1], [6, 3], [5, 1], [7, 2], [6, 3], [5, 1], [6, 1], [7, 1],
  [6, 1], [5, 2], [6, 1], [7, 5], [15, 1], [11, 1], [14, 1], [13, 1], [28, 1],
  // 128..159
  [20, 1], [22, 1], [20, 2], [22, 3], [23, 1], [22, 1], [23, 5], [24, 1], [23, 1], [24, 2], [22, 1],
  [23, 1], [24, 1], [23, 4], [21, 1], [22, 1], [23, 1], [22, 1], [23, 2], [24, 1],
  // 160..191
  [22, 1], [21, 1], [20, 1], [22, 2], [23, 2], [21, 1], [23, 1], [22, 2], [24, 1], [21, 1], [22, 1],
  [23, 2], [21, 2], [22, 1], [21, 1], [23, 1], [22, 1], [23, 2], [20, 1], [22, 3], [23, 1], [22, 2],
  [23, 1],
  // 192..223
  [26, 2], [20, 1], [19, 1], [22, 1], [23, 1], [22, 1], [25, 1], [26, 3], [27, 2], [26, 1], [24, 1],
  [25, 1], [19, 1], [21, 1], [26, 1], [27, 2], [26, 1], [27, 1], [24, 1], [21, 2], [26, 2], [28, 1],
  [27, 3],
  // 224..255
  [20, 1], [24, 1], [20, 1], [21, 1], [22, 1], [21, 2], [23, 1], [22, 2], [25, 2], [24, 2], [26, 1],
  [23, 1], [26, 1], [27, 1], [26, 2], [27, 5], [28, 1], [27, 5], [26, 1],
  // 256: EOS
  [30, 1],
];

const lengths = [];
for (const [len, count] of RUNS) for (let i = 0; i < count; i++) lengths.push(len);
if (lengths.length !== 257) throw new Error(`expected 257 code lengths, got ${lengths.length}`);

// Canonical assignment: by length, then by symbol.
const codes = new Array(257).fill(0);
{
  let code = 0;
  let prevLen = 0;
  const order = [...lengths.keys()].sort((a, b) => lengths[a] - lengths[b] || a - b);
  for (const sym of order) {
    code <<= lengths[sym] - prevLen;
    prevLen = lengths[sym];
    codes[sym] = code;
    code++;
  }
  if (code !== 2 ** prevLen) throw new Error("code lengths do not form a complete prefix code");
}

// A sample of codes as printed in Appendix B.
const SAMPLE = {
  0: 0x1ff8, 1: 0x7fffd8, 9: 0xffffea, 10: 0x3ffffffc, 32: 0x14, 36: 0x1ff9, 48: 0x0, 58: 0x5c,
  60: 0x7ffc, 65: 0x21, 88: 0xfc, 92: 0x7fff0, 97: 0x3, 122: 0x7b, 126: 0x1ffd, 127: 0xffffffc,
  128: 0xfffe6, 153: 0x1fffdc, 192: 0x3ffffe0, 199: 0x1ffffec, 203: 0x7ffffde, 220: 0xffffffd,
  239: 0x7ffff4, 249: 0xffffffe, 254: 0x7fffff0, 255: 0x3ffffee, 256: 0x3fffffff,
};
for (const [sym, code] of Object.entries(SAMPLE)) {
  if (codes[Number(sym)] !== code) {
    throw new Error(`symbol ${sym}: derived ${codes[Number(sym)].toString(16)}, RFC ${code.toString(16)}`);
  }
}

// ---------------------------------------------------------------------------
// The decoding automaton. States are the internal nodes of the code tree
// (root = 0). For each state and 4-bit input, an entry says where to go, and
// whether a symbol was completed on the way (at most one: codes are ≥ 5 bits).
//
// entry bits: 0..7 next state, 8..15 symbol, 16 EMIT, 17 ACCEPT (the input
// may end here: the bits since the last symbol are < 8 ones), 18 FAIL (EOS
// reached, which a string must not contain).
const EMIT = 1 << 16, ACCEPT = 1 << 17, FAIL = 1 << 18;
const nodes = [{ child: [-1, -1], sym: -1, depth: 0, ones: true }];
for (let sym = 0; sym < 257; sym++) {
  let n = 0;
  for (let b = lengths[sym] - 1; b >= 0; b--) {
    const bit = (codes[sym] >>> b) & 1;
    const parent = nodes[n];
    if (parent.child[bit] === -1) {
      parent.child[bit] = nodes.length;
      nodes.push({ child: [-1, -1], sym: -1, depth: parent.depth + 1, ones: parent.ones && bit === 1 });
    }
    n = parent.child[bit];
  }
  nodes[n].sym = sym;
}
const internal = [];
const stateOf = new Map();
for (let i = 0; i < nodes.length; i++) {
  if (nodes[i].sym === -1) {
    stateOf.set(i, internal.length);
    internal.push(i);
  }
}
if (internal.length !== 256) throw new Error(`expected 256 internal nodes, got ${internal.length}`);
const accepting = (n) => n === 0 || (nodes[n].ones && nodes[n].depth < 8);
const decodeTable = [];
for (const start of internal) {
  for (let nibble = 0; nibble < 16; nibble++) {
    let n = start;
    let entry = 0;
    for (let b = 3; b >= 0; b--) {
      n = nodes[n].child[(nibble >>> b) & 1];
      const sym = nodes[n].sym;
      if (sym !== -1) {
        if (sym === 256) { entry = FAIL; n = -1; break; }
        entry |= EMIT | (sym << 8);
        n = 0;
      }
    }
    if (n !== -1) {
      entry |= stateOf.get(n);
      if (accepting(n)) entry |= ACCEPT;
    }
    decodeTable.push(entry);
  }
}

// ---------------------------------------------------------------------------
const header = "// Generated by tools/gen_hpack_tables.mjs from RFC 7541. Do not edit.\n";
const rows = (arr, perRow, fmt) => {
  const out = [];
  for (let i = 0; i < arr.length; i += perRow) out.push("  " + arr.slice(i, i + perRow).map(fmt).join(", ") + ",");
  return out.join("\n");
};

writeFileSync(
  `${root}http/hpack/static_table.ts`,
  `${header}/**
 * The HPACK static table (RFC 7541 Appendix A). Index \`i\` (1..61) of the
 * RFC is element \`i - 1\` here.
 *
 * @example
 * \`\`\`ts
 * import { STATIC_NAMES, STATIC_VALUES } from "./static_table.ts";
 * console.log(STATIC_NAMES[1], STATIC_VALUES[1]); // ":method GET" (index 2)
 * \`\`\`
 *
 * @module
 */

/** Number of entries in the static table. */
export const STATIC_TABLE_LENGTH = ${STATIC.length};

/** Field names of the static table, index 1 first. */
export const STATIC_NAMES: readonly string[] = [
${STATIC.map(([n]) => `  ${JSON.stringify(n)},`).join("\n")}
];

/** Field values of the static table, index 1 first. */
export const STATIC_VALUES: readonly string[] = [
${STATIC.map(([, v]) => `  ${JSON.stringify(v)},`).join("\n")}
];
`,
);

writeFileSync(
  `${root}http/hpack/huffman_table.ts`,
  `${header}/**
 * The HPACK Huffman code (RFC 7541 Appendix B) and a decoding automaton that
 * consumes 4 bits per step.
 *
 * @example
 * \`\`\`ts
 * import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";
 * console.log(HUFFMAN_CODES[97], HUFFMAN_LENGTHS[97]); // "3 5" ('a' is 00011)
 * \`\`\`
 *
 * @module
 */

/** Code of each symbol 0..255 and EOS (256), aligned to the least significant bit. */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array([
${rows(codes, 8, (c) => "0x" + c.toString(16))}
]);

/** Code length in bits of each symbol 0..255 and EOS (256). */
export const HUFFMAN_LENGTHS: Uint8Array = new Uint8Array([
${rows(lengths, 16, String)}
]);

/** Decoder entry flag: a symbol (bits 8..15) was completed. */
export const HUFFMAN_EMIT = 0x${EMIT.toString(16)};
/** Decoder entry flag: the input may end in this state (valid padding). */
export const HUFFMAN_ACCEPT = 0x${ACCEPT.toString(16)};
/** Decoder entry flag: the input contained EOS. */
export const HUFFMAN_FAIL = 0x${FAIL.toString(16)};

/**
 * Decoding automaton: entry \`state * 16 + nibble\` holds the next state
 * (bits 0..7), the completed symbol (bits 8..15) and the flags above.
 */
export const HUFFMAN_DECODE: Uint32Array = new Uint32Array([
${rows(decodeTable, 8, (c) => "0x" + c.toString(16))}
]);
`,
);
console.log("wrote http/hpack/static_table.ts and http/hpack/huffman_table.ts");
