/**
 * `openflow-spec shell <url>`: an interactive shell on one signed-in connection. A line is `<command> [payload]`
 * (the payload as JSON, checked against the spec like `call` does) or a dot command (`.help [command]`,
 * `.commands`, `.wait S [N]`, `.exit`). Command names and payload fields complete with Tab (from the schemas);
 * history is kept across sessions in a file; pushes (queue messages, watch events) are printed as they arrive.
 *
 * Built on Node's readline: its completer and history are all a line-oriented shell needs, so no line-editing
 * library. Driven by a script on standard input (not a terminal), each line is echoed after `> ` so the transcript
 * reads like a session, and the exit code says whether every command succeeded.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface, type Completer } from "node:readline";
import { Writable } from "node:stream";
import type { OpenFlowClient } from "../runtime/index.js";
import { suggest } from "../generator/suggest.js";
import { clientExtras, describeCallError, type VerbDeps } from "./call.js";
import { integerOption, type CliIo, type CommandSpec, type ParsedArgs } from "./command.js";
import { checkServerUrl, connectionOptions, ConnectionFailed, EXIT_CANNOT_RUN, EXIT_FAILED, EXIT_OK, networkOptions, openConnection, requireSignIns, type SignIn } from "./connection.js";
import { packageRoot } from "./package.js";
import { forOutput, onPushes } from "./pushes.js";
import { requestProblems } from "./request-check.js";
import { clientCommands, commandDescription, requestFields } from "./schema-fields.js";

export const command: CommandSpec = {
  name: "shell",
  usage: "<url> [options]",
  description: `An interactive shell on one connection to an OpenFlow server.

A line is a command and its payload as JSON (query {"collectionname":"users","query":{}}), or:
  .help [command]   the dot commands, or a command's reference page
  .commands         the commands a client can send
  .wait S [N]       wait S seconds, or until N more pushes arrived since the last .wait
  .exit             leave (Ctrl+D too)
Tab completes command names and payload fields; pushes print as they arrive (secrets redacted).`,
  options: {
    ...connectionOptions,
    ...networkOptions,
    "no-validate": { type: "boolean", description: "send payloads even when they do not match the spec" },
    timeout: { type: "string", valueName: "S", description: "seconds to wait for each reply (default 30)" },
    frames: { type: "boolean", description: "show the wire frames on stderr (> sent, < received), secrets redacted" },
    "show-secrets": { type: "boolean", description: "print secret fields of replies and pushes as received" },
    history: { type: "string", valueName: "FILE", description: "history file (default ~/.openflow-spec_history on a terminal; none for a script)" },
  },
  positionals: { min: 1, max: 1 },
  epilog: `environment: OPENFLOW_USER and OPENFLOW_PASSWORD, or OPENFLOW_JWT, when no --user or --jwt is given.
exit codes: 0 ok; 1 a command of a script failed (its error on stderr); 2 usage, connection or sign-in.`,
  run: (args, io) => runShell(args, io),
};

const DOT_COMMANDS = [".help", ".commands", ".wait", ".exit", ".quit"];

/**
 * Tab completion: the command (or dot command) at the start of the line, a command after `.help `, and in a
 * payload the field being typed after `{` or `,` (completed to `"field":`).
 */
export function shellCompleter(line: string): [string[], string] {
  const space = line.indexOf(" ");
  if (space < 0) {
    const all = [...DOT_COMMANDS, ...clientCommands()];
    const hits = all.filter((c) => c.startsWith(line.toLowerCase()));
    return [hits.length > 0 ? hits : all, line];
  }
  const head = line.slice(0, space);
  const rest = line.slice(space + 1);
  if (head === ".help") {
    const word = rest.trim();
    return [clientCommands().filter((c) => c.startsWith(word.toLowerCase())), word];
  }
  if (head.startsWith(".")) return [[], rest];
  if (rest.trim() === "") return [["{"], rest];
  const partial = /[{,]\s*("?)([A-Za-z0-9_$]*)$/.exec(rest);
  if (!partial) return [[], ""];
  const typed = `${partial[1]}${partial[2]}`;
  const prefix = partial[2] as string;
  const fields = requestFields(head).filter((f) => f.startsWith(prefix));
  return [fields.map((f) => `"${f}":`), typed];
}

/** A short reference page from the schema alone: the description and the request's fields. */
export function schemaPage(name: string): string {
  const fields = requestFields(name).map((f) => `\`${f}\``).join(", ");
  return `# \`${name}\`\n\n${commandDescription(name)}\n\nRequest fields: ${fields}\n\nThe full page: generated/docs/commands/${name}.md in the openflow-spec repository.`;
}

/** A reference page: generated/docs/commands/<command>.md, or a did-you-mean. */
export function referencePage(name: string): { ok: true; text: string } | { ok: false; text: string } {
  const lower = name.toLowerCase();
  const file = join(packageRoot(), "generated", "docs", "commands", `${lower}.md`);
  if (/^[a-z0-9_-]+$/.test(lower) && existsSync(file)) return { ok: true, text: readFileSync(file, "utf8") };
  // The installed tools package ships the schemas but not the generated pages: a short page from the schema.
  if (clientCommands().includes(lower)) return { ok: true, text: schemaPage(lower) };
  const near = suggest(lower, clientCommands());
  return { ok: false, text: `no reference page for ${JSON.stringify(name)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}; .commands lists them` };
}

const HELP = `${command.description?.split("\n").slice(2).join("\n") ?? ""}\n`;

function loadHistory(file: string | undefined): string[] {
  if (!file || !existsSync(file)) return [];
  try {
    return readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").slice(-1000).reverse();
  } catch {
    return [];
  }
}

/** The command's body; `deps` replaces the environment and the resolver (tests). */
export async function runShell({ values, positionals }: ParsedArgs, io: CliIo, deps: VerbDeps = {}): Promise<number> {
  const url = checkServerUrl(positionals[0]);
  const [signIn] = requireSignIns(values, deps.env ?? process.env) as [SignIn];
  const timeoutS = integerOption(values, "timeout", 1, 86_400) ?? 30;
  const validate = values["no-validate"] !== true;
  const showSecrets = values["show-secrets"] === true;
  if (!io.stdin) throw new Error("shell needs standard input");
  const input = io.stdin();
  const terminal = (input as { isTTY?: boolean }).isTTY === true && (io.stdoutStream as { isTTY?: boolean } | undefined)?.isTTY === true;
  const historyFile = (values["history"] as string | undefined) ?? (terminal ? join(homedir(), ".openflow-spec_history") : undefined);

  let client: OpenFlowClient;
  try {
    client = await openConnection(url, signIn, clientExtras(values, io, deps, values["frames"] === true, timeoutS));
  } catch (err) {
    if (err instanceof ConnectionFailed) {
      io.stderr(`openflow-spec shell: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }

  const output = terminal && io.stdoutStream ? io.stdoutStream : new Writable({ write: (chunk: Buffer, _enc, done) => (io.stdout(chunk.toString()), done()) });
  const rl = createInterface({
    input,
    output,
    terminal,
    completer: shellCompleter as Completer,
    history: loadHistory(historyFile),
    historySize: 1000,
    prompt: "openflow> ",
  });
  /** Writes the answer to the line just entered (the loop prompts again afterwards). */
  const print = (text: string) => (terminal ? output.write(`${text}\n`) : io.stdout(`${text}\n`));
  /** Writes a line that arrives on its own (a push) without breaking the prompt the user is typing on. */
  const say = (text: string) => {
    if (terminal) {
      output.write("\r\u001b[K");
      output.write(`${text}\n`);
      rl.prompt(true);
    } else io.stdout(`${text}\n`);
  };
  let pushes = 0;
  /** Pushes a `.wait` has already waited for. */
  let waitedFor = 0;
  const pushWaiters = new Set<() => void>();
  const offPushes = onPushes(client, (push) => {
    pushes++;
    say(`push ${push.command} ${JSON.stringify(forOutput(push.payload, showSecrets))}`);
    for (const w of [...pushWaiters]) w();
  });
  let closed = false;
  const offState = client.onStateChange(({ state }) => {
    if (state === "closed" || state === "reconnecting") {
      closed = true;
      io.stderr("openflow-spec shell: the connection closed\n");
      rl.close();
    }
  });
  // Ctrl+C leaves (without a listener readline would only pause the input and the shell would hang).
  rl.on("SIGINT", () => rl.close());
  io.stderr(`connected to ${url} as ${signIn.label}; .help for help, Tab completes\n`);

  let failed = false;
  const run = async (line: string): Promise<"exit" | void> => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    if (!terminal) io.stdout(`> ${trimmed}\n`);
    if (historyFile && terminal) {
      try {
        appendFileSync(historyFile, `${trimmed}\n`, { mode: 0o600 });
      } catch {
        // history is a convenience: an unwritable file must not end the session
      }
    }
    const space = trimmed.search(/\s/);
    const name = space < 0 ? trimmed : trimmed.slice(0, space);
    const rest = space < 0 ? "" : trimmed.slice(space + 1).trim();
    if (name.startsWith(".")) {
      switch (name) {
        case ".exit":
        case ".quit":
          return "exit";
        case ".help":
          if (rest === "") print(HELP.trimEnd());
          else {
            const page = referencePage(rest);
            if (page.ok) print(page.text.trimEnd());
            else {
              failed = true;
              io.stderr(`${page.text}\n`);
            }
          }
          return;
        case ".commands":
          print(clientCommands().join(" "));
          return;
        case ".wait": {
          const [s, n] = rest.split(/\s+/).map(Number);
          if (!(Number.isFinite(s) && (s as number) > 0 && (s as number) <= 3600) || (n !== undefined && !(Number.isInteger(n) && n > 0))) {
            failed = true;
            io.stderr(".wait needs seconds (1 to 3600) and optionally a number of pushes: .wait 5 1\n");
            return;
          }
          // Pushes since the previous .wait count: the one a command just caused may already be here.
          const target = n === undefined ? Infinity : waitedFor + n;
          await new Promise<void>((resolve) => {
            const done = () => {
              waitedFor = Math.min(pushes, target);
              clearTimeout(timer);
              pushWaiters.delete(check);
              resolve();
            };
            const check = () => void (pushes >= target && done());
            const timer = setTimeout(done, (s as number) * 1000);
            pushWaiters.add(check);
            check();
          });
          return;
        }
        default: {
          failed = true;
          const near = suggest(name, DOT_COMMANDS);
          io.stderr(`unknown shell command ${name}${near ? ` (did you mean ${near}?)` : ""}; .help lists them\n`);
          return;
        }
      }
    }
    let payload: unknown = {};
    if (rest !== "") {
      try {
        payload = JSON.parse(rest);
      } catch (err) {
        failed = true;
        io.stderr(`the payload is not JSON: ${(err as Error).message}\n`);
        return;
      }
    }
    if (validate) {
      const problems = requestProblems(name, payload);
      if (problems.length > 0) {
        failed = true;
        io.stderr(`not sent: ${problems.join("; ")} (--no-validate sends anyway)\n`);
        return;
      }
    }
    try {
      const reply = await client.requestUntyped(name, payload, { timeoutMs: timeoutS * 1000 });
      print(JSON.stringify(forOutput(reply ?? null, showSecrets), null, 2));
    } catch (err) {
      failed = true;
      io.stderr(`${describeCallError(err, name, timeoutS).text}\n`);
    }
  };

  try {
    if (terminal) rl.prompt();
    for await (const line of rl) {
      if ((await run(line)) === "exit") break;
      if (closed) break;
      if (terminal) rl.prompt();
    }
  } finally {
    offPushes();
    offState();
    rl.close();
    client.close();
  }
  if (closed) return EXIT_CANNOT_RUN;
  return failed && !terminal ? EXIT_FAILED : EXIT_OK;
}
