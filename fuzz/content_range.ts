/**
 * Fuzz target for the `Content-Range` that `download` trusts to continue a
 * file: the input, as Latin-1 text, goes through `contentRange` (it never
 * throws); a range it returns holds together (integers, start ≤ end, end
 * below a known total) and formats back to itself.
 *
 * @module
 */
import { contentRange } from "../http/client/download.ts";

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./content_range.ts";
 * fuzz(new TextEncoder().encode("bytes 0-9/10"));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  let text = "";
  for (let i = 0; i < data.length; i++) text += String.fromCharCode(data[i]!);
  const r = contentRange(text);
  if (r === null) return;
  const { start, end, total } = r;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) throw new Error(`bad range ${start}-${end}`);
  if (total !== null && (!Number.isSafeInteger(total) || end >= total)) throw new Error(`range ${start}-${end} past total ${total}`);
  const again = contentRange(`bytes ${start}-${end}/${total ?? "*"}`);
  if (again === null || again.start !== start || again.end !== end || again.total !== total) throw new Error("a range does not format back to itself");
}

const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/**
 * Inputs to start from.
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./content_range.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc("bytes 0-9/10"),
  enc("bytes 5-9/*"),
  enc("BYTES  100-199/1000 "),
  enc("bytes 9-5/10"),
  enc("bytes 0-10/10"),
  enc("bytes */10"),
  enc("bytes 999999999999999-999999999999999/*"),
];
