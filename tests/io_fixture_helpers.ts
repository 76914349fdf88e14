/**
 * Shared by the I/O-choice fixtures (io_default_fixture.ts,
 * uring_fixture_seccomp.ts) and their tests (io_default_test.ts,
 * uring_unavailable_test.ts): the fixture's echo through a fresh loop, and
 * the test's run of a fixture child that prints one JSON line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { runChild } from "./loop_helpers.ts";

/**
 * A listener and a connection on a loop of their own echo "ping", then all
 * three close; resolves with the I/O the listener took and what came back.
 * `io` is passed to the connection when given.
 *
 * @example
 * ```ts ignore
 * const { io, echoed } = await echoThroughLoop(); // e.g. { io: "readiness", echoed: "ping" }
 * ```
 */
export async function echoThroughLoop(io?: "uring" | "readiness"): Promise<{ io: string; echoed: string }> {
  const loop = new Loop();
  const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (conn, d) => conn.send(d) }, loop });
  const client = await connect({ host: "127.0.0.1", port: server.port, loop, ...(io === undefined ? {} : { io }) });
  await client.write(new TextEncoder().encode("ping"));
  const echoed = new TextDecoder().decode((await client.read())!);
  await client.close();
  server.close();
  loop.close();
  await loop.released();
  return { io: server.io, echoed };
}

/**
 * Runs `fixture` (a file in tests/) as a child with FFINET_IO set to `ffinetIo`
 * ("" counts as unset, so the parent's own does not leak in), asserts it
 * exited 0, and returns the JSON of its last stdout line with its stderr.
 *
 * @example
 * ```ts ignore
 * const { got, stderr } = await fixtureJson("io_default_fixture.ts", [], "uring");
 * ```
 */
export async function fixtureJson(fixture: string, args: string[], ffinetIo: string): Promise<{ got: Record<string, unknown>; stderr: string }> {
  const { code, stdout, stderr } = await runChild(fixture, args, 60_000, { FFINET_IO: ffinetIo, DENO_NO_UPDATE_CHECK: "1" });
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  return { got: JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>, stderr };
}
