/** Database commands with MongoDB semantics through mingo and OpenFlow's ACL rules. */
import { aclOf, aclAllows, isAdmin, principalIds, Rights } from "../acl.js";
import { hashPassword, USERS, type TokenUser } from "../auth.js";
import { checkWrite, FILES, keepProtectedFields, matchingDocs, MQ, visibleDocs, WORKITEMS } from "../authz.js";
import type { Handler, HandlerContext, ServerContext } from "../context.js";
import {
  assertObject, historyName, historyOf, isUpdateDocument, versionFromHistory, prepareInsert, replaceDocument, resolveCollection, saveHistory, stampModified,
} from "../documents.js";
import { commandError } from "../errors.js";
import type { OpenFlowError } from "../../runtime/errors.js";
import { aggregate, applyModifier, compile, decodeRegexps, find, objectField, parseOrderBy, parseQuery } from "../query.js";
import { publicDoc } from "../secrets.js";
import { clone, type AnyDoc } from "../store.js";

/** Fields only the write path sets (stampModified sets _modified* and _version after the update). */
const SERVER_FIELDS = ["_id", "_created", "_createdby", "_createdbyid", "_modified", "_modifiedby", "_modifiedbyid", "_version"];

/** MongoDB's limit of indexes per collection (`_id` included). */
const MAX_INDEXES = 64;

/** Collections dropcollection/createcollection refuse (../../schemas/commands/dropcollection.json). */
const RESERVED = new Set(["workflow", "entities", "config", "audit", "jslog", "openrpa", "nodered", "openrpa_instances", "forms", "workflow_instances", "users", "git"]);
/** System collections server-latest does not list, refused here too: dropping them would bypass their handlers. */
const SYSTEM = new Set([MQ, WORKITEMS, FILES, "fs.chunks"]);

function mayManageCollections(user: TokenUser): boolean {
  return isAdmin(user) || user.username === "testuser";
}

function removeFields(payload: AnyDoc, ...fields: string[]): AnyDoc {
  const reply = { ...payload };
  for (const f of fields) delete reply[f];
  return reply;
}

function intField(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

function publicList(collection: string, docs: AnyDoc[]): AnyDoc[] {
  return docs.map((d) => publicDoc(collection, d));
}

/** `newpassword` on a user document becomes its `passwordhash`; anything else (a role) never gets a hash. */
async function hashNewPassword(collection: string, item: AnyDoc): Promise<void> {
  if (collection !== USERS) return;
  if (item._type === "user" && typeof item.newpassword === "string" && item.newpassword !== "") item.passwordhash = await hashPassword(item.newpassword);
  delete item.newpassword;
}

async function insertItem(ctx: HandlerContext, collection: string, raw: unknown): Promise<AnyDoc> {
  if (raw === undefined || raw === null) throw commandError("Cannot create null item");
  const item = assertObject(raw, "item");
  if (collection.endsWith("_hist")) throw commandError(`Access denied, no authorization to InsertOne to ${collection}`);
  if (collection === FILES) throw commandError("Use savefile to add files");
  const doc = prepareInsert(ctx.server, collection, item, ctx.user);
  checkWrite(ctx.server, ctx.user, collection, "insert", undefined, doc);
  await hashNewPassword(collection, doc);
  return publicDoc(collection, ctx.server.store.insert(collection, doc));
}

/** The text both real servers use when the stored document's ACL refuses an update. */
function updateDenied(original: AnyDoc): OpenFlowError {
  return commandError(`Access denied, no authorization to UpdateOne ${String(original._type ?? "unknown")} ${String(original.name ?? "")} to database`);
}

/** Full replace of the document `item._id` (updateone without query, insertorupdateone match). */
async function replaceItem(ctx: HandlerContext, collection: string, original: AnyDoc, item: AnyDoc): Promise<AnyDoc> {
  if (!aclAllows(aclOf(collection, original), ctx.user, Rights.update)) throw updateDenied(original);
  const next = clone(item);
  if (collection === USERS && next.passwordhash === undefined && original.passwordhash !== undefined) next.passwordhash = original.passwordhash;
  next._id = original._id;
  keepProtectedFields(ctx.user, collection, original, next);
  checkWrite(ctx.server, ctx.user, collection, "update", original, next);
  await hashNewPassword(collection, next);
  return publicDoc(collection, replaceDocument(ctx.server, collection, original, next, ctx.user));
}

/** Apply an update document ($set, $inc, ...) to one stored document. */
async function applyUpdate(server: ServerContext, collection: string, original: AnyDoc, modifier: AnyDoc, user: TokenUser): Promise<AnyDoc> {
  const doc = clone(original);
  for (const [op, fields] of Object.entries(modifier)) {
    if (typeof fields === "object" && fields !== null && ("_id" in fields)) throw commandError(`Performing an update on the path '_id' would modify the immutable field '_id' (${op})`);
  }
  applyModifier(doc, decodeRegexps(modifier) as AnyDoc);
  // The server owns _id, _created*, _modified* and _version: an update document cannot forge them.
  for (const key of SERVER_FIELDS) {
    if (original[key] === undefined) delete doc[key];
    else doc[key] = original[key];
  }
  checkWrite(server, user, collection, "update", original, doc);
  await hashNewPassword(collection, doc);
  stampModified(server, doc, original, user);
  const stored = server.store.replace(collection, doc, "update");
  saveHistory(server, collection, original, user, false, stored);
  return stored;
}

function updateResult(matched: number, modified: number): AnyDoc {
  return { acknowledged: true, matchedCount: matched, modifiedCount: modified, upsertedCount: 0, upsertedId: null };
}

async function insertOrUpdate(ctx: HandlerContext, collection: string, raw: unknown, uniqeness: unknown): Promise<{ result: AnyDoc; opresult: AnyDoc }> {
  if (raw === undefined || raw === null) throw commandError("Cannot create null item");
  const item = assertObject(raw, "item");
  const fields = typeof uniqeness === "string" && uniqeness.trim() !== "" ? uniqeness.split(",").map((f) => f.trim()).filter(Boolean) : [];
  let query: AnyDoc | undefined;
  if (fields.length > 0) {
    query = {};
    for (const f of fields) query[f] = item[f] ?? null;
  } else if (item._id !== undefined && item._id !== null && item._id !== "") {
    query = { _id: String(item._id) };
  }
  if (!query) return { result: await insertItem(ctx, collection, item), opresult: updateResult(0, 0) };
  const matches = matchingDocs(ctx.server, collection, ctx.user, compile(query), { limit: 2 });
  if (matches.length > 1) throw commandError(`${JSON.stringify(query)} is not uniqe, more than 1 item in collection matches this`);
  const match = matches[0];
  if (!match) {
    // No readable document matches: a new one with a new _id. The requested _id is not used, whether or not an
    // unreadable document holds it: a duplicate-key error (or a different reply) told that it exists.
    const fresh = "_id" in query ? { ...item } : item;
    if (fresh !== item) delete fresh._id;
    return { result: await insertItem(ctx, collection, fresh), opresult: updateResult(0, 0) };
  }
  const original = ctx.server.store.get(collection, String(match._id));
  if (!original) throw commandError("item not found or Access Denied");
  const merged = { ...item };
  for (const [k, v] of Object.entries(original)) if (k.startsWith("_") && merged[k] === undefined) merged[k] = v;
  const result = await replaceItem(ctx, collection, original, merged);
  return { result, opresult: updateResult(1, 1) };
}

function itemsField(value: unknown): unknown[] {
  let items = value;
  if (typeof items === "string") {
    try {
      items = JSON.parse(items);
    } catch {
      throw commandError("items must be an array or a JSON-string of one");
    }
  }
  if (!Array.isArray(items)) throw commandError("items must be an array");
  return items;
}

export const dataHandlers: Record<string, Handler> = {
  query(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const query = parseQuery(p.query);
    const projection = collection === "fs.files" ? undefined : objectField(p.projection, "projection", false);
    const docs = visibleDocs(ctx.server, collection, ctx.user, p.queryas);
    const result = find(docs, query, { projection, orderby: parseOrderBy(p.orderby), skip: intField(p.skip, 0), top: intField(p.top, 0) || 500 });
    return { ...removeFields(p, "query"), result: publicList(collection, result) };
  },

  count(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const query = compile(parseQuery(p.query));
    const result = matchingDocs(ctx.server, collection, ctx.user, query, { queryas: p.queryas }).length;
    return { ...removeFields(p, "query"), result };
  },

  // The real server-latest cannot read a string payload here (Q15); this one implements the intended command.
  distinct(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    if (typeof p.field !== "string" || p.field === "") throw commandError("field is mandatory");
    const query = compile(parseQuery(p.query, false));
    const seen = new Map<string, unknown>();
    for (const stored of matchingDocs(ctx.server, collection, ctx.user, query, { queryas: p.queryas })) {
      const doc = publicDoc(collection, stored);
      const found = find([doc], {}, { projection: { [p.field]: 1 } })[0];
      let value: unknown = found;
      for (const part of p.field.split(".")) value = value && typeof value === "object" ? (value as AnyDoc)[part] : undefined;
      for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) seen.set(JSON.stringify(v), v);
    }
    return { ...removeFields(p, "query"), results: [...seen.values()] };
  },

  aggregate(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    let pipeline: unknown = p.aggregates;
    if (typeof pipeline === "string") pipeline = objectOrArray(pipeline);
    if (!Array.isArray(pipeline)) throw commandError("aggregates must be an array of pipeline stages");
    const docs = visibleDocs(ctx.server, collection, ctx.user, p.queryas);
    const result = aggregate(docs, decodeRegexps(pipeline) as AnyDoc[], (name) => visibleDocs(ctx.server, resolveCollection(name), ctx.user));
    return { ...removeFields(p, "aggregates"), result: publicList(collection, result) };
  },

  getdocumentversion(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const id = typeof p.id === "string" && p.id !== "" ? p.id : typeof p._id === "string" ? p._id : "";
    if (!id) throw commandError("id is mandatory");
    const version = typeof p.version === "number" ? p.version : Number(p.version ?? -1);
    const current = ctx.server.store.get(collection, id);
    const readable = (acl: unknown) => aclAllows(acl, ctx.user, Rights.read);
    let result: AnyDoc | null = null;
    if (current && (version < 0 || version >= Number(current._version ?? 0))) {
      if (readable(aclOf(collection, current))) result = publicDoc(collection, clone(current));
    } else {
      const entries = historyOf(ctx.server, collection, id);
      const wanted = version < 0 ? Number(entries.at(-1)?._version ?? 0) : version;
      result = versionFromHistory(entries, wanted, (e) => readable(e._acl)) ?? null;
    }
    return { ...p, result };
  },

  async insertone(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const result = await insertItem(ctx, collection, p.item);
    return { ...removeFields(p, "item"), result };
  },

  async insertmany(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const items = itemsField(p.items);
    const results: AnyDoc[] = [];
    for (const item of items) results.push(await insertItem(ctx, collection, item));
    return { ...removeFields(p, "items"), results: p.skipresults === true ? [] : results };
  },

  async updateone(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    if (p.item === undefined || p.item === null) throw commandError("Cannot update null item");
    const item = assertObject(p.item, "item");
    const hasQuery = p.query !== undefined && p.query !== null && p.query !== "";
    let result: AnyDoc;
    let opresult: AnyDoc;
    if (hasQuery || isUpdateDocument(item)) {
      const query = hasQuery ? parseQuery(p.query) : { _id: String(item._id ?? "") };
      const match = matchingDocs(ctx.server, collection, ctx.user, compile(query), { limit: 1 })[0];
      const original = match ? ctx.server.store.get(collection, String(match._id)) : undefined;
      if (!original) throw commandError("item not found or Access Denied");
      if (!aclAllows(aclOf(collection, original), ctx.user, Rights.update)) throw updateDenied(original);
      result = isUpdateDocument(item)
        ? publicDoc(collection, await applyUpdate(ctx.server, collection, original, item, ctx.user))
        : await replaceItem(ctx, collection, original, { ...item, _id: original._id });
      opresult = updateResult(1, 1);
    } else {
      if (item._id === undefined || item._id === null || item._id === "") throw commandError("Cannot update item without _id");
      const original = ctx.server.store.get(collection, String(item._id));
      if (!original || !aclAllows(aclOf(collection, original), ctx.user, Rights.read)) throw commandError("item not found or Access Denied");
      result = await replaceItem(ctx, collection, original, item);
      opresult = updateResult(1, 1);
    }
    return { ...removeFields(p, "item", "query"), result, opresult };
  },

  async updatemany(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    if (p.item === undefined || p.item === null) throw commandError("Cannot update null item");
    const item = clone(assertObject(p.item, "item"));
    if (!isUpdateDocument(item)) throw commandError("updatemany needs an update document ($set, $inc, ...)");
    const set = item.$set;
    if (set && typeof set === "object") delete (set as AnyDoc)._type;
    const query = compile(parseQuery(p.query));
    let matched = 0;
    let modified = 0;
    for (const doc of matchingDocs(ctx.server, collection, ctx.user, query)) {
      matched++;
      if (!aclAllows(aclOf(collection, doc), ctx.user, Rights.update)) continue;
      await applyUpdate(ctx.server, collection, doc, item, ctx.user);
      modified++;
    }
    return { ...removeFields(p, "item", "query"), opresult: updateResult(matched, modified) };
  },

  async insertorupdateone(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const { result, opresult } = await insertOrUpdate(ctx, collection, p.item, p.uniqeness);
    return { ...removeFields(p, "item"), result, opresult };
  },

  async insertorupdatemany(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const results: AnyDoc[] = [];
    for (const item of itemsField(p.items)) results.push((await insertOrUpdate(ctx, collection, item, p.uniqeness)).result);
    return { ...removeFields(p, "items"), results: p.skipresults === true ? [] : results };
  },

  deleteone(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const id = typeof p.id === "string" && p.id !== "" ? p.id : typeof p._id === "string" && p._id !== "" ? p._id : "";
    if (!id) throw commandError("id cannot be null");
    const doc = ctx.server.store.get(collection, id);
    if (!doc || !aclAllows(aclOf(collection, doc), ctx.user, Rights.delete)) throw commandError("item not found, or Access Denied");
    if (collection === MQ && doc._type === "workitemqueue") throw commandError("Access Denied, you must call DeleteWorkItemQueue to delete");
    checkWrite(ctx.server, ctx.user, collection, "delete", doc, undefined);
    deleteDocument(ctx.server, collection, doc, ctx.user);
    const reply: AnyDoc = { ...removeFields(p, "id"), affectedrows: 1 };
    // server-latest echoes the jwt in this one reply (../../docs/protocol.md#per-command-jwt).
    if (ctx.requestJwt) reply.jwt = ctx.requestJwt;
    return reply;
  },

  deletemany(ctx) {
    const p = ctx.payload;
    const collection = resolveCollection(p.collectionname);
    const hasIds = Array.isArray(p.ids) && p.ids.length > 0;
    const hasQuery = p.query !== undefined && p.query !== null && p.query !== "";
    if (!hasIds && !hasQuery) throw commandError("id cannot be null");
    // ACL first: the filter only ever sees documents the caller may read and delete (public view). Run on every
    // document, its run time told an admin's password hash one character at a time.
    let targets: AnyDoc[];
    if (hasIds) {
      const ids = new Set((p.ids as unknown[]).map(String));
      targets = matchingDocs(ctx.server, collection, ctx.user, undefined, { right: Rights.delete }).filter((d) => ids.has(String(d._id)));
    } else {
      targets = matchingDocs(ctx.server, collection, ctx.user, compile(parseQuery(p.query)), { right: Rights.delete });
    }
    for (const doc of targets) checkWrite(ctx.server, ctx.user, collection, "delete", doc, undefined);
    for (const doc of targets) deleteDocument(ctx.server, collection, doc, ctx.user);
    return { ...removeFields(p, "ids", "query"), affectedrows: targets.length };
  },

  // An admin sees every collection; anyone else those holding a document he may read (a collection's name told
  // what other users store), plus the ones every server has.
  listcollections(ctx) {
    const p = ctx.payload;
    const admin = isAdmin(ctx.user);
    const ids = principalIds(ctx.user);
    const names = new Set(ctx.server.store.names().filter((n) => admin || ctx.server.store.collection(n)?.readableBy(ids)));
    names.add("entities");
    names.add("audit");
    const result = [...names]
      .filter((n) => !n.endsWith(".chunks") && !n.startsWith("system."))
      .filter((n) => p.includehist === true || !n.endsWith("_hist"))
      .sort()
      .map((name) => ({ name, type: "collection", options: ctx.server.store.collection(name)?.options ?? {}, info: { readOnly: false } }));
    return { ...p, result };
  },

  createcollection(ctx) {
    const p = ctx.payload;
    if (typeof p.collectionname !== "string" || p.collectionname === "") throw commandError("collectionname is mandatory");
    const name = p.collectionname;
    if (!mayManageCollections(ctx.user)) throw commandError(`Access denied, creating collection ${name}`);
    if (RESERVED.has(name)) throw commandError(`Access denied, creating reserved collection ${name}`);
    const options: AnyDoc = { ...p };
    for (const k of ["collectionname", "priority", "traceId", "spanId", "jwt"]) delete options[k];
    if (!ctx.server.store.createCollection(name, options)) throw commandError(`Collection ${name} already exists`);
    return { ...p };
  },

  // Honoured here (server-latest cannot read these over the legacy protocol, Q15): an index makes top-level
  // equality and $in lookups on the field cost the matches, not a scan (store.ts). Like MongoDB, at most 64
  // indexes per collection.
  createindex(ctx) {
    const p = ctx.payload;
    const name = resolveCollection(p.collectionname);
    if (!mayManageCollections(ctx.user)) throw commandError(`Access denied, creating an index on ${name}`);
    const index = assertObject(p.index, "index");
    const fields = Object.keys(index);
    if (fields.length === 0 || fields.some((f) => f === "" || f.startsWith("$"))) throw commandError("index must name at least one field, e.g. {name: 1}");
    const coll = ctx.server.store.collection(name, true);
    if (coll.indexedFields.length + fields.filter((f) => !coll.indexedFields.includes(f)).length > MAX_INDEXES) throw commandError(`add index fails, too many indexes for ${name} (at most ${MAX_INDEXES})`);
    for (const field of fields) coll.createIndex(field);
    const result = typeof p.name === "string" && p.name !== "" ? p.name : fields.map((f) => `${f}_${String(index[f])}`).join("_");
    return { ...p, result };
  },

  getindexes(ctx) {
    const p = ctx.payload;
    const coll = ctx.server.store.collection(resolveCollection(p.collectionname));
    const results = (coll?.indexedFields ?? ["_id"]).map((f) => ({ v: 2, key: { [f]: 1 }, name: f === "_id" ? "_id_" : `${f}_1` }));
    return { ...p, results };
  },

  dropindex(ctx) {
    const p = ctx.payload;
    const name = resolveCollection(p.collectionname);
    if (!mayManageCollections(ctx.user)) throw commandError(`Access denied, dropping an index on ${name}`);
    const coll = ctx.server.store.collection(name);
    const before = coll?.indexedFields.length ?? 1;
    const field = typeof p.name === "string" ? p.name.replace(/_-?1$/, "") : "";
    if (!coll || !coll.dropIndex(field)) throw commandError(`index not found with name [${String(p.name)}]`);
    return { ...p, result: { nIndexesWas: before, ok: 1 } };
  },

  dropcollection(ctx) {
    const p = ctx.payload;
    const name = resolveCollection(p.collectionname);
    if (!mayManageCollections(ctx.user)) throw commandError(`Access denied, droppping collection ${name}`);
    if (RESERVED.has(name)) throw commandError(`Access denied, dropping reserved collection ${name}`);
    if (!isAdmin(ctx.user) && (SYSTEM.has(name) || name.endsWith("_hist"))) throw commandError(`Access denied, dropping system collection ${name}`);
    const store = ctx.server.store;
    store.dropCollection(name);
    store.dropCollection(historyName(name));
    if (name.endsWith(".files")) store.dropCollection(name.replace(/\.files$/, ".chunks"));
    if (name === "fs.files") ctx.server.files.clear();
    return { ...p };
  },
};

function objectOrArray(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw commandError(`aggregates is not valid JSON: ${(err as Error).message}`);
  }
}

export function deleteDocument(server: ServerContext, collection: string, doc: AnyDoc, user: TokenUser): void {
  saveHistory(server, collection, doc, user, true);
  server.store.remove(collection, String(doc._id));
  if (collection === FILES) server.files.removeContent(String(doc._id));
}
