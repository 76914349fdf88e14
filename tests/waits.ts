/**
 * Bounded waits for the integration tests: a lost event fails the test
 * with what did come, instead of hanging the file until the runner's
 * timeout. They bound a wait; they assert no timing.
 *
 * @example
 * ```ts ignore
 * import { turns, within } from "./waits.ts";
 * const events: string[] = [];
 * await within(closed, "the close", events);
 * await turns(5);
 * ```
 *
 * @module
 */

/**
 * `promise`, or a failure naming `what` and the `events` seen so far after
 * `seconds` (default 20).
 *
 * @example
 * ```ts ignore
 * await within(conn.whenClosed, "the close", events, 10);
 * ```
 */
export function within<T>(promise: Promise<T>, what: string, events: readonly string[], seconds = 20): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${seconds} s; events: ${events.join(", ") || "none"}`)), seconds * 1000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once `done()` holds (checked each turn of the runtime's event
 * loop), or fails as {@link within} does.
 *
 * @example
 * ```ts ignore
 * await until(() => errors.length > 0, "the throw", events);
 * ```
 */
export function until(done: () => boolean, what: string, events: readonly string[], seconds = 20): Promise<void> {
  // The polling stops with the wait: left running after a failure, its
  // timers kept the test process alive until the runner's own timeout.
  let over = false;
  return within((async () => {
    while (!over && !done()) await turns(1);
  })(), what, events, seconds).finally(() => (over = true));
}

/**
 * `n` turns of the runtime's event loop (a 1 ms timer each).
 *
 * @example
 * ```ts ignore
 * await turns(5);
 * ```
 */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
}
