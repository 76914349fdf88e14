/**
 * Fuzz harness for the WebSocket receiver (ws/receiver.ts) with and without
 * permessage-deflate.
 *
 * Input layout: byte 0 = mode (bit 0: server role, bit 1: deflate
 * negotiated, bit 2: small limits), byte 1 = chunk-size seed, the rest are
 * the bytes from the peer. The input is fed once whole and once in chunks;
 * both runs must agree (same events, both fail or neither), delivered text must
 * be valid UTF-8, payloads must respect the limits, and the only error
 * allowed out of the receiver is a WebSocketError with a close code of 1002,
 * 1007 or 1009. Anything else is a defect and is thrown.
 *
 * @example
 * ```ts
 * import { fuzz } from "./ws_receiver.ts";
 * fuzz(new Uint8Array([1, 3, 0x81, 0x80, 1, 2, 3, 4]));
 * ```
 *
 * @module
 */
import { WebSocketError } from "../core/errors.ts";
import { PerMessageDeflate } from "../ws/deflate.ts";
import { Receiver } from "../ws/receiver.ts";
import { Sender } from "../ws/sender.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function run(mode: number, body: Uint8Array, chunk: number): string[] {
  const server = (mode & 1) === 1;
  const small = (mode & 4) === 4;
  const log: string[] = [];
  const maxMessageBytes = small ? 64 : 1 << 20;
  const maxFrameBytes = small ? 40 : 1 << 20;
  let deflate: PerMessageDeflate | undefined;
  if (mode & 2) {
    deflate = server
      ? PerMessageDeflate.acceptOffer("permessage-deflate", {})
      : PerMessageDeflate.fromResponse("permessage-deflate", {});
  }
  const rx = new Receiver({
    role: server ? "server" : "client",
    decompressor: deflate ?? null,
    maxFrameBytes,
    maxMessageBytes,
    handler: {
      onMessage: (data, binary) => {
        if (data.length > maxMessageBytes) throw new Error(`message of ${data.length} bytes passed the limit`);
        if (!binary) strictUtf8.decode(data); // throws a TypeError on invalid text: a defect
        log.push(`${binary ? "B" : "T"}${hex(data)}`);
      },
      onPing: (data) => {
        if (data.length > 125) throw new Error("oversized ping delivered");
        log.push(`i${hex(data)}`);
      },
      onPong: (data) => {
        if (data.length > 125) throw new Error("oversized pong delivered");
        log.push(`o${hex(data)}`);
      },
      onClose: (code, reason) => log.push(`c${code}:${reason}`),
    },
  });
  try {
    // push takes ownership and unmasks in place: give it copies.
    for (let at = 0; at < body.length; at += chunk) rx.push(body.slice(at, at + chunk));
  } catch (err) {
    if (!(err instanceof WebSocketError)) throw err;
    if (err.closeCode !== 1002 && err.closeCode !== 1007 && err.closeCode !== 1009) {
      throw new Error(`unexpected close code ${err.closeCode} for ${err.code}`);
    }
    // Which check fires first inside one message may depend on the split
    // (fail-fast UTF-8 on partial inflate output vs a later inflate error),
    // so only the fact of failing is compared.
    log.push("!");
  } finally {
    deflate?.close();
  }
  return log;
}

function hex(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length && i < 64; i++) s += data[i]!.toString(16).padStart(2, "0");
  return data.length > 64 ? `${s}…${data.length}` : s;
}

/** The jazzer.js entry point. */
export function fuzz(data: Uint8Array): void {
  if (data.length < 2) return;
  const mode = data[0]!;
  const chunk = 1 + (data[1]! % 17);
  const body = data.subarray(2);
  const whole = run(mode, body, Math.max(1, body.length));
  const split = run(mode, body, chunk);
  if (whole.join("|") !== split.join("|")) {
    throw new Error(`split feeding differs:\n${whole.join("|")}\n${split.join("|")}`);
  }
}

function seed(mode: number, frames: Uint8Array[]): Uint8Array {
  const n = frames.reduce((s, f) => s + f.length, 0);
  const out = new Uint8Array(2 + n);
  out[0] = mode;
  out[1] = 5;
  let at = 2;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

const fixedKey = (key: Uint8Array): void => key.set([0x12, 0x34, 0x56, 0x78]);
const client = new Sender({ role: "client", maskSource: fixedKey });
const server = new Sender({ role: "server" });

/** Valid inputs to start mutating from. */
export const seeds: readonly Uint8Array[] = [
  seed(1, [...client.message("Hello"), client.ping("p"), ...client.message(new Uint8Array(300), { fragmentSize: 100 }), client.close(1000, "bye")]),
  seed(0, [...server.message("κόσμε", { fragmentSize: 3 }), server.pong(), server.close()]),
  seed(5, [...client.message("x".repeat(50))]),
  seed(3, [new Uint8Array([0xc1, 0x87, 0x12, 0x34, 0x56, 0x78, 0xe0, 0x7c, 0x9b, 0x14, 0x7d, 0x33, 0x56])]),
  seed(2, [new Uint8Array([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])]),
];
