// fetch with HttpAuth against a real Apache httpd (mod_auth_digest,
// mod_auth_basic) started in the foreground on 127.0.0.1 with a config in a
// temp dir. mod_auth_digest speaks RFC 2617 Digest (MD5, qop=auth; it has
// no SHA-256 and no auth-int), and with `AuthDigestNcCheck On` it rejects
// an nc that does not count up per nonce. The access log records each
// request's status and Authorization so the tests see what went on the wire.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import http from "node:http";
import { Agent, fetch, HttpAuth, ProxyAgent } from "../http/client/mod.ts";
import { freePort } from "./proxy_helpers.ts";

const APACHE = ["/usr/sbin/apache2", "/usr/sbin/httpd"].find((p) => existsSync(p));
const MODULES = ["/usr/lib/apache2/modules", "/usr/lib64/httpd/modules", "/usr/lib/httpd/modules"].find((p) => existsSync(join(p, "mod_auth_digest.so")));
const SKIP = APACHE === undefined || MODULES === undefined ? "Apache httpd with mod_auth_digest not installed (apt-get install apache2)" : false;

const USER = "Mufasa";
const PASS = "Circle of Life";
/** A user name with a quote and a backslash (escaped in the quoted-string) and a password with UTF-8. */
const ODD_USER = 'o"ne\\il';
const ODD_PASS = "p\u00e4ss w\u00f6rd";
const DIGEST_REALM = "ffinet digest";
const BASIC_REALM = "ffinet basic";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

interface Apache {
  base: string;
  dir: string;
  stop(): Promise<void>;
  /**
   * Why this Apache serves no qop-less (RFC 2069) Digest, or undefined when
   * it does: Apache 2.4.71 (Debian 12, 2026-11) refuses `AuthDigestQop
   * none` ("AuthDigestQop is deprecated: only 'auth' is supported").
   */
  noRfc2069?: string;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.once("connect", () => (c.destroy(), resolve(true)));
    c.once("error", () => resolve(false));
  });
}

async function startApache(): Promise<Apache> {
  try {
    return await startApacheWith(true);
  } catch (error) {
    const message = (error as Error).message;
    if (!/AuthDigestQop/.test(message)) throw error;
    const apache = await startApacheWith(false);
    apache.noRfc2069 = message.trim();
    return apache;
  }
}

async function startApacheWith(qopNone: boolean): Promise<Apache> {
  const dir = mkdtempSync(join(tmpdir(), "ffinet-apache-"));
  // The server drops to www-data when started as root: everything it reads must be world-readable.
  chmodSync(dir, 0o755);
  const www = join(dir, "www");
  for (const d of [www, join(www, "d"), join(www, "b"), join(www, "n"), join(www, "s"), join(dir, "run")]) mkdirSync(d, { recursive: true, mode: 0o755 });
  writeFileSync(join(www, "d", "index.txt"), "digest body\n");
  writeFileSync(join(www, "d", "a b+c.txt"), "odd path\n");
  writeFileSync(join(www, "b", "index.txt"), "basic body\n");
  writeFileSync(join(www, "n", "index.txt"), "rfc 2069 body\n");
  writeFileSync(join(www, "s", "index.txt"), "short-lived nonces\n");
  // A CGI that answers the method, the user Apache authenticated and the request body.
  writeFileSync(join(www, "d", "echo.cgi"), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nprintf "%s %s %s|" "$REQUEST_METHOD" "$REMOTE_USER" "$QUERY_STRING"\ncat\n', { mode: 0o755 });
  // htdigest's format (user:realm:MD5(user:realm:password)) and htpasswd's {SHA} form, written directly.
  const digestLine = (user: string, pass: string) => `${user}:${DIGEST_REALM}:${md5(`${user}:${DIGEST_REALM}:${pass}`)}\n`;
  writeFileSync(join(dir, "digest.pw"), digestLine(USER, PASS) + digestLine(ODD_USER, ODD_PASS), { mode: 0o644 });
  writeFileSync(join(dir, "basic.pw"), `${USER}:{SHA}${createHash("sha1").update(PASS).digest("base64")}\n`, { mode: 0o644 });
  const port = await freePort();
  const runAsRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const mods = ["mpm_prefork", "authn_core", "authn_file", "authz_core", "authz_user", "auth_basic", "auth_digest", "mime", "cgi", "log_config", "proxy", "proxy_http"];
  writeFileSync(
    join(dir, "httpd.conf"),
    [
      `ServerRoot "${dir}"`,
      "ServerName 127.0.0.1",
      `PidFile "${join(dir, "run", "httpd.pid")}"`,
      `DefaultRuntimeDir "${join(dir, "run")}"`,
      `Mutex "file:${join(dir, "run")}" default`,
      `ErrorLog "${join(dir, "error.log")}"`,
      "LogLevel warn",
      // -X is one process serving one connection at a time: an idle keep-alive connection of one
      // client would hold up another's for KeepAliveTimeout, so each request gets its own.
      "KeepAlive Off",
      `Listen 127.0.0.1:${port}`,
      ...(runAsRoot ? ["User www-data", "Group www-data"] : []),
      // Some builds have a module built in (Debian: log_config), which cannot be loaded again.
      ...mods.map((m) => `<IfModule !${m}_module>\n  LoadModule ${m}_module "${join(MODULES!, `mod_${m}.so`)}"\n</IfModule>`),
      `DocumentRoot "${www}"`,
      "TypesConfig /dev/null",
      "AddType text/plain .txt",
      'LogFormat "%>s %m %U%q \\"%{Authorization}i\\" \\"%{WWW-Authenticate}o\\"" wire',
      `CustomLog "${join(dir, "access.log")}" wire`,
      // What went to the forward proxy: the Proxy-Authorization of each request.
      'LogFormat "%>s %m %U \\"%{Proxy-Authorization}i\\"" proxywire',
      `CustomLog "${join(dir, "proxy.log")}" proxywire`,
      `<Directory "${join(www, "d")}">`,
      "  Options +ExecCGI",
      "  AddHandler cgi-script .cgi",
      "  AuthType Digest",
      `  AuthName "${DIGEST_REALM}"`,
      "  AuthDigestProvider file",
      `  AuthUserFile "${join(dir, "digest.pw")}"`,
      "  AuthDigestQop auth",
      "  AuthDigestNcCheck On",
      "  Require valid-user",
      "</Directory>",
      // Nonces that expire after a second: the next answer gets `stale=true`.
      `<Directory "${join(www, "s")}">`,
      "  AuthType Digest",
      `  AuthName "${DIGEST_REALM}"`,
      "  AuthDigestProvider file",
      `  AuthUserFile "${join(dir, "digest.pw")}"`,
      "  AuthDigestQop auth",
      "  AuthDigestNonceLifetime 1",
      "  Require valid-user",
      "</Directory>",
      // The RFC 2069 form: no qop, no nc or cnonce (where this Apache still offers it).
      ...(qopNone
        ? [
          `<Directory "${join(www, "n")}">`,
          "  AuthType Digest",
          `  AuthName "${DIGEST_REALM}"`,
          "  AuthDigestProvider file",
          `  AuthUserFile "${join(dir, "digest.pw")}"`,
          "  AuthDigestQop none",
          "  Require valid-user",
          "</Directory>",
        ]
        : []),
      // A forward proxy asking for Digest (407, Proxy-Authenticate).
      "ProxyRequests On",
      '<Proxy "*">',
      "  AuthType Digest",
      `  AuthName "${DIGEST_REALM}"`,
      "  AuthDigestProvider file",
      `  AuthUserFile "${join(dir, "digest.pw")}"`,
      "  AuthDigestQop auth",
      "  AuthDigestNcCheck On",
      "  Require valid-user",
      "</Proxy>",
      `<Directory "${join(www, "b")}">`,
      "  AuthType Basic",
      `  AuthName "${BASIC_REALM}"`,
      "  AuthBasicProvider file",
      `  AuthUserFile "${join(dir, "basic.pw")}"`,
      "  Require valid-user",
      "</Directory>",
      "",
    ].join("\n"),
  );
  const child = spawn(APACHE!, ["-X", "-f", join(dir, "httpd.conf")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let up = false;
  for (let i = 0; i < 200 && !up && child.exitCode === null; i++) {
    up = await accepts(port);
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  if (!up) {
    const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
    await stop();
    throw new Error(`apache did not start: ${stderr} ${log}`);
  }
  return { base: `http://127.0.0.1:${port}`, dir, stop };
}

interface LogLine {
  status: number;
  method: string;
  target: string;
  authorization: string;
  challenge: string;
}

function readLog(apache: Apache): string[] {
  const path = join(apache.dir, "access.log");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l !== "") : [];
}

let marks = 0;

/**
 * The number of access-log lines so far, every earlier request included:
 * a request to `/mark-N` is answered only after the ones before it were
 * logged (`-X` is one process serving one request at a time), and its own
 * line is written just after its response, so this waits for that line
 * (a bounded number of times).
 */
async function mark(apache: Apache, agent: Agent): Promise<number> {
  const target = `/mark-${++marks}`;
  await (await fetch(`${apache.base}${target}`, { dispatcher: agent })).arrayBuffer();
  for (let i = 0; i < 500; i++) {
    const index = readLog(apache).findIndex((l) => l.split(" ")[2] === target);
    if (index >= 0) return index + 1;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${target} never reached the access log`);
}

/** The access-log lines after the first `from` and before the next mark. */
async function logLines(apache: Apache, agent: Agent, from: number): Promise<LogLine[]> {
  const to = await mark(apache, agent) - 1;
  return readLog(apache).slice(from, to).map((l) => {
    const m = /^(\d+) (\S+) (\S+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/.exec(l);
    assert.ok(m, `unexpected log line ${l}`);
    const unescape = (text: string) => text.replace(/\\"/g, '"');
    return { status: Number(m[1]), method: m[2]!, target: m[3]!, authorization: unescape(m[4]!), challenge: unescape(m[5]!) };
  });
}

/** One Digest parameter out of an Authorization (or Authentication-Info) value. */
function param(value: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|[ ,])${name}=(?:"([^"]*)"|([^\\s,]+))`).exec(value);
  return m === null ? undefined : (m[1] ?? m[2]);
}

describe("fetch with HttpAuth against Apache httpd (mod_auth_digest, mod_auth_basic)", { skip: SKIP }, () => {
  let apache: Apache;
  const agent = new Agent();
  before(async () => {
    apache = await startApache();
  });
  after(async () => {
    await agent.close();
    await apache?.stop();
  });

  test("Digest: a challenge, then 200 and the body; Apache's Authentication-Info answers our nc", async () => {
    const from = await mark(apache, agent);
    const auth = new HttpAuth({ username: USER, password: PASS });
    const response = await fetch(`${apache.base}/d/index.txt`, { auth, dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "digest body\n");
    const info = response.headers.get("authentication-info") ?? "";
    assert.equal(param(info, "nc"), "00000001");
    assert.equal(param(info, "qop"), "auth");
    const lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [401, 200]);
    assert.equal(lines[0]!.authorization, "-");
    const sent = lines[1]!.authorization;
    assert.match(sent, /^Digest /);
    assert.equal(param(sent, "username"), USER);
    assert.equal(param(sent, "realm"), DIGEST_REALM);
    assert.equal(param(sent, "uri"), "/d/index.txt");
    assert.equal(param(sent, "qop"), "auth");
    assert.equal(param(sent, "nc"), "00000001");
    assert.ok(param(sent, "opaque") !== undefined, "Apache's opaque is echoed");
  });

  test("two more requests reuse the nonce with nc counting up, and Apache (AuthDigestNcCheck On) accepts them without a new challenge", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    assert.equal(await (await fetch(`${apache.base}/d/index.txt`, { auth, dispatcher: agent })).text(), "digest body\n");
    const from = await mark(apache, agent);
    const r2 = await fetch(`${apache.base}/d/index.txt`, { auth, dispatcher: agent });
    assert.equal(r2.status, 200);
    assert.equal(await r2.text(), "digest body\n");
    const r3 = await fetch(`${apache.base}/d/echo.cgi?x=1&y=two`, { auth, dispatcher: agent });
    assert.equal(r3.status, 200);
    assert.equal(await r3.text(), `GET ${USER} x=1&y=two|`);
    assert.equal(param(r3.headers.get("authentication-info") ?? "", "nc"), "00000003");
    const lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [200, 200], "answered up front: no 401 in between");
    assert.deepEqual(lines.map((l) => param(l.authorization, "nc")), ["00000002", "00000003"]);
    assert.equal(param(lines[0]!.authorization, "nonce"), param(lines[1]!.authorization, "nonce"));
    assert.equal(param(lines[1]!.authorization, "uri"), "/d/echo.cgi?x=1&y=two");
  });

  test("Digest without qop (AuthDigestQop none): the RFC 2069 form, twice on one nonce", async () => {
    if (apache.noRfc2069 !== undefined) {
      // Newer Apache refuses to serve the qop-less form at all; the client's
      // RFC 2069 answers are still checked against a server computing the
      // digest itself in tests/http_client_auth_test.ts ("/digest-2069").
      assert.match(apache.noRfc2069, /AuthDigestQop/);
      return;
    }
    const from = await mark(apache, agent);
    const auth = new HttpAuth({ username: USER, password: PASS });
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${apache.base}/n/index.txt`, { auth, dispatcher: agent });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "rfc 2069 body\n");
    }
    const lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [401, 200, 200]);
    for (const l of lines.slice(1)) {
      assert.equal(param(l.authorization, "qop"), undefined);
      assert.equal(param(l.authorization, "nc"), undefined);
      assert.equal(param(l.authorization, "cnonce"), undefined);
      assert.equal(param(l.authorization, "uri"), "/n/index.txt");
    }
    assert.equal(param(lines[1]!.authorization, "nonce"), param(lines[2]!.authorization, "nonce"));
  });

  test("an expired nonce: Apache answers stale=true with a fresh nonce, and the client starts it at nc 1", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    const first = await fetch(`${apache.base}/s/index.txt`, { auth, dispatcher: agent });
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    // Let the nonce expire (AuthDigestNonceLifetime 1); the client still has it.
    await new Promise((r) => setTimeout(r, 1500));
    const from = await mark(apache, agent);
    const second = await fetch(`${apache.base}/s/index.txt`, { auth, dispatcher: agent });
    assert.equal(second.status, 200);
    assert.equal(await second.text(), "short-lived nonces\n");
    const lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [401, 200]);
    assert.equal(param(lines[0]!.authorization, "nc"), "00000002", "the old nonce was sent up front");
    assert.equal(param(lines[0]!.challenge, "stale"), "true");
    const fresh = param(lines[0]!.challenge, "nonce");
    assert.equal(param(lines[1]!.authorization, "nonce"), fresh);
    assert.notEqual(fresh, param(lines[0]!.authorization, "nonce"));
    assert.equal(param(lines[1]!.authorization, "nc"), "00000001");
  });

  test("Digest: a path that needs percent-encoding, and a user name with a quote and a backslash", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    const response = await fetch(`${apache.base}/d/a b+c.txt?q=%C3%A4 x`, { auth, dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "odd path\n");
    const odd = await fetch(`${apache.base}/d/echo.cgi`, { auth: new HttpAuth({ username: ODD_USER, password: ODD_PASS }), dispatcher: agent });
    assert.equal(odd.status, 200);
    assert.equal(await odd.text(), `GET ${ODD_USER} |`);
  });

  test("Digest POST: the body reaches the CGI and the method is in the digest", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    const body = "a=1&b=" + "x".repeat(5000);
    const response = await fetch(`${apache.base}/d/echo.cgi`, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" }, auth, dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `POST ${USER} |${body}`);
    // And again with the nonce known: answered up front, nc 2.
    const again = await fetch(`${apache.base}/d/echo.cgi`, { method: "POST", body: new TextEncoder().encode("second"), auth, dispatcher: agent });
    assert.equal(again.status, 200);
    assert.equal(await again.text(), `POST ${USER} |second`);
    assert.equal(param(again.headers.get("authentication-info") ?? "", "nc"), "00000002");
  });

  test("Digest POST with a streamed body: the first 401 cannot be replayed and comes back; once the nonce is known the stream goes up front", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    const stream = (text: string) => new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    });
    const first = await fetch(`${apache.base}/d/echo.cgi`, { method: "POST", body: stream("one"), duplex: "half", auth, dispatcher: agent });
    assert.equal(first.status, 401);
    await first.arrayBuffer();
    // A replayable body learns the nonce...
    assert.equal(await (await fetch(`${apache.base}/d/echo.cgi`, { method: "POST", body: "two", auth, dispatcher: agent })).text(), `POST ${USER} |two`);
    // ...and the stream is then answered up front.
    const third = await fetch(`${apache.base}/d/echo.cgi`, { method: "POST", body: stream("three"), duplex: "half", auth, dispatcher: agent });
    assert.equal(third.status, 200);
    assert.equal(await third.text(), `POST ${USER} |three`);
  });

  test("Digest with a wrong password: the 401 comes back after one try, no loop", async () => {
    const from = await mark(apache, agent);
    const response = await fetch(`${apache.base}/d/index.txt`, { auth: new HttpAuth({ username: USER, password: "wrong" }), dispatcher: agent });
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Digest /);
    await response.arrayBuffer();
    // An unknown user as well.
    const nobody = await fetch(`${apache.base}/d/index.txt`, { auth: new HttpAuth({ username: "nobody", password: PASS }), dispatcher: agent });
    assert.equal(nobody.status, 401);
    await nobody.arrayBuffer();
    // Nothing else was sent for either.
    assert.deepEqual((await logLines(apache, agent, from)).map((l) => l.status), [401, 401, 401, 401]);
  });

  test("credentials from the URL: Digest and Basic", async () => {
    const userinfo = `${USER}:${encodeURIComponent(PASS)}@`;
    const digest = await fetch(`http://${userinfo}${apache.base.slice(7)}/d/index.txt`, { dispatcher: agent });
    assert.equal(digest.status, 200);
    assert.equal(await digest.text(), "digest body\n");
    const basic = await fetch(`http://${userinfo}${apache.base.slice(7)}/b/index.txt`, { dispatcher: agent });
    assert.equal(basic.status, 200);
    assert.equal(await basic.text(), "basic body\n");
    const wrong = await fetch(`http://${USER}:nope@${apache.base.slice(7)}/b/index.txt`, { dispatcher: agent });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();
  });

  test("Apache as a forward proxy asking for Digest: 407 answered with Proxy-Authorization, GET and POST reach the origin, a wrong password surfaces the 407", async () => {
    const origin = http.createServer((req, res) => {
      const chunks: Uint8Array[] = [];
      req.on("data", (c: Uint8Array) => chunks.push(c));
      // Apache would keep its connection to the origin open otherwise (origin.close() would wait on it).
      res.setHeader("connection", "close");
      req.on("end", () => res.end(`origin ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}|${req.headers["proxy-authorization"] ?? "-"}`));
    });
    await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
    const target = `http://127.0.0.1:${(origin.address() as net.AddressInfo).port}`;
    const proxied = new ProxyAgent({ proxy: apache.base });
    const proxiedWrong = new ProxyAgent({ proxy: apache.base });
    try {
      const auth = new HttpAuth({ proxy: { username: USER, password: PASS } });
      const from = await mark(apache, agent);
      const get = await fetch(`${target}/x?y=1`, { auth, dispatcher: proxied });
      assert.equal(get.status, 200);
      // Apache strips Proxy-Authorization before forwarding.
      assert.equal(await get.text(), "origin GET /x?y=1 |-");
      const post = await fetch(`${target}/post`, { method: "POST", body: "hello proxy", auth, dispatcher: proxied });
      assert.equal(post.status, 200);
      assert.equal(await post.text(), "origin POST /post hello proxy|-");
      await proxied.close();
      const lines = await logLines(apache, agent, from);
      // The POST sends Proxy-Authorization up front (the proxy's nonce, nc 2): no second 407.
      assert.deepEqual(lines.map((l) => [l.status, l.method]), [[407, "GET"], [200, "GET"], [200, "POST"]]);
      const wrong = await fetch(`${target}/bad`, { auth: new HttpAuth({ proxy: { username: USER, password: "nope" } }), dispatcher: proxiedWrong });
      assert.equal(wrong.status, 407);
      assert.match(wrong.headers.get("proxy-authenticate") ?? "", /^Digest /);
      await wrong.arrayBuffer();
    } finally {
      await proxied.close();
      await proxiedWrong.close();
      await new Promise<void>((r) => origin.close(() => r()));
    }
  });

  test("Proxy Digest up front: after the proxy's one 407, every later request through it (other targets, POST) sends Proxy-Authorization at once with nc counting up (AuthDigestNcCheck On); the state belongs to the proxy, not the target", async () => {
    const origin = http.createServer((req, res) => {
      res.setHeader("connection", "close");
      req.resume();
      req.on("end", () => res.end(`origin ${req.method} ${req.url}`));
    });
    await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
    const port = (origin.address() as net.AddressInfo).port;
    // Two targets (two origins) through one proxy, and the same proxy under another name (another protection space).
    const targets = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
    const proxied = new ProxyAgent({ proxy: apache.base });
    const otherName = new ProxyAgent({ proxy: apache.base.replace("127.0.0.1", "localhost") });
    const proxyLog = () => existsSync(join(apache.dir, "proxy.log")) ? readFileSync(join(apache.dir, "proxy.log"), "utf8").split("\n").filter((l) => l !== "") : [];
    try {
      const auth = new HttpAuth({ proxy: { username: USER, password: PASS } });
      const from = await mark(apache, agent);
      const fromProxy = proxyLog().length;
      const bodies: string[] = [];
      for (const [i, target] of [targets[0]!, targets[1]!, targets[0]!, targets[1]!].entries()) {
        const r = await fetch(`${target}/t${i}`, { auth, dispatcher: proxied });
        assert.equal(r.status, 200);
        bodies.push(await r.text());
      }
      const post = await fetch(`${targets[1]}/post`, { method: "POST", body: "up front", auth, dispatcher: proxied });
      assert.equal(post.status, 200);
      bodies.push(await post.text());
      assert.deepEqual(bodies, ["origin GET /t0", "origin GET /t1", "origin GET /t2", "origin GET /t3", "origin POST /post"]);
      let lines = await logLines(apache, agent, from);
      assert.deepEqual(lines.map((l) => l.status), [407, 200, 200, 200, 200, 200]);
      // What the proxy got: no credentials on the first request, then one nonce with nc 1, 2, 3, 4, 5.
      const sent = proxyLog().slice(fromProxy).filter((l) => !/ \/mark-\d+ /.test(l)).map((l) => /"(.*)"$/.exec(l)![1]!.replace(/\\"/g, '"'));
      assert.equal(sent.length, 6, sent.join("\n"));
      assert.equal(sent[0], "-");
      assert.deepEqual(sent.slice(1).map((v) => param(v, "nc")), ["00000001", "00000002", "00000003", "00000004", "00000005"]);
      assert.equal(new Set(sent.slice(1).map((v) => param(v, "nonce"))).size, 1);
      assert.deepEqual(sent.slice(1).map((v) => param(v, "realm")), Array(5).fill(DIGEST_REALM));

      // The same HttpAuth through the proxy under another name: another protection space, so one 407 there first.
      const from2 = await mark(apache, agent);
      for (const i of [0, 1]) {
        const r = await fetch(`${targets[0]}/other${i}`, { auth, dispatcher: otherName });
        assert.equal(await r.text(), `origin GET /other${i}`);
      }
      lines = await logLines(apache, agent, from2);
      assert.deepEqual(lines.map((l) => l.status), [407, 200, 200]);
    } finally {
      await proxied.close();
      await otherName.close();
      await new Promise<void>((r) => origin.close(() => r()));
    }
  });

  test("Basic: answering the challenge, preemptively, and a wrong password surfaced as 401", async () => {
    let from = await mark(apache, agent);
    const response = await fetch(`${apache.base}/b/index.txt`, { auth: new HttpAuth({ username: USER, password: PASS }), dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "basic body\n");
    let lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [401, 200]);
    assert.equal(lines[1]!.authorization, `Basic ${btoa(`${USER}:${PASS}`)}`);

    from = await mark(apache, agent);
    const up = await fetch(`${apache.base}/b/index.txt`, { auth: new HttpAuth({ username: USER, password: PASS, preemptiveBasic: true }), dispatcher: agent });
    assert.equal(up.status, 200);
    assert.equal(await up.text(), "basic body\n");
    lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [200]);

    from = await mark(apache, agent);
    const wrong = await fetch(`${apache.base}/b/index.txt`, { auth: new HttpAuth({ username: USER, password: "nope" }), dispatcher: agent });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic realm="ffinet basic"/);
    await wrong.arrayBuffer();
    lines = await logLines(apache, agent, from);
    assert.deepEqual(lines.map((l) => l.status), [401, 401]);
  });
});
