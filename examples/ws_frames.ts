// WebSocket codecs: the handshake's accept key, masked client frames read by
// a server receiver, the answer and the close. I/O-free: no socket, no permission.
// Run: node examples/ws_frames.ts · deno run examples/ws_frames.ts · bun examples/ws_frames.ts
import { acceptKey, acceptUpgrade, applyMask, createClientHandshake, frameHeader, Opcode, Receiver, Sender } from "../mod.ts";

// Handshake: the server answers the client's key with base64(SHA-1(key + GUID)).
console.log(`accept key of the RFC 6455 sample: ${acceptKey("dGhlIHNhbXBsZSBub25jZQ==")}`);
const handshake = createClientHandshake({ host: "example.test", path: "/chat", perMessageDeflate: false });
const upgrade = acceptUpgrade({ method: "GET", headers: handshake.headers });
if (!upgrade.ok) throw new Error(upgrade.reason);
console.log(upgrade.response.split("\r\n")[0]);

// Client to server: every client frame is masked with a fresh random key.
const server = new Receiver({
  role: "server",
  handler: {
    onMessage: (data, binary) => console.log(`server got ${binary ? "binary" : "text"}: ${new TextDecoder().decode(data)}`),
    onPing: () => {},
    onPong: () => {},
    onClose: (code, reason) => console.log(`server got close ${code} ${reason}`),
  },
});
const clientSender = new Sender({ role: "client" });
const [frame] = clientSender.message("hello, websocket");
console.log(`client frame: ${frame!.length} bytes, mask bit ${frame![1]! >> 7}`);
server.push(frame!);

// The same by hand: a header with a masking key, then the payload XORed with it.
const key = crypto.getRandomValues(new Uint8Array(4));
const payload = new TextEncoder().encode("masked by hand");
applyMask(payload, key, 0);
server.push(frameHeader({ fin: true, rsv1: false, opcode: Opcode.Text, length: payload.length, mask: key }));
server.push(payload);

// Server to client: unmasked frames, then the closing handshake.
const client = new Receiver({
  role: "client",
  handler: {
    onMessage: (data) => console.log(`client got: ${new TextDecoder().decode(data)}`),
    onPing: () => {},
    onPong: () => {},
    onClose: (code, reason) => console.log(`client got close ${code} ${reason}`),
  },
});
const serverSender = new Sender({ role: "server" });
for (const bytes of serverSender.message("hello back")) client.push(bytes);
client.push(serverSender.close(1000, "done"));
server.push(clientSender.close(1000, "done"));
