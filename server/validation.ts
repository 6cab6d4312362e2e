/**
 * The one place where incoming payloads meet the schemas. `runtime/validate.ts` (generated validators) checks
 * `schemas/commands/<command>.json#/$defs/request`; a command without a schema file is left to its handler.
 */
import { isKnownCommand, validatePayload, type ValidationIssue } from "../runtime/validate.js";

export interface RequestCheck {
  ok: boolean;
  /** Readable summary naming the offending fields, e.g. `invalid query payload: /top must be integer`. */
  message: string;
  issues: ValidationIssue[];
}

const MAX_LISTED = 5;

export function checkRequest(command: string, payload: unknown): RequestCheck {
  if (!isKnownCommand(command)) return { ok: true, message: "", issues: [] };
  const issues = validatePayload(command, "request", payload);
  if (issues.length === 0) return { ok: true, message: "", issues };
  const listed = issues.slice(0, MAX_LISTED).map((i) => i.message || "(payload) is invalid");
  const more = issues.length > MAX_LISTED ? ` (+${issues.length - MAX_LISTED} more)` : "";
  return { ok: false, message: `invalid ${command} payload: ${listed.join("; ")}${more}`, issues };
}
