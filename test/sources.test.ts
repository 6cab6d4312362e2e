/**
 * `openflow-spec sources verify|drift` against small git repositories built here (git init, two commits), and a
 * schemas directory whose meta-schema pins server-latest to the first of them.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../cli/sources.js";
import { PINS, pinsFromMetaSchema } from "../sources/labels.js";
import { quotedIn, quotePattern } from "../sources/quote.js";
import { hunkTouches, mapLine } from "../sources/drift.js";
import { parseHunks } from "../sources/git.js";

const ROOT = resolve(import.meta.dirname, "..");
const LATEST = PINS["server-latest"].commit;

const V1 = `export class Message {
  async GetFile(msg: any) {
    if (!msg.id && !msg.filename) throw new Error("id or filename is mandatory");
    const file = await find(msg.id);
    if (!file) throw new Error("File " + msg.id + " not found");
    return file;
  }
}
`;
// Two lines added on top (everything moves down by two), and the not-found text reworded.
const V2 = `// moved
// down
${V1.replace('"File " + msg.id + " not found"', '`No file ${msg.id}`')}`;

let work: string;
let repo: string;
let c1: string;
let c2: string;

const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();

function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  return main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }).then((code) => ({ code, out, err }));
}

const url = (commit: string, path: string, range: string): string => `https://github.com/open-rpa/openflow/blob/${commit}/${path}#${range}`;

/** A schemas directory with one command file (plain JSON, the tool does not need a valid command) and the meta-schema pinned to `pin`. */
function schemas(name: string, xOpenflow: Record<string, unknown>, pin: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, "commands"), { recursive: true });
  mkdirSync(join(dir, "meta"), { recursive: true });
  writeFileSync(join(dir, "meta", "command.schema.json"), readFileSync(join(ROOT, "schemas/meta/command.schema.json"), "utf8").replaceAll(LATEST, pin));
  writeFileSync(join(dir, "commands", "getfile.json"), JSON.stringify({ title: "getfile", "x-openflow": xOpenflow }, null, 2));
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sources-test-"));
  repo = join(work, "openflow");
  mkdirSync(join(repo, "src"), { recursive: true });
  git(repo, "init", "-q");
  writeFileSync(join(repo, "src", "Message.ts"), V1);
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "one");
  c1 = git(repo, "rev-parse", "HEAD");
  writeFileSync(join(repo, "src", "Message.ts"), V2);
  git(repo, "commit", "-q", "-am", "two");
  c2 = git(repo, "rev-parse", "HEAD");
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const good = (): Record<string, unknown> => ({
  sources: { "server-latest": [{ url: url(c1, "src/Message.ts", "L2-L7"), what: "handler `GetFile`" }] },
  errors: [
    { text: "id or filename is mandatory", sources: [{ url: url(c1, "src/Message.ts", "L3"), what: "check", symbol: "msg.filename" }] },
    { text: "File <id> not found", sources: [{ url: url(c1, "src/Message.ts", "L4-L5"), what: "lookup", symbol: "find(" }] },
  ],
  notes: [{ text: "`id` is looked up first.", sources: [{ url: url(c1, "src/Message.ts", "L2-L4"), what: "handler", symbol: "GetFile" }] }],
});

describe("sources verify", () => {
  it("exits 0 when every link resolves, in a clone and in a bare copy of it", async () => {
    const dir = schemas("clean", good(), c1);
    const r = await run(["verify", "--schemas", dir, "--checkout", `server-latest=${repo}`]);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/4 links, 4 read in 1 checkout, 0 problems/);
    expect(r.code).toBe(0);

    const bare = join(work, "openflow.git");
    execFileSync("git", ["clone", "-q", "--bare", repo, bare]);
    expect((await run(["verify", "--schemas", dir, "--checkout", `server-latest=${bare}`])).code).toBe(0);
  });

  it("reports every problem of a run: a missing symbol, an unquoted error, a range past the end, a missing file, an unpinned commit, a commit the checkout lacks", async () => {
    const x = good();
    const errors = x["errors"] as Array<{ text: string; sources: Array<Record<string, string>> }>;
    (errors[0] as { text: string }).text = "filename is required"; // not what the code says
    ((errors[1] as { sources: Array<Record<string, string>> }).sources[0] as Record<string, string>)["symbol"] = "findOne(";
    const notes = x["notes"] as Array<{ sources: Array<Record<string, string>> }>;
    notes[0]?.sources.push({ url: url(c1, "src/Message.ts", "L8-L40"), what: "past the end" }, { url: url(c1, "src/Nope.ts", "L1"), what: "no such file" });
    (x["sources"] as Record<string, unknown>)["server-2021"] = [{ url: url("0".repeat(40), "src/Message.ts", "L1"), what: "unpinned commit" }];
    const dir = schemas("broken", x, c1);
    const r = await run(["verify", "--schemas", dir, "--checkout", `server-latest=${repo}`]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/errors\/0\/sources\/0: error text "filename is required" does not appear in src\/Message.ts L3-L3/);
    expect(r.out).toMatch(/errors\/1\/sources\/0: symbol "findOne\(" is not in src\/Message.ts L4-L5/);
    expect(r.out).toMatch(/notes\/0\/sources\/1: range L8-L40 lies outside src\/Message.ts \(8 lines\)/);
    expect(r.out).toMatch(/notes\/0\/sources\/2: src\/Nope.ts does not exist/);
    expect(r.out).toMatch(/server-2021\/0: open-rpa\/openflow at 0{40} is not the commit of any implementation label/);
    expect(r.out).toMatch(/5 problems/);

    // The right repository, but a checkout that does not have the pinned commit (c2's parent is c1; a fresh repo has neither).
    const other = join(work, "other");
    mkdirSync(other);
    git(other, "init", "-q");
    writeFileSync(join(other, "x"), "x\n");
    git(other, "add", ".");
    git(other, "commit", "-q", "-m", "x");
    const lacking = await run(["verify", "--schemas", schemas("clean2", good(), c1), "--checkout", `server-latest=${other}`]);
    expect(lacking.code).toBe(1);
    expect(lacking.out).toMatch(/is not in the server-latest checkout/);
  });

  it("refuses bad usage with exit 2", async () => {
    const dir = schemas("usage", good(), c1);
    expect((await run(["verify", "--schemas", dir])).code).toBe(2);
    const badLabel = await run(["verify", "--schemas", dir, "--checkout", `server-lastest=${repo}`]);
    expect(badLabel.code).toBe(2);
    expect(badLabel.err).toMatch(/label must be one of/);
    expect((await run(["verify", "--schemas", dir, "--checkout", `server-latest=${join(work, "nowhere")}`])).code).toBe(2);
    expect((await run(["verify", "--schemas", dir, "--checkout", `server-latest=${join(dir, "meta")}`])).err).toMatch(/not a git repository/);
    expect((await run(["frobnicate", "--schemas", dir, "--checkout", `server-latest=${repo}`])).code).toBe(2);
    expect((await run(["drift", "--schemas", dir, "--checkout", `server-latest=${repo}`])).err).toMatch(/needs --to/);
    expect((await run(["drift", "--schemas", dir, "--checkout", `server-latest=${repo}`, "--to", "no-such-branch"])).code).toBe(2);
  });
});

describe("sources drift", () => {
  it("lists the claims whose cited lines changed, with where they are now; moved but unchanged lines are not listed", async () => {
    const dir = schemas("drift", good(), c1);
    const r = await run(["drift", "--schemas", dir, "--checkout", `server-latest=${repo}`, "--to", c2, "--format", "json"]);
    expect(r.code).toBe(1);
    const entries = JSON.parse(r.out) as Array<{ pointer: string; change: string; now?: { start: number; end: number } }>;
    // Changed: the handler range L2-L7 (contains line 5) and the not-found error (L4-L5). Not: L3 and the note L2-L4.
    expect(entries.map((e) => e.pointer).sort()).toEqual(["/x-openflow/errors/1/sources/0", "/x-openflow/sources/server-latest/0"]);
    expect(entries.find((e) => e.pointer.startsWith("/x-openflow/errors"))?.now).toEqual({ start: 6, end: 7 });

    const same = await run(["drift", "--schemas", dir, "--checkout", `server-latest=${repo}`, "--to", c1]);
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/0 links to re-read/);
  });

  it("lists a claim whose file is gone", async () => {
    const gone = join(work, "gone");
    execFileSync("git", ["clone", "-q", repo, gone]);
    git(gone, "rm", "-q", "src/Message.ts");
    git(gone, "commit", "-q", "-m", "moved away");
    const r = await run(["drift", "--schemas", schemas("gone", good(), c1), "--checkout", `server-latest=${gone}`, "--to", "HEAD"]);
    expect(r.code).toBe(1);
    expect(r.out.match(/the file is gone/g)?.length).toBe(4);
  });

  it("follows a renamed file: lines moved intact are listed as moved, with their new path", async () => {
    const moved = join(work, "moved");
    execFileSync("git", ["clone", "-q", repo, moved]);
    git(moved, "checkout", "-q", c1);
    git(moved, "checkout", "-q", "-b", "rename");
    mkdirSync(join(moved, "lib"));
    git(moved, "mv", "src/Message.ts", "lib/Message.ts");
    git(moved, "commit", "-q", "-m", "rename");
    const r = await run(["drift", "--schemas", schemas("moved", good(), c1), "--checkout", `server-latest=${moved}`, "--to", "HEAD", "--format", "json"]);
    expect(r.code).toBe(1);
    const entries = JSON.parse(r.out) as Array<{ path?: string; change: string; now?: { start: number } }>;
    expect(entries).toHaveLength(4);
    for (const e of entries) expect(e).toMatchObject({ change: "changed", path: "lib/Message.ts" });
  });

  it("reads the hunk arithmetic right: insertions between cited lines count, changes outside do not", () => {
    const hunks = parseHunks("@@ -0,0 +1,2 @@\n+a\n+b\n@@ -10 +12,3 @@\n-x\n+y\n+z\n+w\n@@ -20,2 +24,0 @@\n-q\n-r\n");
    expect(hunks).toEqual([
      { oldStart: 0, oldCount: 0, newStart: 1, newCount: 2 },
      { oldStart: 10, oldCount: 1, newStart: 12, newCount: 3 },
      { oldStart: 20, oldCount: 2, newStart: 24, newCount: 0 },
    ]);
    expect(hunks.map((h) => hunkTouches(h, 1, 9))).toEqual([false, false, false]);
    expect(hunks.map((h) => hunkTouches(h, 10, 10))).toEqual([false, true, false]);
    expect(hunkTouches({ oldStart: 5, oldCount: 0, newStart: 6, newCount: 1 }, 3, 8)).toBe(true);
    expect(hunkTouches({ oldStart: 8, oldCount: 0, newStart: 9, newCount: 1 }, 3, 8)).toBe(false);
    expect(mapLine(hunks, 5)).toBe(7);
    expect(mapLine(hunks, 15)).toBe(19);
    expect(mapLine(hunks, 30)).toBe(32);
  });
});

describe("error texts and placeholders", () => {
  it("matches literals verbatim and <name> placeholders as any text on the line", () => {
    expect(quotedIn("File <id> not found", `throw new Error("File " + msg.id + " not found");`)).toBe(true);
    expect(quotedIn("File <id> not found", "throw new Error(`File ${id} not found`);")).toBe(true);
    expect(quotedIn("File <id> missing", `throw new Error("File " + msg.id + " not found");`)).toBe(false);
    expect(quotedIn("Access denied, (not in \"<customer> admins\")", `throw new Error("Access denied, (not in \\"" + c.name + " admins\\")");`)).toBe(true);
    expect(quotedIn("a <x>\nb", `"a " + x + "\\nb"`)).toBe(true);
    expect(quotePattern("Unknown <id|filename> (<n>)").source).toBe("(?<=[\"'`])Unknown [^\\n]*? \\([^\\n]*?\\)(?=[\"'`])");
    // A whole literal: a shorter text is not found inside a longer one.
    expect(quotedIn("Access denied", `throw new Error("Access denied creating customer");`)).toBe(false);
    expect(quotedIn("Access denied", `throw new Error("Access denied");`)).toBe(true);
    expect(quotedIn("Access denied, droppping collection <name>", `throw new Error("Access denied, droppping collection " + name);`)).toBe(true);
  });

  it("finds a V8 TypeError text by the property it names", () => {
    expect(quotedIn("Cannot read properties of undefined (reading '_parentid')", "const p = user._parentid;")).toBe(true);
    expect(quotedIn("Cannot read properties of undefined (reading '_parentid')", "const p = user.parent;")).toBe(false);
    expect(quotedIn("Cannot create property 'jwt' on string '<payload>'", "msg.jwt = undefined;")).toBe(true);
    expect(quotedIn("Cannot convert undefined or null to object", "delete msg.customer.domains;")).toBe(true);
    expect(quotedIn("Cannot convert undefined or null to object", "msg.customer.domains = [];")).toBe(false);
  });

  it("this repository's links all have the right form offline: a label's pinned commit, a line range, filed under their label", async () => {
    const { collectCitations } = await import("../sources/links.js");
    const { verifyCitations } = await import("../sources/verify.js");
    const { pins, citations } = await collectCitations(join(ROOT, "schemas"));
    const claims = citations.filter((c) => c.kind !== "implementation");
    expect(claims.length).toBeGreaterThan(500);
    const result = await verifyCitations(citations, new Map(), pins);
    expect(result.problems).toEqual([]);
    expect(result.checked).toBe(0);
  });

  it("reads the pins from the meta-schema; this repository's agree with sources/labels.ts", () => {
    expect(pinsFromMetaSchema(JSON.parse(readFileSync(join(ROOT, "schemas/meta/command.schema.json"), "utf8")))).toEqual(PINS);
  });
});
