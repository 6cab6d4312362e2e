/**
 * GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding that is not safe, on the
 * schema file of the head tree, so the change shows on the pull request. Failing findings are errors.
 */
import { annotation } from "../../validator/report/github.js";
import { verdict, worst, type Outcome } from "../outcome.js";

/** `root` is the head's schemas directory as GitHub sees it (relative to the repository root). */
export function githubReport(outcome: Outcome, root: string): string {
  const lines: string[] = [];
  for (const f of outcome.findings) {
    const level = f.failing ? "error" : worst(f) === "error" || worst(f) === "warn" ? "warning" : worst(f) === "info" ? "notice" : undefined;
    if (level === undefined) continue;
    const file = `${root === "." ? "" : `${root}/`}${f.schema.split("#")[0]}`;
    const title = `${f.rule} (${verdict(f)}${f.acknowledged ? ", acknowledged" : ""})`;
    lines.push(annotation(level, { file, title }, `${f.command} ${f.pointer || "(command)"}: ${f.message}`));
  }
  const failing = outcome.findings.filter((f) => f.failing).length;
  lines.push(`openflow-spec diff: ${outcome.findings.length} changes, ${failing} failing; suggested spec version bump: ${outcome.bump}; ${outcome.ok ? "OK" : "FAILED"}`);
  return `${lines.join("\n")}\n`;
}
