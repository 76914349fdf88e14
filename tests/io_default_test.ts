import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { kernelRelease, releaseAtLeast } from "../ffi/kernel.ts";
import { asyncBackends } from "../poll/uring/probe.ts";
import { fixtureJson } from "./io_fixture_helpers.ts";

// The default I/O: io_uring on Linux 6.1+ where the probe passes, readiness
// elsewhere; FFINET_IO=readiness forces epoll, FFINET_IO=uring asks for
// io_uring on any kernel the probe accepts; another value is ignored with
// one warning on stderr. Each case is a child process with its own
// FFINET_IO ("" counts as unset, so the parent's own FFINET_IO, as the
// bun-readiness run sets it, does not leak in).

const release = kernelRelease();
const byDefault = process.platform === "linux" && release !== undefined && releaseAtLeast(release, 6, 1);
const available = asyncBackends().io_uring;
const kind = (wanted: boolean): string => (wanted && available ? "io_uring" : "readiness");

const child = (value: string) => fixtureJson("io_default_fixture.ts", [], value);

describe("the default I/O and FFINET_IO", () => {
  test("unset: io_uring on Linux 6.1+ where the kernel allows it, else readiness; no warning", async () => {
    const { got, stderr } = await child("");
    assert.deepEqual(got, {
      chosen: kind(byDefault),
      requested: byDefault,
      io: kind(byDefault),
      byDefault,
      available,
      release: release ?? null,
      echoed: "ping",
    });
    assert.doesNotMatch(stderr, /FFINET_IO/);
  });

  test("FFINET_IO=readiness forces epoll whatever the kernel", async () => {
    const { got, stderr } = await child("readiness");
    assert.equal(got.chosen, "readiness");
    assert.equal(got.requested, false);
    assert.equal(got.io, "readiness");
    assert.equal(got.echoed, "ping");
    assert.doesNotMatch(stderr, /FFINET_IO/);
  });

  test("FFINET_IO=uring asks for io_uring on any kernel the probe accepts", async () => {
    const { got, stderr } = await child("uring");
    assert.equal(got.chosen, kind(true));
    assert.equal(got.requested, true);
    assert.equal(got.io, kind(true));
    assert.equal(got.echoed, "ping");
    assert.doesNotMatch(stderr, /FFINET_IO/);
  });

  test("another value is ignored with one warning on stderr naming the accepted values; the default applies", async () => {
    for (const value of ["epoll", "URING", "io_uring"]) {
      const { got, stderr } = await child(value);
      assert.equal(got.chosen, kind(byDefault), value);
      assert.equal(got.io, kind(byDefault), value);
      assert.equal(got.echoed, "ping", value);
      const warnings = stderr.split("\n").filter((l) => l.includes("FFINET_IO"));
      assert.equal(warnings.length, 1, `one warning for ${value} after 50+ choices:\n${stderr}`);
      assert.match(warnings[0]!, new RegExp(`FFINET_IO="${value}" is not "uring" or "readiness"; ignored`));
    }
  });
});
