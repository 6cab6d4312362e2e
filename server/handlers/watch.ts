/**
 * `watch` / `unwatch` (../../docs/protocol.md#watches): change watches that push `watchevent`. Like server-latest, `aggregates`
 * (alias `paths`, also as JSON text) is a list of JSONPath filters on the document (an empty list matches
 * everything); a list whose first element is an object is an old-style `[{$match}]` pipeline on the event.
 */
import type { Handler } from "../context.js";
import { resolveCollection } from "../documents.js";
import { commandError } from "../errors.js";
import { compileJsonPath, type DocPredicate } from "../jsonpath.js";
import { compile, decodeRegexps, type Filter } from "../query.js";
import type { AnyDoc } from "../store.js";
import type { WatchFilter } from "../watches.js";

function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") {
    if (!value.trim().startsWith("[")) return [value];
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw commandError(`aggregates is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(value)) throw commandError("aggregates must be an array of JSONPath strings or $match stages");
  return value;
}

function filterOf(entries: unknown[]): WatchFilter {
  const paths: DocPredicate[] = [];
  const stages: Filter[] = [];
  for (const entry of entries) {
    if (typeof entry === "string") {
      paths.push(compileJsonPath(entry));
    } else if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
      const stage = decodeRegexps(entry) as AnyDoc;
      const keys = Object.keys(stage);
      if (keys.length !== 1 || keys[0] !== "$match" || typeof stage.$match !== "object" || stage.$match === null) {
        throw commandError(`watch pipeline stage ${keys.join(",") || "{}"} is not supported by this server (only $match)`);
      }
      stages.push(compile(stage.$match as AnyDoc, true));
    } else {
      throw commandError("aggregates entries must be JSONPath strings or {$match} objects");
    }
  }
  return { paths, stages };
}

export const watchHandlers: Record<string, Handler> = {
  watch(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const entries = [...listOf(p.aggregates), ...listOf(p.paths)];
    // A watch filter runs inside every write to its collection: its size is bounded like its work.
    const max = ctx.server.options.limits.maxWatchFilterChars;
    const size = JSON.stringify(entries).length;
    if (size > max) throw commandError(`watch filters of ${size} characters exceed limits.maxWatchFilterChars (${max})`);
    const filter = filterOf(entries);
    const id = ctx.server.watches.add(ctx.conn, collection, filter);
    return { ...p, id, result: id };
  },

  unwatch(ctx) {
    const p = ctx.payload;
    if (typeof p.id !== "string" || p.id === "") throw commandError("id is mandatory");
    ctx.server.watches.remove(ctx.conn, p.id);
    return { ...p, result: null };
  },
};
