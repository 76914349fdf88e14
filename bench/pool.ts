/**
 * ConnectionPool acquire/release and lookup against a plain `Map`-based pool
 * (a Map from key to an array of idle connections, and a Map from
 * connection to its key): the cost of the pool's bookkeeping (entries,
 * per-key idle sets, statistics) per operation. Members are in-memory
 * objects with a connection's closing surface; no I/O is measured.
 *
 * @module
 */
import { compare, finish } from "./harness.ts";
import { ConnectionPool, type PoolMember } from "../pool/pool.ts";

class Member implements PoolMember {
  closed = false;
  close(): void {
    this.closed = true;
  }
  abort(): void {
    this.closed = true;
  }
}

/** The peer: the smallest pool that does the same job. */
class MapPool {
  readonly idle = new Map<string, Member[]>();
  readonly keyOf = new Map<Member, string>();
  add(m: Member, key: string): void {
    this.keyOf.set(m, key);
  }
  get(key: string): Member | undefined {
    return this.idle.get(key)?.pop();
  }
  release(m: Member): void {
    const key = this.keyOf.get(m)!;
    let list = this.idle.get(key);
    if (list === undefined) this.idle.set(key, (list = []));
    list.push(m);
  }
}

const KEYS = 16;
const PER_KEY = 8;
const ours = new ConnectionPool<Member>({ maxConnections: KEYS * PER_KEY, cleanupIntervalMs: 0 });
const peer = new MapPool();
const members: Member[] = [];
for (let k = 0; k < KEYS; k++) {
  for (let i = 0; i < PER_KEY; i++) {
    const m = new Member();
    members.push(m);
    ours.add(m, `origin-${k}:443`);
    ours.release(m);
    peer.add(m, `origin-${k}:443`);
    peer.release(m);
  }
}
let k = 0;

await compare({ bench: "pool", case: "get + release (16 origins)" }, {
  ours: () => {
    const key = `origin-${k++ & 15}:443`;
    const m = ours.get(key)!;
    ours.release(m);
    return m;
  },
  peer: () => {
    const key = `origin-${k++ & 15}:443`;
    const m = peer.get(key)!;
    peer.release(m);
    return m;
  },
  peerName: "Map pool",
  unit: "ops/s",
});

let j = 0;
await compare({ bench: "pool", case: "lookup by connection" }, {
  ours: () => ours.entry(members[j++ & 127]!),
  peer: () => peer.keyOf.get(members[j++ & 127]!),
  peerName: "Map pool",
  unit: "ops/s",
});

finish();
