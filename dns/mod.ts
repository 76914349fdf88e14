/**
 * ffinet's own DNS: the wire format (I/O-free), `/etc/hosts` and
 * `/etc/resolv.conf` parsers, a TTL cache and an asynchronous stub
 * resolver on the loop (`ffinet/dns`).
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeQuery, Resolver } from "./mod.ts";
 * const query = decodeMessage(encodeQuery({ id: 1, name: "example.com", type: "A" }));
 * console.log(query.questions[0]?.name, typeof Resolver); // "example.com" "function"
 * ```
 *
 * @module
 */
export { canonicalName, type DecodedName, decodeName, encodeName, labelsToName, MAX_LABEL_BYTES, MAX_NAME_BYTES, nameLabels } from "./name.ts";
export {
  decodeRecordData,
  type EdnsOption,
  encodeRecordData,
  type RecordData,
  type RecordTypeName,
  type ResourceRecord,
  RR_TYPE,
  type SvcParam,
  svcParams,
  type SvcParamsDecoded,
  typeName,
  typeNumber,
} from "./records.ts";
export {
  decodeMessage,
  type DecodeOptions,
  type DNSFlags,
  type DNSMessage,
  EDNS_UDP_PAYLOAD,
  type Edns,
  encodeMessage,
  encodeQuery,
  MAX_QUESTIONS,
  MAX_SECTION_RECORDS,
  type MessageInit,
  type QueryInit,
  type Question,
  randomQueryId,
  RCODE,
} from "./wire.ts";
export { MAX_MESSAGE_BYTES, WireWriter } from "./writer.ts";
export { type HostsTable, loadHosts, MAX_HOSTS_BYTES, MAX_HOSTS_ENTRIES, parseHosts } from "./hosts.ts";
export { DEFAULT_RESOLV_CONF, loadResolvConf, MAX_NAMESERVERS, MAX_RESOLV_CONF_BYTES, MAX_SEARCH_DOMAINS, parseResolvConf, type ResolvConf } from "./resolv_conf.ts";
export { type CacheHit, DNSCache, type DNSCacheOptions } from "./cache.ts";
// The clock type the options refer to (Loop is ffinet/poll's).
export type { Clock } from "../core/clock.ts";
export {
  defaultResolver,
  type LookupAddress,
  lookupHost,
  type LookupOptions,
  type DNSQueryOptions,
  resolveDNS,
  Resolver,
  type ResolverOptions,
  reverseLookup,
  reverseName,
  type ServerAddress,
} from "./resolver.ts";
export { dnsCollector } from "./dns_metrics.ts";
