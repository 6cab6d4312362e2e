/**
 * Payloads: decoding a message's `data` and validating it against its command's request or reply schema
 * (runtime/validate.ts, which also decodes and checks JSON-in-string fields against their contentSchema).
 */
import { decodeData, hasClosedRequestSchema, isKnownCommand, knownCommands, validatePayload, type PayloadKind, type ValidationIssue } from "../runtime/validate.js";
import { finding, type Finding, type Origin } from "./findings.js";
import { suggest } from "../generator/suggest.js";

/** `unknown command "qeury" (did you mean "query"?)`: the finding text for a command the spec does not know. */
export function unknownCommandText(command: string): string {
  const near = suggest(command.toLowerCase(), knownCommands());
  return `unknown command ${JSON.stringify(command)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`;
}

export type { PayloadKind };
export { isKnownCommand };

export type Decoded = { ok: true; payload: unknown } | { ok: false; error: string };

/**
 * The payload of a message: `JSON.parse(data)`; missing, null or "" data is payload null. `error` messages may carry
 * plain text, which is then the payload itself.
 */
export function decodeMessageData(command: string, data: string | null | undefined): Decoded {
  const result = decodeData(data, { allowPlainText: command.toLowerCase() === "error" });
  return result.ok ? result : { ok: false, error: result.issue.message };
}

/**
 * Validate a payload (the decoded `data`) against the command's request or reply schema, JSON-in-string fields
 * included. An unknown command gives `unknown-command`. A request is checked closed first (one pass when it is
 * valid); fields no part of its schema declares give `unknown-request-field` (a warning), reported once the payload
 * is otherwise valid (a failing branch would make its own fields look unknown too).
 */
export function validateCommandPayload(command: string, kind: PayloadKind, payload: unknown, origin: Origin = {}, extra: { id?: string | undefined } = {}): Finding[] {
  if (!isKnownCommand(command)) {
    return [finding("unknown-command", unknownCommandText(command), origin, { ...extra, command })];
  }
  const name = command.toLowerCase();
  let closedIssues: ValidationIssue[] = [];
  if (kind === "request" && hasClosedRequestSchema(name)) {
    closedIssues = validatePayload(name, kind, payload, { closed: true });
    if (closedIssues.length === 0) return [];
  }
  const seen = new Set<string>();
  // Branches of an anyOf often repeat the same complaint about a shared field: report it once.
  const issues = foldAlternatives(validatePayload(name, kind, payload)).filter((i) => !seen.has(i.message) && seen.add(i.message));
  if (issues.length === 0) {
    return closedIssues
      .filter((issue) => issue.keyword === "unevaluatedProperties")
      .map((issue) => finding("unknown-request-field", `${name} request payload: ${issue.message}`, origin, { ...extra, command, pointer: issue.pointer }));
  }
  return issues.map((issue) =>
    finding("payload-invalid", `${name} ${kind} payload: ${issue.message}`, origin, { ...extra, command, pointer: issue.pointer }),
  );
}

const ALTERNATIVES = new Set(["anyOf", "oneOf"]);
const BRANCH_MISMATCH = new Set(["type", "const", "enum"]);

/**
 * ajv reports a failed anyOf/oneOf as one issue per branch plus the anyOf/oneOf issue itself, all at the same
 * pointer ("must be object", "must be string", "must match exactly one schema in oneOf"). Fold the branches' simple
 * mismatches into the anyOf/oneOf issue so one wrong value gives one finding; deeper branch issues stay.
 */
export function foldAlternatives(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const at = new Set(issues.filter((i) => ALTERNATIVES.has(i.keyword ?? "")).map((i) => i.pointer));
  if (at.size === 0) return [...issues];
  const folded = new Map<string, string[]>();
  const kept: ValidationIssue[] = [];
  for (const issue of issues) {
    if (at.has(issue.pointer) && BRANCH_MISMATCH.has(issue.keyword ?? "")) {
      const text = issue.pointer !== "" && issue.message.startsWith(`${issue.pointer} `) ? issue.message.slice(issue.pointer.length + 1) : issue.message;
      const list = folded.get(issue.pointer) ?? [];
      if (!list.includes(text)) list.push(text);
      folded.set(issue.pointer, list);
    } else {
      kept.push(issue);
    }
  }
  return kept.map((issue) => {
    const branches = ALTERNATIVES.has(issue.keyword ?? "") ? folded.get(issue.pointer) : undefined;
    if (!branches) return issue;
    folded.delete(issue.pointer);
    return { ...issue, message: `${issue.message} (${branches.join("; ")})` };
  });
}
