/**
 * Extensible priorities (RFC 9218): the `priority` field and the
 * PRIORITY_UPDATE frame carry a Structured Field Dictionary with `u`
 * (urgency, 0..7, default 3) and `i` (incremental, default false).
 *
 * @module
 */

/** A parsed priority signal. */
export interface PrioritySignal {
  /** 0 (highest) .. 7 (lowest). */
  urgency: number;
  /** Whether the response may be processed incrementally. */
  incremental: boolean;
}

/**
 * Parses a Priority field value. Unknown keys and invalid members are
 * ignored as RFC 9218 §4 requires (a value that is not a dictionary gives
 * the defaults).
 *
 * @example
 * ```ts
 * import { parsePriority } from "./priority.ts";
 * parsePriority("u=1, i"); // { urgency: 1, incremental: true }
 * ```
 */
export function parsePriority(value: string): PrioritySignal {
  const out: PrioritySignal = { urgency: 3, incremental: false };
  for (const raw of value.split(",")) {
    const member = raw.trim();
    if (member === "") continue;
    const eq = member.indexOf("=");
    const key = (eq < 0 ? member : member.slice(0, eq)).split(";")[0]!.trim();
    const v = eq < 0 ? "?1" : member.slice(eq + 1).split(";")[0]!.trim();
    if (key === "u") {
      if (/^[0-7]$/.test(v)) out.urgency = Number(v);
    } else if (key === "i") {
      if (v === "?1") out.incremental = true;
      else if (v === "?0") out.incremental = false;
    }
  }
  return out;
}

/**
 * Serializes a priority signal, omitting defaults.
 *
 * @example
 * ```ts
 * import { formatPriority } from "./priority.ts";
 * formatPriority({ urgency: 1, incremental: true }); // "u=1, i"
 * ```
 */
export function formatPriority(p: PrioritySignal): string {
  const parts: string[] = [];
  if (p.urgency !== 3) parts.push(`u=${p.urgency}`);
  if (p.incremental) parts.push("i");
  return parts.join(", ");
}
