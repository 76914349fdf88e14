/**
 * Responses whose bodies `serve` cannot send, shared by the hostile server
 * tests over HTTP/1.1 and HTTP/2: a stream of non-byte chunks (a string, a
 * number), a stream that errors before any byte, a locked body and a used
 * one. Each path of {@link UNUSABLE_BODY_PATHS} answers one of them.
 *
 * @module
 */

/** The request paths {@link unusableBodyResponse} answers. */
export const UNUSABLE_BODY_PATHS = ["/string-chunk", "/number-chunk", "/errors-at-once", "/locked", "/used"] as const;

/**
 * The unusable response for `pathname` (one of {@link UNUSABLE_BODY_PATHS}),
 * or undefined for any other path.
 *
 * @example
 * ```ts ignore
 * const answer = unusableBodyResponse("/locked") ?? new Response("ok");
 * ```
 */
export function unusableBodyResponse(pathname: string): Response | Promise<Response> | undefined {
  switch (pathname) {
    case "/string-chunk":
      return new Response(new ReadableStream({ start: (c) => { c.enqueue("text" as unknown as Uint8Array); c.close(); } }));
    case "/number-chunk":
      return new Response(new ReadableStream({ start: (c) => { c.enqueue(7 as unknown as Uint8Array); c.close(); } }));
    case "/errors-at-once":
      return new Response(new ReadableStream({ start: (c) => c.error(new Error("no body")) }));
    case "/locked": {
      const r = new Response("locked");
      r.body!.getReader();
      return r;
    }
    case "/used":
      return (async () => {
        const r = new Response("used");
        await r.text();
        return r;
      })();
    default:
      return undefined;
  }
}
