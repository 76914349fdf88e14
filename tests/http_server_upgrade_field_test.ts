// RFC 9110 §7.8: a server MAY send Upgrade in a response other than 101 (a
// 200 advertising a protocol; a 426 MUST, §15.5.22), and a sender of Upgrade
// MUST also send the "upgrade" connection option so intermediaries drop the
// hop-by-hop field. serve's HTTP/1.1 layer owns Connection: it sends
// `Connection: upgrade` exactly when the handler's response has an Upgrade
// field, whether or not the handler listed the option, and drops the option
// when there is no Upgrade to name. Before, a handler's Upgrade went out
// alone (no Connection), and a lone `Connection: upgrade` went out as given.
// Read by node:http's client and as raw bytes, with the runtime's Response
// class and the light one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { installLightResponse, serve, type Server } from "../http/server/mod.ts";
import { rawExchange } from "./raw_exchange.ts";

type Init = { status?: number; headers: Record<string, string> };

const ROUTES: Record<string, Init> = {
  "/advertise": { headers: { upgrade: "h2c" } },
  "/advertise-listed": { headers: { upgrade: "h2c", connection: "Upgrade" } },
  "/option-only": { headers: { connection: "upgrade" } },
  "/426": { status: 426, headers: { upgrade: "websocket" } },
  "/close": { headers: { upgrade: "h2c", connection: "upgrade, close" } },
};

/**
 * The response node:http's client sees: status, Upgrade, the Connection
 * options (repeated lines joined, sorted; without `close`, which answers the
 * client's own Connection: close) and the body.
 */
function get(port: number, path: string): Promise<{ status: number; upgrade: string | undefined; connection: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({
        status: res.statusCode ?? 0,
        upgrade: res.headers.upgrade,
        connection: (res.headers.connection ?? "").split(",").map((o) => o.trim().toLowerCase()).filter((o) => o !== "" && o !== "close").sort(),
        body: Buffer.concat(chunks).toString(),
      }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** The Connection field lines of the first response head in `raw`, but `Connection: close` (the answer to the request's own). */
function connectionLines(raw: string): string[] {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  return head.split("\r\n").filter((l) => /^connection:/i.test(l)).map((l) => l.slice(11).trim().toLowerCase()).filter((v) => v !== "close");
}

/** One request on a fresh connection that asks to close after it (the server then ends it), as Latin-1. */
async function raw(port: number, path: string): Promise<string> {
  return (await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)).toString("latin1");
}

function checks(title: string, light: boolean): void {
  describe(title, () => {
    let server: Server;
    let uninstall: () => void = () => {};
    before(() => {
      if (light) uninstall = installLightResponse();
      server = serve({
        host: "127.0.0.1",
        port: 0,
        lightResponse: light,
        fetch: (request) => {
          const init = ROUTES[new URL(request.url).pathname];
          return init === undefined ? new Response("none", { status: 404 }) : new Response("body", init);
        },
      });
    });
    after(async () => {
      await server.shutdown({ deadlineMs: 1000 });
      uninstall();
    });

    test("a 200 with Upgrade and no Connection: Connection: upgrade is added", async () => {
      const r = await get(server.addr.port, "/advertise");
      assert.deepEqual([r.status, r.upgrade, r.connection, r.body], [200, "h2c", ["upgrade"], "body"]);
      const head = await raw(server.addr.port, "/advertise");
      assert.deepEqual(connectionLines(head), ["upgrade"]);
    });

    test("Upgrade with the option listed (any case): one Connection: upgrade", async () => {
      const head = await raw(server.addr.port, "/advertise-listed");
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.deepEqual(connectionLines(head), ["upgrade"]);
    });

    test("the upgrade option without an Upgrade field is not sent", async () => {
      const r = await get(server.addr.port, "/option-only");
      assert.deepEqual([r.status, r.upgrade, r.connection, r.body], [200, undefined, [], "body"]);
      const head = await raw(server.addr.port, "/option-only");
      assert.deepEqual(connectionLines(head), []);
    });

    test("a 426 with Upgrade: Connection: upgrade (RFC 9110 §15.5.22)", async () => {
      const r = await get(server.addr.port, "/426");
      assert.deepEqual([r.status, r.upgrade, r.connection], [426, "websocket", ["upgrade"]]);
    });

    test("Upgrade with Connection: upgrade, close: both options, and the connection closes", async () => {
      const r = await get(server.addr.port, "/close");
      assert.equal(r.upgrade, "h2c");
      assert.deepEqual(r.connection, ["upgrade"]);
      // A second request on the same connection gets no answer: the server closed after the first.
      const both = (await rawExchange(server.addr.port, "GET /close HTTP/1.1\r\nHost: a\r\n\r\nGET /advertise HTTP/1.1\r\nHost: a\r\n\r\n")).toString("latin1");
      assert.equal(both.split("HTTP/1.1 ").length - 1, 1);
      assert.match(both, /\r\nConnection: close\r\n/);
      assert.deepEqual(connectionLines(both), ["upgrade"]);
    });
  });
}

checks("serve, HTTP/1.1: Upgrade in a response other than 101 goes with Connection: upgrade (RFC 9110 §7.8)", false);
checks("serve({ lightResponse: true }): the same for light responses", true);
