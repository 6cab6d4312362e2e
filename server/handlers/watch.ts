/** `watch` / `unwatch` (COMMANDS.md C): change watches that push `watchevent`. */
import type { Handler } from "../context.js";
import { resolveCollection } from "../documents.js";
import { commandError } from "../errors.js";
import { decodeRegexps } from "../query.js";
import type { AnyDoc } from "../store.js";

function pipelineOf(value: unknown): AnyDoc[] {
  let v = value;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      throw commandError("aggregates must be an array or a JSON-string of one");
    }
  }
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw commandError("aggregates must be an array");
  const stages: AnyDoc[] = [];
  for (const entry of v) {
    if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) stages.push(decodeRegexps(entry) as AnyDoc);
    else if (typeof entry === "string") {
      // server-latest reads strings as JSONPath match paths on the v2 dispatcher; this server has no JSONPath.
      throw commandError(`watch path ${JSON.stringify(entry)}: JSONPath match paths are not supported by this server, use {"$match": {...}} stages on the change event`);
    }
  }
  return stages;
}

export const watchHandlers: Record<string, Handler> = {
  watch(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const stages = [...pipelineOf(p.aggregates), ...pipelineOf(p.paths)];
    const id = ctx.server.watches.add(ctx.conn, collection, stages);
    return { ...p, id, result: id };
  },

  unwatch(ctx) {
    const p = ctx.payload;
    if (typeof p.id !== "string" || p.id === "") throw commandError("id is mandatory");
    ctx.server.watches.remove(ctx.conn, p.id);
    return { ...p, result: null };
  },
};
