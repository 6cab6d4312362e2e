/**
 * Work item queues and work items (../../docs/protocol.md#work-items). Queues live in `mq`, items in `workitems`, files in
 * `fs.files`. Rights: adding and popping need invoke on the queue; items copy the queue's ACL.
 */
import { addRight, aclAllows, rightsMask, Rights, WellknownIds, type Ace } from "../acl.js";
import { USERS, type TokenUser } from "../auth.js";
import { assertQueueRoleFree, assertWorkitemQueueName, FILES, isBuiltinPrincipal, MQ, readableFile, WORKITEMS } from "../authz.js";
import type { Handler, HandlerContext, ServerContext } from "../context.js";
import { prepareInsert, replaceDocument, saveHistory, stampModified } from "../documents.js";
import { commandError } from "../errors.js";
import { clone, type AnyDoc } from "../store.js";
import { inflateLimited, saveFileDocument } from "./files.js";

const STATES = new Set(["new", "processing", "successful", "failed", "retry"]);

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * `maxretries` as stored: a whole number of attempts (the stored WorkitemQueue says integer, while the request
 * accepts any number; `fuzz` found 999.99 echoed back), below 1 becomes 3 as in server-latest. Server-latest
 * stores the number as sent: a known difference (docs/testing-servers.md).
 */
function attempts(value: unknown): number {
  const n = Math.floor(num(value) as number);
  return n < 1 ? 3 : n;
}

function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** Largest delay in seconds that still gives a valid Date (the Date range is +-8.64e15 ms around 1970). */
const MAX_DELAY_SECONDS = 8.64e12 / 2;

/** ISO text of `ms`; a command error with `what` when it is outside the Date range (toISOString would throw a RangeError). */
function isoAt(ms: number, what: string): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw commandError(what);
  return d.toISOString();
}

/** A queue's `initialdelay`/`retrydelay` must keep `now + delay` a valid date, or every later work item fails. */
function checkDelays(f: AnyDoc): void {
  for (const key of ["retrydelay", "initialdelay"]) {
    const v = num(f[key]);
    if (v !== undefined && Math.abs(v) > MAX_DELAY_SECONDS) throw commandError(`${key} must be at most ${MAX_DELAY_SECONDS} seconds, got ${v}`);
  }
}

/** Dates arrive as ISO text or `{seconds, nanos}`; stored as ISO text. */
function dateField(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "object" && value !== null && "seconds" in value) {
    const v = value as { seconds: unknown; nanos?: unknown };
    return isoAt(Number(v.seconds) * 1000 + Math.floor(Number(v.nanos ?? 0) / 1e6), `invalid date ${JSON.stringify(value)}`);
  }
  const d = new Date(value as string | number);
  if (Number.isNaN(d.getTime())) throw commandError(`invalid date ${JSON.stringify(value)}`);
  return d.toISOString();
}

/** A readable queue by id, falling back to the (exact, case-sensitive) name like server-latest. */
function findQueue(server: ServerContext, user: TokenUser, id: unknown, name: unknown): AnyDoc | undefined {
  const readable = (d: AnyDoc) => aclAllows(d._acl, user, Rights.read);
  if (str(id)) {
    const q = server.store.get(MQ, str(id) as string);
    if (q && q._type === "workitemqueue" && readable(q)) return q;
  }
  if (str(name)) return server.store.all(MQ).find((d) => d._type === "workitemqueue" && d.name === name && readable(d));
  return undefined;
}

function queueNotFound(wiq: unknown, wiqid: unknown): Error {
  return commandError(`Work item queue not found ${String(wiq ?? undefined)} (${String(wiqid ?? undefined)}) not found.`);
}

function queueForItem(ctx: HandlerContext, wiqid: unknown, wiq: unknown, right = Rights.invoke): AnyDoc {
  if (!str(wiqid) && !str(wiq)) throw commandError("wiq or wiqid is mandatory");
  const queue = findQueue(ctx.server, ctx.user, wiqid, wiq);
  if (!queue) throw queueNotFound(wiq, wiqid);
  if (!aclAllows(queue._acl, ctx.user, right)) throw commandError(`Unknown work item queue or ${ctx.user.username} is missing invoke rights`);
  return queue;
}

/**
 * The success/failed queues named in `fields` (an item's or a queue's `<kind>_wiq`/`<kind>_wiqid`) must be queues
 * the writer may add to: completing an item copies it there with the completer's rights, so naming a queue one
 * cannot invoke made a robot plant work (and files) in it. Each given reference must resolve to such a queue, and
 * a name and an id together must be the same queue (the completer falls back to the name when he cannot read the
 * id). `kinds` limits the check to the pairs the writer touched.
 */
function assertFollowUps(ctx: HandlerContext, fields: AnyDoc, kinds: readonly string[] = ["success", "failed"]): void {
  for (const kind of kinds) {
    const id = str(fields[`${kind}_wiqid`]);
    const name = str(fields[`${kind}_wiq`]);
    const byId = id ? findQueue(ctx.server, ctx.user, id, undefined) : undefined;
    const byName = name ? findQueue(ctx.server, ctx.user, undefined, name) : undefined;
    if ((id && !byId) || (name && !byName)) throw queueNotFound(name, id);
    if (byId && byName && byId._id !== byName._id) throw commandError(`${kind}_wiq ${String(name)} and ${kind}_wiqid ${String(id)} name different work item queues`);
    for (const target of [byId, byName]) {
      if (target && !aclAllows(target._acl, ctx.user, Rights.invoke)) throw commandError(`Unknown work item queue or ${ctx.user.username} is missing invoke rights`);
    }
  }
}

/** The follow-up pairs a request writes (either field given as text). */
function touchedFollowUps(f: AnyDoc): string[] {
  return ["success", "failed"].filter((k) => typeof f[`${k}_wiq`] === "string" || typeof f[`${k}_wiqid`] === "string");
}

/** Store the files of a work item (MessageWorkitemFile -> WorkitemFile references). */
function storeFiles(ctx: HandlerContext, files: unknown, item: AnyDoc, queue: AnyDoc): AnyDoc[] {
  if (files === undefined || files === null) return [];
  if (!Array.isArray(files)) throw commandError("files must be an array");
  const out: AnyDoc[] = [];
  for (const f of files as AnyDoc[]) {
    if (typeof f !== "object" || f === null) throw commandError("files entries must be objects");
    const filename = str(f.filename);
    if (!filename) throw commandError("files entries need a filename");
    if (!str(f.file)) {
      if (!str(f._id)) throw commandError(`file ${filename} has neither file content nor _id`);
      // A reference must be to a file the caller may read: completing the item copies the file into the next
      // queue with that queue's ACL, which handed out readable copies of other users' files.
      readableFile(ctx.server, ctx.user, String(f._id));
      out.push({ name: filename, filename: filename.replace(/\\/g, "/").split("/").pop(), _id: f._id });
      continue;
    }
    let bytes: Buffer = Buffer.from(f.file as string, "base64");
    if (f.compressed === true) {
      try {
        bytes = inflateLimited(bytes, ctx.server.options.limits.maxMessageChars);
      } catch (err) {
        throw commandError(`file ${filename} is marked compressed but could not be inflated: ${(err as Error).message}`);
      }
    }
    const doc = saveFileDocument(ctx.server, ctx.user, filename, bytes, undefined, { _acl: clone(queue._acl), wi: item._id, wiq: queue.name, wiqid: queue._id });
    const meta = doc.metadata as AnyDoc;
    out.push({ name: filename, filename: meta.name, _id: doc._id });
  }
  return out;
}

/** Replies omit `nextrun`/`lastrun` when they are null (../../schemas/commands/popworkitem.json). */
function publicItem(item: AnyDoc): AnyDoc {
  const out = clone(item);
  if (out.nextrun === null || out.nextrun === undefined) delete out.nextrun;
  if (out.lastrun === null || out.lastrun === undefined) delete out.lastrun;
  return out;
}

function createItem(ctx: HandlerContext, queue: AnyDoc, input: AnyDoc, defaults: AnyDoc): AnyDoc {
  const now = ctx.server.now();
  let payload = input.payload ?? {};
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) payload = { value: payload };
  const priority = num(defaults.wipriority) ?? num(input.wipriority) ?? num(input.priority) ?? 2;
  const initialdelay = num(queue.initialdelay) ?? 0;
  const item: AnyDoc = {
    _type: "workitem",
    name: str(input.name) ?? "New work item",
    wiqid: queue._id,
    wiq: queue.name,
    state: "new",
    payload,
    retries: 0,
    priority,
    files: [],
    nextrun: dateField(input.nextrun) ?? isoAt(now + initialdelay * 1000, `initialdelay ${initialdelay} of the queue gives no valid nextrun`),
    lastrun: null,
    _acl: clone(queue._acl),
  };
  for (const key of ["success_wiq", "success_wiqid", "failed_wiq", "failed_wiqid"]) {
    const v = str(input[key]) ?? str(defaults[key]);
    if (v) item[key] = v;
  }
  assertFollowUps(ctx, item);
  const doc = prepareInsert(ctx.server, WORKITEMS, item, ctx.user);
  doc.files = storeFiles(ctx, input.files, doc, queue);
  return ctx.server.store.insert(WORKITEMS, doc);
}

/**
 * The success/failed queue an item in state successful/failed moves on to (item fields win over the queue's),
 * checked before the item changes: adding to it needs invoke there, as addworkitem does.
 */
function followUpQueue(ctx: HandlerContext, item: AnyDoc, queue: AnyDoc): AnyDoc | undefined {
  const kind = item.state === "successful" ? "success" : item.state === "failed" ? "failed" : undefined;
  if (!kind) return undefined;
  let id = str(item[`${kind}_wiqid`]) ?? str(queue[`${kind}_wiqid`]);
  let name = str(item[`${kind}_wiq`]) ?? str(queue[`${kind}_wiq`]);
  if (str(item[`${kind}_wiq`])) id = str(item[`${kind}_wiqid`]);
  if (str(item[`${kind}_wiqid`])) name = str(item[`${kind}_wiq`]);
  if (!id && !name) return undefined;
  const target = findQueue(ctx.server, ctx.user, id, name);
  if (!target) throw queueNotFound(name, id);
  if (!aclAllows(target._acl, ctx.user, Rights.invoke)) throw commandError(`Unknown work item queue or ${ctx.user.username} is missing invoke rights`);
  return target;
}

/**
 * Duplicate the item into its follow-up queue: a new item in state `new`, retries 0, error fields and worker
 * cleared, the target queue's ACL added, and the files the caller may read copied (server-latest
 * DuplicateWorkitem copies every file; a file the caller cannot read stays a bare reference here).
 */
function copyToFollowUp(ctx: HandlerContext, item: AnyDoc, target: AnyDoc): void {
  const copy: AnyDoc = clone(item);
  for (const key of ["_id", "success_wiqid", "success_wiq", "failed_wiqid", "failed_wiq", "errormessage", "errorsource", "errortype", "lastrun", "userid", "username"]) delete copy[key];
  Object.assign(copy, { state: "new", retries: 0, wiq: target.name, wiqid: target._id, nextrun: isoAt(ctx.server.now() + (num(target.initialdelay) ?? 0) * 1000, `initialdelay of queue ${String(target.name)} gives no valid nextrun`) });
  const acl = clone((copy._acl as Ace[] | undefined) ?? []);
  for (const ace of (target._acl as Ace[] | undefined) ?? []) addRight(acl, ace._id, ace.name ?? "", rightsMask(ace.rights));
  copy._acl = acl;
  const doc = prepareInsert(ctx.server, WORKITEMS, copy, ctx.user);
  doc.files = ((item.files as AnyDoc[] | undefined) ?? []).map((f) => {
    const stored = ctx.server.store.get(FILES, String(f._id));
    const bytes = ctx.server.files.get(String(f._id));
    if (!bytes || !stored || !aclAllows((stored.metadata as AnyDoc | undefined)?._acl, ctx.user, Rights.read)) return f;
    const saved = saveFileDocument(ctx.server, ctx.user, String(f.name ?? f.filename), bytes, undefined, { _acl: clone(acl), wi: doc._id, wiq: target.name, wiqid: target._id });
    return { name: f.name, filename: f.filename, _id: saved._id };
  });
  ctx.server.store.insert(WORKITEMS, doc);
}

/** The work item `_id` names, if the user may read it; otherwise the real server's errors (double space and all). */
function readableWorkitem(ctx: HandlerContext, rawId: unknown): AnyDoc {
  const id = str(rawId);
  if (!id) throw commandError("_id is mandatory");
  const item = ctx.server.store.get(WORKITEMS, id);
  if (!item || item._type !== "workitem" || !aclAllows(item._acl, ctx.user, Rights.read)) throw commandError(`Work item  with _id ${id} not found.`);
  return item;
}

function deleteItemFiles(server: ServerContext, item: AnyDoc): void {
  for (const f of (item.files as AnyDoc[] | undefined) ?? []) {
    const doc = server.store.get(FILES, String(f._id));
    if (doc && (doc.metadata as AnyDoc | undefined)?.wi === item._id) {
      server.store.remove(FILES, String(f._id));
      server.files.removeContent(String(f._id));
    }
  }
}

function queueFields(p: AnyDoc): AnyDoc {
  const def = typeof p.workitemqueue === "object" && p.workitemqueue !== null ? (p.workitemqueue as AnyDoc) : {};
  return { ...def, ...p };
}

export const workitemHandlers: Record<string, Handler> = {
  addworkitemqueue(ctx) {
    const p = ctx.payload;
    const f = queueFields(p);
    const name = str(f.name);
    if (!name) throw commandError("Name is mandatory");
    if (num(f.maxretries) === undefined) throw commandError("maxretries is mandatory");
    if (num(f.retrydelay) === undefined) throw commandError("retrydelay is mandatory");
    if (num(f.initialdelay) === undefined) throw commandError("initialdelay is mandatory");
    checkDelays(f);
    if (ctx.server.store.all(MQ).some((d) => d._type === "workitemqueue" && d.name === name)) {
      throw commandError(`Work item queue with name ${name} already exists`);
    }
    assertWorkitemQueueName(ctx.server, ctx.user, name);
    if (f.skiprole !== true) assertQueueRoleFree(ctx.server, `${name} users`);
    let acl: Ace[] = [];
    const queue: AnyDoc = {
      _type: "workitemqueue", name, maxretries: attempts(f.maxretries), retrydelay: num(f.retrydelay),
      initialdelay: num(f.initialdelay),
    };
    for (const key of ["workflowid", "robotqueue", "amqpqueue", "projectid", "success_wiq", "success_wiqid", "failed_wiq", "failed_wiqid", "packageid"]) {
      if (typeof f[key] === "string" && !(key === "workflowid" && f[key] === "")) queue[key] = f[key];
    }
    assertFollowUps(ctx, queue);
    ctx.server.auth.ensureRole("workitem queue admins", WellknownIds.workitem_queue_admins);
    if (f.skiprole !== true) {
      // The "<name> users" role: admins and the creator may manage it; the creator and the workitem queue admins
      // are members; the role gets full control of the queue.
      const role = ctx.server.auth.ensureRole(`${name} users`);
      const roleAcl = clone((role._acl as Ace[] | undefined) ?? []);
      addRight(roleAcl, ctx.user._id, ctx.user.name, Rights.full);
      ctx.server.store.replace(USERS, { ...ctx.server.store.get(USERS, String(role._id)), _acl: roleAcl }, "update");
      ctx.server.auth.addMember(String(role._id), { _id: ctx.user._id, name: ctx.user.name });
      ctx.server.auth.addMember(String(role._id), { _id: WellknownIds.workitem_queue_admins, name: "workitem queue admins" });
      acl = addRight(acl, String(role._id), String(role.name), Rights.full);
      queue.usersrole = role._id;
    } else {
      addRight(acl, WellknownIds.workitem_queue_admins, "workitem queue admins", Rights.full);
    }
    // A given _acl replaces the computed one (server-latest); the creator and admins are added on insert.
    queue._acl = Array.isArray(f._acl) ? clone(f._acl as Ace[]) : acl;
    const result = ctx.server.store.insert(MQ, prepareInsert(ctx.server, MQ, queue, ctx.user));
    return { ...p, result };
  },

  getworkitemqueue(ctx) {
    const p = ctx.payload;
    if (!str(p._id) && !str(p.name)) throw commandError("Name or _id is mandatory");
    const result = findQueue(ctx.server, ctx.user, p._id, p.name);
    return { ...p, result: result ? clone(result) : null };
  },

  updateworkitemqueue(ctx) {
    const p = ctx.payload;
    const f = queueFields(p);
    if (!str(f._id) && !str(f.name)) throw commandError("Name or _id is mandatory");
    const original = findQueue(ctx.server, ctx.user, f._id, str(f._id) ? undefined : f.name);
    if (!original) throw commandError(`Work item queue with ${str(f._id) ? `_id ${String(f._id)}` : `name ${String(f.name)}`} not found.`);
    if (!aclAllows(original._acl, ctx.user, Rights.update)) throw commandError(`Access denied, no authorization to update work item queue ${String(original.name)}`);
    const next = clone(original);
    if (str(f._id) && str(f.name) && f.name !== original.name) {
      if (ctx.server.store.all(MQ).some((d) => d._type === "workitemqueue" && d._id !== original._id && d.name === f.name)) {
        throw commandError(`Work item queue with name ${String(f.name)} already exists`);
      }
      assertWorkitemQueueName(ctx.server, ctx.user, String(f.name), String(original._id));
      next.name = f.name;
    }
    // Always overwritten, like server-latest: a missing value removes the field.
    for (const key of ["workflowid", "robotqueue", "amqpqueue", "projectid"]) {
      if (f[key] === undefined || (key === "workflowid" && (f[key] === null || f[key] === ""))) delete next[key];
      else next[key] = f[key];
    }
    checkDelays(f);
    for (const key of ["retrydelay", "initialdelay"]) if (num(f[key]) !== undefined) next[key] = num(f[key]);
    if (num(f.maxretries) !== undefined) next.maxretries = Math.floor(num(f.maxretries) as number);
    for (const pair of ["success", "failed"]) {
      if (f[`${pair}_wiq`] === null) {
        delete next[`${pair}_wiq`];
        delete next[`${pair}_wiqid`];
        continue;
      }
      for (const key of [`${pair}_wiq`, `${pair}_wiqid`]) if (typeof f[key] === "string") next[key] = f[key];
    }
    assertFollowUps(ctx, next, touchedFollowUps(f));
    if (typeof f.packageid === "string") next.packageid = f.packageid;
    if (Array.isArray(f._acl)) next._acl = f._acl;
    if (f.purge === true) {
      for (const item of ctx.server.store.all(WORKITEMS).filter((i) => i.wiqid === original._id)) {
        deleteItemFiles(ctx.server, item);
        ctx.server.store.remove(WORKITEMS, String(item._id));
      }
    }
    const result = replaceDocument(ctx.server, MQ, original, next, ctx.user);
    return { ...p, result };
  },

  deleteworkitemqueue(ctx) {
    const p = ctx.payload;
    const id = str(p.wiqid) ?? str(p._id);
    const name = str(p.wiq) ?? str(p.name);
    if (!id && !name) throw commandError("Name or _id is mandatory");
    const queue = id ? findQueue(ctx.server, ctx.user, id, undefined) : findQueue(ctx.server, ctx.user, undefined, name);
    if (!queue) throw commandError(id ? `Work item queue with _id ${id} not found.` : `Work item queue with name ${name} not found.`);
    if (!aclAllows(queue._acl, ctx.user, Rights.delete)) throw commandError(`Access denied, no authorization to delete work item queue ${String(queue.name)}`);
    const items = ctx.server.store.all(WORKITEMS).filter((i) => i._type === "workitem" && i.wiqid === queue._id);
    if (items.length > 0 && p.purge !== true) throw commandError(`Work item queue ${String(queue.name)} is not empty, enable purge to delete`);
    for (const item of items) {
      deleteItemFiles(ctx.server, item);
      ctx.server.store.remove(WORKITEMS, String(item._id));
    }
    for (const file of ctx.server.store.all(FILES).filter((f) => (f.metadata as AnyDoc | undefined)?.wiqid === queue._id)) {
      ctx.server.store.remove(FILES, String(file._id));
      ctx.server.files.removeContent(String(file._id));
    }
    saveHistory(ctx.server, MQ, queue, ctx.user, true);
    ctx.server.store.remove(MQ, String(queue._id));
    if (str(queue.usersrole)) {
      const role = ctx.server.store.get(USERS, String(queue.usersrole));
      if (role && role._type === "role" && !isBuiltinPrincipal(String(role._id))) ctx.server.auth.removeRole(String(role._id));
    }
    return { ...p };
  },

  addworkitem(ctx) {
    const p = ctx.payload;
    const queue = queueForItem(ctx, p.wiqid, p.wiq);
    const result = publicItem(createItem(ctx, queue, p, {}));
    const reply: AnyDoc = { ...p, result };
    delete reply.files;
    return reply;
  },

  addworkitems(ctx) {
    const p = ctx.payload;
    const queue = queueForItem(ctx, p.wiqid, p.wiq);
    if (!Array.isArray(p.items)) throw commandError("items must be an array");
    const items = (p.items as unknown[]).map((raw) => {
      if (typeof raw !== "object" || raw === null) throw commandError("items entries must be objects");
      return publicItem(createItem(ctx, queue, raw as AnyDoc, p));
    });
    return { ...p, items };
  },

  popworkitem(ctx) {
    const p = ctx.payload;
    if (!str(p.wiqid) && !str(p.wiq)) throw commandError("wiq or wiqid is mandatory");
    const queue = findQueue(ctx.server, ctx.user, p.wiqid, p.wiq);
    if (!queue) throw queueNotFound(p.wiq, p.wiqid);
    const now = new Date(ctx.server.now()).toISOString();
    // Readable new items due now, lowest priority first (a stable sort keeps insertion order among equals).
    const candidates = ctx.server.store
      .all(WORKITEMS)
      .filter((i) => i._type === "workitem" && i.wiqid === queue._id && i.state === "new" && typeof i.nextrun === "string" && i.nextrun <= now)
      .filter((i) => aclAllows(i._acl, ctx.user, Rights.read))
      .sort((a, b) => Number(a.priority ?? 2) - Number(b.priority ?? 2));
    const picked = candidates[0];
    const reply: AnyDoc = { ...p };
    if (!picked) return reply;
    if (!aclAllows(picked._acl, ctx.user, Rights.invoke)) {
      throw commandError(`Access denied popping workitem ${String(picked._id)} ${ctx.user.username} is missing invoke rights)`);
    }
    // Handlers of one server run one at a time, so this check-and-set cannot hand out an item twice.
    const next: AnyDoc = { ...clone(picked), state: "processing", userid: ctx.user._id, username: ctx.user.name, lastrun: now };
    delete next.nextrun;
    if (typeof next.payload !== "object" || next.payload === null) next.payload = { value: next.payload };
    next.retries ??= 0;
    next.priority ??= 2;
    stampModified(ctx.server, next, picked, ctx.user);
    reply.result = publicItem(ctx.server.store.replace(WORKITEMS, next, "update"));
    return reply;
  },

  /** States and retries exactly as server-latest's UpdateWorkitem (../../docs/protocol.md#work-items). */
  updateworkitem(ctx) {
    const p = ctx.payload;
    const original = readableWorkitem(ctx, p._id);
    const queue = findQueue(ctx.server, ctx.user, original.wiqid, original.wiq);
    if (!queue) throw queueNotFound(original.wiq, original.wiqid);
    const item = clone(original);
    for (const key of ["failed_wiq", "failed_wiqid", "success_wiq", "success_wiqid"]) if (typeof p[key] === "string") item[key] = p[key];
    assertFollowUps(ctx, item, touchedFollowUps(p));
    // The item is checked against (and takes) the queue's ACL.
    item._acl = clone(queue._acl);
    if (!aclAllows(item._acl, ctx.user, Rights.invoke)) throw commandError(`Unknown work item or  ${ctx.user.username} is missing invoke rights`);
    item.wiq = queue.name;
    item.wiqid = queue._id;
    if (str(p.name)) item.name = p.name;
    if (p.payload !== undefined && p.payload !== null) item.payload = p.payload;
    if (typeof item.payload !== "object" || item.payload === null || Array.isArray(item.payload)) item.payload = { value: item.payload };
    if (p.errormessage !== undefined && p.errormessage !== null) {
      item.errormessage = p.errormessage;
      item.errortype = str(p.errortype) ?? "application";
    }
    if (p.errorsource !== undefined && p.errorsource !== null) item.errorsource = p.errorsource;
    // Q12: wipriority is read, then priority overrides it (api-latest always sends its send priority there).
    if (num(p.wipriority) !== undefined) item.priority = num(p.wipriority);
    if (num(p.priority) !== undefined) item.priority = num(p.priority);
    if (num(item.priority) === undefined) item.priority = 2;
    const oldState = String(original.state);
    if (str(p.state)) {
      let state = String(p.state).toLowerCase();
      if (!(state === "new" && oldState === "new") && !["failed", "successful", "retry", "processing"].includes(state)) {
        throw commandError(`Illegal state ${state} on Workitem, must be failed, successful, processing or retry`);
      }
      if (p.errortype === "business" && state === "retry" && p.ignoremaxretries !== true) state = "failed";
      if (state === "retry") {
        const retries = num(item.retries) ?? 0;
        if (retries + 1 < (num(queue.maxretries) ?? 3) || p.ignoremaxretries === true) {
          item.retries = retries + 1;
          item.state = "new";
          item.userid = null;
          item.username = null;
          item.nextrun = dateField(p.nextrun) ?? isoAt(ctx.server.now() + (num(queue.retrydelay) ?? 0) * 1000, `retrydelay of queue ${String(queue.name)} gives no valid nextrun`);
        } else {
          item.retries = retries;
          item.state = "failed";
        }
      } else {
        item.state = state;
      }
      if (oldState !== "processing" && state === "processing") item.lastrun = new Date(ctx.server.now()).toISOString();
    }
    // Checked before anything is stored, so a refused follow-up queue leaves the item and its files as they were.
    const followUp = item.state !== oldState ? followUpQueue(ctx, item, queue) : undefined;
    if (p.files !== undefined && p.files !== null) {
      // A file with the same name replaces the item's earlier one.
      const incoming = storeFiles(ctx, p.files, item, queue);
      const names = new Set(incoming.map((f) => f.name));
      const kept = ((item.files as AnyDoc[] | undefined) ?? []).filter((f) => {
        if (!names.has(f.name)) return true;
        // Only a file stored for this item goes; a referenced file of someone else's is just dropped from the list.
        const doc = ctx.server.store.get(FILES, String(f._id));
        if (doc && (doc.metadata as AnyDoc | undefined)?.wi === original._id && !incoming.some((n) => n._id === f._id)) {
          ctx.server.store.remove(FILES, String(f._id));
          ctx.server.files.removeContent(String(f._id));
        }
        return false;
      });
      item.files = [...kept, ...incoming];
    }
    if (item.state !== "new") delete item.nextrun;
    const updated = replaceDocument(ctx.server, WORKITEMS, original, item, ctx.user);
    if (followUp) copyToFollowUp(ctx, updated, followUp);
    const reply: AnyDoc = { ...p, result: publicItem(updated) };
    delete reply.files;
    return reply;
  },

  deleteworkitem(ctx) {
    const p = ctx.payload;
    const item = readableWorkitem(ctx, p._id);
    if (!aclAllows(item._acl, ctx.user, Rights.invoke)) throw commandError(`Unknown work item or  ${ctx.user.username} is missing invoke rights`);
    if (!aclAllows(item._acl, ctx.user, Rights.delete)) throw commandError("Unknown work item or access denied");
    deleteItemFiles(ctx.server, item);
    saveHistory(ctx.server, WORKITEMS, item, ctx.user, true);
    ctx.server.store.remove(WORKITEMS, String(item._id));
    return { ...p };
  },
};
