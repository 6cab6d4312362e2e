/**
 * `createworkflowinstance` (../../schemas/commands/createworkflowinstance.json): an OpenRPA workflow instance document in `workflow_instances`,
 * optionally started at once (`initialrun`) by sending `{_id, __jwt, __user}` to the robot queue with the result
 * queue as reply-to. The reply carries a long-lived token (Q10), like server-latest.
 */
import { newFrameId } from "../../runtime/framing.js";
import { addRight, aclAllows, Rights, type Ace } from "../acl.js";
import { USERS } from "../auth.js";
import { authorizePublish } from "../authz.js";
import type { Handler } from "../context.js";
import { prepareInsert, principalFor } from "../documents.js";
import { commandError } from "../errors.js";
import type { AnyDoc } from "../store.js";

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export const workflowHandlers: Record<string, Handler> = {
  async createworkflowinstance(ctx) {
    const p = ctx.payload;
    const targetid = str(p.targetid);
    if (!targetid) throw commandError("targetid is mandatory");
    let queue = str(p.queue);
    let name = str(p.name);
    const workflowid = str(p.workflowid);
    if (!workflowid && !queue) throw commandError("workflowid or queue is mandatory");
    const resultqueue = str(p.resultqueue);
    if (!resultqueue) throw commandError("replyqueuename is mandatory");
    if (workflowid) {
      const workflow = ctx.server.store.get("workflow", workflowid);
      if (!workflow || !aclAllows(workflow._acl, ctx.user, Rights.read)) throw commandError(`Unknown workflow id ${workflowid}`);
      queue ??= str(workflow.queue);
      name ??= str(workflow.name);
    }
    if (!name) throw commandError("name is mandatory when workflowid not set");
    if (!queue) throw commandError("workflowid or queue is mandatory");
    if (queue === resultqueue) throw commandError(`Cannot reply to self queuename: ${queue} correlationId: ${resultqueue}`);
    const target = ctx.server.store.get(USERS, targetid);
    if (!target || !aclAllows(target._acl, ctx.user, Rights.read)) throw commandError(`Unknown target id ${targetid}`);
    // server-latest requires `data` (api-latest); the 2021 name `payload` makes it fail with a TypeError there.
    if (p.data === undefined) throw commandError("data is mandatory (server-latest reads the workflow arguments from `data`, not `payload`)");
    const data = p.data;
    const correlationId = str(p.correlationId) ?? newFrameId();
    const acl: Ace[] = [];
    const targetPrincipal = principalFor(ctx.server, targetid);
    addRight(acl, targetid, targetPrincipal.name, Rights.full);
    addRight(acl, ctx.user._id, ctx.user.name, Rights.full);
    if (ctx.conn.user) addRight(acl, ctx.conn.user._id, ctx.conn.user.name, Rights.full);
    const instance: AnyDoc = {
      _type: "instance", name, queue, resultqueue, workflow: workflowid ?? null, targetid, state: "new", form: "unknown", correlationId,
      payload: data, _acl: acl,
    };
    const parent = typeof data === "object" && data !== null ? (data as AnyDoc)._parentid : undefined;
    if (str(parent) ?? str(p.parentid)) instance._parentid = str(parent) ?? str(p.parentid);
    // The same check queuemessage makes: read right on the robot queue's claim, no token to an unclaimed name.
    const withToken = p.initialrun === true && authorizePublish(ctx.server, ctx.user, queue.toLowerCase()).withToken;
    if (p.initialrun === true) authorizePublish(ctx.server, ctx.user, resultqueue.toLowerCase());
    const stored = ctx.server.store.insert("workflow_instances", prepareInsert(ctx.server, "workflow_instances", instance, ctx.user));
    if (p.initialrun === true) {
      ctx.server.broker.publish(
        { queuename: queue, exchangename: "" },
        { data: withToken ? { _id: stored._id, __jwt: ctx.jwt, __user: ctx.user } : { _id: stored._id }, replyto: resultqueue.toLowerCase(), correlationId, routingkey: "", exchangename: "", expiresAt: ctx.server.now() + ctx.server.options.defaultExpirationMs },
        { address: ctx.conn.address, user: ctx.user._id },
      );
    }
    const reply: AnyDoc = { ...p, correlationId, payload: data, newinstanceid: stored._id, jwt: (await ctx.server.auth.issue(ctx.user, true)).jwt };
    delete reply.data;
    return reply;
  },
};
