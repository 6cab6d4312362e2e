/**
 * `openflow-spec proxy --upstream ws(s)://server/ [--listen HOST:PORT] [--out FILE] [--check]`: the thin CLI
 * adapter of proxy/ (the recording, checking websocket proxy). Runs until SIGINT/SIGTERM, then prints the check
 * summary and exits as `validate` would.
 */
import { readFile } from "node:fs/promises";
import { startProxy, type ProxyOptions } from "../proxy/proxy.js";
import { openCaptureFile } from "../validator/capture-file.js";
import { formatFinding } from "../validator/report/text.js";
import { integerOption, type CliIo, type CommandSpec, type OptionValues } from "./command.js";
import { UsageError } from "./usage.js";
import { describeListenError } from "./listen-errors.js";
import { cannotRead } from "../validator/file-errors.js";

function listenAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen must be HOST:PORT (port 0-65535; 0 picks a free one), got ${JSON.stringify(value)}`);
  return { host: match[1] ?? (match[2] || "127.0.0.1"), port };
}

async function readPem(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(cannotRead(`${flag} ${file}`, err));
  }
}

function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** Waits for SIGINT or SIGTERM; resolves with the signal's name. */
function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(signal);
    };
    const onInt = (): void => stop("SIGINT");
    const onTerm = (): void => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

/** The command's body; `stop` resolves (with a name for the log) when the proxy should shut down. */
export async function runProxy(values: OptionValues, io: CliIo, stop: Promise<string>): Promise<number> {
  const upstream = str(values, "upstream");
  if (!upstream) throw new UsageError("--upstream ws(s)://HOST:PORT/ is required (see --help)");
  if (!/^wss?:\/\//i.test(upstream)) throw new UsageError(`--upstream must be a ws:// or wss:// URL, got ${JSON.stringify(upstream)}`);
  const { host, port } = listenAddress(str(values, "listen") ?? "127.0.0.1:3001");
  const keyFile = str(values, "tls-key");
  const certFile = str(values, "tls-cert");
  if ((keyFile === undefined) !== (certFile === undefined)) throw new UsageError("--tls-key and --tls-cert go together");
  const caFile = str(values, "ca");
  const insecure = values["insecure"] === true;
  if (insecure && caFile !== undefined) throw new UsageError("--insecure and --ca contradict each other: --ca verifies against those certificates, --insecure verifies nothing");
  const highWater = integerOption(values, "high-water", 1024);
  const maxBuffered = integerOption(values, "max-buffered", 1024 * 1024);
  const check = values["check"] === true;
  const strict = values["fail-on"] === "warn";
  const verbose = values["verbose"] === true;

  const options: ProxyOptions = {
    upstream,
    host,
    port,
    redact: values["no-redact"] !== true,
    verifyUpstream: !insecure,
    logger: { info: (m) => verbose && io.stderr(`${new Date().toISOString()} ${m}\n`), warn: (m) => io.stderr(`${new Date().toISOString()} ${m}\n`) },
    ...(keyFile && certFile ? { tls: { key: await readPem("--tls-key", keyFile), cert: await readPem("--tls-cert", certFile) } } : {}),
    ...(caFile ? { ca: await readPem("--ca", caFile) } : {}),
    ...(highWater !== undefined ? { highWaterBytes: highWater } : {}),
    ...(maxBuffered !== undefined ? { maxBufferedBytes: maxBuffered } : {}),
    ...(check ? { onFinding: (f) => io.stdout(`${formatFinding(f)}\n`) } : {}),
  };
  const out = str(values, "out");
  if (out) {
    // Created (or truncated) here so that a path that cannot be written is a usage error before anything listens;
    // the checking worker then writes it (off the forwarding path).
    try {
      await (await openCaptureFile(out)).close();
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    options.captureFile = out;
  }

  let proxy;
  try {
    proxy = await startProxy(options);
  } catch (err) {
    io.stderr(`openflow-spec proxy: cannot start: ${describeListenError(err, host, port, `--listen ${host}:0`)}\n`);
    return 1;
  }
  io.stdout(`openflow-spec proxy: listening on ${proxy.url}, forwarding to ${upstream}${insecure ? " (upstream certificate NOT verified)" : ""}\n`);
  if (out) io.stdout(`capture: ${out}${options.redact ? " (secrets redacted)" : " (NOT redacted)"}\n`);
  io.stdout(`ready${check ? ", checking live" : ""} (Ctrl+C to stop)\n`);

  const signal = await stop;
  io.stderr(`${signal}: stopping\n`);
  await proxy.close();
  let code = 0;
  if (proxy.captureError) {
    io.stderr(`openflow-spec proxy: ${proxy.captureError}\n`);
    code = 2;
  }
  const stats = proxy.checkStats;
  if (stats) {
    const failed = stats.errors > 0 || (strict && stats.warnings > 0);
    const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
    io.stdout(
      `openflow-spec proxy: ${plural(proxy.accepted, "connection")}, ${plural(stats.frames, "frame")}, ${plural(stats.messages, "message")}, ${plural(stats.errors, "error")}, ${plural(stats.warnings, "warning")}: ${failed ? "FAILED" : "OK"}\n`,
    );
    if (failed && code === 0) code = 1;
  }
  return code;
}

export const command: CommandSpec = {
  name: "proxy",
  usage: "--upstream ws(s)://HOST:PORT/ [options]",
  description: [
    "A websocket proxy: every message is forwarded unchanged both ways. With --out it writes the capture format",
    "`validate` reads (one {\"conn\",\"ts\",\"dir\",\"frame\"} line per message; secrets redacted unless --no-redact);",
    "with --check it runs the validator's checks live and prints findings as they happen. Stops on SIGINT/SIGTERM.",
  ].join("\n"),
  options: {
    upstream: { type: "string", valueName: "URL", description: "the OpenFlow server: ws://HOST:PORT/ or wss://..." },
    listen: { type: "string", valueName: "HOST:PORT", description: "where clients connect (default 127.0.0.1:3001; port 0 picks a free one)" },
    out: { type: "string", short: "o", valueName: "FILE", description: "write the capture (.ndjson) to FILE" },
    check: { type: "boolean", description: "validate the traffic live; print findings and a summary, exit 1 on failure" },
    "fail-on": { type: "string", valueName: "LEVEL", choices: ["error", "warn"], default: "error", description: "with --check: what fails the run" },
    "no-redact": { type: "boolean", description: "keep passwords, jwts and tokens in the capture (default: redacted)" },
    "tls-key": { type: "string", valueName: "FILE", description: "serve wss:// with this private key (PEM; needs --tls-cert)" },
    "tls-cert": { type: "string", valueName: "FILE", description: "serve wss:// with this certificate (PEM; needs --tls-key)" },
    ca: { type: "string", valueName: "FILE", description: "verify a wss:// upstream against these CA certificates (PEM) instead of the system's" },
    insecure: { type: "boolean", description: "do not verify the wss:// upstream's certificate (test servers only)" },
    "high-water": { type: "string", valueName: "BYTES", description: "pause reading a side once this many bytes wait for the other (default 1048576)" },
    "max-buffered": { type: "string", valueName: "BYTES", description: "bytes held for all connections together before the biggest senders are paused (default 134217728)" },
    verbose: { type: "boolean", description: "log connections and closes on stderr" },
  },
  positionals: { max: 0 },
  epilog: "exit codes: 0 stopped (with --check: no failing finding), 1 findings failed the check or the proxy could not start, 2 bad usage or the capture could not be written.",
  run: (args, io) => runProxy(args.values, io, signalled()),
};
