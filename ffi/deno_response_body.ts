/**
 * Deno only: what a `Response` was made from (its string, bytes or Blob
 * body, its header list), read from Deno's private state without its
 * stream, and the marks that say when a byte body Deno copied may be freed.
 *
 * Deno (2.9) keeps a response's state under a symbol-keyed property
 * (description "response": `headerList`, and `body` with `source` and a
 * static `streamOrStatic` record `{ body, consumed }`), a string body
 * aside until it is asked for ("lazy static body"), and the Content-Type
 * of a body made without a `Headers` object outside the list ("lazy static
 * content type"). {@link denoResponseBody} finds all of it once by its
 * shape, on responses it makes, and checks each piece against the public
 * API; any piece that does not behave so is not used, and where nothing
 * is found it answers undefined: the server then reads every body and
 * header through the public API, as before. Nothing outside `ffi/` knows
 * these internals (http/server/response_peek.ts calls this interface, as
 * it calls ffi/bun_response_bytes.ts on Bun).
 *
 * At load it also wraps, on the class that holds every body, `clone` (a
 * byte array a clone shares is noted, never to be freed) and puts an
 * accessor for `streamOrStatic` on its prototype (a byte record made from
 * then on is noted as freeable); a response made here checks both, else
 * both are undone. Bodies and clones behave as before.
 *
 * @example
 * ```ts
 * import { denoResponseBody } from "./deno_response_body.ts";
 * const deno = denoResponseBody(Response);
 * console.log(deno === undefined || deno.body(new Response("hi")) === "hi"); // true ("hi" on Deno)
 * ```
 *
 * @module
 */
import { bodySource, type ResponseClass, responseStateReader } from "./response_state.ts";

/**
 * Deno's static body record (a byte body's `{ body, consumed }`): opaque
 * outside this module; handed back to {@link DenoResponseBody.markUsed}
 * and {@link DenoResponseBody.mayFree}.
 *
 * @example
 * ```ts
 * import type { DenoBodyRecord } from "./deno_response_body.ts";
 * const none: DenoBodyRecord | undefined = undefined;
 * console.log(none === undefined); // true
 * ```
 */
export interface DenoBodyRecord {
  /** Nominal: only this module makes one. */
  readonly __denoBodyRecord?: never;
}

/**
 * What Deno's private response state gives the server (see the module
 * text); each method answers for a `Response` of Deno's own class.
 *
 * @example
 * ```ts
 * import { denoResponseBody } from "./deno_response_body.ts";
 * const deno = denoResponseBody(Response);
 * if (deno !== undefined) deno.forEachField(new Response("x"), (name, value) => console.log(name, value));
 * ```
 */
export interface DenoResponseBody {
  /**
   * The string, bytes or Blob `response` was made from when nobody has
   * touched its body (stream unlocked and undisturbed, `bodyUsed` false),
   * else undefined (read it through `response.body`). When the bytes are
   * Deno's own copy, {@link DenoResponseBody.copiedRecord} gives their
   * record until the next call.
   */
  body(response: Response): string | Uint8Array | Blob | undefined;
  /**
   * The record of the bytes the last {@link DenoResponseBody.body} call
   * returned when Deno copied them when the response was made (nobody but
   * the response holds them), else undefined.
   */
  copiedRecord(): DenoBodyRecord | undefined;
  /** Marks the body of `record` used, as Deno's own server leaves a body it sent: reading it again throws. */
  markUsed(record: DenoBodyRecord): void;
  /**
   * Whether `bytes`, the body of `record`, may be freed: its record was
   * made since the marks exist and no clone shares the array.
   */
  mayFree(record: DenoBodyRecord, bytes: Uint8Array): boolean;
  /**
   * Calls `fn` with every header field (lower-case name, value; each
   * Set-Cookie apart) from Deno's list, and then a Content-Type Deno holds
   * aside, and returns true; false (having called nothing) when the list
   * cannot be taken as is (a repeated name other than Set-Cookie, a long or
   * empty list): then read `response.headers`.
   */
  forEachField(response: Response, fn: (name: string, value: string) => void): boolean;
}

/** Bodies from this size on are noted as freeable. */
const RELEASE_MIN = 16384;
/** The Content-Type a string body gets when nothing else sets one (the fetch standard's). */
const STRING_BODY_TYPE = "text/plain;charset=UTF-8";


/** Deno's static body record. */
interface StaticRecord {
  body?: unknown;
  consumed?: boolean;
}

/** Deno's inner body (one per `Response` or `Request`): a static body record or a stream. */
interface DenoInnerBody {
  streamOrStatic: StaticRecord | ReadableStream;
  source: unknown;
  clone(): DenoInnerBody;
}

interface DenoInner {
  headerList: Array<[string, string]>;
  body: DenoInnerBody | null;
}

/**
 * What decides whether a copy may be freed, shared by every copy of this
 * module in the process (kept on `globalThis` under a registered symbol).
 */
interface DenoBodyMarks {
  /** The static byte records made since the marks exist: only their copies are ever freed (an older one may have a clone nobody noted). */
  readonly fresh: WeakSet<object>;
  /** The byte arrays a clone shares (`Response.clone()` gives the clone the very array the original holds): never freed, only marked used. */
  readonly shared: WeakSet<Uint8Array>;
}

const MARKS_KEY = Symbol.for("ffinet.denoBodyMarks");

/**
 * Wraps `clone` and puts the `streamOrStatic` accessor on the inner body's
 * prototype (see the module text; an own data property made in the setter
 * instead cost ~0.4 µs per `new Response(bytes)`, this ~0.02). Done once
 * per process: another copy of this module uses the marks the first made.
 * Undefined when the layout is not the one described, or the check fails.
 */
function markBodies(R: ResponseClass): DenoBodyMarks | undefined {
  const existing = (globalThis as unknown as Record<symbol, DenoBodyMarks | undefined>)[MARKS_KEY];
  if (existing !== undefined) {
    return existing !== null && typeof existing === "object" && existing.fresh instanceof WeakSet && existing.shared instanceof WeakSet ? existing : undefined;
  }
  let response: Response;
  try {
    response = new R(new Uint8Array(1));
  } catch {
    return undefined;
  }
  const s = Object.getOwnPropertySymbols(response).find((k) => k.description === "response");
  if (s === undefined) return undefined;
  const body = (response as unknown as Record<symbol, { body?: unknown } | null>)[s]?.body as Partial<DenoInnerBody> | null | undefined;
  if (body === null || typeof body !== "object" || body.streamOrStatic === null || typeof body.streamOrStatic !== "object") return undefined;
  if (!("consumed" in body.streamOrStatic)) return undefined;
  const own = Object.getOwnPropertyDescriptor(body, "streamOrStatic");
  if (own === undefined || own.writable !== true || own.configurable !== true || own.enumerable !== true) return undefined;
  const proto = Object.getPrototypeOf(body) as Partial<DenoInnerBody> | null;
  if (proto === null || Object.getOwnPropertyDescriptor(proto, "streamOrStatic") !== undefined) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(proto, "clone");
  const original = descriptor?.value as ((this: DenoInnerBody) => DenoInnerBody) | undefined;
  if (typeof original !== "function" || descriptor!.writable !== true || descriptor!.configurable !== true) return undefined;
  const SLOT = Symbol("streamOrStatic");
  const fresh = new WeakSet<object>();
  const shared = new WeakSet<Uint8Array>();
  const clone = function clone(this: DenoInnerBody): DenoInnerBody {
    const record = this.streamOrStatic;
    if (record !== null && typeof record === "object" && "consumed" in record && record.body instanceof Uint8Array) shared.add(record.body);
    return original.call(this);
  };
  Object.defineProperty(proto, "clone", { ...descriptor, value: clone });
  Object.defineProperty(proto, "streamOrStatic", {
    configurable: true,
    enumerable: false,
    get(this: Record<symbol, unknown>) {
      return this[SLOT];
    },
    set(this: Record<symbol, unknown>, value: unknown) {
      this[SLOT] = value;
      // Only a record whose bytes may be freed is noted.
      if (value !== null && typeof value === "object") {
        const bytes = (value as { body?: unknown }).body;
        if (bytes instanceof Uint8Array && bytes.byteLength >= RELEASE_MIN) fresh.add(value);
      }
    },
  });
  // Checked on a response made now: else both are undone and nothing is ever freed.
  let ok = false;
  try {
    const made = (new R(new Uint8Array(RELEASE_MIN)) as unknown as Record<symbol, { body?: Partial<DenoInnerBody> | null } | null>)[s]?.body;
    const record = made?.streamOrStatic;
    ok = record !== null && typeof record === "object" && fresh.has(record);
  } catch {
    ok = false;
  }
  if (!ok) {
    delete (proto as Record<string, unknown>).streamOrStatic;
    Object.defineProperty(proto, "clone", descriptor!);
    return undefined;
  }
  const marks = { fresh, shared };
  Object.defineProperty(globalThis, MARKS_KEY, { value: marks, configurable: true, enumerable: false, writable: false });
  return marks;
}

/**
 * Finds the layout on responses of Deno's class made here (not on one the
 * server was given, which may be a subclass or have a stream body) and
 * builds the interface; undefined where the layout is not Deno's.
 */
function open(R: ResponseClass): DenoResponseBody | undefined {
  const marks = markBodies(R);
  const probe = new R("probe", { headers: { "x-probe": "1" } });
  const symbols = Object.getOwnPropertySymbols(probe);
  const key = symbols.find((s) => {
    const v = (probe as unknown as Record<symbol, unknown>)[s];
    return s.description === "response" && v !== null && typeof v === "object" && "body" in v && "headerList" in v;
  });
  if (key === undefined) return undefined;
  /** Where a string body (a string, `Response.json`) waits, untouched, before the inner body is made from it; null once it is. */
  const lazyKey = symbols.find((l) => l.description === "lazy static body");
  /** Where the Content-Type of a body made without a `Headers` object waits until `headers` is asked for. */
  let lazyTypeKey = symbols.find((l) => l.description === "lazy static content type");
  const inner = (r: Response) => (r as unknown as Record<symbol, DenoInner | undefined>)[key];

  /** The Content-Type Deno holds outside a response's header list, or null when it holds none. */
  const pendingType = (r: Record<symbol, unknown>): string | null => {
    const type = r[lazyTypeKey!];
    // A string body not made yet gets its type (the one given, else a string's) when it is made.
    if (lazyKey !== undefined && typeof r[lazyKey] === "string") return typeof type === "string" ? type : STRING_BODY_TYPE;
    return typeof type === "string" ? type : null;
  };

  // The pending type and the list must say what the public `headers` says,
  // on responses of the three shapes Deno keeps a field aside for.
  if (lazyTypeKey !== undefined) {
    const cases: Array<[Response, string]> = [
      [new R("probe", { headers: { "content-type": "text/plain" } }), "text/plain"],
      [new R("probe"), STRING_BODY_TYPE],
      [(R as unknown as typeof Response).json(1), "application/json"],
    ];
    for (const [response, type] of cases) {
      const list = inner(response)?.headerList;
      const seen = () => [...response.headers];
      if (!Array.isArray(list) || list.length !== 0 || pendingType(response as unknown as Record<symbol, unknown>) !== type) {
        lazyTypeKey = undefined;
        break;
      }
      const fields = seen();
      if (fields.length !== 1 || fields[0]![0] !== "content-type" || fields[0]![1] !== type) {
        lazyTypeKey = undefined;
        break;
      }
    }
  }

  // Whether a byte body Deno keeps is a copy of the one given (Deno 2.9 copies in its constructor).
  const copies = (() => {
    const given = new Uint8Array(RELEASE_MIN);
    const s = inner(new R(given))?.body?.streamOrStatic;
    if (s === null || typeof s !== "object" || !("consumed" in s)) return false;
    const kept = s.body;
    return kept instanceof Uint8Array && kept !== given && kept.buffer !== given.buffer && kept.byteLength === given.byteLength;
  })();

  let copied: StaticRecord | undefined;
  /** The lower-cased names of the field list being written. */
  const names: string[] = [];
  /** Fills `names` from `list` (and content-type after it when `pending`); false when a name other than set-cookie repeats (or the list is long). */
  const listNames = (list: Array<[string, string]>, pending: boolean): boolean => {
    names.length = 0;
    if (list.length > 32) return false;
    for (let i = 0; i < list.length; i++) {
      const pair = list[i];
      if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") return false;
      const name = pair[0].toLowerCase();
      if (name !== "set-cookie") {
        for (let j = 0; j < i; j++) if (names[j] === name) return false;
      }
      names.push(name);
    }
    if (pending) {
      for (let j = 0; j < names.length; j++) if (names[j] === "content-type") return false;
    }
    return true;
  };

  return {
    body(response) {
      copied = undefined;
      const state = inner(response);
      if (state === undefined || state === null) return undefined;
      const body = state.body;
      if (body === null || typeof body !== "object") {
        // null here may be a string body Deno keeps aside until asked for
        // (reset once it is: so untouched; reading `bodyUsed` would make it).
        if (lazyKey === undefined) return undefined;
        const lazy = (response as unknown as Record<symbol, unknown>)[lazyKey];
        return typeof lazy === "string" ? lazy : undefined;
      }
      const s = body.streamOrStatic;
      if (s === null || typeof s !== "object") return undefined;
      if ("consumed" in s) {
        if (s.consumed !== false || response.bodyUsed) return undefined;
        const bytes = bodySource(s.body);
        if (copies && bytes instanceof Uint8Array) copied = s;
        return bytes;
      }
      if ((s as ReadableStream).locked || response.bodyUsed) return undefined;
      return typeof Blob === "function" && body.source instanceof Blob ? body.source : undefined;
    },
    copiedRecord() {
      return copied as DenoBodyRecord | undefined;
    },
    markUsed(record) {
      (record as StaticRecord).consumed = true;
    },
    mayFree(record, bytes) {
      return marks !== undefined && marks.fresh.has(record) && !marks.shared.has(bytes);
    },
    forEachField(response, fn) {
      // Deno keeps the fields as appended ([name as given, value]); taken
      // from there when no name repeats (Set-Cookie aside). Deno (2.9) keeps
      // the Content-Type of a body made without a Headers object outside the
      // list, where only `headers` sees it (asking for `headers` makes that
      // object, joins and sorts): read from where it waits and written after
      // the list, where Deno would add it. Where that is not known, an empty
      // list is read publicly.
      const list = inner(response)?.headerList;
      if (!Array.isArray(list)) return false;
      const pending = lazyTypeKey !== undefined ? pendingType(response as unknown as Record<symbol, unknown>) : undefined;
      if ((pending === undefined && list.length === 0) || !listNames(list, typeof pending === "string")) return false;
      const n = list.length;
      for (let i = 0; i < n; i++) fn(names[i]!, list[i]![1]);
      if (typeof pending === "string") fn("content-type", pending);
      return true;
    },
  };
}

const reader = responseStateReader("deno", open);

/**
 * On Deno, the interface to its responses' private state (see the module
 * text), found on responses of `R` (Deno's own `Response` class, not a
 * replacement installed on `globalThis`); undefined elsewhere, or when
 * Deno's layout is not the one described. Found on the first call, the
 * same object after.
 *
 * @example
 * ```ts
 * import { denoResponseBody } from "./deno_response_body.ts";
 * const deno = denoResponseBody(Response);
 * console.log(deno?.body(new Response(new ReadableStream()))); // undefined
 * ```
 */
export function denoResponseBody(R: ResponseClass): DenoResponseBody | undefined {
  return reader(R);
}
