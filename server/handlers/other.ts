/**
 * Everything else the latest server dispatches. Each command either answers honestly (what the real server
 * answers when it has nothing to do, or the real server's own fixed error) or fails with an explicit
 * "not supported by this server" error. Commands server-latest does not know fall through to the dispatcher's
 * "Unknown command <cmd>", exactly like the real one.
 */
import { aclAllows, isAdmin, Rights } from "../acl.js";
import { USERS } from "../auth.js";
import type { Handler } from "../context.js";
import { commandError, unsupportedError } from "../errors.js";
import type { AnyDoc } from "../store.js";
import { dataHandlers } from "./data.js";

const unsupported = (command: string, why: string): Handler => () => {
  throw unsupportedError(command, why);
};

/** server-latest dispatches these but cannot read a legacy string payload (Q15); use customcommand there. */
const BROKEN_IN_LATEST = ["startagent", "stopagent", "deleteagentpod", "getagentlog", "getagentpods", "deleteagent", "deletepackage", "issuelicense"];

const CUSTOM_UNSUPPORTED = new Set([
  "dumpwebsocketclients", "killwebsocketclient", "clearcache", "heapdump", "shutdown", "webpushmessage", "startagent", "stopagent",
  "deleteagentpod", "getagentlog", "getagentpods", "deleteagent", "registeragent", "deletepackage", "issuelicense",
  "snapshotcreate", "snapshotrestore",
]);

export const otherHandlers: Record<string, Handler> = {
  async customcommand(ctx) {
    const p = ctx.payload;
    const sub = typeof p.command === "string" ? p.command.toLowerCase() : "";
    if (sub === "getclients") {
      const admin = isAdmin(ctx.user);
      const result = [...ctx.server.connections]
        .filter((c) => c.user && (admin || c.user._id === ctx.user._id))
        .map((c) => ({ id: c.id, remoteip: c.remote, agent: c.clientagent, version: c.clientversion, user: { _id: c.user?._id, name: c.user?.name, username: c.user?.username }, connected: new Date(c.connectedAt).toISOString(), lastheartbeat: new Date(c.lastSeen).toISOString() }));
      return { ...p, result };
    }
    if (sub === "createindex") {
      // server-latest's customcommand createindex: `data` is JSON text of {collectionname, index, options, name}.
      let data: unknown;
      try {
        data = JSON.parse(typeof p.data === "string" ? p.data : String(p.data));
      } catch (err) {
        throw commandError((err as Error).message);
      }
      const reply = await dataHandlers.createindex?.({ ...ctx, command: "createindex", payload: { ...(data as AnyDoc) } });
      return { ...p, result: reply?.result };
    }
    if (CUSTOM_UNSUPPORTED.has(sub)) throw unsupportedError(`customcommand ${sub}`, "no agents, indexes, licenses or web push here");
    // server-latest answers an unknown sub-command in the 2021 style: same command, `error` in the payload.
    return { ...p, error: "Unknown custom command" };
  },

  // In-memory: there are no indexes to build, sizes to compute or agents to clean, so housekeeping has no work.
  housekeeping(ctx) {
    return { ...ctx.payload };
  },

  // server-latest without an agent driver answers exactly this.
  getkubenodelabels() {
    throw commandError("No agentdriver is loaded");
  },

  // Both real servers just echo this legacy call.
  ensurestripecustomer(ctx) {
    return { ...ctx.payload };
  },

  invokeopenrpa() {
    throw commandError("Not implemented, only available using OpenAPI");
  },

  selectcustomer(ctx) {
    const p = ctx.payload;
    const id = typeof p.customerid === "string" && p.customerid !== "" ? p.customerid : null;
    const customer = id ? ctx.server.store.get(USERS, id) : undefined;
    // Read on the customer, as server-latest looks it up with the caller's token: an unreadable customer is
    // answered like a missing one (it was selected, and told that the id exists).
    const customerid = customer && customer._type === "customer" && aclAllows(customer._acl, ctx.user, Rights.read) ? id : null;
    const user = ctx.server.store.get(USERS, ctx.user._id);
    if (user) ctx.server.store.replace(USERS, { ...user, selectedcustomerid: customerid }, "update");
    return { ...p, customerid };
  },

  ensurecustomer: unsupported("ensurecustomer", "no billing or customers"),
  stripeaddplan: unsupported("stripeaddplan", "no Stripe billing"),
  stripecancelplan: unsupported("stripecancelplan", "no Stripe billing"),
  getnextinvoice: unsupported("getnextinvoice", "no Stripe billing"),
  stripemessage: unsupported("stripemessage", "no Stripe billing"),
  ...Object.fromEntries(BROKEN_IN_LATEST.map((c) => [c, unsupported(c, "server-latest cannot read it over the legacy protocol either; no agents or indexes here")])),
};
