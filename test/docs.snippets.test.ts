/**
 * Every shell snippet of the README and docs/*.md runs: each `sh`/`bash`/`shell` block, and each `run:` of a
 * `yaml` block (workflow steps), in `bash --noprofile --norc -eo pipefail` (as GitHub Actions runs a step), in a
 * scratch project where the tools' commands are this checkout's build and the files the snippets name exist. The
 * ports 3000 and 3001 become free ones (loopback is shared). A snippet must exit 0 within its time and leave no
 * process behind (its process group is checked, then killed).
 *
 * The one rule for a snippet that cannot run so (published packages, apt, a remote URL, a real server, a command
 * that runs until Ctrl+C): the line `<!-- snippet: skip (the reason) -->` right before its block. docs/maintainers.md
 * documents it; a marker without a reason or without a block right after it fails here.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../packages/build.js";
import { ROOT } from "./fixtures/generator/helpers.js";
import { freePort } from "./ports.js";

export interface Snippet {
  file: string;
  line: number;
  lang: string;
  script: string;
  skip?: string;
}

const SKIP = /^<!--\s*snippet:\s*skip\s*(?:\((.*)\))?\s*-->$/;

/** The shell snippets of one Markdown text, with the skip marker's reason when the block has one. */
export function extractSnippets(file: string, text: string): { snippets: Snippet[]; problems: string[] } {
  const lines = text.split("\n");
  const snippets: Snippet[] = [];
  const problems: string[] = [];
  let pendingSkip: { reason: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = SKIP.exec(line.trim());
    if (marker) {
      if (pendingSkip) problems.push(`${file}:${pendingSkip.line}: snippet marker without a block right after it`);
      const reason = (marker[1] ?? "").trim();
      if (reason === "") problems.push(`${file}:${i + 1}: snippet skip marker without a reason`);
      pendingSkip = { reason, line: i + 1 };
      continue;
    }
    const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (!fence) {
      if (pendingSkip && line.trim() !== "") {
        problems.push(`${file}:${pendingSkip.line}: snippet marker without a block right after it`);
        pendingSkip = undefined;
      }
      continue;
    }
    const indent = fence[1]!.length;
    const close = fence[2]!;
    const lang = fence[3]!.toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.trim().startsWith(close); j++) body.push(lines[j]!.slice(indent));
    const skip = pendingSkip?.reason;
    pendingSkip = undefined;
    const where = { file, line: i + 1 };
    if (["sh", "bash", "shell"].includes(lang)) snippets.push({ ...where, lang, script: body.join("\n"), ...(skip !== undefined ? { skip } : {}) });
    else if (lang === "yaml" || lang === "yml") {
      for (const run of workflowRuns(body.join("\n"), `${file}:${i + 1}`, problems)) snippets.push({ ...where, lang: "yaml run", script: run, ...(skip !== undefined ? { skip } : {}) });
    } else if (skip !== undefined) problems.push(`${file}:${i + 1}: snippet skip marker before a ${lang || "plain"} block, which is never run`);
    i = j;
  }
  if (pendingSkip) problems.push(`${file}:${pendingSkip.line}: snippet marker without a block right after it`);
  return { snippets, problems };
}

/** The `run:` scripts of a YAML snippet: a list of steps, or a workflow with jobs.*.steps. */
function workflowRuns(text: string, where: string, problems: string[]): string[] {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (err) {
    problems.push(`${where}: YAML does not parse: ${(err as Error).message.split("\n")[0]}`);
    return [];
  }
  const steps: unknown[] = [];
  if (Array.isArray(doc)) steps.push(...doc);
  else if (doc !== null && typeof doc === "object" && "jobs" in doc) {
    for (const job of Object.values((doc as { jobs: Record<string, { steps?: unknown[] }> }).jobs)) steps.push(...(job.steps ?? []));
  }
  return steps.flatMap((step) => (step !== null && typeof step === "object" && typeof (step as { run?: unknown }).run === "string" ? [(step as { run: string }).run] : []));
}

const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)].sort();
const extracted = DOCS.map((file) => extractSnippets(file, readFileSync(join(ROOT, file), "utf8")));
const snippets = extracted.flatMap((e) => e.snippets);
const runnable = snippets.filter((s) => s.skip === undefined);

let sandboxRoot = "";


function git(cwd: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.name=docs", "-c", "user.email=docs@example.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, stdio: "ignore" });
}

const capture = (id: string): string =>
  [
    { dir: "c2s", frame: { id, command: "query", data: JSON.stringify({ collectionname: "entities", query: {}, top: 1 }) } },
    { dir: "s2c", frame: { id: `${id}r`, replyto: id, command: "query", data: JSON.stringify({ result: [] }) } },
  ]
    .map((l) => JSON.stringify(l))
    .join("\n") + "\n";

/** A fresh scratch project with everything the snippets name. */
function sandbox(name: string): string {
  const dir = join(sandboxRoot, name);
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  // The tools as an installed devDependency would give them: both command names, and the package's schemas.
  // (A wrapper that execs node, so the bin's pid is the command's, as npm's link to the file with its shebang is;
  // the build output has no execute bit for a symlink to use.)
  for (const bin of ["openflow-spec", "openflow-spec-tools"]) {
    writeFileSync(join(dir, "node_modules", ".bin", bin), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, "dist", "cli", "main.js"))} "$@"\n`, { mode: 0o755 });
  }
  mkdirSync(join(dir, "node_modules", "openflow-spec-tools"));
  // A copy, never a link: a snippet that copies it and adds a file must not write into this checkout.
  cpSync(join(ROOT, "schemas"), join(dir, "node_modules", "openflow-spec-tools", "schemas"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "openflow-spec-tools", "package.json"), JSON.stringify({ name: "openflow-spec-tools", version: "0.0.0", type: "module" }));
  const users = [{ username: "ci", password: "ci-password", roles: ["admins"] }];
  writeFileSync(join(dir, "users.json"), JSON.stringify(users));
  writeFileSync(join(dir, "ci-users.json"), JSON.stringify(users));
  // `npm test` of the app: sign in through OPENFLOW_URL with this checkout's client, insert and query.
  writeFileSync(
    join(dir, "app-test.mjs"),
    [
      `import { connect } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist", "runtime", "index.js")).href)};`,
      `const client = await connect(process.env.OPENFLOW_URL, { username: "ci", password: "ci-password", logLevel: "error" });`,
      `await client.insertOne({ collectionname: "entities", item: { _type: "note", name: "n" } });`,
      `const found = await client.query({ collectionname: "entities", query: { _type: "note" }, top: 5 });`,
      `if ((found.result ?? []).length !== 1) throw new Error("expected one note");`,
      `client.close();`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "snippet-sandbox", private: true, type: "module", scripts: { test: "node app-test.mjs" } }, null, 2));
  for (const captures of ["captures", join("test", "captures")]) {
    mkdirSync(join(dir, captures), { recursive: true });
    writeFileSync(join(dir, captures, "session.ndjson"), capture("1"));
  }
  writeFileSync(join(dir, "session.ndjson"), capture("2"));
  writeFileSync(join(dir, "traffic"), capture("3"));
  writeFileSync(join(dir, "frame.json"), JSON.stringify({ id: "4", command: "ping", data: "null" }));
  writeFileSync(join(dir, "payload.json"), JSON.stringify({ collectionname: "entities", query: {}, top: 1 }));
  // A command of a server's own, as a maintainer would write one: query's schema under a new name.
  const query = JSON.parse(readFileSync(join(ROOT, "schemas", "commands", "query.json"), "utf8")) as Record<string, unknown> & { "x-openflow": Record<string, unknown> };
  const frob = JSON.parse(JSON.stringify(query).replaceAll("commands/query.json", "commands/frobnicate.json")) as typeof query;
  frob["title"] = "frobnicate";
  frob["x-openflow"]["command"] = "frobnicate";
  frob["x-openflow"]["replyCommand"] = "frobnicate";
  const defs = frob["$defs"] as Record<string, { title?: string }>;
  defs["request"]!.title = "FrobnicateRequest";
  defs["reply"]!.title = "FrobnicateReply";
  writeFileSync(join(dir, "frobnicate.json"), JSON.stringify(frob, null, 2));
  // A git history for `diff`: the spec's schemas on main, six commits deep (HEAD~5 exists), no wire change.
  cpSync(join(ROOT, "schemas"), join(dir, "schemas"), { recursive: true });
  writeFileSync(join(dir, ".gitignore"), "node_modules/\n");
  git(dir, "init", "--quiet");
  git(dir, "add", ".");
  git(dir, "commit", "--quiet", "-m", "schemas");
  for (let n = 1; n <= 5; n++) git(dir, "commit", "--quiet", "--allow-empty", "-m", `commit ${n}`);
  return dir;
}

interface Outcome {
  code: number | null;
  output: string;
  leftover: boolean;
}

/** Runs a script in its own process group; kills the group afterwards and reports whether anything was left. */
async function runScript(script: string, cwd: string, timeoutMs: number): Promise<Outcome> {
  const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "true", npm_config_update_notifier: "false" },
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const pgid = child.pid!;
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      output += `\n(timed out after ${timeoutMs} ms)`;
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  let leftover = false;
  try {
    process.kill(-pgid, 0);
    leftover = true;
    process.kill(-pgid, "SIGKILL");
  } catch {
    leftover = false;
  }
  return { code, output, leftover };
}

beforeAll(async () => {
  await ensureBuilt();
  sandboxRoot = mkdtempSync(join(tmpdir(), "openflow-spec-snippets-"));
}, 300_000);

afterAll(() => {
  if (sandboxRoot !== "") rmSync(sandboxRoot, { recursive: true, force: true });
});

describe("shell snippets of the README and docs/*.md", () => {
  it("finds the snippets; every skip marker has a reason and a block", () => {
    expect(extracted.flatMap((e) => e.problems)).toEqual([]);
    expect(runnable.length).toBeGreaterThanOrEqual(5);
    expect(runnable.some((s) => s.script.includes("proxy --listen"))).toBe(true);
  });

  it("the marker rule: a reason is required and a block must follow", () => {
    const bad = extractSnippets("x.md", "<!-- snippet: skip -->\n```sh\nfalse\n```\n<!-- snippet: skip (why) -->\n\ntext\n");
    expect(bad.problems).toEqual(["x.md:1: snippet skip marker without a reason", "x.md:5: snippet marker without a block right after it"]);
    const ok = extractSnippets("y.md", "<!-- snippet: skip (needs apt) -->\n```sh\napt-get install x\n```\n```yaml\n- run: echo hi\n- uses: a/b@v1\n```\n");
    expect(ok.problems).toEqual([]);
    expect(ok.snippets.map((s) => [s.script.trim(), s.skip])).toEqual([
      ["apt-get install x", "needs apt"],
      ["echo hi", undefined],
    ]);
  });

  for (const snippet of runnable) {
    it(`${snippet.file}:${snippet.line} (${snippet.lang}) exits 0 and leaves nothing running`, async () => {
      const dir = sandbox(`${snippet.file.replace(/\W/g, "_")}-${snippet.line}-${snippets.indexOf(snippet)}`);
      const [a, b] = [await freePort(), await freePort()];
      const script = snippet.script.replace(/\b3000\b/g, String(a)).replace(/\b3001\b/g, String(b));
      const outcome = await runScript(script, dir, 90_000);
      expect(outcome.code, outcome.output).toBe(0);
      expect(outcome.leftover, `${snippet.file}:${snippet.line} left a process running:\n${outcome.output}`).toBe(false);
      if (snippet.script.includes("proxy --listen")) {
        // The loop stopped the proxy itself: its summary is in the log and the capture holds the app's traffic.
        expect(readFileSync(join(dir, "proxy.log"), "utf8")).toMatch(/^openflow-spec proxy: 1 connection, [1-9]\d* frames?, .*: OK$/m);
        expect(existsSync(join(dir, "capture.ndjson"))).toBe(true);
        expect(readFileSync(join(dir, "capture.ndjson"), "utf8")).toContain('"command":"signin"');
      }
    }, 120_000);
  }
});
