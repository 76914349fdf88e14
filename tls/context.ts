/**
 * `TLSContext`: one OpenSSL `SSL_CTX` with its role, protocol range,
 * ciphers, groups, certificate and key, trust store, verification and ALPN,
 * shared by any number of connections and freed exactly once.
 *
 * @example
 * ```ts
 * import { TLSContext } from "./context.ts";
 * using ctx = new TLSContext({ role: "client", alpn: ["h2", "http/1.1"] });
 * console.log(ctx.role, ctx.minVersion, ctx.verify); // client TLSv1.3 true
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { checkOptions } from "../core/options.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { cString, writePointer } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";
import { encodeALPN, selectALPN } from "./alpn.ts";
import { CTRL, EPHEMERAL_KX_NIDS, SSL_MODE, SSL_OP, SSL_TLSEXT_ERR, TLS_VERSION } from "./ctrl.ts";
import { clearErrors, tlsError } from "./errors.ts";
import {
  type ALPNMismatch, CONTEXT_KEYS, oneOf, optionalBoolean, optionalString,
  type TLSContextOptions, type TLSVersion,
} from "./options.ts";
import { setTrust } from "./trust.ts";
import { useCertificatePair } from "./certificate_pair.ts";
import { makeKeylogCallback } from "./keylog.ts";
import { makeServernameCallback, matchServername } from "./sni.ts";
import { normalizePins } from "./x509.ts";
import { TLSEXT_STATUSTYPE_OCSP } from "./ctrl.ts";
import { checkStaple, makeStapleCallback, type StaplePolicy } from "./ocsp.ts";
import { DEFAULT_OCSP_REFRESH_MS, StapleFile } from "./staple_file.ts";
import { useSCTs } from "./sct.ts";
import { configureServerSessions, SERVER_SESSION_KEYS, type SessionStats, sessionStats } from "./server_sessions.ts";
import type { TicketKeyRing } from "./ticket_keys.ts";
import { ktlsOption } from "./ktls.ts";

export type { ALPNMismatch, TLSContextOptions, TLSVersion } from "./options.ts";
export type { SessionStats } from "./server_sessions.ts";

interface Internals {
  ctx: Pointer | null;
  alpnCallback: NativeCallback | undefined;
  keylogCallback: NativeCallback | null;
  /** Connections made from this context that are still open. */
  users: number;
  /** Bare base64 SPKI pins, empty when unpinned. */
  pins: readonly string[];
  servernameCallback: NativeCallback | null;
  /** SNI contexts, each held (acquired and SSL_CTX_up_ref'd) until the last user is gone. */
  sni: Array<{ name: string; context: TLSContext; ctx: Pointer }>;
  /** Server: the session ticket key ring; null with tickets off (or OpenSSL's own key before 3.0). */
  ticketKeys: TicketKeyRing | null;
  /** Server: the OCSP response stapled when a client asks, null for none. */
  staple: Uint8Array | null;
  /** Server with `ocspResponseFile`: the file, re-read when it changed (until `setOCSPResponse` takes over). */
  stapleFile: StapleFile | null;
  stapleCallback: NativeCallback | null;
  /** Client: how a stapled OCSP response is checked; null when none is asked for. */
  staplePolicy: StaplePolicy | null;
}

const internals = new WeakMap<TLSContext, Internals>();
const VERSIONS: readonly TLSVersion[] = ["TLSv1.2", "TLSv1.3"];

/**
 * A TLS configuration: one `SSL_CTX`. Verification is on by default; the
 * protocol range defaults to TLS 1.3 only.
 *
 * @throws TypeError for bad options, TLSError when OpenSSL rejects one
 *   (an unknown cipher or group, unreadable PEM, a key that does not match)
 *
 * @example
 * ```ts
 * import { TLSContext } from "./context.ts";
 * const ctx = new TLSContext({ minVersion: "TLSv1.2", groups: ["X25519", "P-256"] });
 * ctx.close();
 * console.log(ctx.closed); // true
 * ```
 */
export class TLSContext {
  /** "client" or "server". */
  readonly role: "client" | "server";
  /** Lowest protocol version allowed. */
  readonly minVersion: TLSVersion;
  /** Highest protocol version allowed. */
  readonly maxVersion: TLSVersion;
  /** Whether the peer is verified (chain, and the host name on a client). */
  readonly verify: boolean;
  /** The ALPN offer (client) or preference (server); empty when unset. */
  readonly alpn: readonly string[];
  /** Whether connections ask for kernel TLS (`ktls` option). */
  readonly ktls: boolean;
  /** Whether a TLS 1.2 handshake without the extended master secret (RFC 7627) is refused. */
  readonly requireExtendedMasterSecret: boolean;

  /**
   * Creates the `SSL_CTX` and applies `options` (see {@link TLSContextOptions}).
   *
   * @example
   * ```ts
   * import { TLSContext } from "./context.ts";
   * using ctx = new TLSContext({ role: "client", ciphersuites: "TLS_AES_128_GCM_SHA256" });
   * ```
   */
  constructor(options: TLSContextOptions = {}) {
    checkOptions(options, CONTEXT_KEYS, "TLSContext");
    this.role = options.role === undefined ? "client" : oneOf(options.role, ["client", "server"], "role");
    this.minVersion = options.minVersion === undefined ? "TLSv1.3" : oneOf(options.minVersion, VERSIONS, "minVersion");
    this.maxVersion = options.maxVersion === undefined ? "TLSv1.3" : oneOf(options.maxVersion, VERSIONS, "maxVersion");
    if (TLS_VERSION[this.minVersion] > TLS_VERSION[this.maxVersion]) {
      throw new RangeError(`TLSContext: minVersion ${this.minVersion} is above maxVersion ${this.maxVersion}`);
    }
    this.verify = optionalBoolean(options.rejectUnauthorized, true, "rejectUnauthorized");
    this.alpn = options.alpn === undefined ? [] : [...options.alpn];
    this.ktls = ktlsOption(options.ktls, "ktls"); // "require": UnsupportedError without a kernel tls protocol
    this.requireExtendedMasterSecret = optionalBoolean(options.requireExtendedMasterSecret, false, "requireExtendedMasterSecret");
    const alpnWire = options.alpn === undefined ? undefined : encodeALPN(options.alpn);
    const mismatch: ALPNMismatch = options.alpnMismatch === undefined ? "fail" : oneOf(options.alpnMismatch, ["fail", "ignore"], "alpnMismatch");
    const requestCert = options.requestCert === "optional" ? "optional" : optionalBoolean(options.requestCert, false, "requestCert");
    const pins = options.pins === undefined ? [] : normalizePins(options.pins);
    const hasCert = options.cert !== undefined || options.certFile !== undefined;
    const hasKey = options.key !== undefined || options.keyFile !== undefined;
    if (this.role === "server" && (!hasCert || !hasKey)) throw new TypeError("TLSContext: a server needs cert (or certFile) and key (or keyFile)");
    if (hasCert !== hasKey) throw new TypeError("TLSContext: cert and key go together");
    if (options.certificates !== undefined && (!Array.isArray(options.certificates) || !hasCert)) {
      throw new TypeError("TLSContext: certificates is an array of further pairs beside cert and key");
    }

    const ssl = libssl();
    clearErrors();
    const ctx = ssl.SSL_CTX_new(this.role === "client" ? ssl.TLS_client_method() : ssl.TLS_server_method());
    if (ctx === null) throw tlsError("ERR_TLS", "SSL_CTX_new");
    const state: Internals = { ctx, alpnCallback: undefined, keylogCallback: null, users: 0, pins, servernameCallback: null, sni: [],
      ticketKeys: null, staple: null, stapleFile: null, stapleCallback: null, staplePolicy: null };
    try {
      ssl.SSL_CTX_set_options(ctx, SSL_OP.NO_COMPRESSION | SSL_OP.NO_RENEGOTIATION | (this.ktls ? SSL_OP.ENABLE_KTLS : 0n));
      ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_MODE, SSL_MODE.ACCEPT_MOVING_WRITE_BUFFER, null);
      if (ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_MIN_PROTO_VERSION, TLS_VERSION[this.minVersion], null) !== 1 ||
        ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_MAX_PROTO_VERSION, TLS_VERSION[this.maxVersion], null) !== 1) {
        throw tlsError("ERR_TLS_OPTION", "set protocol version range");
      }
      const ciphers = optionalString(options.ciphers, "ciphers");
      if (ciphers !== undefined && ssl.SSL_CTX_set_cipher_list(ctx, cString(ciphers)) !== 1) {
        throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_cipher_list", `ciphers ${JSON.stringify(ciphers)}`);
      }
      const suites = optionalString(options.ciphersuites, "ciphersuites");
      if (suites !== undefined && ssl.SSL_CTX_set_ciphersuites(ctx, cString(suites)) !== 1) {
        throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_ciphersuites", `ciphersuites ${JSON.stringify(suites)}`);
      }
      if (options.groups !== undefined) setGroups(ctx, options.groups);
      if (this.role === "server") {
        state.ticketKeys = configureServerSessions(ctx, options);
        state.staple = initialStaple(options);
        if (options.ocspResponseFile !== undefined) state.stapleFile = new StapleFile(options.ocspResponseFile, options.ocspRefreshMs ?? DEFAULT_OCSP_REFRESH_MS);
        // Installed on every server context, so a staple can be set later.
        state.stapleCallback = makeStapleCallback(() => state.stapleFile?.current() ?? state.staple);
        if (ssl.SSL_CTX_callback_ctrl(ctx, CTRL.SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, state.stapleCallback.pointer) !== 1) {
          throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_tlsext_status_cb");
        }
      } else {
        state.staplePolicy = clientSessionAndOCSP(ctx, options, this.verify);
      }
      if (hasCert) useCertificatePair(ctx, options, "cert");
      if (options.scts !== undefined) {
        if (this.role !== "server" || !hasCert) throw new TypeError("TLSContext: scts go with a server's cert and key");
        useSCTs(ctx, options.scts); // for `cert`, the pair loaded last
      }
      for (const [i, pair] of (options.certificates ?? []).entries()) useCertificatePair(ctx, pair, `certificates[${i}]`);
      setTrust(ctx, options, this.role, this.verify, requestCert);
      if (options.sni !== undefined) this.#setSNI(ctx, state, options.sni);
      if (options.keylog !== undefined) {
        state.keylogCallback = makeKeylogCallback(options.keylog);
        if (state.keylogCallback !== null) ssl.SSL_CTX_set_keylog_callback(ctx, state.keylogCallback.pointer);
      }
      if (alpnWire !== undefined) {
        if (this.role === "client") {
          // Returns 0 on success (unlike most of OpenSSL).
          if (ssl.SSL_CTX_set_alpn_protos(ctx, alpnWire, alpnWire.length) !== 0) throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_alpn_protos");
        } else {
          state.alpnCallback = makeALPNCallback(this.alpn, mismatch);
          ssl.SSL_CTX_set_alpn_select_cb(ctx, state.alpnCallback.pointer, null);
        }
      }
    } catch (err) {
      ssl.SSL_CTX_free(ctx);
      freeCallbacks(state);
      throw err;
    }
    internals.set(this, state);
  }

  #setSNI(ctx: Pointer, state: Internals, sni: NonNullable<TLSContextOptions["sni"]>): void {
    if (this.role !== "server") throw new TypeError("TLSContext: sni is a server option");
    if (sni === null || typeof sni !== "object") throw new TypeError("TLSContext: sni must be an object of server contexts by name");
    for (const [name, context] of Object.entries(sni)) {
      if (!(context instanceof TLSContext) || context.role !== "server" || context === this) throw new TypeError(`TLSContext: sni[${JSON.stringify(name)}] must be another server TLSContext`);
      if (name === "" || name.includes("\0")) throw new TypeError("TLSContext: sni names must be non-empty");
      const sub = acquireContext(context);
      libssl().SSL_CTX_up_ref(sub);
      state.sni.push({ name, context, ctx: sub });
    }
    const names = state.sni.map((e) => e.name);
    state.servernameCallback = makeServernameCallback((servername) => {
      const name = matchServername(servername, names);
      return state.sni.find((e) => e.name === name)?.ctx ?? null;
    });
    libssl().SSL_CTX_callback_ctrl(ctx, CTRL.SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, state.servernameCallback.pointer);
  }

  /**
   * Server: makes a new ticket key (random, or the 80 bytes given) for new
   * tickets; the previous `ticketKeysKept` keys still decrypt, older ones
   * are dropped (their tickets then get a full handshake).
   *
   * @throws TypeError on a client or with tickets off, UseAfterCloseError after close
   *
   * @example
   * ```ts ignore
   * server.rotateTicketKeys();
   * ```
   */
  rotateTicketKeys(key?: Uint8Array): void {
    const state = this.#open();
    if (state.ticketKeys === null) throw new TypeError("TLSContext: rotateTicketKeys needs a server context with session tickets (OpenSSL 3)");
    state.ticketKeys.rotate(key);
  }

  /**
   * Server: the DER OCSP response to staple from now on (null: none).
   *
   * @throws TypeError on a client or for bytes that are not DER, UseAfterCloseError after close
   *
   * @example
   * ```ts ignore
   * server.setOCSPResponse(freshResponse);
   * ```
   */
  setOCSPResponse(response: Uint8Array | null): void {
    const state = this.#open();
    if (this.role !== "server") throw new TypeError("TLSContext: setOCSPResponse is a server method");
    state.staple = response === null ? null : checkStaple(response);
    state.stapleFile = null; // set by hand from now on
  }

  /**
   * Server: the session cache counters (cached sessions, hits, misses, …).
   *
   * @example
   * ```ts ignore
   * console.log(server.sessionStats().hits);
   * ```
   */
  sessionStats(): SessionStats {
    return sessionStats(this.#open().ctx!);
  }

  #open(): Internals {
    const state = internals.get(this)!;
    if (state.ctx === null) throw new UseAfterCloseError("TLSContext");
    return state;
  }

  /** Whether {@link TLSContext.close} has run. */
  get closed(): boolean {
    return internals.get(this)!.ctx === null;
  }

  /**
   * Releases this context's reference to the `SSL_CTX` (open connections
   * keep theirs until they close). Idempotent.
   *
   * @example
   * ```ts
   * import { TLSContext } from "./context.ts";
   * const ctx = new TLSContext();
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

  /** Same as {@link TLSContext.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function freeCallbacks(state: Internals): void {
  state.alpnCallback?.close();
  state.alpnCallback = undefined;
  state.keylogCallback?.close();
  state.keylogCallback = null;
  state.servernameCallback?.close();
  state.servernameCallback = null;
  state.ticketKeys?.close();
  state.ticketKeys = null;
  state.stapleCallback?.close();
  state.stapleCallback = null;
  state.staple = null;
  state.stapleFile = null;
  for (const entry of state.sni.splice(0)) {
    libssl().SSL_CTX_free(entry.ctx);
    releaseContext(entry.context);
  }
}

/**
 * The live `SSL_CTX` for a new connection, counted until
 * {@link releaseContext}: callbacks stay alive while a connection may call them.
 *
 * @throws UseAfterCloseError when the context is closed
 *
 * @example
 * ```ts
 * import { TLSContext, acquireContext, releaseContext } from "./context.ts";
 * using ctx = new TLSContext();
 * const pointer = acquireContext(ctx);
 * releaseContext(ctx);
 * ```
 */
export function acquireContext(context: TLSContext): Pointer {
  const state = internals.get(context);
  if (state === undefined) throw new TypeError("not a TLSContext");
  if (state.ctx === null) throw new UseAfterCloseError("TLSContext");
  state.users++;
  return state.ctx;
}

/**
 * Ends a connection's use of its context (see {@link acquireContext}).
 *
 * @example
 * ```ts
 * import { TLSContext, acquireContext, releaseContext } from "./context.ts";
 * const ctx = new TLSContext();
 * acquireContext(ctx);
 * ctx.close();
 * releaseContext(ctx); // the last user: callbacks are freed now
 * ```
 */
export function releaseContext(context: TLSContext): void {
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
 * import { TLSContext, contextPins } from "./context.ts";
 * using ctx = new TLSContext();
 * console.log(contextPins(ctx)); // []
 * ```
 */
export function contextPins(context: TLSContext): readonly string[] {
  return internals.get(context)?.pins ?? [];
}

/**
 * How a client context checks stapled OCSP responses, null when it asks
 * for none.
 *
 * @example
 * ```ts
 * import { TLSContext, contextStaplePolicy } from "./context.ts";
 * using ctx = new TLSContext({ requireOCSP: true });
 * console.log(contextStaplePolicy(ctx)); // { required: true, verified: true }
 * ```
 */
export function contextStaplePolicy(context: TLSContext): StaplePolicy | null {
  return internals.get(context)?.staplePolicy ?? null;
}

function initialStaple(options: TLSContextOptions): Uint8Array | null {
  if (options.requestOCSP !== undefined || options.requireOCSP !== undefined) throw new TypeError("TLSContext: requestOCSP and requireOCSP are client options");
  if (options.ocspResponse !== undefined && options.ocspResponseFile !== undefined) throw new TypeError("TLSContext: pass ocspResponse or ocspResponseFile, not both");
  if (options.ocspRefreshMs !== undefined && options.ocspResponseFile === undefined) throw new TypeError("TLSContext: ocspRefreshMs goes with ocspResponseFile");
  if (options.ocspResponse !== undefined) return checkStaple(options.ocspResponse);
  if (options.ocspResponseFile === undefined) return null;
  optionalString(options.ocspResponseFile, "ocspResponseFile");
  return null; // read by the StapleFile
}

/** Refuses the server-only options on a client and sets up OCSP requests. */
function clientSessionAndOCSP(ctx: Pointer, options: TLSContextOptions, verify: boolean): StaplePolicy | null {
  for (const key of [...SERVER_SESSION_KEYS, "ocspResponse", "ocspResponseFile", "ocspRefreshMs"]) {
    if ((options as Record<string, unknown>)[key] !== undefined) throw new TypeError(`TLSContext: ${key} is a server option`);
  }
  const required = optionalBoolean(options.requireOCSP, false, "requireOCSP");
  if (!optionalBoolean(options.requestOCSP, required, "requestOCSP")) {
    if (required) throw new TypeError("TLSContext: requireOCSP needs requestOCSP");
    return null;
  }
  // SSL_CTX_set_tlsext_status_type is a macro: SSL_CTX_ctrl(SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_ocsp).
  if (libssl().SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_OCSP, null) !== 1) {
    throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_tlsext_status_type");
  }
  return { required, verified: verify };
}

function setGroups(ctx: Pointer, groups: readonly string[]): void {
  if (!Array.isArray(groups) || groups.length === 0 || groups.some((g) => typeof g !== "string" || g === "" || /[:\0]/.test(g))) {
    throw new TypeError("TLSContext: groups must be a non-empty array of group names");
  }
  const text = cString(groups.join(":"));
  // SSL_CTX_set1_groups_list is a macro: SSL_CTX_ctrl(SET_GROUPS_LIST, 0, char *).
  using buf = NativeBuffer.alloc(text.length);
  buf.bytes.set(text);
  if (libssl().SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_GROUPS_LIST, 0, buf.pointer) !== 1) {
    throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set1_groups_list", `groups ${JSON.stringify(groups)}`);
  }
}

/**
 * Whether the handshake in progress on `ssl` may carry HTTP/2 (RFC 9113
 * §9.2): TLS 1.3, or TLS 1.2 with an AEAD suite and an ephemeral key
 * exchange (Appendix A prohibits every other TLS 1.2 suite; below TLS 1.2
 * HTTP/2 is not allowed at all). Read inside the ALPN callback, after the
 * version and the suite were chosen.
 */
function h2Allowed(ssl: Pointer): boolean {
  const lib = libssl();
  const version = lib.SSL_version(ssl);
  if (version >= TLS_VERSION["TLSv1.3"]) return true;
  if (version !== TLS_VERSION["TLSv1.2"]) return false;
  const cipher = lib.SSL_get_pending_cipher(ssl);
  if (cipher === null) return false;
  return lib.SSL_CIPHER_is_aead(cipher) === 1 && EPHEMERAL_KX_NIDS.has(lib.SSL_CIPHER_get_kx_nid(cipher));
}

function makeALPNCallback(preference: readonly string[], mismatch: ALPNMismatch): NativeCallback {
  // Without h2, for a handshake whose version or suite HTTP/2 forbids: the
  // client then gets its next choice (http/1.1), as from a server without h2.
  const withoutH2 = preference.filter((p) => p !== "h2");
  // int cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
  //        const unsigned char *in, unsigned int inlen, void *arg)
  return native.callback(
    { args: ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"], result: "i32" },
    ((ssl: Pointer | null, out: Pointer | null, outlen: Pointer | null, offered: Pointer | null, inlen: number) => {
      try {
        if (ssl === null || out === null || outlen === null || offered === null || inlen === 0) return mismatch === "fail" ? SSL_TLSEXT_ERR.ALERT_FATAL : SSL_TLSEXT_ERR.NOACK;
        const wire = new Uint8Array(native.view(offered, inlen)).slice();
        const usable = withoutH2.length === preference.length || h2Allowed(ssl) ? preference : withoutH2;
        const choice = selectALPN(usable, wire);
        if (choice === null) return mismatch === "fail" ? SSL_TLSEXT_ERR.ALERT_FATAL : SSL_TLSEXT_ERR.NOACK;
        writePointer(new DataView(native.view(out, 8)), 0, native.offset(offered, choice.offset));
        new Uint8Array(native.view(outlen, 1))[0] = choice.length;
        return SSL_TLSEXT_ERR.OK;
      } catch {
        return SSL_TLSEXT_ERR.ALERT_FATAL; // never throw into C
      }
    }) as never,
  );
}
