/**
 * Validation mode: check outgoing request payloads and incoming reply payloads against the generated
 * validators (`runtime/validate.ts`, emitted from the schemas). "off" (default) costs nothing; "warn" logs;
 * "strict" rejects with code "validation". The validators are loaded lazily, so "off" never loads them.
 */
import { OpenFlowError } from "./errors.js";

export type ValidationMode = "off" | "warn" | "strict";

export type PayloadKind = "request" | "reply";

/** Returns a description of the problems, or undefined when the payload is valid (or the command unknown). */
export type PayloadCheck = (command: string, kind: PayloadKind, payload: unknown) => string | undefined;

/** Turn whatever a validator returns (boolean, { valid, errors }, issue array) into problem text or undefined. */
export function describeResult(result: unknown): string | undefined {
  if (result === undefined || result === null || result === true) return undefined;
  if (result === false) return "invalid";
  if (Array.isArray(result)) return result.length === 0 ? undefined : result.map(describeIssue).join("; ");
  if (typeof result === "object") {
    const r = result as { valid?: unknown; ok?: unknown; errors?: unknown; issues?: unknown };
    if (r.valid === true || r.ok === true) return undefined;
    const list = r.errors ?? r.issues;
    if (Array.isArray(list)) return list.length === 0 ? (r.valid === false || r.ok === false ? "invalid" : undefined) : list.map(describeIssue).join("; ");
    if (r.valid === false || r.ok === false) return "invalid";
  }
  return undefined;
}

function describeIssue(issue: unknown): string {
  if (typeof issue === "string") return issue;
  const i = issue as { instancePath?: string; pointer?: string; path?: string; message?: string };
  const where = i.instancePath ?? i.pointer ?? i.path ?? "";
  const message = i.message ?? "invalid";
  return where !== "" && message.startsWith(where) ? message : `${where || "/"} ${message}`;
}

/** Load the generated validators (lazily: mode "off" never loads them). */
export async function loadPayloadCheck(): Promise<PayloadCheck> {
  let mod: typeof import("./validate.js");
  try {
    mod = await import("./validate.js");
  } catch (err) {
    throw new OpenFlowError("usage", `validation needs runtime/validate.js, which could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  return (command, kind, payload) => {
    // Commands without a schema (custom, or never answered) have nothing to check against.
    if (!mod.isKnownCommand(command)) return undefined;
    if (kind === "reply" && !mod.hasReplySchema(command)) return undefined;
    return describeResult(mod.validatePayload(command, kind, payload));
  };
}
