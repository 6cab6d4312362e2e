/**
 * The one authorization path of the local server. Every command passes `currentUser` in the dispatcher (the
 * token's user as the store holds it now: refused when gone or disabled); handlers then ask this module, never
 * the store directly, which documents a caller may see or change and which queues it may use:
 *
 * - reads: `visibleDocs` / `matchingDocs` apply the ACL first and only then the caller's filter, on the public
 *   view of each document, so a filter never runs on a document the caller cannot read or on a secret;
 * - writes: `checkWrite` holds the invariants of the system collections (users, mq, workitems, history) for
 *   insert, update and delete, whatever command does the write;
 * - queues and exchanges: `authorizeConsume` / `authorizePublish` / `authorizeExchange` as server-latest checks
 *   them (amqp_force_sender_has_read), plus the checks it lacks (listed in docs/security.md);
 * - sessions: `watchSessions` re-checks open connections whenever a user or role document changes.
 */
import { aclOf, aclAllows, isAdmin, principalIds, Rights, rightsMask, WellknownIds, wellknownRoleNames, type Principal } from "./acl.js";
import { USERS, type TokenUser } from "./auth.js";
import type { Connection } from "./connection.js";
import type { ServerContext } from "./context.js";
import { prepareInsert, principalFor } from "./documents.js";
import { authError, commandError } from "./errors.js";
import { nameKeys, normalizeName } from "./names.js";
import type { Filter } from "./query.js";
import { publicDoc } from "./secrets.js";
import type { AnyDoc } from "./store.js";

export const MQ = "mq";
export const WORKITEMS = "workitems";
export const FILES = "fs.files";

// ---------------------------------------------------------------------------------------------------------------
// Sessions

/**
 * The user behind a token or session, reloaded from the store (current roles): an "auth" error when the user is
 * gone or disabled, or when the impostor behind an impersonation is. Tokens are not trusted beyond their
 * signature: a disabled user's long-lived token stops working on the next command.
 */
export function currentUser(server: ServerContext, user: Pick<TokenUser, "_id" | "impostor">): TokenUser {
  const reloaded = server.auth.reload(user);
  if (!reloaded) throw authError(`could not find user by ${user._id}`);
  if (reloaded.disabled) throw authError(`Disabled user ${reloaded.username} cannot use this session`);
  if (user.impostor) {
    const impostor = server.store.get(USERS, user.impostor);
    if (!impostor || impostor._type !== "user" || impostor.disabled === true) throw authError(`The user ${user.impostor} behind this impersonation is gone or disabled`);
    // Impersonation needs update on the target's user document (signin checks it); a token outlives that check,
    // so it is made again with the impostor's current roles: a revoked right ends the impersonation at once.
    const target = server.store.get(USERS, reloaded._id);
    const behind = server.auth.reload({ _id: user.impostor });
    if (!behind || !aclAllows(target?._acl, behind, Rights.update)) throw authError(`${behind?.name ?? user.impostor} is no longer allowed to impersonate ${reloaded.name}`);
  }
  return reloaded;
}

/**
 * Keep every open session current: when a user document changes, that user's connections get the reloaded user
 * (or are closed when it is disabled or deleted, as server-latest closes them); when a role's membership changes,
 * every signed-in connection reloads its roles. Watches and queue deliveries check `conn.user`, so a user who
 * loses a role stops receiving what the role gave on the same tick.
 */
export function watchSessions(server: ServerContext, close: (conn: Connection, why: string) => void): void {
  server.store.onChange((change) => {
    if (change.collection !== USERS) return;
    const doc = change.after ?? change.before;
    if (!doc) return;
    const type = change.after?._type ?? change.before?._type;
    const id = String(doc._id);
    let affected: (conn: Connection) => boolean;
    if (type === "role") {
      const before = JSON.stringify(change.before?.members ?? null);
      const after = JSON.stringify(change.after?.members ?? null);
      if (change.operationType !== "insert" && change.operationType !== "delete" && before === after) return;
      // Only the users inside the role, before or after, gain or lose it (nested roles included).
      const inside = memberClosure(server, [...memberIds(change.before), ...memberIds(change.after)]);
      // The impostor behind an impersonated session too: his roles may be what allowed the impersonation.
      affected = (conn) => inside.has(conn.user?._id ?? "") || inside.has(conn.user?.impostor ?? "");
    } else {
      affected = (conn) => conn.user?._id === id || conn.user?.impostor === id;
    }
    for (const conn of server.connections) {
      if (conn.closed || !conn.user || !affected(conn)) continue;
      try {
        conn.user = currentUser(server, conn.user);
      } catch (err) {
        const why = (err as Error).message;
        conn.user = undefined;
        conn.jwt = undefined;
        server.watches.removeConnection(conn);
        server.broker.removeConnection(conn);
        close(conn, why);
      }
    }
  });
}

function memberIds(role: AnyDoc | undefined): string[] {
  const members = Array.isArray(role?.members) ? (role.members as unknown[]) : [];
  return members.map((m) => (typeof m === "object" && m !== null ? String((m as AnyDoc)._id) : "")).filter(Boolean);
}

/** The ids of `ids` and, for the roles among them, of their members, transitively (each visited once). */
function memberClosure(server: ServerContext, ids: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...ids];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    const doc = server.store.get(USERS, id);
    if (doc?._type === "role") todo.push(...memberIds(doc));
  }
  return seen;
}

// ---------------------------------------------------------------------------------------------------------------
// Reads

/**
 * The principal behind `queryas`: the caller himself, or a user, role or customer whose document he may read. Any id
 * (server-latest looks it up as root) let a user count what another user's roles give and so learn who is in
 * which role; an id he may not read is answered like one that does not exist.
 */
function queryasPrincipal(server: ServerContext, user: Principal, id: string): Principal {
  if (id === user._id) return user;
  const doc = server.store.get(USERS, id);
  if (!doc || !["user", "role", "customer"].includes(String(doc._type)) || !aclAllows(doc._acl, user, Rights.read)) throw commandError(`queryas ${id} not found or access denied`);
  return principalFor(server, id);
}

/**
 * Documents of `collection` that `user` (and `queryas`, when given) may read, in store order: stored (frozen)
 * objects. Found through the collection's reader index, so the work is proportional to what the caller may read,
 * never to the documents only others may read (their number cannot be timed); `query` narrows the candidates
 * through the `_id` and `createindex` indexes first.
 */
function readableDocs(server: ServerContext, collection: string, user: Principal, queryas?: unknown, query?: AnyDoc): AnyDoc[] {
  const as = typeof queryas === "string" && queryas !== "" ? queryasPrincipal(server, user, queryas) : undefined;
  const coll = server.store.collection(collection);
  if (!coll) return [];
  const userIds = principalIds(user);
  const asIds = as ? principalIds(as) : undefined;
  // Admins read everything; `queryas` narrows an admin to what the other principal reads.
  const readers = !isAdmin(user) ? userIds : as && !isAdmin(as) ? asIds : undefined;
  return coll.candidates(readers, coll.plan(query)).filter((doc) => {
    const acl = aclOf(collection, doc);
    return aclAllows(acl, user, Rights.read, userIds) && (!as || aclAllows(acl, as, Rights.read, asIds));
  });
}

/**
 * What reads (query, count, distinct, aggregate and its `$lookup`) run on: the readable documents as clients may
 * see them, so `passwordhash` can neither be projected under another name nor probed with a filter. Frozen:
 * query.ts copies what an evaluation might change.
 */
export function visibleDocs(server: ServerContext, collection: string, user: Principal, queryas?: unknown, query?: AnyDoc): AnyDoc[] {
  const docs = readableDocs(server, collection, user, queryas, query);
  return collection === USERS ? docs.map((d) => Object.freeze(publicDoc(collection, d))) : docs;
}

export interface MatchOptions {
  /** A right needed besides read (update, delete). */
  right?: number;
  /** Stop after this many. */
  limit?: number;
  /** Also readable by this principal (the `queryas` field). */
  queryas?: unknown;
}

/**
 * Stored documents the user may read (and holds `right` on) whose public view matches `filter`, in store order.
 * The ACL is applied first: the filter never runs on a document the caller cannot read (its run time, or an
 * error it raises, would tell about the content), nor on a secret field; a filter that fails at run time is a
 * command error.
 */
export function matchingDocs(server: ServerContext, collection: string, user: Principal, filter: Filter | undefined, options: MatchOptions = {}): AnyDoc[] {
  const { right = Rights.read, limit = Infinity, queryas } = options;
  const ids = principalIds(user);
  const out: AnyDoc[] = [];
  for (const doc of readableDocs(server, collection, user, queryas, filter?.query)) {
    if (out.length >= limit) break;
    if (right !== Rights.read && !aclAllows(aclOf(collection, doc), user, right, ids)) continue;
    if (filter) {
      let hit: boolean;
      try {
        hit = filter.test(publicDoc(collection, doc));
      } catch (err) {
        throw commandError(`Invalid query: ${(err as Error).message}`);
      }
      if (!hit) continue;
    }
    out.push(doc);
  }
  return out;
}

/** A stored file the user may read, or the error a missing and an unreadable file share. */
export function readableFile(server: ServerContext, user: Principal, id: string): AnyDoc {
  const doc = server.store.get(FILES, id);
  if (!doc || !aclAllows(aclOf(FILES, doc), user, Rights.read)) throw commandError(`File ${id} not found`);
  return doc;
}

// ---------------------------------------------------------------------------------------------------------------
// Names

/** Names no principal may take by a rename (and no work item queue role): built-in roles, root, well-known ids. */
const RESERVED_NAMES = new Set<string>(["root", ...Object.keys(wellknownRoleNames), ...Object.values(WellknownIds)]);
const WELLKNOWN_ID_SET = new Set<string>(Object.values(WellknownIds));

export function isBuiltinPrincipal(id: string): boolean {
  return WELLKNOWN_ID_SET.has(id);
}

function same(a: unknown, b: unknown): boolean {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/**
 * The user or role other than `exceptId` whose name (or a user's username) reads like `name`: the same after
 * normalization, case-insensitively, or confusable with it (names.ts, UTS #39 skeletons).
 */
function principalNamed(server: ServerContext, name: string, exceptId?: string): AnyDoc | undefined {
  const keys = new Set(nameKeys(name));
  const clash = (value: unknown) => typeof value === "string" && nameKeys(value).some((k) => keys.has(k));
  return server.store.all(USERS).find((d) => String(d._id) !== exceptId && (d._type === "user" || d._type === "role") && (clash(d.name) || (d._type === "user" && clash(d.username))));
}

/** The reserved name `name` reads like, if any. */
function reservedLike(name: string): string | undefined {
  const keys = new Set(nameKeys(name));
  for (const reserved of RESERVED_NAMES) if (nameKeys(reserved).some((k) => keys.has(k))) return reserved;
  return undefined;
}

/** Refuse `name` for a new or renamed principal: taken by another user or role, or reserved (but for its own built-in role). */
function assertNameFree(server: ServerContext, name: string, exceptId: string | undefined, what: string): void {
  const reserved = reservedLike(name);
  if (reserved !== undefined && !(exceptId && wellknownRoleNames[reserved] === exceptId)) {
    throw commandError(`Access denied, ${what} '${name}' is a reserved name`);
  }
  const taken = principalNamed(server, name, exceptId);
  if (taken) throw commandError(`Access denied, ${what} '${name}' already exists${taken.name !== name ? ` (or a name that reads the same: '${String(taken.name)}')` : ""}`);
}

/** Store a principal's names normalized (names.ts): what another name is compared with, and what people see. */
function normalizeNames(next: AnyDoc): void {
  if (typeof next.name === "string") next.name = normalizeName(next.name);
  if (typeof next.username === "string") next.username = normalizeName(next.username);
}

// ---------------------------------------------------------------------------------------------------------------
// Writes

/** Fields of a user document only admins may change (the rest: name, email, newpassword and own fields). */
const ADMIN_ONLY_USER_FIELDS = [
  "_type", "username", "disabled", "dblocked", "dbusage", "validated", "emailvalidated", "formvalidated", "roles", "members",
  "customerid", "selectedcustomerid", "federationids", "impostor", "_acl", "passwordhash",
];
/** Fields of a role document only admins may change (members are managed by whoever may update the role). */
const ADMIN_ONLY_ROLE_FIELDS = ["_type", "username", "passwordhash", "customerid"];

type WriteOp = "insert" | "update" | "delete";

/** JSON text with object keys sorted, so that a client's key order does not count as a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as AnyDoc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Whether `field` differs between two versions: ACLs by meaning (rights as numbers, entries in any order). */
function changed(field: string, before: unknown, after: unknown): boolean {
  if (field === "_acl" && Array.isArray(before) && Array.isArray(after)) {
    const entry = (a: unknown) => {
      const e = (a ?? {}) as AnyDoc;
      return `${String(e._id)}:${rightsMask(e.rights)}:${e.deny === true}`;
    };
    const norm = (acl: unknown[]) => acl.map(entry).sort().join(",");
    return norm(before) !== norm(after);
  }
  return canonical(before) !== canonical(after);
}

const SYSTEM_HANDLERS: Record<string, string> = {
  [WORKITEMS]: "addworkitem, updateworkitem and deleteworkitem",
  [MQ]: "addworkitemqueue, updateworkitemqueue, deleteworkitemqueue, registerqueue and registerexchange",
};

/**
 * The invariants every direct write (insertone/many, updateone/many, insertorupdateone/many, deleteone/many)
 * must keep, checked with the stored `original` and the document as it would be stored (`next`). Throws a
 * command error naming the rule. The ACL itself (update/delete right) is checked by the caller.
 */
export function checkWrite(server: ServerContext, user: TokenUser, collection: string, op: WriteOp, original: AnyDoc | undefined, next: AnyDoc | undefined): void {
  const admin = isAdmin(user);
  // History is the server's record: nobody, admins included, writes it directly.
  if (collection.endsWith("_hist")) throw commandError(`Access denied, ${collection} is written by the server only`);
  if (collection === "audit") throw commandError("Access denied");
  // server-latest refuses a db-locked user's inserts and updates (not deletes), admins excepted.
  if (user.dblocked && !admin && op !== "delete") throw commandError(`Access denied (db locked) could be due to hitting quota limit for ${user.username}`);
  // A file document ties a name to stored bytes (uniquename, length, ...): only savefile/updatefile write it, so
  // no updateone can point one file at another user's bytes. Its metadata (and ACL) stay the owner's to change.
  if (collection === FILES && op !== "delete") {
    if (op === "insert") throw commandError("Use savefile to add files");
    for (const key of new Set([...Object.keys(original ?? {}), ...Object.keys(next ?? {})])) {
      if (key === "metadata" || key.startsWith("_modified") || key === "_version") continue;
      if (changed(key, original?.[key], next?.[key])) throw commandError(`Access denied, ${key} of a file is written by savefile only`);
    }
    const before = (original?.metadata ?? {}) as AnyDoc;
    const after = (next?.metadata ?? {}) as AnyDoc;
    for (const key of ["name", "filename", "path", "uniquename", "_created", "_createdby", "_createdbyid"]) {
      if (changed(key, before[key], after[key])) throw commandError(`Access denied, metadata.${key} of a file is written by savefile only`);
    }
  }
  const handlers = SYSTEM_HANDLERS[collection];
  if (handlers) {
    // Queue and exchange claims in mq (made by registerqueue/registerexchange) may be shared by their owner
    // (ACL) or released (delete); their name and type stay. Everything else goes through its handlers.
    const claim = collection === MQ && original && (original._type === "queue" || original._type === "exchange");
    const keeps = claim && (op === "delete" || (next && next._type === original._type && next.name === original.name));
    if (!keeps) throw commandError(`Access denied, ${collection} is changed through ${handlers} only`);
  }
  if (collection !== USERS) return;
  if (op === "delete") {
    if (original && isBuiltinPrincipal(String(original._id))) throw commandError(`Access denied, ${String(original.name ?? original._id)} is built in and cannot be deleted`);
    return;
  }
  if (!next) return;
  const type = next._type;
  // A principal's name is text: anything else (["root"], {...}, 42) skipped the name rules below and became a
  // name by String() in its tokens and in every _createdby/_modifiedby it stamps.
  if ((type === "user" || type === "role" || original?._type === "user" || original?._type === "role") && next.name !== undefined && next.name !== null && typeof next.name !== "string") {
    throw commandError(`Access denied, name must be a string, not ${Array.isArray(next.name) ? "an array" : typeof next.name}`);
  }
  if (type === "user" || type === "role" || original?._type === "user" || original?._type === "role") normalizeNames(next);
  if (op === "insert") {
    if (!admin) throw commandError(`Access denied, no authorization to InsertOne ${String(type ?? "unknown")} ${String(next.name ?? "")} to database`);
    if (type === "user") {
      if (typeof next.username !== "string" || next.username === "") throw commandError("Username is mandatory for users");
      const username = next.username.toLowerCase();
      next.username = username;
      assertNameFree(server, username, String(next._id), "user");
      if (typeof next.name === "string" && next.name !== "" && !same(next.name, next.username)) assertNameFree(server, next.name, String(next._id), "user");
    } else if (type === "role") {
      if (typeof next.name !== "string" || next.name === "") throw commandError("Name is mandatory");
      assertNameFree(server, next.name, String(next._id), "role");
    }
    return;
  }
  if (!original) return;
  const origType = original._type;
  if ((origType === "user" || origType === "role") && next._type !== origType && !admin) throw commandError(`Access denied, the _type of ${String(origType)} ${String(original.name ?? "")} cannot change`);
  if (origType === "user" || next._type === "user") {
    if (!admin) {
      for (const field of ADMIN_ONLY_USER_FIELDS) {
        if (changed(field, original[field], next[field])) throw commandError(`Access denied, only admins may change ${field} of user ${String(original.username ?? original.name ?? "")}`);
      }
    }
    if (String(original._id) === user._id && next.disabled === true && original.disabled !== true) throw commandError("Cannot disable yourself");
    if (typeof next.username !== "string" || next.username === "") throw commandError("Username is mandatory for users");
    if (next.username !== original.username) {
      const username = next.username.toLowerCase();
      next.username = username;
      assertNameFree(server, username, String(original._id), "user");
    }
    if (typeof next.name === "string" && next.name !== original.name && !same(next.name, next.username)) assertNameFree(server, next.name, String(original._id), "user");
  } else if (origType === "role") {
    if (!admin) {
      for (const field of ADMIN_ONLY_ROLE_FIELDS) {
        if (changed(field, original[field], next[field])) throw commandError(`Access denied, only admins may change ${field} of role ${String(original.name ?? "")}`);
      }
    }
    if (typeof next.name !== "string" || next.name === "") throw commandError("Name is mandatory");
    if (next.name !== original.name) {
      if (isBuiltinPrincipal(String(original._id))) throw commandError(`Access denied, the built-in role ${String(original.name)} cannot be renamed`);
      assertNameFree(server, next.name, String(original._id), "role");
    }
  }
}

/**
 * Fill the admin-only fields a non-admin's full replacement of a user or role leaves out with their stored
 * values (a replacement is not meant to clear them); a field that is present and different is refused later.
 */
export function keepProtectedFields(user: TokenUser, collection: string, original: AnyDoc, next: AnyDoc): void {
  if (collection !== USERS || isAdmin(user)) return;
  const fields = original._type === "user" ? ADMIN_ONLY_USER_FIELDS : original._type === "role" ? ADMIN_ONLY_ROLE_FIELDS : [];
  for (const field of fields) if (!(field in next) && field in original) next[field] = original[field];
}

/**
 * The role a new work item queue's users get. The real server's EnsureRole reuses an existing role of that name
 * and gives the queue's creator full control of it: a queue named "filestore" or "nodered" handed out the
 * built-in "filestore users" / "nodered users". Here the role must be new and its name not reserved.
 */
export function assertQueueRoleFree(server: ServerContext, roleName: string): void {
  assertNameFree(server, roleName, undefined, "role");
}

// ---------------------------------------------------------------------------------------------------------------
// Queues and exchanges

function isObjectId(name: string): boolean {
  return /^[0-9a-f]{24}$/i.test(name);
}

/**
 * The documents that claim an AMQP name, as server-latest looks them up: a user or role whose `_id` is the name
 * (its personal queue), a `queue` document in mq with that name, or a work item queue of that name (any case).
 */
function queueClaims(server: ServerContext, name: string): AnyDoc[] {
  const out: AnyDoc[] = [];
  if (isObjectId(name)) {
    const principal = server.store.get(USERS, name);
    if (principal) out.push(principal);
  }
  for (const doc of claimsNamed(server, name)) {
    if ((doc._type === "queue" && doc.name === name) || (doc._type === "workitemqueue" && same(doc.name, name))) out.push(doc);
  }
  return out;
}

/** mq documents by lower-cased name, kept current from the change feed: a delivery check costs no scan of mq. */
const claimIndexes = new WeakMap<ServerContext["store"], Map<string, Set<string>>>();

/** The current mq documents (queues, work item queues, exchanges) whose name is `name` in any case. */
function claimsNamed(server: ServerContext, name: string): AnyDoc[] {
  let index = claimIndexes.get(server.store);
  if (!index) {
    const byName = new Map<string, Set<string>>();
    const key = (doc: AnyDoc) => (typeof doc.name === "string" ? doc.name.toLowerCase() : undefined);
    const add = (doc: AnyDoc) => {
      const k = key(doc);
      if (k === undefined) return;
      let ids = byName.get(k);
      if (!ids) byName.set(k, (ids = new Set()));
      ids.add(String(doc._id));
    };
    const remove = (doc: AnyDoc) => {
      const k = key(doc);
      const ids = k === undefined ? undefined : byName.get(k);
      ids?.delete(String(doc._id));
      if (k !== undefined && ids?.size === 0) byName.delete(k);
    };
    for (const doc of server.store.all(MQ)) add(doc);
    server.store.onChange((change) => {
      if (change.collection !== MQ) return;
      if (change.before) remove(change.before);
      if (change.after) add(change.after);
    });
    claimIndexes.set(server.store, byName);
    index = byName;
  }
  // Ids are looked up again: a dropped collection leaves stale ids, never stale documents.
  return [...(index.get(name.toLowerCase()) ?? [])].map((id) => server.store.get(MQ, id)).filter((d): d is AnyDoc => d !== undefined);
}

/** Own id, or the id of one of the user's roles: the user's personal queues. */
function isPersonal(user: TokenUser, name: string): boolean {
  return user._id === name || user.roles.some((r) => r._id === name);
}

/** May `user` use the queue `name` (consume it, or send to it with a token)? Unclaimed names: "unclaimed". */
function queueAccess(server: ServerContext, user: TokenUser, name: string): "allowed" | "denied" | "unclaimed" {
  if (isPersonal(user, name)) return "allowed";
  const claims = queueClaims(server, name);
  if (claims.length === 0) return "unclaimed";
  return claims.every((doc) => aclAllows(doc._acl, user, Rights.read)) ? "allowed" : "denied";
}

function denied(user: TokenUser, kind: string, name: string): Error {
  return commandError(`[${user.name}] Unknown ${kind} ${name} or access denied, missing read permission on ${kind} object`);
}

/**
 * registerqueue with a name: the caller must be allowed on the name's claims (read right); an unclaimed name
 * is claimed for the caller (a `queue` document in mq, caller and admins full control), as server-latest does.
 */
export function authorizeConsume(server: ServerContext, user: TokenUser, name: string): void {
  const access = queueAccess(server, user, name);
  if (access === "denied") throw denied(user, "queue", name);
  if (access === "unclaimed") server.store.insert(MQ, prepareInsert(server, MQ, { _type: "queue", name }, user));
}

/** Who registered each consumer: a request may carry its own `jwt`, so the connection's user is not always it. */
const consumers = new WeakMap<Connection, Map<string, TokenUser>>();

/** Remember that `user` made `conn` consume `queue` (checked again before each delivery). */
export function recordConsumer(conn: Connection, queue: string, user: TokenUser): void {
  let byQueue = consumers.get(conn);
  if (!byQueue) consumers.set(conn, (byQueue = new Map()));
  byQueue.set(queue, user);
}

/**
 * Delivery-time check: may the consumer on `conn` still receive from `name`, with the rights and roles its
 * registering user has now (disabled or deleted: no)? Auto-named queues are their connection's, as long as it may
 * still read the exchanges they are bound to.
 */
export function mayConsume(server: ServerContext, conn: Connection, name: string): boolean {
  const registrant = consumers.get(conn)?.get(name) ?? conn.user;
  if (!registrant) return false;
  let user: TokenUser;
  if (conn.user && conn.user._id === registrant._id && conn.user.impostor === registrant.impostor) {
    user = conn.user;
  } else {
    try {
      user = currentUser(server, registrant);
    } catch {
      return false;
    }
  }
  const owner = server.broker.ownerOf(name);
  if (owner) return owner === conn && server.broker.exchangesOf(name).every((exchange) => exchangeAccess(server, user, exchange));
  return queueAccess(server, user, name) !== "denied";
}

/**
 * queuemessage (and createworkflowinstance) to a queue: refused without read on the queue's claims. Returns
 * whether the sender's token may travel with the message: only when someone answers for the queue (a claim, or
 * the connection that owns an auto-named queue). A message to an unclaimed name waits without the token, since
 * whoever registers that name first would receive it.
 */
export function authorizePublish(server: ServerContext, user: TokenUser, name: string): { withToken: boolean } {
  const access = queueAccess(server, user, name);
  if (access === "denied") throw denied(user, "queue", name);
  return { withToken: access === "allowed" || server.broker.ownerOf(name) !== undefined };
}

/** registerexchange (`claim`: an unclaimed name is claimed) and queuemessage to an exchange: read on its claim. */
export function authorizeExchange(server: ServerContext, user: TokenUser, name: string, claim: boolean): void {
  if (isPersonal(user, name)) return;
  const doc = exchangeClaim(server, name);
  if (doc && !aclAllows(doc._acl, user, Rights.read)) throw denied(user, "exchange", name);
  if (!doc && claim) server.store.insert(MQ, prepareInsert(server, MQ, { _type: "exchange", name }, user));
}

function exchangeClaim(server: ServerContext, name: string): AnyDoc | undefined {
  return claimsNamed(server, name).find((d) => d._type === "exchange" && d.name === name);
}

/** May `user` still receive from the exchange `name` (read on its claim; an unclaimed exchange is open)? */
function exchangeAccess(server: ServerContext, user: TokenUser, name: string): boolean {
  if (isPersonal(user, name)) return true;
  const doc = exchangeClaim(server, name);
  return !doc || aclAllows(doc._acl, user, Rights.read);
}

/**
 * A work item queue's name also claims the AMQP queue of that name (server-latest's FindQueueByName), so it may
 * not take a name another user's registered queue already claims: that queue's consumers would lose it.
 */
export function assertWorkitemQueueName(server: ServerContext, user: TokenUser, name: string, exceptId?: string): void {
  const taken = claimsNamed(server, name).some((d) => d._type === "queue" && !aclAllows(d._acl, user, Rights.read));
  if (taken) throw commandError(`Access denied, the queue name ${name} is in use`);
  // A work item queue claims every name that differs only in case (queueClaims): another one of such a name,
  // or of a look-alike name, would lock its owner out of his own queue.
  const keys = new Set(nameKeys(name));
  const clash = server.store
    .all(MQ)
    .find(
      (d) =>
        String(d._id) !== exceptId &&
        (d._type === "workitemqueue" || (d._type === "queue" && !aclAllows(d._acl, user, Rights.read))) &&
        typeof d.name === "string" &&
        nameKeys(d.name).some((k) => keys.has(k)),
    );
  if (clash) throw commandError(`Work item queue with name ${name} already exists (or a name that reads the same: '${String(clash.name)}')`);
}
