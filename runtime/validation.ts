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
  return `${where || "/"} ${i.message ?? "invalid"}`;
}

/** Load the generated validators. Rejects with "usage" when they are not available in this build. */
export async function loadPayloadCheck(): Promise<PayloadCheck> {
  // Variable specifier: the module is generated and optional at type-check time.
  const specifier = "./validate.js";
  let mod: { validatePayload?: (command: string, kind: PayloadKind, payload: unknown) => unknown };
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch (err) {
    throw new OpenFlowError("usage", `validation needs runtime/validate.js, which could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  const validatePayload = mod.validatePayload;
  if (typeof validatePayload !== "function") throw new OpenFlowError("usage", "runtime/validate.js does not export validatePayload");
  return (command, kind, payload) => {
    try {
      return describeResult(validatePayload(command, kind, payload));
    } catch (err) {
      if (OpenFlowError.is(err, "validation")) return err.message;
      if (OpenFlowError.is(err)) return undefined; // e.g. unknown command: nothing to check against
      throw err;
    }
  };
}
