import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadCases, runCase, type Verdict } from "./runner.ts";

// The whole Autobahn case list, in memory, against our server core. The
// echo-driven cases (9.7, 9.8, 12.x, 13.x: 1000 messages each) run with 2
// messages here to keep the suite fast; `npm run conformance -- autobahn`
// runs them with their full counts. Payload sizes are the real ones.
const IN_SUITE_MAX_COUNT = 2;

const cases = loadCases();
const categories = [...new Set(cases.map((c) => c.id.split(".")[0]!))];

test("autobahn: the data holds 517 cases", () => {
  assert.equal(cases.length, 517);
});

for (const role of ["server", "client"] as const) describe(`autobahn in memory, our ${role}`, () => {
  for (const category of categories) {
    test(`category ${category}: no case FAILED`, () => {
      const totals: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, FAILED: 0, "NOT RUN": 0 };
      const failures: string[] = [];
      for (const c of cases.filter((x) => x.id.split(".")[0] === category)) {
        const r = runCase(c, { role, maxCount: IN_SUITE_MAX_COUNT });
        totals[r.verdict]++;
        if (r.verdict === "FAILED") failures.push(`${r.id}: ${r.detail}`);
      }
      assert.deepEqual(failures, []);
      assert.equal(totals["NOT RUN"], 0);
    });
  }
});
