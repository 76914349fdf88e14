import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startWirePeer, type WirePeer } from "./over_sockets.ts";
import { loadCases, runCase, type Verdict } from "./runner.ts";

// The Autobahn cases over loopback sockets (over_sockets.ts): ffinet's real
// server and client, each in a child process, against the fuzzer. Every
// case runs, the echo-driven ones (9.7, 9.8, 12.x, 13.x) with one message
// each here; `npm run conformance -- autobahn` runs the full counts.
const IN_SUITE_MAX_COUNT = 1;
const cases = loadCases();
const categories = [...new Set(cases.map((c) => c.id.split(".")[0]!))];

for (const role of ["server", "client"] as const) describe(`autobahn over sockets, our ${role}`, () => {
  let peer: WirePeer;
  before(async () => {
    peer = await startWirePeer(role);
  });
  after(() => peer.close());
  for (const category of categories) {
    test(`category ${category}: no case FAILED`, () => {
      const totals: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, FAILED: 0, "NOT RUN": 0 };
      const failures: string[] = [];
      for (const c of cases.filter((x) => x.id.split(".")[0] === category)) {
        const r = runCase(c, { ...peer.options, maxCount: IN_SUITE_MAX_COUNT });
        totals[r.verdict]++;
        if (r.verdict === "FAILED") failures.push(`${r.id}: ${r.detail}`);
      }
      assert.deepEqual(failures, []);
      assert.equal(totals["NOT RUN"], 0);
      assert.ok(totals.OK + totals["NON-STRICT"] + totals.INFORMATIONAL > 0);
    });
  }
});
