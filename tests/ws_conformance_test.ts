// The WebSocket handshake and framing conformance cases
// (tests/conformance/ws_handshake: the MUSTs of RFC 6455 §4.1, §4.2, §5,
// §7, §8.1, §10.2, RFC 7692's negotiation and RFC 8441, each naming its
// section) against ffinet in this process: its server driven by raw
// sockets, its client answered by a raw-socket server, its server over
// HTTP/2; one test each. The full run with a summary per runtime (and
// --against=ws) is `node scripts/conformance.mjs ws`.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLIENT_CASES } from "./conformance/ws_handshake/client_cases.ts";
import { H2_CASES } from "./conformance/ws_handshake/h2_cases.ts";
import { type CaseResult, runConformance } from "./conformance/ws_handshake/runner.ts";
import { SERVER_CASES } from "./conformance/ws_handshake/server_cases.ts";

describe("WebSocket conformance (RFC 6455, RFC 7692, RFC 8441)", () => {
  let results: CaseResult[] = [];
  before(async () => {
    // The bound is generous for a loaded machine: a case that passes takes milliseconds.
    results = await runConformance({ caseLimitMs: 10_000 });
  });
  const sides = [["server", SERVER_CASES], ["client", CLIENT_CASES], ["h2", H2_CASES]] as const;
  for (const [side, cases] of sides) {
    for (const k of cases) {
      test(`${side} ${k.id}: ${k.title}`, () => {
        const r = results.find((x) => x.side === side && x.id === k.id);
        assert.ok(r !== undefined, "the case did not run");
        assert.ok(r.passed, `${r.detail}\npeer sent: ${r.trace.slice(0, 2000)}`);
      });
    }
  }
});
