/**
 * HPACK, header compression for HTTP/2 (RFC 7541): encoder, decoder,
 * dynamic table, Huffman code and static table.
 *
 * @example
 * ```ts
 * import { HPACKDecoder, HPACKEncoder } from "./mod.ts";
 * const block = new HPACKEncoder().encode([":status", "200"]);
 * console.log(new HPACKDecoder().decode(block)); // [":status", "200"]
 * ```
 *
 * @module
 */
export { HPACK_LIST_TOO_LARGE, HPACKDecoder, type HPACKDecoderOptions } from "./decoder.ts";
export { HPACKEncoder, type HPACKEncoderOptions } from "./encoder.ts";
export { DynamicTable, ENTRY_OVERHEAD } from "./dynamic_table.ts";
export { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanEncodeWithin, type HuffmanScratch } from "./huffman.ts";
export { latin1Decode, latin1Encode } from "./latin1.ts";
export { HPACKStringCache, STRING_CACHE_KEY_MAX } from "./string_cache.ts";
export { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from "./static_table.ts";
