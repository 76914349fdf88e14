/**
 * The Autobahn case data (tests/conformance/ws/autobahn_cases.json, our
 * compact form made by tools/convert_autobahn.mjs; see NOTICE) expanded into
 * the types the runner reads, and the generated 12.x/13.x payload files.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { type TestdataName, testdata } from "../ws/testdata.ts";
import type { PayloadSpec } from "./wire.ts";

const CASES_FILE = new URL("../ws/autobahn_cases.json", import.meta.url);

// ---- case data

export interface Offer {
  acceptMaxWindowBits: boolean;
  acceptNoContextTakeover: boolean;
  requestMaxWindowBits: number;
  requestNoContextTakeover: boolean;
}

export type Action =
  | {
    op: "frame";
    opcode: number;
    fin: boolean;
    rsv: number;
    mask: string | null;
    payload: PayloadSpec;
    payload_len: number | null;
    chopsize: number | null;
  }
  | { op: "message"; binary: boolean; payload: PayloadSpec; fragmentSize: number | null }
  | { op: "begin_message"; binary: boolean }
  | { op: "begin_message_frame"; length: number }
  | { op: "message_frame_data"; payload: PayloadSpec }
  | { op: "end_message" }
  | { op: "close"; code: number | null; reason: PayloadSpec | null }
  | { op: "close_frame"; code: number | null; reason: PayloadSpec | null }
  | { op: "wait"; seconds: number; tag: string | null }
  | { op: "close_after" | "kill_after"; seconds: number }
  | { op: "set"; name: string; value: unknown };

export type ExpectedEvent =
  | { type: "message"; binary: boolean; payload: PayloadSpec }
  | { type: "pong"; payload: PayloadSpec }
  | { type: "timeout"; tag: string };

/** One case, as the runner reads it. */
export interface AutobahnCase {
  id: string;
  informational: boolean;
  echo_driven: boolean;
  actions: Action[];
  expected: Record<string, ExpectedEvent[]>;
  expected_close: { closedByMe: boolean; closeCode: number[]; requireClean: boolean };
  params?: {
    COUNT: number;
    LEN: number;
    testdata?: { file: TestdataName; binary: boolean };
    /** What the fuzzer as server grants our client's compressor (absent: the offer as made). */
    serverAccept?: { noContextTakeover: boolean; maxWindowBits: number };
  };
}

// ---- the compact form on disk

/** Hex bytes, a repeated unit checked by SHA-1, or a length alone (a slice of test data). */
type CompactPayload = string | { unit: string; len: number; sha1: string } | { len: number };

type CompactEvent =
  | { type: "message"; binary: boolean; payload: CompactPayload }
  | { type: "pong"; payload: CompactPayload }
  | { type: "timeout"; tag: string };

interface CompactCase {
  id: string;
  informational?: boolean;
  actions: Record<string, unknown>[];
  ok?: CompactEvent[];
  nonStrict?: CompactEvent[];
  close: { byMe: boolean; codes: number[]; clean: boolean; wrongEndpointFatal?: boolean };
  echo?: {
    count: number;
    len?: number;
    testdata?: TestdataName;
    binary?: boolean;
    serverAccept?: { noContextTakeover: boolean; maxWindowBits: number };
  };
}

function payload(p: CompactPayload): PayloadSpec {
  if (typeof p === "string") return { hex: p, len: p.length / 2 };
  if ("unit" in p) return { repeat_unit_hex: p.unit, len: p.len, sha1: p.sha1 };
  return { len: p.len };
}

function event(e: CompactEvent): ExpectedEvent {
  if (e.type === "timeout") return e;
  if (e.type === "pong") return { type: "pong", payload: payload(e.payload) };
  return { type: "message", binary: e.binary, payload: payload(e.payload) };
}

function action(a: Record<string, unknown>): Action {
  switch (a.op) {
    case "frame":
      return {
        op: "frame",
        opcode: a.opcode as number,
        fin: (a.fin as boolean | undefined) ?? true,
        rsv: (a.rsv as number | undefined) ?? 0,
        mask: (a.mask as string | undefined) ?? null,
        payload: payload(a.payload as CompactPayload),
        payload_len: (a.repeatTo as number | undefined) ?? null,
        chopsize: (a.chop as number | undefined) ?? null,
      };
    case "message":
      return {
        op: "message",
        binary: a.binary as boolean,
        payload: payload(a.payload as CompactPayload),
        fragmentSize: (a.fragmentSize as number | undefined) ?? null,
      };
    case "message_frame_data":
      return { op: "message_frame_data", payload: payload(a.payload as CompactPayload) };
    case "close":
    case "close_frame":
      return {
        op: a.op,
        code: a.code as number | null,
        reason: a.reason === undefined ? null : payload(a.reason as CompactPayload),
      };
    case "wait":
      return { op: "wait", seconds: a.seconds as number, tag: (a.tag as string | undefined) ?? null };
    default:
      return a as Action;
  }
}

function expand(c: CompactCase): AutobahnCase {
  const expected: Record<string, ExpectedEvent[]> = {};
  if (c.ok !== undefined) expected.OK = c.ok.map(event);
  if (c.nonStrict !== undefined) expected["NON-STRICT"] = c.nonStrict.map(event);
  const out: AutobahnCase = {
    id: c.id,
    informational: c.informational ?? false,
    echo_driven: c.echo !== undefined,
    actions: c.actions.map(action),
    expected,
    expected_close: { closedByMe: c.close.byMe, closeCode: c.close.codes, requireClean: c.close.clean },
  };
  if (c.echo !== undefined) {
    out.params = { COUNT: c.echo.count, LEN: c.echo.len ?? 0 };
    if (c.echo.testdata !== undefined) out.params.testdata = { file: c.echo.testdata, binary: c.echo.binary ?? false };
    if (c.echo.serverAccept !== undefined) out.params.serverAccept = c.echo.serverAccept;
  }
  return out;
}

let cases: readonly AutobahnCase[] | undefined;
/** The case list, read from the repository's data once. */
export function loadCases(): AutobahnCase[] {
  cases ??= (JSON.parse(readFileSync(CASES_FILE, "utf8")) as { cases: CompactCase[] }).cases.map(expand);
  return [...cases];
}

/** A 12.x/13.x payload file (generated; see ../ws/testdata.ts). */
export function testFile(name: TestdataName): Uint8Array {
  return testdata(name);
}
