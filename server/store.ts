/**
 * The in-memory database: named collections of JSON documents in insertion order, plus a change feed that the
 * watch dispatcher subscribes to. Dates are stored as ISO strings, exactly as they travel on the wire.
 *
 * Reads never write, by construction: every stored document is a private copy, deep-frozen when it is stored.
 * Whatever a read hands it to (mingo's filters, projections, pipelines, a handler that forgets to copy) cannot
 * change it: an assignment into a frozen object throws in strict code and is ignored in sloppy code, and either
 * way the stored value stays. The only way to change a document is to store a new version through `insert` /
 * `replace` / `remove`, which the one write path (documents.ts, handlers/data.ts) calls after its rights checks,
 * with `_version`/`_created*`/`_modified*` and history; every call emits a change for watches.
 *
 * Each collection also keeps indexes so reads cost what the caller may see, not what the collection holds:
 * `_id` (the map itself), readers (the ids of principals an ACL entry gives read, so a user's readable documents
 * are found without looking at anyone else's) and the fields `createindex` names (equality lookups).
 */
import { aclOf, rightsMask, Rights, WellknownIds } from "./acl.js";
import { commandError } from "./errors.js";

export type AnyDoc = Record<string, unknown>;

export interface CollectionInfo {
  name: string;
  type: "collection";
  options: AnyDoc;
  info: { readOnly: boolean };
}

export type ChangeOperation = "insert" | "update" | "replace" | "delete";

export interface StoreChange {
  collection: string;
  operationType: ChangeOperation;
  /** The document after the change (absent for delete). Frozen. */
  after?: AnyDoc;
  /** The document before the change (absent for insert). Frozen. */
  before?: AnyDoc;
}

export type ChangeListener = (change: StoreChange) => void;

/**
 * A mutable deep copy (of a frozen stored document, for instance). Documents are JSON values (dates travel as
 * ISO strings), so a plain walk copies them, about three times faster than structuredClone; anything else
 * (a RegExp in a decoded query, a Date) goes to structuredClone.
 */
export function clone<T>(value: T): T {
  return copyJson(value) as T;
}

function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    // An own "__proto__" key (JSON.parse makes one) stays a key: assigning it would swap the prototype.
    if (key === "__proto__") Object.defineProperty(out, key, { value: copyJson(v), enumerable: true, writable: true, configurable: true });
    else out[key] = copyJson(v);
  }
  return out;
}

/** Freeze `value` and everything it holds; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

const sizes = new WeakMap<object, number>();

/**
 * Size of a document as JSON text (UTF-16 code units, what it takes on the wire), cached for frozen documents
 * (they never change): reads charge copies by it, writes check the document limit and quotas with it.
 */
export function storedSize(doc: AnyDoc): number {
  const cached = sizes.get(doc);
  if (cached !== undefined) return cached;
  const size = JSON.stringify(doc)?.length ?? 0;
  if (Object.isFrozen(doc)) sizes.set(doc, size);
  return size;
}

/** The key an index files a scalar under (type-tagged: 1 and "1" differ, as in MongoDB). */
export function indexKey(value: unknown): string | undefined {
  if (typeof value === "string") return `s:${value}`;
  if (typeof value === "number") return Number.isFinite(value) ? `n:${value}` : undefined;
  if (typeof value === "boolean") return `b:${value}`;
  return undefined;
}

function valuesAt(doc: unknown, path: string[]): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path) {
    const next: unknown[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        for (const item of value) if (item !== null && typeof item === "object" && part in item) next.push((item as AnyDoc)[part]);
        if (/^\d+$/.test(part) && Number(part) < value.length) next.push(value[Number(part)]);
      } else if (value !== null && typeof value === "object" && part in value) {
        next.push((value as AnyDoc)[part]);
      }
    }
    current = next;
  }
  // Arrays are multikey: each item is filed too (a query {tags: "x"} matches a document whose tags hold "x").
  return current.flatMap((v) => (Array.isArray(v) ? [v, ...v] : [v]));
}

class FieldIndex {
  readonly byKey = new Map<string, Set<string>>();
  constructor(readonly field: string) {}

  private keys(doc: AnyDoc): string[] {
    const out = new Set<string>();
    for (const v of valuesAt(doc, this.field.split("."))) {
      const k = indexKey(v);
      if (k !== undefined) out.add(k);
    }
    return [...out];
  }

  add(id: string, doc: AnyDoc): void {
    for (const k of this.keys(doc)) {
      let ids = this.byKey.get(k);
      if (!ids) this.byKey.set(k, (ids = new Set()));
      ids.add(id);
    }
  }

  remove(id: string, doc: AnyDoc): void {
    for (const k of this.keys(doc)) {
      const ids = this.byKey.get(k);
      ids?.delete(id);
      if (ids?.size === 0) this.byKey.delete(k);
    }
  }
}

export class Collection {
  /** Stored documents by `_id`, in insertion order; frozen. */
  readonly docs = new Map<string, AnyDoc>();
  /** Insertion order number of each id (candidate sets are put back in store order). */
  private readonly order = new Map<string, number>();
  private nextOrder = 0;
  /** Principal id -> ids of the documents an ACL entry for it gives read (not a deny entry). */
  private readonly readers = new Map<string, Set<string>>();
  private readonly fieldIndexes = new Map<string, FieldIndex>();

  constructor(
    readonly name: string,
    public options: AnyDoc = {},
  ) {}

  /** The fields with an index (`_id` always has one). */
  get indexedFields(): string[] {
    return ["_id", ...this.fieldIndexes.keys()];
  }

  /** Index `field` (a dotted path); returns false when it already was. */
  createIndex(field: string): boolean {
    if (field === "_id" || this.fieldIndexes.has(field)) return false;
    const index = new FieldIndex(field);
    for (const [id, doc] of this.docs) index.add(id, doc);
    this.fieldIndexes.set(field, index);
    return true;
  }

  dropIndex(field: string): boolean {
    return this.fieldIndexes.delete(field);
  }

  private readerIds(doc: AnyDoc): string[] {
    const acl = aclOf(this.name, doc);
    if (!Array.isArray(acl)) return [];
    const out: string[] = [];
    for (const entry of acl as unknown[]) {
      const ace = entry as AnyDoc | null;
      if (!ace || typeof ace._id !== "string" || ace.deny === true) continue;
      if ((rightsMask(ace.rights as number | string) & Rights.read) === Rights.read) out.push(ace._id);
    }
    return out;
  }

  set(id: string, doc: AnyDoc): AnyDoc | undefined {
    const before = this.docs.get(id);
    if (before) this.unindex(id, before);
    else this.order.set(id, this.nextOrder++);
    this.docs.set(id, doc);
    for (const reader of this.readerIds(doc)) {
      let ids = this.readers.get(reader);
      if (!ids) this.readers.set(reader, (ids = new Set()));
      ids.add(id);
    }
    for (const index of this.fieldIndexes.values()) index.add(id, doc);
    return before;
  }

  delete(id: string): AnyDoc | undefined {
    const before = this.docs.get(id);
    if (!before) return undefined;
    this.unindex(id, before);
    this.docs.delete(id);
    this.order.delete(id);
    return before;
  }

  private unindex(id: string, doc: AnyDoc): void {
    for (const reader of this.readerIds(doc)) {
      const ids = this.readers.get(reader);
      ids?.delete(id);
      if (ids?.size === 0) this.readers.delete(reader);
    }
    for (const index of this.fieldIndexes.values()) index.remove(id, doc);
  }

  /**
   * The ids a query's top-level equality on an indexed field allows (`{_id: "x"}`, `{name: "a"}`,
   * `{name: {$eq: "a"}}`, `{name: {$in: ["a", "b"]}}`), or undefined when no index applies (all documents).
   */
  plan(query: AnyDoc | undefined): Set<string> | undefined {
    if (!query) return undefined;
    let best: Set<string> | undefined;
    for (const [field, condition] of Object.entries(query)) {
      if (field.startsWith("$")) continue;
      const wanted = equalityValues(condition);
      if (!wanted) continue;
      let ids: Set<string>;
      if (field === "_id") {
        ids = new Set(wanted.filter((v) => typeof v === "string" && this.docs.has(v)) as string[]);
      } else {
        const index = this.fieldIndexes.get(field);
        if (!index) continue;
        ids = new Set();
        for (const v of wanted) for (const id of index.byKey.get(indexKey(v) as string) ?? []) ids.add(id);
      }
      if (!best || ids.size < best.size) best = ids;
    }
    return best;
  }

  /** Does any of `readers` hold read on at least one document here (through the reader index)? */
  readableBy(readers: Iterable<string>): boolean {
    for (const reader of readers) if ((this.readers.get(reader)?.size ?? 0) > 0) return true;
    return false;
  }

  /**
   * Documents in store order among the ids readable by any of `readers` (all when undefined) and allowed by
   * `planned` (all when undefined). The work is proportional to the smaller of the two sets, never to the
   * documents nobody in `readers` may read.
   */
  candidates(readers: Iterable<string> | undefined, planned: Set<string> | undefined): AnyDoc[] {
    if (!readers && !planned) return [...this.docs.values()];
    let readable: Set<string> | undefined;
    if (readers) {
      readable = new Set();
      for (const reader of readers) for (const id of this.readers.get(reader) ?? []) readable.add(id);
    }
    let ids: string[];
    if (readable && planned) {
      const [small, large] = readable.size <= planned.size ? [readable, planned] : [planned, readable];
      ids = [...small].filter((id) => large.has(id));
    } else {
      ids = [...(readable ?? planned ?? [])];
    }
    ids.sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    return ids.map((id) => this.docs.get(id)).filter((d): d is AnyDoc => d !== undefined);
  }
}

/** The scalar values an index lookup can serve a query condition with, or undefined. */
function equalityValues(condition: unknown): unknown[] | undefined {
  if (indexKey(condition) !== undefined) return [condition];
  if (condition === null || typeof condition !== "object" || Array.isArray(condition) || condition instanceof RegExp) return undefined;
  const keys = Object.keys(condition);
  if (keys.length !== 1) return undefined;
  const value = (condition as AnyDoc)[keys[0] as string];
  if (keys[0] === "$eq" && indexKey(value) !== undefined) return [value];
  if (keys[0] === "$in" && Array.isArray(value) && value.every((v) => indexKey(v) !== undefined)) return value;
  return undefined;
}

/** Storage bounds (options.ts): the largest document, all stored bytes, and one user's share of them. */
export interface StorageLimits {
  maxDocumentBytes: number;
  maxStoredBytes: number;
  maxStoredBytesPerUser: number;
}

/** The principal a stored document's bytes count against: its creator (the server's own writes count for nobody). */
function ownerOf(doc: AnyDoc): string | undefined {
  // fs.files keeps its stamps in metadata.
  const id = doc._createdbyid ?? (doc.metadata as AnyDoc | undefined)?._createdbyid;
  return typeof id === "string" && id !== "" && id !== WellknownIds.root ? id : undefined;
}

/**
 * The driver text server-latest relays for a document over MongoDB's limit: node-mongodb-native 4.11.0 (the
 * version server-latest pins) throws it from its bulk writer, and both sizes are BSON's 16 MiB
 * (https://github.com/mongodb/node-mongodb-native/blob/6fb87e41e6300129503722d6232fcaaf6a556019/src/bulk/unordered.ts#L38-L44,
 * default at https://github.com/mongodb/node-mongodb-native/blob/6fb87e41e6300129503722d6232fcaaf6a556019/src/bulk/common.ts#L996-L997).
 * Here the size is the JSON text's length, what the document takes on the wire.
 */
export function documentTooLarge(max: number): Error {
  return commandError(`Document is larger than the maximum size ${max}`);
}

export class Store {
  private readonly collections = new Map<string, Collection>();
  private readonly listeners = new Set<ChangeListener>();
  private totalBytes = 0;
  private readonly bytesByOwner = new Map<string, number>();

  constructor(private readonly limits: StorageLimits = { maxDocumentBytes: Infinity, maxStoredBytes: Infinity, maxStoredBytesPerUser: Infinity }) {}

  /** Bytes (JSON text) stored in all collections, and those counted for one principal (its documents and its history entries). */
  storedBytes(owner?: string): number {
    return owner === undefined ? this.totalBytes : (this.bytesByOwner.get(owner) ?? 0);
  }

  /**
   * Refuse a document over limits.maxDocumentBytes, or one whose bytes would take its owner past his share or
   * the server past its total; then count it (in place of `before`). `system`: a write the server makes on its
   * own (users at start, a signin's lastseen): counted, never refused by a quota.
   */
  private account(stored: AnyDoc, before: AnyDoc | undefined, system: boolean): void {
    const size = storedSize(stored);
    if (size >= this.limits.maxDocumentBytes) throw documentTooLarge(this.limits.maxDocumentBytes);
    const owner = ownerOf(stored);
    const previous = before ? storedSize(before) : 0;
    const previousOwner = before ? ownerOf(before) : undefined;
    const growth = size - previous;
    if (growth > 0 && !system && this.totalBytes + growth > this.limits.maxStoredBytes) {
      throw commandError(`Access denied, the server's storage is full: ${this.totalBytes} + ${growth} bytes (limits.maxStoredBytes ${this.limits.maxStoredBytes})`);
    }
    if (owner !== undefined && !system) {
      const kept = owner === previousOwner ? previous : 0;
      const after = (this.bytesByOwner.get(owner) ?? 0) - kept + size;
      if (size > kept && after > this.limits.maxStoredBytesPerUser) {
        throw commandError(`Access denied, storage quota exceeded: ${after - size + kept} bytes stored, ${size} more asked (limits.maxStoredBytesPerUser ${this.limits.maxStoredBytesPerUser})`);
      }
    }
    if (before) this.uncount(before);
    this.totalBytes += size;
    if (owner !== undefined) this.bytesByOwner.set(owner, (this.bytesByOwner.get(owner) ?? 0) + size);
  }

  private uncount(doc: AnyDoc): void {
    const size = storedSize(doc);
    this.totalBytes -= size;
    const owner = ownerOf(doc);
    if (owner === undefined) return;
    const left = (this.bytesByOwner.get(owner) ?? 0) - size;
    if (left <= 0) this.bytesByOwner.delete(owner);
    else this.bytesByOwner.set(owner, left);
  }

  /** The named collection; created on first use when `create` is set (as MongoDB does on insert). */
  collection(name: string, create: true): Collection;
  collection(name: string, create?: boolean): Collection | undefined;
  collection(name: string, create = false): Collection | undefined {
    let coll = this.collections.get(name);
    if (!coll && create) {
      coll = new Collection(name);
      this.collections.set(name, coll);
    }
    return coll;
  }

  has(name: string): boolean {
    return this.collections.has(name);
  }

  names(): string[] {
    return [...this.collections.keys()];
  }

  createCollection(name: string, options: AnyDoc): boolean {
    if (this.collections.has(name)) return false;
    this.collections.set(name, new Collection(name, options));
    return true;
  }

  dropCollection(name: string): boolean {
    const coll = this.collections.get(name);
    if (coll) for (const doc of coll.docs.values()) this.uncount(doc);
    return this.collections.delete(name);
  }

  /** Stored documents of a collection, frozen (change them with insert/replace/remove). */
  all(name: string): AnyDoc[] {
    return [...(this.collections.get(name)?.docs.values() ?? [])];
  }

  /** The stored document, frozen. */
  get(name: string, id: string): AnyDoc | undefined {
    return this.collections.get(name)?.docs.get(id);
  }

  /**
   * Insert a copy; a duplicate `_id` is a command error with MongoDB's text (the caller's mistake, answered as the
   * real server answers it, not a crash). Returns a mutable copy of what was stored.
   */
  insert(name: string, doc: AnyDoc, system = false): AnyDoc {
    const coll = this.collection(name, true);
    const id = String(doc._id);
    if (coll.docs.has(id)) {
      throw commandError(`E11000 duplicate key error collection: ${name} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`);
    }
    const stored = deepFreeze(clone(doc));
    this.account(stored, undefined, system);
    coll.set(id, stored);
    this.emit({ collection: name, operationType: "insert", after: stored });
    return clone(stored);
  }

  /** Store `doc` in place of the document with the same `_id`. Returns a mutable copy of what was stored. */
  replace(name: string, doc: AnyDoc, operationType: "update" | "replace" = "replace", system = false): AnyDoc {
    const coll = this.collection(name, true);
    const id = String(doc._id);
    const stored = deepFreeze(clone(doc));
    this.account(stored, coll.docs.get(id), system);
    const before = coll.set(id, stored);
    this.emit({ collection: name, operationType, after: stored, ...(before ? { before } : {}) });
    return clone(stored);
  }

  /** Remove a document; returns the removed (frozen) version. */
  remove(name: string, id: string): AnyDoc | undefined {
    const coll = this.collections.get(name);
    const before = coll?.delete(id);
    if (!coll || !before) return undefined;
    this.uncount(before);
    this.emit({ collection: name, operationType: "delete", before });
    return before;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
