// HTTP/2 over TLS 1.2 only with the suites RFC 9113 allows (§9.2.2,
// Appendix A: AEAD with an ephemeral key exchange): a server that offers
// h2 and lets TLS 1.2 in (minVersion "TLSv1.2") negotiated h2 over
// ECDHE-ECDSA-AES128-SHA256 and -SHA (CBC), which Appendix A prohibits. Now
// the ALPN callback leaves h2 out for such a handshake: the client gets its
// next choice (http/1.1), or, offering h2 only, the listener's alpnMismatch
// answer; an AEAD suite and TLS 1.3 still get h2. Peer: openssl s_client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { listenTLS, type TLSListener, tlsInfo } from "../tls/connect_async.ts";
import { runSClient } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

let strict: TLSListener;
let lenient: TLSListener;
const chosen: Array<string | null> = [];

function listener(alpnMismatch: "fail" | "ignore"): TLSListener {
  const pki = testPKI();
  return listenTLS({
    port: 0,
    host: "127.0.0.1",
    cert: pki.chain,
    key: pki.key,
    minVersion: "TLSv1.2",
    alpn: ["h2", "http/1.1"],
    alpnMismatch,
    handler: {
      open: (conn) => {
        chosen.push(tlsInfo(conn)?.alpnProtocol ?? null);
        void conn.close();
      },
    },
  });
}

before(() => {
  strict = listener("fail");
  lenient = listener("ignore");
});
after(async () => {
  await strict.close();
  await lenient.close();
});

/** s_client's handshake with `args`: what it was told (ALPN line, suite) and what our server chose. */
async function handshake(server: TLSListener, args: string[]): Promise<{ out: string; chosen: Array<string | null> }> {
  chosen.length = 0;
  const out = await runSClient(server.port, ["-servername", "localhost", ...args]).done;
  return { out, chosen: [...chosen] };
}

describe("HTTP/2 over TLS 1.2 only with the suites RFC 9113 allows", () => {
  for (const suite of ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA"]) {
    test(`TLS 1.2 with ${suite} (not AEAD), offering h2 then http/1.1: http/1.1`, async () => {
      const { out, chosen } = await handshake(strict, ["-tls1_2", "-cipher", suite, "-alpn", "h2,http/1.1"]);
      assert.match(out, new RegExp(`Cipher is ${suite}\\b`), out);
      assert.match(out, /ALPN protocol: http\/1\.1/, out);
      assert.deepEqual(chosen, ["http/1.1"]);
    });
  }

  test("TLS 1.2 with a CBC suite, offering h2 only: alpnMismatch decides (fail: an alert; ignore: no ALPN)", async () => {
    const refused = await handshake(strict, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256", "-alpn", "h2"]);
    assert.match(refused.out, /no application protocol/, refused.out);
    assert.deepEqual(refused.chosen, []);
    const plain = await handshake(lenient, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256", "-alpn", "h2"]);
    assert.match(plain.out, /No ALPN negotiated/, plain.out);
    assert.deepEqual(plain.chosen, [null]);
  });

  test("TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 (AEAD, ephemeral) and TLS 1.3: h2", async () => {
    const gcm = await handshake(strict, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-alpn", "h2,http/1.1"]);
    assert.match(gcm.out, /ALPN protocol: h2/, gcm.out);
    assert.deepEqual(gcm.chosen, ["h2"]);
    const v13 = await handshake(strict, ["-tls1_3", "-alpn", "h2,http/1.1"]);
    assert.match(v13.out, /ALPN protocol: h2/, v13.out);
    assert.deepEqual(v13.chosen, ["h2"]);
  });
});
