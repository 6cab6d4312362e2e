/**
 * A fuzz step: one request as data (serializable, so a failing sequence can be shrunk, written into a replay
 * file and run again). Payloads are templates: a string `"${name}"` is replaced by the run's variable `name`
 * (any JSON value), and `${name}` inside a longer string by its text. Every run sets `P`, the run's name prefix
 * (`ofsfuzz_<seed>_<run>`), so the collections, queues and work-item queues a sequence creates are new on each
 * run and recognisable as the fuzzer's.
 */

/** What the server must answer. */
export type Expect =
  /** a success reply (not an error) */
  | "ok"
  /** an error reply, and the connection stays open */
  | "error"
  /** any well-formed reply */
  | "any"
  /** an error or nothing at all; the connection stays usable (checked with a probe) */
  | "error-or-silence"
  /** beyond documented limits: an error, or the server may close the connection */
  | "error-or-close";

/** Frame-level faults (broken chunking). */
export type FrameFault = "index-out-of-range" | "count-string" | "missing-chunk" | "duplicate-chunk" | "not-json-data";

/** The invariants the fuzzer checks; each failure names one. */
export type InvariantCode =
  | "reply-invalid"
  | "error-style-mixed"
  | "no-reply"
  | "connection-dropped"
  | "invalid-accepted"
  | "unexpected-error"
  | "read-changed-state"
  | "read-your-writes"
  | "acl"
  | "push-missing"
  | "slow";

/** A check on the reply payload (after the step's own `expect`). */
export interface Check {
  invariant: InvariantCode;
  /** JSON pointer into the reply payload. */
  pointer: string;
  /** equals: deep-equal; subset: every field of `value` deep-equals; length: array length; present/absent. */
  op: "equals" | "subset" | "length" | "present" | "absent";
  value?: unknown;
  /** What the check means, for the report. */
  what: string;
}

/** Wait for a server-started command after the reply (a watch event, a queue delivery). */
export interface PushWait {
  command: string;
  /** Which connection receives it (default: the step's). */
  as?: number;
  /** pointer → value (templated) the push payload must carry to count. */
  match?: Record<string, unknown>;
  save?: Record<string, string>;
  invariant: InvariantCode;
  what: string;
}

export interface Step {
  /** Which signed-in user sends it: 0 = first `--user`, 1 = second. */
  as: number;
  /** Short description for the report, e.g. "data: updateone". */
  note: string;
  command: string;
  payload?: unknown;
  /** Raw `data` text sent instead of the JSON of `payload`. */
  data?: string;
  frames?: FrameFault;
  /** Cut the message into frames of this size (default: the server's package size). */
  chunkSize?: number;
  expect: Expect;
  /** var name → JSON pointer into the reply payload. */
  save?: Record<string, string>;
  checks?: Check[];
  push?: PushWait;
  /**
   * A read sent right after a successful reply, whose checks prove the step's effect (read-your-writes, the ACL).
   * Part of the step, so shrinking never separates a write from the read that checks it.
   */
  verify?: { as?: number; command: string; payload: unknown; checks: Check[] };
  /** Snapshot this collection (templated name) before and after: a read must not change it. */
  readOf?: string;
}

/** Resolve a template against the variables. */
export function fill(template: unknown, vars: ReadonlyMap<string, unknown>): unknown {
  if (typeof template === "string") {
    const whole = /^\$\{([A-Za-z0-9_.]+)\}$/.exec(template);
    if (whole) {
      const name = whole[1] as string;
      return vars.has(name) ? vars.get(name) : template;
    }
    return template.replace(/\$\{([A-Za-z0-9_.]+)\}/g, (all, name: string) => {
      if (!vars.has(name)) return all;
      const v = vars.get(name);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(template)) return template.map((v) => fill(v, vars));
  if (template && typeof template === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[k] = fill(v, vars);
    return out;
  }
  return template;
}

/** The first variable a template uses that `vars` does not have (a shrunk sequence lost the step that set it). */
export function unbound(template: unknown, vars: ReadonlyMap<string, unknown>): string | undefined {
  if (typeof template === "string") {
    for (const m of template.matchAll(/\$\{([A-Za-z0-9_.]+)\}/g)) if (!vars.has(m[1] as string)) return m[1];
    return undefined;
  }
  if (Array.isArray(template)) {
    for (const v of template) {
      const u = unbound(v, vars);
      if (u) return u;
    }
    return undefined;
  }
  if (template && typeof template === "object") return unbound(Object.values(template), vars);
  return undefined;
}

/** The value at a JSON pointer, or undefined. */
export function at(value: unknown, pointer: string): unknown {
  if (pointer === "") return value;
  let cur = value;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Deep equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Every field of `expected` deep-equals the same field of `actual`. */
export function isSubset(expected: unknown, actual: unknown): boolean {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    if (!actual || typeof actual !== "object") return false;
    return Object.entries(expected).every(([k, v]) => isSubset(v, (actual as Record<string, unknown>)[k]));
  }
  return deepEqual(expected, actual);
}

/** The first place two JSON values differ: its JSON pointer and both values there (undefined when equal). */
export function firstDifference(a: unknown, b: unknown, pointer = ""): { pointer: string; a: unknown; b: unknown } | undefined {
  if (deepEqual(a, b)) return undefined;
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    if (Array.isArray(a) && a.length !== (b as unknown[]).length) return { pointer: `${pointer}/length`, a: a.length, b: (b as unknown[]).length };
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      const d = firstDifference(ra[key], rb[key], `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`);
      if (d) return d;
    }
  }
  return { pointer, a, b };
}
