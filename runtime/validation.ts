/**
 * Validation mode: check outgoing request payloads (closed: unknown fields are reported) and incoming reply payloads
 * against the generated validators. "off" (default) costs nothing; "warn" logs; "strict" rejects with code
 * "validation". The validators live in the entry `openflow-spec/validation` (`runtime/validate.ts`): pass its
 * `validators` to `connect`, so a bundle holds them only when the app asks for them. Without them, Node loads that
 * module by itself (the import below is not a string literal, so bundlers do not follow it).
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

/** The validators module, named through a variable so that bundlers leave it out of the core client. */
const VALIDATION_MODULE = "./validate.js";

/** The payload check: the one given (`options.validators`), else the validation entry loaded at run time. */
export async function loadPayloadCheck(given?: PayloadCheck): Promise<PayloadCheck> {
  if (given !== undefined) {
    if (typeof given !== "function") throw new OpenFlowError("usage", "option validators must be the validators export of openflow-spec/validation");
    return given;
  }
  try {
    const mod = (await import(/* @vite-ignore */ VALIDATION_MODULE)) as { validators: PayloadCheck };
    return mod.validators;
  } catch (err) {
    throw new OpenFlowError(
      "usage",
      `validation needs the validators: import { validators } from "openflow-spec/validation" and pass connect(url, { validation, validators }) (loading them by path failed: ${(err as Error).message})`,
      { cause: err },
    );
  }
}
