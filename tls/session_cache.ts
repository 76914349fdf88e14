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
 * Order is the order of storing: `take` hands out a place's newest
 * session, and a session handed out but never sent (the plain connection
 * failed) is put back where it was, by when it was stored: not ahead of a
 * session stored meanwhile, and its place not made more recent than it was.
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
  /** Map order is recency: a place stored again moves to the end. Sessions oldest first. */
  readonly #places = new Map<string, Place>();
  /** When each session handed out and not yet put back was stored. */
  readonly #taken = new WeakMap<Uint8Array, number>();
  /** Counts stores: a session's stamp says when it was stored. */
  #clock = 0;

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
    const entry = this.#places.get(place);
    if (entry === undefined) return undefined;
    const taken = entry.sessions.pop();
    if (entry.sessions.length === 0) this.#places.delete(place);
    if (taken === undefined) return undefined;
    this.#taken.set(taken.session, taken.stamp);
    return taken.session;
  }

  /** Keeps `session` for `place` as its newest (the oldest of that place goes past {@link PER_PLACE}). */
  store(place: string, session: Uint8Array): void {
    if (this.#maxPlaces === 0) return;
    const stamp = ++this.#clock;
    const entry = this.#places.get(place) ?? { sessions: [], stamp };
    this.#places.delete(place);
    entry.sessions.push({ session, stamp });
    entry.stamp = stamp;
    if (entry.sessions.length > PER_PLACE) entry.sessions.shift();
    this.#places.set(place, entry);
    this.#bound();
  }

  /**
   * Puts back a session {@link take} handed out for `place` and that was
   * never sent: it goes where it was, by when it was stored, so a session
   * stored since stays ahead of it, and its place is no more recent than
   * before (it may then be the one dropped). A session this cache did not
   * hand out (or one put back already) is stored as {@link store} does.
   */
  putBack(place: string, session: Uint8Array): void {
    const stamp = this.#taken.get(session);
    if (stamp === undefined) return this.store(place, session);
    this.#taken.delete(session);
    if (this.#maxPlaces === 0) return;
    const entry = this.#places.get(place) ?? { sessions: [], stamp: 0 };
    let at = entry.sessions.length;
    while (at > 0 && entry.sessions[at - 1]!.stamp > stamp) at--;
    entry.sessions.splice(at, 0, { session, stamp });
    if (entry.sessions.length > PER_PLACE) entry.sessions.shift();
    if (stamp <= entry.stamp) return;
    // The place had no session stored since this one: it comes back at its old rank.
    entry.stamp = stamp;
    this.#places.delete(place);
    const places = [...this.#places];
    at = places.length;
    while (at > 0 && places[at - 1]![1].stamp > stamp) at--;
    places.splice(at, 0, [place, entry]);
    this.#places.clear();
    for (const [key, value] of places) this.#places.set(key, value);
    this.#bound();
  }

  /** Forgets every session of `place` (a resumption that failed, say). */
  forget(place: string): void {
    this.#places.delete(place);
  }

  /** Drops the least recently stored places past the bound. */
  #bound(): void {
    while (this.#places.size > this.#maxPlaces) {
      const oldest = this.#places.keys().next().value as string;
      this.#places.delete(oldest);
    }
  }
}

/** A place's sessions (oldest first, each with its store stamp) and when it was last stored to. */
interface Place {
  readonly sessions: { readonly session: Uint8Array; readonly stamp: number }[];
  stamp: number;
}
