// fetch and a redirect's Location octets, and the URL a Response reports
// (red team, twelfth pass). A Location whose octets are UTF-8 (`/café`
// sent as C3 A9) was read as Latin-1 and requested as
// `/caf%C3%83%C2%A9`; browsers and undici read it as UTF-8 (`/caf%C3%A9`).
// Octets that are not UTF-8 go out percent-encoded as sent (curl's way).
// `response.url` carried the request's or the Location's fragment; the
// Fetch standard serializes it with "exclude fragment".
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, fetch } from "../http/client/mod.ts";
import { locationText } from "../http/client/redirect.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

let server: RawHTTPServer;
let agent: Agent;
const requested: string[] = [];
let redirect: Uint8Array = new Uint8Array(0);

before(async () => {
  server = await listenRawHTTP((sock, head) => {
    const target = head.slice(0, head.indexOf("\r\n")).split(" ")[1]!;
    requested.push(target);
    if (target.startsWith("/start")) {
      sock.write(Buffer.concat([Buffer.from("HTTP/1.1 302 Found\r\nLocation: "), redirect, Buffer.from("\r\nContent-Length: 0\r\n\r\n")]));
    } else sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  agent = new Agent();
});

after(async () => {
  await agent.close();
  await server.close();
});

async function follow(location: Uint8Array, start = "/start"): Promise<{ url: string; target: string }> {
  redirect = location;
  requested.length = 0;
  const response = await fetch(`${server.base}${start}`, { dispatcher: agent });
  assert.equal(await response.text(), "ok");
  assert.equal(response.redirected, true);
  assert.equal(requested.length, 2);
  return { url: response.url, target: requested[1]! };
}

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Buffer.concat(parts.map((p) => typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p)));

describe("fetch: the octets of a redirect's Location", () => {
  test("UTF-8 in the path is read as UTF-8 (C3 A9 is é, requested as %C3%A9)", async () => {
    const { url, target } = await follow(bytes("/caf", [0xc3, 0xa9], "?q=", [0xe2, 0x82, 0xac]));
    assert.equal(target, "/caf%C3%A9?q=%E2%82%AC");
    assert.equal(url, `${server.base}/caf%C3%A9?q=%E2%82%AC`);
  });

  test("UTF-8 in an absolute Location's path", async () => {
    const { target } = await follow(bytes(`${server.base}/`, [0xd0, 0x96]));
    assert.equal(target, "/%D0%96");
  });

  test("octets that are not UTF-8 are percent-encoded as sent (E9 is %E9)", async () => {
    const { target } = await follow(bytes("/caf", [0xe9], "/", [0xc3]));
    assert.equal(target, "/caf%E9/%C3");
  });

  test("an ASCII Location is unchanged (already percent-encoded octets stay)", async () => {
    const { target } = await follow(bytes("/a%C3%A9b"));
    assert.equal(target, "/a%C3%A9b");
  });
});

describe("fetch: response.url has no fragment (Fetch: exclude fragment)", () => {
  test("a request URL with a fragment, no redirect", async () => {
    requested.length = 0;
    const response = await fetch(`${server.base}/plain?x=1#frag`, { dispatcher: agent });
    await response.text();
    assert.equal(requested[0], "/plain?x=1");
    assert.equal(response.url, `${server.base}/plain?x=1`);
  });

  test("a Location with a fragment", async () => {
    const { url, target } = await follow(bytes("/x#there"));
    assert.equal(target, "/x");
    assert.equal(url, `${server.base}/x`);
  });

  test("a fragment kept from the request across a redirect", async () => {
    const { url } = await follow(bytes("/y"), "/start#here");
    assert.equal(url, `${server.base}/y`);
  });

  test("a URL object with a fragment, through the full path (a body)", async () => {
    requested.length = 0;
    const response = await fetch(new URL(`${server.base}/post#f`), { method: "POST", body: "x", dispatcher: agent });
    await response.text();
    assert.equal(response.url, `${server.base}/post`);
  });
});

describe("locationText", () => {
  test("cases", () => {
    assert.equal(locationText("/plain?a=b"), "/plain?a=b");
    assert.equal(locationText("/caf\u00c3\u00a9"), "/café");
    assert.equal(locationText("/caf\u00e9"), "/caf%E9");
    // A truncated sequence and an overlong form are not UTF-8.
    assert.equal(locationText("/\u00e2\u0082"), "/%E2%82");
    assert.equal(locationText("/\u00c0\u00af"), "/%C0%AF");
    // Not octets (a char above U+00FF): left as it is.
    assert.equal(locationText("/\u20ac\u00e9"), "/\u20ac\u00e9");
  });
});
