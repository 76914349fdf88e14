/**
 * `WWW-Authenticate` and `Proxy-Authenticate` parsing (RFC 9110 §11.2,
 * §11.6.1, §11.7.1): a field value is a comma-separated list of challenges,
 * each an auth-scheme followed by a token68 or by comma-separated
 * `name=value` parameters (token or quoted-string with `\` escapes), so
 * commas separate both challenges and parameters and the parser decides by
 * looking ahead for `=`. Bounded: field length, challenges per field and
 * parameters per challenge. Anything else is an `HTTPError` with code
 * `ERR_HTTP_AUTH_CHALLENGE`.
 *
 * @example
 * ```ts
 * import { parseAuthChallenges } from "./auth_challenge.ts";
 * const [basic, digest] = parseAuthChallenges('Basic realm="x", Digest realm="y", nonce="n", qop="auth,auth-int"');
 * console.log(basic?.scheme, digest?.params.get("qop")); // "basic" "auth,auth-int"
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";

/**
 * One challenge: the scheme lower-cased, and either a token68 or
 * parameters (names lower-cased, values unquoted).
 *
 * @example
 * ```ts
 * import type { ParsedChallenge } from "./auth_challenge.ts";
 * const c: ParsedChallenge = { scheme: "bearer", token68: null, params: new Map([["realm", "api"]]) };
 * ```
 */
export interface ParsedChallenge {
  /** The auth-scheme, lower-case. */
  scheme: string;
  /** The token68, when the challenge has one instead of parameters. */
  token68: string | null;
  /** Parameters by lower-case name, values unquoted. */
  params: Map<string, string>;
}

/**
 * Bounds of {@link parseAuthChallenges}.
 *
 * @example
 * ```ts
 * import { CHALLENGE_LIMITS } from "./auth_challenge.ts";
 * console.log(CHALLENGE_LIMITS.maxFieldLength); // 16384
 * ```
 */
export const CHALLENGE_LIMITS: Readonly<{ maxFieldLength: number; maxChallenges: number; maxParams: number }> = Object.freeze({
  maxFieldLength: 16384,
  maxChallenges: 32,
  maxParams: 64,
});

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;
const isControl = (c: string): boolean => (c.charCodeAt(0) < 0x20 && c !== "\t") || c === "\x7f";
const fail = (message: string) => new HTTPError("ERR_HTTP_AUTH_CHALLENGE", message);

/**
 * Parses one `WWW-Authenticate`/`Proxy-Authenticate` field value into its
 * challenges (empty list elements are skipped).
 *
 * @example
 * ```ts
 * import { parseAuthChallenges } from "./auth_challenge.ts";
 * parseAuthChallenges("Negotiate abc==")[0]?.token68; // "abc=="
 * ```
 */
export function parseAuthChallenges(value: string): ParsedChallenge[] {
  if (value.length > CHALLENGE_LIMITS.maxFieldLength) throw fail(`challenge field longer than ${CHALLENGE_LIMITS.maxFieldLength}`);
  const s = value;
  let i = 0;
  const ows = () => {
    while (s[i] === " " || s[i] === "\t") i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  // Skips OWS and commas; true when another element follows.
  const nextElement = (): boolean => {
    for (;;) {
      ows();
      if (s[i] !== ",") return i < s.length;
      i++;
    }
  };
  const out: ParsedChallenge[] = [];
  while (nextElement()) {
    const scheme = token();
    if (scheme === "") throw fail(`expected an auth-scheme at offset ${i}`);
    if (out.length >= CHALLENGE_LIMITS.maxChallenges) throw fail(`more than ${CHALLENGE_LIMITS.maxChallenges} challenges`);
    const challenge: ParsedChallenge = { scheme: scheme.toLowerCase(), token68: null, params: new Map() };
    out.push(challenge);
    if (i < s.length && s[i] !== " " && s[i] !== "\t" && s[i] !== ",") throw fail(`bad character after scheme at offset ${i}`);
    ows();
    // token68: its characters, then "="s, then the end of the element.
    let j = i;
    while (j < s.length && TOKEN68.test(s[j]!)) j++;
    const afterChars = j;
    while (s[j] === "=") j++;
    let k = j;
    while (s[k] === " " || s[k] === "\t") k++;
    if (afterChars > i && (k === s.length || s[k] === ",")) {
      // A parameter needs a value after "=", so this is a token68.
      challenge.token68 = s.slice(i, j);
      i = k;
      continue;
    }
    // auth-params, while the next element is `token BWS "="`.
    for (;;) {
      const mark = i;
      const name = token();
      ows();
      if (name === "" || s[i] !== "=") {
        i = mark;
        break;
      }
      i++;
      ows();
      let paramValue: string;
      if (s[i] === '"') {
        i++;
        paramValue = "";
        for (;;) {
          if (i >= s.length) throw fail("unterminated quoted-string");
          const c = s[i]!;
          if (c === '"') {
            i++;
            break;
          }
          if (c === "\\") {
            if (i + 1 >= s.length) throw fail("unterminated quoted-pair");
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            if (isControl(s[i + 1]!)) throw fail(`control character in quoted-pair at offset ${i + 1}`);
            paramValue += s[i + 1];
            i += 2;
            continue;
          }
          if (isControl(c)) throw fail(`control character in quoted-string at offset ${i}`);
          paramValue += c;
          i++;
        }
      } else {
        paramValue = token();
        if (paramValue === "") throw fail(`expected a parameter value at offset ${i}`);
      }
      const key = name.toLowerCase();
      if (challenge.params.has(key)) throw fail(`parameter ${key} repeated`);
      if (challenge.params.size >= CHALLENGE_LIMITS.maxParams) throw fail(`more than ${CHALLENGE_LIMITS.maxParams} parameters`);
      challenge.params.set(key, paramValue);
      ows();
      if (i >= s.length) break;
      if (s[i] !== ",") throw fail(`expected "," at offset ${i}`);
      // Past the comma(s): another parameter, or the next challenge.
      while (s[i] === "," || s[i] === " " || s[i] === "\t") i++;
    }
    if (challenge.params.size === 0 && i < s.length && s[i] !== ",") throw fail(`unexpected text after scheme at offset ${i}`);
  }
  return out;
}
