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

/** ../shared/conformance/ws/utf8_vectors.json. */
export interface Utf8Vectors {
  vectors: { id: string; hex: string; valid: boolean }[];
  validator_incremental: {
    incremental_validator_checks: { chunks_hex: string[]; results: [boolean, boolean, number, number][] }[];
  };
}

/** The conformance vectors. */
export const utf8Vectors: Utf8Vectors = JSON.parse(
  readFileSync(new URL("../../shared/conformance/ws/utf8_vectors.json", import.meta.url), "utf8"),
);

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
