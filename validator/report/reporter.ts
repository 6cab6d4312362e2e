/**
 * The report interface the CLI drives. Reporters write as findings arrive (text, JSON) or per input (JUnit), so
 * a capture with many findings never needs them all in memory at once (JUnit keeps at most the shown ones).
 */
import type { Finding } from "../findings.js";
import type { InputSummary } from "../run.js";

export interface Totals {
  inputs: number;
  frames: number;
  messages: number;
  errors: number;
  warnings: number;
  /** Findings counted but not printed because of --max-findings. */
  suppressed: number;
  /** Inputs that could not be read (exit 2). */
  unreadable: number;
  ok: boolean;
}

/** An input that could not be read at all. */
export interface UnreadableInput {
  file: string;
  message: string;
}

export interface Reporter {
  startInput(file: string): void;
  /** A finding to show (already within the --max-findings budget). */
  finding(f: Finding): void;
  endInput(summary: InputSummary, suppressed: number): void;
  unreadable(input: UnreadableInput): void;
  /** Last call: write the summary (and, for JUnit, the whole document). */
  end(totals: Totals): void;
}

export type Write = (text: string) => void;
