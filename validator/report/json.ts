/**
 * JSON report, streamed: `{"version":1,"findings":[...],"inputs":[...],"unreadable":[...],"summary":{...}}`.
 * Findings are written as they arrive, so memory stays flat however many there are.
 */
import type { Finding } from "../findings.js";
import type { InputSummary } from "../run.js";
import type { Reporter, Totals, UnreadableInput, Write } from "./reporter.js";
import { safeJson } from "./escape.js";

export class JsonReporter implements Reporter {
  private first = true;
  private readonly inputs: (InputSummary & { ok: boolean; suppressed: number })[] = [];
  private readonly unreadables: UnreadableInput[] = [];

  constructor(private readonly out: Write, private readonly strict = false) {
    this.out('{"version":1,"findings":[');
  }
  startInput(): void {}
  finding(f: Finding): void {
    this.out(`${this.first ? "\n" : ",\n"}${safeJson(f)}`);
    this.first = false;
  }
  endInput(summary: InputSummary, suppressed: number): void {
    this.inputs.push({ ...summary, suppressed, ok: summary.errors === 0 && (!this.strict || summary.warnings === 0) });
  }
  unreadable(input: UnreadableInput): void {
    this.unreadables.push(input);
  }
  end(totals: Totals): void {
    this.out(`${this.first ? "" : "\n"}],\n"inputs":${safeJson(this.inputs)},\n"unreadable":${safeJson(this.unreadables)},\n"summary":${safeJson(totals)}}\n`);
  }
}
