/**
 * Text report for a maintainer: findings grouped by command (the frame first), one line each with the verdict
 * per side, the rule id, the payload pointer and what changed; then a summary with the suggested version bump.
 */
import { verdict, type JudgedFinding, type Outcome } from "../outcome.js";

export function formatFinding(f: JudgedFinding): string {
  const flag = f.acknowledged ? " (acknowledged)" : "";
  return `${verdict(f)}${flag}: ${f.rule} ${f.pointer || "(command)"}: ${f.message} [${f.schema}]`;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * A change inside a shared definition (`defs/...`) shows up in every command that uses it; such a change is
 * listed once, with the places it reaches, instead of once per command.
 */
const MAX_PLACES = 6;

export function textReport(outcome: Outcome): string {
  const lines = [`openflow-spec diff: ${outcome.base} → ${outcome.head}`];
  const shared = new Map<string, JudgedFinding[]>();
  const keyOf = (f: JudgedFinding): string => JSON.stringify([f.schema, f.rule, f.message, verdict(f), f.acknowledged]);
  for (const f of outcome.findings) if (f.schema.startsWith("defs/")) shared.set(keyOf(f), [...(shared.get(keyOf(f)) ?? []), f]);
  for (const [key, list] of shared) if (list.length < 2) shared.delete(key);
  let command: string | undefined;
  for (const f of outcome.findings) {
    if (shared.has(keyOf(f))) continue;
    if (f.command !== command) {
      command = f.command;
      lines.push("", f.command === "frame" ? "frame" : `command ${f.command}`);
    }
    lines.push(`  ${formatFinding(f)}`);
  }
  let schema: string | undefined;
  for (const list of [...shared.values()].sort((x, y) => x[0]!.schema.localeCompare(y[0]!.schema))) {
    const f = list[0]!;
    if (f.schema !== schema) {
      schema = f.schema;
      lines.push("", `shared definition ${f.schema}`);
    }
    const places = list.slice(0, MAX_PLACES).map((p) => `${p.command} ${p.pointer}`);
    const more = list.length > MAX_PLACES ? ` and ${list.length - MAX_PLACES} more` : "";
    lines.push(`  ${verdict(f)}${f.acknowledged ? " (acknowledged)" : ""}: ${f.rule}: ${f.message}`, `    in ${list.length} places: ${places.join(", ")}${more}`);
  }
  const failing = outcome.findings.filter((f) => f.failing);
  const side = (s: string): string => (s === "error" ? "breaking" : s === "warn" ? "may break" : s === "info" ? "info only" : "safe");
  lines.push(
    "",
    outcome.findings.length === 0
      ? "No changes that affect the wire."
      : `${count(outcome.findings.length, "change")} in ${count(new Set(outcome.findings.map((f) => f.command)).size, "command")}; clients: ${side(outcome.clients)}; servers: ${side(outcome.servers)}.`,
    `Suggested spec version bump: ${outcome.bump}.`,
    outcome.ok
      ? "openflow-spec diff: OK"
      : `openflow-spec diff: FAILED (${count(failing.length, "unacknowledged change")} at or above ${outcome.failOn}: ${[...new Set(failing.map((f) => f.rule))].join(", ")})`,
  );
  return `${lines.join("\n")}\n`;
}
