/**
 * WebSocket echo: 50 connections, one message in flight each, 64-byte and
 * 16 KiB messages (text and binary), messages per second.
 *
 * Server rows: ffinet's `serve` websocket handlers against the runtime's
 * server (npm `ws` on Node, `Deno.upgradeWebSocket`, `Bun.serve`), each in
 * a child process, loaded by ffinet's client in this process.
 * Client rows: ffinet's `connectWebSocket` against the runtime's own
 * `WebSocket` client (where the runtime has one), both on the ffinet server.
 * One round per row (no CPU accounting yet): a first look, not a verdict.
 *
 * Run: node scripts/bench.mjs ws_echo [--runtime=node]
 *
 * @module
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connectWebSocket } from "../ws/client.ts";
import { finish, record, RUNTIME } from "./harness.ts";

const CONNECTIONS = 50;
const ROUND_TRIPS = Number(process.env.WS_ECHO_ROUND_TRIPS ?? 400);

function command(kind: string): [string, string[]] {
  const script = fileURLToPath(new URL("./_ws_echo_server.ts", import.meta.url));
  const exec = process.execPath;
  if (RUNTIME === "deno") return [exec, ["run", "-A", "--no-check", script, kind]];
  if (RUNTIME === "bun") return [exec, [script, kind]];
  return [exec, ["--import", "tsx", script, kind]];
}

async function startServer(kind: string): Promise<{ port: number; stop(): void }> {
  const [cmd, args] = command(kind);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      text += new TextDecoder().decode(d);
      const m = /port (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${kind} server exited ${code}`)));
  });
  return { port, stop: () => child.kill() };
}

/** Messages per second with ffinet's client. */
async function loadOurs(port: number, message: string | Uint8Array): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => connectWebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false })));
  const started = performance.now();
  await Promise.all(sockets.map(async (ws) => {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      ws.send(message);
      await ws.recv();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(sockets.map((ws) => ws.close(1000)));
  return (CONNECTIONS * ROUND_TRIPS) / seconds;
}

/** Messages per second with the runtime's own WebSocket client. */
async function loadNative(port: number, message: string | Uint8Array<ArrayBuffer>): Promise<number> {
  const Native = globalThis.WebSocket;
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new Native(`ws://127.0.0.1:${port}/`);
      ws.binaryType = "arraybuffer";
      ws.onopen = () => resolve(ws);
      ws.onerror = reject;
    })));
  const started = performance.now();
  await Promise.all(sockets.map((ws) =>
    new Promise<void>((resolve) => {
      let left = ROUND_TRIPS;
      ws.onmessage = () => {
        if (--left === 0) return resolve();
        ws.send(message);
      };
      ws.send(message);
    })));
  const seconds = (performance.now() - started) / 1000;
  for (const ws of sockets) ws.close(1000);
  return (CONNECTIONS * ROUND_TRIPS) / seconds;
}

const MESSAGES: [string, string | Uint8Array<ArrayBuffer>][] = [
  ["64 B text", "x".repeat(64)],
  ["64 B binary", new Uint8Array(64)],
  ["16 KiB text", "y".repeat(16384)],
  ["16 KiB binary", new Uint8Array(16384)],
];
const peerKind = RUNTIME === "node" ? "ws" : RUNTIME;
const peerName = RUNTIME === "node" ? "npm ws" : RUNTIME === "deno" ? "Deno.upgradeWS" : "Bun.serve";

const ours = await startServer("ffinet");
const peer = await startServer(peerKind);
try {
  for (const [name, message] of MESSAGES) {
    await loadOurs(ours.port, message); // warm-up
    const o = await loadOurs(ours.port, message);
    await loadOurs(peer.port, message);
    const p = await loadOurs(peer.port, message);
    record({ bench: "ws_echo", case: `server ${name}`, unit: "msg/s", ours: o, peer: p, peerName });
  }
  if (typeof globalThis.WebSocket === "function") {
    for (const [name, message] of MESSAGES) {
      await loadOurs(ours.port, message);
      const o = await loadOurs(ours.port, message);
      await loadNative(ours.port, message);
      const p = await loadNative(ours.port, message);
      record({ bench: "ws_echo", case: `client ${name}`, unit: "msg/s", ours: o, peer: p, peerName: `${RUNTIME} WebSocket` });
    }
  } else console.log(`ws_echo ${RUNTIME}: no global WebSocket client on this runtime, client rows skipped`);
} finally {
  ours.stop();
  peer.stop();
}
finish();
if (typeof process !== "undefined") process.exit(0);
