// Child process for openssl_atexit_test.ts. It registers abort(3) as an
// OpenSSL stop handler (OPENSSL_atexit), which only OPENSSL_cleanup runs, and
// then ends normally: the process aborts if OpenSSL cleaned up at exit.
// mode "libssl": ffinet's libssl is the first OpenSSL use (SSL_CTX_new, …).
// mode "libcrypto": ffinet's libcrypto is.
// mode "default" (the control): libcrypto opened without ffinet's loader and
// initialised with the default options, which register the atexit handler.
import { bindSymbols } from "../ffi/library.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { native } from "../ffi/native.ts";

const mode = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);

const CRYPTO_TABLE = {
  /** int OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings) */
  OPENSSL_init_crypto: { args: ["u64", "pointer"], result: "i32" },
  /** int OPENSSL_atexit(void (*handler)(void)) */
  OPENSSL_atexit: { args: ["pointer"], result: "i32" },
} as const;
const DL_TABLE = {
  /** void *dlsym(void *handle, const char *symbol) */
  dlsym: { args: ["pointer", "buffer"], result: "pointer" },
  /** int setrlimit(int resource, const struct rlimit *rlim) */
  setrlimit: { args: ["i32", "buffer"], result: "i32" },
} as const;
const RLIMIT_CORE = 4; // Linux

let initResult = -1;
if (mode === "libssl") {
  const ssl = libssl();
  const ctx = ssl.SSL_CTX_new(ssl.TLS_client_method());
  ssl.SSL_CTX_free(ctx);
} else if (mode === "libcrypto") {
  const out = new Uint8Array(16);
  libcrypto().RAND_bytes(out, out.length);
}
// The same libcrypto that ffinet loaded (or the first candidate, unloaded).
const path = mode === "default" ? libcrypto.definition.candidates["linux"]![0]! : libcrypto.path();
const crypto = bindSymbols(native.open(path, CRYPTO_TABLE), CRYPTO_TABLE);
// OPENSSL_INIT_LOAD_CRYPTO_STRINGS: an init that does something (no options
// at all return at once and register nothing).
if (mode === "default") initResult = crypto.OPENSSL_init_crypto(0x2n, null);
const dl = bindSymbols(native.open("libc.so.6", DL_TABLE), DL_TABLE);
// The abort is the expected outcome of the control: no core file for it
// (struct rlimit: two zero rlim_t).
dl.setrlimit(RLIMIT_CORE, new Uint8Array(16));
// RTLD_DEFAULT is NULL on Linux.
const abort = dl.dlsym(null, new TextEncoder().encode("abort\0"));
const registered = abort === null ? 0 : crypto.OPENSSL_atexit(abort);
console.log(JSON.stringify({ mode, registered, initResult }));
