// Upgrade: h2c with a request body: the body (Content-Length or chunked, over several reads)
// is read whole, then the connection switches and stream 1 carries the answer (curl --http2,
// and a node:net client sending the request in pieces and reading HTTP/2 frames); an upgrade
// request too big to hold, or one with Expect: 100-continue, is answered over HTTP/1.1;
// a request held over many reads is parsed once (each read once), not again on each read.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import net from "node:net";
import { serve, type Server } from "../http/server/mod.ts";
import { CLIENT_PREFACE, Flag, FrameType } from "../http/h2/constants.ts";
import { encodeSettings, FrameReader } from "../http/h2/frames.ts";

const SETTINGS = "AAMAAABkAAQAoAAAAAIAAAAA"; // curl's HTTP2-Settings (base64url)

function run(cmd: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: "latin1", maxBuffer: 1 << 24, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message} ${stderr}`));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * Sends `pieces` of an HTTP/1.1 upgrade request one by one (each after the previous was
 * written), then: when the server switches, the HTTP/2 preface and SETTINGS, and collects
 * the DATA of stream 1 until END_STREAM; else the HTTP/1.1 response until the close.
 */
function rawUpgrade(port: number, pieces: string[]): Promise<{ switched: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let head = "";
    let switched = false;
    let data = "";
    const reader = new FrameReader(1 << 24);
    socket.on("error", reject);
    socket.on("connect", async () => {
      for (const piece of pieces) {
        await new Promise<void>((done) => socket.write(piece, "latin1", () => done()));
        await new Promise((r) => setImmediate(r));
      }
    });
    socket.on("data", (chunk: Buffer) => {
      let bytes = new Uint8Array(chunk);
      if (!switched) {
        head += Buffer.from(bytes).toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!head.startsWith("HTTP/1.1 101 ")) {
          const length = /\r\ncontent-length: (\d+)\r\n/i.exec(head.slice(0, end + 2));
          if (length !== null && head.length >= end + 4 + Number(length[1])) {
            socket.destroy();
            resolve({ switched: false, text: head });
          }
          return;
        }
        switched = true;
        const over = head.length - (end + 4);
        bytes = bytes.subarray(bytes.length - over);
        socket.write(CLIENT_PREFACE);
        socket.write(encodeSettings([]));
      }
      reader.push(bytes, (f) => {
        if (f.type === FrameType.DATA && f.streamId === 1) {
          data += Buffer.from(f.payload).toString("latin1");
          if ((f.flags & Flag.END_STREAM) !== 0) {
            socket.destroy();
            resolve({ switched: true, text: data });
          }
        }
      });
    });
    socket.on("end", () => resolve({ switched, text: switched ? data : head }));
  });
}

function upgradeHead(extra: string): string {
  return `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n${extra}\r\n`;
}

describe("Upgrade: h2c with a request body", () => {
  let server: Server;
  let base = "";
  let port = 0;
  before(() => {
    server = serve({
      port: 0,
      fetch: async (request, info) => {
        const body = await request.text();
        const protocol = (info as { protocol?: string }).protocol ?? "http/1.1";
        return new Response(`${protocol} ${request.method} ${body.length} ${body.slice(0, 16)}|${body.slice(-16)}`);
      },
    });
    port = server.addr.port;
    base = `http://127.0.0.1:${port}`;
  });
  after(() => server.shutdown({ deadlineMs: 2000 }));

  test("curl --http2: a chunked body and a Content-Length body are read whole, then answered over HTTP/2", async () => {
    const body = "x".repeat(20_000) + "end";
    const chunked = await run("curl", ["-sS", "--http2", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "-w", " %{http_version}", `${base}/echo`], body);
    assert.equal(chunked.stdout, `h2c POST 20003 xxxxxxxxxxxxxxxx|xxxxxxxxxxxxxend 2`);
    const sized = await run("curl", ["-sS", "-v", "--http2", "--data-binary", "@-", "-w", " %{http_version}", `${base}/echo`], body);
    assert.match(sized.stderr, /101 Switching Protocols/);
    assert.equal(sized.stdout, `h2c POST 20003 xxxxxxxxxxxxxxxx|xxxxxxxxxxxxxend 2`);
  });

  test("node:net in pieces: the head, then chunks, then the last chunk; the answer comes on stream 1", async () => {
    const r = await rawUpgrade(port, [
      upgradeHead("Transfer-Encoding: chunked\r\n"),
      "5\r\nhello\r\n",
      "6\r\n world\r\n",
      "0\r\nx-trailer: dropped\r\n\r\n",
    ]);
    assert.deepEqual(r, { switched: true, text: "h2c POST 11 hello world|hello world" });
    const sized = await rawUpgrade(port, [upgradeHead("Content-Length: 9\r\n"), "one", "two", "six"]);
    assert.deepEqual(sized, { switched: true, text: "h2c POST 9 onetwosix|onetwosix" });
  });

  test("a body in 1,000 pieces: each read is parsed once, the answer comes on stream 1", async () => {
    // The held request used to be joined and parsed again from its first byte on each read:
    // a client sending its 64 KiB a byte at a time cost the server quadratic CPU.
    const pieces = [upgradeHead("Transfer-Encoding: chunked\r\n")];
    let body = "";
    for (let i = 0; i < 1000; i++) {
      const digits = String(i).padStart(10, "0");
      body += digits;
      pieces.push(`a\r\n${digits}\r\n`);
    }
    pieces.push("0\r\n\r\n");
    const r = await rawUpgrade(port, pieces);
    assert.deepEqual(r, { switched: true, text: `h2c POST 10000 ${body.slice(0, 16)}|${body.slice(-16)}` });
  });

  test("too big to hold, or waiting for 100-continue: answered over HTTP/1.1 (the upgrade ignored)", async () => {
    const big = "y".repeat(70_000);
    const r = await rawUpgrade(port, [upgradeHead(`Content-Length: ${big.length}\r\n`), big.slice(0, 30_000), big.slice(30_000)]);
    assert.equal(r.switched, false);
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(r.text.endsWith("\r\n\r\nhttp/1.1 POST 70000 yyyyyyyyyyyyyyyy|yyyyyyyyyyyyyyyy"), r.text);
    const waiting = await run("curl", ["-sS", "--http2", "-H", "Expect: 100-continue", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "-w", " %{http_version}", `${base}/echo`], "waits");
    assert.equal(waiting.stdout, "http/1.1 POST 5 waits|waits 1.1");
  });
});
