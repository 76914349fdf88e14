import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./h1_parser.ts";

test("fuzz/h1_parser: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (d) => fuzz(d)), { numRuns: 2000 });
});

test("fuzz/h1_parser: HTTP-shaped token soup", () => {
  const tokens = [
    "GET ", "POST ", "HTTP/1.1", "HTTP/1.0", " 200 OK", "\r\n", "\n", "\r", " ", "\t", ":", "Host: a",
    "Content-Length: ", "Transfer-Encoding: ", "chunked", "gzip", ", ", "0", "5", "ff", ";a=b", "\"q\"",
    "Connection: close", "Connection: upgrade", "Upgrade: x", "/", "*", "a:1", "\x00", "\x7f", "\xff", "abc",
  ];
  const soup = fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((ts) => ts.join(""));
  fc.assert(
    fc.property(fc.nat(255), fc.nat(255), soup, (mode, step, s) => {
      fuzz(Uint8Array.from(String.fromCharCode(mode, step) + s, (c) => c.charCodeAt(0)));
    }),
    { numRuns: 2000 },
  );
});

test("fuzz/h1_parser: mutations of valid messages", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")), {
        maxLength: 5,
      }),
      (seed, muts) => {
        let d = Array.from(seed);
        for (const [at, v, op] of muts) {
          const i = at % Math.max(1, d.length);
          if (op === "set") d[i] = v;
          else if (op === "insert") d.splice(i, 0, v);
          else d.splice(i, 1);
        }
        fuzz(Uint8Array.from(d));
        d = [];
      },
    ),
    { numRuns: 3000 },
  );
});
