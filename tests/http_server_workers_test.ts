// serve({ workers: 3, module }): three threads (this one and two Workers)
// listen on one port with SO_REUSEPORT and all serve; SIGTERM shuts them
// down together and the process exits by itself (a child process).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { serve } from "../http/server/mod.ts";
import { runtimeCommand } from "./loop_helpers.ts";

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // A new connection each time (agent: false): the kernel picks a listener per connection.
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
  });
}

describe("serve with workers", () => {
  test("workers without module is a TypeError; workers below 1 a RangeError", () => {
    assert.throws(() => serve({ port: 0, workers: 2, fetch: () => new Response() }), TypeError);
    assert.throws(() => serve({ port: 0, workers: 0, fetch: () => new Response() }), RangeError);
  });

  test("three threads share the port and all answer; SIGTERM stops them together", async () => {
    const [cmd, args] = runtimeCommand(fileURLToPath(new URL("http_server_fixture_workers.ts", import.meta.url)));
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code: number | null) => resolve(code)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      const waitFor = (text: string) => new Promise<void>((resolve, reject) => {
        const check = () => (out.includes(text) ? resolve() : undefined);
        child.stdout!.on("data", (d: Uint8Array) => {
          out += String(d);
          check();
        });
        check();
        void exited.then((code) => reject(new Error(`child exited (${code}) before ${text}: ${out} ${err}`)));
      });
      await waitFor("READY ");
      assert.ok(!out.includes("FAILED"), out);
      const port = Number(/READY (\d+)/.exec(out)![1]);
      const ids = new Set<string>();
      // 60 connections: all on one of three listeners has a chance of 3 × 3^-60.
      for (let i = 0; i < 60; i++) ids.add(await get(port));
      assert.equal(ids.size, 3, [...ids].join(","));
      (globalThis as unknown as { process: { kill(pid: number, s: string): void } }).process.kill(child.pid!, "SIGTERM");
      assert.equal(await exited, 0, err);
      assert.ok(out.includes("FINISHED"), out);
    } finally {
      clearTimeout(killer);
    }
  });

  test("Workers that served nothing stop too: SIGTERM right after READY ends the process", async () => {
    // Each Worker's loop is parked on its helper thread (a Worker of its own
    // on Node) with no timer due: terminating the Worker before its loop was
    // closed and released waited for that wait forever (the process hung).
    const [cmd, args] = runtimeCommand(fileURLToPath(new URL("http_server_fixture_workers.ts", import.meta.url)));
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code: number | null) => resolve(code)));
    const started = performance.now();
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Uint8Array) => {
          out += String(d);
          if (out.includes("READY ")) resolve();
        });
        void exited.then((code) => reject(new Error(`child exited (${code}) before READY: ${out} ${err}`)));
      });
      const readyMs = Math.round(performance.now() - started);
      (globalThis as unknown as { process: { kill(pid: number, s: string): void } }).process.kill(child.pid!, "SIGTERM");
      assert.equal(await exited, 0, `READY after ${readyMs} ms, then SIGTERM (SIGKILL at 60 s from the start): ${out}\n${err}`);
      assert.ok(out.includes("FINISHED"), out);
    } finally {
      clearTimeout(killer);
    }
  });
});
