#!/usr/bin/env node
/**
 * `openflow-spec` command-line entry point. Each subcommand lives in its own module and is loaded
 * only when used, so `validate` in CI does not pay for the generator's dependencies.
 */
import { UsageError } from "./usage.js";

type Subcommand = { summary: string; run: (argv: string[]) => Promise<number> };

const subcommands: Record<string, Subcommand> = {
  generate: {
    summary: "generate TypeScript types, validators, client and docs from schemas/ (--check: verify only)",
    run: async (argv) => (await import("../generator/cli.js")).main(argv),
  },
  validate: {
    summary: "validate frames, payloads and captured traffic (see `validate --help`)",
    run: async (argv) => (await import("./validate.js")).main(argv),
  },
  serve: {
    summary: "run a local OpenFlow-compatible server (see `serve --help`)",
    run: async (argv) => (await import("../server/cli.js")).main(argv),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(subcommands).map((name) => name.length));
  const lines = Object.entries(subcommands).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`);
  return ["usage: openflow-spec <command> [options]", "", "commands:", ...lines, ""].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const sub = subcommands[name];
  if (!sub) {
    process.stderr.write(`openflow-spec: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await sub.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`openflow-spec ${name}: ${err.message}\n`);
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
