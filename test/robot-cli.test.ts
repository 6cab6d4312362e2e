/**
 * `openflow-spec robot`: the fake robot as a process (the built CLI, dist/): it signs in through the shared
 * connection layer, prints a ready line naming its queue, answers invokes from the workflows file, stops with exit 0
 * on SIGTERM and exits 1 when the server goes away; usage problems (no workflows file, a bad one, a wrong password)
 * exit 2 with a message naming the cause. Also the workflows file parser on its own.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { command } from "../cli/robot.js";
import { runCommand } from "../cli/command.js";
import { connect } from "../runtime/robots.js";
import { silentLogger } from "../runtime/logger.js";
import { parseWorkflows, parseWorkflowsText, WorkflowsFileError } from "../robot/index.js";
import { startServer, type RunningServer } from "../server/index.js";

const CLI = resolve(import.meta.dirname, "../dist/cli/main.js");
let dir = "";
let server: RunningServer;
const USERS = [
  { username: "admin", password: "pw-admin", roles: ["admins"] },
  { username: "robot1", password: "pw-robot", roles: ["robots"] },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "openflow-robot-cli-"));
  server = await startServer({ users: USERS, requeueDelayMs: 20, logger: { info() {}, warn() {}, error() {} } });
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCommand(command, argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

function workflowsFile(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

/** Spawn the built CLI; resolves once it printed its ready line. */
function spawnRobot(url: string, file: string) {
  const child = spawn(process.execPath, [CLI, "robot", url, "--user", "robot1:pw-robot", "--workflows", file], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => void (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
  const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`robot not ready: ${out} ${err}`)), 20_000);
    child.stdout.on("data", () => {
      if (out.includes("ready")) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`robot exited ${code}: ${out} ${err}`));
    });
  });
  return { child, ready, exited, out: () => out, err: () => err };
}

describe("openflow-spec robot", () => {
  it("answers invokes from the workflows file, prints what happens, and stops with exit 0 on SIGTERM", async () => {
    const file = workflowsFile("ok.json", { workflows: [{ id: "pay", output: { paid: true }, delayMs: 20 }, { id: "broken", outcome: "failed", message: "Element not found" }] });
    const robot = spawnRobot(server.url, file);
    try {
      await robot.ready;
      const queue = /consuming (\S+?)[, ]/.exec(robot.out())?.[1] as string;
      const caller = await connect(server.url, { credentials: { username: "admin", password: "pw-admin" }, logger: silentLogger });
      try {
        expect(queue).toMatch(/^[0-9a-f]{24}$/);
        expect(await caller.invokeRobot(queue, "pay", { invoice: "INV-9" })).toEqual({ invoice: "INV-9", paid: true });
        await expect(caller.invokeRobot(queue, "broken")).rejects.toMatchObject({ failure: "failed", code: "server" });
      } finally {
        caller.close();
      }
      expect(robot.out()).toMatch(/invoke pay \(correlation \S+\): started/);
      expect(robot.out()).toMatch(/pay \(correlation \S+\): completed/);
      expect(robot.out()).toMatch(/broken \(correlation \S+\): failed/);
    } finally {
      robot.child.kill("SIGTERM");
    }
    expect(await robot.exited).toBe(0);
    expect(robot.out()).toContain("SIGTERM: stopping");
  });

  it("exits 1 when the server closes the connection", async () => {
    const local = await startServer({ users: USERS, logger: { info() {}, warn() {}, error() {} } });
    const robot = spawnRobot(local.url, workflowsFile("one.json", { workflows: [{ id: "w" }] }));
    await robot.ready;
    await local.close();
    expect(await robot.exited).toBe(1);
    expect(robot.err()).toContain("the server closed the connection");
  });

  it("exits 2 for a missing or bad workflows file and for a refused sign-in, naming the cause", async () => {
    const missing = await run([server.url, "--user", "robot1:pw-robot"]);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining("needs --workflows FILE")]);
    const unreadable = await run([server.url, "--user", "robot1:pw-robot", "--workflows", join(dir, "nope.json")]);
    expect([unreadable.code, unreadable.err]).toEqual([2, expect.stringContaining("cannot read --workflows")]);
    const typo = await run([server.url, "--user", "robot1:pw-robot", "--workflows", workflowsFile("typo.json", { workflows: [{ id: "w", outcom: "failed" }] })]);
    expect([typo.code, typo.err]).toEqual([2, expect.stringContaining("/workflows/0/outcom: unknown key")]);
    const refused = await run([server.url, "--user", "robot1:wrong", "--workflows", workflowsFile("fine.json", { workflows: [] })]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/sign-in as robot1 refused/);
    expect(refused.err).not.toContain("wrong");
    const noUser = await run([server.url, "--workflows", workflowsFile("fine2.json", { workflows: [] })]);
    expect(noUser.code).toBe(2);
  });
});

describe("the workflows file", () => {
  it("reads the documented format and fills nothing in", () => {
    const file = parseWorkflowsText(JSON.stringify({ workflows: [{ id: "a", name: "A.xaml", outcome: "aborted", delayMs: 5, output: { x: 1 }, message: "m", idle: true, busy: 2 }, { id: "b", busy: true }], concurrency: 2, allowKill: false }));
    expect(file).toEqual({ workflows: [{ id: "a", name: "A.xaml", outcome: "aborted", delayMs: 5, output: { x: 1 }, message: "m", idle: true, busy: 2 }, { id: "b", busy: true }], concurrency: 2, allowKill: false });
  });

  it("names where a bad file is wrong", () => {
    const cases: [unknown, string][] = [
      [[], "(root)"],
      [{ workflow: [] }, "/workflow"],
      [{ workflows: [{}] }, "/workflows/0/id"],
      [{ workflows: [{ id: "a" }, { id: "a" }] }, "/workflows/1/id"],
      [{ workflows: [{ id: "a", outcome: "done" }] }, "/workflows/0/outcome"],
      [{ workflows: [{ id: "a", delayMs: -1 }] }, "/workflows/0/delayMs"],
      [{ workflows: [{ id: "a", busy: "yes" }] }, "/workflows/0/busy"],
      [{ workflows: [], concurrency: 0 }, "/concurrency"],
    ];
    for (const [value, where] of cases) {
      let error: unknown;
      try {
        parseWorkflows(value);
      } catch (err) {
        error = err;
      }
      expect(error, JSON.stringify(value)).toBeInstanceOf(WorkflowsFileError);
      expect((error as WorkflowsFileError).message.startsWith(`${where}: `), (error as Error).message).toBe(true);
    }
    expect(() => parseWorkflowsText("{not json")).toThrow(/not JSON/);
  });
});
