/**
 * Work item queues and work items (COMMANDS.md G, E8, E9). Queues live in `mq`, items in `workitems`, files in
 * `fs.files`. Rights: adding and popping need invoke on the queue; items copy the queue's ACL.
 */
import { inflateSync } from "node:zlib";
import { addRight, aclAllows, Rights, WellknownIds, type Ace } from "../acl.js";
import { USERS, type TokenUser } from "../auth.js";
import type { Handler, HandlerContext, ServerContext } from "../context.js";
import { prepareInsert, replaceDocument, saveHistory } from "../documents.js";
import { commandError } from "../errors.js";
import { clone, type AnyDoc } from "../store.js";
import { FILES, saveFileDocument } from "./files.js";

const MQ = "mq";
const WORKITEMS = "workitems";
const STATES = new Set(["new", "processing", "successful", "failed", "retry"]);

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** Dates arrive as ISO text or `{seconds, nanos}`; stored as ISO text. */
function dateField(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "object" && value !== null && "seconds" in value) {
    const v = value as { seconds: unknown; nanos?: unknown };
    return new Date(Number(v.seconds) * 1000 + Math.floor(Number(v.nanos ?? 0) / 1e6)).toISOString();
  }
  const d = new Date(value as string | number);
  if (Number.isNaN(d.getTime())) throw commandError(`invalid date ${JSON.stringify(value)}`);
  return d.toISOString();
}

function findQueue(server: ServerContext, user: TokenUser, id: unknown, name: unknown): AnyDoc | undefined {
  const readable = (d: AnyDoc) => aclAllows(d._acl, user, Rights.read);
  if (str(id)) {
    const q = server.store.get(MQ, str(id) as string);
    return q && q._type === "workitemqueue" && readable(q) ? q : undefined;
  }
  if (str(name)) {
    const wanted = (str(name) as string).toLowerCase();
    return server.store.all(MQ).find((d) => d._type === "workitemqueue" && String(d.name).toLowerCase() === wanted && readable(d));
  }
  return undefined;
}

function queueForItem(ctx: HandlerContext, wiqid: unknown, wiq: unknown, right = Rights.invoke): AnyDoc {
  if (!str(wiqid) && !str(wiq)) throw commandError("wiq or wiqid is mandatory");
  const queue = findQueue(ctx.server, ctx.user, wiqid, wiq);
  if (!queue) throw commandError(`Work item queue not found ${str(wiq) ?? ""} (${str(wiqid) ?? ""}) not found.`);
  if (!aclAllows(queue._acl, ctx.user, right)) throw commandError(`Unknown work item queue or ${ctx.user.name} is missing invoke rights`);
  return queue;
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
      out.push({ name: filename, filename: filename.replace(/\\/g, "/").split("/").pop(), _id: f._id });
      continue;
    }
    let bytes = Buffer.from(f.file as string, "base64");
    if (f.compressed === true) {
      try {
        bytes = inflateSync(bytes);
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

/** Replies omit `nextrun`/`lastrun` when they are null (COMMANDS.md G popworkitem). */
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
    nextrun: dateField(input.nextrun) ?? new Date(now + initialdelay * 1000).toISOString(),
    lastrun: null,
    _acl: clone(queue._acl),
  };
  for (const key of ["success_wiq", "success_wiqid", "failed_wiq", "failed_wiqid"]) {
    const v = str(input[key]) ?? str(defaults[key]);
    if (v) item[key] = v;
  }
  const doc = prepareInsert(ctx.server, WORKITEMS, item, ctx.user);
  doc.files = storeFiles(ctx, input.files, doc, queue);
  return ctx.server.store.insert(WORKITEMS, doc);
}

/** On success/failure, copy the item into the configured success/failed queue as a new item. */
function copyToFollowUp(ctx: HandlerContext, item: AnyDoc, queue: AnyDoc | undefined): void {
  const kind = item.state === "successful" ? "success" : item.state === "failed" ? "failed" : undefined;
  if (!kind) return;
  const id = str(item[`${kind}_wiqid`]) ?? str(queue?.[`${kind}_wiqid`]);
  const name = str(item[`${kind}_wiq`]) ?? str(queue?.[`${kind}_wiq`]);
  if (!id && !name) return;
  const target = findQueue(ctx.server, ctx.user, id, id ? undefined : name);
  if (!target) return;
  createItem(ctx, target, { name: item.name, payload: item.payload, priority: item.priority, files: (item.files as AnyDoc[] | undefined)?.map((f) => ({ filename: f.name, _id: f._id })) }, {});
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
    if (ctx.server.store.all(MQ).some((d) => d._type === "workitemqueue" && String(d.name).toLowerCase() === name.toLowerCase())) {
      throw commandError(`Work item queue with name ${name} already exists`);
    }
    let acl: Ace[] = Array.isArray(f._acl) ? clone(f._acl as Ace[]) : [];
    addRight(acl, WellknownIds.workitem_queue_admins, "workitem queue admins", Rights.full);
    const queue: AnyDoc = {
      _type: "workitemqueue", name, maxretries: (num(f.maxretries) as number) < 1 ? 3 : num(f.maxretries), retrydelay: num(f.retrydelay),
      initialdelay: num(f.initialdelay),
    };
    for (const key of ["workflowid", "robotqueue", "amqpqueue", "projectid", "success_wiq", "success_wiqid", "failed_wiq", "failed_wiqid", "packageid"]) {
      if (typeof f[key] === "string") queue[key] = f[key];
    }
    if (f.skiprole !== true) {
      const role = ctx.server.auth.ensureRole(`${name} users`);
      ctx.server.auth.addMember(String(role._id), { _id: ctx.user._id, name: ctx.user.name });
      ctx.server.auth.addMember(String(role._id), { _id: WellknownIds.workitem_queue_admins, name: "workitem queue admins" });
      acl = addRight(acl, String(role._id), String(role.name), Rights.full);
      queue.usersrole = role._id;
    }
    queue._acl = acl;
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
      if (ctx.server.store.all(MQ).some((d) => d._id !== original._id && String(d.name).toLowerCase() === String(f.name).toLowerCase())) {
        throw commandError(`Work item queue with name ${String(f.name)} already exists`);
      }
      next.name = f.name;
    }
    for (const key of ["workflowid", "robotqueue", "amqpqueue", "projectid"]) next[key] = f[key] ?? null;
    for (const key of ["maxretries", "retrydelay", "initialdelay"]) if (num(f[key]) !== undefined) next[key] = num(f[key]);
    for (const pair of ["success", "failed"]) {
      if (f[`${pair}_wiq`] === null) {
        delete next[`${pair}_wiq`];
        delete next[`${pair}_wiqid`];
        continue;
      }
      for (const key of [`${pair}_wiq`, `${pair}_wiqid`]) if (typeof f[key] === "string") next[key] = f[key];
    }
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
    const id = p._id ?? p.wiqid;
    const name = p.name ?? p.wiq;
    if (!str(id) && !str(name)) throw commandError("Name or _id is mandatory");
    const queue = findQueue(ctx.server, ctx.user, id, str(id) ? undefined : name);
    if (!queue) throw commandError(`Work item queue ${String(str(id) ?? name)} not found.`);
    if (!aclAllows(queue._acl, ctx.user, Rights.delete)) throw commandError(`Access denied, no authorization to delete work item queue ${String(queue.name)}`);
    const items = ctx.server.store.all(WORKITEMS).filter((i) => i.wiqid === queue._id);
    if (items.length > 0 && p.purge !== true) throw commandError(`Work item queue ${String(queue.name)} is not empty, enable purge to delete`);
    for (const item of items) {
      deleteItemFiles(ctx.server, item);
      ctx.server.store.remove(WORKITEMS, String(item._id));
    }
    saveHistory(ctx.server, MQ, queue, ctx.user, true);
    ctx.server.store.remove(MQ, String(queue._id));
    if (str(queue.usersrole)) {
      const role = ctx.server.store.get(USERS, String(queue.usersrole));
      if (role && role._type === "role") ctx.server.auth.removeRole(String(role._id));
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
    const queue = queueForItem(ctx, p.wiqid, p.wiq);
    const now = new Date(ctx.server.now()).toISOString();
    const candidates = ctx.server.store
      .all(WORKITEMS)
      .filter((i) => i.wiqid === queue._id && i.state === "new" && (i.nextrun === null || i.nextrun === undefined || String(i.nextrun) <= now))
      .filter((i) => aclAllows(i._acl, ctx.user, Rights.invoke));
    candidates.sort((a, b) => Number(a.priority ?? 2) - Number(b.priority ?? 2) || String(a.nextrun ?? a._created).localeCompare(String(b.nextrun ?? b._created)));
    const picked = candidates[0];
    const reply: AnyDoc = { ...p };
    if (!picked) return reply;
    // Handlers of one server run one at a time, so the check-and-set above cannot hand out an item twice.
    const next: AnyDoc = { ...clone(picked), state: "processing", userid: ctx.user._id, username: ctx.user.name, lastrun: now };
    next._modified = now;
    next._modifiedby = ctx.user.name;
    next._modifiedbyid = ctx.user._id;
    next._version = Number(picked._version ?? 0) + 1;
    reply.result = publicItem(ctx.server.store.replace(WORKITEMS, next, "update"));
    return reply;
  },

  updateworkitem(ctx) {
    const p = ctx.payload;
    const id = str(p._id);
    if (!id) throw commandError("_id is mandatory");
    const original = ctx.server.store.get(WORKITEMS, id);
    if (!original || !aclAllows(original._acl, ctx.user, Rights.read)) throw commandError(`Work item  with _id ${id} not found.`);
    if (!aclAllows(original._acl, ctx.user, Rights.invoke)) throw commandError(`Unknown work item or  ${ctx.user.name} is missing invoke rights`);
    const queue = ctx.server.store.get(MQ, String(original.wiqid));
    const item = clone(original);
    if (str(p.name)) item.name = p.name;
    if (p.payload !== undefined && p.payload !== null) item.payload = typeof p.payload === "object" && !Array.isArray(p.payload) ? p.payload : { value: p.payload };
    for (const key of ["errormessage", "errorsource"]) if (typeof p[key] === "string") item[key] = p[key];
    if (typeof p.errortype === "string" && p.errortype !== "") item.errortype = p.errortype;
    if (str(item.errormessage) && !str(item.errortype)) item.errortype = "application";
    // Q12: both are read and `priority` wins, so api-latest's send priority overrides wipriority.
    const priority = num(p.priority) ?? num(p.wipriority);
    if (priority !== undefined) item.priority = priority;
    for (const key of ["success_wiq", "success_wiqid", "failed_wiq", "failed_wiqid"]) {
      if (p[key] === "") delete item[key];
      else if (typeof p[key] === "string") item[key] = p[key];
    }
    const ignoremax = p.ignoremaxretries === true;
    const previousState = String(original.state);
    if (p.state !== undefined && p.state !== null && p.state !== "") {
      const state = String(p.state).toLowerCase();
      if (!STATES.has(state) || (state === "new" && previousState !== "new")) {
        throw commandError(`Illegal state ${String(p.state)} on Workitem, must be failed, successful, processing or retry`);
      }
      if (state === "retry") {
        if (item.errortype === "business" && !ignoremax) {
          item.state = "failed";
        } else {
          item.retries = Number(item.retries ?? 0) + 1;
          const maxretries = Number(queue?.maxretries ?? 3);
          if (ignoremax || (item.retries as number) < maxretries) {
            item.state = "new";
            const retrydelay = Number(queue?.retrydelay ?? 0);
            item.nextrun = dateField(p.nextrun) ?? new Date(ctx.server.now() + retrydelay * 1000).toISOString();
          } else {
            item.state = "failed";
          }
        }
      } else {
        item.state = state;
      }
    }
    if (p.files !== undefined && p.files !== null && queue) {
      item.files = [...((item.files as AnyDoc[] | undefined) ?? []), ...storeFiles(ctx, p.files, item, queue)];
    }
    const updated = replaceDocument(ctx.server, WORKITEMS, original, item, ctx.user);
    if (updated.state !== previousState) copyToFollowUp(ctx, updated, queue);
    const reply: AnyDoc = { ...p, result: publicItem(updated) };
    delete reply.files;
    return reply;
  },

  deleteworkitem(ctx) {
    const p = ctx.payload;
    const id = str(p._id);
    if (!id) throw commandError("_id is mandatory");
    const item = ctx.server.store.get(WORKITEMS, id);
    if (!item || !aclAllows(item._acl, ctx.user, Rights.read)) throw commandError(`Work item  with _id ${id} not found.`);
    if (!aclAllows(item._acl, ctx.user, Rights.invoke | Rights.delete)) throw commandError(`Unknown work item or  ${ctx.user.name} is missing invoke and delete rights`);
    deleteItemFiles(ctx.server, item);
    saveHistory(ctx.server, WORKITEMS, item, ctx.user, true);
    ctx.server.store.remove(WORKITEMS, id);
    return { ...p };
  },
};
