// Child process for http_server_workers_test.ts: serve({ workers: 3 }) on
// one port; every thread answers with an id of its own. This module runs
// on the main thread and again in each Worker (whose serve call joins the
// port). The main thread prints "READY port" once every Worker listens and
// "FINISHED" after SIGTERM shut them all down.
import { isMainThread } from "node:worker_threads";
import { serve } from "../http/server/mod.ts";

const id = Math.random().toString(36).slice(2, 10);
const server = serve({
  port: 0,
  workers: 3,
  module: import.meta.url,
  shutdownOnSignal: true,
  fetch: () => new Response(id),
});
if (isMainThread) {
  server.ready.then(() => console.log(`READY ${server.addr.port}`), (err) => console.log(`FAILED ${String(err)}`));
  void server.finished.then(() => console.log("FINISHED"));
}
