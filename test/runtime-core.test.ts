/**
 * The client core driven by a manual clock over an in-memory fake socket: no real time, no network.
 * Checks the timer budget (no per-request timers), and the heartbeat's ping / probe / dead sequence.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.js";
import { connect, type OpenFlowClient } from "../runtime/index.js";
import type { WireFrame } from "../runtime/framing.js";
import { fakeSocketClass, type FakeSocket } from "./runtime-fake-socket.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => queueMicrotask(r));
};

async function setup(): Promise<{ client: OpenFlowClient; clock: ManualClock; sent: WireFrame[]; sockets: FakeSocket[] }> {
  const clock = new ManualClock(1_000_000);
  const sent: WireFrame[] = [];
  const sockets: FakeSocket[] = [];
  const pending = connect("ws://fake/", { jwt: "start", WebSocket: fakeSocketClass(sent, sockets), clock, random: () => 0.5, logger: quiet, reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 } });
  await flush();
  return { client: await pending, clock, sent, sockets };
}

describe("client core with a manual clock", () => {
  it("100 pending requests use one timeout timer, plus the heartbeat's", async () => {
    const { client, clock } = await setup();
    const results = Array.from({ length: 100 }, (_, i) => client.requestUntyped("query", { i }, { timeoutMs: 5000 + i }).catch((e: Error & { code: string }) => e.code));
    await flush();
    expect(clock.pendingTimers).toBe(2);
    clock.advance(5000);
    await flush();
    clock.advance(200);
    await flush();
    expect(new Set(await Promise.all(results))).toEqual(new Set(["timeout"]));
    client.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it("heartbeat: ping after 10 s of sending nothing, probe after 30 s of silence, dead and reconnect at 40 s", async () => {
    const { client, clock, sent, sockets } = await setup();
    const count = (command: string) => sent.filter((f) => f.command === command).length;
    const states: string[] = [];
    client.onStateChange((s) => states.push(s.state));
    clock.advance(10_000);
    expect(count("ping")).toBe(1);
    expect(sent.at(-1)).toMatchObject({ command: "ping", count: 1, index: 0 });
    expect(sent.at(-1)).not.toHaveProperty("data");
    clock.advance(20_000);
    expect(count("count")).toBe(1); // the liveness probe
    expect(states).toEqual([]);
    clock.advance(10_000);
    await flush();
    expect(states).toEqual(["reconnecting"]);
    clock.advance(1000);
    await flush();
    await flush();
    expect(states).toEqual(["reconnecting", "open"]);
    expect(sockets).toHaveLength(2);
    expect(count("signin")).toBe(2);
    client.close();
  });

  it("inbound traffic keeps the connection alive without probes", async () => {
    const { client, clock, sent, sockets } = await setup();
    const socket = sockets[0] as unknown as { onmessage: (e: { data: unknown }) => void };
    for (let t = 0; t < 12; t++) {
      clock.advance(9_000);
      socket.onmessage({ data: JSON.stringify({ id: `w${t}`, command: "watchevent", data: JSON.stringify({ id: "none", result: {} }) }) });
    }
    expect(sent.filter((f) => f.command === "count")).toHaveLength(0);
    expect(client.state).toBe("open");
    client.close();
  });
});

describe("half-received replies", () => {
  it("fail the request they answer after the partial timeout, also without a heartbeat", async () => {
    const clock = new ManualClock(0);
    const sent: WireFrame[] = [];
    const sockets: FakeSocket[] = [];
    const pending = connect("ws://fake/", { jwt: "start", WebSocket: fakeSocketClass(sent, sockets), clock, logger: quiet, heartbeat: false, limits: { partialTimeoutMs: 1000 } });
    await flush();
    const client = await pending;
    const result = client.requestUntyped("query", {}, { timeoutMs: 60_000 }).catch((e: Error & { code: string }) => `${e.code}: ${e.message}`);
    await flush();
    const request = sent.at(-1) as WireFrame;
    const socket = sockets[0] as unknown as { onmessage: (e: { data: unknown }) => void };
    socket.onmessage({ data: JSON.stringify({ id: "half", replyto: request.id, command: "query", data: "{", count: 2, index: 0 }) });
    clock.advance(1500);
    expect(await result).toMatch(/^timeout: message half \(query\) stayed incomplete: 1 of 2 chunks/);
    client.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
