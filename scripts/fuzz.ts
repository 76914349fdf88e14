/**
 * Long fuzzing campaigns for the harnesses in fuzz/: a mutation fuzzer
 * (random bytes, bit flips, byte insertions and deletions, interesting
 * values, splices of earlier inputs) that calls `fuzz(data)` for a given
 * time and reports executions, a throughput figure and any crash, with the
 * crashing input written to fuzz/crashes/.
 *
 * The harnesses also export the jazzer.js signature; jazzer.js itself needs
 * glibc ≥ 2.38 for its prebuilt fuzzer and cannot run on Debian 12 here.
 *
 *   node --import tsx scripts/fuzz.ts h1_parser --seconds=60
 *   deno run -A scripts/fuzz.ts hpack_decode --seconds=60
 *   bun scripts/fuzz.ts ws_receiver --seconds=60
 *   npm run fuzz -- --list            the harness names
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const proc = (globalThis as { process?: { argv: string[]; exit(c: number): never } }).process;
const args = proc?.argv.slice(2) ?? [];
const name = args.find((a) => !a.startsWith("--"));
const seconds = Number(args.find((a) => a.startsWith("--seconds="))?.slice(10) ?? 30);
const maxLen = Number(args.find((a) => a.startsWith("--max-len="))?.slice(10) ?? 4096);
// The harnesses: fuzz/*.ts files (not tests) that export `fuzz`.
const fuzzDir = fileURLToPath(new URL("../fuzz/", import.meta.url));
const harnesses = readdirSync(fuzzDir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"))
  .filter((f) => /export function fuzz\b/.test(readFileSync(fuzzDir + f, "utf8")))
  .map((f) => f.slice(0, -3))
  .sort();
if (args.includes("--list")) {
  console.log(harnesses.join("\n"));
  proc?.exit(0);
}
if (!name || !harnesses.includes(name)) {
  if (name) console.error(`no fuzz harness named ${name}`);
  console.error("usage: scripts/fuzz.ts NAME [--seconds=N] [--max-len=N] (or --list)");
  console.error(`harnesses: ${harnesses.join(", ")}`);
  proc?.exit(2);
}
const harness = (await import(`../fuzz/${name}.ts`)) as {
  fuzz: (data: Uint8Array) => void;
  seeds?: readonly Uint8Array[];
};

// xorshift32: fast, deterministic per run seed.
let state = (Date.now() ^ 0x9e3779b9) >>> 0 || 1;
const rand = (n: number) => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
};
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x0d, 0x0a, 0x20, 0x3a, 0x00];

const corpus: Uint8Array[] = [...(harness.seeds ?? []), new Uint8Array(0)];
function mutate(input: Uint8Array): Uint8Array {
  let out = Uint8Array.from(input);
  const steps = 1 + rand(4);
  for (let s = 0; s < steps; s++) {
    switch (rand(7)) {
      case 0: // random bytes
        out = crypto.getRandomValues(new Uint8Array(rand(64) + 1));
        break;
      case 1: // flip a bit
        if (out.length) out[rand(out.length)]! ^= 1 << rand(8);
        break;
      case 2: { // insert bytes
        const at = rand(out.length + 1);
        const ins = crypto.getRandomValues(new Uint8Array(1 + rand(8)));
        const next = new Uint8Array(out.length + ins.length);
        next.set(out.subarray(0, at));
        next.set(ins, at);
        next.set(out.subarray(at), at + ins.length);
        out = next;
        break;
      }
      case 3: { // delete a range
        if (!out.length) break;
        const at = rand(out.length);
        const n = 1 + rand(Math.min(16, out.length - at));
        const next = new Uint8Array(out.length - n);
        next.set(out.subarray(0, at));
        next.set(out.subarray(at + n), at);
        out = next;
        break;
      }
      case 4: // interesting value
        if (out.length) out[rand(out.length)] = INTERESTING[rand(INTERESTING.length)]!;
        break;
      case 5: { // splice with another corpus entry
        const other = corpus[rand(corpus.length)]!;
        const a = out.subarray(0, rand(out.length + 1));
        const b = other.subarray(rand(other.length + 1));
        out = new Uint8Array(a.length + b.length);
        out.set(a);
        out.set(b, a.length);
        break;
      }
      default: { // duplicate a range
        if (!out.length) break;
        const at = rand(out.length);
        const piece = out.subarray(at, at + 1 + rand(32));
        const next = new Uint8Array(out.length + piece.length);
        next.set(out);
        next.set(piece, out.length);
        out = next;
      }
    }
  }
  return out.length > maxLen ? out.subarray(0, maxLen) : out;
}

const deadline = performance.now() + seconds * 1000;
let executions = 0;
let crashes = 0;
while (performance.now() < deadline) {
  for (let i = 0; i < 256; i++) {
    const input = mutate(corpus[rand(corpus.length)]!);
    executions++;
    try {
      harness.fuzz(input);
      if (corpus.length < 4096 && rand(64) === 0) corpus.push(input);
    } catch (err) {
      crashes++;
      mkdirSync("fuzz/crashes", { recursive: true });
      const file = `fuzz/crashes/${name}-${Date.now()}-${crashes}.bin`;
      writeFileSync(file, input);
      console.error(`crash ${crashes}: ${(err as Error)?.stack ?? String(err)}\ninput saved to ${file}`);
      if (crashes >= 10) break;
    }
  }
  if (crashes >= 10) break;
}
console.log(
  `fuzz ${name}: ${executions} executions in ${seconds} s (${Math.round(executions / seconds)}/s), ${crashes} crashes`,
);
if (crashes > 0) (globalThis as { process?: { exit(c: number): never } }).process?.exit(1);
