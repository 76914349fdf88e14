/**
 * A response body that is a range of a file on disk: `serveStatic` marks
 * the stream it answers a large file with, so the HTTP/1.1 writer can have
 * the kernel send the range straight from the file (sendfile) on a plain
 * connection instead of reading it through the stream. Over TLS, or when
 * the file changed since it was looked at, the stream is read as before.
 *
 * @example
 * ```ts
 * import { fileBodyOf, markFileBody } from "./file_body.ts";
 * const stream = markFileBody(new ReadableStream(), { path: "/srv/a.bin", size: 10, mtimeMs: 0, start: 0, length: 10 });
 * console.log(fileBodyOf(stream)?.length); // 10
 * ```
 *
 * @module
 */
import { closeFile, fileStat, openFileRead } from "../../ffi/file.ts";

/**
 * The file range a body stream stands for, and what the file looked like
 * when the response was made (so a changed file is not sent).
 *
 * @example
 * ```ts
 * import type { FileBody } from "./file_body.ts";
 * const f: FileBody = { path: "/srv/a.bin", size: 10, mtimeMs: 0, start: 2, length: 8 };
 * ```
 */
export interface FileBody {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly start: number;
  readonly length: number;
}

const files = new WeakMap<ReadableStream<Uint8Array>, FileBody>();

/**
 * Marks `stream` as the bytes of `file`; returns the stream.
 *
 * @example
 * ```ts
 * import { markFileBody } from "./file_body.ts";
 * markFileBody(new ReadableStream(), { path: "/srv/a.bin", size: 1, mtimeMs: 0, start: 0, length: 1 });
 * ```
 */
export function markFileBody(stream: ReadableStream<Uint8Array>, file: FileBody): ReadableStream<Uint8Array> {
  files.set(stream, file);
  return stream;
}

/**
 * The file range `stream` was marked with, while nobody has started
 * reading it; undefined otherwise.
 *
 * @example
 * ```ts
 * import { fileBodyOf } from "./file_body.ts";
 * console.log(fileBodyOf(new ReadableStream())); // undefined
 * ```
 */
export function fileBodyOf(stream: ReadableStream<Uint8Array>): FileBody | undefined {
  const file = files.get(stream);
  return file === undefined || stream.locked ? undefined : file;
}

/**
 * Opens the file of `file` for sending: its descriptor, or null when it
 * cannot be opened or is not the file it was (size or modification time
 * changed). The caller closes it.
 *
 * @example
 * ```ts
 * import { openFileBody } from "./file_body.ts";
 * console.log(openFileBody({ path: "/nonexistent", size: 1, mtimeMs: 0, start: 0, length: 1 })); // null
 * ```
 */
export function openFileBody(file: FileBody): number | null {
  const fd = openFileRead(file.path);
  if (fd === null) return null;
  try {
    const now = fileStat(fd);
    if (now.kind === "file" && now.size === file.size && now.mtimeMs === file.mtimeMs) return fd;
  } catch {
    // not statable: read through the stream instead
  }
  closeFile(fd);
  return null;
}
