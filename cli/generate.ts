/**
 * `openflow-spec generate [--check] [--schemas DIR] [--out DIR] [--templates DIR]`: regenerate `generated/` from
 * `schemas/`, or with `--check` verify that it is up to date (exit 1 listing every changed, missing or extra file).
 * The generator itself (generator/) knows nothing of the command line; this module checks the directory arguments.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { UsageError } from "./usage.js";
import { packageRoot } from "./package.js";
import { GeneratorError } from "../generator/errors.js";
import { runCommand, type CliIo, type CommandSpec, textOption, type OptionValues } from "./command.js";

export interface GenerateOptions {
  check: boolean;
  schemas: string;
  out: string;
  templates: string;
  /** Undefined: chosen by `defaultRuntime`. */
  runtime: string | undefined;
}

export const command: CommandSpec = {
  name: "generate",
  usage: "[options]",
  description: "Generates the typed client, types, ajv standalone validators and the reference docs from the JSON Schemas.\nThe schemas are linted first (the rules of `openflow-spec lint`); any violation stops the run.",
  options: {
    check: { type: "boolean", description: "write nothing; exit 1 if any generated file is changed, missing or extra" },
    schemas: { type: "string", valueName: "DIR", default: "schemas", description: "schema directory (when the working directory has no schemas/: the schemas this package ships)" },
    out: { type: "string", valueName: "DIR", default: "generated", description: "output directory (replaced as a whole)" },
    templates: { type: "string", valueName: "DIR", default: "templates", description: "handlebars templates for the docs (when the working directory has no templates/: the package's own)" },
    runtime: {
      type: "string",
      valueName: "MODULE",
      description: "where the generated client imports the runtime types from (default: ../runtime/symbols.js when a runtime/ folder sits beside the output, as in this repository; else openflow-spec, the client package an app installs)",
    },
  },
  positionals: { max: 0 },
  epilog:
    "exit codes: 0 ok, 1 stale output (--check) or schema errors, 2 bad arguments (a missing or empty --schemas,\na missing --templates, an --out that is a file, holds files not written by the generator, or overlaps the inputs).",
  run: async ({ values }, io) => {
    const opts: GenerateOptions = {
      check: values["check"] === true,
      schemas: directory(values, "schemas"),
      out: directory(values, "out"),
      templates: directory(values, "templates"),
      runtime: textOption(values, "runtime", "a module specifier"),
    };
    return generate(opts, io);
  },
};

/** A directory option (each has a default, so it is present unless given empty). */
function directory(values: OptionValues, name: string): string {
  return textOption(values, name, "a directory") ?? "";
}

/** In-process entry (tests): parses argv like the CLI and returns the exit code. */
export function main(argv: string[], io: CliIo = processIo): Promise<number> {
  return runCommand(command, argv, io);
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
 * package ships next to its package.json, so `openflow-spec generate` works from an installed package.
 */
async function orPackaged(given: string, name: "schemas" | "templates"): Promise<string> {
  const local = resolve(given);
  if (given !== name || (await stat(local).catch(() => undefined)) !== undefined) return local;
  const packaged = join(packageRoot(), name);
  return (await stat(packaged).catch(() => undefined))?.isDirectory() ? packaged : local;
}

/** This repository's runtime when the output sits next to it (`generated/` beside `runtime/`), else the client package. */
async function defaultRuntime(outDir: string): Promise<string> {
  const beside = await stat(join(outDir, "..", "runtime")).catch(() => undefined);
  return beside?.isDirectory() ? "../runtime/symbols.js" : "openflow-spec";
}

const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/**
 * In this repository (guides in docs/, a README and the browser runtime beside the output folder), the docs site
 * joins the output. The tools package ships neither the guides nor the site's module, so elsewhere nothing changes.
 */
async function withSite(files: Map<string, string>, outDir: string): Promise<Map<string, string>> {
  const root = join(outDir, "..");
  const present = await Promise.all(["docs", "README.md", "runtime"].map((p) => stat(join(root, p)).then(() => true, () => false)));
  if (present.includes(false)) return files;
  let site: typeof import("../generator/site/index.js");
  try {
    site = await import("../generator/site/index.js");
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_MODULE_NOT_FOUND") return files;
    throw err;
  }
  return site.withSiteFiles(files, root);
}

/** Runs the generator. Returns the exit code: 0 ok, 1 stale output or schema errors; bad directories throw UsageError. */
async function generate(opts: GenerateOptions, io: CliIo): Promise<number> {
  const schemasDir = await orPackaged(opts.schemas, "schemas");
  const outDir = resolve(opts.out);
  const templatesDir = await orPackaged(opts.templates, "templates");
  await checkDirectories(opts, schemasDir, templatesDir, outDir);
  // Loaded only now: --help and usage errors do not pay for ajv, ts-morph and json-schema-to-typescript.
  const { generateFiles } = await import("../generator/generate.js");
  const { checkOutput, isClean, writeOutput } = await import("../generator/write.js");
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
  files = await withSite(files, outDir);
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
