/**
 * The in-memory database: named collections of JSON documents in insertion order, plus a change feed that the
 * watch dispatcher subscribes to. Documents are stored and returned as copies, so no caller can change stored
 * state by accident. Dates are stored as ISO strings, exactly as they travel on the wire.
 */
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
  /** The document after the change (absent for delete). */
  after?: AnyDoc;
  /** The document before the change (absent for insert). */
  before?: AnyDoc;
}

export type ChangeListener = (change: StoreChange) => void;

export class Collection {
  readonly docs = new Map<string, AnyDoc>();
  constructor(
    readonly name: string,
    public options: AnyDoc = {},
  ) {}
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export class Store {
  private readonly collections = new Map<string, Collection>();
  private readonly listeners = new Set<ChangeListener>();

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
    return this.collections.delete(name);
  }

  /** Live documents of a collection (callers must not mutate them; use insert/replace/remove). */
  all(name: string): AnyDoc[] {
    return [...(this.collections.get(name)?.docs.values() ?? [])];
  }

  get(name: string, id: string): AnyDoc | undefined {
    return this.collections.get(name)?.docs.get(id);
  }

  /**
   * Insert a copy; a duplicate `_id` is a command error with MongoDB's text (the caller's mistake, answered as the
   * real server answers it, not a crash).
   */
  insert(name: string, doc: AnyDoc): AnyDoc {
    const coll = this.collection(name, true);
    const id = String(doc._id);
    if (coll.docs.has(id)) {
      throw commandError(`E11000 duplicate key error collection: ${name} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`);
    }
    const stored = clone(doc);
    coll.docs.set(id, stored);
    this.emit({ collection: name, operationType: "insert", after: stored });
    return clone(stored);
  }

  /** Store `doc` in place of the document with the same `_id`. */
  replace(name: string, doc: AnyDoc, operationType: "update" | "replace" = "replace"): AnyDoc {
    const coll = this.collection(name, true);
    const id = String(doc._id);
    const before = coll.docs.get(id);
    const stored = clone(doc);
    coll.docs.set(id, stored);
    this.emit({ collection: name, operationType, after: stored, ...(before ? { before } : {}) });
    return clone(stored);
  }

  remove(name: string, id: string): AnyDoc | undefined {
    const coll = this.collections.get(name);
    const before = coll?.docs.get(id);
    if (!coll || !before) return undefined;
    coll.docs.delete(id);
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
