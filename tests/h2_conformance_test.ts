// The HTTP/2 server conformance cases (tests/conformance/h2: numbered after
// h2spec's list, written from RFC 9113 and RFC 7541 with our own raw-frame
// driver) against serve() in this process, over h2c by prior knowledge and
// over TLS with ALPN h2: every case on both, one test each. The full run
// with a summary per runtime is `node scripts/conformance.mjs h2`.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CASES } from "./conformance/h2/all_cases.ts";
import { type CaseResult, runConformance } from "./conformance/h2/runner.ts";

describe("HTTP/2 server conformance (h2spec's cases and more)", () => {
  let results: CaseResult[] = [];
  before(async () => {
    // The bound is generous for a loaded machine: a case that passes takes milliseconds.
    results = await runConformance({ caseLimitMs: 10_000 });
  });
  for (const transport of ["h2c", "h2"] as const) {
    for (const k of CASES) {
      test(`${transport === "h2" ? "TLS" : "h2c"} ${k.id}: ${k.title}`, () => {
        const r = results.find((x) => x.transport === transport && x.id === k.id);
        assert.ok(r !== undefined, "the case did not run");
        assert.ok(r.passed, `${r.detail}\nserver sent: ${r.trace.join(" | ")}`);
      });
    }
  }
});
