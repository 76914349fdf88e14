/**
 * Key logging in the NSS key log format (what Wireshark reads): OpenSSL's
 * keylog callback appends each line to a file, or hands it to a function.
 * Off unless asked for; `true` means the file named by `SSLKEYLOGFILE`
 * (nothing when it is unset). The callback never throws into C.
 *
 * @example
 * ```ts
 * import { TLSContext } from "./context.ts";
 * const lines: string[] = [];
 * using ctx = new TLSContext({ keylog: (line) => lines.push(line) });
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { cString, readCString } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { C } from "../ffi/platform.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";

/** Where key log lines go: a file path, a function, or `true` for `SSLKEYLOGFILE`. */
export type KeylogTarget = string | true | ((line: string) => void);

const encoder = new TextEncoder();

function appendLine(path: string, line: string): void {
  const lib = libc();
  const fd = lib.open(cString(path), C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_CLOEXEC, 0o600);
  if (fd < 0) return; // a key log that cannot be written must not break the connection
  try {
    const bytes = encoder.encode(`${line}\n`);
    lib.write(fd, bytes, bytes.length);
  } finally {
    lib.close(fd);
  }
}

/**
 * The callback for `SSL_CTX_set_keylog_callback`, or null when there is
 * nowhere to write (keylog `true` without `SSLKEYLOGFILE`).
 *
 * @throws TypeError for a target that is neither a non-empty path, `true` nor a function
 *
 * @example
 * ```ts
 * import { makeKeylogCallback } from "./keylog.ts";
 * const cb = makeKeylogCallback(() => {});
 * cb?.close();
 * ```
 */
export function makeKeylogCallback(target: KeylogTarget): NativeCallback | null {
  let sink: (line: string) => void;
  if (typeof target === "function") sink = target;
  else if (target === true) {
    const path = native.env("SSLKEYLOGFILE");
    if (path === undefined || path === "") return null;
    sink = (line) => appendLine(path, line);
  } else if (typeof target === "string" && target !== "" && !target.includes("\0")) {
    sink = (line) => appendLine(target, line);
  } else {
    throw new TypeError("TLSContext: keylog must be a file path, true (SSLKEYLOGFILE) or a function");
  }
  // void keylog_cb(const SSL *ssl, const char *line)
  return native.callback({ args: ["pointer", "pointer"], result: "void" }, ((_ssl: Pointer | null, line: Pointer | null) => {
    try {
      if (line !== null) sink(readCString(line, 1024));
    } catch {
      // never throw into C
    }
  }) as never);
}
