/**
 * MongoDB semantics on in-memory documents through `mingo`, plus the decoding the real server applies to query
 * input (../docs/protocol.md#query-text): JSON-string queries, `"__REGEXP /p/f"` strings back to RegExp, string `orderby`
 * and `projection`. Scripts (`$where`, `$function`, `$accumulator`) stay disabled. Every evaluation runs with
 * the bounded operator set (operators.ts: regular expressions on RE2, array and string sizes capped) and spends
 * one request's work budget (querylimits.ts), so no single request can stall or exhaust the server.
 */
import { Aggregator } from "mingo/aggregator";
import { Query } from "mingo/query";
import type { Options } from "mingo/types";
import { update as mingoUpdate } from "mingo/updater";
import { OpenFlowError } from "../runtime/errors.js";
import { commandError } from "./errors.js";
import { boundedContext } from "./operators.js";
import { chargeCopy, checkReplySize, currentLimits, newBudget, QUERY_LIMIT, runBudgeted, type Budget } from "./querylimits.js";
import { clone, type AnyDoc } from "./store.js";

const REGEXP_PREFIX = "__REGEXP ";

/** Recursively turn `"__REGEXP /pattern/flags"` strings into RegExp objects (arrays and objects walked). */
export function decodeRegexps(value: unknown): unknown {
  if (typeof value === "string") {
    if (!value.startsWith(REGEXP_PREFIX)) return value;
    const literal = value.slice(REGEXP_PREFIX.length);
    const last = literal.lastIndexOf("/");
    if (!literal.startsWith("/") || last <= 0) return value;
    try {
      return new RegExp(literal.slice(1, last), literal.slice(last + 1));
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) {
    // An operand list is walked by its operator for every document ($in, $all, $nin ...): bounded like the arrays
    // expressions produce, before anything walks it (300 000 $in values took 100 ms to compile).
    const max = currentLimits().maxExpressionItems;
    if (value.length > max) throw commandError(`${QUERY_LIMIT}: an array of ${value.length} items in a query, update or pipeline; the limit (limits.maxExpressionItems) is ${max}`);
    return value.map(decodeRegexps);
  }
  if (value !== null && typeof value === "object" && !(value instanceof RegExp)) {
    const out: AnyDoc = {};
    for (const [k, v] of Object.entries(value as AnyDoc)) {
      // `out.__proto__ = v` would swap the prototype and drop the key: a filter {"__proto__": ...} became {}
      // (deletemany then matched every document), and mingo itself matches a `__proto__` field against the
      // prototype. Refused by name instead.
      if (k === "__proto__") throw commandError("the key __proto__ is not allowed in queries, update documents or pipelines");
      out[k] = decodeRegexps(v);
    }
    return out;
  }
  return value;
}

/** A field that may be an object or a JSON-string of one (`query`, `projection`, `item`, ...). */
export function objectField(value: unknown, field: string, required: boolean): AnyDoc | undefined {
  if (value === undefined || value === null || value === "") {
    if (required) throw commandError(`${field} is mandatory`);
    return undefined;
  }
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw commandError(`${field} is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw commandError(`${field} must be an object`);
  return parsed as AnyDoc;
}

/** Parse a query field: object or JSON-string, `__REGEXP` strings decoded. */
export function parseQuery(value: unknown, required = true): AnyDoc {
  const query = objectField(value, "Query", required) ?? {};
  return decodeRegexps(query) as AnyDoc;
}

/** `orderby`: an object, a JSON-string of one (when it contains `{`), or a single field name ascending. */
export function parseOrderBy(value: unknown): Record<string, 1 | -1> | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  let spec: unknown = value;
  if (typeof value === "string") {
    if (!value.includes("{")) return { [value]: 1 };
    spec = objectField(value, "orderby", false);
  }
  if (typeof spec !== "object" || spec === null) throw commandError("orderby must be an object, a JSON-string or a field name");
  const out: Record<string, 1 | -1> = {};
  for (const [k, v] of Object.entries(spec as AnyDoc)) out[k] = v === -1 || v === "-1" || v === "desc" || v === "descending" ? -1 : 1;
  return out;
}

export const mingoOptions: Partial<Options> = { scriptEnabled: false, context: boundedContext };

/** A compiled filter. `test` charges one budget across all its calls (one request testing many documents). */
export interface Filter {
  /** The query it was compiled from (the store plans index lookups with it; never changed). */
  readonly query: AnyDoc;
  test(doc: AnyDoc): boolean;
}

class BoundedFilter implements Filter {
  private readonly budget: Budget | undefined;

  constructor(
    private readonly compiled: Query,
    readonly query: AnyDoc,
    perCall: boolean,
  ) {
    this.budget = perCall ? undefined : newBudget();
  }

  test(doc: AnyDoc): boolean {
    return runBudgeted(this.budget ?? newBudget(true), () => this.compiled.test(doc));
  }
}

function failure(prefix: string, err: unknown): OpenFlowError {
  if (err instanceof OpenFlowError) return err;
  return commandError(`${prefix}: ${(err as Error).message}`);
}

/**
 * Compile a filter, turning mingo's complaints into a command error that names the problem. `perCall`: each
 * `test` gets a fresh, small budget (limits.maxWatchFilterWork: watch filters, evaluated inside every write to
 * their collection for as long as the watch lives).
 */
export function compile(query: AnyDoc, perCall = false): Filter {
  const budget = newBudget();
  try {
    return new BoundedFilter(runBudgeted(budget, () => new Query(query, mingoOptions)), query, perCall);
  } catch (err) {
    throw failure("Invalid query", err);
  }
}

export interface FindOptions {
  projection?: AnyDoc | undefined;
  orderby?: Record<string, 1 | -1> | undefined;
  skip?: number;
  top?: number;
}

/**
 * Copies of `docs` an evaluation may change (mingo changes its input in place for a dotted `$set`, nested
 * exclusions, `$unwind` then `$set` ...). Each copy is charged to the request's budget, so copying is bounded
 * work too. The stored documents are frozen besides (store.ts): this is for correct results, not for safety.
 */
function copies(docs: AnyDoc[]): AnyDoc[] {
  return docs.map((doc) => {
    chargeCopy(doc);
    return clone(doc);
  });
}

/**
 * find: the filter, sort, skip and limit run on the frozen documents (they only read); the page is then copied
 * and the projection applied to the copies, so the copying costs what the reply holds. The reply is bounded by
 * limits.maxReplyBytes.
 */
export function find(docs: AnyDoc[], query: AnyDoc, options: FindOptions = {}): AnyDoc[] {
  try {
    return runBudgeted(newBudget(), () => {
      let cursor = new Query(query, mingoOptions).find<AnyDoc>(docs);
      if (options.orderby && Object.keys(options.orderby).length) cursor = cursor.sort(options.orderby);
      if (options.skip) cursor = cursor.skip(options.skip);
      if (options.top) cursor = cursor.limit(options.top);
      let page = copies(cursor.all());
      if (options.projection && Object.keys(options.projection).length) page = new Query({}, mingoOptions).find<AnyDoc>(page, options.projection).all();
      checkReplySize(page);
      return page;
    });
  } catch (err) {
    throw failure("Invalid query", err);
  }
}

/** Leading `$match` stages: run on the frozen documents, so only the survivors are copied. */
function leadingMatches(pipeline: AnyDoc[]): number {
  let n = 0;
  while (n < pipeline.length && Object.keys(pipeline[n] as AnyDoc).length === 1 && "$match" in (pipeline[n] as AnyDoc)) n++;
  return n;
}

/**
 * Run an aggregation pipeline on copies of the documents (and of every collection `$lookup`/`$unionWith`/
 * `$graphLookup` resolve). `$out`/`$merge` are refused: they would write around the ACL checks. The reply is
 * bounded by limits.maxReplyBytes; `$lookup` is charged for every document it joins.
 */
export function aggregate(docs: AnyDoc[], pipeline: AnyDoc[], resolve: (collection: string) => AnyDoc[]): AnyDoc[] {
  for (const stage of pipeline) {
    if (typeof stage !== "object" || stage === null || Array.isArray(stage)) throw commandError("aggregates must be an array of pipeline stage objects");
    for (const key of Object.keys(stage)) {
      if (key === "$out" || key === "$merge") throw commandError(`Aggregation stage ${key} is not supported by this server`);
    }
  }
  try {
    return runBudgeted(newBudget(), () => {
      const matches = leadingMatches(pipeline);
      let input = docs;
      for (const stage of pipeline.slice(0, matches)) {
        const filter = new Query(stage.$match as AnyDoc, mingoOptions);
        input = input.filter((doc) => filter.test(doc));
      }
      const aggregator = new Aggregator(pipeline.slice(matches), { ...mingoOptions, collectionResolver: (name: string) => copies(resolve(name)) });
      const result = aggregator.run(copies(input)) as AnyDoc[];
      checkReplySize(result);
      // Stages share objects between output documents (a $lookup joins the same copies into many documents).
      return clone(result);
    });
  } catch (err) {
    throw failure("Aggregate failed", err);
  }
}

/** Apply an update document (`$set`, `$pull` with a condition, ...) to `doc` in place, within a budget. */
export function applyModifier(doc: AnyDoc, modifier: AnyDoc): void {
  try {
    runBudgeted(newBudget(), () => mingoUpdate(doc, modifier, undefined, undefined, { cloneMode: "deep", queryOptions: mingoOptions }));
  } catch (err) {
    throw failure("Invalid update document", err);
  }
}
