/**
 * Shared fixtures of the UTF-8 tests (core/utf8_test.ts,
 * ffi/utf8_native_test.ts): the conformance vectors, hex decoding,
 * `TextDecoder({fatal: true})` as the reference, and fast-check inputs.
 * Named `_test.ts` to stay out of the build.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";

/** The UTF-8 conformance vectors (tests/conformance/ws/utf8_vectors.json; see NOTICE). */
export interface Utf8Vectors {
  vectors: { id: string; hex: string; valid: boolean }[];
  validator_incremental: {
    incremental_validator_checks: { chunks_hex: string[]; results: [boolean, boolean, number, number][] }[];
  };
}

/** The file's compact form: `[id, hex, valid]` and `[chunks, results]` rows. */
interface CompactUtf8Vectors {
  vectors: [string, string, boolean][];
  incremental: [string[], [boolean, boolean, number, number][]][];
}

const compact: CompactUtf8Vectors = JSON.parse(
  readFileSync(new URL("../tests/conformance/ws/utf8_vectors.json", import.meta.url), "utf8"),
);

/** The conformance vectors. */
export const utf8Vectors: Utf8Vectors = {
  vectors: compact.vectors.map(([id, hex, valid]) => ({ id, hex, valid })),
  validator_incremental: {
    incremental_validator_checks: compact.incremental.map(([chunks_hex, results]) => ({ chunks_hex, results })),
  },
};

/** Bytes from hex text ("e282ac"). */
export function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** Whether the runtime's strict TextDecoder accepts `bytes`. */
export function reference(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * UTF-8 text from pieces (`extra` single characters and random strings),
 * the same with up to three bytes overwritten, and random bytes.
 */
export function utf8Inputs(extra: string[], maxParts: number, maxRandom: number): fc.Arbitrary<Uint8Array> {
  const text = fc.array(fc.oneof(fc.constantFrom(...extra), fc.string({ unit: "grapheme", maxLength: 8 })), { maxLength: maxParts })
    .map((parts) => new TextEncoder().encode(parts.join("")));
  const mutated = fc.tuple(text, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
    .map(([bytes, edits]) => {
      const out = bytes.slice();
      for (const [at, b] of edits) if (out.length > 0) out[at % out.length] = b;
      return out;
    });
  return fc.oneof(text, mutated, fc.uint8Array({ maxLength: maxRandom }));
}

test("UTF-8 fixtures: the vectors load and the reference agrees with them", () => {
  assert.ok(utf8Vectors.vectors.length > 0);
  for (const v of utf8Vectors.vectors) assert.equal(reference(hex(v.hex)), v.valid, v.id);
});
