/**
 * libssl (OpenSSL 3, falling back to 1.1): the TLS/DTLS symbols, loaded
 * lazily on first use — importing ffinet never loads it unless TLS is used.
 * `FFINET_LIBSSL` overrides the path. Loading it initialises OpenSSL with
 * `OPENSSL_INIT_NO_ATEXIT` before any other call (see `libcrypto.ts`).
 *
 * @example
 * ```ts
 * import { libssl } from "./libssl.ts";
 * const ctx = libssl().SSL_CTX_new(libssl().TLS_client_method());
 * libssl().SSL_CTX_free(ctx);
 * ```
 *
 * @module
 */
import { OPENSSL_INIT_NO_ATEXIT } from "./libcrypto.ts";
import { defineLibrary, type LazyLibrary } from "./library.ts";

/**
 * The libssl symbol table (the TLS issue extends it).
 *
 * @example
 * ```ts
 * import { LIBSSL_SYMBOLS } from "./libssl.ts";
 * console.log(LIBSSL_SYMBOLS.TLS_method.result); // "pointer"
 * ```
 */
export const LIBSSL_SYMBOLS = {
  /** int OPENSSL_init_ssl(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings) */
  OPENSSL_init_ssl: { args: ["u64", "pointer"], result: "i32" },
  /** const SSL_METHOD *TLS_method(void) */
  TLS_method: { args: [], result: "pointer" },
  /** const SSL_METHOD *TLS_client_method(void) */
  TLS_client_method: { args: [], result: "pointer" },
  /** const SSL_METHOD *TLS_server_method(void) */
  TLS_server_method: { args: [], result: "pointer" },
  /** const SSL_METHOD *DTLS_method(void) */
  DTLS_method: { args: [], result: "pointer" },
  /** SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) */
  SSL_CTX_new: { args: ["pointer"], result: "pointer" },
  /** void SSL_CTX_free(SSL_CTX *ctx) */
  SSL_CTX_free: { args: ["pointer"], result: "void" },
  /** long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg) */
  SSL_CTX_ctrl: { args: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  /** int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file) */
  SSL_CTX_use_certificate_chain_file: { args: ["pointer", "buffer"], result: "i32" },
  /** int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type) */
  SSL_CTX_use_PrivateKey_file: { args: ["pointer", "buffer", "i32"], result: "i32" },
  /** int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *CAfile, const char *CApath) */
  SSL_CTX_load_verify_locations: { args: ["pointer", "buffer", "buffer"], result: "i32" },
  /** int SSL_CTX_set_default_verify_paths(SSL_CTX *ctx) */
  SSL_CTX_set_default_verify_paths: { args: ["pointer"], result: "i32" },
  /** void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb verify_callback) */
  SSL_CTX_set_verify: { args: ["pointer", "i32", "function"], result: "void" },
  /** int SSL_CTX_set_alpn_protos(SSL_CTX *ctx, const unsigned char *protos, unsigned int protos_len) */
  SSL_CTX_set_alpn_protos: { args: ["pointer", "buffer", "u32"], result: "i32", bounds: [[1, 2]] },
  /** SSL *SSL_new(SSL_CTX *ctx) */
  SSL_new: { args: ["pointer"], result: "pointer" },
  /** void SSL_free(SSL *ssl) */
  SSL_free: { args: ["pointer"], result: "void" },
  /** int SSL_set_fd(SSL *ssl, int fd) */
  SSL_set_fd: { args: ["pointer", "i32"], result: "i32" },
  /** long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg) */
  SSL_ctrl: { args: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  /** int SSL_set1_host(SSL *s, const char *hostname) */
  SSL_set1_host: { args: ["pointer", "buffer"], result: "i32" },
  /** void SSL_set_hostflags(SSL *s, unsigned int flags) */
  SSL_set_hostflags: { args: ["pointer", "u32"], result: "void" },
  /** int SSL_connect(SSL *ssl) */
  SSL_connect: { args: ["pointer"], result: "i32" },
  /** int SSL_accept(SSL *ssl) */
  SSL_accept: { args: ["pointer"], result: "i32" },
  /** int SSL_do_handshake(SSL *ssl) */
  SSL_do_handshake: { args: ["pointer"], result: "i32" },
  /** int SSL_read(SSL *ssl, void *buf, int num) */
  SSL_read: { args: ["pointer", "buffer", "i32"], result: "i32", bounds: [[1, 2]] },
  /** int SSL_write(SSL *ssl, const void *buf, int num) */
  SSL_write: { args: ["pointer", "buffer", "i32"], result: "i32", bounds: [[1, 2]] },
  /** int SSL_get_error(const SSL *ssl, int ret) */
  SSL_get_error: { args: ["pointer", "i32"], result: "i32" },
  /** int SSL_shutdown(SSL *ssl) */
  SSL_shutdown: { args: ["pointer"], result: "i32" },
  /** long SSL_get_verify_result(const SSL *ssl) */
  SSL_get_verify_result: { args: ["pointer"], result: "i64" },
  /** void SSL_get0_alpn_selected(const SSL *ssl, const unsigned char **data, unsigned int *len) */
  SSL_get0_alpn_selected: { args: ["pointer", "buffer", "buffer"], result: "void" },
  /** int SSL_pending(const SSL *ssl) */
  SSL_pending: { args: ["pointer"], result: "i32" },
  /** uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options) (OpenSSL 3; a ctrl macro in 1.1) */
  SSL_CTX_set_options: { args: ["pointer", "u64"], result: "u64" },
  /** int SSL_CTX_set_cipher_list(SSL_CTX *ctx, const char *str) */
  SSL_CTX_set_cipher_list: { args: ["pointer", "buffer"], result: "i32" },
  /** int SSL_CTX_set_ciphersuites(SSL_CTX *ctx, const char *str) */
  SSL_CTX_set_ciphersuites: { args: ["pointer", "buffer"], result: "i32" },
  /** int SSL_CTX_use_certificate(SSL_CTX *ctx, X509 *x) */
  SSL_CTX_use_certificate: { args: ["pointer", "pointer"], result: "i32" },
  /** int SSL_CTX_use_serverinfo_ex(SSL_CTX *ctx, unsigned int version, const unsigned char *serverinfo, size_t serverinfo_length) — for the certificate set last (OpenSSL ≥ 1.1.1) */
  SSL_CTX_use_serverinfo_ex: { args: ["pointer", "u32", "buffer", "usize"], result: "i32", optional: true, bounds: [[2, 3]] },
  /** int SSL_CTX_use_PrivateKey(SSL_CTX *ctx, EVP_PKEY *pkey) */
  SSL_CTX_use_PrivateKey: { args: ["pointer", "pointer"], result: "i32" },
  /** int SSL_CTX_check_private_key(const SSL_CTX *ctx) */
  SSL_CTX_check_private_key: { args: ["pointer"], result: "i32" },
  /** X509_STORE *SSL_CTX_get_cert_store(const SSL_CTX *ctx) */
  SSL_CTX_get_cert_store: { args: ["pointer"], result: "pointer" },
  /** void SSL_CTX_set_alpn_select_cb(SSL_CTX *ctx, SSL_CTX_alpn_select_cb_func cb, void *arg) */
  SSL_CTX_set_alpn_select_cb: { args: ["pointer", "function", "pointer"], result: "void" },
  /** X509_VERIFY_PARAM *SSL_get0_param(SSL *ssl) */
  SSL_get0_param: { args: ["pointer"], result: "pointer" },
  /** const char *SSL_get_version(const SSL *ssl) */
  SSL_get_version: { args: ["pointer"], result: "pointer" },
  /** const SSL_CIPHER *SSL_get_current_cipher(const SSL *ssl) */
  SSL_get_current_cipher: { args: ["pointer"], result: "pointer" },
  /** const char *SSL_CIPHER_get_name(const SSL_CIPHER *cipher) */
  SSL_CIPHER_get_name: { args: ["pointer"], result: "pointer" },
  /** int SSL_version(const SSL *ssl): the protocol version (negotiated, or being negotiated inside a callback) */
  SSL_version: { args: ["pointer"], result: "i32" },
  /** const SSL_CIPHER *SSL_get_pending_cipher(const SSL *ssl): the suite chosen for the handshake in progress */
  SSL_get_pending_cipher: { args: ["pointer"], result: "pointer" },
  /** int SSL_CIPHER_is_aead(const SSL_CIPHER *c) */
  SSL_CIPHER_is_aead: { args: ["pointer"], result: "i32" },
  /** int SSL_CIPHER_get_kx_nid(const SSL_CIPHER *c): NID_kx_* of the key exchange */
  SSL_CIPHER_get_kx_nid: { args: ["pointer"], result: "i32" },
  /** X509 *SSL_get1_peer_certificate(const SSL *ssl) (OpenSSL 3) */
  SSL_get1_peer_certificate: { args: ["pointer"], result: "pointer", optional: true },
  /** X509 *SSL_get_peer_certificate(const SSL *ssl) (OpenSSL 1.1; a macro in 3) */
  SSL_get_peer_certificate: { args: ["pointer"], result: "pointer", optional: true },
  /** int SSL_session_reused(const SSL *ssl) */
  SSL_session_reused: { args: ["pointer"], result: "i32" },
  /** STACK_OF(X509) *SSL_get0_verified_chain(const SSL *s) — not owned by the caller */
  SSL_get0_verified_chain: { args: ["pointer"], result: "pointer" },
  /** const char *SSL_group_to_name(SSL *s, int id) (OpenSSL 3) */
  SSL_group_to_name: { args: ["pointer", "i32"], result: "pointer", optional: true },
  /** void SSL_CTX_set_keylog_callback(SSL_CTX *ctx, SSL_CTX_keylog_cb_func cb) */
  SSL_CTX_set_keylog_callback: { args: ["pointer", "function"], result: "void" },
  /** SSL_SESSION *SSL_get1_session(SSL *ssl) */
  SSL_get1_session: { args: ["pointer"], result: "pointer" },
  /** int SSL_SESSION_is_resumable(const SSL_SESSION *s) */
  SSL_SESSION_is_resumable: { args: ["pointer"], result: "i32" },
  /** int i2d_SSL_SESSION(const SSL_SESSION *in, unsigned char **pp) */
  i2d_SSL_SESSION: { args: ["pointer", "buffer"], result: "i32" },
  /** SSL_SESSION *d2i_SSL_SESSION(SSL_SESSION **a, const unsigned char **pp, long length) */
  d2i_SSL_SESSION: { args: ["pointer", "buffer", "i64"], result: "pointer" },
  /** X509 *SSL_SESSION_get0_peer(SSL_SESSION *s): the peer's certificate, not owned by the caller (NULL: none) */
  SSL_SESSION_get0_peer: { args: ["pointer"], result: "pointer" },
  /** int SSL_set_session(SSL *to, SSL_SESSION *session) */
  SSL_set_session: { args: ["pointer", "pointer"], result: "i32" },
  /** void SSL_SESSION_free(SSL_SESSION *session) */
  SSL_SESSION_free: { args: ["pointer"], result: "void" },
  /** int SSL_peek(SSL *ssl, void *buf, int num) */
  SSL_peek: { args: ["pointer", "buffer", "i32"], result: "i32", bounds: [[1, 2]] },
  /** int SSL_CTX_set_session_id_context(SSL_CTX *ctx, const unsigned char *sid_ctx, unsigned int sid_ctx_len) */
  SSL_CTX_set_session_id_context: { args: ["pointer", "buffer", "u32"], result: "i32", bounds: [[1, 2]] },
  /** long SSL_CTX_callback_ctrl(SSL_CTX *ctx, int cmd, void (*fp)(void)) */
  SSL_CTX_callback_ctrl: { args: ["pointer", "i32", "function"], result: "i64" },
  /** int SSL_CTX_up_ref(SSL_CTX *ctx) */
  SSL_CTX_up_ref: { args: ["pointer"], result: "i32" },
  /** const char *SSL_get_servername(const SSL *s, const int type) */
  SSL_get_servername: { args: ["pointer", "i32"], result: "pointer" },
  /** SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx) */
  SSL_set_SSL_CTX: { args: ["pointer", "pointer"], result: "pointer" },
  /** int SSL_CTX_enable_ct(SSL_CTX *ctx, int validation_mode) */
  SSL_CTX_enable_ct: { args: ["pointer", "i32"], result: "i32", optional: true },
  /** int SSL_CTX_set_default_ctlog_list_file(SSL_CTX *ctx) */
  SSL_CTX_set_default_ctlog_list_file: { args: ["pointer"], result: "i32", optional: true },
  /** int SSL_CTX_set_ctlog_list_file(SSL_CTX *ctx, const char *path) */
  SSL_CTX_set_ctlog_list_file: { args: ["pointer", "buffer"], result: "i32", optional: true },
  /** int SSL_CTX_set_tlsext_ticket_key_evp_cb(SSL_CTX *ctx, int (*fp)(SSL *, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int enc)) (OpenSSL 3) */
  SSL_CTX_set_tlsext_ticket_key_evp_cb: { args: ["pointer", "function"], result: "i32", optional: true },
  /** long SSL_CTX_set_timeout(SSL_CTX *ctx, long t) — session lifetime in seconds; returns the previous one */
  SSL_CTX_set_timeout: { args: ["pointer", "i64"], result: "i64" },
  /** STACK_OF(X509) *SSL_get_peer_cert_chain(const SSL *s) — not owned by the caller; a client's includes the server's leaf */
  SSL_get_peer_cert_chain: { args: ["pointer"], result: "pointer" },
  /** SSL_CTX *SSL_get_SSL_CTX(const SSL *ssl) — not owned by the caller */
  SSL_get_SSL_CTX: { args: ["pointer"], result: "pointer" },
  /** const SSL_METHOD *DTLS_client_method(void) */
  DTLS_client_method: { args: [], result: "pointer" },
  /** const SSL_METHOD *DTLS_server_method(void) */
  DTLS_server_method: { args: [], result: "pointer" },
  /** int DTLSv1_listen(SSL *s, BIO_ADDR *client) — client may be a sockaddr_storage-sized buffer (BIO_ADDR is a sockaddr union) */
  DTLSv1_listen: { args: ["pointer", "buffer"], result: "i32" },
  /** void SSL_CTX_set_cookie_generate_cb(SSL_CTX *ctx, int (*cb)(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len)) */
  SSL_CTX_set_cookie_generate_cb: { args: ["pointer", "function"], result: "void" },
  /** void SSL_CTX_set_cookie_verify_cb(SSL_CTX *ctx, int (*cb)(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len)) */
  SSL_CTX_set_cookie_verify_cb: { args: ["pointer", "function"], result: "void" },
  /** void SSL_set_bio(SSL *s, BIO *rbio, BIO *wbio) — takes ownership (one reference when rbio == wbio) */
  SSL_set_bio: { args: ["pointer", "pointer", "pointer"], result: "void" },
  /** BIO *SSL_get_rbio(const SSL *s) — not owned by the caller */
  SSL_get_rbio: { args: ["pointer"], result: "pointer" },
  /** BIO *SSL_get_wbio(const SSL *s) — not owned by the caller */
  SSL_get_wbio: { args: ["pointer"], result: "pointer" },
  /** ossl_ssize_t SSL_sendfile(SSL *s, int fd, off_t offset, size_t size, int flags) (OpenSSL 3; kTLS send only) */
  SSL_sendfile: { args: ["pointer", "i32", "i64", "usize", "i32"], result: "i64", optional: true },
  /** uint64_t SSL_set_options(SSL *s, uint64_t op) (OpenSSL 3; a ctrl macro in 1.1) */
  SSL_set_options: { args: ["pointer", "u64"], result: "u64" },
  /** void SSL_set_read_ahead(SSL *s, int yes): read as much as the socket has, not record by record */
  SSL_set_read_ahead: { args: ["pointer", "i32"], result: "void" },
  /** int SSL_has_pending(const SSL *s): processed or unprocessed bytes wait in the SSL's buffers */
  SSL_has_pending: { args: ["pointer"], result: "i32" },
  /** void SSL_set_default_read_buffer_len(SSL *s, size_t len) */
  SSL_set_default_read_buffer_len: { args: ["pointer", "usize"], result: "void" },
  /** int SSL_get_ex_data_X509_STORE_CTX_idx(void): the store's ex_data index holding its SSL */
  SSL_get_ex_data_X509_STORE_CTX_idx: { args: [], result: "i32" },
  /** size_t DTLS_get_data_mtu(const SSL *s) — the largest application datagram that fits the MTU */
  DTLS_get_data_mtu: { args: ["pointer"], result: "usize" },
} as const;

/**
 * libssl, loaded on first call.
 *
 * @example
 * ```ts
 * import { libssl } from "./libssl.ts";
 * console.log(libssl.loaded); // false until first use
 * ```
 */
export const libssl: LazyLibrary<typeof LIBSSL_SYMBOLS> = defineLibrary({
  name: "libssl",
  env: "FFINET_LIBSSL",
  candidates: {
    linux: ["libssl.so.3", "libssl.so.1.1", "libssl.so"],
    darwin: [
      "libssl.3.dylib",
      "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib",
      "/usr/local/opt/openssl@3/lib/libssl.3.dylib",
      "libssl.dylib",
    ],
    "*": ["libssl.so.3", "libssl.so"],
  },
  hint: "install OpenSSL 3 (Debian: libssl3)",
  symbols: LIBSSL_SYMBOLS,
  afterLoad: (lib) => {
    // OPENSSL_init_ssl passes the options on to OPENSSL_init_crypto.
    lib.OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, null);
  },
});
