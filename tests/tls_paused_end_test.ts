// A TLS connection in fd mode (tls/connection.ts) whose handler pauses at the bytes of a read that also
// brought the end (close_notify and FIN) or a failure (a reset) behind them: the end or the failure waits
// until the handler resumes, as on a plain connection (it came right after the bytes, in the same read,
// while the handler was paused). Likewise in memory-BIO mode (tls/bio_connection.ts, TLS over io_uring):
// a failure of the transport underneath waited for no paused reader. Plain TCP beside them: over io_uring
// (poll/uring/stream.ts) the end and a receive failure after bytes already delivered reached the paused
// handler at once (only bytes held made them wait). Against node:tls; our client holds off reading until the server's bytes
// and its end are all in the socket, so one read finds them together.
import assert from "node:assert/strict";
import net from "node:net";
import * as nodeTls from "node:tls";
import { describe, test } from "node:test";
import { connect } from "../poll/listener.ts";
import { connectTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";
import { turns, until, within } from "./waits.ts";

const pki = testPKI();
const KEY = pki.key;

for (const [tls, how] of [[true, "end"], [true, "reset"], [false, "end"], [false, "reset"]] as const) {
  describe(`${tls ? "TLS (fd mode; memory-BIO under FFINET_IO=uring)" : "plain TCP"}: ${how === "end" ? "the server's end() (FIN, with or without close_notify)" : "a failure (a reset)"} read together with bytes`, () => {
    test(`a handler that paused at the bytes sees the ${how === "end" ? "end (or the missing close_notify's failure)" : "failure"} only once it resumes`, async () => {
      let allSent!: () => void;
      const sent = new Promise<void>((r) => (allSent = r));
      const onSocket = (s: net.Socket) => {
        s.on("error", () => {});
        // Once the client said so (connected, its handler set and paused): a reset before would fail its connect.
        s.once("data", () => {
          s.write(new Uint8Array(1000).fill(7), () => {
            if (how === "end") s.end(() => allSent());
            else {
              // RST on the TCP socket underneath (the TLS socket's own handle is no TCP one).
              raw.at(-1)!.resetAndDestroy();
              allSent();
            }
          });
        });
      };
      const server = tls ? nodeTls.createServer({ cert: pki.chain, key: KEY }, onSocket) : net.createServer(onSocket);
      const raw: Array<{ resetAndDestroy(): void }> = [];
      server.on("connection", (sock: { resetAndDestroy(): void; on(e: string, f: () => void): void }) => {
        sock.on("error", () => {});
        raw.push(sock);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      try {
        const port = (server.address() as { port: number }).port;
        const client = tls ? await connectTLS({ host: "127.0.0.1", servername: "localhost", port, ca: pki.root }) : await connect({ host: "127.0.0.1", port });
        const events: string[] = [];
        let bytes = 0;
        let paused = false;
        const over = new Promise<void>((resolve) => {
          client.setHandler({
            data: (c, d) => {
              bytes += d.length;
              if (events.at(-1) !== "data") events.push("data");
              if (bytes === 1000) {
                paused = true;
                c.pause();
              }
            },
            end: (c) => {
              events.push(paused ? "end while paused" : "end");
              void c.close();
              resolve();
            },
            close: (_c, error) => {
              if (error !== undefined) events.push(paused ? "failure while paused" : "failure");
              resolve();
            },
          });
        });
        client.pause();
        await client.write(new Uint8Array([0x67]));
        await within(sent, "the server's bytes and its end or reset", events).catch((e: unknown) => {
          client.abort();
          throw e;
        });
        await turns(5);
        client.resume();
        // The bytes first (however slow the loop is to read them: a fixed
        // number of turns was not always enough on a loaded machine), then
        // turns in which an end or a failure would come while paused.
        await until(() => bytes === 1000 || events.length > 1, "the server's bytes", events);
        await turns(20);
        paused = false;
        events.push("resumed");
        client.resume();
        await within(over, "the client's end or close", events).catch((e: unknown) => {
          client.abort();
          throw e;
        });
        client.abort();
        assert.equal(bytes, 1000);
        // node:tls may close without close_notify after end() (a failure: unexpected EOF): either way, after the resume.
        assert.deepEqual(events.slice(0, 2), ["data", "resumed"]);
        assert.ok(events.length === 3 && (events[2] === "end" || events[2] === "failure"), events.join(", "));
      } finally {
        server.close();
      }
    });
  });
}
