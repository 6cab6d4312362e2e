/**
 * Queue request/reply and robot invocation (runtime/rpc.ts, runtime/robots.ts: `openflow-spec/robots`) against the
 * fake robot (robot/) on the local server: rpc's reply, timeout, AbortSignal and the token kept out of the body;
 * invokeRobot's completed, failed, aborted (scripted and killed), unknown workflow, busy then retried by the broker,
 * and the bound on retries when the robot stays busy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenFlowError } from "../runtime/errors.js";
import { connect, invokeRobot, pendingRpcCalls, RobotInvokeError, withRobots, type RobotClient, type RobotStatus } from "../runtime/robots.js";
import { startRobot, type FakeRobot } from "../robot/index.js";
import { startServer, type RunningServer } from "../server/index.js";
import { silentLogger } from "../runtime/logger.js";
import type { QueueDelivery } from "../runtime/subscriptions.js";

const REQUEUE_MS = 20;
let server: RunningServer;
let caller: RobotClient;
let consumer: RobotClient;
let robot: FakeRobot;
const closers: (() => unknown)[] = [];

const WORKFLOWS = {
  workflows: [
    { id: "pay-invoice", name: "Pay invoice.xaml", delayMs: 60, idle: true, output: { paid: true } },
    { id: "fails", outcome: "failed", message: "Element not found" },
    { id: "aborts", outcome: "aborted", message: "Stopped by the user" },
    { id: "slow", delayMs: 10_000 },
    { id: "busy-twice", busy: 2, output: { ok: 1 } },
    { id: "always-busy", busy: true },
  ],
  concurrency: 4,
};

async function rejection(p: Promise<unknown>): Promise<OpenFlowError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OpenFlowError);
    return err as OpenFlowError;
  }
  throw new Error("expected a rejection");
}

beforeAll(async () => {
  server = await startServer({
    users: [
      { username: "admin", password: "pw-admin", roles: ["admins"] },
      { username: "robot1", password: "pw-robot", roles: ["robots"] },
      { username: "robot2", password: "pw-robot", roles: ["robots"] },
      { username: "worker", password: "pw-worker" },
    ],
    requeueDelayMs: REQUEUE_MS,
    heartbeat: { intervalMs: 50 },
    logger: silentLogger,
  });
  caller = await connect(server.url, { credentials: { username: "admin", password: "pw-admin" }, logger: silentLogger });
  consumer = withRobots(await (await import("../runtime/client.js")).connect(server.url, { credentials: { username: "worker", password: "pw-worker" }, logger: silentLogger }));
  robot = await startRobot({ url: server.url, credentials: { username: "robot1", password: "pw-robot" }, workflows: WORKFLOWS });
  closers.push(() => caller.close(), () => consumer.close(), () => robot.close());
});

afterAll(async () => {
  for (const close of closers) await close();
  await server?.close();
});

describe("rpc", () => {
  it("resolves with the consumer's answer, and keeps the sender's token out of the body by default", async () => {
    const seen: QueueDelivery[] = [];
    const svc = await consumer.consumeQueue("pricing", (d) => {
      seen.push(d);
      return { price: (d.data as { qty: number }).qty * 3 };
    });
    closers.push(() => svc.close());
    expect(await caller.rpc("pricing", { qty: 7 })).toEqual({ price: 21 });
    expect(seen[0]?.data).toEqual({ qty: 7 });
    expect(seen[0]?.replyto).toMatch(/\S/);
    // The same call with striptoken off: the server adds the sender's token and user (Q10), which is why it is on.
    await caller.rpc("pricing", { qty: 1 }, { striptoken: false });
    expect(Object.keys(seen[1]?.data as object)).toEqual(expect.arrayContaining(["__jwt", "__user"]));
    expect(seen[1]?.payload["correlationId"]).not.toBe(seen[0]?.payload["correlationId"]);
    expect(pendingRpcCalls(caller)).toBe(0);
  });

  it("rejects with timeout when no answer comes, and forgets the call", async () => {
    const silent = await consumer.consumeQueue("silent", () => undefined);
    closers.push(() => silent.close());
    const err = await rejection(caller.rpc("silent", { x: 1 }, { timeoutMs: 150 }));
    expect(err.code).toBe("timeout");
    expect(err.message).toMatch(/no answer from silent within 150 ms/);
    expect(pendingRpcCalls(caller)).toBe(0);
  });

  it("rejects with timeout when the message expires unconsumed (the server's dead letter)", async () => {
    const started = Date.now();
    const err = await rejection(caller.rpc("nobody-listens", { x: 1 }, { expiration: 60, timeoutMs: 5_000 }));
    expect(err.code).toBe("timeout");
    expect(err.message).toMatch(/expired/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("rejects with aborted on the AbortSignal, before or while waiting; a late answer is dropped", async () => {
    let release: (() => void) | undefined;
    const late = await consumer.consumeQueue("late", (d) => new Promise((resolve) => (release = () => resolve({ late: d.data }))));
    closers.push(() => late.close());
    const early = new AbortController();
    early.abort();
    expect((await rejection(caller.rpc("late", 1, { signal: early.signal }))).code).toBe("aborted");
    const controller = new AbortController();
    const call = caller.rpc("late", 2, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    expect((await rejection(call)).code).toBe("aborted");
    release?.();
    await new Promise((r) => setTimeout(r, 100));
    expect(pendingRpcCalls(caller)).toBe(0);
  });

  it("refuses bad arguments with usage errors", async () => {
    expect((await rejection(caller.rpc("", 1))).code).toBe("usage");
    expect((await rejection(caller.rpc("q", 1, { timeoutMs: -1 }))).code).toBe("usage");
  });
});

describe("invokeRobot against the fake robot", () => {
  it("registers the robot's queue as OpenRPA names it: the robot user's _id", () => {
    expect(robot.queuename).toBe(robot.client.user?._id);
    expect(robot.queues[0]).toBe(robot.queuename);
  });

  it("resolves on invokecompleted with the workflow's arguments, reporting invokesuccess and invokeidle", async () => {
    const statuses: RobotStatus[] = [];
    const result = await caller.invokeRobot<{ invoice: string; paid: boolean }>(robot.queuename, "pay-invoice", { invoice: "INV-1" }, { onStatus: (s) => statuses.push(s) });
    expect(result).toEqual({ invoice: "INV-1", paid: true });
    expect(statuses.map((s) => s.command)).toEqual(["invokesuccess", "invokeidle"]);
    expect(statuses[0]?.workflowid).toBe("pay-invoice");
    // The robot finds a workflow by its file name too, and a user object works as the target.
    expect(await invokeRobot(caller, { _id: robot.queuename }, "pay invoice.XAML", { invoice: "INV-2" })).toEqual({ invoice: "INV-2", paid: true });
  });

  it("rejects with RobotInvokeError (code server) on invokefailed, invokeaborted and error", async () => {
    const failed = (await rejection(caller.invokeRobot(robot.queuename, "fails"))) as RobotInvokeError;
    expect(failed).toBeInstanceOf(RobotInvokeError);
    expect([failed.code, failed.failure, failed.exception?.Message, failed.serverMessage]).toEqual(["server", "failed", "Element not found", "Element not found"]);
    const aborted = (await rejection(caller.invokeRobot(robot.queuename, "aborts"))) as RobotInvokeError;
    expect([aborted.code, aborted.failure, aborted.exception?.Message]).toEqual(["server", "aborted", "Stopped by the user"]);
    const unknown = (await rejection(caller.invokeRobot(robot.queuename, "no-such-workflow"))) as RobotInvokeError;
    expect([unknown.code, unknown.failure, unknown.exception?.Message]).toEqual(["server", "error", "Unknown workflow no-such-workflow"]);
  });

  it("rejects with invokeaborted when the workflow is killed (killworkflow through rpc)", async () => {
    const running = caller.invokeRobot(robot.queuename, "slow", {}, { onStatus: () => {} });
    const failure = rejection(running);
    for (let i = 0; i < 100 && robot.running === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const answer = (await caller.rpc(robot.queuename, { command: "killworkflow", workflowid: "slow" })) as { command: string };
    expect(answer.command).toBe("killworkflowsuccess");
    const err = (await failure) as RobotInvokeError;
    expect([err.failure, err.exception?.Message]).toEqual(["aborted", "Killed remotly by killworkflow command"]);
    expect(robot.running).toBe(0);
  });

  it("gets through a busy robot: the nack makes the broker redeliver until the robot takes it", async () => {
    const before = robot.events.length;
    expect(await caller.invokeRobot(robot.queuename, "busy-twice", { n: 1 })).toEqual({ n: 1, ok: 1 });
    const events = robot.events.slice(before).map((e) => e.type);
    expect(events.slice(0, 3)).toEqual(["busy", "busy", "invoke"]);
  });

  it("retries an invoke that expired while the robot stayed busy, up to `retries`, then rejects with timeout", async () => {
    const before = robot.events.length;
    const statuses: string[] = [];
    const err = (await rejection(caller.invokeRobot(robot.queuename, "always-busy", {}, { expiration: 150, retries: 2, onStatus: (s) => statuses.push(s.command) }))) as RobotInvokeError;
    expect(err).toBeInstanceOf(RobotInvokeError);
    expect([err.code, err.failure]).toEqual(["timeout", "expired"]);
    expect(err.message).toMatch(/3 attempts/);
    // Two expiries were retried (reported), the third ended the call.
    expect(statuses).toEqual(["timeout", "timeout"]);
    const busy = robot.events.slice(before).filter((e) => e.type === "busy");
    const correlations = new Set(busy.map((e) => (e as { correlationId: string }).correlationId));
    expect(correlations.size).toBe(3);
    // Bounded: each attempt is redelivered at most once per requeue delay within its expiration.
    expect(busy.length).toBeLessThanOrEqual(3 * (150 / REQUEUE_MS + 3));
  });

  it("queues a second invoke while the robot's only slot is taken (OpenRPA's one remote workflow at a time)", async () => {
    const single = await startRobot({ url: server.url, credentials: { username: "robot2", password: "pw-robot" }, workflows: { workflows: [{ id: "w", delayMs: 100 }] }, roleQueues: false });
    try {
      const both = await Promise.all([single.queuename, single.queuename].map((q, i) => caller.invokeRobot(q, "w", { i })));
      expect(both).toEqual([{ i: 0 }, { i: 1 }]);
      expect(single.events.map((e) => e.type)).toContain("busy");
    } finally {
      await single.close();
    }
  });

  it("refuses bad arguments with usage errors", async () => {
    expect((await rejection(caller.invokeRobot("", "w"))).code).toBe("usage");
    expect((await rejection(caller.invokeRobot(robot.queuename, ""))).code).toBe("usage");
    expect((await rejection(caller.invokeRobot(robot.queuename, "w", [] as never))).code).toBe("usage");
    expect((await rejection(caller.invokeRobot(robot.queuename, "w", {}, { retries: -1 }))).code).toBe("usage");
    expect((await rejection(caller.invokeRobot(robot.queuename, "w", {}, { timeoutMs: 0 }))).code).toBe("usage");
    // A throwing onStatus ends the call with a usage error naming it, not with a robot failure.
    const thrown = await rejection(caller.invokeRobot(robot.queuename, "pay-invoice", {}, { onStatus: () => { throw new Error("boom"); } }));
    expect([thrown.code, thrown.message]).toEqual(["usage", "invokeRobot: onStatus threw: boom"]);
  });
});
