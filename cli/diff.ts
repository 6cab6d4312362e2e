/**
 * `openflow-spec diff <base> [<head>]`: whether a change of schemas/ breaks the clients or servers in the field.
 * A thin adapter over ../diff/: base and head are directories or git revisions (head defaults to the working
 * tree). Exit 0 when nothing fails, 1 when a change at or above --fail-on is not acknowledged, 2 on bad usage or
 * unreadable input.
 */
import { writeFileSync } from "node:fs";
import type { CommandSpec } from "./command.js";
import { UsageError } from "./usage.js";
import {
  AcknowledgedFileError, DiffSourceError, SchemaRefError, acknowledgeAll, acknowledgedBy, diffSpecs, githubReport, jsonReport, judge,
  junitReport, loadSource, readAcknowledged, ruleIds, textReport, writeAcknowledged,
} from "../diff/index.js";

export const command: CommandSpec = {
  name: "diff",
  usage: "[options] <base> [<head>]",
  description:
    "Compare two versions of the spec and classify every change for clients and for servers (breaking, may break, info, safe).\n" +
    "base and head are schema directories or git revisions (HEAD~1, main, a tag); head defaults to the working tree.",
  positionals: { max: 2 },
  options: {
    against: { type: "string", valueName: "REV|DIR", description: "the base to compare against (instead of the first argument)" },
    format: { type: "string", default: "text", choices: ["text", "json", "junit", "github"], valueName: "FORMAT", description: "report format" },
    "fail-on": { type: "string", default: "error", choices: ["error", "warn"], valueName: "LEVEL", description: "exit 1 at changes of this level or worse" },
    schemas: { type: "string", default: "schemas", valueName: "DIR", description: "the schemas directory of the working tree, and its path in git revisions" },
    acknowledged: { type: "string", valueName: "FILE", description: "JSON list of intended breaking changes: reported, but they do not fail" },
    accept: { type: "boolean", description: "write every change at or above --fail-on into the --acknowledged FILE and list them" },
    output: { type: "string", short: "o", valueName: "FILE", description: "write the report to FILE instead of standard output" },
  },
  epilog: `exit codes: 0 nothing fails, 1 a change at or above --fail-on that is not acknowledged, 2 bad usage or unreadable input.\nrules: ${ruleIds.join(", ")}`,
  async run({ values, positionals }, io) {
    const against = values["against"] as string | undefined;
    const [base, head] = against !== undefined ? [against, ...positionals] : positionals;
    if (base === undefined) throw new UsageError("needs a base: openflow-spec diff <base> [<head>] or --against <base> (see --help)");
    if (against !== undefined && positionals.length > 1) throw new UsageError("with --against, give at most one argument (the head)");
    const ackFile = values["acknowledged"] as string | undefined;
    if (values["accept"] === true && ackFile === undefined) throw new UsageError("--accept needs --acknowledged FILE");
    const failOn = values["fail-on"] as "error" | "warn";
    const schemasDir = values["schemas"] as string;
    try {
      const before = await loadSource(base, { schemasDir });
      const after = await loadSource(head ?? schemasDir, { schemasDir });
      const diff = diffSpecs(before, after);
      const previous = ackFile !== undefined ? readAcknowledged(ackFile) : [];
      if (values["accept"] === true) {
        const list = acknowledgeAll(diff.findings, previous, failOn);
        writeAcknowledged(ackFile!, list);
        io.stdout(`${ackFile}: ${list.length} acknowledged change${list.length === 1 ? "" : "s"} (${before.label} → ${after.label}); review them before committing:\n`);
        for (const a of list) io.stdout(`  ${a.rule} ${a.command} ${a.pointer || "(command)"}${a.note ? ` (${a.note})` : ""}\n`);
        return 0;
      }
      const outcome = judge(diff, { failOn, acknowledged: acknowledgedBy(previous) });
      const format = values["format"] as string;
      const report =
        format === "json" ? jsonReport(outcome) : format === "junit" ? junitReport(outcome) : format === "github" ? githubReport(outcome, after.root) : textReport(outcome);
      const output = values["output"] as string | undefined;
      if (output !== undefined) writeFileSync(output, report);
      else io.stdout(report);
      return outcome.ok ? 0 : 1;
    } catch (err) {
      if (err instanceof DiffSourceError || err instanceof SchemaRefError || err instanceof AcknowledgedFileError) {
        io.stderr(`openflow-spec diff: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
  },
};
