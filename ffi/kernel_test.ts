import assert from "node:assert/strict";
import { release } from "node:os";
import { describe, test } from "node:test";
import { kernelRelease, releaseAtLeast } from "./kernel.ts";

describe("kernel release", () => {
  test("uname's release is the one the runtime reports (Linux), undefined elsewhere", () => {
    if (process.platform === "linux") assert.equal(kernelRelease(), release());
    else assert.equal(kernelRelease(), undefined);
    assert.equal(kernelRelease(), kernelRelease(), "read once");
  });

  test("releaseAtLeast compares major then minor, numerically", () => {
    const cases: [string, boolean][] = [
      ["6.1.0-13-amd64", true],
      ["6.1", true],
      ["6.18.44-fc-v1272", true],
      ["6.10.0", true],
      ["7.0.0", true],
      ["10.2.3", true],
      ["6.0.19", false],
      ["5.19.17", false],
      ["5.15.0-91-generic", false],
      ["4.19.0+", false],
      ["", false],
      ["Linux", false],
      ["6", false],
      ["v6.1", false],
    ];
    for (const [r, want] of cases) assert.equal(releaseAtLeast(r, 6, 1), want, r);
    assert.equal(releaseAtLeast("5.12.0", 5, 12), true);
    assert.equal(releaseAtLeast("5.11.22", 5, 12), false);
  });
});
