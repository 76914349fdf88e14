// Worker for loop_multicore_test.ts: one Loop per Worker (the worker's
// default loop). Commands arrive by message:
//   {cmd: "listen", id, port, handOff}  listen on 127.0.0.1:port with SO_REUSEPORT;
//       each accepted connection gets the worker's id as its first byte and
//       an echo — or, with handOff, is detached and its fd posted back;
//   {cmd: "adopt", fd}  serve a connection handed over by fd (id byte, then echo);
//   {cmd: "close"}      close the loop; {closed: true} once it is released (its
//                       helper thread gone): the test then terminates the worker.
// Posts {ready: true} once its modules have loaded.
import { parentPort } from "node:worker_threads";
import type { ConnectionHandler } from "../poll/connection.ts";
import { adopt, listen, type Listener } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";
import { Socket } from "../socket/socket.ts";

interface Command {
  cmd: "listen" | "adopt" | "close";
  id?: number;
  port?: number;
  handOff?: boolean;
  fd?: number;
}

const port = parentPort!;
let id = 0;
let listener: Listener | undefined;
const serve: ConnectionHandler = {
  open: (c) => void c.send(new Uint8Array([id])),
  data: (c, d) => void c.send(d),
};

port.on("message", (message: Command) => {
  if (message.cmd === "listen") {
    id = message.id!;
    const handOff: ConnectionHandler = {
      open: (c) => port.postMessage({ handedOff: c.detach().release() }),
    };
    listener = listen({ host: "127.0.0.1", port: message.port!, handler: message.handOff ? handOff : serve, reusePort: true });
    port.postMessage({ listening: listener.port });
  } else if (message.cmd === "adopt") {
    adopt(Socket.fromFd(message.fd!, "ipv4"), { handler: serve });
  } else {
    listener?.close();
    // Only once the loop's helper thread has ended may the test terminate
    // this Worker: on Node, terminating it earlier tears the helper (a
    // Worker loading koffi, or parked in epoll_wait) down with it.
    const loop = defaultLoop();
    loop.close();
    void loop.released().then(() => port.postMessage({ closed: true }));
  }
});

// Loaded (ffinet, and koffi on Node): the test starts the next worker only now.
port.postMessage({ ready: true });
