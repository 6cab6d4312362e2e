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
import { clone, type AnyDoc } from "./store.js";

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

/** Record `before` in the history collection so getdocumentversion can rebuild it. */
export function saveHistory(server: ServerContext, collection: string, before: AnyDoc, user: TokenUser, deleted = false): void {
  if (collection.endsWith("_hist")) return;
  const stamp = server.stamp();
  server.store.insert(historyName(collection), {
    _id: newObjectId(server.now()),
    _type: before._type,
    name: before.name,
    id: before._id,
    _version: before._version ?? 0,
    item: publicDoc(collection, before),
    _acl: aclOf(collection, before) ?? [],
    _created: stamp,
    _createdby: user.name,
    _createdbyid: user._id,
    _modified: stamp,
    _modifiedby: user.name,
    _modifiedbyid: user._id,
    ...(deleted ? { _deleted: stamp } : {}),
  });
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
  if (!skipHistory) saveHistory(server, collection, original, user);
  return server.store.replace(collection, doc, "replace");
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
