/**
 * `openflow-spec replay <capture> <url> --user NAME:PASSWORD [--user NAME2:PASSWORD2] [--format text|json]`:
 * re-sends the client side of a capture (from `proxy` or `serve --record`) and compares the replies, ignoring
 * what legitimately differs between runs (fuzz/capture-replay.ts lists it; docs/testing-servers.md explains it).
 * Exit 0 same, 1 different, 2 could not run (usage, unreadable capture, connection or sign-in).
 */
import { readFile } from "node:fs/promises";
import { integerOption, type CommandSpec, type CliIo, type OptionValues } from "./command.js";
import { checkServerUrl, connectionOptions, ConnectionFailed, EXIT_CANNOT_RUN, EXIT_FAILED, EXIT_OK, requireSignIns } from "./connection.js";
import { fuzzConnector } from "./fuzz.js";
import { UsageError } from "./usage.js";
import { DATE_KEYS, MAPPED_KEYS, readCapture, replayCapture } from "../fuzz/capture-replay.js";

export const command: CommandSpec = {
  name: "replay",
  usage: "<capture> <url> --user NAME:PASSWORD [--user NAME2:PASSWORD2] [options]",
  description: [
    "Re-send the client side of a capture (an .ndjson from `proxy`, `serve --record` or `fuzz --out`) to a server",
    "and compare its replies with the recorded ones. Each connection signs in as the --user with the name it signed in",
    "with in the capture (else the k-th user of the capture as the k-th --user).",
    `Ignored: frame ids and replyto, server-made identifiers (${MAPPED_KEYS.join(", ")}: mapped recorded -> live),`,
    `server dates (${DATE_KEYS.join(", ")}), tokens and secret fields, and recorded "[redacted]" values.`,
  ].join("\n"),
  options: {
    ...connectionOptions,
    format: { type: "string", valueName: "F", choices: ["text", "json"], default: "text", description: "report format on stdout" },
    timeout: { type: "string", valueName: "MS", default: "10000", description: "wait this long for each reply" },
  },
  positionals: { min: 2, max: 2 },
  epilog: "exit codes: 0 the replies are the same, 1 they differ, 2 could not run (usage, unreadable capture, connection or sign-in).",
  run: async ({ values, positionals }, io) => run(values, positionals, io),
};

async function run(values: OptionValues, positionals: string[], io: CliIo): Promise<number> {
  const [file, rawUrl] = positionals as [string, string];
  const url = checkServerUrl(rawUrl);
  const signIns = requireSignIns(values, process.env, 2);
  const timeoutMs = integerOption(values, "timeout", 100, 600_000) as number;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let capture;
  try {
    capture = readCapture(text);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  if (capture.requests.length === 0) throw new UsageError(`${file}: no client request to replay (expected {"dir":"c2s","frame":{...}} lines)`);
  let result;
  try {
    result = await replayCapture(capture, fuzzConnector(url, signIns, timeoutMs), signIns.map((s) => s.label), timeoutMs);
  } catch (err) {
    if (err instanceof ConnectionFailed) {
      io.stderr(`openflow-spec replay: ${err.message}\n`);
      return EXIT_CANNOT_RUN;
    }
    throw err;
  }
  const same = result.differences.length === 0;
  if (values.format === "json") {
    io.stdout(`${JSON.stringify({ version: 1, capture: file, requests: result.requests, compared: result.compared, connections: result.connections.length, differences: result.differences, same }, null, 2)}\n`);
  } else {
    const lines = result.differences.map((d) => `${file}:${d.line}: ${d.command} (request ${d.index}, conn ${d.conn || "-"}) ${d.pointer || "/"}: ${d.message}`);
    lines.push(`openflow-spec replay: ${result.requests} requests, ${result.compared} replies compared, ${result.differences.length} difference${result.differences.length === 1 ? "" : "s"}: ${same ? "same" : "DIFFERENT"}`);
    io.stdout(`${lines.join("\n")}\n`);
  }
  return same ? EXIT_OK : EXIT_FAILED;
}
