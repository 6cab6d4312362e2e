/**
 * The mingo operator set this server evaluates client queries, pipelines and update documents with: mingo's own
 * operators, each wrapped so it charges the request's work budget (querylimits.ts) and so no expression can
 * produce an array or string above the limits; regular expressions go to RE2 (regex.ts). `$range` and
 * `$replaceAll`/`$replaceOne` are checked before they allocate; `$regexMatch`/`$regexFind`/`$regexFindAll` are
 * reimplemented on RE2 (mingo's `$regexFindAll` also looped forever on an empty match).
 *
 * A complete Context is built here because mingo's default entry points (`new Query` from "mingo") merge a
 * caller's context *under* the built-in operators: an override of `$regex` given there is ignored.
 */
import { Context, evalExpr } from "mingo/core";
import * as accumulatorOperators from "mingo/operators/accumulator";
import * as expressionOperators from "mingo/operators/expression";
import * as pipelineOperators from "mingo/operators/pipeline";
import * as projectionOperators from "mingo/operators/projection";
import * as queryOperators from "mingo/operators/query";
import * as windowOperators from "mingo/operators/window";
import type { Options } from "mingo/types";
import { resolve } from "mingo/util";
import { commandError } from "./errors.js";
import { charge, produced, willProduceChars, willProduceItems } from "./querylimits.js";
import { LinearRegExp, linear } from "./regex.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;
type Ops = Record<string, Fn>;

function table(ops: object): Ops {
  return ops as Ops;
}

function mapValues(ops: Ops, wrap: (name: string, fn: Fn) => Fn): Ops {
  const out: Ops = {};
  for (const [name, fn] of Object.entries(ops)) if (typeof fn === "function") out[name] = wrap(name, fn);
  return out;
}

/** Items a value holds for an operator that walks it: an array's length (and its arrays' lengths, one level down, as mingo flattens one level), else 1. */
function arrayWeight(value: unknown): number {
  if (!Array.isArray(value)) return 1;
  let n = value.length;
  for (const item of value) if (Array.isArray(item)) n += item.length;
  return Math.max(n, 1);
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && !Number.isNaN(v));
}

/**
 * `$in`/`$nin` with scalar values: one Set built at compile time, so a test costs the items of the field, not the
 * values listed (mingo hashes the whole list again for every document: 300 000 values over 255 documents held
 * the loop 17 s). Same semantics as mingo's: a missing or null field matches a listed null.
 */
function scalarIn(selector: string, values: unknown[], negate: boolean): Fn | undefined {
  if (!values.every(isScalar)) return undefined;
  const set = new Set<unknown>(values);
  const hasNull = set.has(null);
  return (obj: unknown) => {
    const lhs = resolve(obj as Record<string, unknown>, selector, { unwrapArray: true }) as unknown;
    charge(1 + arrayWeight(lhs));
    let found: boolean;
    if (lhs === null || lhs === undefined) found = hasNull;
    else if (Array.isArray(lhs)) found = lhs.some((v) => set.has(v) || (v === undefined && hasNull));
    else found = set.has(lhs);
    return negate ? !found : found;
  };
}

/**
 * Query operators: `$regex` (and regex members of `$in`/`$nin`/`$all`) on RE2; every predicate test charged for
 * the work inside it, before it runs: the items of the field it walks times the items of its operand (`$all`
 * compares each listed value with each item; `$eq` with an array walks it), so one test on a 25 000-item array
 * against a 25 000-value `$all` is refused instead of holding the event loop for seconds.
 */
function queryOp(name: string, fn: Fn): Fn {
  const convert = (value: unknown): unknown => {
    if (name === "$regex") return linear(value);
    if ((name === "$in" || name === "$nin" || name === "$all") && Array.isArray(value)) return value.map(linear);
    return value;
  };
  const structural = name === "$and" || name === "$or" || name === "$nor" || name === "$expr" || name === "$where" || name === "$jsonSchema" || name === "$comment";
  return (selector: unknown, value: unknown, options: unknown) => {
    if ((name === "$in" || name === "$nin") && typeof selector === "string" && Array.isArray(value)) {
      const fast = scalarIn(selector, value, name === "$nin");
      if (fast) return fast;
    }
    const predicate = fn(selector, convert(value), options) as Fn;
    if (structural || typeof selector !== "string") {
      return (obj: unknown) => {
        charge(1);
        return predicate(obj) as unknown;
      };
    }
    const operand = name === "$elemMatch" ? 1 : arrayWeight(value);
    return (obj: unknown) => {
      const field = obj !== null && typeof obj === "object" ? (resolve(obj as Record<string, unknown>, selector, { unwrapArray: true }) as unknown) : undefined;
      charge(1 + arrayWeight(field) * operand);
      return predicate(obj) as unknown;
    };
  };
}

/** Items of the literal arrays inside an expression (the same object for every document: cached). */
const literalWeights = new WeakMap<object, number>();
function literalWeight(expr: unknown): number {
  if (expr === null || typeof expr !== "object") return 0;
  const cached = literalWeights.get(expr);
  if (cached !== undefined) return cached;
  let n = Array.isArray(expr) ? expr.length : 0;
  for (const v of Object.values(expr)) n += literalWeight(v);
  literalWeights.set(expr, n);
  return n;
}

function expressionOp(name: string, fn: Fn): Fn {
  return (obj: unknown, expr: unknown, options: unknown) => {
    // An operator walks its literal operands once per call ({$in: ["$x", [300 000 values]]}): charged first.
    charge(8 + literalWeight(expr));
    const value = fn(obj, expr, options) as unknown;
    produced(name, value);
    return value;
  };
}

/** `$range` counts its items before allocating them (arguments mingo would refuse are left to mingo). */
function checkRange(obj: unknown, expr: unknown, options: Options): void {
  if (!Array.isArray(expr)) return;
  const [start, end, step = 1] = evalExpr(obj, expr, options) as unknown[];
  if (typeof start !== "number" || typeof end !== "number" || typeof step !== "number" || step === 0) return;
  const count = Math.max(0, Math.ceil((end - start) / step));
  willProduceItems("$range", Number.isFinite(count) ? count : Number.MAX_SAFE_INTEGER);
}

/** `$replaceAll`/`$replaceOne` compute the length of their result before building it. */
function checkReplace(name: string, obj: unknown, expr: unknown, options: Options): void {
  const args = evalExpr(obj, expr, options) as { input?: unknown; find?: unknown; replacement?: unknown } | null;
  if (!args || typeof args !== "object") return;
  const { input, find, replacement } = args;
  if (typeof input !== "string" || typeof find !== "string" || typeof replacement !== "string") return;
  if (replacement.length <= find.length) return;
  charge(1 + (input.length >> 8));
  const occurrences = name === "$replaceOne" ? (input.includes(find) ? 1 : 0) : find === "" ? input.length + 1 : input.split(find).length - 1;
  willProduceChars(name, input.length + occurrences * (replacement.length - find.length));
}

interface RegexMatch {
  match: string;
  idx: number;
  captures: (string | null)[];
}

/** The `$regexFind` family on RE2: `{input, regex, options}`; options `x` and `g` refused as MongoDB does. */
function regexSearch(name: string, obj: unknown, expr: unknown, options: Options, global: boolean): RegexMatch[] {
  const val = evalExpr(obj, expr, options) as { input?: unknown; regex?: unknown; options?: unknown } | null;
  if (!val || typeof val.input !== "string") return [];
  const flags = typeof val.options === "string" ? val.options : val.regex instanceof RegExp ? val.regex.flags : "";
  if (flags.includes("x")) throw commandError(`${name}: extended capability option 'x' not supported`);
  if (typeof val.options === "string" && val.options.includes("g")) throw commandError(`${name}: global option 'g' not supported`);
  const source = val.regex instanceof RegExp ? val.regex.source : typeof val.regex === "string" ? val.regex : undefined;
  if (source === undefined) throw commandError(`${name} needs 'regex' as a string or a regular expression`);
  const re = new LinearRegExp(source, flags);
  const input = val.input;
  const results: RegexMatch[] = [];
  for (let pos = 0; pos <= input.length; ) {
    const m = re.exec(input.slice(pos));
    if (!m) break;
    results.push({ match: m[0], idx: pos + m.index, captures: m.slice(1).map((c) => c ?? null) });
    if (!global) break;
    // An empty match advances by one character, or the search would never end.
    pos += m.index + Math.max(m[0].length, 1);
    produced(name, results);
  }
  return results;
}

function boundedExpressions(): Ops {
  const ops = mapValues(table(expressionOperators), expressionOp);
  const builtin = table(expressionOperators);
  ops.$range = expressionOp("$range", (obj: unknown, expr: unknown, options: Options) => {
    checkRange(obj, expr, options);
    return builtin.$range?.(obj, expr, options) as unknown;
  });
  for (const name of ["$replaceAll", "$replaceOne"]) {
    ops[name] = expressionOp(name, (obj: unknown, expr: unknown, options: Options) => {
      checkReplace(name, obj, expr, options);
      return builtin[name]?.(obj, expr, options) as unknown;
    });
  }
  ops.$regexMatch = expressionOp("$regexMatch", (obj: unknown, expr: unknown, o: Options) => regexSearch("$regexMatch", obj, expr, o, false).length > 0);
  ops.$regexFind = expressionOp("$regexFind", (obj: unknown, expr: unknown, o: Options) => regexSearch("$regexFind", obj, expr, o, false)[0] ?? null);
  ops.$regexFindAll = expressionOp("$regexFindAll", (obj: unknown, expr: unknown, o: Options) => regexSearch("$regexFindAll", obj, expr, o, true));
  return ops;
}

/**
 * Pipeline stages: every document a stage passes on is charged (`$densify`, `$unwind`, `$lookup` multiply them),
 * and a join for every document it joins (`$lookup`/`$graphLookup` put the same documents in many results: a
 * self-join of 1000 documents is a million, refused here instead of serialised).
 */
function pipelineOp(name: string, fn: Fn): Fn {
  return (collection: unknown, expr: unknown, options: unknown) => {
    charge(1);
    const out = fn(collection, expr, options) as { map?: Fn };
    const as = (name === "$lookup" || name === "$graphLookup") && expr !== null && typeof expr === "object" ? (expr as { as?: unknown }).as : undefined;
    if (out && typeof out.map === "function") {
      return out.map((doc: unknown) => {
        const joined = typeof as === "string" && doc !== null && typeof doc === "object" ? (doc as Record<string, unknown>)[as] : undefined;
        charge(2 + (Array.isArray(joined) ? joined.length : 0));
        return doc;
      }) as unknown;
    }
    return out;
  };
}

function accumulatorOp(name: string, fn: Fn): Fn {
  return (collection: unknown, expr: unknown, options: unknown) => {
    charge(1 + (Array.isArray(collection) ? collection.length >> 2 : 0));
    const value = fn(collection, expr, options) as unknown;
    produced(name, value);
    return value;
  };
}

/** The operator set of every Query and Aggregator this server runs. */
export const boundedContext: Context = Context.init({
  query: mapValues(table(queryOperators), queryOp),
  expression: boundedExpressions(),
  pipeline: mapValues(table(pipelineOperators), pipelineOp),
  accumulator: mapValues(table(accumulatorOperators), accumulatorOp),
  projection: table(projectionOperators),
  window: table(windowOperators),
} as Parameters<typeof Context.init>[0]);
