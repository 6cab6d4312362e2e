/** Messaging (../../docs/protocol.md#queues-and-exchanges): registerqueue, registerexchange, closequeue and publishing with queuemessage. */
import { newFrameId } from "../../runtime/framing.js";
import { authorizeConsume, authorizeExchange, authorizePublish, recordConsumer } from "../authz.js";
import type { Handler } from "../context.js";
import { commandError } from "../errors.js";
import type { AnyDoc } from "../store.js";

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

export const messagingHandlers: Record<string, Handler> = {
  registerqueue(ctx) {
    const p = ctx.payload;
    const requested = str(p.queuename).toLowerCase();
    // A named queue: read right on its claims, or claim it (an auto-named queue is the connection's own).
    if (requested !== "" && requested !== "openflow" && !ctx.server.broker.ownerOf(requested)) authorizeConsume(ctx.server, ctx.user, requested);
    const queuename = ctx.server.broker.registerQueue(ctx.conn, requested);
    recordConsumer(ctx.conn, queuename, ctx.user);
    return { ...p, queuename };
  },

  registerexchange(ctx) {
    const p = ctx.payload;
    const addqueue = p.addqueue !== false;
    const name = str(p.exchangename).toLowerCase();
    if (name !== "" && name !== "openflow" && ["direct", "fanout", "topic"].includes(str(p.algorithm))) authorizeExchange(ctx.server, ctx.user, name, true);
    const registered = ctx.server.broker.registerExchange(ctx.conn, str(p.exchangename), str(p.algorithm), str(p.routingkey), addqueue);
    if (registered.queuename !== "") recordConsumer(ctx.conn, registered.queuename, ctx.user);
    return { ...p, routingkey: str(p.routingkey), ...registered };
  },

  closequeue(ctx) {
    const p = ctx.payload;
    if (str(p.queuename) === "") throw commandError("queuename is mandatory");
    ctx.server.broker.closeQueue(ctx.conn, str(p.queuename));
    return { ...p };
  },

  queuemessage(ctx) {
    const p: AnyDoc = { ...ctx.payload };
    // server-latest maps the 2021 name `exchange` to `exchangename` (Q14).
    if (str(p.exchangename) === "" && str(p.exchange) !== "") p.exchangename = p.exchange;
    delete p.exchange;
    const queuename = str(p.queuename).toLowerCase();
    const exchangename = str(p.exchangename).toLowerCase();
    const replyto = str(p.replyto).toLowerCase();
    if (queuename === "openflow" || exchangename === "openflow" || replyto === "openflow") throw commandError("Access denied");
    if (queuename === "" && exchangename === "") throw commandError("queuename or exchange must be given");
    // Read right on the exchange's or queue's claim; the token only travels to a queue someone answers for.
    let withToken = true;
    if (exchangename !== "") authorizeExchange(ctx.server, ctx.user, exchangename, false);
    else withToken = authorizePublish(ctx.server, ctx.user, queuename).withToken;
    // Replies and "timeout" dead letters go to `replyto`: a queue the sender could not send to is refused too.
    if (replyto !== "") authorizePublish(ctx.server, ctx.user, replyto);
    let data: unknown = p.data;
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch {
        // Not JSON: delivered as the string it is.
      }
    }
    if (typeof data === "object" && data !== null && !Array.isArray(data)) {
      // The sender's identity is set by the server only: a __user or __jwt the sender wrote is never passed on.
      const { __jwt: _jwt, __user: _user, ...rest } = data as AnyDoc;
      data = p.striptoken !== true && withToken ? { ...rest, __jwt: ctx.jwt, __user: ctx.user } : rest;
    }
    const expiration = typeof p.expiration === "number" && p.expiration > 0 ? p.expiration : ctx.server.options.defaultExpirationMs;
    const correlationId = str(p.correlationId) || newFrameId();
    const bodyError = typeof data === "object" && data !== null ? (data as AnyDoc).error : undefined;
    ctx.server.broker.publish(
      { queuename, exchangename },
      {
        data, replyto, correlationId, routingkey: str(p.routingkey), exchangename, expiresAt: ctx.server.now() + expiration,
        // The real server copies the body's `error` onto the delivery (q.error = d.error).
        ...(bodyError !== undefined && bodyError !== null ? { error: bodyError } : {}),
      },
      { address: ctx.conn.address, user: ctx.user._id },
    );
    const reply: AnyDoc = { ...p, queuename, correlationId, data };
    if (exchangename !== "") reply.exchangename = exchangename;
    if (replyto !== "") reply.replyto = replyto;
    delete reply.user;
    return reply;
  },
};
