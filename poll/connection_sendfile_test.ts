import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeFile, openFileRead } from "../ffi/file.ts";
import type { Connection } from "./connection.ts";
import { connect, listen } from "./listener.ts";
import { withLoop } from "../tests/loop_helpers.ts";

const SIZE = 1_500_000;
let dir = "";
let path = "";
let bigPath = "";

/** The byte at `i` of the test file. */
const byteAt = (i: number): number => (i * 7 + (i >> 11)) % 256;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-sendfile-"));
  path = join(dir, "data.bin");
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = byteAt(i);
  writeFileSync(path, data);
  bigPath = join(dir, "big.bin");
  writeFileSync(bigPath, new Uint8Array(0));
  truncateSync(bigPath, 64 * 1024 * 1024); // sparse: 64 MiB of zeros
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function readBytes(conn: Connection, count: number): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let at = 0;
  while (at < count) {
    const chunk = await conn.read();
    if (chunk === null) break;
    assert.ok(at + chunk.length <= count, `more bytes than sent: ${at + chunk.length} > ${count}`);
    out.set(chunk, at);
    at += chunk.length;
  }
  assert.equal(at, count, "bytes missing");
  return out;
}

function open(p: string): number {
  const fd = openFileRead(p);
  assert.notEqual(fd, null);
  return fd!;
}

function withPair(body: (client: Connection, peer: Connection) => Promise<void>): Promise<void> {
  return withLoop(async (loop) => {
    const server = listen({ host: "127.0.0.1", port: 0, loop, io: "readiness" });
    try {
      const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io: "readiness" });
      const peer = (await server.accept())!;
      const client = await clientP;
      try {
        await body(client, peer);
      } finally {
        client.abort();
        peer.abort();
      }
    } finally {
      server.close();
    }
  });
}

describe("Connection.sendFile", () => {
  test("ranges of a file, between plain sends, arrive in order; done runs once each range went", () =>
    withPair(async (client, peer) => {
      assert.equal(client.canSendFile, true);
      client.socket.options.sendBufferSize = 4096; // partial sendfile calls
      const ranges: Array<[number, number]> = [[0, SIZE], [0, 0], [SIZE - 1, 1], [123_457, 300_001], [SIZE, 0], [1, 65_536]];
      const expected: number[] = [];
      const settled: Array<Error | undefined> = [];
      let total = 0;
      for (const [position, length] of ranges) {
        const marker = new Uint8Array([0xee, length & 0xff]);
        client.send(marker);
        expected.push(...marker);
        const fd = open(path);
        client.sendFile(fd, position, length, (error) => {
          closeFile(fd);
          settled.push(error);
        });
        for (let i = 0; i < length; i++) expected.push(byteAt(position + i));
        total += marker.length + length;
      }
      const got = await readBytes(peer, total);
      assert.deepEqual(got, Uint8Array.from(expected));
      await client.write(new Uint8Array(0));
      assert.deepEqual(settled, ranges.map(() => undefined));
    }));

  test("the peer closing mid-file fails the connection and runs done with the error (the file can be closed)", () =>
    withPair(async (client, peer) => {
      const fd = open(bigPath);
      let doneWith = null as Error | undefined | null;
      client.sendFile(fd, 0, 64 * 1024 * 1024, (error) => {
        closeFile(fd);
        doneWith = error;
      });
      let got = 0;
      while (got < 100_000) got += (await peer.read())?.length ?? 100_000;
      peer.abort();
      const closedWith = await client.whenClosed;
      assert.ok(closedWith instanceof Error);
      assert.ok(doneWith instanceof Error, "done ran with an error");
    }));

  test("a file shorter than the length queued fails the connection", () =>
    withPair(async (client) => {
      const fd = open(path);
      let doneWith = null as Error | undefined | null;
      client.sendFile(fd, SIZE - 10, 100, (error) => {
        closeFile(fd);
        doneWith = error;
      });
      const closedWith = await client.whenClosed;
      assert.ok(closedWith instanceof Error);
      assert.ok(doneWith instanceof Error);
      assert.equal((closedWith as Error & { code?: string }).code, "EIO");
    }));

  test("bad arguments are a RangeError; a closed connection throws", () =>
    withPair(async (client) => {
      assert.throws(() => client.sendFile(0, -1, 5), RangeError);
      assert.throws(() => client.sendFile(0, 0, 1.5), RangeError);
      await client.close();
      assert.throws(() => client.sendFile(0, 0, 1));
    }));
});
