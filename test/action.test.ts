/**
 * The GitHub Action (action.yml, composite) run locally, step by step, as the runner would: each step's `run`
 * script in `bash --noprofile --norc -eo pipefail`, its `env` (every `${{ inputs.NAME }}` is given as the
 * `INPUT_NAME` variable of the test, the names GitHub uses for action inputs), `working-directory`, the `if:`
 * conditions the action uses, `GITHUB_ACTION_PATH` (this repository) and the `GITHUB_ENV` / `GITHUB_PATH` files
 * carried to the next steps. The install step builds and installs the tools from this checkout (the default, as
 * long as the packages are not on npm); then `validate`, `diff` and `fuzz` run from them with their exit codes.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./fixtures/generator/helpers.js";

interface Step {
  name: string;
  shell: string;
  run: string;
  if?: string;
  env?: Record<string, string>;
  "working-directory"?: string;
}
interface Action {
  inputs: Record<string, { default?: string; required?: boolean }>;
  runs: { using: string; steps: Step[] };
}

const action = load(readFileSync(join(ROOT, "action.yml"), "utf8")) as Action;
const inputVar = (name: string): string => `INPUT_${name.toUpperCase().replace(/-/g, "_")}`;
const INPUT_EXPR = /^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$/;

let runner = "";

/** Runs the action's steps with these inputs (the action's defaults for the rest); returns the last step's result. */
function runAction(inputs: Record<string, string>): { code: number | null; out: string; err: string; ran: string[] } {
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) values[name] = inputs[name] ?? spec.default ?? "";
  const githubEnv = join(runner, `env-${Date.now()}`);
  const githubPath = join(runner, `path-${Date.now()}`);
  writeFileSync(githubEnv, "");
  writeFileSync(githubPath, "");
  const carried: Record<string, string> = {};
  const ran: string[] = [];
  let last = { code: 0 as number | null, out: "", err: "" };
  for (const step of action.runs.steps) {
    if (step.if !== undefined) {
      const m = /^inputs\.([\w-]+) != ''$/.exec(step.if);
      if (!m) throw new Error(`action.yml: this test does not evaluate if: ${step.if}`);
      if ((values[m[1]!] ?? "") === "") continue;
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...carried, GITHUB_ACTION_PATH: ROOT, GITHUB_ENV: githubEnv, GITHUB_PATH: githubPath, RUNNER_TEMP: runner };
    for (const [key, expr] of Object.entries(step.env ?? {})) {
      const m = INPUT_EXPR.exec(expr);
      if (!m || key !== inputVar(m[1]!)) throw new Error(`action.yml: env ${key}: ${expr} should be \${{ inputs.NAME }} as INPUT_NAME`);
      env[key] = values[m[1]!] ?? "";
    }
    const extraPath = readFileSync(githubPath, "utf8").split("\n").filter((l) => l !== "");
    env["PATH"] = [...extraPath.reverse(), process.env["PATH"] ?? ""].join(delimiter);
    let cwd = runner;
    const wd = step["working-directory"];
    if (wd !== undefined) {
      const m = INPUT_EXPR.exec(wd);
      cwd = resolve(runner, m ? (values[m[1]!] ?? ".") : wd);
    }
    expect(step.shell).toBe("bash");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], { cwd, env, encoding: "utf8", timeout: 240_000 });
    ran.push(step.name);
    last = { code: r.status, out: r.stdout, err: r.stderr };
    for (const line of readFileSync(githubEnv, "utf8").split("\n")) {
      const at = line.indexOf("=");
      if (at > 0) carried[line.slice(0, at)] = line.slice(at + 1);
    }
    if (r.status !== 0) break;
  }
  return { ...last, ran };
}

const frame = (id: string, command: string, data: unknown, replyto?: string): string =>
  JSON.stringify({ dir: replyto === undefined ? "c2s" : "s2c", frame: { id, ...(replyto === undefined ? {} : { replyto }), command, data: JSON.stringify(data) } });

beforeAll(() => {
  runner = mkdtempSync(join(tmpdir(), "openflow-spec-action-"));
  mkdirSync(join(runner, "project", "captures"), { recursive: true });
  writeFileSync(join(runner, "project", "captures", "clean.ndjson"), [frame("1", "query", { collectionname: "entities", query: {} }), frame("2", "query", { result: [] }, "1")].join("\n") + "\n");
  mkdirSync(join(runner, "project", "bad"), { recursive: true });
  writeFileSync(join(runner, "project", "bad", "typo.ndjson"), frame("1", "query", { collectionname: "entities", query: {}, tpo: 1 }) + "\n");
  // Two spec versions as directories: the second makes a request field required (breaks clients).
  cpSync(join(ROOT, "schemas"), join(runner, "project", "old"), { recursive: true });
  cpSync(join(ROOT, "schemas"), join(runner, "project", "new"), { recursive: true });
  const file = join(runner, "project", "new", "commands", "query.json");
  const schema = JSON.parse(readFileSync(file, "utf8")) as { $defs: { request: { required?: string[] } } };
  schema.$defs.request.required = [...(schema.$defs.request.required ?? []), "top"];
  writeFileSync(file, JSON.stringify(schema, null, 2));
});

afterAll(() => {
  if (runner !== "") rmSync(runner, { recursive: true, force: true });
});

describe("action.yml run locally with INPUT_* variables", () => {
  it("is a composite action whose inputs are the ones the steps read", () => {
    expect(action.runs.using).toBe("composite");
    expect(Object.keys(action.inputs).sort()).toEqual(["args", "command", "tools-version", "working-directory"]);
  });

  it("installs the tools from this checkout, then validate --format github passes on clean traffic", () => {
    const r = runAction({ command: "validate", args: "--format github captures/", "working-directory": "project" });
    expect(r.ran).toEqual(["Install openflow-spec-tools", "Run openflow-spec-tools ${{ inputs.command }}"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  }, 300_000);

  it("validate fails the step on findings, with annotations; quoted args stay one argument", () => {
    writeFileSync(join(runner, "project", "bad", "with space.ndjson"), frame("1", "query", { collectionname: "entities", query: {}, tpo: 1 }) + "\n");
    const r = runAction({ command: "validate", args: "--strict --no-pairing --format github 'bad/with space.ndjson'", "working-directory": "project" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^::(error|warning) file=bad\/with space\.ndjson/m);
    expect(r.out).toContain("unknown-request-field");
  }, 300_000);

  it("diff: exit 1 and an annotation for a breaking change, exit 0 for none", () => {
    const breaking = runAction({ command: "diff", args: "old new --format github", "working-directory": "project" });
    expect(breaking.code).toBe(1);
    expect(breaking.out).toContain("FIELD_BECAME_REQUIRED");
    expect(breaking.out).toMatch(/^::error /m);
    expect(runAction({ command: "diff", args: "old old", "working-directory": "project" }).code).toBe(0);
  }, 300_000);

  it("fuzz: the installed tools fuzz a server (serve in its own process) and pass with exit 0", async () => {
    writeFileSync(join(runner, "users.json"), JSON.stringify([{ username: "fuzz1", password: "fuzz1-pw" }, { username: "fuzz2", password: "fuzz2-pw" }]));
    const serve = spawn(process.execPath, [join(ROOT, "dist", "cli", "main.js"), "serve", "--port", "0", "--users", join(runner, "users.json")], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
        serve.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on (ws:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolveUrl(m[1] as string);
          }
        });
      });
      const r = runAction({ command: "fuzz", args: `${url} --user fuzz1:fuzz1-pw --user fuzz2:fuzz2-pw --seed 7 --requests 150 --duration 60 --format github`, "working-directory": "project" });
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toMatch(/seed 7/);
    } finally {
      serve.kill();
    }
  }, 300_000);

  it("refuses another verb with exit 2, and with no command only installs the tools", () => {
    const wrong = runAction({ command: "serve" });
    expect(wrong.code).toBe(2);
    expect(wrong.out).toContain("command must be validate, diff or fuzz");
    const install = runAction({});
    expect(install.ran).toEqual(["Install openflow-spec-tools"]);
    expect(install.code).toBe(0);
    expect(install.out.trim().split("\n").at(-1)).toMatch(/^\d+\.\d+\.\d+/);
  }, 300_000);
});
