/**
 * One raw exchange with a server on loopback, for the tests that speak
 * bytes to it (hostile requests, pipelining): writes `raw` on a fresh
 * connection and resolves with everything the server sent until it closed
 * the connection, or until `boundMs` passed (then the socket is destroyed
 * and what arrived so far is the answer). Never rejects: a reset is an end
 * like a close.
 *
 * @module
 */
import net from "node:net";

/**
 * The bytes the server sent (see the module text).
 *
 * @example
 * ```ts
 * import { rawExchange } from "./raw_exchange.ts";
 * // const reply = await rawExchange(port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
 * console.log(typeof rawExchange);
 * ```
 */
export function rawExchange(port: number, raw: Uint8Array | string, boundMs = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    const out: Buffer[] = [];
    const bound = setTimeout(() => sock.destroy(), boundMs);
    sock.on("data", (d: Buffer) => out.push(d));
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(bound);
      resolve(Buffer.concat(out));
    });
    sock.write(raw);
  });
}

/**
 * {@link rawExchange} read as Latin-1 text (every byte one character).
 *
 * @example
 * ```ts
 * import { rawExchangeText } from "./raw_exchange.ts";
 * // const reply = await rawExchangeText(port, "GET / HTTP/1.0\r\n\r\n");
 * console.log(typeof rawExchangeText);
 * ```
 */
export async function rawExchangeText(port: number, raw: Uint8Array | string, boundMs = 10_000): Promise<string> {
  return (await rawExchange(port, raw, boundMs)).toString("latin1");
}
