#!/usr/bin/env node
// Runs a conformance suite on Node, Deno and Bun, one after another, and
// ends with one summary line per runtime.
//
//   node scripts/conformance.mjs autobahn                 all three runtimes
//   node scripts/conformance.mjs autobahn --runtime=bun   one runtime
//   node scripts/conformance.mjs autobahn -- 6 7.1        only these case ids (prefixes)
//
// Suites:
//   autobahn  the Autobahn|Testsuite cases in tests/conformance/ws (our
//             compact form, made by tools/convert_autobahn.mjs; see NOTICE),
//             played in memory against the WebSocket server core
//             (tests/conformance/autobahn/main.ts); full message counts;
//             our server against the fuzzer as client, and our client
//             against the fuzzer as server.
//   autobahn-wire  the same cases over loopback sockets: ffinet's real
//             server and client in child processes against the fuzzer
//             (tests/conformance/autobahn/wire_main.ts); both roles.
//   h2        HTTP/2 server conformance: the cases of tests/conformance/h2
//             (numbered after h2spec's list: generic, http2/3.5 … 8.2, hpack;
//             plus our own "extra" cases), raw frames against ffinet's serve
//             over h2c by prior knowledge and over TLS with ALPN h2 (in
//             tests/h2_conformance_test.ts too); --verbose / --trace after --.
//   h1        HTTP/1.1 server conformance: the cases of tests/conformance/h1
//             (the MUST / MUST NOT and important SHOULD requirements RFC 9112
//             and RFC 9110 put on a server, named by section), raw bytes
//             against ffinet's serve, cleartext and a sample over TLS (in
//             tests/h1_conformance_test.ts too); --verbose / --trace /
//             --against=node:http (the same cases against node:http) after --.
//   client-h1 HTTP/1.1 client conformance: the cases of
//             tests/conformance/client_h1 (what RFC 9112 and RFC 9110 ask of
//             a client reading responses: message length, status line, field
//             lines, 1xx, bodiless responses, reuse, retry; named by
//             section), a raw-socket server against ffinet's fetch and
//             request (in tests/client_h1_conformance_test.ts too);
//             --verbose / --trace / --against=undici after --.
//   client-h2 HTTP/2 client conformance: the cases of
//             tests/conformance/client_h2 (RFC 9113 and RFC 7541 as a client
//             meets them: SETTINGS, flow control both ways, GOAWAY and
//             retries, resets, malformed responses, push refused,
//             CONTINUATION, PING, MAX_CONCURRENT_STREAMS, HPACK size
//             updates; named by section), raw frames against ffinet's fetch
//             and request over h2c by prior knowledge and a sample over TLS
//             (in tests/client_h2_conformance_test.ts too); --verbose after --.
//   ws        WebSocket handshake and framing conformance: the cases of
//             tests/conformance/ws_handshake (the MUSTs of RFC 6455 §4.1,
//             §4.2, §5, §7, §8.1 and §10.2, RFC 7692's negotiation and RFC
//             8441, named by section): ffinet's server driven by raw sockets,
//             its client answered by a raw-socket server with crafted 101s,
//             its server over h2c (in tests/ws_conformance_test.ts too);
//             --verbose / --trace / --side=server|client|h2 /
//             --against=ws (the server cases against the npm ws server) after --.
//   tls-soak  10,000 TLS handshakes per side, full and resumed (our client
//             against openssl s_server, our server against our client);
//             fd count flat and RSS bounded (--per-phase=N after -- to change
//             the 5,000 per phase).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);

const SUITES = {
  // The last line per runtime is the server role (the case data's own
  // direction); the client role (the fuzzer as server) is reported above it.
  autobahn: {
    entry: "tests/conformance/autobahn/main.ts",
    summary: /^autobahn \w+: .*$/m,
    extra: /^autobahn \w+ \(client role\): .*$/m,
  },
  // The same cases over loopback sockets: ffinet's real server and client
  // (child processes) against the fuzzer, full message counts.
  "autobahn-wire": {
    entry: "tests/conformance/autobahn/wire_main.ts",
    summary: /^autobahn \w+ over sockets: .*$/m,
    extra: /^autobahn \w+ over sockets \(client role\): .*$/m,
  },
  // HTTP/2 server conformance, h2spec's cases with our own driver.
  h2: {
    entry: "tests/conformance/h2/main.ts",
    summary: /^h2 \w+: .*$/m,
  },
  // HTTP/1.1 server conformance, RFC 9112 / RFC 9110 requirements with our own driver.
  h1: {
    entry: "tests/conformance/h1/main.ts",
    summary: /^h1 \w+( \(node:http\))?: .*$/m,
  },
  // HTTP/1.1 client conformance: a raw-socket server plays RFC 9112 / RFC 9110 cases against ffinet's fetch and request.
  "client-h1": {
    entry: "tests/conformance/client_h1/main.ts",
    summary: /^client-h1 \w+( \(undici\))?: .*$/m,
  },
  // HTTP/2 client conformance: a raw-frame server plays RFC 9113 / RFC 7541 cases against ffinet's fetch and request.
  "client-h2": {
    entry: "tests/conformance/client_h2/main.ts",
    summary: /^client-h2 \w+: .*$/m,
  },
  // WebSocket handshake and framing conformance (RFC 6455, RFC 7692, RFC 8441), both roles, our own driver.
  ws: {
    entry: "tests/conformance/ws_handshake/main.ts",
    summary: /^ws \w+( \(npm ws server\))?: .*$/m,
  },
  // 10,000 handshakes per side (5,000 full, 5,000 resumed): our client
  // against openssl s_server, our server against our client; fds flat, RSS
  // bounded (tests/tls_soak.ts; the in-suite run is tests/tls_loop_test.ts).
  "tls-soak": {
    entry: "tests/conformance/tls_soak/main.ts",
    summary: /^tls-soak \w+: .*$/m,
  },
};

const args = process.argv.slice(2);
const runtimeArg = args.find((a) => a.startsWith("--runtime="));
const runtimes = runtimeArg ? runtimeArg.slice(10).split(",") : ["node", "deno", "bun"];
const names = args.filter((a) => !a.startsWith("--") && SUITES[a] !== undefined);
const rest = args.filter((a) => !(a.startsWith("--runtime=")) && SUITES[a] === undefined && a !== "--");
if (names.length === 0) {
  const first = args.find((a) => !a.startsWith("--"));
  if (first !== undefined) console.error(`no conformance suite named ${first}; have: ${Object.keys(SUITES).join(", ")}`);
  console.error(`usage: node scripts/conformance.mjs <${Object.keys(SUITES).join("|")}> [--runtime=node,deno,bun] [case ids]`);
  process.exit(2);
}
const unknownRuntime = runtimes.find((r) => !["node", "deno", "bun"].includes(r));
if (unknownRuntime !== undefined) {
  console.error(`no runtime named ${unknownRuntime}; have: node, deno, bun`);
  process.exit(2);
}

function commandFor(runtime, entry) {
  if (runtime === "node") return [process.execPath, ["--import", "tsx", entry]];
  if (runtime === "deno") return [bin("deno"), ["run", "-A", entry]];
  if (runtime === "bun") return [bin("bun"), ["run", entry]];
  throw new Error(`unknown runtime ${runtime}`);
}

function run(cmd, argv) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

const lines = [];
const extras = [];
let failed = false;
for (const name of names) {
  const suite = SUITES[name];
  for (const runtime of runtimes) {
    console.log(`\n== ${name} on ${runtime}`);
    const [cmd, argv] = commandFor(runtime, suite.entry);
    const r = await run(cmd, [...argv, ...rest]);
    const m = r.out.match(suite.summary);
    const extra = suite.extra ? r.out.match(suite.extra) : null;
    if (extra) extras.push(extra[0]);
    if (r.code !== 0) failed = true;
    lines.push(m ? m[0] : `${name} ${runtime}: did not finish (exit ${r.code})`);
  }
}
console.log("");
for (const line of extras) console.log(line);
for (const line of lines) console.log(line);
process.exit(failed ? 1 : 0);
