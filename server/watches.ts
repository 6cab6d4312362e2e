/**
 * Change watches: the store's change feed turned into MongoDB change-stream documents and pushed as
 * `watchevent` (one frame, never chunked, not awaited) to every watcher that may read the document. Watches
 * are indexed by collection and by connection: a change costs what the watches on its collection cost (tens of
 * thousands of watches elsewhere cost nothing), and a connection holds at most limits.maxWatchesPerConnection.
 */
import { aclOf, aclAllows, Rights } from "./acl.js";
import { commandError } from "./errors.js";
import type { Connection } from "./connection.js";
import { publicDoc } from "./secrets.js";
import { randomName } from "./ids.js";
import type { DocPredicate } from "./jsonpath.js";
import type { Filter } from "./query.js";
import type { AnyDoc, Store, StoreChange } from "./store.js";

/** What a watch listens for: JSONPath filters on the document (any may match) and `$match` stages on the event. */
export interface WatchFilter {
  paths: DocPredicate[];
  stages: Filter[];
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
  /** collection -> its watches */
  private readonly byCollection = new Map<string, Map<string, Watch>>();
  /** connection -> the ids of its watches */
  private readonly byConnection = new Map<Connection, Set<string>>();

  constructor(
    store: Store,
    private readonly now: () => number,
    private readonly maxPerConnection = 100,
  ) {
    store.onChange((change) => this.dispatch(change));
  }

  add(conn: Connection, collection: string, filter: WatchFilter): string {
    let own = this.byConnection.get(conn);
    if (own && own.size >= this.maxPerConnection) {
      throw commandError(`Too many watches: this connection holds ${own.size} (limits.maxWatchesPerConnection); unwatch some first`);
    }
    const id = randomName(16);
    const watch: Watch = { id, conn, collection, ...filter };
    this.watches.set(id, watch);
    let inCollection = this.byCollection.get(collection);
    if (!inCollection) this.byCollection.set(collection, (inCollection = new Map()));
    inCollection.set(id, watch);
    if (!own) this.byConnection.set(conn, (own = new Set()));
    own.add(id);
    return id;
  }

  private delete(watch: Watch): void {
    this.watches.delete(watch.id);
    const inCollection = this.byCollection.get(watch.collection);
    inCollection?.delete(watch.id);
    if (inCollection?.size === 0) this.byCollection.delete(watch.collection);
    const own = this.byConnection.get(watch.conn);
    own?.delete(watch.id);
    if (own?.size === 0) this.byConnection.delete(watch.conn);
  }

  remove(conn: Connection, id: string): boolean {
    const watch = this.watches.get(id);
    if (!watch || watch.conn !== conn) return false;
    this.delete(watch);
    return true;
  }

  removeConnection(conn: Connection): void {
    for (const id of [...(this.byConnection.get(conn) ?? [])]) {
      const watch = this.watches.get(id);
      if (watch) this.delete(watch);
    }
  }

  get size(): number {
    return this.watches.size;
  }

  /** Watches on one collection (what a change there costs). */
  countOn(collection: string): number {
    return this.byCollection.get(collection)?.size ?? 0;
  }

  private dispatch(change: StoreChange): void {
    const watches = this.byCollection.get(change.collection);
    if (!watches) return;
    const doc = change.after ?? change.before;
    if (!doc) return;
    const acl = aclOf(change.collection, doc);
    // Filters see what the watcher may see: only readable documents (checked first), never their secrets.
    const view = publicDoc(change.collection, doc);
    let event: AnyDoc | undefined;
    for (const watch of [...watches.values()]) {
      if (watch.conn.closed || !watch.conn.user) continue;
      if (!aclAllows(acl, watch.conn.user, Rights.read)) continue;
      if (!matches(watch, view, () => (event ??= changeEvent(change, this.now())))) continue;
      event ??= changeEvent(change, this.now());
      watch.conn.push("watchevent", { id: watch.id, result: event }, true);
    }
  }
}
