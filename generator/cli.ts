/**
 * `openflow-spec generate [--check] [--schemas DIR] [--out DIR]`: regenerate `generated/` from `schemas/`, or with
 * `--check` verify that it is up to date (exit 1 listing every changed, missing or extra file).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../cli/usage.js";
import { GeneratorError } from "./errors.js";

const HELP = `usage: openflow-spec generate [options]

Generates typed client, types, ajv standalone validators and Markdown docs from the JSON Schemas.

options:
  --check         write nothing; exit 1 if any generated file is changed, missing or extra
  --schemas DIR   schema directory (default: schemas, else the schemas this package ships)
  --out DIR       output directory (default: generated)
  --templates DIR handlebars templates for the docs (default: templates, else the ones this package ships)
  --runtime MODULE where the generated client imports the runtime types from (default: ../runtime/symbols.js
                  when a runtime/ folder sits beside the output folder, as in this repository; else openflow-spec,
                  the client package an app installs)
  --help          show this help

exit codes: 0 ok, 1 stale output (--check) or schema errors, 2 bad arguments (a missing or empty --schemas,
a missing --templates, an --out that is a file, holds files not written by the generator, or overlaps the inputs).
`;

export interface GenerateOptions {
  check: boolean;
  schemas: string;
  out: string;
  templates: string;
  help: boolean;
  /** Undefined: chosen by `defaultRuntime`. */
  runtime: string | undefined;
}

export function parseArgs(argv: readonly string[]): GenerateOptions {
  const opts: GenerateOptions = { check: false, schemas: "schemas", out: "generated", templates: "templates", help: false, runtime: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs ${flag === "--runtime" ? "a module specifier" : "a directory"}`);
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
      case "--runtime":
        opts.runtime = value();
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

/** Is `inner` the same path as `outer` or inside it? */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Bad directory arguments are usage errors (exit 2) named by their option, checked before anything is loaded:
 * --schemas and --templates must be directories, --schemas must hold *.json files, and --out (which is replaced
 * as a whole) must not be a file, nor the schemas or templates directory or a folder holding them.
 */
async function checkDirectories(opts: GenerateOptions, schemasDir: string, templatesDir: string, outDir: string): Promise<void> {
  const isDir = async (option: string, given: string, path: string): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`${option} ${given}: ${code === "ENOENT" ? "no such directory" : (err as Error).message}`);
    }
    if (!info.isDirectory()) throw new UsageError(`${option} ${given}: not a directory`);
  };
  await isDir("--schemas", opts.schemas, schemasDir);
  await isDir("--templates", opts.templates, templatesDir);
  const entries = await readdir(schemasDir, { recursive: true });
  if (!entries.some((e) => e.endsWith(".json"))) throw new UsageError(`--schemas ${opts.schemas}: no *.json schema files in this directory`);
  const outInfo = await stat(outDir).catch(() => undefined);
  if (outInfo && !outInfo.isDirectory()) throw new UsageError(`--out ${opts.out}: exists and is not a directory (the output directory is replaced as a whole)`);
  for (const [option, dir] of [["--schemas", schemasDir], ["--templates", templatesDir]] as const) {
    if (within(dir, outDir) || within(outDir, dir)) {
      throw new UsageError(`--out ${opts.out}: overlaps ${option} ${dir} (the output directory is replaced as a whole)`);
    }
  }
}

/** First line of the `.gitattributes` every generated output holds; marks a directory as safe to replace. */
const OUTPUT_MARKER = "# Code generated by openflow-spec.";

/** Before writing: an existing, non-empty --out directory must be earlier generator output (it is replaced whole). */
async function checkReplaceable(opts: GenerateOptions, outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch(() => [] as string[]);
  if (entries.length === 0) return;
  const marker = await readFile(join(outDir, ".gitattributes"), "utf8").catch(() => "");
  if (!marker.startsWith(OUTPUT_MARKER)) {
    throw new UsageError(
      `--out ${opts.out}: holds files that openflow-spec generate did not write (no .gitattributes marker); the output directory is replaced as a whole, so give a new or empty directory`,
    );
  }
}

/**
 * A default directory (`schemas`, `templates`) that is missing from the working directory falls back to the one this
 * package ships (found next to its package.json), so `openflow-spec generate` works from an installed package.
 */
async function orPackaged(given: string, name: "schemas" | "templates"): Promise<string> {
  const local = resolve(given);
  if (given !== name || (await stat(local).catch(() => undefined)) !== undefined) return local;
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    const found = await stat(new URL("package.json", dir)).then(() => true, () => false);
    if (found) {
      const packaged = new URL(`${name}/`, dir);
      return (await stat(packaged).catch(() => undefined)) ? fileURLToPath(packaged) : local;
    }
    if (dir.pathname === "/") return local;
  }
}

/** This repository's runtime when the output sits next to it (`generated/` beside `runtime/`), else the client package. */
async function defaultRuntime(outDir: string): Promise<string> {
  const beside = await stat(join(outDir, "..", "runtime")).catch(() => undefined);
  return beside?.isDirectory() ? "../runtime/symbols.js" : "openflow-spec";
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
  const schemasDir = await orPackaged(opts.schemas, "schemas");
  const outDir = resolve(opts.out);
  const templatesDir = await orPackaged(opts.templates, "templates");
  await checkDirectories(opts, schemasDir, templatesDir, outDir);
  // Loaded only now: --help and usage errors do not pay for ajv, ts-morph and json-schema-to-typescript.
  const { generateFiles } = await import("./generate.js");
  const { checkOutput, isClean, writeOutput } = await import("./write.js");
  let files: Map<string, string>;
  try {
    files = await generateFiles({ schemasDir, templatesDir, runtimeModule: opts.runtime ?? (await defaultRuntime(outDir)) });
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
  await checkReplaceable(opts, outDir);
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
