/**
 * The one shape every `openflow-spec` subcommand has: a declarative option table (node:util parseArgs options
 * plus a description each) and a `run` function. `runCommand` parses, prints `--help` from the table, refuses
 * unknown options with a did-you-mean suggestion, checks `choices`, and turns a UsageError into exit 2.
 * Parsing is Node's own `util.parseArgs`; help text is derived from the table, never written by hand.
 */
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { UsageError } from "./usage.js";
// Did-you-mean, shared with lint and the validator's findings (both below the CLI).
import { suggest } from "../generator/suggest.js";

export { suggest };

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  /** One line for the help text. */
  description: string;
  /** Placeholder shown in help: `--out DIR`. Default: `VALUE`. */
  valueName?: string;
  /** Allowed values of a string option; anything else is a usage error naming them. */
  choices?: readonly string[];
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

export type Write = (text: string) => void;

export interface CliIo {
  stdout: Write;
  stderr: Write;
  /** Standard input, for commands that read `-`. */
  stdin?: () => Readable;
  /** The stream behind `stdout` when it is the process's own (commands that write a lot wait for it to drain). */
  stdoutStream?: NodeJS.WritableStream;
  /** Whether stderr is a terminal (progress displays). */
  stderrIsTTY?: boolean;
}

/**
 * The process's standard streams. A closed stdout pipe (`openflow-spec validate ... | head`) ends the output
 * quietly instead of crashing with EPIPE.
 */
export function processIo(): CliIo {
  let stdoutClosed = false;
  process.stdout.once("error", () => {
    stdoutClosed = true;
  });
  return {
    stdout: (t) => void (stdoutClosed || process.stdout.write(t)),
    stderr: (t) => void process.stderr.write(t),
    stdin: () => process.stdin,
    stdoutStream: process.stdout,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

export interface CommandSpec {
  name: string;
  /** What follows `openflow-spec <name>` in the usage line, e.g. `<base> [<head>] [options]`. */
  usage: string;
  /** Paragraphs shown between the usage line and the options. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Bounds on the number of positional arguments (default: any). */
  positionals?: { min?: number; max?: number };
  /** Text after the options (exit codes, examples). */
  epilog?: string;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export function formatHelp(spec: CommandSpec): string {
  const rows: Array<[string, string]> = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""}`;
    const extra = [o.choices ? `one of ${o.choices.join(", ")}` : "", o.default !== undefined && o.type === "string" ? `default: ${String(o.default)}` : ""].filter(Boolean);
    return [flag, extra.length > 0 ? `${o.description} (${extra.join("; ")})` : o.description];
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.min(32, Math.max(...rows.map(([flag]) => flag.length)));
  const lines = [`usage: openflow-spec ${spec.name} ${spec.usage}`.trimEnd(), ""];
  if (spec.description) lines.push(spec.description.trimEnd(), "");
  lines.push("options:");
  for (const [flag, text] of rows) lines.push(flag.length > width ? `  ${flag}\n  ${"".padEnd(width)}  ${text}` : `  ${flag.padEnd(width)}  ${text}`);
  if (spec.epilog) lines.push("", spec.epilog.trimEnd());
  return `${lines.join("\n")}\n`;
}

/**
 * `--max-findings -1` as `--max-findings=-1`: parseArgs refuses a value that starts with a dash ("argument is
 * ambiguous"), which would reach the user as a parser message; joined, the option's own check names the range.
 */
function negativeValuesJoined(spec: CommandSpec, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : undefined;
    if (name !== undefined && spec.options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Parses `argv` against the spec's table; throws UsageError for anything it cannot accept. */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs & { help: boolean } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean | string[] }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  options["help"] = { type: "boolean", short: "h" };
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: negativeValuesJoined(spec, argv), options, allowPositionals: true, strict: true }) as { values: OptionValues; positionals: string[] };
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /Unknown option '([^']+)'/.exec(e.message) : null;
    if (unknown) {
      const given = (unknown[1] as string).replace(/^-+/, "");
      const near = suggest(given, Object.keys(options));
      throw new UsageError(`unknown option '${unknown[1]}'${near ? ` (did you mean --${near}?)` : " (see --help)"}`);
    }
    const missing = e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ? /Option '(-\S+)(?:, (-\S+))? <value>' argument missing/.exec(e.message) : null;
    if (missing) throw new UsageError(`${missing[2] ?? missing[1]} needs a value (see --help)`);
    throw new UsageError(`${e.message} (see --help)`);
  }
  const help = parsed.values["help"] === true;
  delete parsed.values["help"];
  if (!help) {
    for (const [name, o] of Object.entries(spec.options)) {
      const v = parsed.values[name];
      if (!o.choices || v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) {
        if (typeof one === "string" && !o.choices.includes(one)) {
          throw new UsageError(`--${name} must be one of ${o.choices.join(", ")}, got ${JSON.stringify(one)}`);
        }
      }
    }
    const { min, max } = spec.positionals ?? {};
    if (min !== undefined && parsed.positionals.length < min) throw new UsageError(`needs ${min === 1 ? "an argument" : `${min} arguments`}: ${spec.usage} (see --help)`);
    if (max !== undefined && parsed.positionals.length > max) throw new UsageError(`takes at most ${max} argument${max === 1 ? "" : "s"}, got ${parsed.positionals.length} (see --help)`);
  }
  return { ...parsed, help };
}

/** A string option's value: undefined when absent; an empty value is a usage error saying what it needs. */
export function textOption(values: OptionValues, name: string, what: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} needs ${what}`);
  return value;
}

/** An integer option's value: undefined when absent; anything but a whole number in [min, max] is a usage error. */
export function integerOption(values: OptionValues, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Runs one subcommand: help, parsing, usage errors (exit 2, message on stderr). */
export async function runCommand(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseCommandArgs(spec, argv);
    if (parsed.help) {
      io.stdout(formatHelp(spec));
      return 0;
    }
    return await spec.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`openflow-spec ${spec.name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
