/**
 * `openflow-spec migrate-report <capture>... [--format text|json|markdown]`: the legacy commands a captured app
 * really uses, each marked direct / renamed / reshaped / none with its OpenIAP protobuf counterpart and the
 * field-level changes of those commands (the ones that touch fields the traffic has are marked). Inputs as
 * `validate` takes them. Exit 0 when the report was written, 2 for bad usage or an unreadable input.
 */
import { packageSchemasDir } from "../validator/secrets.js";
import { resolveInputs } from "../validator/inputs.js";
import { forEachLine } from "../validator/lines.js";
import { MAX_DOCUMENT_CHARS } from "../validator/run.js";
import { formatReport, type MigrationFormat } from "../validator/migrate/format.js";
import { loadMigrationMap, UsageCollector } from "../validator/migrate/report.js";
import { textOption, type CommandSpec } from "./command.js";

const FORMATS = ["text", "json", "markdown"] as const;

export const command: CommandSpec = {
  name: "migrate-report",
  usage: "[options] <capture>... | -",
  description: `What moving an app from the legacy protocol to the OpenIAP protobuf protocol costs, from what it really sends.

Reads captures (from \`openflow-spec proxy --out\` or \`serve --record\`; inputs as \`validate\` takes them), counts the
commands the app starts and the server pushes it receives, and lists for those commands only what each becomes in
protobuf (x-openflow.protobuf of the spec): direct, renamed, reshaped (fields renamed, moved, dropped, retyped or
carried as JSON text) or none, with every field change; a change that touches a field the traffic has is marked.
JSON output keys: commands[] (command, status, protobuf, instead, messages, changes[] with used), summary.`,
  options: {
    format: { type: "string", valueName: "FORMAT", choices: FORMATS, default: "text", description: "report format" },
    schemas: { type: "string", valueName: "DIR", description: "read the map from this schemas directory (default: the spec shipped with the tools)" },
  },
  positionals: { min: 1 },
  epilog: "exit codes: 0 report written, 2 bad usage or unreadable input.",
  run: async ({ values, positionals }, io) => {
    const schemas = textOption(values, "schemas", "a schemas directory") ?? packageSchemasDir();
    let map;
    try {
      map = loadMigrationMap(schemas);
    } catch (err) {
      io.stderr(`openflow-spec migrate-report: cannot read the spec in ${schemas}: ${(err as Error).message}\n`);
      return 2;
    }
    const { inputs, unreadable } = await resolveInputs(positionals, io.stdin ?? (() => process.stdin));
    for (const u of unreadable) io.stderr(`openflow-spec migrate-report: ${u.name}: ${u.message}\n`);
    if (unreadable.length > 0) return 2;
    const collector = new UsageCollector();
    for (const input of inputs) {
      collector.inputs.push(input.name);
      try {
        if (input.mode === "capture") {
          await forEachLine(input.open(), { line: (text: string) => void (text.trim() === "" || collector.pushLine(text, input.name)) });
        } else {
          // A document (one frame, perhaps pretty-printed) or, when it is not one JSON value, a capture.
          const lines: string[] = [];
          let chars = 0;
          await forEachLine(input.open(), {
            line: (text: string) => {
              chars += text.length;
              if (chars > MAX_DOCUMENT_CHARS) throw new Error(`larger than ${MAX_DOCUMENT_CHARS} characters: give a capture (.ndjson) instead`);
              lines.push(text);
            },
          });
          const whole = wholeDocument(lines.join("\n"));
          if (whole !== undefined) collector.pushLine(whole, input.name);
          else for (const text of lines) if (text.trim() !== "") collector.pushLine(text, input.name);
        }
      } catch (err) {
        io.stderr(`openflow-spec migrate-report: ${input.name}: ${(err as Error).message}\n`);
        return 2;
      }
    }
    io.stdout(formatReport(collector.finish(map), values["format"] as MigrationFormat));
    return 0;
  },
};

/** The text as one compact JSON line when it is one JSON value, else undefined. */
function wholeDocument(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}
