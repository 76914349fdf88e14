// Cross-checks the frame layer with an independent implementation: the npm
// `ws` package's Receiver and Sender (loaded by path: Bun replaces the `ws`
// package with its own, which has neither).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { Receiver } from "./receiver.ts";
import { Sender } from "./sender.ts";

interface PeerReceiver {
  on(event: string, fn: (...args: never[]) => void): void;
  _write(chunk: Buffer, encoding: string, cb: (err?: Error | null) => void): void;
}
type FrameOptions = { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean };
const require = createRequire(import.meta.url);
const lib = (file: string): string => fileURLToPath(new URL(`../node_modules/ws/lib/${file}`, import.meta.url));
const PeerReceiverClass = require(lib("receiver.js")) as new (o: { isServer: boolean; allowSynchronousEvents: boolean }) => PeerReceiver;
const PeerSender = require(lib("sender.js")) as { frame(data: Buffer, o: FrameOptions): Buffer[] };

type Msg = { binary: boolean; data: Uint8Array; fragment: number; ping: boolean };
const message: fc.Arbitrary<Msg> = fc.record({
  binary: fc.boolean(),
  data: fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s))),
  fragment: fc.integer({ min: 0, max: 300 }),
  ping: fc.boolean(),
}).map((m) => (m.binary ? m : { ...m, data: new TextEncoder().encode(new TextDecoder().decode(m.data)) }));

let compared = 0;
function expected(msgs: Msg[]): unknown[] {
  compared += msgs.length;
  return msgs.flatMap((m) => [...(m.ping ? [["ping", [7]]] : []), ["message", m.binary, Array.from(m.data)]]);
}

describe("ws frames against the npm ws package", () => {
  test("our client's frames, read by ws's server receiver", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.integer({ min: 1, max: 500 }), (msgs, chunk) => {
        const tx = new Sender({ role: "client" });
        const got: unknown[] = [];
        const rx = new PeerReceiverClass({ isServer: true, allowSynchronousEvents: true });
        rx.on("message", ((data: Buffer, isBinary: boolean) => got.push(["message", isBinary, Array.from(data)])) as never);
        rx.on("ping", ((data: Buffer) => got.push(["ping", Array.from(data)])) as never);
        rx.on("error", ((err: Error) => {
          throw err;
        }) as never);
        const wire = Buffer.concat(msgs.flatMap((m) => [...(m.ping ? [tx.ping(new Uint8Array([7]))] : []), ...tx.message(m.data, { binary: m.binary, fragmentSize: m.fragment })]));
        for (let at = 0; at < wire.length; at += chunk) rx._write(wire.subarray(at, at + chunk), "buffer", () => {});
        assert.deepEqual(got, expected(msgs));
      }),
      { numRuns: 150 },
    );
  });

  test("ws's masked client frames, read by our server receiver", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.integer({ min: 1, max: 500 }), (msgs, chunk) => {
        const got: unknown[] = [];
        const rx = new Receiver({
          role: "server",
          handler: {
            onMessage: (data, binary) => got.push(["message", binary, Array.from(data)]),
            onPing: (data) => got.push(["ping", Array.from(data)]),
            onPong() {},
            onClose() {},
          },
        });
        const frames: Buffer[] = [];
        for (const m of msgs) {
          if (m.ping) frames.push(...PeerSender.frame(Buffer.from([7]), { fin: true, mask: true, opcode: 9, readOnly: true, rsv1: false }));
          const size = m.fragment === 0 ? Math.max(1, m.data.length) : m.fragment;
          const data = Buffer.from(m.data);
          for (let at = 0; at < data.length || at === 0; at += size) {
            const end = Math.min(at + size, data.length);
            frames.push(...PeerSender.frame(data.subarray(at, end), {
              fin: end >= data.length,
              mask: true,
              opcode: at === 0 ? (m.binary ? 2 : 1) : 0,
              readOnly: true,
              rsv1: false,
            }));
            if (data.length === 0) break;
          }
        }
        const wire = Buffer.concat(frames);
        for (let at = 0; at < wire.length; at += chunk) rx.push(new Uint8Array(wire.subarray(at, at + chunk)));
        assert.deepEqual(got, expected(msgs));
      }),
      { numRuns: 150 },
    );
  });

  test("the properties compared messages", () => {
    assert.ok(compared > 300, `only ${compared} messages compared`);
  });
});
