/**
 * `openflow-spec diff` as users run it: directories and git revisions, every report format, the exit codes,
 * acknowledging breaks, errors for bad input; and the repository's own history: the first commit with all 80
 * command files against today's schemas/ gives a report a maintainer can read.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { runCommand } from "../cli/command.js";
import { command } from "../cli/diff.js";
import { commandFile, type Json } from "./diff-helpers.js";

const root = resolve(import.meta.dirname, "..");

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCommand(command, argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

function writeTree(files: Record<string, Json | string>): string {
  const dir = mkdtempSync(join(tmpdir(), "diff-cli-"));
  for (const [path, json] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), typeof json === "string" ? json : JSON.stringify(json, null, 2));
  }
  return dir;
}

const optional = { properties: { name: { type: "string" } } };
const base = writeTree({ "commands/frob.json": commandFile("frob", { request: optional }), "commands/ping.json": commandFile("ping") });
const breaking = writeTree({ "commands/frob.json": commandFile("frob", { request: { ...optional, required: ["name"] } }), "commands/ping.json": commandFile("ping") });
const widening = writeTree({ "commands/frob.json": commandFile("frob", { request: { properties: { name: { type: ["string", "null"] } } } }), "commands/ping.json": commandFile("ping") });

describe("openflow-spec diff on directories", () => {
  it("exits 0 when nothing changed", async () => {
    const r = await run([base, base]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain("No changes that affect the wire.");
    expect(r.out).toContain("Suggested spec version bump: none.");
  });

  it("exits 1 on a breaking change, with the rule id, pointer and side in the text report", async () => {
    const r = await run([base, breaking]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("command frob\n  breaks clients: FIELD_BECAME_REQUIRED /request/name: field \"name\" is now required [commands/frob.json#/$defs/request/properties/name]");
    expect(r.out).toContain("Suggested spec version bump: major.");
    expect(r.out).toMatch(/FAILED \(1 unacknowledged change at or above error: FIELD_BECAME_REQUIRED\)/);
  });

  it("--against names the base; a warning passes unless --fail-on warn", async () => {
    expect((await run(["--against", base, widening])).code).toBe(0);
    const strict = await run(["--against", base, widening, "--fail-on", "warn"]);
    expect(strict.code).toBe(1);
    expect(strict.out).toContain("may break servers: TYPE_WIDENED /request/name: type string → null|string");
  });

  it("--format json, junit and github", async () => {
    const json = JSON.parse((await run([base, breaking, "--format", "json"])).out) as { summary: Record<string, unknown>; findings: Record<string, unknown>[] };
    expect(json.summary).toMatchObject({ clients: "error", servers: "safe", bump: "major", ok: false, failing: 1 });
    expect(json.findings).toMatchObject([{ rule: "FIELD_BECAME_REQUIRED", command: "frob", pointer: "/request/name", clients: "error", servers: "safe", acknowledged: false, failing: true }]);

    const junit = (await run([base, breaking, "--format", "junit"])).out;
    expect(junit).toMatch(/^<\?xml/);
    expect(junit).toContain('<testcase name="frob" classname="openflow-spec.diff">');
    expect(junit).toContain('<failure message="FIELD_BECAME_REQUIRED: field &quot;name&quot; is now required" type="FIELD_BECAME_REQUIRED">');
    expect((await run([base, base, "--format", "junit"])).out).toContain('tests="1" failures="0"');

    const github = (await run([base, breaking, "--format", "github"])).out.split("\n");
    expect(github[0]).toMatch(/^::error file=.*commands\/frob\.json,title=FIELD_BECAME_REQUIRED \(breaks clients\)::frob \/request\/name: field "name" is now required$/);
    expect((await run([base, widening, "--format", "github"])).out).toMatch(/^::warning file=.*,title=TYPE_WIDENED \(may break servers\)::/);
  });

  it("-o writes the report to a file", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "diff-out-")), "report.json");
    const r = await run([base, breaking, "--format", "json", "-o", file]);
    expect(r).toMatchObject({ code: 1, out: "" });
    expect(JSON.parse(readFileSync(file, "utf8")).findings).toHaveLength(1);
  });

  it("--accept writes the breaking changes to the acknowledged file; then they are reported but pass", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "diff-ack-")), "acknowledged.json");
    const accept = await run([base, breaking, "--acknowledged", file, "--accept"]);
    expect(accept.code).toBe(0);
    expect(accept.out).toContain("FIELD_BECAME_REQUIRED frob /request/name");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ acknowledged: [{ rule: "FIELD_BECAME_REQUIRED", command: "frob", pointer: "/request/name" }] });
    const after = await run([base, breaking, "--acknowledged", file]);
    expect(after.code).toBe(0);
    expect(after.out).toContain("breaks clients (acknowledged): FIELD_BECAME_REQUIRED");
  });

  it("exits 2 for usage errors and unreadable input, naming what and where", async () => {
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringContaining("needs a base") });
    expect(await run([base, "--fromat", "json"])).toMatchObject({ code: 2, err: expect.stringContaining("did you mean --format?") });
    expect(await run([base, "--format", "yaml"])).toMatchObject({ code: 2, err: expect.stringContaining("--format must be one of text, json, junit, github") });
    expect(await run([base, "--accept"])).toMatchObject({ code: 2, err: expect.stringContaining("--accept needs --acknowledged FILE") });
    expect(await run(["no-such-revision-xyz", base])).toMatchObject({ code: 2, err: expect.stringContaining("no-such-revision-xyz: neither a directory nor a git revision") });
    const bad = writeTree({ "commands/frob.json": "{ not json" });
    expect(await run([base, bad])).toMatchObject({ code: 2, err: expect.stringMatching(/commands\/frob\.json:1:3: invalid JSON/) });
    const dangling = writeTree({ "commands/frob.json": commandFile("frob", { request: { properties: { a: { $ref: "../defs/missing.json" } } } }) });
    expect(await run([base, dangling])).toMatchObject({ code: 2, err: expect.stringContaining('commands/frob.json#/$defs/request/properties/a: $ref "../defs/missing.json" points to nothing') });
    expect(await run([base, writeTree({ "x.json": {} })])).toMatchObject({ code: 2, err: expect.stringContaining("no commands/ folder") });
    const ack = writeTree({ "ack.json": { acknowledged: [{ rule: "NO_SUCH_RULE", command: "frob", pointer: "" }] } });
    expect(await run([base, breaking, "--acknowledged", join(ack, "ack.json")])).toMatchObject({ code: 2, err: expect.stringContaining('ack.json#/acknowledged/0/rule: unknown rule "NO_SUCH_RULE"') });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The repository's history

const git = (args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" });
const history = git(["rev-parse", "--is-shallow-repository"]);
const fullHistory = history.status === 0 && history.stdout.trim() === "false";

/** The first commit whose schemas/commands/ holds all 80 command files. */
function firstCommitWithAllCommands(): string | undefined {
  const commits = git(["rev-list", "--reverse", "HEAD", "--", "schemas/commands"]).stdout.split("\n").filter(Boolean);
  return commits.find((c) => git(["ls-tree", "--name-only", `${c}:schemas/commands`]).stdout.split("\n").filter((f) => f.endsWith(".json")).length >= 80);
}

describe.skipIf(!fullHistory)("openflow-spec diff on git revisions (needs the git history)", () => {
  it("the first commit with all 80 command files against today's schemas/ reads as a maintainer's report", async () => {
    const first = firstCommitWithAllCommands();
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    const r = await run([first!]);
    expect(r.err).toBe("");
    expect(r.code).toBe(1);
    const text = r.out;
    expect(text.split("\n")[0]).toBe(`openflow-spec diff: git:${first}:schemas → schemas`);
    // pushmetrics became fire-and-forget: a waiting client would hang
    expect(text).toContain("command pushmetrics\n  breaks clients and servers: REPLY_EXPECTED_CHANGED (command): replyExpected true → false");
    // updatefile needs metadata._acl (both servers read it unchecked)
    expect(text).toMatch(/command updatefile\n(  .*\n)*  breaks clients: FIELD_BECAME_REQUIRED \/request\/metadata\/_acl: field "_acl" is now required/);
    // OpenRPA nulls: many optional request fields accept null now, which servers may not expect
    expect(text).toMatch(/may break servers: TYPE_WIDENED \/request\/wiq: type string → null\|string/);
    // a shared definition is listed once with the places it reaches
    expect(text).toMatch(/shared definition defs\/rights\.json#\/oneOf\/1\n  .*CONSTRAINT_CHANGED: pattern/);
    expect(text).toMatch(/in \d+ places: .* and \d+ more/);
    expect(text).toContain("Suggested spec version bump: major.");
    expect(text).toMatch(/openflow-spec diff: FAILED \(\d+ unacknowledged changes at or above error: .*REPLY_EXPECTED_CHANGED/);
  });

  it("`openflow-spec diff HEAD~1` runs through the CLI entry point", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", "diff", "HEAD~1", "--format", "json"], { cwd: root, encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect([0, 1]).toContain(r.status);
    const json = JSON.parse(r.stdout) as { base: string; head: string; summary: { bump: string } };
    expect(json.base).toBe("git:HEAD~1:schemas");
    expect(json.head).toBe("schemas");
    expect(["major", "minor", "none"]).toContain(json.summary.bump);
  });
});
