// fetch with the cookie jar and HttpAuth against a node:http server on
// 127.0.0.1 that checks Digest (RFC 7616) on its own — nonces it issues,
// nc strictly increasing per nonce, the response recomputed with
// node:crypto — answers Basic, plays a proxy's 407, and sets cookies across
// redirects.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { createHash, randomBytes } from "node:crypto";
import { Agent, CookieJar, fetch, HttpAuth, ProxyAgent } from "../http/client/mod.ts";

const USER = "Mufasa";
const PASS = "Circle of Life";
const REALM = "ffinet-test";

type Algo = "MD5" | "SHA-256" | "SHA-512-256";
const nodeHash: Record<Algo, string> = { "MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512-256" };
const H = (algo: Algo, data: string | Uint8Array) => createHash(nodeHash[algo]).update(data).digest("hex");

/** Splits a Digest credentials value (the server's own small parser). */
function parseCredentials(value: string): Map<string, string> | null {
  if (!value.startsWith("Digest ")) return null;
  const out = new Map<string, string>();
  const re = /([a-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,\s*|$)/gy;
  re.lastIndex = 7;
  let m: RegExpExecArray | null;
  let end = 7;
  while ((m = re.exec(value)) !== null) {
    out.set(m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!);
    end = re.lastIndex;
  }
  return end !== value.length || out.size === 0 ? null : out;
}

interface DigestServerState {
  /** nonce → last nc seen (0 = issued, unused). */
  nonces: Map<string, number>;
  /** nonces the server now calls stale. */
  stale: Set<string>;
  challenges: number;
  staleOnceUsed: boolean;
  log: Array<{
    path: string;
    algorithm: string | undefined;
    qop: string | undefined;
    nc: string | undefined;
    opaque: string | undefined;
    authorization: string | undefined;
    proxyAuthorization: string | undefined;
    cookie: string | undefined;
  }>;
}

function checkDigest(state: DigestServerState, req: http.IncomingMessage, body: Uint8Array, header: string | undefined): "ok" | "stale" | "bad" {
  const p = header === undefined ? null : parseCredentials(header);
  if (p === null) return "bad";
  const algoName = p.get("algorithm") ?? "MD5";
  const sess = algoName.endsWith("-sess");
  const algo = (sess ? algoName.slice(0, -5) : algoName) as Algo;
  if (!(algo in nodeHash)) return "bad";
  const nonce = p.get("nonce")!;
  const last = state.nonces.get(nonce);
  if (last === undefined) return "bad";
  if (p.get("realm") !== REALM || p.get("uri") !== req.url) return "bad";
  if (p.get("opaque") !== "opaque-" + nonce.slice(0, 4)) return "bad";
  let username = p.get("username");
  if (p.get("userhash") === "true") username = username === H(algo, `${USER}:${REALM}`) ? USER : undefined;
  if (username !== USER) return "bad";
  const qop = p.get("qop");
  const cnonce = p.get("cnonce") ?? "";
  let ha1 = H(algo, `${USER}:${REALM}:${PASS}`);
  if (sess) ha1 = H(algo, `${ha1}:${nonce}:${cnonce}`);
  const a2 = qop === "auth-int" ? `${req.method}:${req.url}:${H(algo, body)}` : `${req.method}:${req.url}`;
  let expected: string;
  if (qop === undefined) expected = H(algo, `${ha1}:${nonce}:${H(algo, a2)}`);
  else {
    const ncText = p.get("nc") ?? "";
    if (!/^[0-9a-f]{8}$/.test(ncText)) return "bad";
    const nc = parseInt(ncText, 16);
    if (nc <= last) return "bad"; // a replayed or out-of-order count
    state.nonces.set(nonce, nc);
    expected = H(algo, `${ha1}:${nonce}:${ncText}:${cnonce}:${qop}:${H(algo, a2)}`);
  }
  if (p.get("response") !== expected) return "bad";
  return state.stale.has(nonce) ? "stale" : "ok";
}

function newNonce(state: DigestServerState): string {
  const nonce = randomBytes(12).toString("base64");
  state.nonces.set(nonce, 0);
  return nonce;
}

function challenge(state: DigestServerState, algorithms: string[], qop: string | null, extra = ""): string[] {
  state.challenges++;
  return algorithms.map((algorithm) => {
    const nonce = newNonce(state);
    return `Digest realm="${REALM}", nonce="${nonce}", opaque="opaque-${nonce.slice(0, 4)}", algorithm=${algorithm}` +
      (qop === null ? "" : `, qop="${qop}"`) + extra;
  });
}

let server: http.Server;
let other: http.Server;
let base = "";
let otherBase = "";
const sockets = new Set<net.Socket>();
const state: DigestServerState = { nonces: new Map(), stale: new Set(), challenges: 0, staleOnceUsed: false, log: [] };

function listen(handler: http.RequestListener): Promise<{ server: http.Server; base: string }> {
  const s = http.createServer(handler);
  s.on("connection", (c: net.Socket) => sockets.add(c));
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve({ server: s, base: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}` })));
}

before(async () => {
  ({ server, base } = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const url = new URL(req.url!, base);
      const authorization = req.headers.authorization;
      const p = authorization ? parseCredentials(authorization) : null;
      state.log.push({
        path: url.pathname,
        algorithm: p?.get("algorithm"),
        qop: p?.get("qop"),
        nc: p?.get("nc"),
        opaque: p?.get("opaque"),
        authorization,
        proxyAuthorization: req.headers["proxy-authorization"],
        cookie: req.headers.cookie,
      });
      const digestRoute = (algorithms: string[], qop: string | null, extra = "") => {
        const verdict = checkDigest(state, req, body, authorization);
        if (verdict === "ok") {
          res.end(`hello ${USER}`);
          return;
        }
        res.writeHead(401, { "www-authenticate": challenge(state, algorithms, qop, verdict === "stale" ? ", stale=true" : extra) });
        res.end("no");
      };
      switch (url.pathname) {
        case "/digest":
        case "/digest/other":
          return digestRoute(["MD5", "SHA-256"], "auth,auth-int");
        case "/digest-md5-only":
          return digestRoute(["MD5"], "auth");
        case "/digest-2069":
          return digestRoute(["MD5"], null);
        case "/digest-int":
          return digestRoute(["SHA-256"], "auth-int");
        case "/digest-sess":
          return digestRoute(["SHA-256-sess"], "auth");
        case "/digest-userhash":
          return digestRoute(["SHA-512-256"], "auth", ", userhash=true");
        case "/digest-stale": {
          // Every nonce goes stale after its first successful use.
          const verdict = checkDigest(state, req, body, authorization);
          if (verdict === "ok") {
            state.stale.add(parseCredentials(authorization!)!.get("nonce")!);
            res.end("fresh");
            return;
          }
          res.writeHead(401, { "www-authenticate": challenge(state, ["SHA-256"], "auth", verdict === "stale" ? ", stale=true" : "") });
          res.end();
          return;
        }
        case "/digest-stale-once":
        case "/digest-always-stale": {
          // The first valid answer (or every one) is called stale.
          let verdict = checkDigest(state, req, body, authorization);
          if (verdict === "ok" && (url.pathname === "/digest-always-stale" || !state.staleOnceUsed)) {
            if (url.pathname === "/digest-stale-once") state.staleOnceUsed = true;
            verdict = "stale";
          }
          if (verdict === "ok") {
            res.end("second nonce");
            return;
          }
          res.writeHead(401, { "www-authenticate": challenge(state, ["SHA-256"], "auth", verdict === "stale" ? ", stale=true" : "") });
          res.end();
          return;
        }
        case "/basic": {
          const ok = authorization === "Basic " + Buffer.from(`${USER}:${PASS}`).toString("base64");
          res.writeHead(ok ? 200 : 401, ok ? {} : { "www-authenticate": 'Basic realm="b", charset="UTF-8"' });
          res.end(ok ? "basic ok" : "no");
          return;
        }
        case "/proxy": {
          // A proxy's answer: 407 until Proxy-Authorization is right.
          const ok = req.headers["proxy-authorization"] === "Basic " + Buffer.from("pu:pp").toString("base64");
          res.writeHead(ok ? 200 : 407, ok ? {} : { "proxy-authenticate": 'Basic realm="proxy"' });
          res.end(ok ? "through" : "no");
          return;
        }
        case "/login":
          res.writeHead(302, { location: "/step", "set-cookie": ["sid=abc; Path=/; HttpOnly", "theme=dark; Path=/app"] });
          res.end();
          return;
        case "/step":
          res.writeHead(303, { location: "/app/home", "set-cookie": ["step=2; Max-Age=60", "gone=1; Max-Age=0"] });
          res.end();
          return;
        case "/app/home":
        case "/echo":
          res.writeHead(200, { "set-cookie": "seen=1" });
          res.end(req.headers.cookie ?? "");
          return;
        case "/to-other":
          res.writeHead(302, { location: `${otherBase}/echo` });
          res.end();
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
  }));
  ({ server: other, base: otherBase } = await listen((req, res) => {
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null }));
  }));
});

const agent = new Agent();
after(async () => {
  await agent.close();
  for (const s of sockets) s.destroy();
  await Promise.all([server, other].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

const lastLog = (n = 1) => state.log.slice(-n);

describe("Digest over fetch", () => {
  test("401 then one retry; SHA-256 chosen over MD5; opaque echoed; qop=auth over auth-int", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    const response = await fetch(`${base}/digest`, { auth, dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `hello ${USER}`);
    const [first, second] = lastLog(2);
    assert.equal(first!.authorization, undefined);
    assert.equal(second!.algorithm, "SHA-256");
    assert.equal(second!.qop, "auth");
    assert.equal(second!.nc, "00000001");
    assert.match(second!.opaque!, /^opaque-/);
  });

  test("the next request answers up front with nc counting on (no second 401), a redirect too", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    await (await fetch(`${base}/digest`, { auth, dispatcher: agent })).text();
    const challengesBefore = state.challenges;
    const r2 = await fetch(`${base}/digest/other`, { auth, dispatcher: agent });
    assert.equal(r2.status, 200);
    await r2.text();
    assert.equal(state.challenges, challengesBefore);
    assert.equal(lastLog()[0]!.nc, "00000002");
    const r3 = await fetch(`${base}/digest`, { auth, dispatcher: agent });
    await r3.text();
    assert.equal(lastLog()[0]!.nc, "00000003");
  });

  test("a server with MD5 only, the RFC 2069 form, -sess, auth-int over a POST body, userhash with SHA-512-256", async () => {
    for (const [path, init] of [
      ["/digest-md5-only", {}],
      ["/digest-2069", {}],
      ["/digest-sess", {}],
      ["/digest-int", { method: "POST", body: "the body is hashed" }],
      ["/digest-userhash", {}],
    ] as const) {
      const auth = new HttpAuth({ username: USER, password: PASS });
      const response = await fetch(`${base}${path}`, { ...init, auth, dispatcher: agent });
      assert.equal(response.status, 200, path);
      await response.text();
    }
    assert.match(state.log.findLast((l) => l.path === "/digest-userhash")!.authorization!, /userhash=true/);
    assert.equal(state.log.findLast((l) => l.path === "/digest-int")!.qop, "auth-int");
    assert.doesNotMatch(state.log.findLast((l) => l.path === "/digest-2069")!.authorization!, /nc=/);
  });

  test("stale=true: one more retry with the fresh nonce, nc back to 1", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    assert.equal((await (await fetch(`${base}/digest-stale`, { auth, dispatcher: agent })).text()), "fresh");
    // The next request uses the now-stale nonce up front: 401 stale=true, then one retry.
    const response = await fetch(`${base}/digest-stale`, { auth, dispatcher: agent });
    assert.equal(response.status, 200);
    await response.text();
    const [upFront, retry] = lastLog(2);
    assert.equal(upFront!.nc, "00000002");
    assert.equal(retry!.nc, "00000001");
    assert.notEqual(parseCredentials(upFront!.authorization!)!.get("nonce"), parseCredentials(retry!.authorization!)!.get("nonce"));
  });

  test("stale=true in answer to the first retry: a second retry, and no third", async () => {
    const auth = new HttpAuth({ username: USER, password: PASS });
    const before = state.log.length;
    const response = await fetch(`${base}/digest-stale-once`, { auth, dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "second nonce");
    assert.deepEqual(state.log.slice(before).map((l) => l.nc ?? null), [null, "00000001", "00000001"]);
    // A server that calls every answer stale gets two retries, then its 401 back.
    const always = await fetch(`${base}/digest-always-stale`, { auth: new HttpAuth({ username: USER, password: PASS }), dispatcher: agent });
    assert.equal(always.status, 401);
    await always.text();
    assert.equal(state.log.filter((l) => l.path === "/digest-always-stale").length, 3);
  });

  test("wrong password: the 401 comes back after one retry", async () => {
    const before = state.log.length;
    const response = await fetch(`${base}/digest`, { auth: new HttpAuth({ username: USER, password: "nope" }), dispatcher: agent });
    assert.equal(response.status, 401);
    await response.text();
    assert.equal(state.log.length - before, 2);
  });

  test("credentials from the URL", async () => {
    const response = await fetch(`http://${USER}:${encodeURIComponent(PASS)}@${base.slice(7)}/digest`, { dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(response.url, `${base}/digest`, "the response URL carries no credentials");
    await response.text();
  });
});

describe("Basic, Bearer, proxies", () => {
  test("Basic answered after a challenge, or sent up front", async () => {
    const r1 = await fetch(`${base}/basic`, { auth: new HttpAuth({ username: USER, password: PASS }), dispatcher: agent });
    assert.equal(await r1.text(), "basic ok");
    const before = state.log.length;
    const r2 = await fetch(`${base}/basic`, { auth: new HttpAuth({ username: USER, password: PASS, preemptiveBasic: true }), dispatcher: agent });
    assert.equal(await r2.text(), "basic ok");
    assert.equal(state.log.length - before, 1);
  });

  test("Bearer up front", async () => {
    await (await fetch(`${base}/echo`, { auth: new HttpAuth({ token: "abc.def" }), dispatcher: agent })).text();
    assert.equal(lastLog()[0]!.authorization, "Bearer abc.def");
  });

  test("407 with Proxy-Authenticate from an HTTP proxy (absolute form) is answered with Proxy-Authorization", async () => {
    // The test server is the proxy here: it gets the request in absolute form.
    const proxied = new ProxyAgent({ proxy: base });
    try {
      const response = await fetch(`${base}/proxy`, { auth: new HttpAuth({ proxy: { username: "pu", password: "pp" } }), dispatcher: proxied });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "through");
      assert.equal(lastLog()[0]!.authorization, undefined);
    } finally {
      await proxied.close();
    }
  });

  /** Fetches the origin's /proxy (a 407 with Proxy-Authenticate) through `dispatcher` with proxy credentials: handed back, none sent to it. */
  async function assertOrigin407HandedBack(dispatcher: Agent | ProxyAgent): Promise<void> {
    const before = state.log.length;
    const response = await fetch(`${base}/proxy`, { auth: new HttpAuth({ proxy: { username: "pu", password: "pp" } }), dispatcher });
    assert.equal(response.status, 407);
    await response.text();
    const sent = state.log.slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.proxyAuthorization, undefined);
  }

  test("a 407 from a server reached directly is handed back: the proxy credentials are never sent to it", async () => {
    await assertOrigin407HandedBack(agent);
  });

  test("a 407 from inside a CONNECT tunnel is the origin's: handed back, the proxy credentials are never sent through the tunnel", async () => {
    // A CONNECT proxy that lets every tunnel through; the origin behind it answers /proxy with a 407.
    const tunnels = new Set<net.Socket>();
    const proxy = http.createServer();
    proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const [host, port] = String(req.url).split(":");
      const upstream = net.connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const s of [client, upstream]) {
        tunnels.add(s);
        s.on("error", () => {});
        s.on("close", () => { client.destroy(); upstream.destroy(); });
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const tunnelled = new ProxyAgent({ proxy: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, httpTargets: "tunnel" });
    try {
      await assertOrigin407HandedBack(tunnelled);
    } finally {
      await tunnelled.close();
      for (const s of tunnels) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  test("credentials do not follow a redirect to another origin", async () => {
    const response = await fetch(`${base}/to-other`, { auth: new HttpAuth({ token: "secret" }), dispatcher: agent, cookieJar: new CookieJar() });
    const seen = await response.json() as { authorization: string | null };
    assert.equal(lastLog()[0]!.authorization, "Bearer secret");
    assert.equal(seen.authorization, null);
    const viaURL = await fetch(`http://u:p@${base.slice(7)}/to-other`, { dispatcher: agent });
    assert.equal((await viaURL.json() as { authorization: string | null }).authorization, null);
  });
});

describe("cookies over fetch", () => {
  test("cookies set on redirects are kept and sent on the next hops, by path", async () => {
    const jar = new CookieJar();
    const response = await fetch(`${base}/login`, { cookieJar: jar, dispatcher: agent });
    assert.equal(response.status, 200);
    assert.equal(response.redirected, true);
    assert.equal(await response.text(), "theme=dark; sid=abc; step=2");
    const step = state.log.findLast((l) => l.path === "/step")!;
    assert.equal(step.cookie, "sid=abc");
    assert.deepEqual(jar.cookies().map((c) => c.name).sort(), ["seen", "sid", "step", "theme"]);
    // seen=1 came from /app/home: its default-path is /app.
    assert.equal(jar.getCookieHeader(`${base}/echo`), "sid=abc; step=2");
    assert.equal(jar.getCookieHeader(`${base}/app/x`), "theme=dark; seen=1; sid=abc; step=2");
  });

  test("the user's own Cookie field goes first; the jar's follow", async () => {
    const jar = new CookieJar();
    jar.setCookie("stored=1", `${base}/`);
    const response = await fetch(`${base}/echo`, { cookieJar: jar, headers: { cookie: "mine=0" }, dispatcher: agent });
    assert.equal(await response.text(), "mine=0; stored=1");
  });

  test("a jar saved to JSON and loaded again sends the same cookies", async () => {
    const jar = new CookieJar();
    await (await fetch(`${base}/login`, { cookieJar: jar, dispatcher: agent })).text();
    const loaded = CookieJar.fromJSON(JSON.stringify(jar));
    const response = await fetch(`${base}/app/home`, { cookieJar: loaded, dispatcher: agent });
    assert.equal(await response.text(), "theme=dark; seen=1; sid=abc; step=2");
  });

  test("after a redirect the jar decides per hop: another port of the same host gets the host's cookies (RFC 6265bis §8.5)", async () => {
    const jar = new CookieJar();
    jar.setCookie("sid=abc", `${base}/`);
    const response = await fetch(`${base}/to-other`, { cookieJar: jar, headers: { cookie: "mine=0" }, dispatcher: agent });
    // The caller's own Cookie field is dropped on the origin change; the jar's cookies are not port-bound.
    assert.equal((await response.json() as { cookie: string | null }).cookie, "sid=abc");
  });
});
