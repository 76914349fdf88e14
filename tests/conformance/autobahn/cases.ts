/**
 * The Autobahn case data (../shared/conformance/ws/autobahn_cases.json and
 * its testdata/ files) and the types the runner reads it with.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { PayloadSpec } from "./wire.ts";

const DATA_DIR = new URL("../../../../shared/conformance/ws/", import.meta.url);

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

/** One case of the data file. */
export interface AutobahnCase {
  id: string;
  category: string;
  description: string;
  informational: boolean;
  echo_driven: boolean;
  actions: Action[];
  expected: Record<string, ExpectedEvent[]>;
  expected_close: { closedByMe: boolean; closeCode: number[]; requireClean: boolean };
  params?: { COUNT: number; LEN: number; testdata?: { file: string; binary: boolean }; server_accept?: string };
}

/** Reads the case list from the shared conformance data. */
export function loadCases(): AutobahnCase[] {
  const data = JSON.parse(readFileSync(new URL("autobahn_cases.json", DATA_DIR), "utf8")) as { cases: AutobahnCase[] };
  return data.cases;
}

const testdata = new Map<string, Uint8Array>();
/** A testdata/ file, read once. */
export function testFile(name: string): Uint8Array {
  let bytes = testdata.get(name);
  if (bytes === undefined) {
    bytes = new Uint8Array(readFileSync(new URL(`testdata/${name}`, DATA_DIR)));
    testdata.set(name, bytes);
  }
  return bytes;
}
