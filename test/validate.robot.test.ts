/**
 * `validate` on robot commands inside queuemessage data (validator/robot.ts): a real invocation, recorded from the
 * local server while the caller invokes the fake robot, validates clean on both connections; mutations of it are
 * flagged (robot-unknown-command, robot-missing-field, robot-payload-invalid, robot-out-of-order); an application
 * payload with its own `command` field is not judged; a busy robot's redeliveries are in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../runtime/robots.js";
import { silentLogger } from "../runtime/logger.js";
import { startRobot } from "../robot/index.js";
import { startServer, type RunningServer } from "../server/index.js";
import { CaptureValidator } from "../validator/capture.js";
import type { Finding } from "../validator/findings.js";

type Line = { dir: "c2s" | "s2c"; frame: Record<string, unknown> };

let server: RunningServer;
/** Frames per connection id, as the server saw them. */
const byConnection = new Map<string, Line[]>();

beforeAll(async () => {
  server = await startServer({
    users: [
      { username: "admin", password: "pw-admin", roles: ["admins"] },
      { username: "robot1", password: "pw-robot", roles: ["robots"] },
    ],
    requeueDelayMs: 20,
    logger: silentLogger,
    onFrame: (direction, text, conn) => {
      const list = byConnection.get(conn) ?? [];
      byConnection.set(conn, list);
      list.push({ dir: direction === "in" ? "c2s" : "s2c", frame: JSON.parse(text) as Record<string, unknown> });
    },
  });
  const robot = await startRobot({
    url: server.url,
    credentials: { username: "robot1", password: "pw-robot" },
    workflows: { workflows: [{ id: "pay", delayMs: 30, output: { paid: true } }, { id: "busy-once", busy: 1 }] },
  });
  const caller = await connect(server.url, { credentials: { username: "admin", password: "pw-admin" }, logger: silentLogger });
  const app = await caller.consumeQueue("orders", (d) => ({ command: "shipped", order: (d.data as { order: number }).order }));
  await caller.invokeRobot(robot.queuename, "pay", { invoice: "INV-1" });
  await caller.invokeRobot(robot.queuename, "busy-once", {});
  // An application's own message with a `command` field, request and answer, on an ordinary queue.
  expect(await caller.rpc("orders", { command: "ship", order: 42 })).toEqual({ command: "shipped", order: 42 });
  await app.close();
  await robot.close();
  caller.close();
  await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  await server?.close();
});

function validate(lines: readonly Line[]): Finding[] {
  const v = new CaptureValidator({ file: "capture" });
  lines.forEach((l, i) => v.push({ dir: l.dir, frame: l.frame }, { line: i + 1 }));
  return v.finish();
}

/** The frames of the connection that published the invoke (the caller) and of the one that received it (the robot). */
function capture(role: "caller" | "robot"): Line[] {
  for (const lines of byConnection.values()) {
    const hasInvoke = lines.some((l) => l.frame["command"] === "queuemessage" && l.dir === (role === "caller" ? "c2s" : "s2c") && String(l.frame["data"]).includes('"command":"invoke"'));
    if (hasInvoke) return lines;
  }
  throw new Error(`no ${role} connection in the recording`);
}

/** The robot command in a queuemessage frame's data (not a reply), with the frame's index. */
function robotFrames(lines: readonly Line[]): { index: number; body: Record<string, unknown> }[] {
  const out: { index: number; body: Record<string, unknown> }[] = [];
  lines.forEach((l, index) => {
    if (l.frame["command"] !== "queuemessage" || l.frame["replyto"]) return;
    const payload = JSON.parse(String(l.frame["data"])) as { data?: unknown };
    const body = payload.data;
    if (typeof body === "object" && body !== null && "command" in body && ("workflowid" in body || String((body as { command: unknown }).command).startsWith("invoke"))) {
      out.push({ index, body: body as Record<string, unknown> });
    }
  });
  return out;
}

/** A copy of the capture with the robot command of frame `index` replaced. */
function mutate(lines: readonly Line[], index: number, change: (body: Record<string, unknown>) => Record<string, unknown>): Line[] {
  return lines.map((l, i) => {
    if (i !== index) return l;
    const payload = JSON.parse(String(l.frame["data"])) as { data: Record<string, unknown> };
    return { dir: l.dir, frame: { ...l.frame, data: JSON.stringify({ ...payload, data: change(payload.data) }) } };
  });
}

const robotCodes = (findings: Finding[]): string[] => findings.map((f) => f.code).filter((c) => c.startsWith("robot-"));

describe("robot commands in captured traffic", () => {
  it("a recorded invocation validates clean on the caller's and the robot's connection", () => {
    for (const role of ["caller", "robot"] as const) {
      const lines = capture(role);
      const commands = robotFrames(lines).map((f) => f.body["command"]);
      expect(commands).toEqual(expect.arrayContaining(["invoke", "invokesuccess", "invokecompleted"]));
      expect(validate(lines)).toEqual([]);
    }
  });

  it("a busy robot's redelivered invoke is in order (the robot's connection sees the same invoke twice)", () => {
    const lines = capture("robot");
    const invokes = robotFrames(lines).filter((f) => f.body["command"] === "invoke" && f.body["workflowid"] === "busy-once");
    expect(invokes.length).toBe(2);
    expect(robotCodes(validate(lines))).toEqual([]);
  });

  it("flags an unknown robot command, a missing field, a wrong type and an answer out of order", () => {
    const lines = capture("caller");
    const frames = robotFrames(lines);
    const invoke = frames.find((f) => f.body["command"] === "invoke") as { index: number };
    const success = frames.find((f) => f.body["command"] === "invokesuccess") as { index: number };
    const completed = frames.find((f) => f.body["command"] === "invokecompleted") as { index: number };

    const unknown = validate(mutate(lines, invoke.index, (b) => ({ ...b, command: "invoek" })));
    expect(robotCodes(unknown)).toEqual(["robot-unknown-command"]);
    expect(unknown.find((f) => f.code === "robot-unknown-command")).toMatchObject({ pointer: "/data/command", command: "queuemessage", dir: "c2s" });

    const missing = validate(mutate(lines, invoke.index, ({ workflowid: _id, ...rest }) => rest));
    // Without workflowid the body still has OpenRPA's shape (command invoke).
    expect(robotCodes(missing)).toEqual(["robot-missing-field"]);
    expect(missing.find((f) => f.code === "robot-missing-field")?.message).toMatch(/workflowid/);

    const wrongType = validate(mutate(lines, completed.index, (b) => ({ ...b, killexisting: "yes" })));
    expect(robotCodes(wrongType)).toEqual(["robot-payload-invalid"]);

    // invokesuccess turned into invokefailed: the invocation ended there, so the invokecompleted after it is out of order.
    const ended = validate(mutate(lines, success.index, (b) => ({ ...b, command: "invokefailed", data: { Message: "x" } })));
    expect(robotCodes(ended)).toEqual(["robot-out-of-order"]);
    expect(ended.find((f) => f.code === "robot-out-of-order")?.message).toMatch(/after invokefailed/);

    // The invoke moved after its answers.
    const moved = [...lines];
    const [invokeLine] = moved.splice(invoke.index, 1);
    moved.splice(completed.index, 0, invokeLine as Line);
    expect(robotCodes(validate(moved))).toContain("robot-out-of-order");
  });

  it("does not judge an application payload that has its own command field", () => {
    const lines = capture("caller");
    const app = lines.filter((l) => l.frame["command"] === "queuemessage" && String(l.frame["data"]).includes('"ship'));
    expect(app.length).toBeGreaterThanOrEqual(2);
    expect(validate(lines)).toEqual([]);
    // Even an app message that names a robot command's value but lacks OpenRPA's shape is left alone.
    const v = new CaptureValidator();
    v.push({ dir: "c2s", frame: { id: "1", command: "queuemessage", data: JSON.stringify({ queuename: "orders", correlationId: "c1", data: { command: "error", reason: 1 } }) } });
    v.push({ dir: "c2s", frame: { id: "2", command: "queuemessage", data: JSON.stringify({ queuename: "orders", correlationId: "c1", data: { command: "ship" } }) } });
    v.push({ dir: "c2s", frame: { id: "3", command: "queuemessage", data: JSON.stringify({ queuename: "orders", correlationId: "c2", data: { command: "invoke_payment", amount: 1 } }) } });
    v.push({ dir: "c2s", frame: { id: "4", command: "queuemessage", data: JSON.stringify({ queuename: "orders", correlationId: "c3", data: { command: "killswitch" } }) } });
    expect(robotCodes(v.finish())).toEqual([]);
    // A robot status with a typo is still OpenRPA's shape, and flagged.
    const typo = new CaptureValidator();
    typo.push({ dir: "s2c", frame: { id: "5", command: "queuemessage", data: JSON.stringify({ queuename: "q", correlationId: "c4", data: { command: "invokecompleteed" } }) } });
    expect(robotCodes(typo.finish())).toEqual(["robot-unknown-command"]);
  });
});
