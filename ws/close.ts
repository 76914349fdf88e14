/**
 * The closing handshake (RFC 6455 §5.5.1, §7): who sent a Close frame,
 * who answered, and whether the transport may now be closed.
 *
 * open ─ we send Close ──▶ closing ─ peer's Close ──▶ closed (clean)
 * open ─ peer's Close ──▶ (we answer) ──▶ closed (clean)
 * any ─ transport lost ──▶ closed (not clean, 1006)
 *
 * A server closes the TCP connection once the handshake is closed; a client
 * waits for the server to do so (with a timeout in the glue).
 *
 * @example
 * ```ts
 * import { CloseHandshake } from "./close.ts";
 * const close = new CloseHandshake("server");
 * close.receive(1000, "bye"); // true: answer with a Close frame
 * close.sent(1000, "");
 * console.log(close.state, close.wasClean); // "closed" true
 * ```
 *
 * @module
 */
import { CloseCode } from "./frame.ts";

/** Where the closing handshake stands. */
export type CloseState = "open" | "closing" | "closed";

/**
 * The closing handshake of one connection. See the module documentation.
 *
 * @example
 * ```ts
 * import { CloseHandshake } from "./close.ts";
 * const close = new CloseHandshake("client");
 * close.sent(1001, "going away");
 * close.receive(1001, ""); // false: nothing to answer
 * console.log(close.closedByUs, close.code); // true 1001
 * ```
 */
export class CloseHandshake {
  /** Which side of the connection this is. */
  readonly role: "server" | "client";
  #sent: { code: number | undefined; reason: string } | undefined;
  #received: { code: number; reason: string } | undefined;
  #lost = false;
  #closedByUs = false;

  /** Creates the close state of a `role` endpoint, before any Close frame. */
  constructor(role: "server" | "client") {
    this.role = role;
  }

  /** "open", "closing" (one Close frame so far) or "closed". */
  get state(): CloseState {
    if (this.#lost || (this.#sent !== undefined && this.#received !== undefined)) return "closed";
    return this.#sent !== undefined || this.#received !== undefined ? "closing" : "open";
  }

  /** Whether we may still send a Close frame. */
  get canSend(): boolean {
    return this.#sent === undefined && !this.#lost;
  }

  /** True when we sent the first Close frame. */
  get closedByUs(): boolean {
    return this.#closedByUs;
  }

  /** Both Close frames were exchanged before the transport ended. */
  get wasClean(): boolean {
    return this.#sent !== undefined && this.#received !== undefined;
  }

  /** The close code to report: the peer's, else ours, else 1006 (abnormal). */
  get code(): number {
    return this.#received?.code ?? (this.#lost ? CloseCode.Abnormal : this.#sent?.code ?? CloseCode.NoStatus);
  }

  /** The reason to report with {@link code}. */
  get reason(): string {
    return this.#received?.reason ?? this.#sent?.reason ?? "";
  }

  /** The code of the Close frame we sent, if any (undefined: empty payload). */
  get sentCode(): number | undefined {
    return this.#sent?.code;
  }

  /** Whether this end should close the transport now. */
  get shouldCloseTransport(): boolean {
    return this.state === "closed" && (this.role === "server" || this.#lost);
  }

  /** Records that we sent a Close frame. */
  sent(code: number | undefined, reason: string): void {
    if (!this.canSend) throw new TypeError("a Close frame was already sent");
    if (this.#received === undefined) this.#closedByUs = true;
    this.#sent = { code, reason };
  }

  /**
   * Records the peer's Close frame.
   *
   * @returns `true` when we must answer with a Close frame.
   */
  receive(code: number, reason: string): boolean {
    if (this.#received !== undefined || this.#lost) return false;
    this.#received = { code, reason };
    return this.#sent === undefined;
  }

  /** Records that the transport ended (both ways). */
  transportClosed(): void {
    this.#lost = this.#lost || !this.wasClean;
  }
}
