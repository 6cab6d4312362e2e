/**
 * From websocket text to handler and back, in the order server-latest does it (../docs/protocol.md): unparsable
 * text gets the uncorrelated `error`; ping/pong are dropped (or answered in 2021 style); the rate limit answers
 * before reassembly; replies complete the server's own requests; every command except signin needs a valid
 * token (connection or payload `jwt`); the payload is validated against the schemas; errors use the selected
 * style. Nothing here throws to the socket layer: every failure becomes a reply or a log line.
 */
import { newFrameId, parseFrame, type WireFrame, type WireMessage } from "../runtime/framing.js";
import { OpenFlowError } from "../runtime/errors.js";
import type { TokenUser } from "./auth.js";
import { currentUser } from "./authz.js";
import type { Connection } from "./connection.js";
import type { Handler, ServerContext } from "./context.js";
import { errorText } from "./errors.js";
import { consumePoint } from "./ratelimit.js";
import { checkRequest } from "./validation.js";
import type { AnyDoc } from "./store.js";
import { handleSignin } from "./handlers/session.js";

export interface Dispatcher {
  handlers: ReadonlyMap<string, Handler>;
}

/** Entry point for every websocket text message of a connection. */
export function handleText(server: ServerContext, dispatcher: Dispatcher, conn: Connection, text: string): void {
  const now = server.now();
  conn.lastSeen = now;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // The real servers answer unparsable text with an error frame that has no id; data is the parser's text.
    conn.sendText(JSON.stringify({ command: "error", data: (err as Error).message, priority: 1 }));
    return;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    conn.sendText(JSON.stringify({ command: "error", data: "frame must be a JSON object", priority: 1 }));
    return;
  }
  const obj = raw as Record<string, unknown>;
  let frame: WireFrame;
  try {
    frame = parseFrame(text);
  } catch (err) {
    const id = typeof obj.id === "string" && obj.id !== "" ? obj.id : undefined;
    if (obj.command === undefined && id !== undefined && conn.signedIn) {
      // Both servers send a frame without a command back unchanged (../docs/protocol.md#frames).
      conn.sendText(text);
      return;
    }
    sendProtocolError(conn, id, errorText(err));
    return;
  }
  // Both servers give a frame without id a random one (../docs/protocol.md#frames).
  if (frame.id === "") frame = { ...frame, id: newFrameId() };
  const command = frame.command.toLowerCase();
  if (command === "ping" || command === "pong") {
    if (command === "ping" && server.options.errorStyle === "2021" && !frame.replyto) {
      conn.send({ id: newFrameId(), replyto: frame.id, command: "pong", data: "" });
    }
    return;
  }
  const limit = server.options.rateLimit;
  if (limit) {
    const consumed = consumePoint(conn, limit, now);
    if (consumed > limit.points && !frame.replyto) {
      // server-latest: the uncorrelated error with the request's id and no replyto; nothing for multi-frame.
      if ((frame.count ?? 1) <= 1) {
        conn.send({ id: frame.id, command: "error", data: JSON.stringify({ error: `Rate limit exceeded consumedPoints: ${consumed}` }) });
      }
      return;
    }
  }
  let message: WireMessage;
  try {
    const result = conn.reassembler.push(frame, now);
    if (!result.done) return;
    message = result.message;
  } catch (err) {
    sendProtocolError(conn, frame.id || undefined, errorText(err));
    return;
  }
  if (message.replyto) {
    // A reply only ever completes a pending request; an unmatched one is dropped (../docs/protocol.md#correlation).
    conn.settle(message);
    return;
  }
  conn.enqueue(() => processMessage(server, dispatcher, conn, message, command));
}

function sendProtocolError(conn: Connection, id: string | undefined, text: string): void {
  if (id === undefined) {
    conn.sendText(JSON.stringify({ command: "error", data: text, priority: 1 }));
    return;
  }
  // Framing failures happen before any command runs, so both styles answer them with an `error` reply.
  conn.reply(id, "error", { message: text, error: text });
}

/** Send a failure for request `id` in the configured style. */
export function sendError(server: ServerContext, conn: Connection, id: string, command: string, text: string, echo: AnyDoc | undefined): void {
  if (server.options.errorStyle === "2021") {
    const payload: AnyDoc = { ...(echo ?? {}), error: text };
    delete payload.jwt;
    delete payload.password;
    conn.reply(id, command, payload);
    return;
  }
  conn.reply(id, "error", { message: text, error: text });
}

/**
 * Decode, authenticate, validate and run one reassembled message. Unlike server-latest, error replies to
 * multi-frame requests carry `error` too (Q7 makes the official client report those failures as success).
 */
async function processMessage(server: ServerContext, dispatcher: Dispatcher, conn: Connection, message: WireMessage, command: string): Promise<void> {
  if (conn.closed) return;
  let payload: unknown = null;
  const data = message.data;
  if (data !== undefined && data !== null && data !== "") {
    try {
      payload = JSON.parse(data);
    } catch (err) {
      if (command === "error") {
        // server-latest sends a client's uncorrelated error back, replacing non-JSON data by the parse error.
        conn.send({ id: message.id, command: "error", data: JSON.stringify({ error: (err as Error).message }) });
        return;
      }
      sendError(server, conn, message.id, command, `payload is not JSON: ${(err as Error).message}`, undefined);
      return;
    }
  }
  if (command === "error" || command === "refreshtoken" || command === "watchevent") {
    // Q19: sent back with the same id and no replyto; an error's `message` is copied to `error`.
    let echo = payload;
    if (command === "error" && typeof echo === "object" && echo !== null && "message" in echo) echo = { ...echo, error: (echo as AnyDoc).message };
    conn.send({ id: message.id, command, data: echo === null ? "" : JSON.stringify(echo) });
    return;
  }
  const echo = typeof payload === "object" && payload !== null && !Array.isArray(payload) ? ({ ...(payload as AnyDoc) } as AnyDoc) : undefined;
  try {
    const reply = await runCommand(server, dispatcher, conn, command, payload, echo);
    conn.reply(message.id, command, reply);
  } catch (err) {
    // A payload nested thousands of levels deep overflows the stack in validation, cloning or mingo: bad input.
    const tooDeep = err instanceof RangeError && /call stack/i.test(err.message);
    const text = tooDeep ? `${command} payload is nested too deeply to process` : errorText(err);
    if (err instanceof OpenFlowError || tooDeep) server.options.logger.debug?.(`[${conn.id}] ${command} failed: ${text}`);
    // Anything that is not an OpenFlowError is a defect of this server: answer, and make it visible.
    else server.options.logger.error(`[${conn.id}] ${command} crashed: ${err instanceof Error ? (err.stack ?? err.message) : text}`);
    if (server.options.errorStyle === "2021" && err instanceof OpenFlowError && err.code === "unsupported" && text.startsWith("Unknown command")) {
      // server-2021's unknown-command reply: command error, {message} without `error` (../docs/protocol.md#error-unknown-command).
      conn.reply(message.id, "error", { message: text });
      return;
    }
    try {
      sendError(server, conn, message.id, command, text, echo);
    } catch {
      // The 2021 style echoes the request, which may be too deep to serialize again: answer without the echo.
      sendError(server, conn, message.id, command, text, undefined);
    }
  }
}

async function runCommand(server: ServerContext, dispatcher: Dispatcher, conn: Connection, command: string, payload: unknown, echo: AnyDoc | undefined): Promise<AnyDoc> {
  const requestJwt = echo && typeof echo.jwt === "string" && echo.jwt !== "" ? echo.jwt : undefined;
  if (command === "signin") {
    validate(server, command, payload);
    return handleSignin({ server, conn, command, payload: echo ?? {}, user: conn.user, jwt: conn.jwt, requestJwt });
  }
  const token = requestJwt ?? conn.jwt;
  if (!token) throw new OpenFlowError("auth", "Not signed in, and missing jwt", { serverMessage: "Not signed in, and missing jwt" });
  let user: TokenUser;
  try {
    const verified = await server.auth.verify(token);
    // The token's user as the store holds it now: gone, disabled (or an impostor who is) ends here.
    user = currentUser(server, verified.user);
  } catch (err) {
    const text = `Discard ${command} due to invalid or expired jwt for client at ${conn.remote}: ${errorText(err)}`;
    throw new OpenFlowError("auth", text, { serverMessage: text });
  }
  const handler = dispatcher.handlers.get(command);
  if (!handler) {
    const text = `Unknown command ${command}`;
    throw new OpenFlowError("unsupported", text, { serverMessage: text, command });
  }
  validate(server, command, payload);
  if (!echo) {
    const text = `${command} payload must be a JSON object`;
    throw new OpenFlowError("validation", text, { serverMessage: text });
  }
  delete echo.jwt;
  let reply: AnyDoc;
  try {
    reply = await handler({ server, conn, command, payload: echo, user, jwt: token, requestJwt });
  } finally {
    if (conn.closed) {
      // The socket closed while this request was in flight (token verification is asynchronous), after the
      // close handlers ran: a watch, queue or exchange binding it just registered would never be removed.
      server.watches.removeConnection(conn);
      server.broker.removeConnection(conn);
    }
  }
  // server-latest removes jwt from replies, except deleteone (echo) and createworkflowinstance (a new long token).
  if (command !== "deleteone" && command !== "createworkflowinstance") delete reply.jwt;
  return reply;
}

function validate(server: ServerContext, command: string, payload: unknown): void {
  if (!server.options.validate) return;
  const check = checkRequest(command, payload);
  if (!check.ok) throw new OpenFlowError("validation", check.message, { serverMessage: check.message, details: check.issues, command });
}
