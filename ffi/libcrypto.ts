/**
 * libcrypto (OpenSSL 3, falling back to 1.1): digests, HMAC, random bytes
 * and constant-time helpers, loaded lazily; `FFINET_LIBCRYPTO` overrides.
 *
 * Loading it initialises OpenSSL with `OPENSSL_INIT_NO_ATEXIT` before any
 * other call (libssl does the same through `OPENSSL_init_ssl`): by default
 * OpenSSL registers `OPENSSL_cleanup` with atexit(3), which frees its global
 * state while the process's other threads may still use it. A runtime exits
 * with threads still running (a Worker, Deno's and Bun's helper threads,
 * Deno's thread per test file): a Deno process whose Workers were in
 * libcrypto when the main thread exited crashed in 3 of 15 runs, none with
 * the flag. The kernel reclaims the memory at exit anyway.
 *
 * @example
 * ```ts
 * import { libcrypto } from "./libcrypto.ts";
 * const out = new Uint8Array(16);
 * console.log(libcrypto().RAND_bytes(out, 16)); // 1
 * ```
 *
 * @module
 */
import { defineLibrary, type LazyLibrary } from "./library.ts";

/**
 * The libcrypto symbol table.
 *
 * @example
 * ```ts
 * import { LIBCRYPTO_SYMBOLS } from "./libcrypto.ts";
 * console.log(LIBCRYPTO_SYMBOLS.SHA1.args.length); // 3
 * ```
 */
export const LIBCRYPTO_SYMBOLS = {
  /** int OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings) */
  OPENSSL_init_crypto: { args: ["u64", "pointer"], result: "i32" },
  /** unsigned char *SHA1(const unsigned char *d, size_t n, unsigned char *md) */
  SHA1: { args: ["buffer", "usize", "buffer"], result: "pointer", bounds: [[0, 1]] },
  /** unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md) */
  SHA256: { args: ["buffer", "usize", "buffer"], result: "pointer", bounds: [[0, 1]] },
  /** const EVP_MD *EVP_sha1(void) */
  EVP_sha1: { args: [], result: "pointer" },
  /** const EVP_MD *EVP_sha256(void) */
  EVP_sha256: { args: [], result: "pointer" },
  /** EVP_MD_CTX *EVP_MD_CTX_new(void) */
  EVP_MD_CTX_new: { args: [], result: "pointer" },
  /** void EVP_MD_CTX_free(EVP_MD_CTX *ctx) */
  EVP_MD_CTX_free: { args: ["pointer"], result: "void" },
  /** int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl) */
  EVP_DigestInit_ex: { args: ["pointer", "pointer", "pointer"], result: "i32" },
  /** int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt) */
  EVP_DigestUpdate: { args: ["pointer", "buffer", "usize"], result: "i32", bounds: [[1, 2]] },
  /** int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s) */
  EVP_DigestFinal_ex: { args: ["pointer", "buffer", "buffer"], result: "i32" },
  /** unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len) */
  HMAC: { args: ["pointer", "buffer", "i32", "buffer", "usize", "buffer", "buffer"], result: "pointer", bounds: [[1, 2], [3, 4]] },
  /** HMAC_CTX *HMAC_CTX_new(void) — deprecated in 3.0, still exported */
  HMAC_CTX_new: { args: [], result: "pointer" },
  /** void HMAC_CTX_free(HMAC_CTX *ctx) */
  HMAC_CTX_free: { args: ["pointer"], result: "void" },
  /** int HMAC_Init_ex(HMAC_CTX *ctx, const void *key, int key_len, const EVP_MD *md, ENGINE *impl) */
  HMAC_Init_ex: { args: ["pointer", "buffer", "i32", "pointer", "pointer"], result: "i32", bounds: [[1, 2]] },
  /** int HMAC_Update(HMAC_CTX *ctx, const unsigned char *data, size_t len) */
  HMAC_Update: { args: ["pointer", "buffer", "usize"], result: "i32", bounds: [[1, 2]] },
  /** int HMAC_Final(HMAC_CTX *ctx, unsigned char *md, unsigned int *len) */
  HMAC_Final: { args: ["pointer", "buffer", "buffer"], result: "i32" },
  /** int RAND_bytes(unsigned char *buf, int num) */
  RAND_bytes: { args: ["buffer", "i32"], result: "i32", bounds: [[0, 1]] },
  /** int CRYPTO_memcmp(const void *a, const void *b, size_t len) */
  CRYPTO_memcmp: { args: ["buffer", "buffer", "usize"], result: "i32", bounds: [[0, 2], [1, 2]] },
  /** void OPENSSL_cleanse(void *ptr, size_t len) */
  OPENSSL_cleanse: { args: ["buffer", "usize"], result: "void", bounds: [[0, 1]] },
  /** unsigned long ERR_get_error(void) */
  ERR_get_error: { args: [], result: "u64" },
  /** void ERR_error_string_n(unsigned long e, char *buf, size_t len) */
  ERR_error_string_n: { args: ["u64", "buffer", "usize"], result: "void", bounds: [[1, 2]] },
  /** void ERR_clear_error(void) */
  ERR_clear_error: { args: [], result: "void" },
  /** unsigned long ERR_peek_error(void) — the oldest error left in the queue, 0 for none (the queue is kept) */
  ERR_peek_error: { args: [], result: "u64" },
  /** const BIO_METHOD *BIO_s_mem(void) */
  BIO_s_mem: { args: [], result: "pointer" },
  /** BIO *BIO_new(const BIO_METHOD *type) */
  BIO_new: { args: ["pointer"], result: "pointer" },
  /** BIO *BIO_new_file(const char *filename, const char *mode) */
  BIO_new_file: { args: ["buffer", "buffer"], result: "pointer" },
  /** int BIO_write(BIO *b, const void *data, int dlen) */
  BIO_write: { args: ["pointer", "buffer", "i32"], result: "i32", bounds: [[1, 2]] },
  /** int BIO_free(BIO *a) */
  BIO_free: { args: ["pointer"], result: "i32" },
  /** X509 *PEM_read_bio_X509(BIO *bp, X509 **x, pem_password_cb *cb, void *u) */
  PEM_read_bio_X509: { args: ["pointer", "pointer", "pointer", "pointer"], result: "pointer" },
  /** EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u) — u is the passphrase when cb is NULL */
  PEM_read_bio_PrivateKey: { args: ["pointer", "pointer", "pointer", "buffer"], result: "pointer" },
  /** void X509_free(X509 *a) */
  X509_free: { args: ["pointer"], result: "void" },
  /** void EVP_PKEY_free(EVP_PKEY *key) */
  EVP_PKEY_free: { args: ["pointer"], result: "void" },
  /** int i2d_X509(const X509 *a, unsigned char **out) */
  i2d_X509: { args: ["pointer", "buffer"], result: "i32" },
  /** int X509_STORE_add_cert(X509_STORE *xs, X509 *x) */
  X509_STORE_add_cert: { args: ["pointer", "pointer"], result: "i32" },
  /** int X509_check_host(X509 *x, const char *name, size_t namelen, unsigned int flags, char **peername) */
  X509_check_host: { args: ["pointer", "buffer", "usize", "u32", "pointer"], result: "i32", bounds: [[1, 2]] },
  /** int X509_check_ip_asc(X509 *x, const char *address, unsigned int flags) */
  X509_check_ip_asc: { args: ["pointer", "buffer", "u32"], result: "i32" },
  /** int X509_VERIFY_PARAM_set1_ip_asc(X509_VERIFY_PARAM *param, const char *ipasc) */
  X509_VERIFY_PARAM_set1_ip_asc: { args: ["pointer", "buffer"], result: "i32" },
  /** const char *X509_verify_cert_error_string(long n) */
  X509_verify_cert_error_string: { args: ["i64"], result: "pointer" },
  /** int X509_STORE_CTX_get_error(const X509_STORE_CTX *ctx) */
  X509_STORE_CTX_get_error: { args: ["pointer"], result: "i32" },
  /** int X509_STORE_CTX_get_error_depth(const X509_STORE_CTX *ctx) */
  X509_STORE_CTX_get_error_depth: { args: ["pointer"], result: "i32" },
  /** void X509_STORE_CTX_set_error(X509_STORE_CTX *ctx, int s) */
  X509_STORE_CTX_set_error: { args: ["pointer", "i32"], result: "void" },
  /** X509 *X509_STORE_CTX_get_current_cert(const X509_STORE_CTX *ctx) */
  X509_STORE_CTX_get_current_cert: { args: ["pointer"], result: "pointer" },
  /** X509_VERIFY_PARAM *X509_STORE_CTX_get0_param(const X509_STORE_CTX *ctx) */
  X509_STORE_CTX_get0_param: { args: ["pointer"], result: "pointer" },
  /** char *X509_VERIFY_PARAM_get0_host(X509_VERIFY_PARAM *param, int idx) (OpenSSL 3) */
  X509_VERIFY_PARAM_get0_host: { args: ["pointer", "i32"], result: "pointer", optional: true },
  /** int X509_get_ext_by_NID(const X509 *x, int nid, int lastpos) */
  X509_get_ext_by_NID: { args: ["pointer", "i32", "i32"], result: "i32" },
  /** int OPENSSL_sk_num(const OPENSSL_STACK *st) */
  OPENSSL_sk_num: { args: ["pointer"], result: "i32" },
  /** void *OPENSSL_sk_value(const OPENSSL_STACK *st, int i) */
  OPENSSL_sk_value: { args: ["pointer", "i32"], result: "pointer" },
  /** const char *OBJ_nid2sn(int n) */
  OBJ_nid2sn: { args: ["i32"], result: "pointer" },
  /** X509_CRL *PEM_read_bio_X509_CRL(BIO *bp, X509_CRL **x, pem_password_cb *cb, void *u) */
  PEM_read_bio_X509_CRL: { args: ["pointer", "pointer", "pointer", "pointer"], result: "pointer" },
  /** void X509_CRL_free(X509_CRL *a) */
  X509_CRL_free: { args: ["pointer"], result: "void" },
  /** int X509_STORE_add_crl(X509_STORE *ctx, X509_CRL *x) */
  X509_STORE_add_crl: { args: ["pointer", "pointer"], result: "i32" },
  /** int X509_STORE_set_flags(X509_STORE *ctx, unsigned long flags) */
  X509_STORE_set_flags: { args: ["pointer", "u64"], result: "i32" },
  /** X509 *d2i_X509_bio(BIO *bp, X509 **x509) */
  d2i_X509_bio: { args: ["pointer", "pointer"], result: "pointer" },
  /** EVP_PKEY *d2i_PrivateKey_bio(BIO *bp, EVP_PKEY **a) */
  d2i_PrivateKey_bio: { args: ["pointer", "pointer"], result: "pointer" },
  /** const EVP_CIPHER *EVP_aes_256_cbc(void) */
  EVP_aes_256_cbc: { args: [], result: "pointer" },
  /** int EVP_EncryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl, const unsigned char *key, const unsigned char *iv) */
  EVP_EncryptInit_ex: { args: ["pointer", "pointer", "pointer", "buffer", "buffer"], result: "i32" },
  /** int EVP_DecryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl, const unsigned char *key, const unsigned char *iv) */
  EVP_DecryptInit_ex: { args: ["pointer", "pointer", "pointer", "buffer", "buffer"], result: "i32" },
  /** int EVP_MAC_CTX_set_params(EVP_MAC_CTX *ctx, const OSSL_PARAM params[]) (OpenSSL 3) */
  EVP_MAC_CTX_set_params: { args: ["pointer", "pointer"], result: "i32", optional: true },
  /** void *CRYPTO_malloc(size_t num, const char *file, int line) — what OPENSSL_malloc expands to */
  CRYPTO_malloc: { args: ["usize", "buffer", "i32"], result: "pointer" },
  /** void CRYPTO_free(void *ptr, const char *file, int line) — what OPENSSL_free expands to */
  CRYPTO_free: { args: ["pointer", "buffer", "i32"], result: "void" },
  /** OCSP_RESPONSE *d2i_OCSP_RESPONSE(OCSP_RESPONSE **a, const unsigned char **in, long len) */
  d2i_OCSP_RESPONSE: { args: ["pointer", "buffer", "i64"], result: "pointer" },
  /** void OCSP_RESPONSE_free(OCSP_RESPONSE *a) */
  OCSP_RESPONSE_free: { args: ["pointer"], result: "void" },
  /** int OCSP_response_status(OCSP_RESPONSE *resp) */
  OCSP_response_status: { args: ["pointer"], result: "i32" },
  /** OCSP_BASICRESP *OCSP_response_get1_basic(OCSP_RESPONSE *resp) */
  OCSP_response_get1_basic: { args: ["pointer"], result: "pointer" },
  /** void OCSP_BASICRESP_free(OCSP_BASICRESP *a) */
  OCSP_BASICRESP_free: { args: ["pointer"], result: "void" },
  /** int OCSP_basic_verify(OCSP_BASICRESP *bs, STACK_OF(X509) *certs, X509_STORE *st, unsigned long flags) */
  OCSP_basic_verify: { args: ["pointer", "pointer", "pointer", "u64"], result: "i32" },
  /** OCSP_CERTID *OCSP_cert_to_id(const EVP_MD *dgst, const X509 *subject, const X509 *issuer) */
  OCSP_cert_to_id: { args: ["pointer", "pointer", "pointer"], result: "pointer" },
  /** void OCSP_CERTID_free(OCSP_CERTID *a) */
  OCSP_CERTID_free: { args: ["pointer"], result: "void" },
  /** int OCSP_resp_find_status(OCSP_BASICRESP *bs, OCSP_CERTID *id, int *status, int *reason, ASN1_GENERALIZEDTIME **revtime, ASN1_GENERALIZEDTIME **thisupd, ASN1_GENERALIZEDTIME **nextupd) */
  OCSP_resp_find_status: { args: ["pointer", "pointer", "buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  /** int OCSP_check_validity(ASN1_GENERALIZEDTIME *thisupd, ASN1_GENERALIZEDTIME *nextupd, long nsec, long maxsec) */
  OCSP_check_validity: { args: ["pointer", "pointer", "i64", "i64"], result: "i32" },
  /** const char *OCSP_crl_reason_str(long s) */
  OCSP_crl_reason_str: { args: ["i64"], result: "pointer" },
  /** BIO *BIO_new_dgram(int fd, int close_flag) */
  BIO_new_dgram: { args: ["i32", "i32"], result: "pointer" },
  /** long BIO_ctrl(BIO *bp, int cmd, long larg, void *parg) */
  BIO_ctrl: { args: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  /** void *X509_STORE_CTX_get_ex_data(const X509_STORE_CTX *ctx, int idx) */
  X509_STORE_CTX_get_ex_data: { args: ["pointer", "i32"], result: "pointer" },
  /** int BIO_read(BIO *b, void *data, int dlen) */
  BIO_read: { args: ["pointer", "buffer", "i32"], result: "i32", bounds: [[1, 2]] },
} as const;

/**
 * `OPENSSL_INIT_NO_ATEXIT` (OpenSSL 1.1.1b and later; older versions ignore
 * the bit): no `OPENSSL_cleanup` at exit. Only the first init call decides.
 *
 * @example
 * ```ts
 * import { libcrypto, OPENSSL_INIT_NO_ATEXIT } from "./libcrypto.ts";
 * console.log(libcrypto().OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, null)); // 1
 * ```
 */
export const OPENSSL_INIT_NO_ATEXIT = 0x0008_0000n;

/**
 * libcrypto, loaded on first call (see the module's note on its init).
 *
 * @example
 * ```ts
 * import { libcrypto } from "./libcrypto.ts";
 * const md = new Uint8Array(20);
 * libcrypto().SHA1(new Uint8Array(0), 0, md);
 * ```
 */
export const libcrypto: LazyLibrary<typeof LIBCRYPTO_SYMBOLS> = defineLibrary({
  name: "libcrypto",
  env: "FFINET_LIBCRYPTO",
  candidates: {
    linux: ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"],
    darwin: [
      "libcrypto.3.dylib",
      "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
      "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
      "libcrypto.dylib",
    ],
    "*": ["libcrypto.so.3", "libcrypto.so"],
  },
  hint: "install OpenSSL 3 (Debian: libssl3)",
  symbols: LIBCRYPTO_SYMBOLS,
  afterLoad: (lib) => {
    lib.OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, null);
  },
});
