/**
 * Publish/subscribe topics for server WebSockets, as Bun's: a socket
 * `subscribe`s to named topics, and `publish(topic, message)` sends the
 * message to every subscriber (the publisher itself left out unless
 * asked). A closed socket leaves all its topics.
 *
 * @example
 * ```ts
 * import { TopicHub } from "./pubsub.ts";
 * const got: string[] = [];
 * const hub = new TopicHub<{ send(m: string | Uint8Array): number }>();
 * const a = { send: (m: string | Uint8Array) => (got.push(`a:${m}`), 1) };
 * hub.subscribe(a, "news");
 * console.log(hub.publish("news", "hi"), got); // 1 [ "a:hi" ]
 * ```
 *
 * @module
 */

/** What a hub delivers to: anything with `send`. */
export interface Subscriber {
  /** Sends one message; returns 0 when it was dropped (other values count as delivered). */
  send(message: string | Uint8Array): number;
}

/**
 * Topics and their subscribers. See the module documentation.
 *
 * @example
 * ```ts
 * import { TopicHub } from "./pubsub.ts";
 * const hub = new TopicHub<{ send(m: string | Uint8Array): number }>();
 * const s = { send: () => 1 };
 * hub.subscribe(s, "t");
 * console.log(hub.subscriberCount("t"), hub.isSubscribed(s, "t")); // 1 true
 * hub.leaveAll(s);
 * console.log(hub.subscriberCount("t")); // 0
 * ```
 */
export class TopicHub<S extends Subscriber> {
  readonly #topics = new Map<string, Set<S>>();
  readonly #bySubscriber = new Map<S, Set<string>>();

  /** Adds `subscriber` to `topic`; false when it was subscribed already. */
  subscribe(subscriber: S, topic: string): boolean {
    if (typeof topic !== "string") throw new TypeError("subscribe: the topic must be a string");
    let set = this.#topics.get(topic);
    if (set === undefined) this.#topics.set(topic, set = new Set());
    if (set.has(subscriber)) return false;
    set.add(subscriber);
    let mine = this.#bySubscriber.get(subscriber);
    if (mine === undefined) this.#bySubscriber.set(subscriber, mine = new Set());
    mine.add(topic);
    return true;
  }

  /** Removes `subscriber` from `topic`; false when it was not subscribed. */
  unsubscribe(subscriber: S, topic: string): boolean {
    const set = this.#topics.get(topic);
    if (set === undefined || !set.delete(subscriber)) return false;
    if (set.size === 0) this.#topics.delete(topic);
    const mine = this.#bySubscriber.get(subscriber);
    mine?.delete(topic);
    if (mine?.size === 0) this.#bySubscriber.delete(subscriber);
    return true;
  }

  /** Whether `subscriber` is in `topic`. */
  isSubscribed(subscriber: S, topic: string): boolean {
    return this.#topics.get(topic)?.has(subscriber) ?? false;
  }

  /** The topics `subscriber` is in. */
  topicsOf(subscriber: S): string[] {
    return [...(this.#bySubscriber.get(subscriber) ?? [])];
  }

  /** How many subscribe to `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** Removes `subscriber` from every topic (on close). */
  leaveAll(subscriber: S): void {
    for (const topic of this.#bySubscriber.get(subscriber) ?? []) {
      const set = this.#topics.get(topic);
      set?.delete(subscriber);
      if (set?.size === 0) this.#topics.delete(topic);
    }
    this.#bySubscriber.delete(subscriber);
  }

  /** Sends `message` to every subscriber of `topic` but `except`; returns how many got it. */
  publish(topic: string, message: string | Uint8Array, except?: S): number {
    const set = this.#topics.get(topic);
    if (set === undefined) return 0;
    let count = 0;
    for (const subscriber of [...set]) {
      if (subscriber === except) continue;
      if (subscriber.send(message) !== 0) count++;
    }
    return count;
  }
}
