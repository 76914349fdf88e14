/**
 * The Sec-WebSocket-Extensions header (RFC 6455 §9.1): an ordered list of
 * extensions, each a token with `;`-separated parameters, each parameter a
 * token with an optional token or quoted-string value. Several header
 * lines are joined with "," before parsing.
 *
 * @example
 * ```ts
 * import { formatExtensions, parseExtensions } from "./extensions.ts";
 * const offers = parseExtensions("permessage-deflate; client_max_window_bits, x-foo");
 * console.log(offers[0]!.name, offers[0]!.params.get("client_max_window_bits")); // permessage-deflate true
 * formatExtensions(offers); // "permessage-deflate; client_max_window_bits, x-foo"
 * ```
 *
 * @module
 */
import { HTTP1ParseError } from "../core/errors.ts";

/** One extension of the list, with its parameters in order. */
export interface ExtensionItem {
  /** The extension token, e.g. "permessage-deflate". */
  name: string;
  /** Parameter values; `true` for a parameter without a value. */
  params: Map<string, string | true>;
  /**
   * Set when a parameter came more than once (only with `keepRepeated`;
   * `params` holds its first value). RFC 7692 §7 has a server decline
   * such an offer, not fail the handshake.
   */
  repeated?: true;
}

// RFC 7230 tchar.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

function bad(header: string, at: number): never {
  throw new HTTP1ParseError(
    "ERR_WS_EXTENSION_HEADER",
    `invalid Sec-WebSocket-Extensions header at offset ${at}: ${JSON.stringify(header.slice(0, 200))}`,
    at,
  );
}

/**
 * Parses a Sec-WebSocket-Extensions value. Throws an HTTP1ParseError
 * (code ERR_WS_EXTENSION_HEADER) on a syntax error; a repeated parameter is
 * an error too, unless `keepRepeated` (a server reading offers: RFC 7692 §7
 * declines such an offer and may accept the next), which marks the item
 * `repeated` instead.
 *
 * @example
 * ```ts
 * import { parseExtensions } from "./extensions.ts";
 * parseExtensions('permessage-deflate; server_max_window_bits="10"')[0]!.params.get("server_max_window_bits"); // "10"
 * parseExtensions("permessage-deflate; a; a", true)[0]!.repeated; // true
 * ```
 */
export function parseExtensions(header: string, keepRepeated = false): ExtensionItem[] {
  const out: ExtensionItem[] = [];
  const n = header.length;
  let i = 0;
  const skipSpace = (): void => {
    while (i < n && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && isTchar(header.charCodeAt(i))) i++;
    if (i === start) bad(header, i);
    return header.slice(start, i);
  };
  for (;;) {
    skipSpace();
    if (i < n && header.charCodeAt(i) === 0x2c) { // empty list element
      i++;
      continue;
    }
    if (i >= n) break;
    const item: ExtensionItem = { name: token(), params: new Map() };
    skipSpace();
    while (i < n && header.charCodeAt(i) === 0x3b) { // ";"
      i++;
      skipSpace();
      const name = token();
      skipSpace();
      let value: string | true = true;
      if (i < n && header.charCodeAt(i) === 0x3d) { // "="
        i++;
        skipSpace();
        if (i < n && header.charCodeAt(i) === 0x22) {
          // quoted-string; RFC 6455 §9.1 requires its content to be a token.
          i++;
          let v = "";
          for (;;) {
            if (i >= n) bad(header, i);
            const c = header.charCodeAt(i);
            if (c === 0x22) break;
            if (c === 0x5c) {
              i++;
              if (i >= n) bad(header, i);
            }
            v += header[i];
            i++;
          }
          i++;
          for (let k = 0; k < v.length; k++) if (!isTchar(v.charCodeAt(k))) bad(header, i);
          if (v === "") bad(header, i);
          value = v;
        } else {
          value = token();
        }
        skipSpace();
      }
      if (!item.params.has(name)) item.params.set(name, value);
      else if (keepRepeated) item.repeated = true;
      else bad(header, i);
    }
    out.push(item);
    skipSpace();
    if (i >= n) break;
    if (header.charCodeAt(i) !== 0x2c) bad(header, i);
    i++;
  }
  return out;
}

/**
 * Formats extensions for a Sec-WebSocket-Extensions header.
 *
 * @example
 * ```ts
 * import { formatExtensions } from "./extensions.ts";
 * formatExtensions([{ name: "permessage-deflate", params: new Map([["server_max_window_bits", "10"]]) }]);
 * // "permessage-deflate; server_max_window_bits=10"
 * ```
 */
export function formatExtensions(items: readonly ExtensionItem[]): string {
  return items.map((item) => {
    let s = item.name;
    for (const [k, v] of item.params) s += v === true ? `; ${k}` : `; ${k}=${v}`;
    return s;
  }).join(", ");
}
