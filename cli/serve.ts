/**
 * `openflow-spec serve [--port N] [--host H] [--users FILE] [--package-size N] [--error-style 2021|latest]
 * [--rate-limit P[/MS]] [--limit NAME=VALUE]...`:
 * runs the local server until SIGINT/SIGTERM. Bad arguments or a bad users file: UsageError (exit 2). The server
 * itself (server/) knows nothing of the command line.
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "./usage.js";
import { describeListenError } from "./listen-errors.js";
import { integerOption, parseCommandArgs, suggest, textOption, type CommandSpec, type OptionValues } from "./command.js";
import { randomName } from "../server/ids.js";
import { resolveOptions, type ErrorStyle, type LimitOptions, type RateLimitOptions, type ServerLogger, type UserSpec } from "../server/options.js";
import { startServer } from "../server/server.js";
import { cannotRead } from "../validator/file-errors.js";
import { openCaptureFile, type CaptureFile } from "../validator/capture-file.js";
import { CaptureRecorder, parseWireMessage } from "../validator/recorder.js";

export const command: CommandSpec = {
  name: "serve",
  usage: "[options]",
  description: "Run a local OpenFlow-compatible server (legacy JSON websocket protocol, in memory) until SIGINT or SIGTERM.",
  options: {
    port: { type: "string", valueName: "N", default: "3000", description: "TCP port (0 picks a free port)" },
    host: { type: "string", valueName: "H", default: "127.0.0.1", description: "interface to bind" },
    users: { type: "string", valueName: "FILE", description: 'JSON array of {"username", "password", "roles"?: [role names]} (default: one admin user, credentials printed at start)' },
    "package-size": { type: "string", valueName: "N", default: "25000", description: "websocket_package_size announced and used for replies" },
    "error-style": { type: "string", valueName: "S", choices: ["latest", "2021"], default: "latest", description: "how failures are reported" },
    "rate-limit": { type: "string", valueName: "P[/MS]", description: "per-connection rate limit like the real server's: P messages per window of MS milliseconds (default window 1000); off unless given" },
    limit: { type: "string", multiple: true, valueName: "NAME=VALUE", description: 'set one server limit (repeatable), e.g. --limit maxConnections=200; names and defaults: docs/security.md, Limits' },
    record: { type: "string", valueName: "FILE", description: "write the traffic to FILE in the capture format `validate` reads (secrets redacted)" },
    verbose: { type: "boolean", description: "log connections and failed commands" },
  },
  positionals: { max: 0 },
  epilog: "exit codes: 0 stopped by a signal, 1 cannot start or stop cleanly, 2 bad arguments or users file.",
  run: async ({ values }) => serve(toServeArgs(values)),
};

export interface ServeArgs {
  port: number;
  host: string;
  usersFile: string | undefined;
  packageSize: number;
  errorStyle: ErrorStyle;
  rateLimit: Required<RateLimitOptions> | undefined;
  limits: LimitOptions;
  verbose: boolean;
  record: string | undefined;
}

const LIMIT_NAMES = Object.keys(resolveOptions().limits) as (keyof LimitOptions)[];

function rateLimitArg(value: string | undefined): Required<RateLimitOptions> {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(value ?? "");
  if (!m) throw new UsageError(`--rate-limit needs POINTS or POINTS/MS (e.g. 30 or 30/1000), got ${value === undefined ? "nothing" : JSON.stringify(value)}`);
  const points = Number(m[1]);
  const durationMs = m[2] === undefined ? 1000 : Number(m[2]);
  if (points < 1 || points > 1_000_000) throw new UsageError(`--rate-limit points must be between 1 and 1000000, got ${points}`);
  if (durationMs < 1 || durationMs > 3_600_000) throw new UsageError(`--rate-limit window must be between 1 and 3600000 ms, got ${durationMs}`);
  return { points, durationMs };
}

function limitArg(limits: LimitOptions, value: string | undefined): void {
  const eq = value?.indexOf("=") ?? -1;
  if (value === undefined || eq <= 0) throw new UsageError(`--limit needs NAME=VALUE, got ${value === undefined ? "nothing" : JSON.stringify(value)}`);
  const name = value.slice(0, eq);
  const raw = value.slice(eq + 1);
  if (!(LIMIT_NAMES as string[]).includes(name)) {
    const lower = name.toLowerCase();
    const near: string[] = LIMIT_NAMES.filter((n) => n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase()));
    const close = suggest(name, LIMIT_NAMES);
    if (close && !near.includes(close)) near.unshift(close);
    throw new UsageError(`--limit: unknown limit ${JSON.stringify(name)}${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}; known: ${LIMIT_NAMES.join(", ")}`);
  }
  if (!/^\d+$/.test(raw)) throw new UsageError(`--limit ${name} needs a non-negative integer, got ${JSON.stringify(raw)}`);
  const candidate = { ...limits, [name]: Number(raw) };
  try {
    resolveOptions({ limits: candidate });
  } catch (err) {
    throw new UsageError(`--limit ${name}: ${(err as Error).message}`);
  }
  limits[name as keyof LimitOptions] = Number(raw);
}

function toServeArgs(values: OptionValues): ServeArgs {
  const limits: LimitOptions = {};
  for (const item of (values["limit"] as string[] | undefined) ?? []) limitArg(limits, item);
  const rate = values["rate-limit"] as string | undefined;
  return {
    port: integerOption(values, "port", 0, 65535) ?? 3000,
    host: textOption(values, "host", "a value") ?? "127.0.0.1",
    usersFile: textOption(values, "users", "a file name"),
    packageSize: integerOption(values, "package-size", 1, 100_000_000) ?? 25_000,
    errorStyle: values["error-style"] as ErrorStyle,
    rateLimit: rate === undefined ? undefined : rateLimitArg(rate),
    limits,
    verbose: values["verbose"] === true,
    record: textOption(values, "record", "a file name"),
  };
}

/** Parses `serve` arguments (tests); throws UsageError like the command does. */
export function parseServeArgs(argv: string[]): ServeArgs & { help: boolean } {
  const parsed = parseCommandArgs(command, argv);
  return { ...toServeArgs(parsed.values), help: parsed.help };
}

/** Read and check a users file: a JSON array of {username, password, roles?}. Errors name the entry and field. */
export async function loadUsersFile(file: string): Promise<UserSpec[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(cannotRead(`--users ${file}`, err));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--users ${file}: not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value) || value.length === 0) throw new UsageError(`--users ${file}: must be a non-empty JSON array of {"username", "password", "roles"?}`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const where = `--users ${file}: entry [${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new UsageError(`${where} must be an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.username !== "string" || e.username.trim() === "") throw new UsageError(`${where}.username must be a non-empty string`);
    if (typeof e.password !== "string" || e.password === "") throw new UsageError(`${where}.password must be a non-empty string`);
    if (e.roles !== undefined && (!Array.isArray(e.roles) || !e.roles.every((r) => typeof r === "string" && r !== ""))) {
      throw new UsageError(`${where}.roles must be an array of role names`);
    }
    const key = e.username.toLowerCase();
    if (seen.has(key)) throw new UsageError(`${where}.username ${JSON.stringify(e.username)} appears twice`);
    seen.add(key);
    return { username: e.username, password: e.password, ...(e.roles ? { roles: e.roles as string[] } : {}) };
  });
}

function consoleLogger(verbose: boolean): ServerLogger {
  const line = (level: string, message: string) => process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  return {
    info: (m) => verbose && line("info", m),
    warn: (m) => line("warn", m),
    error: (m) => line("error", m),
    debug: (m) => verbose && line("debug", m),
  };
}

async function serve(args: ServeArgs): Promise<number> {
  const users = args.usersFile ? await loadUsersFile(args.usersFile) : undefined;
  const adminPassword = users ? undefined : randomName(16);
  let capture: CaptureFile | undefined;
  if (args.record) {
    try {
      capture = await openCaptureFile(args.record);
    } catch (err) {
      throw new UsageError(`--record: ${(err as Error).message}`);
    }
  }
  const sink = capture;
  const recorder = sink ? new CaptureRecorder((line) => sink.write(line)) : undefined;
  let server;
  try {
    server = await startServer({
      port: args.port, host: args.host, packageSize: args.packageSize, errorStyle: args.errorStyle, logger: consoleLogger(args.verbose), limits: args.limits,
      ...(args.rateLimit ? { rateLimit: args.rateLimit } : {}),
      ...(users ? { users } : { adminPassword }),
      ...(recorder ? { onFrame: (direction: "in" | "out", text: string, conn: string) => recorder.message(conn, direction === "in" ? "c2s" : "s2c", parseWireMessage(text)) } : {}),
    });
  } catch (err) {
    process.stderr.write(`openflow-spec serve: cannot start: ${describeListenError(err, args.host, args.port, "--port 0")}\n`);
    await capture?.close().catch(() => {});
    return 1;
  }
  const out = process.stdout;
  const running = server;
  // Handlers go in before the ready line: whoever waits for "ready" may signal at once.
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      out.write(`${signal}: stopping\n`);
      running.close().then(
        async () => {
          recorder?.flush();
          try {
            await capture?.close();
            resolve(0);
          } catch (err) {
            process.stderr.write(`openflow-spec serve: ${(err as Error).message}\n`);
            resolve(1);
          }
        },
        (err: unknown) => {
          process.stderr.write(`openflow-spec serve: error while stopping: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  out.write(`OpenFlow-compatible server listening on ${server.url}\n`);
  if (users) out.write(`users: ${users.map((u) => u.username).join(", ")} (from ${args.usersFile})\n`);
  else out.write(`admin user: username "admin", password "${adminPassword}"\n`);
  out.write(`error style: ${args.errorStyle}, websocket_package_size: ${args.packageSize}\n`);
  if (capture) out.write(`recording to ${capture.path} (secrets redacted)\n`);
  if (args.rateLimit) out.write(`rate limit: ${args.rateLimit.points} messages per ${args.rateLimit.durationMs} ms per connection\n`);
  out.write("ready (Ctrl+C to stop)\n");
  return await stopped;
}
