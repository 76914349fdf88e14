// Child of tests/h2_client_flush_error_test.ts: makes the HTTP/2 client's
// scheduled flush throw (its connection's HTTP/2 core failing to give its
// output: pullView replaced on the instance), against a real node:http2 h2c
// server, and prints how the error surfaced: `SURFACED <event> <same error>`.
// In a child of its own: test runners (bun test) take an uncaught exception
// as the running test's failure whatever listeners the test sets.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Pool } from "../http/client/pool.ts";
import type { DispatchHandler, ResponseControl } from "../http/client/dispatcher.ts";
import type { H2ClientConnection } from "../http/client/h2_client.ts";

const proc = (globalThis as unknown as {
  process: { on(name: string, fn: (error: unknown) => void): void; exit(code: number): never };
}).process;

const server = http2.createServer();
server.on("stream", (stream: http2.ServerHttp2Stream) => {
  stream.on("error", () => {});
  stream.respond({ ":status": 200 });
  stream.end("ok");
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const pool = new Pool(origin, { http2: "prior-knowledge" });

/** Hands over the response's control (the HTTP/2 client's stream) and settles when the response ends. */
function handler(): { handler: DispatchHandler; control: Promise<ResponseControl>; done: Promise<void> } {
  let gotControl!: (c: ResponseControl) => void;
  let end!: (e?: Error) => void;
  const control = new Promise<ResponseControl>((resolve) => (gotControl = resolve));
  const done = new Promise<void>((resolve, reject) => (end = (e) => (e === undefined ? resolve() : reject(e))));
  return {
    control,
    done,
    handler: { onHeaders: (_s, _h, c) => gotControl(c), onData: () => true, onComplete: () => end(), onError: (e) => end(e) },
  };
}

const first = handler();
pool.dispatch({ origin, method: "GET", path: "/", headers: [], body: null }, first.handler);
const session = (await first.control as unknown as { connection: H2ClientConnection }).connection;
await first.done;

const boom = new Error("boom in flush");
let reported = false;
const report = (event: string, error: unknown): void => {
  if (reported) return;
  reported = true;
  console.log(`SURFACED ${event} ${error === boom}`);
  server.close();
  void pool.destroy().finally(() => proc.exit(0));
};
proc.on("uncaughtException", (error) => report("uncaughtException", error));
proc.on("unhandledRejection", (error) => report("unhandledRejection", error));
const h2 = session.h2 as unknown as { pullView: (n: number) => Uint8Array };
h2.pullView = () => {
  throw boom;
};
const second = handler();
second.done.catch(() => {});
pool.dispatch({ origin, method: "GET", path: "/", headers: [], body: null }, second.handler);
