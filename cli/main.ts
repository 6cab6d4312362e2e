#!/usr/bin/env node
/**
 * `openflow-spec` command-line entry point. Each subcommand lives in its own module and is loaded only when
 * used, so `validate` in CI does not pay for the generator's dependencies. A subcommand module exports
 * `command: CommandSpec` (see ./command.ts); older ones still export `main(argv)` until they are ported.
 */
import { readFileSync } from "node:fs";
import { runCommand, suggest, type CliIo, type CommandSpec } from "./command.js";
import { UsageError } from "./usage.js";

type Entry = { summary: string } & ({ load: () => Promise<CommandSpec> } | { legacy: (argv: string[]) => Promise<number> });

/** The command list. Add a subcommand here: one line, its module loaded lazily. */
const subcommands: Record<string, Entry> = {
  generate: {
    summary: "generate TypeScript types, validators, client and docs from schemas/ (--check: verify only)",
    legacy: async (argv) => (await import("../generator/cli.js")).main(argv),
  },
  validate: {
    summary: "validate frames, payloads and captured traffic (see `validate --help`)",
    legacy: async (argv) => (await import("./validate.js")).main(argv),
  },
  serve: {
    summary: "run a local OpenFlow-compatible server (see `serve --help`)",
    legacy: async (argv) => (await import("../server/cli.js")).main(argv),
  },
};

function version(): string {
  return (JSON.parse(readFileSync(findPackageJson(), "utf8")) as { version: string }).version;
}

/** package.json is one level up from cli/ when run from source (tsx) and two from dist/cli/ (also in openflow-spec-tools). */
function findPackageJson(): URL {
  for (const rel of ["../package.json", "../../package.json"]) {
    const url = new URL(rel, import.meta.url);
    try {
      const text = readFileSync(url, "utf8");
      const name = (JSON.parse(text) as { name?: string }).name;
      if (name === "openflow-spec" || name === "openflow-spec-tools") return url;
    } catch {
      // try the next candidate
    }
  }
  throw new Error("package.json of openflow-spec not found");
}

function help(): string {
  const width = Math.max(...Object.keys(subcommands).map((name) => name.length));
  const lines = Object.entries(subcommands).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`);
  return ["usage: openflow-spec <command> [options]", "", "commands:", ...lines, "", "options:", "  --version  print the version", "  --help     show this help", "", "`openflow-spec <command> --help` describes each command.", ""].join("\n");
}

export async function main(argv: string[], io: CliIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const sub = subcommands[name];
  if (!sub) {
    const near = suggest(name, Object.keys(subcommands));
    io.stderr(`openflow-spec: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ""}\n\n${help()}`);
    return 2;
  }
  if ("load" in sub) return runCommand(await sub.load(), rest, io);
  try {
    return await sub.legacy(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`openflow-spec ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
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
