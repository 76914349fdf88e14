// Scripted proxies for tests/proxy_test.ts, run as a child process so that
// the blocking client in the test's own thread can talk to them. Each
// listens on 127.0.0.1 (a free port); the first stdout line is the JSON map
// name -> port. Ends when stdin closes or on SIGTERM.
//
//   garbage  answers the first bytes with bytes that are no proxy reply
//   close    closes the connection once the client has sent its first bytes
//   socks5half  answers the SOCKS5 greeting with "no auth", then closes on the request
//   stall    accepts and reads, never answers
//   banner   an HTTP CONNECT "proxy" whose 200 reply carries "BANNER" in the same
//            write, then echoes (the target speaks first, as SSH or SMTP do)
//   socks4a  a SOCKS4/4a proxy (names resolved here, IPv4) that connects to the
//            target and relays bytes: dante-server does not implement 4a.
import net from "node:net";
import dns from "node:dns";
import process from "node:process";

const servers: net.Server[] = [];

function serve(handler: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on("error", () => socket.destroy());
    handler(socket);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

const ports = {
  garbage: await serve((s) => s.once("data", () => s.end(Buffer.from("\x00\xffgarbage that is no proxy reply\r\n\r\n", "latin1")))),
  close: await serve((s) => s.once("data", () => s.destroy())),
  socks5half: await serve((s) => {
    s.once("data", () => {
      s.write(Buffer.from([5, 0]));
      s.once("data", () => s.destroy());
    });
  }),
  stall: await serve((s) => s.on("data", () => {})),
  banner: await serve((s) => {
    let head = "";
    const onData = (d: Buffer) => {
      head += d.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      s.off("data", onData);
      s.write(Buffer.from("HTTP/1.1 200 Connection established\r\n\r\nBANNER", "latin1"));
      const extra = head.slice(end + 4);
      if (extra !== "") s.write(Buffer.from(extra, "latin1"));
      s.pipe(s);
    };
    s.on("data", onData);
  }),
  socks4a: await serve((s) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 9 || buf[0] !== 4 || buf[1] !== 1) {
        if (buf.length >= 2 && (buf[0] !== 4 || buf[1] !== 1)) s.destroy();
        return;
      }
      const userEnd = buf.indexOf(0, 8);
      if (userEnd < 0) return;
      const port = buf.readUInt16BE(2);
      const ip = [...buf.subarray(4, 8)];
      let rest = userEnd + 1;
      let host = ip.join(".");
      if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
        const nameEnd = buf.indexOf(0, rest);
        if (nameEnd < 0) return;
        host = buf.subarray(rest, nameEnd).toString("latin1");
        rest = nameEnd + 1;
      }
      s.off("data", onData);
      s.pause();
      const early = buf.subarray(rest);
      dns.lookup(host, { family: 4 }, (err, address) => {
        if (err) {
          s.end(Buffer.from([0, 91, 0, 0, 0, 0, 0, 0]));
          return;
        }
        const target = net.connect(port, address, () => {
          s.write(Buffer.from([0, 90, 0, 0, 0, 0, 0, 0]));
          if (early.length > 0) target.write(early);
          s.pipe(target);
          target.pipe(s);
          s.resume();
        });
        target.on("error", () => {
          if (!s.destroyed) s.end(Buffer.from([0, 91, 0, 0, 0, 0, 0, 0]));
        });
        s.on("close", () => target.destroy());
        target.on("close", () => s.destroy());
      });
    };
    s.on("data", onData);
  }),
};

process.stdout.write(JSON.stringify(ports) + "\n");
const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
