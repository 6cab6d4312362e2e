/** One problem found in the schemas: which file, where inside it (JSON pointer), and what is wrong. */
export interface SchemaIssue {
  /** Path of the schema file relative to the schemas directory, e.g. `commands/query.json`. */
  file: string;
  /** JSON pointer inside that file ("" for the whole document). */
  pointer: string;
  /** What is wrong, as a sentence fragment. */
  message: string;
  /** 1-based line and column, when known (JSON syntax errors). */
  line?: number;
  column?: number;
}

/** Formats one issue as `file#/pointer: message` (or `file:line:col: message` for syntax errors). */
export function formatIssue(issue: SchemaIssue): string {
  const where =
    issue.line !== undefined
      ? `${issue.file}:${issue.line}:${issue.column ?? 1}`
      : `${issue.file}#${issue.pointer}`;
  return `${where}: ${issue.message}`;
}

/**
 * The only error the generator phases throw for bad input. It always names at least one file and pointer;
 * `issues` holds every problem found in the failing phase, not just the first.
 */
export class GeneratorError extends Error {
  override name = "GeneratorError";
  readonly phase: string;
  readonly issues: readonly SchemaIssue[];

  constructor(phase: string, issues: readonly SchemaIssue[]) {
    const list = issues.map((i) => `  ${formatIssue(i)}`).join("\n");
    super(`${phase}: ${issues.length} problem${issues.length === 1 ? "" : "s"} in the schemas\n${list}`);
    this.phase = phase;
    this.issues = issues;
  }
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function escapePointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Joins segments into a JSON pointer. */
export function pointerOf(segments: readonly (string | number)[]): string {
  return segments.map((s) => "/" + escapePointerSegment(s)).join("");
}
