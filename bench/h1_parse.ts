/**
 * h1_parse: HTTP/1.1 parsing throughput (MB/s and messages/s) of our parser
 * against the pure-JS `http-parser-js` (every runtime) and Node's native
 * llhttp binding (Node only), in the same run, on a corpus of realistic
 * messages. Every parser reports method, target and framing; ours makes no
 * string for a header nobody reads (zero-copy spans) and, like
 * http-parser-js's (buffer, offset, length) body callback, no view per body
 * piece (`onBodySpan`).
 *
 * @example
 * ```ts
 * // node scripts/bench.mjs h1_parse
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { compare, finish, record, RUNTIME } from "./harness.ts";
import { HTTP1Parser } from "../http/h1/parser.ts";

const require = createRequire(import.meta.url);

interface LegacyParser {
  execute(b: Buffer): number | Error;
  initialize?(type: number, resource: object): void;
  [k: number]: unknown;
}
interface LegacyParserClass {
  new (type?: number): LegacyParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnHeaders: number;
}

const JSParser = (require("http-parser-js") as { HTTPParser: LegacyParserClass }).HTTPParser;

function nativeParser(): LegacyParserClass | null {
  if (RUNTIME !== "node") return null;
  const proc = globalThis.process as unknown as { binding(name: string): { HTTPParser: LegacyParserClass } };
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return proc.binding("http_parser").HTTPParser;
  } finally {
    process.emitWarning = emit;
  }
}

const crlf = (lines: string[]) => lines.join("\r\n");

const BROWSER_GET = crlf([
  "GET /products/category/shoes?page=2&sort=price HTTP/1.1",
  "Host: www.example.com",
  "Connection: keep-alive",
  "Cache-Control: max-age=0",
  'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
  "sec-ch-ua-mobile: ?0",
  'sec-ch-ua-platform: "Linux"',
  "Upgrade-Insecure-Requests: 1",
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "Sec-Fetch-Site: same-origin",
  "Sec-Fetch-Mode: navigate",
  "Sec-Fetch-User: ?1",
  "Sec-Fetch-Dest: document",
  "Referer: https://www.example.com/products",
  "Accept-Encoding: gzip, deflate, br, zstd",
  "Accept-Language: en-US,en;q=0.9,fr;q=0.8",
  "Cookie: session=4f9c2b7e1a; theme=dark; _ga=GA1.2.1234567890.1700000000",
  "",
  "",
]);

const POST_BODY = '{"type":"click","target":"buy-button","ts":1700000000123,"session":"4f9c2b7e1a","value":42.5}';
const SMALL_POST = crlf([
  "POST /api/v1/events HTTP/1.1",
  "Host: api.example.com",
  "Content-Type: application/json",
  `Content-Length: ${POST_BODY.length}`,
  "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
  "Accept: */*",
  "",
  POST_BODY,
]);

function chunkedUpload(): string {
  const head = crlf([
    "PUT /upload/file.bin HTTP/1.1",
    "Host: files.example.com",
    "Content-Type: application/octet-stream",
    "Transfer-Encoding: chunked",
    "Expect: 100-continue",
    "",
    "",
  ]);
  let body = "";
  for (let i = 0; i < 8; i++) body += `200\r\n${"x".repeat(512)}\r\n`;
  return head + body + "0\r\n\r\n";
}

const PIPELINED = crlf([
  "GET /static/app.js HTTP/1.1",
  "Host: www.example.com",
  "Accept: */*",
  "Accept-Encoding: gzip, deflate, br",
  "User-Agent: bench/1.0",
  "",
  "",
]).repeat(16);

const RESPONSE = crlf([
  "HTTP/1.1 200 OK",
  "Date: Mon, 27 Jul 2009 12:28:53 GMT",
  "Server: Apache/2.4.1 (Unix)",
  "Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT",
  'ETag: "34aa387-d-1568eb00"',
  "Accept-Ranges: bytes",
  "Cache-Control: public, max-age=3600",
  "Vary: Accept-Encoding",
  "Content-Type: text/html; charset=UTF-8",
  "Content-Length: 1024",
  "",
  "<".repeat(1024),
]);

function chunkedResponse(): string {
  let body = "";
  for (let i = 0; i < 4; i++) body += `100\r\n${"y".repeat(256)}\r\n`;
  return crlf([
    "HTTP/1.1 200 OK",
    "Content-Type: application/json",
    "Transfer-Encoding: chunked",
    "Cache-Control: no-store",
    "",
    "",
  ]) + body + "0\r\n\r\n";
}

interface Case {
  name: string;
  kind: "request" | "response";
  text: string;
  messages: number;
}

const CASES: Case[] = [
  { name: "browser GET (17 headers)", kind: "request", text: BROWSER_GET, messages: 1 },
  { name: "small POST", kind: "request", text: SMALL_POST, messages: 1 },
  { name: "chunked upload 4 KiB", kind: "request", text: chunkedUpload(), messages: 1 },
  { name: "pipelined 16 GET", kind: "request", text: PIPELINED, messages: 16 },
  { name: "response 1 KiB", kind: "response", text: RESPONSE, messages: 1 },
  { name: "chunked response", kind: "response", text: chunkedResponse(), messages: 1 },
];

let sink = 0;

function ours(c: Case, buf: Uint8Array): () => unknown {
  const parser = new HTTP1Parser({ kind: c.kind }, {
    onHead(h) {
      sink += (c.kind === "request" ? h.method.length + h.target.length : h.statusCode) + h.contentLength;
    },
    onBodySpan(_b, start, end) {
      sink += end - start;
    },
    onMessageComplete() {
      sink++;
    },
  });
  return () => parser.push(buf);
}

function legacy(P: LegacyParserClass, c: Case, buf: Buffer, native: boolean): () => unknown {
  const type = c.kind === "request" ? P.REQUEST : P.RESPONSE;
  const parser = native ? new P() : new P(type);
  if (native) parser.initialize!(type, {});
  parser[P.kOnHeadersComplete] = native
    ? (_maj: number, _min: number, _h: string[], method: number, url: string | undefined, status: number) => {
      sink += (url?.length ?? status) + method;
    }
    : (info: { url?: string; statusCode?: number; method?: number }) => {
      sink += (info.url?.length ?? info.statusCode ?? 0) + (info.method ?? 0);
    };
  parser[P.kOnHeaders] = () => {};
  parser[P.kOnBody] = native ? (b: Buffer) => (sink += b.length) : (_b: Buffer, _o: number, l: number) => (sink += l);
  parser[P.kOnMessageComplete] = () => {
    sink++;
  };
  return () => {
    const r = parser.execute(buf);
    if (r instanceof Error) throw r;
    return r;
  };
}

const llhttp = nativeParser();
for (const c of CASES) {
  const buf = Buffer.from(c.text, "latin1");
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const peers: Array<[string, () => unknown]> = [["http-parser-js", legacy(JSParser, c, buf, false)]];
  if (llhttp) peers.push(["llhttp (native)", legacy(llhttp, c, buf, true)]);
  for (const [peerName, peer] of peers) {
    const r = await compare({ bench: "h1_parse", case: c.name }, {
      ours: ours(c, bytes),
      peer,
      peerName,
      unit: "MB/s",
      unitsPerCall: buf.length,
    });
    const perMessage = 1e6 / buf.length * c.messages;
    record({
      bench: "h1_parse",
      case: `${c.name} (msg/s)`,
      unit: "ops/s",
      ours: r.ours * perMessage,
      peer: r.peer * perMessage,
      peerName,
    });
  }
}
if (sink === -1) console.log(sink);
finish();
