/**
 * `DTLSContext`: one OpenSSL `SSL_CTX` for DTLS 1.2 (`DTLS_client_method` /
 * `DTLS_server_method`, the protocol pinned to DTLS 1.2), with the same
 * certificate, trust, verification, CRL, pin and keylog options as a
 * `TLSContext` and no ALPN. A server context carries the HMAC cookie
 * secrets and callbacks of the HelloVerifyRequest exchange. Shared by any
 * number of connections and freed exactly once.
 *
 * @example
 * ```ts
 * import { DTLSContext } from "./dtls_context.ts";
 * using ctx = new DTLSContext({ role: "client", rejectUnauthorized: false });
 * console.log(ctx.role, ctx.verify); // client false
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { checkOptions } from "../core/options.ts";
import { libssl } from "../ffi/libssl.ts";
import { cString } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";
import { useCertificatePair } from "./certificate_pair.ts";
import { CTRL, DTLS_CTRL, SSL_OP } from "./ctrl.ts";
import { type CookieCallbacks, type CookieStats, DTLSCookieSecrets, makeCookieCallbacks } from "./dtls_cookie.ts";
import { clearErrors, tlsError } from "./errors.ts";
import { makeKeylogCallback } from "./keylog.ts";
import { oneOf, optionalBoolean, optionalString, type TLSContextOptions } from "./options.ts";
import { setTrust } from "./trust.ts";
import { normalizePins } from "./x509.ts";

/** Options of `new DTLSContext(options)`: the TLS context options that apply to DTLS 1.2, plus the cookie rotation. */
export interface DTLSContextOptions extends
  Pick<
    TLSContextOptions,
    | "ciphers" | "groups" | "cert" | "certFile" | "key" | "keyFile" | "passphrase" | "certificates"
    | "ca" | "caFile" | "systemCA" | "rejectUnauthorized" | "requestCert" | "pins" | "keylog" | "crl" | "crlFile" | "crlCheck"
    | "requireExtendedMasterSecret"
  > {
  /** "client" (default) or "server". */
  readonly role?: "client" | "server";
  /**
   * Server: rotation period of the HMAC cookie secret in ms (default
   * 30 000). Cookies made under the previous secret are still accepted.
   */
  readonly cookieRotateMs?: number;
}

/** The keys of {@link DTLSContextOptions}. */
export const DTLS_CONTEXT_KEYS: ReadonlySet<string> = new Set([
  "role", "ciphers", "groups", "cert", "certFile", "key", "keyFile", "passphrase", "certificates",
  "ca", "caFile", "systemCA", "rejectUnauthorized", "requestCert", "pins", "keylog", "crl", "crlFile", "crlCheck", "cookieRotateMs",
  "requireExtendedMasterSecret",
]);

interface Internals {
  ctx: Pointer | null;
  users: number;
  pins: readonly string[];
  keylog: NativeCallback | null;
  cookies: CookieCallbacks | null;
  secrets: DTLSCookieSecrets | null;
}

const internals = new WeakMap<DTLSContext, Internals>();

/**
 * A DTLS 1.2 configuration. Verification is on by default, as for TLS.
 *
 * @throws TypeError for bad options, TLSError when OpenSSL rejects one
 *
 * @example
 * ```ts ignore
 * import { DTLSContext } from "./dtls_context.ts";
 * const server = new DTLSContext({ role: "server", cert: chainPem, key: keyPem });
 * ```
 */
export class DTLSContext {
  /** "client" or "server". */
  readonly role: "client" | "server";
  /** Whether the peer is verified (chain, and the host name on a client). */
  readonly verify: boolean;
  /** Whether a DTLS 1.2 handshake without the extended master secret (RFC 7627) is refused, as for TLS. */
  readonly requireExtendedMasterSecret: boolean;

  /**
   * Creates the `SSL_CTX` and applies `options`.
   *
   * @example
   * ```ts
   * import { DTLSContext } from "./dtls_context.ts";
   * using ctx = new DTLSContext({ ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" });
   * ```
   */
  constructor(options: DTLSContextOptions = {}) {
    checkOptions(options, DTLS_CONTEXT_KEYS, "DTLSContext");
    this.role = options.role === undefined ? "client" : oneOf(options.role, ["client", "server"], "role");
    this.verify = optionalBoolean(options.rejectUnauthorized, true, "rejectUnauthorized");
    this.requireExtendedMasterSecret = optionalBoolean(options.requireExtendedMasterSecret, false, "requireExtendedMasterSecret");
    const requestCert = optionalBoolean(options.requestCert, false, "requestCert");
    const pins = options.pins === undefined ? [] : normalizePins(options.pins);
    const hasCert = options.cert !== undefined || options.certFile !== undefined;
    const hasKey = options.key !== undefined || options.keyFile !== undefined;
    if (this.role === "server" && (!hasCert || !hasKey)) throw new TypeError("DTLSContext: a server needs cert (or certFile) and key (or keyFile)");
    if (hasCert !== hasKey) throw new TypeError("DTLSContext: cert and key go together");
    if (options.certificates !== undefined && (!Array.isArray(options.certificates) || !hasCert)) {
      throw new TypeError("DTLSContext: certificates is an array of further pairs beside cert and key");
    }
    if (options.cookieRotateMs !== undefined && this.role !== "server") throw new TypeError("DTLSContext: cookieRotateMs is a server option");
    const secrets = this.role === "server" ? new DTLSCookieSecrets({ ...(options.cookieRotateMs === undefined ? {} : { rotateMs: options.cookieRotateMs }) }) : null;

    const ssl = libssl();
    clearErrors();
    const ctx = ssl.SSL_CTX_new(this.role === "client" ? ssl.DTLS_client_method() : ssl.DTLS_server_method());
    if (ctx === null) throw tlsError("ERR_TLS", "SSL_CTX_new(DTLS)");
    const state: Internals = { ctx, users: 0, pins, keylog: null, cookies: null, secrets };
    try {
      ssl.SSL_CTX_set_options(ctx, SSL_OP.NO_COMPRESSION | SSL_OP.NO_RENEGOTIATION);
      if (ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_MIN_PROTO_VERSION, DTLS_CTRL.DTLS1_2_VERSION, null) !== 1 ||
        ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_MAX_PROTO_VERSION, DTLS_CTRL.DTLS1_2_VERSION, null) !== 1) {
        throw tlsError("ERR_TLS_OPTION", "set protocol version DTLS 1.2");
      }
      const ciphers = optionalString(options.ciphers, "ciphers");
      if (ciphers !== undefined && ssl.SSL_CTX_set_cipher_list(ctx, cString(ciphers)) !== 1) {
        throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_cipher_list", `ciphers ${JSON.stringify(ciphers)}`);
      }
      if (options.groups !== undefined) setGroups(ctx, options.groups);
      if (hasCert) useCertificatePair(ctx, options, "cert");
      for (const [i, pair] of (options.certificates ?? []).entries()) useCertificatePair(ctx, pair, `certificates[${i}]`);
      setTrust(ctx, options as TLSContextOptions, this.role, this.verify, requestCert);
      if (options.keylog !== undefined) {
        state.keylog = makeKeylogCallback(options.keylog);
        if (state.keylog !== null) ssl.SSL_CTX_set_keylog_callback(ctx, state.keylog.pointer);
      }
      if (secrets !== null) {
        state.cookies = makeCookieCallbacks(secrets);
        ssl.SSL_CTX_set_cookie_generate_cb(ctx, state.cookies.generate.pointer);
        ssl.SSL_CTX_set_cookie_verify_cb(ctx, state.cookies.verify.pointer);
      }
    } catch (err) {
      ssl.SSL_CTX_free(ctx);
      freeCallbacks(state);
      throw err;
    }
    internals.set(this, state);
  }

  /** Whether {@link DTLSContext.close} has run. */
  get closed(): boolean {
    return internals.get(this)!.ctx === null;
  }

  /**
   * Server: counters of the cookie exchange (cookies issued, accepted,
   * rejected); zeros on a client.
   *
   * @example
   * ```ts ignore
   * console.log(serverContext.cookieStats.issued);
   * ```
   */
  get cookieStats(): Readonly<CookieStats> {
    return { ...(internals.get(this)!.cookies?.stats ?? { issued: 0, accepted: 0, rejected: 0 }) };
  }

  /**
   * Server: rotates the cookie secret now (cookies under the secret before
   * the previous one stop verifying). Rotation also happens by itself every
   * `cookieRotateMs`.
   *
   * @example
   * ```ts ignore
   * serverContext.rotateCookieSecret();
   * ```
   */
  rotateCookieSecret(): void {
    const state = internals.get(this)!;
    if (state.ctx === null) throw new UseAfterCloseError("DTLSContext");
    if (state.secrets === null) throw new TypeError("DTLSContext: only a server has cookie secrets");
    state.secrets.rotate();
  }

  /**
   * Releases this context's reference to the `SSL_CTX` (open connections
   * keep theirs until they close). Idempotent.
   *
   * @example
   * ```ts
   * import { DTLSContext } from "./dtls_context.ts";
   * const ctx = new DTLSContext({ rejectUnauthorized: false });
   * ctx.close();
   * ctx.close(); // no effect
   * ```
   */
  close(): void {
    const state = internals.get(this)!;
    if (state.ctx === null) return;
    libssl().SSL_CTX_free(state.ctx);
    state.ctx = null;
    if (state.users === 0) freeCallbacks(state);
  }

  /** Same as {@link DTLSContext.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function freeCallbacks(state: Internals): void {
  state.keylog?.close();
  state.keylog = null;
  state.cookies?.close();
  state.cookies = null;
  state.secrets?.clear();
}

/**
 * The live `SSL_CTX` for a new connection (or listening `SSL`), counted
 * until {@link releaseDTLSContext}, so callbacks outlive every user.
 *
 * @throws UseAfterCloseError when the context is closed
 *
 * @example
 * ```ts
 * import { DTLSContext, acquireDTLSContext, releaseDTLSContext } from "./dtls_context.ts";
 * using ctx = new DTLSContext({ rejectUnauthorized: false });
 * acquireDTLSContext(ctx);
 * releaseDTLSContext(ctx);
 * ```
 */
export function acquireDTLSContext(context: DTLSContext): Pointer {
  const state = internals.get(context);
  if (state === undefined) throw new TypeError("not a DTLSContext");
  if (state.ctx === null) throw new UseAfterCloseError("DTLSContext");
  state.users++;
  return state.ctx;
}

/**
 * Ends one use begun by {@link acquireDTLSContext}.
 *
 * @example
 * ```ts
 * import { DTLSContext, acquireDTLSContext, releaseDTLSContext } from "./dtls_context.ts";
 * const ctx = new DTLSContext({ rejectUnauthorized: false });
 * acquireDTLSContext(ctx);
 * ctx.close();
 * releaseDTLSContext(ctx); // the last user: callbacks are freed now
 * ```
 */
export function releaseDTLSContext(context: DTLSContext): void {
  const state = internals.get(context);
  if (state === undefined || state.users === 0) return;
  state.users--;
  if (state.users === 0 && state.ctx === null) freeCallbacks(state);
}

/**
 * The context's SPKI pins (bare base64), empty when unpinned.
 *
 * @example
 * ```ts
 * import { DTLSContext, dtlsContextPins } from "./dtls_context.ts";
 * using ctx = new DTLSContext({ rejectUnauthorized: false });
 * console.log(dtlsContextPins(ctx)); // []
 * ```
 */
export function dtlsContextPins(context: DTLSContext): readonly string[] {
  return internals.get(context)?.pins ?? [];
}

function setGroups(ctx: Pointer, groups: readonly string[]): void {
  if (!Array.isArray(groups) || groups.length === 0 || groups.some((g) => typeof g !== "string" || g === "" || /[:\0]/.test(g))) {
    throw new TypeError("DTLSContext: groups must be a non-empty array of group names");
  }
  const text = cString(groups.join(":"));
  using buf = NativeBuffer.alloc(text.length);
  buf.bytes.set(text);
  if (libssl().SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_GROUPS_LIST, 0, buf.pointer) !== 1) {
    throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set1_groups_list", `groups ${JSON.stringify(groups)}`);
  }
}
