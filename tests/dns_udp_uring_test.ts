/**
 * DNS queries over io_uring (dns/udp_uring.ts) against real peers: a
 * node:dgram server scripted here on 127.0.0.1 (a fresh source port per
 * query, a datagram from another address ignored, truncation, silence until
 * the timeout or an abort, every slot taken, the loop closing under a
 * query) and dnsmasq through the Resolver (the same answers as the
 * readiness path). Where io_uring is unavailable, the resolver's fallback
 * is what runs and the ring tests say so.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { setMaxListeners } from "node:events";
import { SocketError, UseAfterCloseError } from "../core/errors.ts";
import { Resolver } from "../dns/resolver.ts";
import { IGNORE } from "../dns/udp_exchange.ts";
import { udpQueryRing } from "../dns/udp_uring.ts";
import { defaultLoop, Loop } from "../poll/loop.ts";
import { encodePeer } from "../socket/udp_query.ts";
import { startDnsmasq } from "./dns_helpers.ts";

interface Peer {
  readonly port: number;
  readonly ports: number[];
  close(): void;
}

const sockets: dgram.Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});
// The loop's first parked wait starts its helper; one short park first (as the resolver tests do).
before(() => new Promise<void>((resolve) => void defaultLoop().setTimeout(() => resolve(), 1)));

async function bound(): Promise<dgram.Socket> {
  const s = dgram.createSocket("udp4");
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  return s;
}

/** A UDP peer that records each query's source port and replies as `reply` says (nothing when it returns []). */
async function peer(reply: (query: Buffer) => { bytes: Uint8Array; fromOther?: boolean }[]): Promise<Peer> {
  const udp = await bound();
  const other = await bound();
  const ports: number[] = [];
  udp.on("message", (msg, rinfo) => {
    ports.push(rinfo.port);
    for (const r of reply(msg)) (r.fromOther ? other : udp).send(r.bytes, rinfo.port, rinfo.address);
  });
  return { port: udp.address().port, ports, close: () => udp.close() };
}

const echo = (q: Buffer) => [{ bytes: new Uint8Array(q) }];
const silent = () => [];

/** Takes the first datagram from the server, recording what it saw. */
function firstFromServer(seen: { bytes: number[]; truncated: boolean; fromServer: boolean }[]) {
  return {
    accept(data: Uint8Array, truncated: boolean, fromServer: boolean) {
      seen.push({ bytes: [...data.subarray(0, 4)], truncated, fromServer });
      return fromServer ? data.byteLength : IGNORE;
    },
  };
}

/** Lets the loop run until `done()` (bounded: 2000 turns of 1 ms). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(done(), "condition not reached");
}

const ring = udpQueryRing(defaultLoop());
const noRing = ring === undefined && "io_uring cannot carry DNS queries here (the resolver uses the readiness path)";

describe("dns over io_uring", () => {
  test("each query goes from a new socket on its own port and takes the server's answer", { skip: noRing }, async () => {
    const server = await peer(echo);
    const to = encodePeer("127.0.0.1", server.port);
    for (let i = 0; i < 12; i++) {
      const seen: { bytes: number[]; truncated: boolean; fromServer: boolean }[] = [];
      const n = await ring!.exchange(to, new Uint8Array([i, 1, 2, 3, 4]), 512, firstFromServer(seen), undefined, undefined);
      assert.equal(n, 5);
      assert.deepEqual(seen, [{ bytes: [i, 1, 2, 3], truncated: false, fromServer: true }]);
    }
    assert.equal(new Set(server.ports).size, 12, `source ports ${server.ports.join(",")}`);
    await until(() => ring!.inFlight === 0);
  });

  test("a datagram from another address is judged not from the server; the exchange waits for the server's", { skip: noRing }, async () => {
    const server = await peer((q) => [{ bytes: new Uint8Array([9, 9, 9, 9]), fromOther: true }, { bytes: new Uint8Array(q) }]);
    const seen: { bytes: number[]; truncated: boolean; fromServer: boolean }[] = [];
    const n = await ring!.exchange(encodePeer("127.0.0.1", server.port), new Uint8Array([7, 7, 7, 7]), 512, firstFromServer(seen), undefined, undefined);
    assert.equal(n, 4);
    assert.deepEqual(seen, [
      { bytes: [9, 9, 9, 9], truncated: false, fromServer: false },
      { bytes: [7, 7, 7, 7], truncated: false, fromServer: true },
    ]);
  });

  test("an answer longer than maxBytes arrives cut, marked truncated", { skip: noRing }, async () => {
    const big = new Uint8Array(700).fill(5);
    const server = await peer(() => [{ bytes: big }]);
    const seen: { bytes: number[]; truncated: boolean; fromServer: boolean }[] = [];
    const n = await ring!.exchange(encodePeer("127.0.0.1", server.port), new Uint8Array(12), 100, firstFromServer(seen), undefined, undefined);
    assert.equal(n, 100);
    assert.deepEqual(seen, [{ bytes: [5, 5, 5, 5], truncated: true, fromServer: true }]);
  });

  test("an acceptor that throws ends the exchange with its error", { skip: noRing }, async () => {
    const server = await peer(echo);
    const bad = { accept: (): never => { throw new RangeError("bad answer"); } };
    await assert.rejects(ring!.exchange(encodePeer("127.0.0.1", server.port), new Uint8Array(12), 512, bad, undefined, undefined)!, RangeError);
    await until(() => ring!.inFlight === 0);
  });

  test("a failed send still reports (only successes of socket, send and close are silent); the slot comes back", { skip: noRing }, async () => {
    const free = ring!.slotsFree;
    // A broadcast address without SO_BROADCAST: sendmsg fails with EACCES, the receive armed after it is cancelled.
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        ring!.exchange(encodePeer("255.255.255.255", 53), new Uint8Array(12), 512, firstFromServer([]), undefined, undefined)!,
        (e: unknown) => e instanceof SocketError && e.code === "EACCES" && e.syscall === "sendmsg",
      );
    }
    await until(() => ring!.inFlight === 0 && ring!.slotsFree === free);
    const server = await peer(echo);
    assert.equal(await ring!.exchange(encodePeer("127.0.0.1", server.port), new Uint8Array([1, 2, 3]), 512, firstFromServer([]), undefined, undefined), 3);
  });

  test("silence ends at the timeout or the abort, and the slots come back", { skip: noRing }, async () => {
    const server = await peer(silent);
    const to = encodePeer("127.0.0.1", server.port);
    const free = ring!.slotsFree;
    const timedOut = ring!.exchange(to, new Uint8Array(12), 512, firstFromServer([]), undefined, { ms: 30, error: () => new Error("timed out") })!;
    const controller = new AbortController();
    const aborted = ring!.exchange(to, new Uint8Array(12), 512, firstFromServer([]), controller.signal, undefined)!;
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    await assert.rejects(timedOut, /timed out/);
    await until(() => ring!.inFlight === 0);
    assert.equal(ring!.slotsFree, free);
    await assert.rejects(ring!.exchange(to, new Uint8Array(12), 512, firstFromServer([]), controller.signal, undefined)!, /stop/);
  });

  test("with every slot taken the ring declines (the caller's readiness path takes over)", { skip: noRing }, async () => {
    const server = await peer(silent);
    const to = encodePeer("127.0.0.1", server.port);
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // one listener per query, hundreds of them
    const pending: Promise<number>[] = [];
    for (;;) {
      const p = ring!.exchange(to, new Uint8Array(12), 512, firstFromServer([]), controller.signal, undefined);
      if (p === undefined) break;
      pending.push(p);
      assert.ok(pending.length <= 4096, "the ring never declined");
    }
    assert.equal(ring!.slotsFree, 0);
    assert.ok(pending.length >= 1);
    assert.equal(ring!.exchange(to, new Uint8Array(600), 512, firstFromServer([]), undefined, undefined), undefined);
    controller.abort(new Error("enough"));
    const results = await Promise.allSettled(pending);
    assert.ok(results.every((r) => r.status === "rejected"));
    await until(() => ring!.inFlight === 0);
    assert.equal(ring!.slotsFree, pending.length);
  });

  test("closing the loop fails its pending queries with UseAfterCloseError", { skip: noRing }, async () => {
    const server = await peer(silent);
    const loop = new Loop();
    const own = udpQueryRing(loop)!;
    assert.notEqual(own, ring);
    const p = own.exchange(encodePeer("127.0.0.1", server.port), new Uint8Array(12), 512, firstFromServer([]), undefined, undefined)!;
    loop.close();
    await assert.rejects(p, UseAfterCloseError);
    assert.equal(own.closed, true);
    assert.equal(udpQueryRing(loop), undefined);
  });

  test("the resolver gives the same answers over io_uring and over readiness (dnsmasq), many at once", async () => {
    const dns = await startDnsmasq();
    try {
      const options = { servers: [dns.address], hostsPath: null, search: [], cache: false as const, timeoutMs: 2000, attempts: 2 };
      const viaRing = new Resolver({ ...options, udpIo: "uring" });
      const viaReadiness = new Resolver({ ...options, udpIo: "readiness" });
      const names = Array.from({ length: 300 }, (_, i) => `n${i}.wild.zone.test`);
      const a = await Promise.all(names.map((n) => viaRing.lookup(n, { family: 4 })));
      const b = await Promise.all(names.map((n) => viaReadiness.lookup(n, { family: 4 })));
      assert.deepEqual(a, b);
      assert.ok(a.every((r) => r.length > 0));
      assert.deepEqual(await viaRing.resolve("www.zone.test", "A"), await viaReadiness.resolve("www.zone.test", "A"));
      if (ring !== undefined) await until(() => ring.inFlight === 0);
    } finally {
      await dns.close();
    }
  });

  test("udpIo takes only uring or readiness", () => {
    assert.throws(() => new Resolver({ servers: ["127.0.0.1:53"], udpIo: "epoll" as "uring" }), TypeError);
  });
});
