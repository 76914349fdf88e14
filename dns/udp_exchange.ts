/**
 * One DNS exchange over UDP on the loop, from a fresh socket bound to a
 * random port (port 0): send the query, then take datagrams until `accept`
 * takes one. Lighter than a general {@link bindUDP} socket (no send queue,
 * no receive batch buffers, no address lookups): a fresh socket per query
 * is the Kaminsky defence, so its cost is paid on every uncached lookup.
 *
 * @example
 * ```ts
 * import { udpExchange } from "./udp_exchange.ts";
 * const signal = AbortSignal.timeout(50);
 * await udpExchange({ host: "127.0.0.1", port: 9 }, new Uint8Array(12), 512, () => "ignore", signal).catch(() => console.log("no answer"));
 * ```
 *
 * @module
 */
import { READABLE } from "../poll/backend.ts";
import { defaultLoop, type Loop } from "../poll/loop.ts";
import { Dgram } from "../socket/dgram.ts";
import { isIP } from "../socket/address.ts";

/** What `accept` makes of a datagram: ignore it, or end the exchange with a value. */
export type DatagramVerdict<T> = "ignore" | { readonly value: T };

/**
 * Sends `query` to `server` from a fresh port and resolves with the first
 * verdict that is not "ignore"; rejects with the signal's reason or a
 * socket error. `accept` gets a view valid only during the call.
 *
 * @example
 * ```ts
 * import { udpExchange } from "./udp_exchange.ts";
 * console.log(typeof udpExchange); // "function"
 * ```
 */
export function udpExchange<T>(
  server: { readonly host: string; readonly port: number },
  query: Uint8Array,
  maxBytes: number,
  accept: (data: Uint8Array, host: string, port: number, truncated: boolean) => DatagramVerdict<T>,
  signal: AbortSignal,
  loop: Loop = defaultLoop(),
): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const dgram = Dgram.create(isIP(server.host) === 6 ? "ipv6" : "ipv4", { nonBlocking: true });
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const buffer = new Uint8Array(maxBytes);
    const finish = (err: unknown, value?: T): void => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      watcher?.close();
      dgram.close();
      if (err !== undefined) reject(err);
      else resolve(value as T);
    };
    const onAbort = (): void => finish(signal.reason);
    let watcher: ReturnType<Loop["watch"]> | undefined;
    try {
      dgram.bind(null, 0);
      watcher = loop.watch(dgram.fd, READABLE, () => {
        try {
          for (let i = 0; i < 64 && !done; i++) {
            const d = dgram.recvFrom(buffer);
            if (d === null) return;
            const verdict = accept(buffer.subarray(0, d.bytes), d.host, d.port, d.truncated);
            if (verdict !== "ignore") finish(undefined, verdict.value);
          }
        } catch (err) {
          finish(err);
        }
      });
      signal.addEventListener("abort", onAbort, { once: true });
      // A fresh socket's send buffer is empty: a small datagram goes at once.
      if (dgram.sendTo(query, server.host, server.port) === null) finish(new Error("sendto would block on a fresh socket"));
    } catch (err) {
      finish(err);
    }
  });
}
