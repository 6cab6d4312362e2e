/**
 * Change watches: the store's change feed turned into MongoDB change-stream documents and pushed as
 * `watchevent` (one frame, never chunked, not awaited) to every watcher that may read the document.
 */
import { aclOf, aclAllows, Rights } from "./acl.js";
import type { Connection } from "./connection.js";
import { publicDoc } from "./secrets.js";
import { randomName } from "./ids.js";
import type { DocPredicate } from "./jsonpath.js";
import type { Query } from "mingo";
import type { AnyDoc, Store, StoreChange } from "./store.js";

/** What a watch listens for: JSONPath filters on the document (any may match) and `$match` stages on the event. */
export interface WatchFilter {
  paths: DocPredicate[];
  stages: Query[];
}

interface Watch extends WatchFilter {
  id: string;
  conn: Connection;
  collection: string;
}

let resumeCounter = 0;

export function changeEvent(change: StoreChange, now: number): AnyDoc {
  const doc = change.after ?? change.before ?? {};
  const event: AnyDoc = {
    _id: { _data: `${now.toString(16)}${(resumeCounter++).toString(16).padStart(8, "0")}` },
    operationType: change.operationType,
    clusterTime: new Date(now).toISOString(),
    wallTime: new Date(now).toISOString(),
    ns: { db: "openflow", coll: change.collection },
    documentKey: { _id: doc._id },
  };
  if (change.after) event.fullDocument = publicDoc(change.collection, change.after);
  if (change.operationType === "update" && change.before && change.after) {
    const before = publicDoc(change.collection, change.before);
    const after = publicDoc(change.collection, change.after);
    const updatedFields: AnyDoc = {};
    const removedFields: string[] = [];
    for (const [k, v] of Object.entries(after)) {
      if (JSON.stringify(before[k]) !== JSON.stringify(v)) updatedFields[k] = v;
    }
    for (const k of Object.keys(before)) if (!(k in after)) removedFields.push(k);
    event.updateDescription = { updatedFields, removedFields, truncatedArrays: [] };
  }
  return event;
}

/**
 * Whether a watch's filters accept a change. This runs inside another client's write, so a filter that throws on
 * some document (JS `==` on an object whose `valueOf` is not a function, a mingo runtime error) is a non-match
 * for that watch, never a failure of the write or of the other watchers.
 */
function matches(watch: WatchFilter, doc: AnyDoc, event: () => AnyDoc): boolean {
  try {
    if (watch.paths.length > 0 && !watch.paths.some((p) => p(doc))) return false;
    return watch.stages.length === 0 || watch.stages.every((f) => f.test(event()));
  } catch {
    return false;
  }
}

export class Watches {
  private readonly watches = new Map<string, Watch>();

  constructor(
    store: Store,
    private readonly now: () => number,
  ) {
    store.onChange((change) => this.dispatch(change));
  }

  add(conn: Connection, collection: string, filter: WatchFilter): string {
    const id = randomName(16);
    this.watches.set(id, { id, conn, collection, ...filter });
    return id;
  }

  remove(conn: Connection, id: string): boolean {
    const watch = this.watches.get(id);
    if (!watch || watch.conn !== conn) return false;
    return this.watches.delete(id);
  }

  removeConnection(conn: Connection): void {
    for (const [id, watch] of this.watches) if (watch.conn === conn) this.watches.delete(id);
  }

  get size(): number {
    return this.watches.size;
  }

  private dispatch(change: StoreChange): void {
    if (this.watches.size === 0) return;
    const doc = change.after ?? change.before;
    if (!doc) return;
    const acl = aclOf(change.collection, doc);
    // Filters see what the watcher may see: only readable documents (checked first), never their secrets.
    const view = publicDoc(change.collection, doc);
    let event: AnyDoc | undefined;
    for (const watch of this.watches.values()) {
      if (watch.collection !== change.collection || watch.conn.closed || !watch.conn.user) continue;
      if (!aclAllows(acl, watch.conn.user, Rights.read)) continue;
      if (!matches(watch, view, () => (event ??= changeEvent(change, this.now())))) continue;
      event ??= changeEvent(change, this.now());
      watch.conn.push("watchevent", { id: watch.id, result: event }, true);
    }
  }
}
