import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Receiver } from "./receiver.ts";
import { dropHold, holdFrames, Sender } from "./sender.ts";

describe("ws sender: holding the shared frames buffer", () => {
  test("release runs before any sender writes the shared buffer again, so a copy made then is the held message", () => {
    const a = new Sender({ role: "server" });
    const b = new Sender({ role: "server" });
    let held: Uint8Array = a.messageFrames("first");
    const expected = held.slice();
    let released = 0;
    const release = () => {
      released++;
      held = held.slice();
    };
    holdFrames(release);
    const other = b.messageFrames("second, from another sender");
    assert.equal(released, 1);
    assert.deepEqual(held, expected);
    assert.deepEqual(other, new Sender({ role: "server" }).message("second, from another sender")[0]);
    b.messageFrames("third");
    assert.equal(released, 1); // a hold is released once
  });

  test("dropHold ends a hold without running it; a new hold releases the one before it", () => {
    const tx = new Sender({ role: "server" });
    const calls: string[] = [];
    const first = () => void calls.push("first");
    const second = () => void calls.push("second");
    holdFrames(first);
    dropHold(first);
    tx.messageFrames("x");
    assert.deepEqual(calls, []);
    holdFrames(first);
    holdFrames(second);
    assert.deepEqual(calls, ["first"]);
    dropHold(first); // not the holder any more: nothing changes
    tx.messageFrames("y");
    assert.deepEqual(calls, ["first", "second"]);
  });
});

describe("ws receiver: inputLeft", () => {
  test("during each handler call: the bytes of the chunk after the frame delivered; 0 after push", () => {
    const frames = [new Uint8Array([0x81, 0x01, 0x61]), new Uint8Array([0x89, 0x00]), new Uint8Array([0x82, 0x02, 1, 2])];
    const chunk = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      chunk.set(f, at);
      at += f.length;
    }
    const seen: number[] = [];
    const rx: Receiver = new Receiver({
      role: "client",
      handler: {
        onMessage: () => void seen.push(rx.inputLeft),
        onPing: () => void seen.push(rx.inputLeft),
        onPong: () => {},
        onClose: () => {},
      },
    });
    rx.push(chunk);
    assert.deepEqual(seen, [6, 4, 0]);
    assert.equal(rx.inputLeft, 0);
    // A message whose last bytes come in a later push: what follows it in that push.
    seen.length = 0;
    rx.push(new Uint8Array([0x81, 0x03, 0x61]));
    rx.push(new Uint8Array([0x62, 0x63, 0x89, 0x00]));
    assert.deepEqual(seen, [2, 0]);
  });
});

describe("ws sender: one-frame views of the shared buffer", () => {
  /** A `role` sender and a receiver of the other role collecting copies of the messages in `got`. */
  function loopback(role: "server" | "client"): { tx: Sender; rx: Receiver; got: Uint8Array[] } {
    const got: Uint8Array[] = [];
    const rx = new Receiver({
      role: role === "server" ? "client" : "server",
      handler: { onMessage: (data) => void got.push(data.slice()), onPing() {}, onPong() {}, onClose() {} },
    });
    return { tx: new Sender({ role }), rx, got };
  }

  test("text of every length around the header sizes, masked and not, decodes to itself; a view reused for the same length shows the latest message only", () => {
    for (const role of ["server", "client"] as const) {
      const { tx, rx, got } = loopback(role);
      for (let n = 0; n <= 300; n++) {
        for (const fill of ["a", "é"]) {
          const text = fill.repeat(fill === "a" ? n : n >> 1);
          const frame = tx.messageFrames(text);
          rx.push(frame.slice());
          assert.equal(new TextDecoder().decode(got.pop()), text, `${role} ${n} ${fill}`);
        }
      }
      // Same length twice: the second call may hand out the same view, now holding the second message.
      const first = tx.messageFrames("one");
      const firstCopy = first.slice();
      const second = tx.messageFrames("two");
      rx.push(firstCopy);
      rx.push(second.slice());
      assert.deepEqual(got.map((d) => new TextDecoder().decode(d)), ["one", "two"]);
    }
  });

  test("bytes of every length around the header sizes, masked and not, arrive as sent; the same view for the same size, right after the buffer grew", () => {
    for (const role of ["server", "client"] as const) {
      const { tx, rx, got } = loopback(role);
      const check = (n: number, seed: number): Uint8Array => {
        const data = new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
        const frame = tx.messageFrames(data);
        rx.push(frame.slice());
        assert.deepEqual(got.pop(), data, `${role} ${n} ${seed}`);
        return frame;
      };
      for (let n = 0; n <= 300; n++) check(n, n);
      // A 64 B echo's frame is the same range every time: one view, holding the latest message.
      const a = check(64, 1);
      const b = check(64, 2);
      if (role === "server") assert.equal(a, b);
      // The shared buffer grows (a message past it: each role's larger than the last), then small frames are cut from the new one.
      const past = role === "server" ? 300_000 : 700_000;
      check(past, 3);
      const c = check(64, 4);
      assert.notEqual(c, a);
      assert.equal(c.buffer.byteLength >= past, true);
      check(64, 5);
    }
  });
});
