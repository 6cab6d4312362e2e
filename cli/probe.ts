/**
 * `openflow-spec probe <url> [--user NAME:PASSWORD] [--format text|json]`: why a connection fails, step by step
 * (./probe-walk.ts), and what the server shows once connected. Exit 0 when the walk reached `ready`, 2 otherwise
 * (the connection layer's "could not run").
 */
import type { CliIo, CommandSpec, ParsedArgs } from "./command.js";
import type { VerbDeps } from "./call.js";
import { checkServerUrl, connectionOptions, EXIT_CANNOT_RUN, EXIT_OK, networkOptions, networkSettingsFrom, signInsFrom } from "./connection.js";
import { probeConnection, type ProbeOptions, type ProbeReport } from "./probe-walk.js";

export const command: CommandSpec = {
  name: "probe",
  usage: "<url> [options]",
  description: `Walk the connection to an OpenFlow server step by step and say where it stops and why:
DNS, TCP, TLS, the HTTP upgrade, the websocket, sign-in. Once connected, report what the wire shows: the error
style (2021 or latest), whether ping is answered, websocket_package_size, an announced rate limit, and which
commands answer (with a sign-in).`,
  options: {
    ...connectionOptions,
    ...networkOptions,
    format: { type: "string", valueName: "FORMAT", choices: ["text", "json"], default: "text", description: "report format" },
  },
  positionals: { min: 1, max: 1 },
  epilog: `json keys: reachable (the websocket opened), stage (dns, tcp, tls, upgrade, websocket, signin or ready: where it
stopped), error, fix, errorStyle, packageSize, ping, rateLimit, commands, steps.
exit codes: 0 reached ready (connected; signed in when a sign-in was given), 2 stopped earlier, or bad usage.`,
  run: (args, io) => runProbe(args, io),
};

const mark = { ok: "ok  ", failed: "FAIL", skipped: "--  " } as const;

/** The text report: one line per step, then what the wire showed. */
export function formatProbeText(report: ProbeReport): string {
  const lines = [`probe ${report.url}`];
  for (const s of report.steps) lines.push(`  ${mark[s.status]} ${s.stage.padEnd(9)} ${s.detail}`);
  if (report.error !== undefined) {
    lines.push("", `stopped at ${report.stage}: ${report.error}`);
    if (report.fix) lines.push(`fix: ${report.fix}`);
  }
  if (report.reachable) {
    lines.push("");
    if (report.errorStyle) lines.push(`error style: ${report.errorStyle}${report.errorStyleEvidence ? ` (${report.errorStyleEvidence})` : ""}`);
    if (report.ping) lines.push(`ping: ${report.ping === "answered" ? "answered with pong" : "dropped (no pong within the wait; send any frame at least every 60 s to stay connected)"}`);
    lines.push(`websocket_package_size: ${report.packageSize ?? "unknown (sign in to see it)"}`);
    if (report.rateLimit !== undefined) lines.push(`rate limit: ${report.rateLimit ?? "none announced (OpenFlow servers default to 30 messages per second per connection)"}`);
    if (report.commands) lines.push(`commands: ${Object.entries(report.commands).map(([c, a]) => `${c} ${a}`).join("; ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The stable keys first (reachable, stage, error, errorStyle, packageSize), the steps last. */
export function orderedForJson(report: ProbeReport): Record<string, unknown> {
  const { url, reachable, stage, error, errorStyle, packageSize, fix, steps, ...rest } = report;
  return { url, reachable, stage, error: error ?? null, errorStyle: errorStyle ?? null, packageSize: packageSize ?? null, ...(fix ? { fix } : {}), ...rest, steps };
}

/** The command's body; `deps` replaces the environment and the resolver (tests). */
export async function runProbe({ values, positionals }: ParsedArgs, io: CliIo, deps: VerbDeps = {}): Promise<number> {
  const url = checkServerUrl(positionals[0]);
  const [signIn] = signInsFrom(values, deps.env ?? process.env);
  const network = networkSettingsFrom(values, deps.resolver);
  const options: ProbeOptions = {
    timeoutMs: network.connectTimeoutMs,
    ...(signIn ? { credentials: signIn.credentials } : {}),
    ...(network.tls?.ca !== undefined ? { ca: String(network.tls.ca) } : {}),
    ...(network.tls?.dangerouslyDisableTlsVerification ? { insecure: true } : {}),
    ...(deps.resolver ? { resolver: deps.resolver } : {}),
  };
  const report = await probeConnection(url, options);
  io.stdout(values["format"] === "json" ? `${JSON.stringify(orderedForJson(report), null, 2)}\n` : formatProbeText(report));
  return report.stage === "ready" ? EXIT_OK : EXIT_CANNOT_RUN;
}
