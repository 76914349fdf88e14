/**
 * HTTP status codes (RFC 9110 §15 and the IANA registry) with their reason
 * phrases, and the status classes.
 *
 * @example
 * ```ts
 * import { reasonPhrase, statusClass } from "./status.ts";
 * console.log(reasonPhrase(404), statusClass(503)); // "Not Found" "server-error"
 * ```
 *
 * @module
 */

/**
 * Registered status codes and their reason phrases.
 *
 * @example
 * ```ts
 * import { STATUS_REASONS } from "./status.ts";
 * console.log(STATUS_REASONS.get(431)); // "Request Header Fields Too Large"
 * ```
 */
export const STATUS_REASONS: ReadonlyMap<number, string> = new Map([
  [100, "Continue"],
  [101, "Switching Protocols"],
  [102, "Processing"],
  [103, "Early Hints"],
  [200, "OK"],
  [201, "Created"],
  [202, "Accepted"],
  [203, "Non-Authoritative Information"],
  [204, "No Content"],
  [205, "Reset Content"],
  [206, "Partial Content"],
  [207, "Multi-Status"],
  [208, "Already Reported"],
  [226, "IM Used"],
  [300, "Multiple Choices"],
  [301, "Moved Permanently"],
  [302, "Found"],
  [303, "See Other"],
  [304, "Not Modified"],
  [305, "Use Proxy"],
  [307, "Temporary Redirect"],
  [308, "Permanent Redirect"],
  [400, "Bad Request"],
  [401, "Unauthorized"],
  [402, "Payment Required"],
  [403, "Forbidden"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [406, "Not Acceptable"],
  [407, "Proxy Authentication Required"],
  [408, "Request Timeout"],
  [409, "Conflict"],
  [410, "Gone"],
  [411, "Length Required"],
  [412, "Precondition Failed"],
  [413, "Content Too Large"],
  [414, "URI Too Long"],
  [415, "Unsupported Media Type"],
  [416, "Range Not Satisfiable"],
  [417, "Expectation Failed"],
  [418, "I'm a teapot"],
  [421, "Misdirected Request"],
  [422, "Unprocessable Content"],
  [423, "Locked"],
  [424, "Failed Dependency"],
  [425, "Too Early"],
  [426, "Upgrade Required"],
  [428, "Precondition Required"],
  [429, "Too Many Requests"],
  [431, "Request Header Fields Too Large"],
  [451, "Unavailable For Legal Reasons"],
  [500, "Internal Server Error"],
  [501, "Not Implemented"],
  [502, "Bad Gateway"],
  [503, "Service Unavailable"],
  [504, "Gateway Timeout"],
  [505, "HTTP Version Not Supported"],
  [506, "Variant Also Negotiates"],
  [507, "Insufficient Storage"],
  [508, "Loop Detected"],
  [510, "Not Extended"],
  [511, "Network Authentication Required"],
]);

/**
 * The reason phrase of `status`, or "" for an unregistered code.
 *
 * @example
 * ```ts
 * import { reasonPhrase } from "./status.ts";
 * console.log(reasonPhrase(200)); // "OK"
 * ```
 */
export function reasonPhrase(status: number): string {
  return STATUS_REASONS.get(status) ?? "";
}

/** The five status classes of RFC 9110 §15. */
export type StatusClass = "informational" | "successful" | "redirection" | "client-error" | "server-error";

/**
 * The class of a status code (100–599); codes 600–999 are treated as server
 * errors, as RFC 9110 §15 tells clients to.
 *
 * @throws RangeError for a code outside 100–999.
 * @example
 * ```ts
 * import { statusClass } from "./status.ts";
 * console.log(statusClass(204)); // "successful"
 * ```
 */
export function statusClass(status: number): StatusClass {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`Invalid status code ${status}`);
  }
  if (status < 200) return "informational";
  if (status < 300) return "successful";
  if (status < 400) return "redirection";
  if (status < 500) return "client-error";
  return "server-error";
}

/**
 * Tells whether a response with this status never has content
 * (RFC 9110 §6.4.1: 1xx, 204, 304).
 *
 * @example
 * ```ts
 * import { isBodylessStatus } from "./status.ts";
 * console.log(isBodylessStatus(304), isBodylessStatus(200)); // true false
 * ```
 */
export function isBodylessStatus(status: number): boolean {
  return (status >= 100 && status < 200) || status === 204 || status === 304;
}

/**
 * Tells whether a status is a redirection that carries a Location
 * (301, 302, 303, 307, 308).
 *
 * @example
 * ```ts
 * import { isRedirectStatus } from "./status.ts";
 * console.log(isRedirectStatus(307)); // true
 * ```
 */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}
