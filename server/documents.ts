/**
 * How OpenFlow stores a document: `_id` (24-hex), `_type` (default "unknown"), `_created*`/`_modified*`,
 * `_version` (0 at insert, +1 per update, old versions in `<collection>_hist`), and `_acl` with the creator and
 * admins holding full control (../schemas/defs/base.json, ../docs/protocol.md#access-control). Who may read or change
 * them: server/authz.ts.
 */
import { addRight, aclOf, Rights, WellknownIds, type Ace, type Principal } from "./acl.js";
import { USERS, type TokenUser } from "./auth.js";
import type { ServerContext } from "./context.js";
import { commandError } from "./errors.js";
import { newObjectId } from "./ids.js";
import { publicDoc } from "./secrets.js";
import { create as createDiffer } from "jsondiffpatch";
import { clone, storedSize, type AnyDoc } from "./store.js";

/** `files` is an alias for `fs.files` (../schemas/commands/query.json). */
export function resolveCollection(name: unknown): string {
  if (typeof name !== "string" || name === "") throw commandError("collectionname is mandatory");
  return name === "files" ? "fs.files" : name;
}

export function historyName(collection: string): string {
  return `${collection}_hist`;
}

/** The principal behind a `queryas` id: a user (with its roles) or a role (with the roles it is member of). */
export function principalFor(server: ServerContext, id: string): Principal {
  const doc = server.store.get(USERS, id);
  const name = typeof doc?.name === "string" ? doc.name : id;
  return { _id: id, name, roles: server.auth.rolesOf(id) };
}

export function assertObject(value: unknown, what: string): AnyDoc {
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw commandError(`${what} must be an object or a JSON-string of one`);
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw commandError(`${what} must be an object`);
  return value as AnyDoc;
}

function normalizeAcl(value: unknown): Ace[] {
  if (!Array.isArray(value)) return [];
  return value.filter((a): a is Ace => typeof a === "object" && a !== null && typeof (a as Ace)._id === "string").map((a) => ({ ...a }));
}

/** Stamp a new document for insert: id, type, timestamps, creator, version 0, ACL with creator + admins. */
export function prepareInsert(server: ServerContext, collection: string, item: AnyDoc, user: TokenUser): AnyDoc {
  const doc = clone(item);
  if (doc._id === undefined || doc._id === null || doc._id === "") doc._id = newObjectId(server.now());
  else doc._id = String(doc._id);
  // server-latest's ensureResource: missing type -> "unknown", and types are lower case.
  doc._type = typeof doc._type === "string" && doc._type !== "" ? doc._type.toLowerCase() : "unknown";
  const stamp = server.stamp();
  doc._created = stamp;
  doc._createdby = user.name;
  doc._createdbyid = user._id;
  doc._modified = stamp;
  doc._modifiedby = user.name;
  doc._modifiedbyid = user._id;
  doc._version = 0;
  delete doc._skiphistory;
  if (collection === "fs.files") return doc;
  const acl = normalizeAcl(doc._acl);
  addRight(acl, WellknownIds.admins, "admins", Rights.full);
  addRight(acl, user._id, user.name, Rights.full);
  doc._acl = acl;
  return doc;
}

/**
 * jsondiffpatch as server-latest configures it: array items matched by name, id or _id
 * (https://github.com/open-rpa/openflow/blob/d9a48a2a2facbee4efa67b87f6573ce1852a0c3b/src/DatabaseConnection.ts#L45-L50).
 */
const differ = createDiffer({
  objectHash: (obj: object, index?: number) => {
    const o = obj as AnyDoc;
    return String(o.name ?? o.id ?? o._id ?? `$$index:${index ?? 0}`);
  },
});

/** The `<collection>_hist` entries of one document, oldest version first (looked up through the `id` index). */
export function historyOf(server: ServerContext, collection: string, id: string): AnyDoc[] {
  const hist = server.store.collection(historyName(collection));
  if (!hist) return [];
  return hist.candidates(undefined, hist.plan({ id })).sort((a, b) => Number(a._version ?? 0) - Number(b._version ?? 0));
}

/**
 * Record a change in `<collection>_hist` as server-latest does (SaveDiff,
 * https://github.com/open-rpa/openflow/blob/d9a48a2a2facbee4efa67b87f6573ce1852a0c3b/src/DatabaseConnection.ts#L4475-L4620):
 * a full copy (`item`) of a version at the start of a document's history and every limits.historyFullEvery
 * versions, and for each change a `delta` (jsondiffpatch) from the version before to the version after.
 * A deletion keeps the last version in full. Versions larger than limits.historyMaxDocumentBytes are not kept
 * (server-latest: history_obj_max_kb_size); the next change then starts again from a full copy. Entries count
 * against the changing user's storage quota, but are written after the change itself was accepted and never
 * refused (the change was); so one change adds at most a delta and one full copy of at most
 * historyMaxDocumentBytes beyond the quota, and the user's next write is refused.
 */
export function saveHistory(server: ServerContext, collection: string, before: AnyDoc, user: TokenUser, deleted = false, after?: AnyDoc): void {
  if (collection.endsWith("_hist")) return;
  const { historyMaxDocumentBytes, historyFullEvery } = server.options.limits;
  // Sized as stored (frozen documents cache their size, so a large document is not serialized again on every
  // change); the public copy kept in history is never larger.
  if (storedSize(before) > historyMaxDocumentBytes || (after && storedSize(after) > historyMaxDocumentBytes)) return;
  const old = publicDoc(collection, before);
  const stamp = server.stamp();
  const store = server.store;
  const name = historyName(collection);
  store.collection(name, true).createIndex("id");
  const version = typeof before._version === "number" ? before._version : 0;
  const entry = (fields: AnyDoc): AnyDoc => ({
    _id: newObjectId(server.now()),
    _type: before._type,
    name: before.name,
    id: before._id,
    _acl: aclOf(collection, before) ?? [],
    _created: stamp,
    _createdby: user.name,
    _createdbyid: user._id,
    _modified: stamp,
    _modifiedby: user.name,
    _modifiedbyid: user._id,
    ...fields,
  });
  if (deleted || !after) {
    store.insert(name, entry({ _version: version, item: old, ...(deleted ? { _deleted: stamp } : {}) }), true);
    return;
  }
  // A full copy when the history of this document does not reach this version (new, or a version skipped as too large).
  const last = historyOf(server, collection, String(before._id)).at(-1);
  if (version % historyFullEvery === 0 || !last || last._version !== version) store.insert(name, entry({ _version: version, item: old }), true);
  const delta = differ.diff(old, publicDoc(collection, after));
  if (delta !== undefined) store.insert(name, entry({ _version: version + 1, delta, name: after.name, _acl: aclOf(collection, after) ?? [] }), true);
}

/**
 * A document as it was at `version` from its history: the latest full copy at or before it, then the deltas up
 * to it, in order (server-latest's GetDocumentVersion). Undefined when the history does not reach it, or
 * `readable` refuses one of the entries needed.
 */
export function versionFromHistory(entries: AnyDoc[], version: number, readable: (entry: AnyDoc) => boolean): AnyDoc | undefined {
  const upTo = entries.filter((e) => Number(e._version ?? 0) <= version);
  const base = upTo.filter((e) => typeof e.item === "object" && e.item !== null).at(-1);
  if (!base || !readable(base)) return undefined;
  let doc = clone(base.item as AnyDoc);
  for (const e of upTo) {
    if (Number(e._version) <= Number(base._version) || e.delta === undefined) continue;
    if (!readable(e)) return undefined;
    doc = differ.patch(doc, clone(e.delta) as Parameters<typeof differ.patch>[1]) as AnyDoc;
  }
  return doc;
}

/**
 * A full replacement of `original` by `item`: keeps `_id` and the `_created*` fields, bumps `_version`, stamps
 * `_modified*`, keeps the old `_acl` when the item has none, and stores the old version in history.
 */
export function replaceDocument(server: ServerContext, collection: string, original: AnyDoc, item: AnyDoc, user: TokenUser): AnyDoc {
  const doc = clone(item);
  const skipHistory = doc._skiphistory === true;
  delete doc._skiphistory;
  doc._id = original._id;
  for (const key of ["_created", "_createdby", "_createdbyid"]) if (original[key] !== undefined) doc[key] = original[key];
  if (typeof doc._type !== "string" || doc._type === "") doc._type = original._type ?? "unknown";
  if (collection !== "fs.files" && !Array.isArray(doc._acl)) doc._acl = original._acl;
  stampModified(server, doc, original, user);
  const stored = server.store.replace(collection, doc, "replace");
  if (!skipHistory) saveHistory(server, collection, original, user, false, stored);
  return stored;
}

export function stampModified(server: ServerContext, doc: AnyDoc, original: AnyDoc, user: TokenUser): void {
  doc._modified = server.stamp();
  doc._modifiedby = user.name;
  doc._modifiedbyid = user._id;
  doc._version = (typeof original._version === "number" ? original._version : 0) + 1;
}

/** An update document is one whose keys all start with `$`. */
export function isUpdateDocument(item: AnyDoc): boolean {
  const keys = Object.keys(item);
  return keys.length > 0 && keys.every((k) => k.startsWith("$"));
}
