/**
 * Control frames received by an HTTP/2 connection (RFC 9113 §6.3–§6.9,
 * RFC 9218): SETTINGS, PING, GOAWAY, WINDOW_UPDATE, RST_STREAM, PRIORITY
 * and PRIORITY_UPDATE, with the flood counters of the ones a peer can send
 * for free.
 *
 * @module
 */
import { latin1Decode } from "../hpack/latin1.ts";
import { ErrorCode, Flag, MAX_WINDOW } from "./constants.ts";
import { connectionError as conn, type H2Core, streamError as streamErr } from "./connection_core.ts";
import { encodePing, encodeSettings, type Frame, readPriority, readU32 } from "./frames.ts";
import { parsePriority } from "./priority.ts";
import { applySettingsPayload, type Settings } from "./settings.ts";
import { ClosedBy, StreamState as S } from "./stream.ts";

/**
 * Handles a received PRIORITY frame (RFC 7540 scheme): reported, never acted on.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each PRIORITY frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onPriority(c: H2Core, f: Frame, payload: Uint8Array): void {
  c.noProgress();
  const p = readPriority(payload, 0);
  if (p.dependency === f.streamId) {
    throw streamErr("ERR_H2_PRIORITY_SELF", `stream ${f.streamId} depends on itself`, ErrorCode.PROTOCOL_ERROR, f.streamId);
  }
  c.events.push({ type: "priority", streamId: f.streamId, priority: p });
}

/**
 * Handles a received PRIORITY_UPDATE frame (RFC 9218, server only).
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each PRIORITY_UPDATE frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onPriorityUpdate(c: H2Core, payload: Uint8Array): void {
  if (c.conn.role === "client") throw conn("ERR_H2_PRIORITY_UPDATE", "PRIORITY_UPDATE sent to a client", ErrorCode.PROTOCOL_ERROR);
  const id = readU32(payload, 0) & 0x7fffffff;
  if (id === 0 || !c.table.peerInitiated(id)) {
    throw conn("ERR_H2_PRIORITY_UPDATE", `PRIORITY_UPDATE for stream ${id}`, ErrorCode.PROTOCOL_ERROR);
  }
  c.noProgress();
  const value = latin1Decode(payload, 4, payload.length);
  const priority = parsePriority(value);
  c.table.setPriority(id, priority, c.conn.localSettings.maxConcurrentStreams);
  c.events.push({ type: "priority-update", streamId: id, priority });
}

/**
 * Handles a received RST_STREAM: closes the stream; counts resets against the rapid-reset limit.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each RST_STREAM frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onRst(c: H2Core, f: Frame, payload: Uint8Array): void {
  const id = f.streamId;
  const stream = c.table.streams.get(id);
  if (stream === undefined) {
    c.table.lateFrame(id, f.type);
    c.noProgress();
    return;
  }
  const code = readU32(payload, 0);
  c.table.close(stream, ClosedBy.PEER_RESET);
  c.events.push({ type: "rst", streamId: id, code, refused: false });
  c.countReset();
}

/**
 * Handles a received SETTINGS frame: the peer's settings (applied, acknowledged, flood-limited) or the ACK of ours.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each SETTINGS frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onSettings(c: H2Core, f: Frame, payload: Uint8Array): void {
  if (f.flags & Flag.ACK) {
    const acked = c.pendingSettings.shift();
    if (acked === undefined) throw conn("ERR_H2_SETTINGS_ACK", "unexpected SETTINGS ACK", ErrorCode.PROTOCOL_ERROR);
    applyLocal(c, acked);
    c.settingsDeadline = c.pendingSettings.length > 0 && c.timed ? c.now() + c.settingsAckMs : -1;
    c.events.push({ type: "settings-ack" });
    return;
  }
  c.awaitSettings = false;
  if (c.overRate(c.conn.counters.settings)) {
    throw conn("ERR_H2_SETTINGS_FLOOD", "too many SETTINGS frames", ErrorCode.ENHANCE_YOUR_CALM);
  }
  const r = c.conn.remoteSettings;
  const oldWindow = r.initialWindowSize;
  const oldTable = r.headerTableSize;
  applySettingsPayload(r, payload, c.conn.role === "client");
  if (r.initialWindowSize !== oldWindow) {
    const delta = r.initialWindowSize - oldWindow;
    for (const s of c.table.streams.values()) {
      s.sendWindow += delta;
      if (s.sendWindow > MAX_WINDOW) {
        throw conn("ERR_H2_FLOW_CONTROL", `SETTINGS_INITIAL_WINDOW_SIZE overflows stream ${s.id}`, ErrorCode.FLOW_CONTROL_ERROR);
      }
      if (delta > 0 && s.pending) c.table.sendable.add(s);
    }
  }
  if (r.headerTableSize !== oldTable) c.encoder.setMaxTableSize(r.headerTableSize);
  c.queue(encodeSettings(null));
  c.events.push({ type: "settings", settings: { ...r } });
}

/** Applies our settings `s` once the peer acknowledged them. */
function applyLocal(c: H2Core, s: Settings): void {
  c.decoder.setMaxTableSize(s.headerTableSize);
  if (Number.isFinite(s.maxHeaderListSize)) c.decoder.maxHeaderListSize = s.maxHeaderListSize;
  c.reader.maxFrameSize = s.maxFrameSize;
  const delta = s.initialWindowSize - c.recvInitialWindow;
  c.recvInitialWindow = s.initialWindowSize;
  if (delta !== 0) {
    for (const st of c.table.streams.values()) {
      st.recvWindow += delta;
      // A smaller window lowers the crediting threshold: octets consumed
      // under the old one are credited now, or a sender that went negative
      // would wait for credit while we wait for more DATA.
      if (st.recvUnacked > 0) c.creditStream(st, 0);
    }
  }
}

/**
 * Handles a received PING: answered (flood-limited), or the ACK of one of ours with its round-trip time.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each PING frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onPing(c: H2Core, f: Frame, payload: Uint8Array): void {
  if (f.flags & Flag.ACK) {
    const i = c.pings.findIndex((p) => p.data.every((b, k) => b === payload[k]));
    if (i < 0) return c.noProgress(); // an ACK of nothing we sent
    const p = c.pings.splice(i, 1)[0]!;
    c.events.push({ type: "ping-ack", data: p.data, rtt: c.now() - p.sentAt });
    return;
  }
  if (c.overRate(c.conn.counters.pings)) throw conn("ERR_H2_PING_FLOOD", "too many PING frames", ErrorCode.ENHANCE_YOUR_CALM);
  const data = payload.slice();
  c.queue(encodePing(data, true));
  c.events.push({ type: "ping", data });
}

/**
 * Handles a received GOAWAY: our streams above its last stream id are refused.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each GOAWAY frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onGoaway(c: H2Core, payload: Uint8Array): void {
  c.noProgress();
  const last = readU32(payload, 0) & 0x7fffffff;
  const code = readU32(payload, 4);
  if (c.conn.goawayReceived >= 0 && last > c.conn.goawayReceived) {
    throw conn("ERR_H2_GOAWAY", "GOAWAY raised the last stream id", ErrorCode.PROTOCOL_ERROR);
  }
  c.conn.goawayReceived = last;
  c.events.push({ type: "goaway", lastStreamId: last, code, debug: payload.slice(8) });
  for (const s of [...c.table.streams.values()]) {
    if (!c.table.peerInitiated(s.id) && s.id > last) {
      c.table.close(s, ClosedBy.PEER_RESET);
      c.events.push({ type: "rst", streamId: s.id, code: ErrorCode.REFUSED_STREAM, refused: true });
    }
  }
}

/**
 * Handles a received WINDOW_UPDATE: widens a send window and wakes the
 * streams it unblocks. An increment that returns credit for DATA we sent
 * is progress, however small and however many (a receiver with a small
 * window sends them in proportion to the data); one that does not (a
 * window enlargement, an update on a closed stream, a flood) costs one
 * no-progress frame.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each WINDOW_UPDATE frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onWindowUpdate(c: H2Core, f: Frame, payload: Uint8Array): void {
  const inc = readU32(payload, 0) & 0x7fffffff;
  const id = f.streamId;
  if (id === 0) {
    if (inc === 0) throw conn("ERR_H2_WINDOW_UPDATE", "WINDOW_UPDATE of 0 on the connection", ErrorCode.PROTOCOL_ERROR);
    if (inc <= c.connSentUncredited) c.connSentUncredited -= inc;
    else {
      c.connSentUncredited = 0;
      c.noProgress();
    }
    const wasBlocked = c.connSendWindow <= 0;
    c.connSendWindow += inc;
    if (c.connSendWindow > MAX_WINDOW) {
      throw conn("ERR_H2_FLOW_CONTROL", "connection window above 2^31-1", ErrorCode.FLOW_CONTROL_ERROR);
    }
    if (wasBlocked) for (const s of c.table.streams.values()) if (s.pending) c.table.sendable.add(s);
  } else {
    const stream = c.table.streams.get(id);
    if (stream === undefined) {
      c.table.lateFrame(id, f.type);
      c.noProgress();
      return;
    }
    if (inc !== 0 && inc <= stream.sentUncredited) stream.sentUncredited -= inc;
    else {
      stream.sentUncredited = 0;
      c.noProgress();
    }
    if (stream.state === S.RESERVED_REMOTE) {
      throw conn("ERR_H2_RESERVED_STREAM", `WINDOW_UPDATE on reserved stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    }
    if (inc === 0) throw streamErr("ERR_H2_WINDOW_UPDATE", `WINDOW_UPDATE of 0 on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
    stream.sendWindow += inc;
    if (stream.sendWindow > MAX_WINDOW) {
      throw streamErr("ERR_H2_FLOW_CONTROL", `window of stream ${id} above 2^31-1`, ErrorCode.FLOW_CONTROL_ERROR, id);
    }
    if (stream.pending) c.table.sendable.add(stream);
  }
  c.events.push({ type: "window-update", streamId: id, increment: inc });
}
