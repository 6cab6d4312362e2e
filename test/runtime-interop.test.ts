/**
 * Conformance against a real peer: the official `@openiap/openflow-api` client and this runtime talk to each
 * other through the project server's queues, in both directions (request with replyto + correlationId, and
 * the reply published back).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OpenFlowClient } from "../runtime/index.js";
import { startServer } from "../server/index.js";
import { until } from "./runtime-scripted-server.js";

type Official = {
  WebSocketClient: (new (logger: unknown, url: string, skip?: boolean) => { Connect(): Promise<void>; close(code: number, reason: string): void }) & { instance: unknown };
  NoderedUtil: Record<string, (options: Record<string, unknown>) => Promise<unknown>>;
};

const USER = { username: "interop", password: "interop-password" };
let server: Awaited<ReturnType<typeof startServer>>;
let ours: OpenFlowClient;
let lib: Official;
let officialWs: { close(code: number, reason: string): void };

beforeAll(async () => {
  server = await startServer({ users: [{ ...USER, roles: ["admins"] }] });
  ours = await connect(server.url, { ...USER, logLevel: "error" });
  const api = (await import("@openiap/openflow-api")) as unknown as Official & { default?: Official };
  lib = api.WebSocketClient ? api : (api.default as Official);
  const quiet = { info() {}, verbose() {}, error() {}, debug() {}, silly() {} };
  const ws = new lib.WebSocketClient(quiet, server.url, true);
  await ws.Connect();
  lib.WebSocketClient.instance = ws;
  officialWs = ws;
  await lib.NoderedUtil.SigninWithUsername!({ ...USER, websocket: ws });
}, 20_000);

afterAll(async () => {
  officialWs?.close(1000, "done");
  ours?.close();
  await server?.close();
});

describe("interop with the official client", () => {
  it("official request -> our consumer -> reply reaches the official reply queue with its correlationId", async () => {
    await ours.consumeQueue<{ n: number }>("interop.rpc", (message) => ({ doubled: message.data.n * 2 }));
    const received: { data?: unknown; correlationId?: string }[] = [];
    const replyQueue = (await lib.NoderedUtil.RegisterQueue!({
      queuename: "",
      callback: (msg: { data?: unknown; correlationId?: string }, ack: (nack: boolean) => void) => {
        received.push(msg);
        ack(true);
      },
    })) as string;
    expect(replyQueue).toBeTruthy();
    await lib.NoderedUtil.Queue!({ queuename: "interop.rpc", replyto: replyQueue, correlationId: "corr-1", data: { n: 21 } });
    await until(() => received.length === 1, 5000, "reply at the official client");
    expect(received[0]?.correlationId).toBe("corr-1");
    expect(received[0]?.data).toMatchObject({ doubled: 42 });
  });

  it("our request -> official consumer (acks with a result) -> reply reaches our queue", async () => {
    await lib.NoderedUtil.RegisterQueue!({
      queuename: "interop.official",
      callback: (msg: { data: { n: number } }, ack: (ok: boolean, result?: unknown) => void) => ack(true, { tripled: msg.data.n * 3 }),
    });
    const replies: { data: unknown; correlationId: string | undefined }[] = [];
    const mine = await ours.consumeQueue("", (message) => {
      replies.push({ data: message.data, correlationId: message.correlationId });
    });
    await ours.queueMessage({ queuename: "interop.official", replyto: mine.queuename, correlationId: "corr-2", data: { n: 5 }, striptoken: true });
    await until(() => replies.length === 1, 5000, "reply at our client");
    expect(replies[0]).toMatchObject({ correlationId: "corr-2", data: { tripled: 15 } });
  });
});

describe("heartbeat against the project server", () => {
  it("the liveness probe is answered, so an idle connection stays up (server-latest ignores ping)", async () => {
    const states: string[] = [];
    const idle = await connect(server.url, { ...USER, logLevel: "error", heartbeat: { intervalMs: 40, idleTimeoutMs: 60, probeTimeoutMs: 300 } });
    idle.onStateChange((s) => states.push(s.state));
    await new Promise((r) => setTimeout(r, 700));
    expect(states).toEqual([]);
    expect(idle.state).toBe("open");
    idle.close();
  });
});
