// The client's check of the server's name against its certificate (RFC 6125
// §6.4, RFC 9525 §6.3), each case a self-signed certificate made here with
// the openssl CLI and trusted as the only CA, the name given as servername:
// - the subject's common name counts only when the certificate has no
//   subjectAltName at all: a certificate with CN=localhost and only an IP
//   address (or a URI) as subjectAltName does not name localhost (OpenSSL's
//   own check fell back to the CN whenever no DNS name was listed), on a full
//   handshake and for a resumed session alike;
// - `*.a.com` names x.a.com (any case, with a final dot), not a.com nor
//   x.y.a.com; a partial wildcard `f*.a.com` names nothing;
// - an IP literal is checked against IP addresses only, never a DNS entry
//   spelling the same address.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TLSVerifyError } from "../core/errors.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";

const dir = mkdtempSync(join(tmpdir(), "ffinet-names-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed leaf with subject CN `cn` and subjectAltName `san` ("" for none): its PEM and key. */
function selfSigned(name: string, cn: string, san: string): { cert: string; key: string } {
  const ext = san === "" ? [] : ["-addext", `subjectAltName=${san}`];
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
    "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`), "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:FALSE", ...ext,
  ], { timeout: 20_000, stdio: ["ignore", "ignore", "pipe"] });
  return { cert: readFileSync(join(dir, `${name}.pem`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") };
}

/** Connects to a server with `pair` as `servername`; "ok" or the TLSVerifyError's reason. */
async function check(pair: { cert: string; key: string }, servername: string): Promise<string> {
  await using server = listenTLS({ port: 0, host: "127.0.0.1", ...pair, handler: { data: (c, d) => c.send(d) } });
  try {
    const conn = await connectTLS({ host: "127.0.0.1", port: server.port, ca: pair.cert, servername });
    await conn.close();
    return "ok";
  } catch (err) {
    assert.ok(err instanceof TLSVerifyError, String(err));
    return err.reason ?? String(err);
  }
}

describe("TLS client: the server's name against its certificate", () => {
  test("the common name counts only without subjectAltNames: CN=localhost with an IP or a URI subjectAltName does not name localhost", async () => {
    const ipOnly = selfSigned("ip", "localhost", "IP:127.0.0.1");
    assert.equal(await check(ipOnly, "localhost"), "HOSTNAME_MISMATCH");
    assert.equal(await check(ipOnly, "127.0.0.1"), "ok");
    assert.equal(await check(selfSigned("uri", "localhost", "URI:https://a.example/"), "localhost"), "HOSTNAME_MISMATCH");
    const cnOnly = selfSigned("cn", "localhost", "");
    assert.equal(await check(cnOnly, "localhost"), "ok");
    assert.equal(await check(cnOnly, "LOCALHOST"), "ok");
    assert.equal(await check(cnOnly, "other.example"), "HOSTNAME_MISMATCH");
  });

  test("a session from the IP address is not resumed for the common name of a certificate with subjectAltNames", async () => {
    const pair = selfSigned("ipres", "localhost", "IP:127.0.0.1");
    await using server = listenTLS({ port: 0, host: "127.0.0.1", ...pair, minVersion: "TLSv1.2", handler: { data: (c, d) => c.send(d) } });
    for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
      const options = { host: "127.0.0.1", port: server.port, ca: pair.cert, minVersion: version, maxVersion: version };
      const first = await connectTLS(options);
      await first.write(new Uint8Array([1]));
      await first.read(); // the TLS 1.3 ticket comes with it
      const session = await tlsInfo(first)!.session();
      await first.close();
      assert.ok(session !== null, version);
      await assert.rejects(connectTLS({ ...options, servername: "localhost", session }), (err: unknown) => {
        assert.ok(err instanceof TLSVerifyError, String(err));
        assert.equal(err.reason, "HOSTNAME_MISMATCH", version);
        return true;
      });
    }
  });

  test("*.a.com names x.a.com (any case, a final dot) and neither a.com nor x.y.a.com; f*.a.com names nothing", async () => {
    const wild = selfSigned("wild", "x", "DNS:*.a.com");
    for (const name of ["x.a.com", "X.A.COM", "x.a.com."]) assert.equal(await check(wild, name), "ok", name);
    for (const name of ["a.com", "x.y.a.com", "xa.com"]) assert.equal(await check(wild, name), "HOSTNAME_MISMATCH", name);
    assert.equal(await check(selfSigned("partial", "x", "DNS:f*.a.com"), "foo.a.com"), "HOSTNAME_MISMATCH");
    assert.equal(await check(selfSigned("upper", "x", "DNS:LOCALHOST"), "localhost"), "ok");
  });

  test("an IP literal matches IP addresses only, never a DNS entry spelling it", async () => {
    const dnsIP = selfSigned("dnsip", "127.0.0.1", "DNS:127.0.0.1");
    assert.equal(await check(dnsIP, "127.0.0.1"), "IP_ADDRESS_MISMATCH");
    assert.equal(await check(selfSigned("ip6", "x", "IP:127.0.0.1"), "::1"), "IP_ADDRESS_MISMATCH");
  });
});
