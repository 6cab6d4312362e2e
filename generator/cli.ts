/**
 * `openflow-spec generate [--check] [--schemas DIR] [--out DIR]`: regenerate `generated/` from `schemas/`, or with
 * `--check` verify that it is up to date (exit 1 listing every changed, missing or extra file).
 */
import { resolve } from "node:path";
import { UsageError } from "../cli/usage.js";
import { GeneratorError } from "./errors.js";

const HELP = `usage: openflow-spec generate [options]

Generates typed client, types, ajv standalone validators and Markdown docs from the JSON Schemas.

options:
  --check         write nothing; exit 1 if any generated file is changed, missing or extra
  --schemas DIR   schema directory (default: schemas)
  --out DIR       output directory (default: generated)
  --templates DIR handlebars templates for the docs (default: templates)
  --help          show this help
`;

export interface GenerateOptions {
  check: boolean;
  schemas: string;
  out: string;
  templates: string;
  help: boolean;
}

export function parseArgs(argv: readonly string[]): GenerateOptions {
  const opts: GenerateOptions = { check: false, schemas: "schemas", out: "generated", templates: "templates", help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a directory`);
      return v;
    };
    switch (flag) {
      case "--check":
        opts.check = true;
        break;
      case "--schemas":
        opts.schemas = value();
        break;
      case "--out":
        opts.out = value();
        break;
      case "--templates":
        opts.templates = value();
        break;
      case "--help":
      case "-h":
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown option '${arg}' (see --help)`);
    }
  }
  return opts;
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Entry point used by `cli/main.ts`. Returns the exit code: 0 ok, 1 stale output or schema errors, 2 usage. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const opts = parseArgs(argv);
  if (opts.help) {
    io.stdout(HELP);
    return 0;
  }
  // Loaded only now: --help and usage errors do not pay for ajv, ts-morph and json-schema-to-typescript.
  const { generateFiles } = await import("./generate.js");
  const { checkOutput, isClean, writeOutput } = await import("./write.js");
  const schemasDir = resolve(opts.schemas);
  const outDir = resolve(opts.out);
  let files: Map<string, string>;
  try {
    files = await generateFiles({ schemasDir, templatesDir: resolve(opts.templates) });
  } catch (err) {
    if (err instanceof GeneratorError) {
      io.stderr(`openflow-spec generate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (opts.check) {
    const result = await checkOutput(files, outDir);
    if (isClean(result)) {
      io.stdout(`generate --check: ${files.size} files up to date in ${opts.out}\n`);
      return 0;
    }
    const lines = [
      ...result.changed.map((p) => `  changed: ${opts.out}/${p}`),
      ...result.missing.map((p) => `  missing: ${opts.out}/${p}`),
      ...result.extra.map((p) => `  extra:   ${opts.out}/${p}`),
    ];
    io.stderr(`generate --check: ${lines.length} generated file(s) out of date; run \`npm run generate\`\n${lines.join("\n")}\n`);
    return 1;
  }
  await writeOutput(files, outDir);
  io.stdout(`generated ${files.size} files in ${opts.out}\n`);
  return 0;
}

// Allow `tsx generator/cli.ts ...` as well as the `openflow-spec generate` dispatcher.
if (process.argv[1] !== undefined && /generator[\\/]cli\.[cm]?[jt]s$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`openflow-spec generate: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`openflow-spec generate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
