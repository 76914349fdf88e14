// HTTP/1.1 codec: parse a request that arrives in two pieces, serialize a
// response head. I/O-free: no socket, no permission.
// Run: node examples/http1_parse_serialize.ts · deno run examples/http1_parse_serialize.ts · bun examples/http1_parse_serialize.ts
import { encodeResponseHead, HTTP1Parser } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let body = "";

const parser = new HTTP1Parser({ kind: "request" }, {
  // `head` points into the pushed bytes: read what you need during the call.
  onHead: (head) => console.log(`request: ${head.method} ${head.target} (host ${head.get("host")}, ${head.contentLength} bytes)`),
  onBody: (data) => void (body += decoder.decode(data, { stream: true })),
  onMessageComplete: () => console.log(`body: ${body}`),
});
// Any split of the input gives the same events.
parser.push(encoder.encode("POST /echo HTTP/1.1\r\nHost: example.test\r\nContent-Le"));
parser.push(encoder.encode("ngth: 5\r\n\r\nhello"));

const payload = encoder.encode(body.toUpperCase());
const head = encodeResponseHead({
  status: 200,
  headers: [["Content-Type", "text/plain"], ["Content-Length", String(payload.length)]],
});
console.log(`response:\n${decoder.decode(head)}${decoder.decode(payload)}`);
