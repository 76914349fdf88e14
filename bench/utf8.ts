/**
 * UTF-8 validation throughput: `isValidUtf8` (core/utf8.ts) against
 * `new TextDecoder("utf-8", { fatal: true }).decode()`, the validation a
 * WebSocket text message needs, on ASCII, mixed Latin and CJK text of 1 KiB
 * and 64 KiB. The peer also builds a string (the decoder has no
 * validate-only mode); that is the cost a JavaScript validator replaces.
 *
 * `isValidUtf8` hands large inputs to a native validator where that is
 * faster (simdutf behind `isUtf8` on Node and Bun, a WebAssembly SIMD
 * validator on Deno; see ffi/utf8_native.ts); the "pure DFA" rows measure
 * the JavaScript automaton alone (`{ native: false }`).
 *
 * @module
 */
import { compare, finish } from "./harness.ts";
import { isValidUtf8 } from "../core/utf8.ts";
import { nativeUtf8 } from "../ffi/utf8_native.ts";

const ascii = "The quick brown fox jumps over the lazy dog; 0123456789 {\"key\": [1, 2, 3]}\n";
const latin = "Größenmaßstäbe für Übermäßige Sätze: élève, garçon, señor, smørrebrød, dæmon. ";
const cjk = "我能吞下玻璃而不伤身体。日本語の文章です、漢字とかな。한국어 텍스트도 있어요. ";

function sample(seed: string, size: number): Uint8Array {
  const unit = new TextEncoder().encode(seed);
  const out = new Uint8Array(size);
  let n = 0;
  // Whole copies of the seed, then ASCII padding so the sample stays valid.
  while (n + unit.length <= size) {
    out.set(unit, n);
    n += unit.length;
  }
  out.fill(0x20, n);
  return out;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
function peer(bytes: Uint8Array): boolean {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

console.log(`native UTF-8 validator: ${nativeUtf8 === null ? "none (pure DFA)" : `${nativeUtf8.name} from ${nativeUtf8.minBytes} B`}`);
const pure = { native: false } as const;
for (const size of [1024, 65536]) {
  for (const [name, seed] of [["ascii", ascii], ["latin", latin], ["cjk", cjk]] as const) {
    const bytes = sample(seed, size);
    if (!isValidUtf8(bytes) || !peer(bytes)) throw new Error(`sample ${name} is not valid UTF-8`);
    await compare({ bench: "utf8", case: `${name} ${size / 1024} KiB` }, {
      ours: () => isValidUtf8(bytes),
      peer: () => peer(bytes),
      peerName: "TextDecoder",
      unit: "MB/s",
      unitsPerCall: size,
    });
    if (nativeUtf8 === null) continue;
    await compare({ bench: "utf8", case: `${name} ${size / 1024} KiB (pure DFA)` }, {
      ours: () => isValidUtf8(bytes, pure),
      peer: () => peer(bytes),
      peerName: "TextDecoder",
      unit: "MB/s",
      unitsPerCall: size,
    });
  }
}
finish();
