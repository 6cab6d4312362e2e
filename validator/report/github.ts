/**
 * GitHub Actions workflow commands: one `::error` / `::warning` annotation per finding, with the file and line, so
 * findings show on the pull request's diff; then the summary line as plain text. Values are escaped as the
 * workflow-command syntax requires (`%`, CR and LF in messages; also `:` and `,` in properties).
 */
import type { Finding } from "../findings.js";
import type { InputSummary } from "../run.js";
import type { Reporter, Totals, UnreadableInput, Write } from "./reporter.js";
import { displayText, lineStart } from "./escape.js";
import { findingText, summaryLine } from "./text.js";

// Controls and line separators are first made visible (./escape.ts), so `%`, CR and LF are what is left to encode.
const escapeData = (s: string): string => displayText(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

/** One workflow command line: `::error file=a.ndjson,line=3,title=frame-invalid::message`. */
export function annotation(level: "error" | "warning" | "notice", properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(",");
  return `::${level}${props ? ` ${props}` : ""}::${escapeData(message)}`;
}

export class GithubReporter implements Reporter {
  constructor(private readonly out: Write, private readonly strict = false) {}
  startInput(): void {}
  finding(f: Finding): void {
    // Under --strict a warning fails the run, so it is shown as an error.
    const level = f.severity === "error" || this.strict ? "error" : "warning";
    // The title carries the code and the level the severity: the text is the message and its context.
    this.out(`${annotation(level, { file: f.file === "-" ? undefined : f.file, line: f.line, title: `openflow-spec ${f.code}` }, findingText(f))}\n`);
  }
  endInput(summary: InputSummary, suppressed: number): void {
    if (suppressed > 0) this.out(`${lineStart(summary.file)}: ${suppressed} more finding${suppressed === 1 ? "" : "s"} not shown (--max-findings)\n`);
  }
  unreadable(input: UnreadableInput): void {
    this.out(`${annotation("error", { file: input.file === "-" ? undefined : input.file, title: "openflow-spec cannot read" }, input.message)}\n`);
  }
  end(totals: Totals): void {
    this.out(`${summaryLine(totals)}\n`);
  }
}
