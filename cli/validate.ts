/**
 * `openflow-spec validate [paths...|-]`: check frames, payloads and captured traffic. Exit 0 when everything is
 * valid, 1 when anything is invalid, 2 for bad usage or unreadable input.
 */
import { displayText } from "../validator/report/escape.js";
import { UsageError } from "./usage.js";
import { integerOption, processIo, runCommand, suggest, type CliIo, type CommandSpec, type OptionValues } from "./command.js";
import { resolveInputs } from "../validator/inputs.js";
import { validateInput, type InputSummary } from "../validator/run.js";
import { defaultCatalog } from "../validator/catalog.js";
import { knownCommands } from "../runtime/validate.js";
import { findingCodes, type Finding } from "../validator/findings.js";
import type { Reporter, Totals, Write } from "../validator/report/reporter.js";
import { TextReporter } from "../validator/report/text.js";
import { JsonReporter } from "../validator/report/json.js";
import { JunitReporter } from "../validator/report/junit.js";
import { GithubReporter } from "../validator/report/github.js";

const FORMATS = ["text", "json", "junit", "github"] as const;
type Format = (typeof FORMATS)[number];

export const command: CommandSpec = {
  name: "validate",
  usage: "[options] [paths...|-]",
  description: `Check OpenFlow frames, payloads and captured traffic against the specification.

inputs:
  file.ndjson, file.jsonl   a capture: one frame per line, or {"dir":"c2s"|"s2c","frame":{...}}
  file.json                 one frame (or {"dir","frame"}); several JSON lines are read as a capture
  folder                    every .json/.ndjson/.jsonl inside, recursively, in sorted order
  -                         standard input (one document, or a capture when it has several JSON lines)

In a capture, frames are reassembled by id and direction, payloads are validated against the command's
request or reply schema, and replies are paired with requests through replyto (a c2s request is answered
by an s2c frame). Lines without dir form one undirected stream paired by replyto alone.`,
  options: {
    command: { type: "string", valueName: "NAME", description: "the inputs are payloads of this command (a .json file is one payload, a capture one per line) instead of frames" },
    kind: { type: "string", valueName: "KIND", choices: ["request", "reply"], description: "which payload schema --command uses (default: request)" },
    format: { type: "string", valueName: "FORMAT", choices: FORMATS, default: "text", description: "report format; github writes GitHub Actions annotations (::error file=...,line=...::...)" },
    output: { type: "string", short: "o", valueName: "FILE", description: "write the report to FILE instead of standard output" },
    strict: { type: "boolean", description: "warnings fail too (exit 1)" },
    "max-findings": { type: "string", valueName: "N", description: "show at most N findings per input (default 1000; 0 = all); all are counted" },
    "max-pending": { type: "string", valueName: "N", description: "most messages half-received at once before the oldest is evicted (default 1000)" },
    "no-pairing": {
      type: "boolean",
      description:
        "skip request/reply pairing (unanswered-request, unacknowledged-push, unknown-reply, reply-command-mismatch), for captures that start or end mid-session; replies are then checked against the reply schema of their own command",
    },
    quiet: { type: "boolean", short: "q", description: "text format: print the summary line only" },
  },
  epilog: `exit codes: 0 valid, 1 invalid (any error finding; with --strict any finding), 2 bad usage or unreadable input.
finding codes: ${Object.keys(findingCodes).join(", ")}`,
  run: async ({ values, positionals }, io) => validate(toParsed(values, positionals), io),
};

interface Parsed {
  paths: string[];
  command: string | undefined;
  kind: "request" | "reply";
  format: Format;
  output: string | undefined;
  strict: boolean;
  maxFindings: number;
  maxPending: number | undefined;
  quiet: boolean;
  pairing: boolean;
}

function toParsed(values: OptionValues, positionals: string[]): Parsed {
  const command = values["command"] as string | undefined;
  if (values["kind"] !== undefined && command === undefined) throw new UsageError("--kind needs --command");
  if (command !== undefined && command.trim() === "") throw new UsageError("--command needs a command name");
  if (positionals.length === 0) throw new UsageError("no input: give files, folders, or - for standard input (see --help)");
  if (positionals.filter((p) => p === "-").length > 1) throw new UsageError("standard input (-) can be given only once");
  return {
    paths: positionals,
    command,
    kind: (values["kind"] as "request" | "reply" | undefined) ?? "request",
    format: values["format"] as Format,
    output: values["output"] as string | undefined,
    strict: values["strict"] === true,
    maxFindings: integerOption(values, "max-findings", 0) ?? 1000,
    maxPending: integerOption(values, "max-pending", 1),
    quiet: values["quiet"] === true,
    pairing: values["no-pairing"] !== true,
  };
}

/** In-process entry (tests): the process's streams unless `io` replaces them. */
export function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const base = processIo();
  return runCommand(command, argv, { ...base, ...io, stdoutStream: io.stdout ? io.stdoutStream : base.stdoutStream });
}

/** Shows `validate: file 12.3/100.0 MB 1,234 frames` on a terminal, at most twice a second, for inputs over 16 MB. */
function progressDisplay(write: Write, enabled: boolean): { start(name: string, size: number | undefined): void; update(chars: number): void; clear(): void } {
  let name = "";
  let size: number | undefined;
  let last = 0;
  let shown = false;
  return {
    start(n, s) {
      // A file name is chosen by whoever wrote the repository: no terminal control reaches the TTY.
      name = displayText(n);
      size = s;
    },
    update(chars) {
      if (!enabled || chars < 16 * 1024 * 1024) return;
      const now = Date.now();
      if (now - last < 500) return;
      last = now;
      shown = true;
      const mb = (chars / 1048576).toFixed(1);
      const of = size === undefined ? "" : ` of ${(size / 1048576).toFixed(1)}`;
      write(`\rvalidate: ${name} ${mb}${of} MB read`);
    },
    clear() {
      if (shown) write("\r\u001b[K");
      shown = false;
    },
  };
}

/** Resolves when the stream drains, closes or fails (so a closed pipe cannot hang the run). */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.removeListener("drain", done);
      stream.removeListener("close", done);
      stream.removeListener("error", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}

async function validate(parsed: Parsed, io: CliIo): Promise<number> {
  const { stdout, stderr } = io;
  const catalog = defaultCatalog();
  if (parsed.command !== undefined && !catalog.get(parsed.command)) {
    const near = suggest(parsed.command.toLowerCase(), knownCommands());
    throw new UsageError(`--command ${JSON.stringify(parsed.command)} is not a known command${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`);
  }

  let out = stdout;
  let closeOutput: (() => Promise<void>) | undefined;
  // Backpressure: between read chunks, wait while the report stream's buffer is full, so a flood of findings
  // piped to a slow consumer does not pile up in memory.
  let sinkStream: (NodeJS.WritableStream & { writableNeedDrain?: boolean; destroyed?: boolean }) | undefined = io.stdoutStream;
  if (parsed.output !== undefined) {
    const { createWriteStream } = await import("node:fs");
    const stream = createWriteStream(parsed.output);
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", (err) => reject(new UsageError(`cannot write --output ${parsed.output}: ${err.message}`)));
    });
    out = (t) => void stream.write(t);
    sinkStream = stream;
    closeOutput = () => new Promise<void>((resolve) => stream.end(() => resolve()));
  }

  const reporter: Reporter =
    parsed.format === "json"
      ? new JsonReporter(out, parsed.strict)
      : parsed.format === "junit"
        ? new JunitReporter(out, parsed.strict)
        : parsed.format === "github"
          ? new GithubReporter(out, parsed.strict)
          : new TextReporter(out, parsed.quiet);
  const stdin = io.stdin ?? (() => process.stdin);
  const { inputs, unreadable } = await resolveInputs(parsed.paths, stdin);
  const totals: Totals = { inputs: 0, frames: 0, messages: 0, errors: 0, warnings: 0, suppressed: 0, unreadable: 0, ok: true };
  for (const u of unreadable) {
    totals.unreadable++;
    reporter.unreadable({ file: u.name, message: u.message });
  }
  const progress = progressDisplay(stderr, io.stderrIsTTY ?? process.stderr.isTTY === true);

  for (const input of inputs) {
    reporter.startInput(input.name);
    progress.start(input.name, input.size);
    let shown = 0;
    let suppressed = 0;
    const onFinding = (f: Finding): void => {
      if (parsed.maxFindings === 0 || shown < parsed.maxFindings) {
        shown++;
        reporter.finding(f);
      } else {
        suppressed++;
      }
    };
    let summary: InputSummary;
    try {
      summary = await validateInput(input.open(), {
        file: input.name,
        mode: input.mode,
        payload: parsed.command === undefined ? undefined : { command: parsed.command, kind: parsed.kind },
        onFinding,
        onProgress: (chars) => progress.update(chars),
        pause: () => (sinkStream?.writableNeedDrain && !sinkStream.destroyed ? drained(sinkStream) : undefined),
        limits: parsed.maxPending === undefined ? undefined : { maxPendingMessages: parsed.maxPending },
        correlate: parsed.pairing,
      });
    } catch (err) {
      progress.clear();
      totals.unreadable++;
      reporter.unreadable({ file: input.name, message: (err as Error).message });
      continue;
    }
    progress.clear();
    totals.inputs++;
    totals.frames += summary.frames;
    totals.messages += summary.messages;
    totals.errors += summary.errors;
    totals.warnings += summary.warnings;
    totals.suppressed += suppressed;
    reporter.endInput(summary, suppressed);
  }
  const invalid = totals.errors > 0 || (parsed.strict && totals.warnings > 0);
  totals.ok = !invalid && totals.unreadable === 0;
  reporter.end(totals);
  if (closeOutput) await closeOutput();
  if (totals.unreadable > 0) {
    if (parsed.format !== "text" || parsed.output !== undefined) stderr(`openflow-spec validate: ${totals.unreadable} input(s) could not be read\n`);
    return 2;
  }
  return invalid ? 1 : 0;
}
