import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { FrameType } from "./constants.ts";
import { StreamTable } from "./stream_table.ts";
import { ClosedBy } from "./stream.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof HTTP2Error);
    return `${e instanceof HTTP2StreamError ? "stream" : "connection"} ${e.code}`;
  }
  return "ignored";
}

describe("StreamTable: closed-stream memory", () => {
  test("late frames are classified by how the stream closed, within the bound, and forgotten beyond it", () => {
    const table = new StreamTable("server", 4);
    table.lastPeerId = 21;
    // 1 ended normally, 3 reset by us, 5 reset by the peer, 7 ended normally.
    table.remember(1, ClosedBy.END_STREAM);
    table.remember(3, ClosedBy.LOCAL_RESET);
    table.remember(5, ClosedBy.PEER_RESET);
    table.remember(7, ClosedBy.END_STREAM);
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.HEADERS)), "connection ERR_H2_STREAM_CLOSED");
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.DATA)), "connection ERR_H2_STREAM_CLOSED");
    assert.equal(codeOf(() => table.lateFrame(3, FrameType.DATA)), "ignored");
    assert.equal(codeOf(() => table.lateFrame(3, FrameType.HEADERS)), "ignored");
    assert.equal(codeOf(() => table.lateFrame(5, FrameType.DATA)), "stream ERR_H2_STREAM_CLOSED");
    assert.equal(codeOf(() => table.lateFrame(7, FrameType.HEADERS)), "connection ERR_H2_STREAM_CLOSED");
    assert.equal(codeOf(() => table.lateFrame(9, FrameType.WINDOW_UPDATE)), "ignored");
    assert.equal(codeOf(() => table.lateFrame(23, FrameType.DATA)), "connection ERR_H2_IDLE_STREAM");
    // A stream reset twice is remembered once; a later reset of a remembered id updates it.
    table.remember(3, ClosedBy.LOCAL_RESET);
    // Two more push 1 and 3 out of the ring of 4.
    table.remember(9, ClosedBy.END_STREAM);
    table.remember(11, ClosedBy.LOCAL_RESET);
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.HEADERS)), "connection ERR_H2_STREAM_ID");
    assert.equal(codeOf(() => table.lateFrame(3, FrameType.DATA)), "connection ERR_H2_STREAM_CLOSED");
    assert.equal(table.closed.has(3), false);
    assert.equal(codeOf(() => table.lateFrame(5, FrameType.DATA)), "stream ERR_H2_STREAM_CLOSED");
    assert.equal(codeOf(() => table.lateFrame(9, FrameType.HEADERS)), "connection ERR_H2_STREAM_CLOSED");
    assert.equal(codeOf(() => table.lateFrame(11, FrameType.DATA)), "ignored");
    // Many normal closes later, the resets are gone too and the reset map stays bounded.
    for (let id = 13; id < 2000; id += 2) table.remember(id, id % 3 === 0 ? ClosedBy.LOCAL_RESET : ClosedBy.END_STREAM);
    assert.ok(table.closed.size <= 4);
    assert.equal(codeOf(() => table.lateFrame(11, FrameType.DATA)), "connection ERR_H2_STREAM_CLOSED");
  });

  test("a stream that ended normally and was then reset is classified as reset until the reset is forgotten", () => {
    const table = new StreamTable("client", 3);
    table.nextLocalId = 11;
    table.remember(1, ClosedBy.END_STREAM);
    table.remember(1, ClosedBy.LOCAL_RESET);
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.DATA)), "ignored");
    table.remember(3, ClosedBy.END_STREAM); // evicts nothing yet (3 in the ring)
    table.remember(5, ClosedBy.END_STREAM); // evicts the END_STREAM record of 1: the reset stays
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.DATA)), "ignored");
    table.remember(7, ClosedBy.END_STREAM); // evicts the reset of 1
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.DATA)), "connection ERR_H2_STREAM_CLOSED");
    assert.equal(table.closed.size, 0);
  });

  test("a bound of 0 remembers nothing", () => {
    const table = new StreamTable("server", 0);
    table.lastPeerId = 9;
    table.remember(1, ClosedBy.LOCAL_RESET);
    table.remember(3, ClosedBy.END_STREAM);
    assert.equal(table.closed.size, 0);
    assert.equal(codeOf(() => table.lateFrame(1, FrameType.HEADERS)), "connection ERR_H2_STREAM_ID");
  });
});
