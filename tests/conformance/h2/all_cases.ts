/**
 * Every conformance case: h2spec's list (cases.ts) and ours beyond it
 * (extra_cases.ts).
 *
 * @module
 */
import { type H2Case, H2SPEC_CASES } from "./cases.ts";
import { EXTRA_CASES } from "./extra_cases.ts";

/** h2spec's cases, then the extra ones. */
export const CASES: readonly H2Case[] = [...H2SPEC_CASES, ...EXTRA_CASES];
