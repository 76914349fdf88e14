/**
 * The expectations of the conformance cases (cases.ts): each reads the
 * server's frames until it sees what it waits for (or something that rules
 * it out) and throws a {@link CaseFailure} naming what came instead.
 *
 * Strict where the RFC says SHOULD: a connection error must come as a
 * GOAWAY with the code (a bare close fails), a stream error as RST_STREAM
 * with the code or, escalated, a GOAWAY with it.
 *
 * @module
 */
import { cat, codeName, describe, E, F, frame, type Peer, type PeerEvent, PREFACE, type RawFrame, settings, T, u32 } from "./peer.ts";

/** A case's expectation not met. */
export class CaseFailure extends Error {
  constructor(expected: string, actual: string) {
    super(`expected ${expected}; got ${actual}`);
    this.name = "CaseFailure";
  }
}

/** One case's connection and time limit. */
export interface Ctx {
  readonly p: Peer;
  /** performance.now() after which every wait gives up. */
  readonly deadline: number;
}

/** The next event, with server header blocks decoded (the HPACK table kept in step). */
export async function nextEvent(c: Ctx): Promise<PeerEvent & { fields?: string[] }> {
  const ev = await c.p.next(c.deadline);
  if (ev.kind === "frame" && ev.frame.type === T.HEADERS && (ev.frame.flags & F.END_HEADERS) !== 0) {
    c.p.highestAnswered = Math.max(c.p.highestAnswered, ev.frame.streamId);
    return { ...ev, fields: c.p.decoder.decode(headerBlockOf(ev.frame)) };
  }
  if (ev.kind === "frame" && ev.frame.type === T.PUSH_PROMISE && (ev.frame.flags & F.END_HEADERS) !== 0) {
    // The promised request's block: decoded too (the table stays in step); fields after the promised id.
    const f = ev.frame;
    const padded = (f.flags & F.PADDED) !== 0;
    const start = (padded ? 1 : 0) + 4;
    const end = f.payload.length - (padded ? f.payload[0]! : 0);
    return { ...ev, fields: c.p.decoder.decode(f.payload.subarray(start, end)) };
  }
  return ev;
}

/** The header block fragment of a HEADERS frame (without padding and priority). */
export function headerBlockOf(f: RawFrame): Uint8Array {
  let start = 0;
  let end = f.payload.length;
  if ((f.flags & F.PADDED) !== 0) {
    end -= f.payload[0]!;
    start = 1;
  }
  if ((f.flags & F.PRIORITY) !== 0) start += 5;
  return f.payload.subarray(start, end);
}

/**
 * Sends the preface and SETTINGS (with `pairs`), expects the server's
 * SETTINGS first, acknowledges it and waits for the ACK of ours.
 */
export async function handshake(c: Ctx, pairs: [number, number][] = []): Promise<void> {
  c.p.send(PREFACE, settings(pairs));
  const first = await nextEvent(c);
  if (first.kind !== "frame" || first.frame.type !== T.SETTINGS || (first.frame.flags & F.ACK) !== 0) {
    throw new CaseFailure("the server's SETTINGS first", describe(first));
  }
  const pl = first.frame.payload;
  for (let i = 0; i + 6 <= pl.length; i += 6) c.p.serverSettings.set((pl[i]! << 8) | pl[i + 1]!, u32(pl, i + 2));
  c.p.send(settings([], F.ACK));
  await expectSettingsAck(c);
}

/** Reads until a SETTINGS ACK. */
export async function expectSettingsAck(c: Ctx): Promise<void> {
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind === "frame" && ev.frame.type === T.SETTINGS && (ev.frame.flags & F.ACK) !== 0) return;
    if (ev.kind !== "frame" || ev.frame.type === T.GOAWAY) throw new CaseFailure("SETTINGS with ACK", describe(ev));
  }
}

/**
 * Reads until a GOAWAY with one of `codes` (a close without one, or another
 * code, fails), checks its last-stream-id (no higher than the highest
 * stream opened, no lower than the highest answered: RFC 9113 §6.8) and
 * that the connection then closes (§5.4.1).
 */
export async function expectConnectionError(c: Ctx, ...codes: number[]): Promise<void> {
  const want = `GOAWAY with ${codes.map(codeName).join(" or ")}`;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure(want, describe(ev));
    if (ev.frame.type !== T.GOAWAY) continue;
    if (!codes.includes(u32(ev.frame.payload, 4))) throw new CaseFailure(want, describe(ev));
    const last = u32(ev.frame.payload, 0) & 0x7fffffff;
    if (last > c.p.highestOpened || last < c.p.highestAnswered) {
      throw new CaseFailure(`a GOAWAY last-stream-id from ${c.p.highestAnswered} to ${c.p.highestOpened}`, String(last));
    }
    for (;;) {
      const after = await nextEvent(c);
      if (after.kind === "closed") return;
      if (after.kind === "timeout") throw new CaseFailure("the connection closed after GOAWAY", describe(after));
    }
  }
}

/** Reads until RST_STREAM (or GOAWAY) with one of `codes`; the RST_STREAM on `stream` when given. */
export async function expectStreamError(c: Ctx, ...codes: number[]): Promise<void> {
  return expectStreamErrorOn(c, undefined, ...codes);
}

/** {@link expectStreamError} on a given stream. */
export async function expectStreamErrorOn(c: Ctx, stream: number | undefined, ...codes: number[]): Promise<void> {
  const want = `RST_STREAM or GOAWAY with ${codes.map(codeName).join(" or ")}`;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure(want, describe(ev));
    const f = ev.frame;
    if (f.type === T.RST_STREAM || f.type === T.GOAWAY) {
      if (!codes.includes(u32(f.payload, f.type === T.GOAWAY ? 4 : 0))) throw new CaseFailure(want, describe(ev));
      if (f.type === T.RST_STREAM && stream !== undefined && f.streamId !== stream) throw new CaseFailure(`${want} on stream ${stream}`, describe(ev));
      return;
    }
  }
}

/** Sends a PING and reads until its ACK (a GOAWAY or a close first fails, unless `closeIsFine`). */
export async function pingRoundTrip(c: Ctx, closeIsFine = false): Promise<void> {
  const payload = [0x68, 0x32, 0x73, 0x70, 0x65, 0x63, 0x21, 0x21];
  c.p.send(frame(T.PING, 0, 0, payload));
  await expectPingAck(c, payload, closeIsFine);
}

/** Reads until a PING ACK carrying `payload`. */
export async function expectPingAck(c: Ctx, payload: number[], closeIsFine = false): Promise<void> {
  const want = `PING with ACK and the data sent${closeIsFine ? " (or a close)" : ""}`;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind === "closed" && closeIsFine) return;
    if (ev.kind !== "frame") throw new CaseFailure(want, describe(ev));
    const f = ev.frame;
    if (f.type === T.GOAWAY) {
      if (closeIsFine && u32(f.payload, 4) === E.NO_ERROR) continue;
      throw new CaseFailure(want, describe(ev));
    }
    if (f.type === T.PING && (f.flags & F.ACK) !== 0) {
      if (f.payload.length === 8 && f.payload.every((b, i) => b === payload[i])) return;
      throw new CaseFailure(want, `a PING ACK with other data (${Array.from(f.payload).join(",")})`);
    }
  }
}

/** Reads until the response HEADERS on `streamId` (with a :status). */
export async function expectResponse(c: Ctx, streamId: number): Promise<string[]> {
  const want = `a response (HEADERS with :status) on stream ${streamId}`;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure(want, describe(ev));
    const f = ev.frame;
    if (f.type === T.GOAWAY || (f.type === T.RST_STREAM && f.streamId === streamId)) throw new CaseFailure(want, describe(ev));
    if (f.type === T.HEADERS && f.streamId === streamId) {
      if (ev.fields === undefined || ev.fields[0] !== ":status") throw new CaseFailure(want, `${describe(ev)} ${JSON.stringify(ev.fields)}`);
      return ev.fields;
    }
  }
}

/** Reads until a frame with END_STREAM on `streamId`. */
export async function expectStreamEnd(c: Ctx, streamId: number): Promise<void> {
  const want = `the end of stream ${streamId} (END_STREAM)`;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure(want, describe(ev));
    const f = ev.frame;
    if (f.type === T.GOAWAY || (f.type === T.RST_STREAM && f.streamId === streamId)) throw new CaseFailure(want, describe(ev));
    if ((f.type === T.HEADERS || f.type === T.DATA) && f.streamId === streamId && (f.flags & F.END_STREAM) !== 0) return;
  }
}

/** Reads the response on `streamId` to its end; resolves with its status and body text. */
export async function readResponse(c: Ctx, streamId: number): Promise<{ status: string; body: string; fields: string[] }> {
  const want = `a whole response on stream ${streamId}`;
  let status = "";
  let fields: string[] = [];
  let body = "";
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure(want, `${describe(ev)} (so far: status ${status}, ${JSON.stringify(body)})`);
    const f = ev.frame;
    if (f.type === T.GOAWAY || (f.type === T.RST_STREAM && f.streamId === streamId)) throw new CaseFailure(want, describe(ev));
    if (f.streamId !== streamId) continue;
    if (f.type === T.HEADERS && status === "") {
      fields = ev.fields ?? [];
      status = fields[1] ?? "";
    }
    if (f.type === T.DATA) body += new TextDecoder().decode(f.payload);
    if ((f.type === T.HEADERS || f.type === T.DATA) && (f.flags & F.END_STREAM) !== 0) return { status, body, fields };
  }
}

/** Reads until the first DATA frame on `streamId` and checks its length. */
export async function expectDataLength(c: Ctx, streamId: number, length: number): Promise<void> {
  const want = `DATA of ${length} octet(s) on stream ${streamId}`;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure(want, describe(ev));
    const f = ev.frame;
    if (f.type === T.GOAWAY || (f.type === T.RST_STREAM && f.streamId === streamId)) throw new CaseFailure(want, describe(ev));
    if (f.type === T.DATA && f.streamId === streamId) {
      if (f.payload.length === length) return;
      throw new CaseFailure(want, describe(ev));
    }
  }
}

/** Reads until the server closes the connection (frames, a GOAWAY included, may come first). */
export async function expectClose(c: Ctx): Promise<void> {
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind === "closed") return;
    if (ev.kind === "timeout") throw new CaseFailure("the connection closed", describe(ev));
  }
}

export { cat };
