#!/usr/bin/env node
/**
 * `openflow-spec` command-line entry point. Each subcommand lives in its own module and is loaded only when
 * used, so `validate` in CI does not pay for the generator's dependencies. A subcommand module exports
 * `command: CommandSpec` (see ./command.ts); its one-line summary lives in the table below, so `--help` and the
 * did-you-mean list need no module loaded.
 */
import { processIo, runCommand, suggest, type CliIo, type CommandSpec } from "./command.js";
import { packageVersion } from "./package.js";

type Entry = { summary: string; load: () => Promise<CommandSpec> };

/** The command list. Add a subcommand here: one line, its module loaded lazily. */
const subcommands: Record<string, Entry> = {
  generate: {
    summary: "generate TypeScript types, validators, client and docs from schemas/ (--check: verify only)",
    load: async () => (await import("./generate.js")).command,
  },
  asyncapi: {
    summary: "write the spec as an AsyncAPI 3.0 document (the generated/asyncapi.json of any schemas directory)",
    load: async () => (await import("./asyncapi.js")).command,
  },
  lint: {
    summary: "check the spec's rules on a schemas directory (descriptions, examples, marks, ...)",
    load: async () => (await import("./lint.js")).command,
  },
  validate: {
    summary: "validate frames, payloads and captured traffic (see `validate --help`)",
    load: async () => (await import("./validate.js")).command,
  },
  diff: { summary: "compare two versions of schemas/: which changes break clients or servers (see `diff --help`)", load: async () => (await import("./diff.js")).command },
  serve: {
    summary: "run a local OpenFlow-compatible server (see `serve --help`)",
    load: async () => (await import("./serve.js")).command,
  },
  "migrate-report": {
    summary: "what moving a captured app to the OpenIAP protobuf protocol costs, command by command (see `migrate-report --help`)",
    load: async () => (await import("./migrate-report.js")).command,
  },
  call: { summary: "send one command to a server and print the reply as JSON; --listen prints pushes (see `call --help`)", load: async () => (await import("./call.js")).command },
  shell: { summary: "an interactive shell on one connection: completion from the spec, history, pushes as they arrive", load: async () => (await import("./shell.js")).command },
  probe: { summary: "walk a connection step by step (DNS, TCP, TLS, upgrade, websocket, sign-in) and say where and why it stops", load: async () => (await import("./probe.js")).command },
  sources: {
    summary: "check the schemas' source links against upstream checkouts (verify), or list the claims an upstream change touches (drift)",
    load: async () => (await import("./sources.js")).command,
  },
  fuzz: { summary: "test any OpenFlow server from the spec: generated requests, stateful flows, invariants (see `fuzz --help`)", load: async () => (await import("./fuzz.js")).command },
  replay: { summary: "re-send the client side of a capture to a server and compare the replies (see `replay --help`)", load: async () => (await import("./replay.js")).command },
  proxy: { summary: "record and check live traffic between any client and any OpenFlow server (see `proxy --help`)", load: async () => (await import("./proxy.js")).command },
  robot: { summary: "run a fake OpenRPA robot that answers invokes from a workflows file (see `robot --help`)", load: async () => (await import("./robot.js")).command },
};

function help(): string {
  const width = Math.max(...Object.keys(subcommands).map((name) => name.length));
  const lines = Object.entries(subcommands).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`);
  return ["usage: openflow-spec <command> [options]", "", "commands:", ...lines, "", "options:", "  --version  print the version", "  --help     show this help", "", "`openflow-spec <command> --help` describes each command.", ""].join("\n");
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  const sub = subcommands[name];
  if (!sub) {
    const near = suggest(name, Object.keys(subcommands));
    io.stderr(`openflow-spec: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ""}\n\n${help()}`);
    return 2;
  }
  return runCommand(await sub.load(), rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`openflow-spec: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
