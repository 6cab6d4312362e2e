/**
 * JUnit XML report: one <testsuite> for the run, one <testcase> per input file. A failing input gets one <failure>
 * listing its shown findings; warnings of a passing input go to <system-out>. Unreadable inputs are <error>s.
 */
import { displayText } from "./escape.js";
import { formatFinding, plural } from "./text.js";
import type { Finding } from "../findings.js";
import type { InputSummary } from "../run.js";
import type { Reporter, Totals, UnreadableInput, Write } from "./reporter.js";

/**
 * Escape for XML text and attributes: peer-chosen controls and separators become a visible `\uXXXX` (./escape.ts;
 * our own line breaks are added after escaping), characters XML 1.0 cannot carry at all are replaced.
 */
export function xmlEscape(text: string, keepNewlines = false): string {
  const visible = keepNewlines ? text.split("\n").map(displayText).join("\n") : displayText(text);
  return visible
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

export class JunitReporter implements Reporter {
  private readonly cases: string[] = [];
  private shown: Finding[] = [];
  private readonly started = Date.now();
  private inputStarted = Date.now();

  constructor(private readonly out: Write, private readonly strict = false) {}
  startInput(): void {
    this.shown = [];
    this.inputStarted = Date.now();
  }
  finding(f: Finding): void {
    this.shown.push(f);
  }
  endInput(summary: InputSummary, suppressed: number): void {
    const seconds = ((Date.now() - this.inputStarted) / 1000).toFixed(3);
    const name = xmlEscape(summary.file);
    const failed = summary.errors > 0 || (this.strict && summary.warnings > 0);
    const body = this.shown.map(formatFinding).join("\n") + (suppressed > 0 ? `\n... and ${suppressed} more (--max-findings)` : "");
    const stats = [plural(summary.frames, "frame"), plural(summary.messages, "message"), plural(summary.errors, "error"), plural(summary.warnings, "warning")].join(", ");
    let inner = "";
    if (failed) {
      const first = this.shown.find((f) => f.severity === "error") ?? this.shown[0];
      const message = first ? `${first.code}: ${first.message}` : stats;
      inner = `\n      <failure message="${xmlEscape(message)}" type="${xmlEscape(first?.code ?? "invalid")}">${xmlEscape(`${stats}\n${body}`, true)}</failure>\n    `;
    } else if (body !== "") {
      inner = `\n      <system-out>${xmlEscape(body, true)}</system-out>\n    `;
    }
    this.cases.push(`    <testcase name="${name}" classname="openflow-spec.validate" time="${seconds}">${inner}</testcase>`);
    this.shown = [];
  }
  unreadable(input: UnreadableInput): void {
    this.cases.push(`    <testcase name="${xmlEscape(input.file)}" classname="openflow-spec.validate" time="0">\n      <error message="${xmlEscape(`cannot read: ${input.message}`)}" type="unreadable"/>\n    </testcase>`);
  }
  end(_totals: Totals): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(3);
    const tests = this.cases.length;
    const failures = this.cases.filter((c) => c.includes("<failure")).length;
    const errors = this.cases.filter((c) => c.includes("<error")).length;
    this.out(
      `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="openflow-spec validate" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds}">\n` +
        `  <testsuite name="openflow-spec validate" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds}">\n` +
        (tests > 0 ? `${this.cases.join("\n")}\n` : "") +
        `  </testsuite>\n</testsuites>\n`,
    );
  }
}
