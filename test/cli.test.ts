/**
 * The `openflow-spec` dispatcher and the shared command shape (cli/command.ts): --version, --help for every
 * subcommand, did-you-mean for unknown commands and options, choices, usage errors as exit 2.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatHelp, integerOption, parseCommandArgs, runCommand, suggest, textOption, type CommandSpec } from "../cli/command.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const tsx = join(ROOT, "node_modules/.bin/tsx");
const cli = (...args: string[]) => spawnSync(tsx, ["cli/main.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

function capture() {
  let out = "";
  let err = "";
  return { io: { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) }, out: () => out, err: () => err };
}

const demo: CommandSpec = {
  name: "demo",
  usage: "<file> [options]",
  options: {
    format: { type: "string", choices: ["text", "json"], default: "text", valueName: "FORMAT", description: "report format" },
    strict: { type: "boolean", description: "warnings fail" },
    tag: { type: "string", multiple: true, short: "t", description: "a tag" },
  },
  positionals: { min: 1, max: 1 },
  run: async ({ values, positionals }, io) => {
    io.stdout(JSON.stringify({ values, positionals }));
    return 0;
  },
};

describe("command shape", () => {
  it("parses options, defaults, repeats and positionals", () => {
    expect(parseCommandArgs(demo, ["x", "-t", "a", "--tag=b", "--strict"])).toEqual({ values: { format: "text", strict: true, tag: ["a", "b"] }, positionals: ["x"], help: false });
  });

  it("refuses unknown options with a suggestion, bad choices and positional counts, as exit 2", async () => {
    for (const [argv, want] of [
      [["x", "--stirct"], /unknown option '--stirct' \(did you mean --strict\?\)/],
      [["x", "--zzzzzzzz"], /unknown option '--zzzzzzzz' \(see --help\)/],
      [["x", "--format", "xml"], /--format must be one of text, json, got "xml"/],
      [[], /needs an argument: <file> \[options\]/],
      [["x", "y"], /takes at most 1 argument, got 2/],
      [["x", "--format"], /--format needs a value/],
    ] as const) {
      const c = capture();
      expect(await runCommand(demo, [...argv], c.io)).toBe(2);
      expect(c.out()).toBe("");
      expect(c.err()).toMatch(new RegExp(`^openflow-spec demo: ${want.source}`));
    }
  });

  it("derives --help from the table, without running the command", async () => {
    const c = capture();
    expect(await runCommand(demo, ["--help"], c.io)).toBe(0);
    expect(c.out()).toBe(formatHelp(demo));
    expect(c.out()).toMatch(/^usage: openflow-spec demo <file> \[options\]\n/);
    expect(c.out()).toMatch(/--format FORMAT +report format \(one of text, json; default: text\)/);
    expect(c.out()).toMatch(/-t, --tag VALUE +a tag/);
  });

  it("reads text and integer option values, naming the option and what it needs", () => {
    expect(textOption({ out: "dir" }, "out", "a directory")).toBe("dir");
    expect(textOption({}, "out", "a directory")).toBeUndefined();
    expect(() => textOption({ out: "" }, "out", "a directory")).toThrow(/^--out needs a directory$/);
    expect(integerOption({ port: "0" }, "port", 0, 65535)).toBe(0);
    expect(integerOption({}, "port", 0, 65535)).toBeUndefined();
    expect(() => integerOption({ port: "70000" }, "port", 0, 65535)).toThrow(/^--port must be a whole number from 0 to 65535, got "70000"$/);
    expect(() => integerOption({ n: "-3" }, "n", 0)).toThrow(/^--n must be a whole number at least 0, got "-3"$/);
    expect(() => integerOption({ n: "1.5" }, "n", 0)).toThrow(/whole number/);
    expect(() => integerOption({ n: "0" }, "n", 1)).toThrow(/at least 1/);
  });

  it("suggests only close words", () => {
    expect(suggest("valdate", ["validate", "serve", "generate"])).toBe("validate");
    expect(suggest("genrate", ["validate", "serve", "generate"])).toBe("generate");
    expect(suggest("xyz", ["validate", "serve", "generate"])).toBeUndefined();
  });
});

describe("openflow-spec dispatcher", () => {
  it("prints the package version", () => {
    const r = cli("--version");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
  });

  it("suggests the closest subcommand and exits 2", () => {
    const r = cli("valdate", "x");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^openflow-spec: unknown command 'valdate' \(did you mean 'validate'\?\)/);
  });

  it("has --help for every subcommand it lists", () => {
    const top = cli("--help");
    expect(top.status).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] as string);
    expect(names).toEqual(expect.arrayContaining(["generate", "lint", "validate", "serve"]));
    for (const name of names) {
      const r = cli(name, "--help");
      expect(r.status, `${name} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: openflow-spec ${name} `));
    }
  });
});
