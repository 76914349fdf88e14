/**
 * The raw-socket server of the client cases (client_cases.ts): a node:net
 * listener on 127.0.0.1 whose connections the case answers byte by byte,
 * and ffinet's WebSocket client (`connectWebSocket`) dialling it.
 *
 * @module
 */
import net from "node:net";
import { type ConnectWebSocketOptions, connectWebSocket, type WebSocketConnection } from "../../../ws/client.ts";
import { CaseFailure, Conn } from "./driver.ts";

/** How a dial ended: open, or refused with the error. */
export type DialOutcome = { ok: true; ws: WebSocketConnection } | { ok: false; error: unknown };

/** What a client case runs with. */
export interface ClientCtx {
  /** Every wait of the case ends by then (performance.now() time). */
  readonly deadline: number;
  /** ws://127.0.0.1:PORT/chat?x=1 */
  readonly url: string;
  /** Dials the case's server with ffinet's client (settles by the deadline). */
  dial(options?: ConnectWebSocketOptions): Promise<DialOutcome>;
  /** The next connection the client made (its frames are held to a client's rules). */
  accept(): Promise<Conn>;
}

/** The listener shared by the client cases. */
export class ClientHarness {
  readonly #server: net.Server;
  readonly #port: number;
  #accepted: Conn[] = [];
  #waiter: ((c: Conn) => void) | undefined;

  private constructor(server: net.Server, port: number) {
    this.#server = server;
    this.#port = port;
    server.on("connection", (sock: net.Socket) => {
      const c = new Conn(sock);
      c.rules = { endpointIsClient: true };
      const w = this.#waiter;
      this.#waiter = undefined;
      if (w !== undefined) w(c);
      else this.#accepted.push(c);
    });
  }

  /** Listens on 127.0.0.1, a free port. */
  static start(): Promise<ClientHarness> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve(new ClientHarness(server, (server.address() as net.AddressInfo).port)));
    });
  }

  /** A case's context; `cleanup` drops what the case left open. */
  context(deadline: number): ClientCtx & { trace(): string; cleanup(): Promise<void> } {
    const conns: Conn[] = [];
    const sockets: WebSocketConnection[] = [];
    const url = `ws://127.0.0.1:${this.#port}/chat?x=1`;
    for (const c of this.#accepted) c.close(); // left over from an earlier case
    this.#accepted = [];
    return {
      deadline,
      url,
      dial: (options = {}) => {
        const left = Math.max(1, Math.floor(deadline - performance.now()));
        return connectWebSocket(url, { timeoutMs: left, ...options }).then(
          (ws) => {
            sockets.push(ws);
            return { ok: true as const, ws };
          },
          (error: unknown) => ({ ok: false as const, error }),
        );
      },
      accept: () => {
        const ready = this.#accepted.shift();
        if (ready !== undefined) {
          conns.push(ready);
          return Promise.resolve(ready);
        }
        return new Promise<Conn>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.#waiter = undefined;
            reject(new CaseFailure("the client did not connect in time"));
          }, Math.max(1, deadline - performance.now()));
          this.#waiter = (c) => {
            clearTimeout(timer);
            conns.push(c);
            resolve(c);
          };
        });
      },
      trace: () => conns.map((c) => c.trace()).join(" || "),
      cleanup: async () => {
        for (const ws of sockets) ws.terminate();
        for (const c of conns) c.close();
        this.#waiter = undefined;
        await Promise.all(sockets.map((ws) => ws.closed.catch(() => undefined)));
      },
    };
  }

  /** Stops listening. */
  stop(): Promise<void> {
    for (const c of this.#accepted) c.close();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
