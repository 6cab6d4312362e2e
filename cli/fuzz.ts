/**
 * `openflow-spec fuzz <url> --user NAME:PASSWORD [--user NAME2:PASSWORD2] [--commands a,b] [--seed N]
 * [--requests N] [--duration S] [--format text|json|junit|github] [--out DIR] [--slow MS] [--read-only]
 * [--allow-admin] [--replay FILE]`: puts any OpenFlow server under test with requests generated from the spec,
 * stateful flows and invariants (fuzz/). Sign-in and exit codes come from the one connection layer
 * (./connection.ts): 0 no failure, 1 failures found, 2 usage, connection or sign-in problems before the run.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { integerOption, textOption, type CommandSpec, type CliIo, type OptionValues } from "./command.js";
import { checkServerUrl, connectionOptions, ConnectionFailed, EXIT_CANNOT_RUN, EXIT_FAILED, EXIT_OK, openConnection, requireSignIns, type SignIn } from "./connection.js";
import { UsageError } from "./usage.js";
import { fuzz, NAME_PREFIX, replaySteps, type FuzzFailure } from "../fuzz/fuzz.js";
import { SocketTap, type Connector } from "../fuzz/link.js";
import { readReplayMeta } from "../fuzz/replayfile.js";
import { formatReport, type ReportFormat } from "../fuzz/report.js";
import { loadSpec } from "../fuzz/spec.js";

export const command: CommandSpec = {
  name: "fuzz",
  usage: "<url> --user NAME:PASSWORD [--user NAME2:PASSWORD2] [options]",
  description: [
    "Put an OpenFlow server under test with the spec: stateful flows (data, ACL with two users, queues, watches, work",
    "items, files) at the server's package size and at a small one, invalid input, then random requests that the",
    "request schemas describe, checking invariants at every step (replies valid for the server's error style, errors for",
    "invalid input without dropping the connection, reads that change nothing, read-your-writes, the ACL, --slow).",
    `Every failure is shrunk to a minimal request sequence. It only touches names it creates (${NAME_PREFIX}<seed>_<run>_...)`,
    "and removes them at the end. Guide: docs/testing-servers.md.",
  ].join("\n"),
  options: {
    ...connectionOptions,
    commands: { type: "string", valueName: "a,b,...", description: "only these commands (flows that use one of them, random requests of them)" },
    seed: { type: "string", valueName: "N", description: "seed of every random choice (default: random, printed in the report)" },
    requests: { type: "string", valueName: "N", default: "1000", description: "stop after about N requests" },
    duration: { type: "string", valueName: "S", default: "120", description: "stop after S seconds" },
    format: { type: "string", valueName: "F", choices: ["text", "json", "junit", "github"], default: "text", description: "report format on stdout" },
    out: { type: "string", valueName: "DIR", description: "write a replay file per failure into DIR" },
    slow: { type: "string", valueName: "MS", default: "5000", description: "a reply slower than MS milliseconds is a failure" },
    timeout: { type: "string", valueName: "MS", default: "10000", description: "no reply within MS milliseconds is a failure" },
    "read-only": { type: "boolean", description: "send only commands marked read (x-openflow.effect): for production servers" },
    "allow-admin": { type: "boolean", description: "also send admin commands (createcollection, dropcollection on the fuzzer's own names)" },
    replay: { type: "string", valueName: "FILE", description: "run the minimal sequence of a replay file (from --out) again instead of fuzzing" },
  },
  positionals: { min: 1, max: 1 },
  epilog: "exit codes: 0 no failure, 1 failures found (or the replayed failure still happens), 2 usage, connection or sign-in problems before the run.",
  run: async ({ values, positionals }, io) => run(values, positionals, io),
};

/** Connections for the fuzzer: signed in through the shared layer, then taken over at the frame level. */
export function fuzzConnector(url: string, signIns: readonly SignIn[], timeoutMs: number): Connector {
  return async (index) => {
    const signIn = (signIns[index] ?? signIns[0]) as SignIn;
    const tap = new SocketTap();
    const client = await openConnection(url, signIn, { WebSocket: tap.WebSocket, heartbeat: false, timeoutMs, connectTimeoutMs: timeoutMs });
    return tap.takeOver(signIn.label, client.user, () => client.close());
  };
}

async function run(values: OptionValues, positionals: string[], io: CliIo): Promise<number> {
  const url = checkServerUrl(positionals[0]);
  const signIns = requireSignIns(values, process.env, 2);
  const seed = integerOption(values, "seed", 0, 2 ** 31 - 1) ?? Math.floor(Math.random() * 2 ** 31);
  const maxRequests = integerOption(values, "requests", 1) as number;
  const durationS = integerOption(values, "duration", 1, 86_400) as number;
  const slowMs = integerOption(values, "slow", 1) as number;
  const timeoutMs = integerOption(values, "timeout", 100, 600_000) as number;
  const format = (values.format as ReportFormat | undefined) ?? "text";
  const out = textOption(values, "out", "a directory");
  const replay = textOption(values, "replay", "a replay file");
  const readOnly = values["read-only"] === true;
  const allowAdmin = values["allow-admin"] === true;
  if (readOnly && allowAdmin) throw new UsageError("--read-only and --allow-admin exclude each other");
  let commands: Set<string> | undefined;
  const list = textOption(values, "commands", "a comma-separated list of commands");
  if (list !== undefined) {
    const spec = loadSpec();
    commands = new Set(list.split(",").map((c) => c.trim().toLowerCase()).filter(Boolean));
    for (const c of commands) {
      if (!spec.commands.has(c)) throw new UsageError(`--commands: unknown command ${JSON.stringify(c)}`);
    }
  }
  const connect = fuzzConnector(url, signIns, timeoutMs);

  let replayMeta;
  if (replay !== undefined) {
    let textOfFile: string;
    try {
      textOfFile = await readFile(replay, "utf8");
    } catch (err) {
      throw new UsageError(`--replay: cannot read ${replay}: ${(err as Error).message}`);
    }
    try {
      replayMeta = readReplayMeta(textOfFile);
    } catch (err) {
      throw new UsageError(`--replay ${replay}: ${(err as Error).message}`);
    }
  }

  // Before the run: every sign-in must work (exit 2 otherwise), and we learn who the second user is.
  let secondUserIsAdmin = false;
  try {
    for (let i = 0; i < signIns.length; i++) {
      const link = await connect(i);
      const roles = Array.isArray(link.user.roles) ? (link.user.roles as { name?: unknown }[]) : [];
      if (i === 1 && roles.some((r) => r && r.name === "admins")) secondUserIsAdmin = true;
      link.close();
    }
  } catch (err) {
    if (err instanceof ConnectionFailed) {
      io.stderr(`openflow-spec fuzz: ${err.message}\n`);
      return EXIT_CANNOT_RUN;
    }
    throw err;
  }

  if (replayMeta) {
    const result = await replaySteps(replayMeta, { connect, users: signIns.length, timeoutMs, slowMs, allowAdmin });
    const f = result.failure;
    if (format === "json") {
      io.stdout(`${JSON.stringify({ version: 1, replay, expected: replayMeta.failure, reproduced: f !== undefined, failure: f ?? null, frames: result.frames.map((fr) => ({ user: fr.as + 1, dir: fr.dir, text: fr.text })) }, null, 2)}\n`);
    } else {
      const lines = f
        ? [`FAIL ${f.invariant}: ${f.message}`, `  at step ${f.step + 1} of ${replayMeta.steps.length} (${f.note})`, `openflow-spec fuzz --replay: the failure ${f.invariant === replayMeta.failure.invariant ? "still happens" : `changed (was ${replayMeta.failure.invariant})`}: FAILED`]
        : [`openflow-spec fuzz --replay: ${replayMeta.steps.length} steps ran without failure (was ${replayMeta.failure.invariant}: ${replayMeta.failure.message}): ok`];
      io.stdout(`${lines.join("\n")}\n`);
    }
    return f ? EXIT_FAILED : EXIT_OK;
  }

  const report = await fuzz({
    connect,
    users: signIns.length,
    seed,
    maxRequests,
    durationMs: durationS * 1000,
    commands,
    readOnly,
    allowAdmin,
    slowMs,
    timeoutMs,
    secondUserIsAdmin,
    ...(io.stderrIsTTY ? { progress: (line: string) => io.stderr(`${line}\n`) } : {}),
  });
  const paths = new Map<FuzzFailure, string>();
  if (out !== undefined && report.failures.length > 0) {
    await mkdir(out, { recursive: true });
    for (const f of report.failures) {
      const path = join(out, f.replayName);
      await writeFile(path, f.replay);
      paths.set(f, path);
    }
  }
  io.stdout(formatReport(report, format, paths));
  return report.failures.length > 0 ? EXIT_FAILED : EXIT_OK;
}
