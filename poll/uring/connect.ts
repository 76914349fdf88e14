/**
 * Connecting through a loop's io_uring: a blocking socket (so the connect
 * operation waits in the kernel) and IORING_OP_CONNECT, with the same
 * AbortSignal and timeout behaviour as the readiness path.
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { loopUring } from "./loop_io.ts";
 * import { uringConnect } from "./connect.ts";
 * import { chooseAsyncIo } from "./probe.ts";
 * import { listenTCPSync } from "../../socket/connect.ts";
 * if (chooseAsyncIo() === "io_uring") {
 *   const loop = new Loop();
 *   using server = listenTCPSync("127.0.0.1", 0);
 *   const port = (server.localAddress() as { port: number }).port;
 *   using socket = await uringConnect(loopUring(loop), { host: "127.0.0.1", port }, { timeoutMs: 2000 });
 *   loop.close();
 * }
 * ```
 *
 * @module
 */
import { sysError } from "../../core/sys_error.ts";
import type { Timer } from "../../core/timer_heap.ts";
import { LAYOUT } from "../../ffi/platform.ts";
import { encodeSockaddr, formatSocketAddress } from "../../socket/sockaddr.ts";
import { Socket } from "../../socket/socket.ts";
import { connectTimedOut, type Endpoint, endpointAddress } from "../endpoint.ts";
import type { LoopUring } from "./loop_io.ts";

/** Options of {@link uringConnect}. */
export interface UringConnectOptions {
  /** Aborts the connect (and closes the socket). */
  signal?: AbortSignal;
  /** Fails the connect after this long. */
  timeoutMs?: number;
}

/**
 * Connects a new stream socket to `endpoint` with IORING_OP_CONNECT;
 * resolves with the connected (blocking) socket.
 *
 * @example
 * ```ts
 * import { uringConnect } from "./connect.ts";
 * import { loopUring } from "./loop_io.ts";
 * import { chooseAsyncIo } from "./probe.ts";
 * import { Loop } from "../loop.ts";
 * import { listenUnixSync } from "../../socket/connect.ts";
 * if (chooseAsyncIo() === "io_uring") {
 *   const loop = new Loop();
 *   using server = listenUnixSync("@ffinet-uring-connect-example");
 *   using socket = await uringConnect(loopUring(loop), { path: "@ffinet-uring-connect-example" });
 *   console.log(socket.isConnected(), server.closed); // true false
 *   loop.close();
 * }
 * ```
 */
export function uringConnect(io: LoopUring, endpoint: Endpoint, options: UringConnectOptions = {}): Promise<Socket> {
  let socket: Socket;
  let address: string;
  const sockaddr = new Uint8Array(LAYOUT.sockaddr_storage.size);
  let length: number;
  try {
    const addr = endpointAddress(endpoint);
    address = formatSocketAddress(addr);
    length = encodeSockaddr(addr, sockaddr);
    socket = Socket.create(addr.family, "stream");
  } catch (err) {
    return Promise.reject(err);
  }
  const signal = options.signal;
  return new Promise((resolve, reject) => {
    let done = false;
    let id = 0;
    let timer: Timer | undefined;
    const finish = (error: Error | undefined): void => {
      if (done) return;
      done = true;
      io.unretain();
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) {
        resolve(socket);
        return;
      }
      reject(error);
      // The operation names the descriptor by number: close it once the
      // operation is over, or a socket opened meanwhile under the same
      // number would be connected in its place.
      if (id !== 0 && !io.closing) io.uring.queueCancel(id);
      else socket.close();
    };
    const onAbort = (): void => {
      finish(signal!.reason instanceof Error ? signal!.reason : new DOMException("aborted", "AbortError"));
    };
    io.retain();
    try {
      id = io.uring.queueConnect(socket.fd, sockaddr, length, (res) => {
        id = 0;
        if (done) socket.close(); // aborted or timed out: cancelled, or connected too late
        else if (res >= 0) finish(undefined);
        else finish(sysError(-res, "connect", address));
      });
    } catch (err) {
      finish(err as Error);
    }
    if (done) return;
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined) timer = io.loop.timers.once(timeoutMs, () => finish(connectTimedOut(timeoutMs, address)));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
