/**
 * The client session cache of a TLS connector: a later connection to the
 * same place resumes the session an earlier one got, as browsers, curl and
 * Node's `https.Agent` do (an abbreviated handshake: one round trip less
 * for TLS 1.2, no certificate chain sent or verified again).
 *
 * Each session is handed out once (RFC 8446 §C.4: a client should not use
 * a TLS 1.3 ticket twice, or its connections can be linked); the
 * connection that resumed it stores the session it gets in turn. Bounded:
 * at most `maxPlaces` places, `PER_PLACE` sessions each, the least
 * recently stored place dropped first.
 *
 * @module
 */

/** Sessions kept for one place (host, port, name verified): enough for a few connections opened together. */
const PER_PLACE = 4;

/**
 * A bounded map from a place to its resumable sessions (`tlsInfo(conn).session()` bytes).
 *
 * @example
 * ```ts
 * import { ClientSessionCache } from "./session_cache.ts";
 * const cache = new ClientSessionCache(100);
 * cache.store("example.com:443", new Uint8Array([1, 2, 3]));
 * console.log(cache.take("example.com:443")?.length); // 3
 * console.log(cache.take("example.com:443")); // undefined: each session goes once
 * ```
 */
export class ClientSessionCache {
  readonly #maxPlaces: number;
  /** Insertion order is recency: a place stored again moves to the end. */
  readonly #places = new Map<string, Uint8Array[]>();

  /** @param maxPlaces the most places kept (0: the cache keeps nothing). */
  constructor(maxPlaces: number) {
    if (!Number.isSafeInteger(maxPlaces) || maxPlaces < 0) {
      throw new RangeError(`ClientSessionCache: maxPlaces must be a non-negative integer, got ${maxPlaces}`);
    }
    this.#maxPlaces = maxPlaces;
  }

  /** How many places have sessions. */
  get size(): number {
    return this.#places.size;
  }

  /** The newest session stored for `place`, removed from the cache; undefined when none. */
  take(place: string): Uint8Array | undefined {
    const sessions = this.#places.get(place);
    if (sessions === undefined) return undefined;
    const session = sessions.pop();
    if (sessions.length === 0) this.#places.delete(place);
    return session;
  }

  /** Keeps `session` for `place` (the oldest of that place goes past {@link PER_PLACE}). */
  store(place: string, session: Uint8Array): void {
    if (this.#maxPlaces === 0) return;
    const sessions = this.#places.get(place) ?? [];
    this.#places.delete(place);
    sessions.push(session);
    if (sessions.length > PER_PLACE) sessions.shift();
    this.#places.set(place, sessions);
    if (this.#places.size > this.#maxPlaces) {
      const oldest = this.#places.keys().next().value as string;
      this.#places.delete(oldest);
    }
  }

  /** Forgets every session of `place` (a resumption that failed, say). */
  forget(place: string): void {
    this.#places.delete(place);
  }
}
