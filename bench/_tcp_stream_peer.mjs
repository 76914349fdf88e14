// The far end of bench/tcp_stream.ts, run as a child process on the same
// runtime: a sink (reads an 8-byte length, then that many bytes, answers
// "K") and an echo server, both on node:net. Prints "READY <sink> <echo>".
import { createServer } from "node:net";

const sink = createServer((conn) => {
  conn.setNoDelay(true);
  let expected = -1;
  let got = 0;
  let header = Buffer.alloc(0);
  conn.on("data", (d) => {
    if (expected < 0) {
      header = Buffer.concat([header, d]);
      if (header.length < 8) return;
      expected = Number(header.readBigUInt64BE(0));
      got = header.length - 8;
      header = Buffer.alloc(0);
    } else {
      got += d.length;
    }
    if (got >= expected) {
      conn.write("K");
      expected = -1;
      got = 0;
    }
  });
  conn.on("error", () => {});
});
const echo = createServer((conn) => {
  conn.setNoDelay(true);
  conn.on("data", (d) => conn.write(d));
  conn.on("error", () => {});
});
sink.listen(0, "127.0.0.1", () => {
  echo.listen(0, "127.0.0.1", () => {
    process.stdout.write(`READY ${sink.address().port} ${echo.address().port}\n`);
  });
});
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
