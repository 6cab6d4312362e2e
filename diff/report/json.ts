/** JSON report: the whole outcome as one document (`version` 1). */
import type { Outcome } from "../outcome.js";

export function jsonReport(outcome: Outcome): string {
  const { base, head, clients, servers, bump, failOn, ok, findings } = outcome;
  return `${JSON.stringify({ version: 1, base, head, summary: { clients, servers, bump, failOn, ok, changes: findings.length, failing: findings.filter((f) => f.failing).length }, findings }, null, 2)}\n`;
}
