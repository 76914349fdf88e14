// The HTTP/2 client conformance cases (tests/conformance/client_h2: what
// RFC 9113 and RFC 7541 ask of a client, each naming its section, played
// frame by frame by a raw server) against ffinet's fetch and request in
// this process: every case over h2c by prior knowledge, the sample marked
// `tls` over TLS with ALPN h2 too, one test each. Each case is capped
// (10 s on a loaded machine; a passing case takes milliseconds). The full
// run with a summary per runtime is `node scripts/conformance.mjs client-h2`.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CASES } from "./conformance/client_h2/cases.ts";
import { type CaseResult, H2_CLIENTS, runClientH2Conformance } from "./conformance/client_h2/runner.ts";

describe("HTTP/2 client conformance (RFC 9113, RFC 7541)", () => {
  let results: CaseResult[] = [];
  before(async () => {
    results = await runClientH2Conformance({ caseLimitMs: 10_000 });
  });
  for (const transport of ["h2c", "tls"] as const) {
    for (const client of H2_CLIENTS) {
      for (const k of CASES) {
        if (transport === "tls" && k.tls !== true) continue;
        test(`${transport} ${client} ${k.id}: ${k.title}`, () => {
          const r = results.find((x) => x.transport === transport && x.client === client && x.id === k.id);
          assert.ok(r !== undefined, "the case did not run");
          assert.ok(r.passed, r.detail);
        });
      }
    }
  }
});
