// Child process for http_server_unref_test.ts: a server with an open,
// idle connection (from a blocking client that is not on the loop) is
// unref'd; with no timeout armed, only unref() lets the process exit.
import { serve } from "../http/server/mod.ts";
import { connectTCPSync } from "../socket/connect.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const server = serve({ port: 0, headersTimeoutMs: 0, keepAliveTimeoutMs: 0, fetch: () => new Response("ok") });
const client = connectTCPSync("127.0.0.1", server.addr.port, 5000);
for (let i = 0; server.connections === 0 && i < 1000; i++) await sleep(5);
console.log(JSON.stringify({ connections: server.connections }));
server.unref();
void client; // stays open: the process must exit with it
