// Digest authentication when the challenge's realm or nonce holds octets
// above 0x7F (red team, twelfth pass). Field values reach the client one
// char per octet; the response hash took those chars as text and encoded
// them as UTF-8, so a realm sent as UTF-8 (`café`, C3 A9) was hashed as
// C3 83 C2 A9 and a server that hashes the octets it sent (curl does too)
// answered 401 for good credentials. The server here checks the response
// over the raw octets, as Apache's mod_auth_digest does.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Agent, fetch, HttpAuth } from "../http/client/mod.ts";
import { digestAuthorization, digestResponse } from "../http/client/auth_digest.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");
const join = (...parts: Array<Buffer | string>): Buffer =>
  Buffer.concat(parts.flatMap((p, i) => [...(i > 0 ? [Buffer.from(":")] : []), typeof p === "string" ? Buffer.from(p, "latin1") : p]));

let server: RawHTTPServer;
let agent: Agent;
let realm = Buffer.from("caf\u00e9 \u2603", "utf8");
let nonce = Buffer.from("abc", "latin1");
const verdicts: boolean[] = [];

/** The Digest parameters of an Authorization value, as octets (latin1 strings). */
function params(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of value.matchAll(/([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) out.set(m[1]!.toLowerCase(), m[2] ?? m[3]!);
  return out;
}

before(async () => {
  server = await listenRawHTTP((sock, head) => {
    // The head as octets: one latin1 char per byte.
    const lines = head.split("\r\n");
    const [method, uri] = lines[0]!.split(" ") as [string, string];
    const auth = lines.find((l) => l.toLowerCase().startsWith("authorization:"));
    if (auth !== undefined) {
      const p = params(auth.slice(auth.indexOf(":") + 1).trim());
      const ha1 = md5(join("u", realm, Buffer.from("päss", "utf8")));
      const ha2 = md5(join(method, p.get("uri") ?? ""));
      const expected = md5(join(ha1, nonce, p.get("nc") ?? "", p.get("cnonce") ?? "", "auth", ha2));
      const ok = p.get("response") === expected && p.get("uri") === uri && p.get("realm") === realm.toString("latin1");
      verdicts.push(ok);
      if (ok) {
        sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        return;
      }
    }
    sock.write(Buffer.concat([
      Buffer.from('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="'),
      realm,
      Buffer.from('", nonce="'),
      nonce,
      Buffer.from('", qop="auth", algorithm=MD5\r\nContent-Length: 0\r\n\r\n'),
    ]));
  });
  agent = new Agent();
});

after(async () => {
  await agent.close();
  await server.close();
});

async function login(): Promise<number> {
  verdicts.length = 0;
  const response = await fetch(`${server.base}/x?y=1`, { dispatcher: agent, auth: new HttpAuth({ username: "u", password: "päss" }) });
  await response.text();
  return response.status;
}

describe("Digest: a challenge's octets above 0x7F are hashed as octets", () => {
  test("a realm of UTF-8 octets (café ☃)", async () => {
    realm = Buffer.from("caf\u00e9 \u2603", "utf8");
    nonce = Buffer.from("abc", "latin1");
    assert.equal(await login(), 200);
    assert.deepEqual(verdicts, [true]);
  });

  test("a realm of Latin-1 octets (E9) and a nonce with UTF-8 octets", async () => {
    realm = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    nonce = Buffer.from("n/\u00e9x", "utf8");
    assert.equal(await login(), 200);
    assert.deepEqual(verdicts, [true]);
  });

  test("an ASCII realm, as before", async () => {
    realm = Buffer.from("plain", "latin1");
    nonce = Buffer.from("abc", "latin1");
    assert.equal(await login(), 200);
    assert.deepEqual(verdicts, [true]);
  });
});

describe("digestResponse: what each input stands for", () => {
  const base = { algorithm: "MD5" as const, username: "Mufasa", password: "Circle of Life", nonce: "n", cnonce: "c", nc: 1, qop: "auth" as const, method: "GET", uri: "/" };

  test("realm and nonce as field octets: one octet per char up to U+00FF", () => {
    const realm = "caf\u00c3\u00a9"; // UTF-8 "café" as it arrives
    const ha1 = md5(join("Mufasa", Buffer.from("café", "utf8"), "Circle of Life"));
    const expected = md5(join(ha1, "n", "00000001", "c", "auth", md5(join("GET", "/"))));
    assert.equal(digestResponse({ ...base, realm }), expected);
  });

  test("user name and password are UTF-8 (RFC 7616 charset=UTF-8)", () => {
    const ha1 = md5(join(Buffer.from("Jäson", "utf8"), "r", Buffer.from("päss", "utf8")));
    const expected = md5(join(ha1, "n", "00000001", "c", "auth", md5(join("GET", "/"))));
    assert.equal(digestResponse({ ...base, username: "Jäson", password: "päss", realm: "r" }), expected);
  });

  test("a realm with a char above U+00FF (no field carries it as it is) is taken as UTF-8", () => {
    const ha1 = md5(join("Mufasa", Buffer.from("\u2603", "utf8"), "Circle of Life"));
    const expected = md5(join(ha1, "n", "00000001", "c", "auth", md5(join("GET", "/"))));
    assert.equal(digestResponse({ ...base, realm: "\u2603" }), expected);
  });

  test("userhash hashes the realm's octets too", () => {
    const value = digestAuthorization({ ...base, realm: "caf\u00c3\u00a9", userhash: true });
    const sent = params(value).get("username");
    assert.equal(sent, md5(join("Mufasa", Buffer.from("café", "utf8"))));
  });
});
