/**
 * Fuzz target for `WWW-Authenticate`/`Proxy-Authenticate`: the input, as
 * Latin-1 text, goes through `parseAuthChallenges` (only `HTTPError` with
 * code `ERR_HTTP_AUTH_CHALLENGE` may escape; the limits must hold), then
 * the challenges are formatted back (parameters quoted) and must parse to
 * the same; `HttpAuth.respond` must answer or decline without throwing,
 * and a Digest answer must parse as credentials.
 *
 * @module
 */
import { HTTPError } from "../core/errors.ts";
import { HttpAuth } from "../http/client/auth.ts";
import { CHALLENGE_LIMITS, type ParsedChallenge, parseAuthChallenges } from "../http/client/auth_challenge.ts";

function expected(e: unknown): boolean {
  return e instanceof HTTPError && e.code === "ERR_HTTP_AUTH_CHALLENGE";
}

function format(challenges: readonly ParsedChallenge[]): string {
  return challenges.map((c) => {
    if (c.token68 !== null) return `${c.scheme} ${c.token68}`;
    const params = [...c.params].map(([k, v]) => `${k}="${v.replace(/["\\]/g, "\\$&")}"`);
    return params.length === 0 ? c.scheme : `${c.scheme} ${params.join(", ")}`;
  }).join(", ");
}

const request = { method: "POST", url: new URL("http://a.test/p?q"), body: new Uint8Array([1, 2, 3]) };

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./auth_challenge.ts";
 * fuzz(new TextEncoder().encode('Digest realm="r", nonce="n", qop="auth"'));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  let text = "";
  for (let i = 0; i < data.length; i++) text += String.fromCharCode(data[i]!);
  let parsed: ParsedChallenge[];
  try {
    parsed = parseAuthChallenges(text);
  } catch (e) {
    if (!expected(e)) throw e;
    parsed = [];
  }
  if (parsed.length > CHALLENGE_LIMITS.maxChallenges) throw new Error("too many challenges kept");
  for (const c of parsed) {
    if (c.params.size > CHALLENGE_LIMITS.maxParams) throw new Error("too many parameters kept");
    if (c.scheme === "" || c.scheme !== c.scheme.toLowerCase()) throw new Error("bad scheme");
  }
  const formatted = format(parsed);
  if (formatted.length > CHALLENGE_LIMITS.maxFieldLength) return;
  const again = parseAuthChallenges(formatted);
  if (JSON.stringify(again.map((c) => [c.scheme, c.token68, [...c.params]])) !== JSON.stringify(parsed.map((c) => [c.scheme, c.token68, [...c.params]]))) {
    throw new Error("formatted challenges do not parse back");
  }
  const auth = new HttpAuth({ username: "u", password: "p", proxy: { username: "pu", password: "pp" }, cnonce: () => "c" });
  for (const status of [401, 407] as const) {
    for (const attempt of [0, 1]) {
      const value = auth.respond({ status, challenges: [text], request, attempt });
      if (value !== null && value.startsWith("Digest ")) {
        const [credentials] = parseAuthChallenges(value);
        if (credentials?.scheme !== "digest" || !credentials.params.has("response")) throw new Error("Digest credentials do not parse");
      }
    }
  }
}

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * Valid inputs that mutations start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./auth_challenge.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'),
  enc('Basic realm="simple", charset="UTF-8", Digest realm="x", nonce="n", stale=true, userhash=true, algorithm=SHA-512-256-sess'),
  enc("Negotiate abc+/==, Bearer realm=\"api\", error=\"invalid_token\", error_description=\"a \\\"quoted\\\" word\""),
  enc('Newauth realm="apps", type=1, title="Login", , Digest realm="r", nonce="n"'),
];
