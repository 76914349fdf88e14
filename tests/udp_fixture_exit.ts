// Child process for udp_lifecycle_test.ts: the process must exit by itself.
// mode "closed": an echo over two async UDP sockets, then both closed (the
// loop stays open).
// mode "unref": an unreferenced socket with a recv() still waiting.
import { bindUDP } from "../poll/udp.ts";

const mode = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);
if (mode === "unref") {
  const sock = bindUDP({ host: "127.0.0.1" }).unref();
  void sock.recv().then((d) => console.log("unexpected datagram", d));
  console.log(`started ${sock.hasRef()}`);
} else {
  const server = bindUDP({ host: "::1", handler: { message: (s, d, from) => void s.trySend(d, from) } });
  const client = bindUDP({ host: "::1", connect: server.localAddress });
  await client.send(new TextEncoder().encode("echo"));
  const reply = await client.recv();
  console.log(new TextDecoder().decode(reply!.data));
  client.close();
  server.close();
}
