/**
 * `openflow-spec asyncapi [--schemas DIR] [--out FILE]`: the spec as an AsyncAPI 3.0 document, the same bytes
 * `generate` writes as generated/asyncapi.json. Without --schemas it exports the schemas shipped in this package.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand, type CliIo, type CommandSpec } from "./command.js";
import { packageRoot } from "./package.js";
import { UsageError } from "./usage.js";
import { GeneratorError } from "../generator/errors.js";

export const command: CommandSpec = {
  name: "asyncapi",
  usage: "[options]",
  description:
    "Exports the command catalogue as AsyncAPI 3.0 (one operation per command and direction, with replies, the frame as\nmessage headers, the payload schemas converted to AsyncAPI's Schema Object), for AsyncAPI tools such as Modelina.",
  options: {
    schemas: { type: "string", valueName: "DIR", description: "schema directory (default: the schemas shipped with openflow-spec)" },
    out: { type: "string", short: "o", valueName: "FILE", description: "write the document to FILE instead of standard output" },
  },
  positionals: { max: 0 },
  epilog: "exit codes: 0 written, 1 schema errors, 2 bad arguments.",
  run: async ({ values }, io) => {
    const schemas = (values["schemas"] as string | undefined) ?? join(packageRoot(), "schemas");
    const { asyncApiDocument } = await import("../generator/generate.js");
    let text: string;
    try {
      text = await asyncApiDocument(schemas);
    } catch (err) {
      if (!(err instanceof GeneratorError)) throw err;
      if (err.phase === "load") throw new UsageError(`--schemas ${schemas}: ${err.issues[0]?.message ?? err.message}`);
      io.stderr(`openflow-spec asyncapi: ${err.message}\n`);
      return 1;
    }
    const out = values["out"] as string | undefined;
    if (out === undefined) {
      io.stdout(text);
      return 0;
    }
    await writeFile(out, text).catch((err: Error) => {
      throw new UsageError(`cannot write --out ${out}: ${err.message}`);
    });
    io.stderr(`openflow-spec asyncapi: wrote ${out}\n`);
    return 0;
  },
};

/** In-process entry (tests). */
export function main(argv: string[], io: CliIo): Promise<number> {
  return runCommand(command, argv, io);
}
