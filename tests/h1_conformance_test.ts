// The HTTP/1.1 server conformance cases (tests/conformance/h1: the MUST /
// MUST NOT and important SHOULD requirements RFC 9112 and RFC 9110 put on a
// server, each naming its section, played with raw bytes) against serve()
// in this process: every case over cleartext, the sample marked `tls` over
// TLS too, one test each. The full run with a summary per runtime is
// `node scripts/conformance.mjs h1`.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CASES } from "./conformance/h1/cases.ts";
import { type CaseResult, runConformance } from "./conformance/h1/runner.ts";

describe("HTTP/1.1 server conformance (RFC 9112, RFC 9110)", () => {
  let results: CaseResult[] = [];
  before(async () => {
    // The bound is generous for a loaded machine: a case that passes takes milliseconds.
    results = await runConformance({ caseLimitMs: 10_000 });
  });
  for (const transport of ["h1", "tls"] as const) {
    for (const k of CASES) {
      if (transport === "tls" && k.tls !== true) continue;
      test(`${transport === "tls" ? "TLS" : "cleartext"} ${k.id}: ${k.title}`, () => {
        const r = results.find((x) => x.transport === transport && x.id === k.id);
        assert.ok(r !== undefined, "the case did not run");
        assert.ok(r.passed, `${r.detail}\nserver sent: ${JSON.stringify(r.trace.join(""))}`);
      });
    }
  }
});
