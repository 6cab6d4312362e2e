/**
 * JUnit XML report: one <testcase> per changed command (and the frame), failing when it has a failing finding;
 * the other findings go to <system-out>. A diff without changes is one passing test case.
 */
import { xmlEscape } from "../../validator/report/junit.js";
import type { JudgedFinding, Outcome } from "../outcome.js";
import { formatFinding } from "./text.js";

export function junitReport(outcome: Outcome): string {
  const byCommand = new Map<string, JudgedFinding[]>();
  for (const f of outcome.findings) byCommand.set(f.command, [...(byCommand.get(f.command) ?? []), f]);
  const cases: string[] = [];
  for (const [command, findings] of byCommand) {
    const failing = findings.filter((f) => f.failing);
    const body = xmlEscape(findings.map(formatFinding).join("\n"));
    const first = failing[0];
    const inner = first
      ? `<failure message="${xmlEscape(`${first.rule}: ${first.message}`)}" type="${first.rule}">${body}</failure>`
      : `<system-out>${body}</system-out>`;
    cases.push(`    <testcase name="${xmlEscape(command)}" classname="openflow-spec.diff">\n      ${inner}\n    </testcase>`);
  }
  if (cases.length === 0) cases.push(`    <testcase name="no changes" classname="openflow-spec.diff"/>`);
  const failures = cases.filter((c) => c.includes("<failure")).length;
  const name = xmlEscape(`openflow-spec diff ${outcome.base} → ${outcome.head}`);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${name}" tests="${cases.length}" failures="${failures}" errors="0">\n` +
    `  <testsuite name="${name}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">\n${cases.join("\n")}\n  </testsuite>\n</testsuites>\n`
  );
}
