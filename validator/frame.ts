/**
 * Validate one frame on its own: the structural checks (structure.ts) plus schemas/frame.json (runtime/validate.ts),
 * without any reassembly or correlation (the capture validator adds those).
 */
import type { WireFrame } from "../runtime/framing.js";
import { validateFrame as schemaIssues } from "../runtime/validate.js";
import { finding, type Finding, type Origin } from "./findings.js";
import { checkFrameStructure } from "./structure.js";

export interface FrameCheck {
  /** The frame ready for reassembly, or undefined when it cannot be processed. */
  frame: WireFrame | undefined;
  findings: Finding[];
}

/** Structural + schema checks of a parsed frame. Schema issues under a field already reported structurally are dropped. */
export function checkFrame(value: unknown, origin: Origin = {}): FrameCheck {
  const result = checkFrameStructure(value, origin);
  if (result.reported.has("")) return { frame: result.frame, findings: result.findings };
  const issues = schemaIssues(value);
  if (issues.length > 0) {
    const raw = value as Record<string, unknown>;
    const extra = { id: typeof raw["id"] === "string" ? raw["id"] : undefined, command: typeof raw["command"] === "string" ? raw["command"] : undefined };
    const idless = typeof raw["id"] !== "string";
    for (const issue of issues) {
      // "must match then/else": the failing branch's own issue says what is wrong.
      if (issue.keyword === "if") continue;
      const required = issue.pointer === "" && issue.keyword === "required" ? /property '([^']+)'/.exec(issue.message) : null;
      const field = required ? (required[1] as string) : (issue.pointer.split("/")[1] ?? "");
      if (result.reported.has(field)) continue;
      // Only the servers' uncorrelated error frame may lack an id (frame.json#/$defs/idlessError): say so when it is the rule broken.
      const why = idless && (issue.schemaPath ?? "").includes("idlessError") ? " (a frame without id is valid only as the servers' one-frame error answer, schemas/frame.json#/$defs/idlessError)" : "";
      result.findings.push(finding("frame-invalid", `frame ${issue.message}${why}`, origin, { ...extra, pointer: issue.pointer }));
    }
  }
  return { frame: result.frame, findings: result.findings };
}

/** Validate a parsed frame on its own. Returns its findings (empty when valid). */
export function validateFrame(value: unknown, origin: Origin = {}): Finding[] {
  return checkFrame(value, origin).findings;
}

/** Validate one frame given as JSON text (`not-json` when it does not parse). */
export function validateFrameText(text: string, origin: Origin = {}): Finding[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return [finding("not-json", `not JSON: ${(err as Error).message}`, origin)];
  }
  return validateFrame(value, origin);
}
