/**
 * The subscription manager without sockets (a fake host and a manual clock), and the whole client over an
 * in-memory fake socket: what `close()` lets go of.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.js";
import { ClientCore } from "../runtime/core.js";
import { OpenFlowClient } from "../runtime/client.js";
import { OpenFlowError } from "../runtime/errors.js";
import type { WireFrame, WireMessage } from "../runtime/framing.js";
import { SubscriptionManager, type SubscriptionHost } from "../runtime/subscriptions.js";
import { fakeSocketClass, type FakeSocket } from "./runtime-fake-socket.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => queueMicrotask(r));
};

/** A host that answers requests from a script and records replies, sleeping on a manual clock. */
function fakeHost(clock: ManualClock, answer: (command: string, payload: unknown) => unknown) {
  const requests: { command: string; payload: unknown }[] = [];
  const replies: { to: string; command: string; data: string }[] = [];
  const reported: string[] = [];
  let open = true;
  const host: SubscriptionHost = {
    request: async (command, payload) => {
      requests.push({ command, payload });
      const value = answer(command, payload);
      if (value instanceof Error) throw value;
      return value;
    },
    isOpen: () => open,
    reply: (to, command, data) => replies.push({ to: to.id, command, data }),
    replyError: (to, text) => replies.push({ to: to.id, command: "error", data: text }),
    sleep: (ms) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms)),
    backoff: (attempt) => 1000 * (attempt + 1),
    report: (error, context) => reported.push(`${context}: ${error.message}`),
    log: quiet,
  };
  return { host, requests, replies, reported, setOpen: (value: boolean) => (open = value) };
}

const push = (id: string, command: string, payload: unknown): WireMessage => ({ id, command, data: JSON.stringify(payload) });

describe("subscription manager (no sockets)", () => {
  it("routes deliveries to their consumer and answers each exactly once: ack, nack, reply", async () => {
    const clock = new ManualClock();
    const { host, requests, replies } = fakeHost(clock, (command, payload) => (command === "registerqueue" ? { queuename: (payload as { queuename: string }).queuename } : {}));
    const subs = new SubscriptionManager(host);
    await subs.consumeQueue("jobs", (d) => {
      const n = (d.data as { n: number }).n;
      if (n === 2) throw new Error("cannot do 2");
      if (n === 3) return { answer: 42 };
      d.ack();
      d.nack("too late"); // after the ack: ignored
      return undefined;
    });
    for (const n of [1, 2, 3]) {
      const m = push(`m${n}`, "queuemessage", { queuename: "jobs", data: { n }, replyto: "caller", correlationId: `c${n}` });
      expect(await subs.onPush("queuemessage", m, JSON.parse(m.data as string))).toBe("answered");
    }
    expect(replies.map((r) => `${r.to} ${r.command}`)).toEqual(["m1 queuemessage", "m2 error", "m3 queuemessage"]);
    expect(replies[1]?.data).toBe("cannot do 2");
    await flush();
    expect(requests.at(-1)).toEqual({ command: "queuemessage", payload: { queuename: "caller", correlationId: "c3", data: { answer: 42 }, striptoken: true, expiration: 10_000 } });
    expect(await subs.onPush("queuemessage", push("m4", "queuemessage", {}), { queuename: "other" })).toBe("ignored");
  });

  it("queueclosed: registers again after the backoff; a server-generated name is followed", async () => {
    const clock = new ManualClock();
    let n = 0;
    const { host, requests } = fakeHost(clock, (command) => (command === "registerqueue" ? { queuename: `gen${++n}` } : {}));
    const subs = new SubscriptionManager(host);
    const sub = await subs.consumeQueue("", () => undefined);
    expect(sub.queuename).toBe("gen1");
    expect(subs.onPush("queueclosed", push("x", "queueclosed", {}), { queuename: "gen1" })).toBe("handled");
    expect(sub.active).toBe(false);
    clock.advance(999);
    await flush();
    expect(requests.filter((r) => r.command === "registerqueue")).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(sub).toMatchObject({ queuename: "gen2", active: true });
    // the old name no longer routes, the new one does
    expect(await subs.onPush("queuemessage", push("a", "queuemessage", {}), { queuename: "gen1" })).toBe("ignored");
    expect(await subs.onPush("queuemessage", push("b", "queuemessage", {}), { queuename: "gen2" })).toBe("answered");
  });

  it("gives up re-registering after 10 failed attempts and reports it", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const { host, reported } = fakeHost(clock, (command) => (command === "registerqueue" && ++calls > 1 ? new OpenFlowError("server", "AMQP down") : { queuename: "q" }));
    const subs = new SubscriptionManager(host);
    await subs.consumeQueue("q", () => undefined);
    subs.onPush("queueclosed", push("x", "queueclosed", {}), { queuename: "q" });
    for (let i = 0; i < 12; i++) {
      clock.advance(10_000);
      await flush();
    }
    expect(calls).toBe(11);
    expect(reported).toEqual(["queue lost: gave up registering queue q again"]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("restore registers queues, exchanges and watches again and maps the new watch ids", async () => {
    const clock = new ManualClock();
    const { host } = fakeHost(clock, (command) => (command === "watch" ? { id: "w1" } : command === "registerexchange" ? { queuename: "q.news" } : { queuename: "named" }));
    const subs = new SubscriptionManager(host);
    const seen: unknown[] = [];
    const watch = await subs.watchCollection("entities", [], (e) => seen.push(e));
    const exchange = await subs.consumeExchange({ exchangename: "news", algorithm: "fanout" }, () => undefined);
    subs.connectionLost();
    expect(exchange.active).toBe(false);
    const sent: string[] = [];
    await subs.restore(async (command) => {
      sent.push(command);
      return command === "watch" ? { id: "w2" } : { queuename: "q.news2" };
    });
    expect(sent).toEqual(["registerexchange", "watch"]);
    expect(exchange).toMatchObject({ queuename: "q.news2", active: true });
    expect(watch.id).toBe("w2");
    expect(subs.onPush("watchevent", push("e", "watchevent", {}), { id: "w1", result: 1 })).toBe("ignored");
    expect(subs.onPush("watchevent", push("e", "watchevent", {}), { id: "w2", result: 2 })).toBe("handled");
    expect(seen).toEqual([2]);
  });

  it("close() ends watches, drops their buffered events and forgets every subscription", async () => {
    const clock = new ManualClock();
    const { host } = fakeHost(clock, (command) => (command === "watch" ? { id: "w" } : { queuename: "q" }));
    const subs = new SubscriptionManager(host);
    const seen: number[] = [];
    const watch = await subs.watchCollection("entities", [], (e) => seen.push(e as number));
    const consumer = await subs.consumeQueue("q", () => undefined);
    for (let i = 0; i < 50; i++) subs.onPush("watchevent", push(`e${i}`, "watchevent", {}), { id: "w", result: i });
    expect(seen).toHaveLength(50);
    expect(subs.retained).toEqual({ queues: 1, watches: 1, bufferedEvents: 50 });
    subs.close();
    expect(subs.retained).toEqual({ queues: 0, watches: 0, bufferedEvents: 0 });
    expect(watch.stream.size).toBe(0);
    expect(await watch.stream.next()).toEqual({ value: undefined, done: true });
    expect(consumer).toMatchObject({ closed: true, active: false });
    expect(subs.onPush("watchevent", push("late", "watchevent", {}), { id: "w", result: 99 })).toBe("ignored");
    expect(seen).toHaveLength(50);
  });
});

describe("client close() releases everything", () => {
  it("a watch with a handler holds no events, and the client no subscription, timer or listener after close()", async () => {
    const clock = new ManualClock(0);
    const sent: WireFrame[] = [];
    const sockets: FakeSocket[] = [];
    const core = new ClientCore("ws://fake/", { jwt: "start", WebSocket: fakeSocketClass(sent, sockets, { watch: { id: "w1" }, registerqueue: { queuename: "jobs" } }), clock, logger: quiet });
    const starting = core.start();
    await flush();
    await starting;
    const client = new OpenFlowClient(core);
    const states: string[] = [];
    client.onStateChange((s) => states.push(s.state));
    client.on("error", () => {});
    const seen: unknown[] = [];
    const watch = await client.watchCollection("entities", [], (e) => seen.push(e));
    const consumer = await client.consumeQueue("jobs", () => undefined);
    const socket = sockets[0] as { onmessage: (e: { data: unknown }) => void };
    for (let i = 0; i < 200; i++) socket.onmessage({ data: JSON.stringify({ id: `e${i}`, command: "watchevent", data: JSON.stringify({ id: "w1", result: i }) }) });
    // queueclosed starts a re-registration backoff timer
    socket.onmessage({ data: JSON.stringify({ id: "qc", command: "queueclosed", data: JSON.stringify({ queuename: "jobs" }) }) });
    await flush();
    expect(seen).toHaveLength(200);
    expect(core.subscriptions.retained).toEqual({ queues: 1, watches: 1, bufferedEvents: 200 });
    expect(clock.pendingTimers).toBeGreaterThan(0);

    client.close();
    await flush();
    expect(states).toEqual(["closed"]);
    expect(core.subscriptions.retained).toEqual({ queues: 0, watches: 0, bufferedEvents: 0 });
    expect(clock.pendingTimers).toBe(0);
    expect(core.events.listenerCount("state") + core.events.listenerCount("error")).toBe(0);
    expect(consumer.active).toBe(false);
    const iterator = watch[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    // the backoff ended with the client: no registerqueue after close
    const registers = sent.filter((f) => f.command === "registerqueue").length;
    clock.advance(600_000);
    await flush();
    expect(sent.filter((f) => f.command === "registerqueue")).toHaveLength(registers);
  });
});
