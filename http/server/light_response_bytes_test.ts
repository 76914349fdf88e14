// The light Response (light_response.ts, serve's default on Node) with
// bytes the runtime's Response refuses: a view of a SharedArrayBuffer, of a
// resizable ArrayBuffer or of a detached one is a TypeError at construction
// there (a throwing handler: 500), where the light one took them and serve
// sent them (a detached one as an empty 200 and an error logged). The light
// constructor leaves such bytes, and empty ones, to the runtime's class.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { installLightResponse, lightParts, nativeResponse } from "./light_response.ts";

type Outcome = { error: string } | { status: number; body: number[] };

async function outcome(make: new (body?: unknown) => Response, body: unknown): Promise<Outcome> {
  let r: Response;
  try {
    r = new make(body);
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
  return { status: r.status, body: [...new Uint8Array(await r.arrayBuffer())] };
}

const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;

function detached(): Uint8Array {
  const buffer = new ArrayBuffer(4);
  const bytes = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return bytes;
}

const KINDS: Array<[string, () => Uint8Array]> = [
  ["a view of a SharedArrayBuffer", () => new Uint8Array(new SharedArrayBuffer(4)).fill(104)],
  ["a view of a resizable ArrayBuffer", () => new Uint8Array(new Resizable(4, { maxByteLength: 8 })).fill(104)],
  ["a view of a detached ArrayBuffer", detached],
  ["an empty array", () => new Uint8Array(0)],
];

let uninstall: () => void = () => {};

describe("light Response: bytes the runtime's class decides on", () => {
  before(() => {
    uninstall = installLightResponse();
  });
  after(() => uninstall());

  for (const [name, make] of KINDS) {
    test(`${name}: the same outcome as the runtime's Response, and not the light path`, async () => {
      const Native = nativeResponse() as unknown as new (body?: unknown) => Response;
      const Light = globalThis.Response as unknown as new (body?: unknown) => Response;
      assert.notEqual(Light, Native, "the light class is installed");
      assert.deepEqual(await outcome(Light, make()), await outcome(Native, make()), name);
      let light: Response | undefined;
      try {
        light = new Light(make());
      } catch {
        // refused as by the runtime's class
      }
      if (light !== undefined) assert.equal(lightParts(light), undefined, `${name} is written from the runtime's response`);
    });
  }

  test("a plain array's bytes still take the light path", () => {
    const r = new Response(Uint8Array.of(1, 2, 3));
    assert.deepEqual(lightParts(r)?.body, Uint8Array.of(1, 2, 3));
  });
});
