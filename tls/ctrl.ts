/**
 * OpenSSL numbers from the OpenSSL 3.0 headers: the `SSL_ctrl` /
 * `SSL_CTX_ctrl` commands behind the many "functions" that are macros
 * (`SSL_set_tlsext_host_name`, `SSL_CTX_set_min_proto_version`, …), option
 * and mode bits, verify modes, `SSL_get_error` results and the X509
 * verification error names. The header's name is beside each number.
 *
 * @example
 * ```ts
 * import { CTRL, TLS_VERSION } from "./ctrl.ts";
 * console.log(CTRL.SSL_CTRL_SET_TLSEXT_HOSTNAME, TLS_VERSION["TLSv1.3"]); // 55 772
 * ```
 *
 * @module
 */

/** `SSL_ctrl` / `SSL_CTX_ctrl` command numbers (ssl.h, tls1.h). */
export const CTRL = {
  /** SSL_CTX_sess_number: sessions in the server cache */
  SSL_CTRL_SESS_NUMBER: 20,
  /** SSL_CTX_sess_accept: handshakes started in server mode */
  SSL_CTRL_SESS_ACCEPT: 24,
  /** SSL_CTX_sess_hits: sessions resumed from the cache or a ticket */
  SSL_CTRL_SESS_HIT: 27,
  /** SSL_CTX_sess_misses: session ids not found in the cache */
  SSL_CTRL_SESS_MISSES: 29,
  /** SSL_CTX_sess_timeouts: sessions found but expired */
  SSL_CTRL_SESS_TIMEOUTS: 30,
  /** SSL_CTX_sess_cache_full: sessions dropped because the cache was full */
  SSL_CTRL_SESS_CACHE_FULL: 31,
  /** SSL_CTX_add_extra_chain_cert */
  SSL_CTRL_EXTRA_CHAIN_CERT: 14,
  /** SSL_CTX_set_mode / SSL_set_mode */
  SSL_CTRL_MODE: 33,
  /** SSL_CTX_sess_set_cache_size */
  SSL_CTRL_SET_SESS_CACHE_SIZE: 42,
  /** SSL_CTX_set_session_cache_mode */
  SSL_CTRL_SET_SESS_CACHE_MODE: 44,
  /** SSL_CTX_set_tlsext_servername_callback (through SSL_CTX_callback_ctrl) */
  SSL_CTRL_SET_TLSEXT_SERVERNAME_CB: 53,
  /** SSL_set_tlsext_host_name (larg TLSEXT_NAMETYPE_host_name = 0) */
  SSL_CTRL_SET_TLSEXT_HOSTNAME: 55,
  /** SSL_CTX_set_tlsext_status_cb (through SSL_CTX_callback_ctrl) */
  SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB: 63,
  /** SSL_CTX_set_tlsext_status_type / SSL_set_tlsext_status_type (larg TLSEXT_STATUSTYPE_ocsp) */
  SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE: 65,
  /** SSL_get_tlsext_status_ocsp_resp (parg unsigned char **; returns the length, -1 for none) */
  SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP: 70,
  /** SSL_set_tlsext_status_ocsp_resp (parg an OPENSSL_malloc'd buffer the SSL then owns, larg its length) */
  SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP: 71,
  /** SSL_CTX_add0_chain_cert (larg 0) / SSL_CTX_add1_chain_cert (larg 1) */
  SSL_CTRL_CHAIN_CERT: 89,
  /** SSL_CTX_set1_groups_list / SSL_set1_groups_list */
  SSL_CTRL_SET_GROUPS_LIST: 92,
  /** SSL_get_extms_support: 1 when the session used the extended master secret (RFC 7627), 0 when not, -1 during a handshake */
  SSL_CTRL_GET_EXTMS_SUPPORT: 122,
  /** SSL_CTX_set_min_proto_version */
  SSL_CTRL_SET_MIN_PROTO_VERSION: 123,
  /** SSL_CTX_set_max_proto_version */
  SSL_CTRL_SET_MAX_PROTO_VERSION: 124,
  /** SSL_CTX_get_min_proto_version */
  SSL_CTRL_GET_MIN_PROTO_VERSION: 130,
  /** SSL_CTX_get_max_proto_version */
  SSL_CTRL_GET_MAX_PROTO_VERSION: 131,
  /** SSL_get_negotiated_group */
  SSL_CTRL_GET_NEGOTIATED_GROUP: 134,
} as const;

/** `TLSEXT_NAMETYPE_host_name` (tls1.h). */
export const TLSEXT_NAMETYPE_HOST_NAME = 0;

/** Protocol version numbers (prov_ssl.h), by the names our options use. */
export const TLS_VERSION = {
  /** TLS1_2_VERSION */
  "TLSv1.2": 0x0303,
  /** TLS1_3_VERSION */
  "TLSv1.3": 0x0304,
} as const;

/**
 * `NID_kx_*` (obj_mac.h) of the key exchanges with ephemeral keys: ECDHE,
 * DHE and their PSK forms (RFC 9113 Appendix A lists every TLS 1.2 suite
 * without one, or without AEAD, as prohibited for HTTP/2).
 *
 * @example
 * ```ts
 * import { EPHEMERAL_KX_NIDS } from "./ctrl.ts";
 * console.log(EPHEMERAL_KX_NIDS.has(1037)); // false: NID_kx_rsa, a static RSA key exchange
 * ```
 */
export const EPHEMERAL_KX_NIDS: ReadonlySet<number> = new Set([
  1038, // NID_kx_ecdhe
  1039, // NID_kx_dhe
  1040, // NID_kx_ecdhe_psk
  1041, // NID_kx_dhe_psk
]);

/** `SSL_OP_*` option bits (ssl.h, OpenSSL 3.0). */
export const SSL_OP = {
  /** SSL_OP_NO_TICKET = SSL_OP_BIT(14): no stateless tickets (TLS 1.3 then issues stateful ones from the cache) */
  NO_TICKET: 1n << 14n,
  /** SSL_OP_NO_COMPRESSION = SSL_OP_BIT(17) */
  NO_COMPRESSION: 1n << 17n,
  /** SSL_OP_NO_RENEGOTIATION = SSL_OP_BIT(30) */
  NO_RENEGOTIATION: 1n << 30n,
  /** SSL_OP_ENABLE_KTLS = SSL_OP_BIT(3): hand the record layer to the kernel (Linux `tls` module) when it takes it */
  ENABLE_KTLS: 1n << 3n,
} as const;

/** kTLS `BIO_ctrl` commands of a socket BIO (bio.h; `BIO_get_ktls_send`/`BIO_get_ktls_recv` are macros over them, result > 0: active). */
export const BIO_KTLS_CTRL = {
  /** BIO_CTRL_GET_KTLS_SEND: BIO_get_ktls_send(b) */
  BIO_CTRL_GET_KTLS_SEND: 73,
  /** BIO_CTRL_GET_KTLS_RECV: BIO_get_ktls_recv(b) */
  BIO_CTRL_GET_KTLS_RECV: 76,
} as const;

/** `SSL_MODE_*` bits (ssl.h). */
export const SSL_MODE = {
  /** SSL_MODE_ENABLE_PARTIAL_WRITE */
  ENABLE_PARTIAL_WRITE: 0x1,
  /** SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER */
  ACCEPT_MOVING_WRITE_BUFFER: 0x2,
  /** SSL_MODE_AUTO_RETRY */
  AUTO_RETRY: 0x4,
} as const;

/** `SSL_VERIFY_*` modes (ssl.h). */
export const SSL_VERIFY = {
  /** SSL_VERIFY_NONE */
  NONE: 0x00,
  /** SSL_VERIFY_PEER */
  PEER: 0x01,
  /** SSL_VERIFY_FAIL_IF_NO_PEER_CERT */
  FAIL_IF_NO_PEER_CERT: 0x02,
} as const;

/** `SSL_get_error` results (ssl.h). */
export const SSL_ERROR = {
  /** SSL_ERROR_NONE */
  NONE: 0,
  /** SSL_ERROR_SSL */
  SSL: 1,
  /** SSL_ERROR_WANT_READ */
  WANT_READ: 2,
  /** SSL_ERROR_WANT_WRITE */
  WANT_WRITE: 3,
  /** SSL_ERROR_SYSCALL */
  SYSCALL: 5,
  /** SSL_ERROR_ZERO_RETURN */
  ZERO_RETURN: 6,
} as const;

/** ALPN select callback results (tls1.h). */
export const SSL_TLSEXT_ERR = {
  /** SSL_TLSEXT_ERR_OK */
  OK: 0,
  /** SSL_TLSEXT_ERR_ALERT_FATAL */
  ALERT_FATAL: 2,
  /** SSL_TLSEXT_ERR_NOACK */
  NOACK: 3,
} as const;

/** `X509_V_FLAG_*` verification flags (x509_vfy.h). */
export const X509_V_FLAG = {
  /** X509_V_FLAG_CRL_CHECK: check the leaf against its issuer's CRL */
  CRL_CHECK: 0x4,
  /** X509_V_FLAG_CRL_CHECK_ALL: check every certificate of the chain */
  CRL_CHECK_ALL: 0x8,
} as const;

/** `SSL_CT_VALIDATION_*` modes of `SSL_CTX_enable_ct` (ssl.h). */
export const SSL_CT_VALIDATION = {
  /** SSL_CT_VALIDATION_PERMISSIVE: SCTs are checked, the handshake never fails for them */
  PERMISSIVE: 0,
  /** SSL_CT_VALIDATION_STRICT: at least one valid SCT is required */
  STRICT: 1,
} as const;

/** `X509_V_OK` (x509_vfy.h). */
export const X509_V_OK = 0;

/** `SSL_SESS_CACHE_*` modes of `SSL_CTX_set_session_cache_mode` (ssl.h). */
export const SSL_SESS_CACHE = {
  /** SSL_SESS_CACHE_OFF */
  OFF: 0x0000,
  /** SSL_SESS_CACHE_SERVER */
  SERVER: 0x0002,
} as const;

/** `SSL_MAX_SID_CTX_LENGTH` (ssl.h): the longest session id context. */
export const SSL_MAX_SID_CTX_LENGTH = 32;

/** `TLSEXT_STATUSTYPE_ocsp` (tls1.h): the status_request type a client asks for. */
export const TLSEXT_STATUSTYPE_OCSP = 1;

/**
 * Session ticket key callback numbers (`SSL_CTX_set_tlsext_ticket_key_evp_cb`,
 * ssl.h / tls1.h / evp.h) and the `OSSL_PARAM` layout its MAC key is set
 * with (core.h, core_names.h).
 */
export const TICKET = {
  /** TLSEXT_KEYNAME_LENGTH: the key name at the head of a ticket */
  KEYNAME_LENGTH: 16,
  /** EVP_MAX_IV_LENGTH: the iv buffer OpenSSL passes */
  MAX_IV_LENGTH: 16,
  /** Callback result: the key name is unknown (decrypt) → full handshake */
  RESULT_NOT_FOUND: 0,
  /** Callback result: done */
  RESULT_OK: 1,
  /** Callback result (decrypt): done, and issue a fresh ticket under the current key */
  RESULT_RENEW: 2,
  /** Callback result: internal error */
  RESULT_ERROR: -1,
  /** OSSL_PARAM_UTF8_STRING */
  OSSL_PARAM_UTF8_STRING: 4,
  /** OSSL_PARAM_OCTET_STRING */
  OSSL_PARAM_OCTET_STRING: 5,
  /** sizeof(OSSL_PARAM) on LP64: key, data_type (+pad), data, data_size, return_size */
  OSSL_PARAM_SIZE: 40,
  /** OSSL_PARAM_UNMODIFIED: return_size before a call (SIZE_MAX) */
  OSSL_PARAM_UNMODIFIED: 0xffffffffffffffffn,
} as const;

/** OCSP numbers (ocsp.h). */
export const OCSP = {
  /** OCSP_RESPONSE_STATUS_SUCCESSFUL */
  RESPONSE_STATUS_SUCCESSFUL: 0,
  /** V_OCSP_CERTSTATUS_GOOD */
  CERTSTATUS_GOOD: 0,
  /** V_OCSP_CERTSTATUS_REVOKED */
  CERTSTATUS_REVOKED: 1,
  /** V_OCSP_CERTSTATUS_UNKNOWN */
  CERTSTATUS_UNKNOWN: 2,
  /** OCSP_NOVERIFY: check the response signature, not the signer's chain */
  NOVERIFY: 0x10,
  /** Clock skew allowed on thisUpdate/nextUpdate, seconds (OCSP_check_validity's nsec) */
  VALIDITY_SKEW_SECONDS: 300,
} as const;

/**
 * Names of the X509 verification errors (x509_vfy.h `X509_V_ERR_*`, prefix
 * dropped), by number: every one OpenSSL 3.0's header defines (the numbers
 * are the same in 1.1.1, which lacks some of the later ones). A number not
 * listed (a newer OpenSSL's) is named `X509_V_ERR_<n>`.
 */
export const X509_VERIFY_NAMES: Readonly<Record<number, string>> = {
  1: "UNSPECIFIED",
  2: "UNABLE_TO_GET_ISSUER_CERT",
  3: "UNABLE_TO_GET_CRL",
  4: "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  5: "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  6: "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  7: "CERT_SIGNATURE_FAILURE",
  8: "CRL_SIGNATURE_FAILURE",
  9: "CERT_NOT_YET_VALID",
  10: "CERT_HAS_EXPIRED",
  11: "CRL_NOT_YET_VALID",
  12: "CRL_HAS_EXPIRED",
  13: "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  14: "ERROR_IN_CERT_NOT_AFTER_FIELD",
  15: "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  16: "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  17: "OUT_OF_MEM",
  18: "DEPTH_ZERO_SELF_SIGNED_CERT",
  19: "SELF_SIGNED_CERT_IN_CHAIN",
  20: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  21: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  22: "CERT_CHAIN_TOO_LONG",
  23: "CERT_REVOKED",
  24: "NO_ISSUER_PUBLIC_KEY",
  25: "PATH_LENGTH_EXCEEDED",
  26: "INVALID_PURPOSE",
  27: "CERT_UNTRUSTED",
  28: "CERT_REJECTED",
  29: "SUBJECT_ISSUER_MISMATCH",
  30: "AKID_SKID_MISMATCH",
  31: "AKID_ISSUER_SERIAL_MISMATCH",
  32: "KEYUSAGE_NO_CERTSIGN",
  33: "UNABLE_TO_GET_CRL_ISSUER",
  34: "UNHANDLED_CRITICAL_EXTENSION",
  35: "KEYUSAGE_NO_CRL_SIGN",
  36: "UNHANDLED_CRITICAL_CRL_EXTENSION",
  37: "INVALID_NON_CA",
  38: "PROXY_PATH_LENGTH_EXCEEDED",
  39: "KEYUSAGE_NO_DIGITAL_SIGNATURE",
  40: "PROXY_CERTIFICATES_NOT_ALLOWED",
  41: "INVALID_EXTENSION",
  42: "INVALID_POLICY_EXTENSION",
  43: "NO_EXPLICIT_POLICY",
  44: "DIFFERENT_CRL_SCOPE",
  45: "UNSUPPORTED_EXTENSION_FEATURE",
  46: "UNNESTED_RESOURCE",
  47: "PERMITTED_VIOLATION",
  48: "EXCLUDED_VIOLATION",
  49: "SUBTREE_MINMAX",
  50: "APPLICATION_VERIFICATION",
  51: "UNSUPPORTED_CONSTRAINT_TYPE",
  52: "UNSUPPORTED_CONSTRAINT_SYNTAX",
  53: "UNSUPPORTED_NAME_SYNTAX",
  54: "CRL_PATH_VALIDATION_ERROR",
  55: "PATH_LOOP",
  56: "SUITE_B_INVALID_VERSION",
  57: "SUITE_B_INVALID_ALGORITHM",
  58: "SUITE_B_INVALID_CURVE",
  59: "SUITE_B_INVALID_SIGNATURE_ALGORITHM",
  60: "SUITE_B_LOS_NOT_ALLOWED",
  61: "SUITE_B_CANNOT_SIGN_P_384_WITH_P_256",
  62: "HOSTNAME_MISMATCH",
  63: "EMAIL_MISMATCH",
  64: "IP_ADDRESS_MISMATCH",
  65: "DANE_NO_MATCH",
  66: "EE_KEY_TOO_SMALL",
  67: "CA_KEY_TOO_SMALL",
  68: "CA_MD_TOO_WEAK",
  69: "INVALID_CALL",
  70: "STORE_LOOKUP",
  71: "NO_VALID_SCTS",
  72: "PROXY_SUBJECT_NAME_VIOLATION",
  73: "OCSP_VERIFY_NEEDED",
  74: "OCSP_VERIFY_FAILED",
  75: "OCSP_CERT_UNKNOWN",
  76: "UNSUPPORTED_SIGNATURE_ALGORITHM",
  77: "SIGNATURE_ALGORITHM_MISMATCH",
  78: "SIGNATURE_ALGORITHM_INCONSISTENCY",
  79: "INVALID_CA",
  80: "PATHLEN_INVALID_FOR_NON_CA",
  81: "PATHLEN_WITHOUT_KU_KEY_CERT_SIGN",
  82: "KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA",
  83: "ISSUER_NAME_EMPTY",
  84: "SUBJECT_NAME_EMPTY",
  85: "MISSING_AUTHORITY_KEY_IDENTIFIER",
  86: "MISSING_SUBJECT_KEY_IDENTIFIER",
  87: "EMPTY_SUBJECT_ALT_NAME",
  88: "EMPTY_SUBJECT_SAN_NOT_CRITICAL",
  89: "CA_BCONS_NOT_CRITICAL",
  90: "AUTHORITY_KEY_IDENTIFIER_CRITICAL",
  91: "SUBJECT_KEY_IDENTIFIER_CRITICAL",
  92: "CA_CERT_MISSING_KEY_USAGE",
  93: "EXTENSIONS_REQUIRE_VERSION_3",
  94: "EC_KEY_EXPLICIT_PARAMS",
};

/**
 * The name of an X509 verification error number.
 *
 * @example
 * ```ts
 * import { x509VerifyName } from "./ctrl.ts";
 * console.log(x509VerifyName(10)); // "CERT_HAS_EXPIRED"
 * ```
 */
export function x509VerifyName(code: number): string {
  return X509_VERIFY_NAMES[code] ?? `X509_V_ERR_${code}`;
}

/** DTLS `SSL_ctrl` commands (ssl.h) and version number (prov_ssl.h). */
export const DTLS_CTRL = {
  /** SSL_set_mtu (larg: the MTU for records, without IP/UDP headers) */
  SSL_CTRL_SET_MTU: 17,
  /** DTLSv1_get_timeout (parg: struct timeval *; returns 1 when a timer runs) */
  DTLS_CTRL_GET_TIMEOUT: 73,
  /** DTLSv1_handle_timeout (retransmits the last flight when the timer expired) */
  DTLS_CTRL_HANDLE_TIMEOUT: 74,
  /** DTLS_set_link_mtu (larg: the link MTU, IP/UDP headers included) */
  DTLS_CTRL_SET_LINK_MTU: 120,
  /** DTLS_get_link_min_mtu */
  DTLS_CTRL_GET_LINK_MIN_MTU: 121,
  /** DTLS1_2_VERSION, for SSL_CTX_set_min/max_proto_version */
  DTLS1_2_VERSION: 0xfefd,
  /** SSL_OP_NO_QUERY_MTU = SSL_OP_BIT(12): use the MTU set, not the kernel's */
  SSL_OP_NO_QUERY_MTU: 1n << 12n,
  /** DTLS1_COOKIE_LENGTH: the longest cookie (bytes) */
  DTLS1_COOKIE_LENGTH: 255,
} as const;

/** Datagram `BIO_ctrl` commands (bio.h). */
export const BIO_DGRAM_CTRL = {
  /** BIO_NOCLOSE: the BIO does not close its descriptor */
  BIO_NOCLOSE: 0,
  /** BIO_dgram_set_connected (parg: the peer's sockaddr; the fd is connected) */
  BIO_CTRL_DGRAM_SET_CONNECTED: 32,
  /** BIO_dgram_set_peer (parg: sockaddr) */
  BIO_CTRL_DGRAM_SET_PEER: 44,
  /** BIO_dgram_get_peer (parg: a sockaddr buffer; larg 0: the whole address; returns its size) */
  BIO_CTRL_DGRAM_GET_PEER: 46,
} as const;
