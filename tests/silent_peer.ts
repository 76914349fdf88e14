// A TCP peer for tests of connects that must be given up: it accepts,
// reads (and drops) what arrives — a ClientHello, a CONNECT request — and
// never writes, so no TLS handshake or proxy answer ever completes. It
// counts accepts and closes and lets a test wait for a count.
import net from "node:net";

/** A listening silent peer (see the module text). */
export interface SilentPeer {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Accepted connections closed so far. */
  readonly closed: number;
  /** Resolves once `check()` holds, tested now and after each accept and close. */
  until(check: () => boolean): Promise<void>;
  /** Stops listening (and waits for the open connections to go). */
  close(): Promise<void>;
}

/**
 * Starts a {@link SilentPeer} on 127.0.0.1.
 *
 * @example
 * ```ts
 * const peer = await silentPeer();
 * const base = peer.accepted;
 * // … connect to peer.port …
 * await peer.until(() => peer.accepted - base === 1);
 * await peer.close();
 * ```
 */
export async function silentPeer(): Promise<SilentPeer> {
  let accepted = 0;
  let closed = 0;
  let onChange: () => void = () => {};
  const server = net.createServer((sock) => {
    accepted++;
    onChange();
    sock.on("error", () => {});
    // Reads (and drops) what comes: a socket with unread bytes never sees the client's FIN.
    sock.resume();
    sock.on("close", () => {
      closed++;
      onChange();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get closed() {
      return closed;
    },
    until(check) {
      if (check()) return Promise.resolve();
      return new Promise((resolve) => {
        onChange = () => {
          if (!check()) return;
          onChange = () => {};
          resolve();
        };
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
