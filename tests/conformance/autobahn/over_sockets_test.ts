import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startWirePeer, type WirePeer } from "./over_sockets.ts";
import { loadCases, runCase, type Verdict } from "./runner.ts";

// The Autobahn cases over loopback sockets (over_sockets.ts): ffinet's real
// server and client, each in a child process, against the fuzzer. Here in
// the suite, every case of categories 1–8, 10 and 11 runs, and every fourth
// case of the heavy ones (9: messages up to 16 MiB; 12 and 13: compression),
// the echo-driven ones (9.7, 9.8, 12.x, 13.x) with one message each;
// `npm run conformance -- autobahn-wire` runs every case with full counts.
// The in-memory run (autobahn_test.ts) covers every case in the suite.
const IN_SUITE_MAX_COUNT = 1;
const HEAVY = new Set(["9", "12", "13"]);
const SAMPLE_EVERY = 4;
const cases = loadCases().filter((c, i, all) => {
  const category = c.id.split(".")[0]!;
  if (!HEAVY.has(category)) return true;
  const inCategory = all.filter((x) => x.id.split(".")[0] === category);
  return inCategory.indexOf(c) % SAMPLE_EVERY === 0;
});
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
