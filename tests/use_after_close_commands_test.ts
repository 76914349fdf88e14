// Random sequences of method calls (fast-check commands) on both ends of a
// real connection pair over TCP, a Unix socket and TLS: write, send, read,
// readExactly, end, close (twice), abort, pause/resume, ref/unref and
// localAddress, in any order, also after close. Every call either does what
// the model says or fails with a typed NetError: writing after close, end
// or abort is UseAfterCloseError, reading a closed end gives what was
// buffered or null (never an error other than a NetError), and no call ever
// waits for ever (a read is only issued when bytes or an end are on their
// way, or the reader is closed). detach() during a close that still
// flushes throws UseAfterCloseError.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { NetError, UseAfterCloseError } from "../core/errors.ts";
import { connect, connectUnix } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { type Listener, listen, listenUnix } from "../poll/listener.ts";
import { bindUDP, type UdpSocket } from "../poll/udp.ts";
import { connectTLS, listenTLS, type TLSListener } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const dir = mkdtempSync(join(tmpdir(), "ffinet-uac-"));
after(() => rmSync(dir, { recursive: true, force: true }));

type Kind = "tcp" | "unix" | "tls";

interface End {
  conn: Connection;
  closed: boolean; // close() or abort() ran
  ended: boolean; // end() ran
  paused: boolean;
  /** Bytes the peer wrote that this end has not read yet (exact while nobody aborted). */
  incoming: number;
}

interface Pair {
  ends: [End, End];
  /** Some end aborted: the other may see a reset and lose bytes. */
  reset: boolean;
}

let pkiCache: ReturnType<typeof testPKI> | undefined;
let unixCount = 0;

async function makePair(kind: Kind): Promise<{ pair: Pair; listener: Listener | TLSListener }> {
  let listener: Listener | TLSListener;
  let client: Connection;
  if (kind === "tcp") {
    listener = listen({ host: "127.0.0.1", port: 0 });
    client = await connect({ host: "127.0.0.1", port: listener.port });
  } else if (kind === "unix") {
    const path = join(dir, `s${unixCount++}`);
    listener = listenUnix({ path });
    client = await connectUnix({ path });
  } else {
    const pki = pkiCache ??= testPKI();
    listener = listenTLS({ port: 0, cert: pki.chain, key: pki.key });
    client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: listener.port, ca: pki.root });
  }
  const server = await listener.accept();
  assert.ok(server !== null);
  const end = (conn: Connection): End => ({ conn, closed: false, ended: false, paused: false, incoming: 0 });
  return { pair: { ends: [end(client), end(server)], reset: false }, listener };
}

/** Runs `call`; a throw or rejection must be a NetError (UseAfterCloseError when `mustBeClosed`). */
async function typed<T>(what: string, call: () => T | Promise<T>, mustBeClosed: boolean): Promise<T | undefined> {
  try {
    const value = await call();
    assert.ok(!mustBeClosed, `${what} succeeded on a closed end`);
    return value;
  } catch (err) {
    assert.ok(err instanceof NetError, `${what}: ${String(err)}`);
    if (mustBeClosed) assert.ok(err instanceof UseAfterCloseError, `${what}: ${String(err)}`);
    return undefined;
  }
}

// The model is the pair's own bookkeeping (check() sees only the model).
type Cmd = fc.AsyncCommand<Pair, Pair, false>;
const ok = () => true;

class Write implements Cmd {
  readonly side: 0 | 1;
  readonly n: number;
  readonly sync: boolean;
  constructor(side: 0 | 1, n: number, sync: boolean) {
    this.side = side; this.n = n; this.sync = sync;
  }
  check = ok;
  async run(_m: Pair, p: Pair): Promise<void> {
    const me = p.ends[this.side], peer = p.ends[1 - this.side]!;
    // After a reset an end may have closed on that error (which writes then get).
    const shut = (me.closed || me.ended) && !p.reset;
    const data = new Uint8Array(this.n).fill(this.side + 1);
    const done = await typed(`write ${this.n}`, () => (this.sync ? me.conn.send(data) : me.conn.write(data).then(() => true)), shut);
    // Bytes count as on their way only while the peer can still take them;
    // bytes sent to a closed socket get a reset back.
    if (done !== undefined && !peer.closed) peer.incoming += this.n;
    if (peer.closed && !shut) p.reset = true;
  }
  toString = () => `${this.sync ? "send" : "write"}(${this.side}, ${this.n})`;
}

class Read implements Cmd {
  readonly side: 0 | 1;
  readonly exactly: boolean;
  constructor(side: 0 | 1, exactly: boolean) {
    this.side = side; this.exactly = exactly;
  }
  check(p: Pair): boolean {
    const me = p.ends[this.side], peer = p.ends[1 - this.side]!;
    if (me.closed) return true;
    if (me.paused) return false;
    // Something must be on its way: bytes, an end, a close or a reset.
    return me.incoming > 0 || peer.closed || peer.ended || p.reset;
  }
  async run(_m: Pair, p: Pair): Promise<void> {
    const me = p.ends[this.side];
    if (this.exactly && me.incoming > 0 && !p.reset && !me.closed) {
      const n = Math.min(me.incoming, 7);
      const got = await me.conn.readExactly(n);
      assert.equal(got.length, n);
      me.incoming -= n;
      return;
    }
    const got = await typed("read", () => me.conn.read(), false);
    if (got === undefined) return; // a typed error (a reset)
    if (got === null) {
      if (!me.closed && !p.reset) assert.equal(me.incoming, 0, "end of stream before the bytes written");
      me.incoming = 0;
      return;
    }
    assert.ok(got.length > 0);
    if (!p.reset && !me.closed) assert.ok(got.length <= me.incoming, `read ${got.length} of ${me.incoming}`);
    me.incoming = Math.max(0, me.incoming - got.length);
  }
  toString = () => `${this.exactly ? "readExactly" : "read"}(${this.side})`;
}

class End_ implements Cmd {
  readonly side: 0 | 1;
  constructor(side: 0 | 1) {
    this.side = side;
  }
  check = ok;
  async run(_m: Pair, p: Pair): Promise<void> {
    const me = p.ends[this.side];
    await typed("end", () => me.conn.end(), false);
    me.ended = true;
  }
  toString = () => `end(${this.side})`;
}

class Close implements Cmd {
  readonly side: 0 | 1;
  readonly abort: boolean;
  constructor(side: 0 | 1, abort: boolean) {
    this.side = side; this.abort = abort;
  }
  check = ok;
  async run(_m: Pair, p: Pair): Promise<void> {
    const me = p.ends[this.side];
    // An abort resets; so does a close with bytes left unread (Linux sends
    // RST instead of FIN, and the peer loses what it had not read yet).
    if (!me.closed && (this.abort || me.incoming > 0)) p.reset = true;
    if (this.abort) {
      me.conn.abort();
    } else {
      await typed("close", () => me.conn.close(), false);
    }
    me.closed = true;
    assert.equal(me.conn.closed, true);
  }
  toString = () => `${this.abort ? "abort" : "close"}(${this.side})`;
}

class Misc implements Cmd {
  readonly side: 0 | 1;
  readonly what: "pause" | "resume" | "ref" | "unref" | "localAddress";
  constructor(side: 0 | 1, what: "pause" | "resume" | "ref" | "unref" | "localAddress") {
    this.side = side; this.what = what;
  }
  check = ok;
  async run(_m: Pair, p: Pair): Promise<void> {
    const me = p.ends[this.side];
    if (this.what === "localAddress") {
      await typed("localAddress", () => me.conn.localAddress, me.closed);
      return;
    }
    me.conn[this.what]();
    if (this.what === "pause") me.paused = true;
    if (this.what === "resume") me.paused = false;
  }
  toString = () => `${this.what}(${this.side})`;
}

const side = fc.constantFrom<0 | 1>(0, 1);
const commands = fc.commands<Pair, Pair, false>([
  fc.tuple(side, fc.integer({ min: 1, max: 4096 }), fc.boolean()).map(([s, n, sync]) => new Write(s, n, sync)),
  fc.tuple(side, fc.boolean()).map(([s, e]) => new Read(s, e)),
  fc.tuple(side, fc.boolean()).map(([s, e]) => new Read(s, e)),
  side.map((s) => new End_(s)),
  fc.tuple(side, fc.boolean()).map(([s, a]) => new Close(s, a)),
  fc.tuple(side, fc.constantFrom("pause", "resume", "ref", "unref", "localAddress") as fc.Arbitrary<Misc["what"]>).map(([s, w]) => new Misc(s, w)),
], { maxCommands: 24 });

async function runs(kind: Kind, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const { pair, listener } = await makePair(kind);
      try {
        await fc.asyncModelRun(() => ({ model: pair, real: pair }), cmds);
        // Whatever happened, both ends close (again) without an error. As in
        // Close.run: an end closed with bytes left unread resets the pair
        // (Linux sends RST, and the other end closes on that error).
        for (const e of pair.ends) {
          if (!e.closed && e.incoming > 0) pair.reset = true;
          await e.conn.close();
          e.closed = true;
        }
        // Writes then fail with UseAfterCloseError, or, on an end that a
        // reset closed first, with that error (documented on send()).
        const closedError = pair.reset ? NetError : UseAfterCloseError;
        for (const e of pair.ends) {
          assert.equal(e.conn.closed, true);
          await assert.rejects(e.conn.write(new Uint8Array(1)), closedError);
          assert.throws(() => e.conn.send(new Uint8Array(1)), closedError);
          assert.throws(() => e.conn.localAddress, UseAfterCloseError);
          // Reading a closed end: the end of stream, or the error it closed on.
          const last = await typed("read after close", () => e.conn.read(), false);
          assert.ok(last === null || last === undefined || (pair.reset && last.length > 0), `read after close: ${String(last)}`);
        }
      } finally {
        for (const e of pair.ends) e.conn.abort();
        listener.close();
      }
    }),
    { numRuns },
  );
}

describe("use after close: detach() once close() was called", () => {
  test("while close() still flushes queued output, detach() throws UseAfterCloseError and the close delivers every byte", async () => {
    // detach() used to hand out the socket that close() was flushing (the
    // queued output then failed, and close() resolved as if it had run).
    const { pair, listener } = await makePair("tcp");
    const [a, b] = pair.ends.map((e) => e.conn) as [Connection, Connection];
    try {
      const size = 4 << 20;
      a.send(new Uint8Array(size).fill(7));
      const closing = a.close();
      assert.throws(() => a.detach(), UseAfterCloseError);
      let got = 0;
      for (let chunk = await b.read(); chunk !== null; chunk = await b.read()) got += chunk.length;
      await closing;
      assert.equal(got, size);
      assert.throws(() => a.detach(), UseAfterCloseError);
    } finally {
      a.abort();
      b.abort();
      listener.close();
    }
  });
});

describe("use after close: random call sequences on a real connection pair", () => {
  test("TCP on 127.0.0.1", () => runs("tcp", 60));
  test("a Unix stream socket", () => runs("unix", 40));
  test("TLS over TCP", () => runs("tls", 25));
});

// The same over two UDP sockets on 127.0.0.1: send, trySend, recv, close,
// pause/resume and ref/unref in any order; after close, sends are
// UseAfterCloseError and recv resolves null; a recv is only issued when a
// datagram is on its way or the socket is closed.
interface UdpEnd {
  socket: UdpSocket;
  closed: boolean;
  paused: boolean;
  /** Datagrams sent to this end and not received yet. */
  incoming: number;
}
type UdpCmd = fc.AsyncCommand<UdpEnd[], UdpEnd[], false>;

class UdpSend implements UdpCmd {
  readonly side: 0 | 1;
  readonly sync: boolean;
  constructor(side: 0 | 1, sync: boolean) {
    this.side = side;
    this.sync = sync;
  }
  check = () => true;
  async run(_m: UdpEnd[], ends: UdpEnd[]): Promise<void> {
    const me = ends[this.side]!, peer = ends[1 - this.side]!;
    const target = { host: "127.0.0.1", port: peer.socket.port };
    const data = new Uint8Array(1 + this.side);
    const sent = await typed("udp send", () => (this.sync ? me.socket.trySend(data, target) : me.socket.send(data, target).then(() => true)), me.closed);
    if (sent === true && !peer.closed) peer.incoming++;
  }
  toString = () => `${this.sync ? "trySend" : "send"}(${this.side})`;
}

class UdpRecv implements UdpCmd {
  readonly side: 0 | 1;
  constructor(side: 0 | 1) {
    this.side = side;
  }
  check(ends: UdpEnd[]): boolean {
    const me = ends[this.side]!;
    return me.closed || (!me.paused && me.incoming > 0);
  }
  async run(_m: UdpEnd[], ends: UdpEnd[]): Promise<void> {
    const me = ends[this.side]!;
    const got = await me.socket.recv();
    if (me.closed) {
      assert.equal(got, null);
      return;
    }
    assert.ok(got !== null);
    assert.equal(got.data.length, 2 - this.side, "a datagram from the other end");
    me.incoming--;
  }
  toString = () => `recv(${this.side})`;
}

class UdpOther implements UdpCmd {
  readonly side: 0 | 1;
  readonly what: "close" | "pause" | "resume" | "ref" | "unref";
  constructor(side: 0 | 1, what: UdpOther["what"]) {
    this.side = side;
    this.what = what;
  }
  check = () => true;
  async run(_m: UdpEnd[], ends: UdpEnd[]): Promise<void> {
    const me = ends[this.side]!;
    me.socket[this.what]();
    if (this.what === "close") me.closed = true;
    if (this.what === "pause") me.paused = true;
    if (this.what === "resume") me.paused = false;
  }
  toString = () => `${this.what}(${this.side})`;
}

describe("use after close: random call sequences on two UDP sockets", () => {
  test("127.0.0.1", async () => {
    const udpCommands = fc.commands<UdpEnd[], UdpEnd[], false>([
      fc.tuple(side, fc.boolean()).map(([s, sync]) => new UdpSend(s, sync)),
      side.map((s) => new UdpRecv(s)),
      side.map((s) => new UdpRecv(s)),
      fc.tuple(side, fc.constantFrom("close", "pause", "resume", "ref", "unref") as fc.Arbitrary<UdpOther["what"]>).map(([s, w]) => new UdpOther(s, w)),
    ], { maxCommands: 30 });
    await fc.assert(
      fc.asyncProperty(udpCommands, async (cmds) => {
        const ends: UdpEnd[] = [0, 1].map(() => ({ socket: bindUDP({ host: "127.0.0.1", port: 0 }), closed: false, paused: false, incoming: 0 }));
        try {
          await fc.asyncModelRun(() => ({ model: ends, real: ends }), cmds);
          for (const e of ends) {
            e.socket.close();
            e.socket.close();
            await assert.rejects(e.socket.send(new Uint8Array(1), { host: "127.0.0.1", port: 9 }), UseAfterCloseError);
            assert.throws(() => e.socket.trySend(new Uint8Array(1), { host: "127.0.0.1", port: 9 }), UseAfterCloseError);
            assert.equal(await e.socket.recv(), null);
          }
        } finally {
          for (const e of ends) e.socket.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
