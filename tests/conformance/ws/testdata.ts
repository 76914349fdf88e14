/**
 * The payloads of the echo-driven permessage-deflate cases (12.x, 13.x),
 * generated instead of stored. Autobahn|Testsuite sends slices of five
 * files there (JSON, a grey-scale bitmap, a book, HTML, a PDF); what those
 * cases test is that every slice, compressed and fragmented in all the
 * negotiated ways, comes back byte-exact. These generators make
 * deterministic stand-ins of the same sizes and the same kinds: ASCII text
 * for the two sent as text messages (any slice of it is valid UTF-8),
 * compressible structure, UTF-8 prose, and high-entropy binary mixed with
 * text, so the deflate streams see the same variety. See NOTICE.
 *
 * @module
 */

/** The names the case data uses (tools/convert_autobahn.mjs maps the original files to them). */
export type TestdataName = "json" | "bitmap" | "book" | "html" | "document";

/** Sizes of the original files, so messages wrap around at the same offsets. */
const SIZES: Record<TestdataName, number> = {
  json: 194_056,
  bitmap: 263_222,
  book: 222_218,
  html: 263_647,
  document: 1_042_328,
};

/** A small deterministic generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

const enc = new TextEncoder();

/** Text pieces appended until `size` bytes, cut at exactly `size`. */
function textOf(size: number, next: () => string): Uint8Array {
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const piece = next();
    parts.push(piece);
    length += enc.encode(piece).length;
  }
  return enc.encode(parts.join("")).subarray(0, size);
}

const WORDS = ["alpha", "beta", "gamma", "delta", "socket", "frame", "window", "deflate", "message", "buffer", "echo", "latency"];

function json(size: number): Uint8Array {
  const rand = random(0x15011);
  let id = 0;
  const record = (): string => {
    id++;
    const tags = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => `"${pick(rand, WORDS)}"`).join(", ");
    return `  {\n    "id": ${id},\n    "name": "${pick(rand, WORDS)}-${Math.floor(rand() * 1e6)}",\n` +
      `    "active": ${rand() < 0.5},\n    "score": ${(rand() * 100).toFixed(3)},\n    "tags": [${tags}]\n  },\n`;
  };
  let first = true;
  return textOf(size, () => {
    if (!first) return record();
    first = false;
    return "[\n";
  });
}

function html(size: number): Uint8Array {
  const rand = random(0x47d1);
  let first = true;
  const sentence = (): string => Array.from({ length: 5 + Math.floor(rand() * 10) }, () => pick(rand, WORDS)).join(" ");
  return textOf(size, () => {
    if (first) {
      first = false;
      return "<!DOCTYPE html>\n<html>\n<head><title>generated</title></head>\n<body>\n";
    }
    const r = rand();
    if (r < 0.2) return `<h2 class="section">${sentence()}</h2>\n`;
    if (r < 0.4) return `<ul>\n${Array.from({ length: 3 }, () => `  <li><a href="/${pick(rand, WORDS)}/${Math.floor(rand() * 1000)}">${sentence()}</a></li>\n`).join("")}</ul>\n`;
    return `<p>${sentence()}. ${sentence()}.</p>\n`;
  });
}

const SYLLABLES = ["der", "die", "und", "ich", "nicht", "schön", "Mephisto", "Geist", "über", "Höhe", "Nacht", "Faß", "grün", "Welt", "müde"];

function book(size: number): Uint8Array {
  const rand = random(0xfa057);
  return textOf(size, () => {
    const words = Array.from({ length: 4 + Math.floor(rand() * 8) }, () => pick(rand, SYLLABLES)).join(" ");
    return rand() < 0.15 ? `\n${words.toUpperCase()}.\n` : `${words}, ${pick(rand, SYLLABLES)}!\n`;
  });
}

function bitmap(size: number): Uint8Array {
  // A 512×512 8-bit grey-scale BMP: 54-byte header, 256-entry palette, pixels.
  const width = 512;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  dv.setUint32(2, size, true);
  dv.setUint32(10, 54 + 1024, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, width, true);
  dv.setInt32(22, width, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 8, true);
  for (let i = 0; i < 256; i++) out.set([i, i, i, 0], 54 + 4 * i);
  const rand = random(0xb17);
  for (let at = 54 + 1024, p = 0; at < size; at++, p++) {
    const x = p % width;
    const y = Math.floor(p / width);
    const smooth = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + 40 * Math.sin((x + y) / 91);
    out[at] = Math.max(0, Math.min(255, Math.round(smooth + (rand() - 0.5) * 24)));
  }
  return out;
}

function document(size: number): Uint8Array {
  // Text objects between stretches of incompressible bytes, like a PDF's
  // dictionaries around deflated streams.
  const out = new Uint8Array(size);
  const rand = random(0xd0c);
  let at = 0;
  let object = 0;
  while (at < size) {
    object++;
    const head = enc.encode(`${object} 0 obj\n<< /Length ${1000 + Math.floor(rand() * 3000)} /Filter /FlateDecode >>\nstream\n`);
    out.set(head.subarray(0, size - at), at);
    at += head.length;
    const end = Math.min(size, at + 1000 + Math.floor(rand() * 3000));
    for (; at < end; at++) out[at] = Math.floor(rand() * 256);
    const tail = enc.encode("\nendstream\nendobj\n");
    if (at < size) out.set(tail.subarray(0, size - at), at);
    at += tail.length;
  }
  return out;
}

const GENERATORS: Record<TestdataName, (size: number) => Uint8Array> = { json, bitmap, book, html, document };

const made = new Map<TestdataName, Uint8Array>();

/** The generated payload file `name`, made once. */
export function testdata(name: TestdataName): Uint8Array {
  let bytes = made.get(name);
  if (bytes === undefined) {
    const generate = GENERATORS[name];
    if (generate === undefined) throw new RangeError(`no test data named ${String(name)}`);
    bytes = generate(SIZES[name]);
    made.set(name, bytes);
  }
  return bytes;
}
