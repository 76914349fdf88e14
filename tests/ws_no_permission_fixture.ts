// Child process for tests/ws_no_permission_test.ts: the WebSocket and HTTP
// codecs, run by Deno with `--no-prompt` and no --allow-* flag at all, so
// anything that needs a permission (FFI, environment, files) throws here.
// With the argument "maps" (any runtime, full permissions) it then lists the
// C libraries ffinet opens that are mapped into the process: none may be.
import process from "node:process";
import { acceptKey, createClientHandshake, Opcode, Receiver, Sender } from "../ws/mod.ts";
import { HPACKDecoder, HPACKEncoder, HTTP1Parser } from "../http/mod.ts";

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`failed: ${what}`);
}

// Handshake: a random nonce, and the server's answer checked with the accept key.
const hs = createClientHandshake({ host: "example.com", path: "/chat" });
check(hs.request.startsWith("GET /chat HTTP/1.1\r\n"), "client request");
check(acceptKey("dGhlIHNhbXBsZSBub25jZQ==") === "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455 accept key");
const response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(hs.key)}\r\n\r\n`;
let finished = false;
const responseParser = new HTTP1Parser({ kind: "response" }, {
  onHead(head) {
    const result = hs.finish({ status: head.statusCode, headers: head });
    finished = result.deflate === undefined && result.protocol === undefined;
  },
});
responseParser.push(new TextEncoder().encode(response));
check(finished, "handshake response accepted");

// Frames: a client masks (random keys; long enough for the WebAssembly
// path), a server-side receiver unmasks.
const client = new Sender({ role: "client" });
const payload = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
const got: Uint8Array[] = [];
const server = new Receiver({
  role: "server",
  handler: { onMessage: (data) => void got.push(data.slice()), onPing() {}, onPong() {}, onClose() {} },
});
for (const frame of client.message(payload)) server.push(frame.slice());
const out = new Uint8Array(client.frameSize(payload.length));
const n = client.frameInto(out, 0, Opcode.Binary, payload, true, false);
server.push(out.slice(0, n));
for (const frame of client.message("hello")) server.push(frame.slice());
check(got.length === 3, "three messages");
check(got[0]!.every((b, i) => b === payload[i]) && got[0]!.length === payload.length, "message payload");
check(got[1]!.every((b, i) => b === payload[i]), "frameInto payload");
check(new TextDecoder().decode(got[2]) === "hello", "text message");

// HTTP/1 request parsing.
let target = "";
const requestParser = new HTTP1Parser({ kind: "request" }, { onHead: (head) => void (target = head.target) });
requestParser.push(new TextEncoder().encode("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"));
check(target === "/index.html", "HTTP/1 request");

// HPACK round trip.
const fields = [":method", "GET", ":path", "/", "user-agent", "ffinet", "cookie", "a=b"];
const block = new HPACKEncoder().encode(fields);
const decoded = new HPACKDecoder().decode(block);
check(JSON.stringify(decoded) === JSON.stringify(fields), "HPACK round trip");

if (process.argv.includes("maps")) {
  const { readFileSync } = await import("node:fs");
  const maps = readFileSync("/proc/self/maps", "utf8");
  const loaded = ["libz.so", "libcrypto.so", "libssl.so", "libbrotli"].filter((name) => maps.includes(name));
  console.log(JSON.stringify(loaded));
}
console.log("ok");
