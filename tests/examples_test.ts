import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { native } from "../ffi/native.ts";
import { connectWebSocket } from "../ws/mod.ts";

// Every file in examples/ runs as a child process of the current runtime
// and must exit 0 by itself with its known lines in its output; and the
// README embeds each file verbatim (a ```ts block right after a
// `<!-- examples/NAME.ts -->` marker), so neither can drift from the code.
//
// Deno runs each example with the permissions the README states and no
// more: --allow-ffi for the ones with sockets, nothing at all for the
// I/O-free codecs, and --no-prompt so a request for anything else fails
// instead of waiting for an answer. No --allow-read: module files need
// none (only a Worker's do), and the examples read no file.
// Node runs the .ts files with its own type stripping where it has it
// (Node 24 here), else through tsx (Node 20).

const root = fileURLToPath(new URL("..", import.meta.url));
const proc = (globalThis as unknown as { process: { execPath: string; env: Record<string, string>; features: { typescript?: unknown } } }).process;

interface Expected {
  /** Lines the example prints (each a whole line of its output). */
  lines: (string | RegExp)[];
  /** It opens sockets: Deno needs --allow-ffi (the codecs need no permission). */
  ffi: boolean;
}

const EXPECTED: Readonly<Record<string, Expected>> = {
  "tcp_echo.ts": { ffi: true, lines: [/^server listening on 127\.0\.0\.1:\d+$/, "client got back: hello over TCP"] },
  "udp_echo.ts": { ffi: true, lines: [/^UDP server on 127\.0\.0\.1:\d+$/, /^reply from port \d+: ping$/] },
  "unix_fd_passing.ts": { ffi: true, lines: [/^received fd \d+$/, "kept end read: hello through a passed fd"] },
  "http1_parse_serialize.ts": {
    ffi: false,
    lines: ["request: POST /echo (host example.test, 5 bytes)", "body: hello", "HTTP/1.1 200 OK", "Content-Length: 5", "HELLO"],
  },
  "ws_frames.ts": {
    ffi: false,
    lines: [
      "accept key of the RFC 6455 sample: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
      "HTTP/1.1 101 Switching Protocols",
      "client frame: 22 bytes, mask bit 1",
      "server got text: hello, websocket",
      "server got text: masked by hand",
      "client got: hello back",
      "client got close 1000 done",
      "server got close 1000 done",
    ],
  },
  "blocking_sockets.ts": { ffi: true, lines: [/^listening on 127\.0\.0\.1:\d+$/, "server read: ping", "client read: pong"] },
};

// Examples that serve until stopped (npm start): each is started on a free
// PORT, asked for its paths, and must exit 0 on SIGINT.
const SERVERS: Readonly<Record<string, { paths: Record<string, RegExp>; lines: RegExp[]; echo?: string }>> = {
  "demo_server.ts": {
    paths: { "/": /<h1>Hello from ffinet on \w+<\/h1>/, "/api/time": /^\{"now":"[^"]+","runtime":"\w+"\}$/, "/static/hello.txt": /^Hello from examples\/public\/hello\.txt/ },
    lines: [/^demo server on http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops it\)$/, /^server stopped$/],
    echo: "/echo",
  },
};

const examples = readdirSync(new URL("../examples/", import.meta.url)).filter((f) => f.endsWith(".ts") && !Object.hasOwn(SERVERS, f)).sort();

function command(file: string, ffi: boolean, env = false): [string, string[]] {
  const exec = proc.execPath;
  if (native.runtime === "deno") return [exec, ["run", "--no-prompt", ...(ffi ? ["--allow-ffi"] : []), ...(env ? ["--allow-env=PORT"] : []), file]];
  if (native.runtime === "bun") return [exec, [file]];
  return proc.features.typescript ? [exec, [file]] : [exec, ["--import", "tsx", file]];
}

function run(name: string, ffi: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [exe, args] = command(`examples/${name}`, ffi);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...proc.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    // Not a timed assertion: a bound so that an example that never exits fails instead of hanging the suite.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`examples/${name} did not exit within 60 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The ```ts blocks of the README that follow a `<!-- examples/NAME.ts -->` marker, by file name. */
function readmeBlocks(): Map<string, string[]> {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const blocks = new Map<string, string[]>();
  for (const m of readme.matchAll(/<!-- examples\/([\w.-]+) -->\n```ts\n([\s\S]*?)```\n/g)) {
    const list = blocks.get(m[1]!) ?? [];
    list.push(m[2]!);
    blocks.set(m[1]!, list);
  }
  return blocks;
}

describe("examples", () => {
  test("every example has its expected output listed here, and every listed one exists", () => {
    assert.deepEqual(examples, Object.keys(EXPECTED).sort());
  });

  for (const name of examples) {
    const expected = EXPECTED[name];
    test(`examples/${name} exits 0 by itself and prints its lines`, async () => {
      assert.ok(expected, `examples/${name} has no entry in EXPECTED`);
      const { code, stdout, stderr } = await run(name, expected.ffi);
      assert.equal(code, 0, `exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
      const lines = stdout.split(/\r?\n/); // the HTTP example prints CRLF lines
      for (const line of expected.lines) {
        const found = typeof line === "string" ? lines.includes(line) : lines.some((l) => line.test(l));
        assert.ok(found, `examples/${name}: no line ${String(line)} in\n${stdout}\nstderr: ${stderr}`);
      }
    });
  }

  test("the README embeds each example verbatim, once, right after its <!-- examples/NAME.ts --> marker", () => {
    const blocks = readmeBlocks();
    const embedded = [...examples, ...Object.keys(SERVERS).filter((name) => blocks.has(name))].sort();
    assert.deepEqual([...blocks.keys()].sort(), embedded, "README markers and examples/ differ");
    for (const name of embedded) {
      const source = readFileSync(new URL(`../examples/${name}`, import.meta.url), "utf8");
      assert.deepEqual(blocks.get(name), [source], `README's block for examples/${name} differs from the file`);
    }
  });

  for (const [name, expected] of Object.entries(SERVERS)) {
    test(`examples/${name} serves its paths on $PORT and exits 0 on SIGINT`, async () => {
      const port = await freePort();
      const [exe, args] = command(`examples/${name}`, true, true);
      const child = spawn(exe, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...proc.env, NO_COLOR: "1", PORT: String(port) } });
      let stdout = "";
      let stderr = "";
      child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
      // Deno's node:child_process reports a child sent a signal as (null, signal) even when it exits 0
      // (checked with a shell that traps SIGINT and exits 0): there the "server stopped" line is the proof.
      const exited = new Promise<number | null>((resolve) =>
        child.on("close", (code: number | null, signal: string | null) => resolve(code === null && signal === "SIGINT" && native.runtime === "deno" ? 0 : code)));
      // Not a timed assertion: a bound so that a server that never starts or never stops fails instead of hanging.
      const bound = setTimeout(() => child.kill("SIGKILL"), 60_000);
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on("data", (d: Uint8Array) => {
            stdout += String(d);
            if (stdout.includes("\n")) resolve();
          });
          child.on("close", () => reject(new Error(`examples/${name} exited before listening\nstdout: ${stdout}\nstderr: ${stderr}`)));
        });
        assert.match(stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/`));
        for (const [path, body] of Object.entries(expected.paths)) {
          const response = await fetch(`http://127.0.0.1:${port}${path}`);
          assert.equal(response.status, 200, path);
          assert.match(await response.text(), body, path);
        }
        if (expected.echo !== undefined) {
          // The WebSocket echo: a text and a binary message come back as sent.
          const ws = await connectWebSocket(`ws://127.0.0.1:${port}${expected.echo}`);
          try {
            ws.send("hello demo");
            assert.deepEqual(await ws.recv(), { data: "hello demo", binary: false });
            ws.send(new Uint8Array([1, 2, 3]));
            assert.deepEqual(await ws.recv(), { data: new Uint8Array([1, 2, 3]), binary: true });
          } finally {
            await ws.close(1000, "done");
          }
        }
        child.kill("SIGINT");
        const code = await exited;
        assert.equal(code, 0, `exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
        const lines = stdout.split(/\r?\n/);
        for (const line of expected.lines) assert.ok(lines.some((l) => line.test(l)), `examples/${name}: no line ${String(line)} in\n${stdout}\nstderr: ${stderr}`);
      } finally {
        clearTimeout(bound);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    });
  }
});

/** A TCP port free on 127.0.0.1 right now (bound by the runtime's server, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
