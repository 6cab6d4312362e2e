/**
 * Lint rule `protobuf-consistent`: what `x-openflow.protobuf` says must hang together. The meta-schema requires
 * the entry and its shape; this rule checks what a schema cannot:
 * - the message names follow protowrap's lookup (command `x` uses `XRequest`, its reply `xreply` uses `XResponse`,
 *   matched case-insensitively; `pong` is `PingResponse`, `error` is `ErrorResponse`; server pushes use the message
 *   named like the command);
 * - the status follows from the changes (reshaped exactly when a change needs the app to change; otherwise direct
 *   when the command string is the same, renamed when it is not);
 * - renamed and moved changes say where to (`to`), retyped and note changes say what (`text`);
 * - the sources cite the request message itself (a link whose symbol is the message name).
 */
import { isObject, type JsonObject } from "./walk.js";

/** Changes that do not make a command reshaped: the app keeps working without touching them. */
export const NON_BLOCKING_CHANGES: ReadonlySet<string> = new Set(["added", "not-echoed", "note"]);

/** The message protowrap's CommandToProto looks up for an envelope command (lower case, for comparison). */
export function expectedMessage(command: string): string[] {
  if (command === "pong") return ["pingresponse"];
  if (command === "error") return ["errorresponse"];
  if (command.endsWith("reply")) return [`${command.slice(0, -"reply".length)}response`];
  return [`${command}request`, command];
}

export function lintProtobuf(path: string, doc: JsonObject, add: (file: string, pointer: string, message: string) => void): void {
  const meta = isObject(doc["x-openflow"]) ? doc["x-openflow"] : {};
  const p = meta["protobuf"];
  if (!isObject(p) || p["status"] === "none") return;
  const at = "/x-openflow/protobuf";
  const command = String(meta["command"] ?? "");
  const pbCommand = String(p["command"] ?? "");
  const request = String(p["request"] ?? "");
  if (!expectedMessage(pbCommand).includes(request.toLowerCase())) {
    add(path, `${at}/request`, `protowrap looks up ${expectedMessage(pbCommand).join(" or ")} for envelope command ${JSON.stringify(pbCommand)}, not ${JSON.stringify(request)}`);
  }
  const reply = p["reply"];
  const replyCommand = p["replyCommand"];
  if ((reply === null) !== (replyCommand === null)) add(path, `${at}/reply`, "reply and replyCommand are both null or both set");
  if (typeof reply === "string" && typeof replyCommand === "string" && !expectedMessage(replyCommand).includes(reply.toLowerCase())) {
    add(path, `${at}/reply`, `protowrap looks up ${expectedMessage(replyCommand).join(" or ")} for reply command ${JSON.stringify(replyCommand)}, not ${JSON.stringify(reply)}`);
  }
  const changes = Array.isArray(p["changes"]) ? (p["changes"] as unknown[]).filter(isObject) : [];
  changes.forEach((ch, i) => {
    const kind = String(ch["kind"]);
    if ((kind === "renamed" || kind === "moved") && typeof ch["to"] !== "string") add(path, `${at}/changes/${i}`, `a ${kind} change says where to (to)`);
    if ((kind === "retyped" || kind === "note") && typeof ch["text"] !== "string") add(path, `${at}/changes/${i}`, `a ${kind} change says what (text)`);
    if (kind !== "note" && typeof ch["field"] !== "string") add(path, `${at}/changes/${i}`, `a ${kind} change names its field`);
  });
  const blocking = changes.some((ch) => !NON_BLOCKING_CHANGES.has(String(ch["kind"])));
  const expected = blocking ? "reshaped" : pbCommand === command ? "direct" : "renamed";
  if (p["status"] !== expected) add(path, `${at}/status`, `status ${JSON.stringify(p["status"])} does not match the changes and command: expected ${JSON.stringify(expected)}`);
  const sources = Array.isArray(p["sources"]) ? (p["sources"] as unknown[]).filter(isObject) : [];
  if (!sources.some((s) => s["symbol"] === request)) add(path, `${at}/sources`, `no source cites the message ${request} itself (a link with "symbol": ${JSON.stringify(request)})`);
}
