/** Human-readable report: one line per finding (`file:line: severity code: message [details]`) and a summary. */
import type { Finding } from "../findings.js";
import type { InputSummary } from "../run.js";
import type { Reporter, Totals, UnreadableInput, Write } from "./reporter.js";
import { displayText, lineStart } from "./escape.js";

/**
 * The finding's message and its context (` [conn p1, c2s, id 7, command query, at /top]`). Peer-chosen text (ids,
 * commands, field names quoted in the message) is escaped (./escape.ts): the result is always one line.
 */
export function findingText(f: Finding): string {
  const details: string[] = [];
  if (f.connection) details.push(`conn ${f.connection}`);
  if (f.dir) details.push(f.dir);
  if (f.id) details.push(`id ${f.id}`);
  if (f.command) details.push(`command ${f.command}`);
  if (f.pointer !== undefined && f.pointer !== "") details.push(`at ${f.pointer}`);
  return displayText(`${f.message}${details.length > 0 ? ` [${details.join(", ")}]` : ""}`);
}

/** One report line: `file:line: severity code: text`, never more than one line, never starting a log command. */
export function formatFinding(f: Finding): string {
  const where = f.file === undefined ? "" : `${lineStart(f.file)}${f.line === undefined ? "" : `:${f.line}`}: `;
  return `${where}${f.severity} ${f.code}: ${findingText(f)}`;
}

/** `1 warning`, `2 warnings`: every report counts with this. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function summaryLine(t: Totals): string {
  const parts = [plural(t.inputs, "input"), plural(t.frames, "frame"), plural(t.messages, "message"), plural(t.errors, "error"), plural(t.warnings, "warning")];
  if (t.unreadable > 0) parts.push(`${t.unreadable} unreadable`);
  if (t.suppressed > 0) parts.push(`${t.suppressed} not shown (--max-findings)`);
  return `openflow-spec validate: ${parts.join(", ")}: ${t.ok ? "OK" : "FAILED"}`;
}

export class TextReporter implements Reporter {
  constructor(private readonly out: Write, private readonly quiet = false) {}
  startInput(): void {}
  finding(f: Finding): void {
    if (!this.quiet) this.out(`${formatFinding(f)}\n`);
  }
  endInput(_summary: InputSummary, suppressed: number): void {
    if (suppressed > 0 && !this.quiet) this.out(`${lineStart(_summary.file)}: ${suppressed} more finding${suppressed === 1 ? "" : "s"} not shown (--max-findings)\n`);
  }
  unreadable(input: UnreadableInput): void {
    this.out(`${lineStart(input.file)}: cannot read: ${displayText(input.message)}\n`);
  }
  end(totals: Totals): void {
    this.out(`${summaryLine(totals)}\n`);
  }
}
