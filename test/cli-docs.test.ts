/**
 * docs/cli.md shows real output: every `sh` block whose skip marker names this file is run against a local server
 * (users alice and bob), and what it prints (stdout and stderr, in order) must equal the `text` block under it after
 * the normalisation the guide documents (port -> 3000, 24-hex ids -> <id>, frame ids -> <frame>, times -> <time>).
 * The marker also states the exit code, and may name a push for the harness to send once the command's first
 * output appeared (`push: <command> <payload>`, sent as bob). `UPDATE_CLI_DOCS=1` rewrites the blocks instead.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { command as callCommand, runCall, type VerbDeps } from "../cli/call.js";
import { runCommand, type CliIo, type CommandSpec, type ParsedArgs } from "../cli/command.js";
import { connectionOptions, networkOptions } from "../cli/connection.js";
import { command as probeCommand, runProbe } from "../cli/probe.js";
import { command as shellCommand, runShell } from "../cli/shell.js";
import { connect, type OpenFlowClient } from "../runtime/client.js";
import { silentLogger } from "../runtime/logger.js";
import { startServer, type RunningServer } from "../server/index.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const DOC = join(ROOT, "docs/cli.md");
const MARK = /^<!-- snippet: skip \((needs a running server: test\/cli-docs\.test\.ts runs it against a local serve, exit (\d)(?:; push: (\S+) (.*))?)\) -->$/;

interface Example {
  /** Index of the marker line. */
  line: number;
  exit: number;
  push: { command: string; payload: unknown } | undefined;
  command: string;
  /** Lines of the text block (start and end index in the file's lines, exclusive of the fences). */
  outputStart: number;
  outputEnd: number;
  output: string;
}

function examples(lines: string[]): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARK.exec(lines[i] as string);
    if (!m) continue;
    let j = i + 1;
    if (lines[j] !== "```sh") throw new Error(`docs/cli.md:${j + 1}: a \`\`\`sh block must follow the marker`);
    const start = ++j;
    while (lines[j] !== "```") j++;
    const commandText = lines.slice(start, j).join("\n");
    j++;
    while (lines[j] === "") j++;
    if (lines[j] !== "```text") throw new Error(`docs/cli.md:${j + 1}: a \`\`\`text block must follow the command`);
    const outputStart = ++j;
    while (lines[j] !== "```") j++;
    out.push({
      line: i,
      exit: Number(m[2]),
      push: m[3] ? { command: m[3], payload: JSON.parse(m[4] as string) as unknown } : undefined,
      command: commandText,
      outputStart,
      outputEnd: j,
      output: lines.slice(outputStart, j).join("\n"),
    });
  }
  return out;
}

/** Splits a shell command line: single and double quotes, no expansion (the examples use none). */
function words(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | undefined;
  let any = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (current !== "" || any) out.push(current);
      current = "";
      any = false;
    } else current += ch;
  }
  if (quote) throw new Error(`unbalanced quote in ${text}`);
  if (current !== "" || any) out.push(current);
  return out;
}

const verbs: Record<string, { spec: CommandSpec; run: (a: ParsedArgs, io: CliIo, deps: VerbDeps) => Promise<number> }> = {
  call: { spec: callCommand, run: runCall },
  shell: { spec: shellCommand, run: runShell },
  probe: { spec: probeCommand, run: runProbe },
};

/** The documented normalisation. */
export function normalise(text: string, port: number): string {
  return text
    .replaceAll(`127.0.0.1:${port}`, "127.0.0.1:3000")
    .replace(/\b[0-9a-f]{24}\b/g, "<id>")
    .replace(/("(?:id|replyto|correlationId)\\?":\s*\\?")[0-9a-z]{6,12}(\\?")/g, "$1<frame>$2")
    .replace(/("consumerTag\\?":\\?")[^"\\]+/g, "$1<tag>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, "<time>")
    .trimEnd();
}

let server: RunningServer;
let bob: OpenFlowClient;
let port = 0;

beforeAll(async () => {
  server = await startServer({ users: [{ username: "alice", password: "pw-alice" }, { username: "bob", password: "pw-bob", roles: ["admins"] }], logger: { info() {}, warn() {}, error() {} } });
  port = Number(new URL(server.url).port);
  bob = await connect(server.url, { credentials: { username: "bob", password: "pw-bob" }, logger: silentLogger, reconnect: false });
});
afterAll(async () => {
  bob.close();
  await server.close();
});

async function runExample(example: Example): Promise<{ code: number; text: string }> {
  const [first, ...heredoc] = example.command.split("\n");
  let line = first as string;
  let stdin = "";
  const here = /\s*<<'EOF'$/.exec(line);
  if (here) {
    line = line.slice(0, here.index);
    if (heredoc.pop() !== "EOF") throw new Error("a heredoc must end with EOF");
    stdin = `${heredoc.join("\n")}\n`;
  }
  const argv = words(line.replaceAll("127.0.0.1:3000", `127.0.0.1:${port}`));
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(argv[0] as string)) {
    const [name, ...value] = (argv.shift() as string).split("=");
    env[name as string] = value.join("=");
  }
  if (argv.shift() !== "openflow-spec") throw new Error(`not an openflow-spec command: ${line}`);
  const verb = verbs[argv.shift() as string];
  if (!verb) throw new Error(`not call, shell or probe: ${line}`);
  let text = "";
  const io: CliIo = { stdout: (t) => void (text += t), stderr: (t) => void (text += t), stdin: () => Readable.from([stdin]) };
  const spec = { ...verb.spec, run: (a: ParsedArgs, cio: CliIo) => verb.run(a, cio, { env }) };
  const done = runCommand(spec, argv, io);
  if (example.push) {
    for (let i = 0; i < 200 && !text.includes("}"); i++) await new Promise((r) => setTimeout(r, 25));
    await bob.requestUntyped(example.push.command, example.push.payload);
  }
  const code = await done;
  return { code, text: normalise(text, port) };
}

describe("docs/cli.md", () => {
  const lines = readFileSync(DOC, "utf8").split("\n");
  const found = examples(lines);

  it("has examples of call, shell and probe, and documents every connection option and variable", () => {
    const verbsShown = new Set(found.map((e) => words(e.command.split("\n")[0] as string).find((w) => w in verbs)));
    expect([...verbsShown].sort()).toEqual(["call", "probe", "shell"]);
    const text = lines.join("\n");
    for (const name of [...Object.keys(connectionOptions), ...Object.keys(networkOptions)]) expect(text).toContain(`\`--${name}`);
    for (const variable of ["OPENFLOW_USER", "OPENFLOW_PASSWORD", "OPENFLOW_JWT"]) expect(text).toContain(`\`${variable}\``);
  });

  it("shows the real output and exit code of every example", async () => {
    const update = process.env["UPDATE_CLI_DOCS"] === "1";
    const results: Array<{ example: Example; code: number; text: string }> = [];
    for (const example of found) results.push({ example, ...(await runExample(example)) });
    if (update) {
      for (const { example, text } of [...results].reverse()) lines.splice(example.outputStart, example.outputEnd - example.outputStart, ...text.split("\n"));
      writeFileSync(DOC, lines.join("\n"));
    }
    for (const { example, code, text } of results) {
      expect({ command: example.command, code }).toEqual({ command: example.command, code: example.exit });
      if (!update) expect({ command: example.command, output: text }).toEqual({ command: example.command, output: example.output });
    }
  }, 60_000);
});
