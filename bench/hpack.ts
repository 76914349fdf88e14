/**
 * HPACK encode and decode of realistic request and response header sets,
 * ffinet against the npm `hpack.js` (through its documented compressor and
 * decompressor). Each call runs a whole connection's worth of blocks (fresh
 * tables, 50 requests or responses), so table insertions and lookups count.
 *
 * Fairness: both sides produce owned bytes per block (our `encode()`, not
 * the zero-copy `encodeView()`) and decode every field. hpack.js is only
 * usable through its stream API (write/read, readable-stream underneath), so
 * that overhead is part of its number. The strategies differ: hpack.js
 * indexes every field and always uses Huffman; ours skips indexing volatile
 * fields and uses Huffman only where shorter, and its blocks come out
 * smaller (printed at the start of a run).
 *
 * @module
 */
import { createRequire } from "node:module";
import { compare, finish } from "./harness.ts";
import { HPACKDecoder, HPACKEncoder } from "../http/hpack/mod.ts";

interface PeerField {
  name: string;
  value: string;
}
interface PeerCompressor {
  write(fields: PeerField[]): void;
  read(): Uint8Array | null;
}
interface PeerDecompressor {
  write(block: Uint8Array): void;
  execute(): void;
  read(): PeerField | null;
}
interface PeerHpack {
  compressor: { create(o: { table: { size: number } }): PeerCompressor };
  decompressor: { create(o: { table: { size: number } }): PeerDecompressor };
}
const hpack = createRequire(import.meta.url)("hpack.js") as PeerHpack;

const N = 50;
const requests: string[][] = [];
const responses: string[][] = [];
for (let i = 0; i < N; i++) {
  requests.push([
    ":method", i % 5 === 0 ? "POST" : "GET",
    ":scheme", "https",
    ":authority", "www.example.com",
    ":path", `/api/v1/items/${1000 + i}?view=full&lang=en`,
    "user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "accept-language", "en-US,en;q=0.5",
    "accept-encoding", "gzip, deflate, br",
    "cookie", "session=4f9c2a7be8d14c0b9a6e3f5d2c1b0a99; theme=dark; consent=yes",
    "referer", "https://www.example.com/items",
    "sec-fetch-mode", "navigate",
    "x-request-id", `req-${(i * 7919).toString(16)}`,
  ]);
  responses.push([
    ":status", i % 7 === 0 ? "304" : "200",
    "content-type", "application/json; charset=utf-8",
    "content-length", String(1024 + i * 13),
    "date", `Mon, 21 Oct 2024 20:13:${String(10 + (i >> 3)).padStart(2, "0")} GMT`,
    "cache-control", "private, max-age=0, must-revalidate",
    "server", "ffinet",
    "vary", "accept-encoding",
    "etag", `"${(i * 104729).toString(36)}-v2"`,
    "strict-transport-security", "max-age=31536000; includeSubDomains",
    "x-request-id", `req-${(i * 7919).toString(16)}`,
  ]);
}

function peerFields(flat: string[]): PeerField[] {
  const out: PeerField[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ name: flat[i]!, value: flat[i + 1]! });
  return out;
}

function ourEncodeAll(sets: string[][]): number {
  const enc = new HPACKEncoder();
  let bytes = 0;
  for (const s of sets) bytes += enc.encode(s).length;
  return bytes;
}

function peerEncodeAll(sets: PeerField[][]): number {
  const comp = hpack.compressor.create({ table: { size: 4096 } });
  let bytes = 0;
  for (const s of sets) {
    comp.write(s);
    for (let chunk = comp.read(); chunk !== null; chunk = comp.read()) bytes += chunk.length;
  }
  return bytes;
}

function ourDecodeAll(blocks: Uint8Array[]): number {
  const dec = new HPACKDecoder();
  let n = 0;
  for (const b of blocks) n += dec.decode(b).length;
  return n;
}

function peerDecodeAll(blocks: Uint8Array[]): number {
  const dec = hpack.decompressor.create({ table: { size: 4096 } });
  let n = 0;
  for (const b of blocks) {
    dec.write(b);
    dec.execute();
    for (let f = dec.read(); f !== null; f = dec.read()) n++;
  }
  return n;
}

for (const [label, sets] of [["requests", requests], ["responses", responses]] as const) {
  const peerSets = sets.map(peerFields);
  const enc = new HPACKEncoder();
  const blocks = sets.map((s) => enc.encode(s));
  // Sanity: the peer decodes our blocks to the same fields.
  if (peerDecodeAll(blocks) * 2 !== ourDecodeAll(blocks)) throw new Error("peer disagrees");
  console.log(`hpack ${label}: ${ourEncodeAll(sets)} bytes ours, ${peerEncodeAll(peerSets)} bytes hpack.js`);
  await compare({ bench: "hpack", case: `encode ${N} ${label}` }, {
    ours: () => ourEncodeAll(sets),
    peer: () => peerEncodeAll(peerSets),
    peerName: "hpack.js",
    unitsPerCall: N,
  });
  await compare({ bench: "hpack", case: `decode ${N} ${label}` }, {
    ours: () => ourDecodeAll(blocks),
    peer: () => peerDecodeAll(blocks),
    peerName: "hpack.js",
    unitsPerCall: N,
  });
}
finish();
