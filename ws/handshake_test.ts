import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HTTPError } from "../core/errors.ts";
import { acceptKey, acceptUpgrade, createClientHandshake } from "./handshake.ts";

function parseResponse(text: string): { status: number; headers: Headers } {
  const [head] = text.split("\r\n\r\n");
  const lines = head!.split("\r\n");
  const headers = new Headers();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    headers.append(l.slice(0, i), l.slice(i + 1).trim());
  }
  return { status: Number(lines[0]!.split(" ")[1]), headers };
}

const good = (): Record<string, string> => ({
  host: "example.com",
  upgrade: "websocket",
  connection: "keep-alive, Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
});

describe("ws handshake: server (RFC 6455 §4.2)", () => {
  test("the RFC's accept key", () => {
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const r = acceptUpgrade({ method: "GET", headers: new Headers(good()) });
    assert.ok(r.ok);
    assert.match(r.response, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(r.response, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.ok(r.response.endsWith("\r\n\r\n"));
  });

  test("refusals: 400, 405, 426", () => {
    const cases: [Record<string, string | undefined>, string, number][] = [
      [{ host: undefined }, "GET", 400],
      [{ upgrade: "h2c" }, "GET", 400],
      [{ connection: "keep-alive" }, "GET", 400],
      [{ "sec-websocket-key": "short" }, "GET", 400],
      [{ "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAAA=" }, "GET", 400], // 17 bytes
      [{ "sec-websocket-key": undefined }, "GET", 400],
      [{ "sec-websocket-version": "8" }, "GET", 426],
      [{ "sec-websocket-version": undefined }, "GET", 426],
      [{ "sec-websocket-protocol": "a b" }, "GET", 400],
      [{ "sec-websocket-extensions": "permessage-deflate;;" }, "GET", 400],
      [{}, "POST", 405],
    ];
    for (const [change, method, status] of cases) {
      const h = good();
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete h[k];
        else h[k] = v;
      }
      const r = acceptUpgrade({ method, headers: new Headers(h) });
      assert.equal(r.ok ? 101 : r.status, status, JSON.stringify(change));
      if (!r.ok) {
        assert.match(r.response, new RegExp(`^HTTP/1.1 ${status} `));
        if (status === 426) assert.match(r.response, /Sec-WebSocket-Version: 13/);
      }
    }
    assert.equal(acceptUpgrade({ method: "GET", httpVersion: "1.0", headers: new Headers(good()) }).ok, false);
  });

  test("subprotocol and extension negotiation", () => {
    const h = new Headers({ ...good(), "sec-websocket-protocol": "v2.chat, chat", "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" });
    const r = acceptUpgrade({ method: "GET", headers: h }, { protocols: ["chat", "v2.chat"] });
    assert.ok(r.ok);
    assert.equal(r.protocol, "chat");
    assert.match(r.response, /Sec-WebSocket-Protocol: chat\r\n/);
    assert.match(r.response, /Sec-WebSocket-Extensions: permessage-deflate\r\n/);
    r.deflate?.close();
    const picked = acceptUpgrade({ method: "GET", headers: h }, { protocols: (offered) => offered[0], perMessageDeflate: false });
    assert.ok(picked.ok);
    assert.equal(picked.protocol, "v2.chat");
    assert.equal(picked.deflate, undefined);
    const none = acceptUpgrade({ method: "GET", headers: h }, { protocols: ["other"] });
    assert.ok(none.ok && none.protocol === undefined && !none.response.includes("Sec-WebSocket-Protocol"));
    none.ok && none.deflate?.close();
  });
});

describe("ws handshake: client (RFC 6455 §4.1)", () => {
  test("request with a fresh random key; round trip with the server", () => {
    const a = createClientHandshake({ host: "example.com", path: "/chat?x=1", protocols: ["chat"], origin: "http://example.com" });
    const b = createClientHandshake({ host: "example.com" });
    assert.notEqual(a.key, b.key);
    assert.equal(Buffer.from(a.key, "base64").length, 16);
    assert.match(a.request, /^GET \/chat\?x=1 HTTP\/1\.1\r\n/);
    assert.match(a.request, /sec-websocket-version: 13\r\n/i);
    const server = acceptUpgrade({ method: "GET", headers: a.headers }, { protocols: ["chat"] });
    assert.ok(server.ok);
    const result = a.finish(parseResponse(server.response));
    assert.equal(result.protocol, "chat");
    assert.ok(result.deflate);
    assert.equal(result.deflate.role, "client");
    result.deflate.close();
    server.deflate?.close();
  });

  test("bad responses fail", () => {
    const hs = createClientHandshake({ host: "h", protocols: ["chat"], perMessageDeflate: false });
    const ok = parseResponse(acceptUpgrade({ method: "GET", headers: hs.headers }).response);
    const variants: [string, string | null][] = [
      ["sec-websocket-accept", "wrong"],
      ["upgrade", null],
      ["connection", null],
      ["sec-websocket-protocol", "other"],
      ["sec-websocket-extensions", "permessage-deflate"],
    ];
    for (const [name, value] of variants) {
      const headers = new Headers(ok.headers);
      if (value === null) headers.delete(name);
      else headers.set(name, value);
      assert.throws(() => hs.finish({ status: 101, headers }), HTTPError, name);
    }
    assert.throws(() => hs.finish({ status: 200, headers: ok.headers }), HTTPError);
    assert.throws(() => createClientHandshake({ host: "h", path: "no-slash" }), TypeError);
    assert.throws(() => createClientHandshake({ host: "h", protocols: ["a", "a"] }), TypeError);
  });
});
