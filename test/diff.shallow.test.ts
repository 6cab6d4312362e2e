/**
 * `openflow-spec diff <rev>` in a shallow clone, as CI checkouts are by default (`git clone --depth 1 file://…`):
 * with a remote, the missing history is fetched and the diff runs (`HEAD~1`, and `--against` a branch the
 * single-branch clone never had); without a remote, it exits 2 with a message that says to set `fetch-depth: 0`.
 * The built CLI (dist/) runs with the clone as its working directory.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../packages/build.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const CLI = join(ROOT, "dist", "cli", "main.js");
let work = "";
let origin = "";

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", ...args], { cwd, encoding: "utf8" }).trim();
}

function diff(cwd: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, "diff", ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function shallowClone(name: string): string {
  const dir = join(work, name);
  git(work, "clone", "--quiet", "--depth", "1", `file://${origin}`, dir);
  expect(git(dir, "rev-parse", "--is-shallow-repository")).toBe("true");
  return dir;
}

beforeAll(async () => {
  await ensureBuilt();
  work = mkdtempSync(join(tmpdir(), "openflow-spec-shallow-"));
  origin = join(work, "origin");
  // An origin with three commits on main and a branch `base` at the first: the spec's own schemas, a description
  // changed in each later commit (no wire change).
  cpSync(join(ROOT, "schemas"), join(origin, "schemas"), { recursive: true });
  git(origin, "init", "--quiet");
  git(origin, "add", ".");
  git(origin, "commit", "--quiet", "-m", "one");
  git(origin, "branch", "base");
  for (const n of [2, 3]) {
    const file = join(origin, "schemas", "commands", "query.json");
    const schema = JSON.parse(readFileSync(file, "utf8")) as { description?: string };
    schema.description = `${schema.description ?? ""} (edit ${n})`;
    writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
    git(origin, "commit", "--quiet", "-am", `edit ${n}`);
  }
}, 300_000);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("diff in a shallow clone", () => {
  it("fetches the missing history from the remote for HEAD~1", () => {
    const clone = shallowClone("with-remote");
    const r = diff(clone, "HEAD~1");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("No changes that affect the wire.");
    expect(git(clone, "rev-parse", "--is-shallow-repository")).toBe("false");
  }, 60_000);

  it("fetches a branch the single-branch clone never had for --against", () => {
    const clone = shallowClone("against-branch");
    expect(spawnSync("git", ["rev-parse", "--verify", "--quiet", "base"], { cwd: clone }).status).not.toBe(0);
    const r = diff(clone, "--against", "base");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(git(clone, "rev-parse", "origin/base")).toBe(git(origin, "rev-parse", "base"));
  }, 60_000);

  it("without a remote, exits 2 and says to set fetch-depth: 0", () => {
    const clone = shallowClone("no-remote");
    git(clone, "remote", "remove", "origin");
    const r = diff(clone, "HEAD~1");
    expect(r.code).toBe(2);
    expect(r.err).toContain("HEAD~1");
    expect(r.err).toContain("shallow");
    expect(r.err).toContain("fetch-depth: 0");
  }, 60_000);

  it("a revision that exists nowhere still names it, after fetching, with the hint", () => {
    const clone = shallowClone("unknown-rev");
    const r = diff(clone, "no-such-branch");
    expect(r.code).toBe(2);
    expect(r.err).toContain("no-such-branch: neither a directory nor a git revision");
    expect(r.err).toContain("fetch-depth: 0");
  }, 60_000);
});
