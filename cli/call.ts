/**
 * `openflow-spec call <url> <command> [payload]`: one command from the terminal, like `buf curl` or grpcurl.
 * Signs in through the connection layer (./connection.ts), checks the payload against the spec before sending
 * (did-you-mean for commands and fields; `--no-validate` sends anyway), prints the reply payload as JSON.
 * `--listen` then prints pushes as NDJSON; `--frames` shows the wire frames on stderr, secrets redacted.
 *
 * Exit codes (the connection layer's): 0 ok, 1 the server answered with an error (or `--count` pushes did not
 * arrive in time), 2 usage, payload check, connection or sign-in.
 */
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { OpenFlowError, type ClientOptions, type OpenFlowClient } from "../runtime/index.js";
import { cannotRead } from "../validator/file-errors.js";
import { integerOption, type CliIo, type CommandSpec, type OptionValues, type ParsedArgs } from "./command.js";
import {
  checkServerUrl,
  connectionOptions,
  ConnectionFailed,
  EXIT_CANNOT_RUN,
  EXIT_FAILED,
  EXIT_OK,
  networkExtras,
  networkOptions,
  networkSettingsFrom,
  openConnection,
  requireSignIns,
  type Env,
  type Resolver,
  type SignIn,
} from "./connection.js";
import { showingFrames } from "./frames.js";
import { forOutput, onPushes, type Push } from "./pushes.js";
import { requestProblems } from "./request-check.js";
import { UsageError } from "./usage.js";

/** What a verb that talks to a server takes from outside besides its arguments (tests inject these). */
export interface VerbDeps {
  /** Environment for OPENFLOW_USER/OPENFLOW_PASSWORD/OPENFLOW_JWT (default process.env). */
  env?: Env;
  /** Host-name resolver (default: the system's). */
  resolver?: Resolver;
  /** Stops a `--listen` early, like Ctrl+C (default: SIGINT). */
  stop?: Promise<void>;
}

export const command: CommandSpec = {
  name: "call",
  usage: "<url> <command> [payload] [options]",
  description: `Send one command to an OpenFlow server and print the reply payload as JSON.

payload: JSON text ('{"collectionname":"users","query":{}}'), - for standard input, or @FILE; default {}.
The payload is checked against the spec first (closed: a misspelt field is an error); --no-validate sends it
anyway. Secret fields (jwt, password, __jwt, ...) are printed as [redacted] unless --show-secrets.`,
  options: {
    ...connectionOptions,
    ...networkOptions,
    "no-validate": { type: "boolean", description: "send even when the command or payload does not match the spec" },
    timeout: { type: "string", valueName: "S", description: "seconds to wait for the reply (default 30) and, with --listen, for pushes (default: until --count or Ctrl+C)" },
    listen: { type: "boolean", description: "after the reply, keep the connection and print pushes (queue messages, watch events) as NDJSON" },
    count: { type: "string", valueName: "N", description: "with --listen: stop after N pushes (exit 1 if --timeout comes first)" },
    frames: { type: "boolean", description: "show the wire frames on stderr (> sent, < received), secrets redacted" },
    "show-secrets": { type: "boolean", description: "print secret fields of the reply and pushes as received" },
  },
  positionals: { min: 2, max: 3 },
  epilog: `environment: OPENFLOW_USER and OPENFLOW_PASSWORD, or OPENFLOW_JWT, when no --user or --jwt is given.
exit codes: 0 ok; 1 the server answered with an error (text on stderr), or fewer than --count pushes arrived;
2 usage, payload check, connection or sign-in (stderr names the cause).
examples:
  openflow-spec call ws://localhost:3000/ws/v1 query '{"collectionname":"users","query":{}}' --user admin:secret
  openflow-spec call ws://localhost:3000/ws/v1 registerqueue '{"queuename":"jobs"}' --listen --count 1`,
  run: (args, io) => runCall(args, io),
};

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** The payload argument: JSON text, `-` (standard input) or `@FILE`; `{}` when absent. */
export async function readPayloadArgument(arg: string | undefined, io: CliIo): Promise<unknown> {
  if (arg === undefined) return {};
  let text: string;
  let where: string;
  if (arg === "-") {
    if (!io.stdin) throw new UsageError("payload -: no standard input here");
    text = await readAll(io.stdin());
    where = "the payload on standard input";
  } else if (arg.startsWith("@")) {
    const file = arg.slice(1);
    if (file === "") throw new UsageError("payload @FILE needs a file name");
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new UsageError(cannotRead(`payload ${arg}`, err));
    }
    where = `the payload in ${file}`;
  } else {
    text = arg;
    where = "the payload";
  }
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const hint = arg.startsWith("@") || arg === "-" ? "" : ` (quote it for the shell: '{"collectionname":"users"}')`;
    throw new UsageError(`${where} is not JSON: ${(err as Error).message}${hint}`);
  }
}

/** Exit code and stderr text for a failed request. */
export function describeCallError(err: unknown, commandName: string, timeoutS: number): { code: number; text: string } {
  if (err instanceof OpenFlowError) {
    switch (err.code) {
      case "server":
      case "unsupported":
      case "rate-limited":
      case "auth":
      case "validation":
        return { code: EXIT_FAILED, text: `the server answered ${commandName} with an error: ${err.serverMessage ?? err.message}` };
      case "protocol":
        return { code: EXIT_FAILED, text: `the server's answer to ${commandName} broke the protocol: ${err.message}` };
      case "timeout":
        return { code: EXIT_CANNOT_RUN, text: `no reply to ${commandName} within ${timeoutS} s (a slow command: raise --timeout; a command this server does not answer?)` };
      default:
        return { code: EXIT_CANNOT_RUN, text: `${commandName} failed: ${err.message} (the connection was lost: see --frames)` };
    }
  }
  return { code: EXIT_CANNOT_RUN, text: `${commandName} failed: ${err instanceof Error ? err.message : String(err)}` };
}

interface CallArgs {
  url: string;
  command: string;
  payloadArg: string | undefined;
  validate: boolean;
  timeoutS: number;
  listen: boolean;
  count: number | undefined;
  listenTimeoutS: number | undefined;
  frames: boolean;
  showSecrets: boolean;
}

function toCallArgs(values: OptionValues, positionals: string[]): CallArgs {
  const [urlText, commandName, payloadArg] = positionals as [string, string, string | undefined];
  const url = checkServerUrl(urlText);
  if (commandName.trim() === "") throw new UsageError("needs a command name, e.g. query");
  const listen = values["listen"] === true;
  const count = integerOption(values, "count", 1);
  if (count !== undefined && !listen) throw new UsageError("--count needs --listen");
  const timeout = integerOption(values, "timeout", 1, 86_400);
  return {
    url,
    command: commandName,
    payloadArg,
    validate: values["no-validate"] !== true,
    timeoutS: timeout ?? 30,
    listen,
    count,
    listenTimeoutS: timeout,
    frames: values["frames"] === true,
    showSecrets: values["show-secrets"] === true,
  };
}

/** The frame display and network settings as client options (shared with `shell`). */
export function clientExtras(values: OptionValues, io: CliIo, deps: VerbDeps, frames: boolean, timeoutS: number): Partial<ClientOptions> {
  const settings = networkSettingsFrom(values, deps.resolver);
  if (settings.tls?.dangerouslyDisableTlsVerification) io.stderr("warning: --insecure: the server's certificate is not verified; anyone on the network path can read and change this connection\n");
  const extras: Partial<ClientOptions> = { ...networkExtras(settings), timeoutMs: timeoutS * 1000 };
  if (frames) extras.WebSocket = showingFrames((direction, text) => io.stderr(`${direction} ${text}\n`));
  return extras;
}

function sigint(): { promise: Promise<void>; dispose(): void } {
  let onInt: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    onInt = () => resolve();
    process.once("SIGINT", onInt);
  });
  return { promise, dispose: () => void process.off("SIGINT", onInt) };
}

/** Waits for `count` pushes, the timeout, `stop`, or the connection's end. */
async function listenUntil(client: OpenFlowClient, args: CallArgs, arrived: Promise<void>, stop: Promise<void>): Promise<"count" | "timeout" | "stopped" | "closed"> {
  let timer: NodeJS.Timeout | undefined;
  let offState: () => void = () => {};
  try {
    return await Promise.race([
      arrived.then(() => "count" as const),
      stop.then(() => "stopped" as const),
      new Promise<"timeout">((resolve) => {
        if (args.listenTimeoutS !== undefined) timer = setTimeout(() => resolve("timeout"), args.listenTimeoutS * 1000);
      }),
      new Promise<"closed">((resolve) => {
        offState = client.onStateChange(({ state }) => {
          if (state === "closed" || state === "reconnecting") resolve("closed");
        });
        if (client.state === "closed") resolve("closed");
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    offState();
  }
}

/** The command's body; `deps` replaces the environment, the resolver and Ctrl+C (tests). */
export async function runCall({ values, positionals }: ParsedArgs, io: CliIo, deps: VerbDeps = {}): Promise<number> {
  const args = toCallArgs(values, positionals);
  const [signIn] = requireSignIns(values, deps.env ?? process.env) as [SignIn];
  const payload = await readPayloadArgument(args.payloadArg, io);
  if (args.validate) {
    const problems = requestProblems(args.command, payload);
    if (problems.length > 0) {
      io.stderr(`openflow-spec call: not sent: ${problems.length === 1 ? problems[0] : `the ${args.command} payload does not match the spec:\n  ${problems.join("\n  ")}`}\n  (--no-validate sends it anyway)\n`);
      return EXIT_CANNOT_RUN;
    }
  }
  const extras = clientExtras(values, io, deps, args.frames, args.timeoutS);
  let client: OpenFlowClient;
  try {
    client = await openConnection(args.url, signIn, extras);
  } catch (err) {
    if (err instanceof ConnectionFailed) {
      io.stderr(`openflow-spec call: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  const print = (value: unknown, pretty: boolean) => io.stdout(`${JSON.stringify(forOutput(value, args.showSecrets), null, pretty ? 2 : undefined) ?? "null"}\n`);
  const buffered: Push[] = [];
  let replied = false;
  let received = 0;
  let arrivedResolve: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (arrivedResolve = resolve));
  const onPush = (push: Push): void => {
    if (args.count !== undefined && received >= args.count) return;
    received++;
    if (replied) print(push, false);
    else buffered.push(push);
    if (args.count !== undefined && received >= args.count) arrivedResolve();
  };
  const offPushes = args.listen ? onPushes(client, onPush) : () => {};
  const interrupt = deps.stop ? { promise: deps.stop, dispose() {} } : args.listen ? sigint() : undefined;
  try {
    let reply: unknown;
    try {
      reply = await client.requestUntyped(args.command, payload, { timeoutMs: args.timeoutS * 1000 });
    } catch (err) {
      const { code, text } = describeCallError(err, args.command, args.timeoutS);
      io.stderr(`openflow-spec call: ${text}\n`);
      return code;
    }
    print(reply ?? null, true);
    replied = true;
    for (const push of buffered.splice(0)) print(push, false);
    if (!args.listen) return EXIT_OK;
    const how = await listenUntil(client, args, arrived, interrupt?.promise ?? new Promise(() => {}));
    if (how === "closed") {
      io.stderr(`openflow-spec call: the connection closed while listening, after ${received} push${received === 1 ? "" : "es"}\n`);
      return EXIT_CANNOT_RUN;
    }
    if (how === "timeout" && args.count !== undefined) {
      io.stderr(`openflow-spec call: ${received} of ${args.count} push${args.count === 1 ? "" : "es"} arrived within ${args.listenTimeoutS} s\n`);
      return EXIT_FAILED;
    }
    return EXIT_OK;
  } finally {
    offPushes();
    interrupt?.dispose();
    client.close();
  }
}
