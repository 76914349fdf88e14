// Child process for http_server_features_test.ts: serve() with
// shutdownOnSignal; "/slow" answers 300 ms after the request arrived, so a
// request can be in flight when the signal comes. Prints "READY port",
// then "FINISHED" once the server shut down (the process then exits by
// itself: the loop is closed).
import { serve } from "../http/server/mod.ts";

const server = serve({
  port: 0,
  shutdownOnSignal: true,
  fetch: async (request) => {
    if (new URL(request.url).pathname === "/slow") {
      console.log("IN FLIGHT");
      await new Promise((resolve) => setTimeout(resolve, 300));
      return new Response("slow done");
    }
    return new Response("fast");
  },
});
void server.finished.then(() => console.log("FINISHED"));
console.log(`READY ${server.addr.port}`);
