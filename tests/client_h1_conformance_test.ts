// The HTTP/1.1 client conformance cases (tests/conformance/client_h1: what
// RFC 9112 and RFC 9110 ask of a client reading responses, each naming its
// section, played by a raw-socket server) against ffinet's fetch and
// request in this process, one test per case and client. The full run with
// a summary per runtime is `node scripts/conformance.mjs client-h1`.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CASES } from "./conformance/client_h1/cases.ts";
import { type CaseResult, FFINET_CLIENTS, runClientConformance } from "./conformance/client_h1/runner.ts";

describe("HTTP/1.1 client conformance (RFC 9112, RFC 9110)", () => {
  let results: CaseResult[] = [];
  before(async () => {
    // The bound is generous for a loaded machine: a case that passes takes milliseconds.
    results = await runClientConformance({ caseLimitMs: 8_000 });
  });
  for (const client of FFINET_CLIENTS) {
    for (const k of CASES) {
      test(`${client} ${k.id}: ${k.title}`, () => {
        const r = results.find((x) => x.client === client && x.id === k.id);
        assert.ok(r !== undefined, "the case did not run");
        assert.ok(r.passed, `${r.detail}\nserver read: ${JSON.stringify(r.log)}`);
      });
    }
  }
});
