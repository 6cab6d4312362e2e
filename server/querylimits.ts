/**
 * The work budget of one request's query, count, update filter, aggregation or watch-filter evaluation. mingo
 * evaluates synchronously on the one thread that serves every client, so a request that asks for a huge amount
 * of work (a `$range` of a billion items, `$map` inside `$map`, a string doubled in `$reduce`, thousands of
 * regex matches on long strings) must end with an error for that request instead of stalling everyone. The
 * budget counts work units, not time, so the outcome is the same on a fast and a slow machine. A unit is
 * about a quarter of a microsecond of mingo's work on an idle core (calibrated with bench-style loops): a
 * predicate test costs 1, a document passed between pipeline stages 2, an expression operator call 8 (mingo
 * builds evaluation state per call), plus 1 per 8 array items and per 256 string characters an expression
 * produces, plus regex input x program size (regex.ts).
 *
 * A clock backstop (limits.maxQueryMs, in CPU time) catches what the units undercount.
 *
 * The limits come from the server's options through AsyncLocalStorage (`withQueryLimits`, set per incoming
 * message by server.ts), so handlers need not pass them along.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { commandError } from "./errors.js";
import { resolveOptions, type ResolvedOptions } from "./options.js";
import { storedSize, type AnyDoc } from "./store.js";

export interface QueryLimits {
  /** Work units one request's query or pipeline may spend. */
  maxQueryWork: number;
  /** Most items in one array an expression produces ($range, $concatArrays, $map, $push ...). */
  maxExpressionItems: number;
  /** Most characters in one string an expression produces ($concat, $replaceAll, ...). */
  maxExpressionChars: number;
  /** Longest regular expression source accepted. */
  maxRegexChars: number;
  /** Wall-clock backstop: an evaluation still running after this long fails (checked every 16 charges, and on every heavy one). */
  maxQueryMs: number;
  /** Most bytes (JSON text) of one query or aggregate reply's result. */
  maxReplyBytes: number;
  /** Work units one watch filter may spend on one change (it runs inside every write to its collection). */
  maxWatchFilterWork: number;
}

/** The query limits among a server's resolved limits. */
export function queryLimitsOf(limits: ResolvedOptions["limits"]): QueryLimits {
  const { maxQueryWork, maxExpressionItems, maxExpressionChars, maxRegexChars, maxQueryMs, maxWatchFilterWork, maxReplyBytes } = limits;
  return { maxQueryWork, maxExpressionItems, maxExpressionChars, maxRegexChars, maxQueryMs, maxWatchFilterWork, maxReplyBytes };
}

/** Outside any server request (a direct call of query.ts), the defaults of options.ts apply. */
const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze(queryLimitsOf(resolveOptions().limits));

const storage = new AsyncLocalStorage<QueryLimits>();

/** Run `fn` (and everything it starts asynchronously) with these limits. */
export function withQueryLimits<T>(limits: QueryLimits, fn: () => T): T {
  return storage.run(limits, fn);
}

export function currentLimits(): QueryLimits {
  return storage.getStore() ?? DEFAULT_QUERY_LIMITS;
}

export interface Budget {
  used: number;
  readonly max: number;
  charges: number;
  /** Process CPU time (microseconds) at which the evaluation has run longer than limits.maxQueryMs. */
  readonly deadline: number;
  /** The same on the wall clock (performance.now()). */
  readonly wallDeadline: number;
}

/** A budget for one request (or, `watch`, for one watch filter on one change). */
export function newBudget(watch = false): Budget {
  const limits = currentLimits();
  return { used: 0, max: watch ? limits.maxWatchFilterWork : limits.maxQueryWork, charges: 0, deadline: cpuMicros() + limits.maxQueryMs * 1000, wallDeadline: performance.now() + limits.maxQueryMs };
}

/** CPU time this process has used, in microseconds (user + system). */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

let active: Budget | undefined;

let lastSpent = 0;

/** Work units the most recent evaluation spent in total (its budget's `used`): tests and bench/dos.ts read it. */
export function lastWork(): number {
  return lastSpent;
}

/** Run `fn` with `budget` charged by every operator it evaluates. */
export function runBudgeted<T>(budget: Budget, fn: () => T): T {
  const previous = active;
  active = budget;
  try {
    return fn();
  } finally {
    active = previous;
    if (!previous) lastSpent = budget.used;
  }
}

/** Name of the error every limit of this module raises (a test or a client can tell it apart). */
export const QUERY_LIMIT = "query limit exceeded";

export function limitError(detail: string): Error {
  return commandError(`${QUERY_LIMIT}: ${detail}`);
}

/** Spend `units` of the active budget; throws once the request has spent more than its limit. */
export function charge(units: number): void {
  const budget = active;
  if (!budget) return;
  budget.used += units;
  if (budget.used > budget.max) {
    throw limitError(`the evaluation needs more than ${budget.max} units of work (limits.maxQueryWork, or limits.maxWatchFilterWork for a watch filter); narrow the filter or the pipeline`);
  }
  // The wall-clock backstop for work the units undercount: looked at every 16 charges, and at once after a heavy
  // one (a charge stands for work about to be done, so a single large operand is refused before it runs).
  // Both clocks must have passed: the wall clock alone fails requests of a process a busy machine paused (a
  // shared CI box), the process's CPU time alone counts other threads' work (a password hash on the pool).
  if (((++budget.charges & 15) === 0 || units >= 64) && performance.now() > budget.wallDeadline && cpuMicros() > budget.deadline) {
    throw limitError(`the evaluation ran longer than limits.maxQueryMs; narrow the filter or the pipeline`);
  }
}

/** Work units for one document: a read that copies it (JSON size / 64, from store.ts's size cache). */
export function chargeCopy(doc: AnyDoc): void {
  charge(1 + (storedSize(doc) >> 6));
}

/**
 * Refuse a reply whose result is larger than limits.maxReplyBytes, before it is copied or serialised (stages
 * share objects, so a small pipeline can describe a huge reply). The walk stops at the limit and is charged
 * (one unit per 8 values), so measuring costs at most what the limit allows.
 */
export function checkReplySize(result: unknown): void {
  const max = currentLimits().maxReplyBytes;
  let size = 0;
  let nodes = 0;
  const stack: unknown[] = [result];
  while (stack.length > 0) {
    const value = stack.pop();
    if ((++nodes & 7) === 0) charge(1);
    if (typeof value === "string") size += value.length + 2;
    else if (value === null || typeof value !== "object") size += 8;
    else if (Object.isFrozen(value) && !Array.isArray(value)) size += storedSize(value as AnyDoc);
    else if (Array.isArray(value)) {
      size += 2 + value.length;
      for (const item of value) stack.push(item);
    } else {
      for (const [key, item] of Object.entries(value)) {
        size += key.length + 4;
        stack.push(item);
      }
    }
    if (size > max) throw limitError(`the reply would be larger than ${max} bytes (limits.maxReplyBytes); narrow the query, use top/skip or a projection`);
  }
}

/** Check and charge a value an operator produced: arrays and strings above the limits fail the request. */
export function produced(operator: string, value: unknown): void {
  if (Array.isArray(value)) {
    const max = currentLimits().maxExpressionItems;
    if (value.length > max) throw limitError(`${operator} produced an array of ${value.length} items; the limit (limits.maxExpressionItems) is ${max}`);
    charge(1 + (value.length >> 3));
  } else if (typeof value === "string") {
    const max = currentLimits().maxExpressionChars;
    if (value.length > max) throw limitError(`${operator} produced a string of ${value.length} characters; the limit (limits.maxExpressionChars) is ${max}`);
    charge(1 + (value.length >> 8));
  }
}

/** Refuse before building an array of `count` items (`$range` would allocate it all first). */
export function willProduceItems(operator: string, count: number): void {
  const max = currentLimits().maxExpressionItems;
  if (count > max) throw limitError(`${operator} would produce ${count} items; the limit (limits.maxExpressionItems) is ${max}`);
}

/** Refuse before building a string of `length` characters. */
export function willProduceChars(operator: string, length: number): void {
  const max = currentLimits().maxExpressionChars;
  if (length > max) throw limitError(`${operator} would produce a string of ${length} characters; the limit (limits.maxExpressionChars) is ${max}`);
}
