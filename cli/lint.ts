/**
 * `openflow-spec lint [schemas-dir]`: the spec's rules, runnable by a maintainer: the checks of `generate`'s validate
 * phase (meta-schema, strict compile, `$ref`s, names) and the lint rules of generator/lint.ts, all in one run: a
 * problem in one file does not hide the problems of the others. Every problem names the file and a JSON pointer,
 * with a did-you-mean for a misspelt keyword, value or property. Exit 0 clean, 1 problems, 2 bad arguments.
 */
import { stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { runCommand, type CliIo, type CommandSpec } from "./command.js";
import { UsageError } from "./usage.js";
import { formatIssue, GeneratorError, type SchemaIssue } from "../generator/errors.js";
import { LINT_RULES, type LintIssue } from "../generator/lint.js";

export const command: CommandSpec = {
  name: "lint",
  usage: "[options] [schemas-dir]",
  description: "Checks a schemas directory (default: schemas) the way `generate` does before it writes anything.",
  options: {
    format: { type: "string", valueName: "FORMAT", choices: ["text", "json"], default: "text", description: "report format" },
  },
  positionals: { max: 1 },
  epilog: `rules (besides the meta-schema, strict compile, $ref and naming checks of generate):
${Object.entries(LINT_RULES)
  .map(([id, text]) => `  ${id.padEnd(22)}  ${text}`)
  .join("\n")}

exit codes: 0 no problems, 1 problems found, 2 bad arguments.`,
  run: async ({ values, positionals }, io) => lint(positionals[0], values["format"] === "json", io),
};

async function lint(given: string | undefined, json: boolean, io: CliIo): Promise<number> {
  const dir = given ?? "schemas";
  const schemasDir = resolve(dir);
  const info = await stat(schemasDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    const hint = given === undefined ? " here (run it where schemas/ is, or name the folder: openflow-spec lint path/to/schemas)" : "";
    throw new UsageError(`${dir}: ${info ? "not a directory" : "no such directory"}${hint}`);
  }
  // Loaded only now: --help and usage errors do not pay for ajv.
  const { loadSchemas } = await import("../generator/load.js");
  const { checkSchemas } = await import("../generator/validate.js");
  const { lintSchemas } = await import("../generator/lint.js");
  let issues: Array<SchemaIssue | LintIssue>;
  let files = 0;
  try {
    const loaded = await loadSchemas(schemasDir);
    files = loaded.files.length;
    if (files === 0) throw new UsageError(`${dir}: no *.json schema files in this directory`);
    // Every problem of the run at once: the schema checks, then the spec's rules on every file they could read.
    const checked = checkSchemas(loaded);
    // Grouped by file (a stable sort keeps each file's problems in check order).
    issues = [...checked.issues, ...lintSchemas(checked.validated)].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  } catch (err) {
    if (!(err instanceof GeneratorError)) throw err;
    issues = [...err.issues];
  }
  // Paths as the maintainer typed them: relative to the working directory, through the given directory.
  const shown = (file: string): string => relative(process.cwd(), join(schemasDir, file)) || file;
  if (json) {
    io.stdout(`${JSON.stringify({ files, problems: issues.map((i) => ({ rule: "rule" in i ? i.rule : "schema", ...i, file: shown(i.file) })) }, null, 2)}\n`);
  } else {
    for (const issue of issues) io.stdout(`${formatIssue({ ...issue, file: shown(issue.file) })}${"rule" in issue ? ` [${issue.rule}]` : ""}\n`);
    io.stdout(`openflow-spec lint: ${files} files, ${issues.length} problem${issues.length === 1 ? "" : "s"}\n`);
  }
  return issues.length === 0 ? 0 : 1;
}

/** In-process entry (tests). */
export function main(argv: string[], io: CliIo): Promise<number> {
  return runCommand(command, argv, io);
}
