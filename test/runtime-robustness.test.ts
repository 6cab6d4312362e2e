/**
 * Robustness of the runtime client: nothing hangs or leaks after close(), a misbehaving handler or peer cannot
 * crash the process, and hostile chunking cannot make the client allocate far more than it received.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, OpenFlowError, type OpenFlowClient } from "../runtime/index.js";
import type { ClientOptions } from "../runtime/core.js";
import { Reassembler } from "../runtime/framing.js";
import { systemClock } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { ScriptedServer, until } from "./runtime-scripted-server.js";

let server: ScriptedServer;
const clients: OpenFlowClient[] = [];
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function open(options: Partial<ClientOptions> = {}): Promise<OpenFlowClient> {
  const client = await connect(server.url, { username: "tester", password: "secret-pw", logger: quiet, timeoutMs: 20_000, ...options });
  clients.push(client);
  return client;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

beforeEach(async () => {
  server = new ScriptedServer();
  await server.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.stop();
});

describe("client robustness", () => {
  it("close() during a rate-limit retry backoff settles the request with closed at once and leaves no timer", async () => {
    const idleTimers = timers();
    const client = await open({ rateLimit: { retries: 3, retryDelayMs: 10_000 }, offline: { maxWaitMs: 20_000 } });
    server.script = (conn, message) => {
      if (message.command !== "limited") return "default";
      conn.sendText(JSON.stringify({ id: message.id, command: "error", data: JSON.stringify({ error: "Rate limit exceeded consumedPoints: 31" }), count: 1, index: 0 }));
    };
    const pending = client.requestUntyped("limited", {}).then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => server.conns[0]?.received.some((m) => m.command === "limited") ?? false, 2000, "first attempt");
    await new Promise((r) => setTimeout(r, 20)); // the rate-limit error arrives and the 10 s backoff starts
    const started = Date.now();
    client.close();
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(OpenFlowError.is(error, "closed")).toBe(true);
    expect(timers()).toBeLessThanOrEqual(idleTimers);
  });

  it("an onCommand handler returning something JSON cannot encode gets an error reply, not an unhandled rejection", async () => {
    const client = await open();
    const errors: OpenFlowError[] = [];
    client.on("error", (e) => errors.push(e));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    client.onCommand("circular", () => circular);
    client.onCommand("bigint", () => ({ n: 10n }));
    const conn = server.conns[0];
    const a = conn?.push("circular", {});
    const b = conn?.push("bigint", {});
    await until(() => (conn?.received.filter((m) => m.replyto === a || m.replyto === b).length ?? 0) === 2, 2000, "replies");
    for (const id of [a, b]) {
      const reply = conn?.received.find((m) => m.replyto === id);
      expect(reply?.command).toBe("error");
      expect(reply?.data).toMatch(/cannot be sent as JSON/);
    }
    expect(errors.map((e) => e.code)).toEqual(["usage", "usage"]);
    expect(client.state).toBe("open");
  });
});

describe("connect", () => {
  it("rejects with protocol when the signin reply is unreadable (docs/client.md: auth, closed, timeout, usage or protocol)", async () => {
    server.script = (conn, message) => {
      if (message.command !== "signin") return "default";
      conn.reply(message, "not json{", { raw: true });
    };
    const error = await open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(OpenFlowError.is(error, "protocol")).toBe(true);
  });
});

describe("close while connecting", () => {
  it("close() during a reconnect whose handshake never completes drops that socket and its connect timer at once", async () => {
    const net = await import("node:net");
    const client = await open({ reconnect: { initialDelayMs: 1, maxDelayMs: 5 }, connectTimeoutMs: 15_000, heartbeat: false });
    const port = server.port;
    await server.stop();
    // A peer that accepts TCP on the same port and never answers the websocket upgrade.
    const accepted: import("node:net").Socket[] = [];
    let peerClosed = 0;
    const silent = net.createServer((socket) => {
      accepted.push(socket);
      socket.resume(); // read (and ignore) the upgrade request, so the client's FIN is seen
      socket.on("close", () => (peerClosed += 1));
    });
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", () => resolve()));
    try {
      await until(() => accepted.length > 0, 3000, "the reconnect attempt");
      const during = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      client.close();
      // Only the client can end these connections: the silent peer never closes them itself.
      await until(() => peerClosed === accepted.length, 1000, "the client to drop its half-open socket");
      expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBeLessThan(during);
      expect(client.state).toBe("closed");
    } finally {
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });

  it("a connect timeout against a peer that never answers the upgrade rejects without an uncaught ws error", async () => {
    const net = await import("node:net");
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    const accepted: import("node:net").Socket[] = [];
    const silent = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    try {
      const port = (silent.address() as import("node:net").AddressInfo).port;
      const error = await connect(`ws://127.0.0.1:${port}/`, { username: "a", password: "b", connectTimeoutMs: 100, logger: quiet }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(OpenFlowError.is(error, "timeout")).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });
});

describe("long timeouts", () => {
  it("a delay beyond the platform timer range does not fire at once", async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 30 * 24 * 3600 * 1000);
    await new Promise((r) => setTimeout(r, 30));
    systemClock.clearTimeout(handle);
    expect(fired).toBe(false);
  });

  it("30-day connect, offline and request timeouts work as long ones, not as 1 ms ones", async () => {
    const month = 30 * 24 * 3600 * 1000;
    const client = await open({ connectTimeoutMs: month, timeoutMs: month, offline: { maxWaitMs: month } });
    server.script = (conn, message) => {
      if (message.command !== "slow") return "default";
      setTimeout(() => conn.reply(message, { done: true }), 50);
    };
    expect(await client.requestUntyped("slow", {})).toEqual({ done: true });
  });
});

describe("reassembly memory", () => {
  it("a frame announcing a large count costs memory for what arrived, not for the announced count", () => {
    const r = new Reassembler({ maxChunks: 100_000, maxPartialMessages: 1_000 });
    const before = process.memoryUsage().heapUsed;
    // 300 frames of ~60 bytes each; storing a slot per announced chunk up front would take ~240 MB.
    for (let i = 0; i < 300; i++) r.push({ id: `m${i}`, command: "query", count: 99_999, index: 0, data: "" }, 0);
    const grown = process.memoryUsage().heapUsed - before;
    expect(r.pending).toBe(300);
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });

  it("counts the characters held by half-received messages and releases them on completion, error, drop and sweep", () => {
    const r = new Reassembler({ maxPendingChars: 100, partialTimeoutMs: 10 });
    r.push({ id: "a", command: "c", count: 2, index: 0, data: "x".repeat(40) }, 0);
    r.push({ id: "b", command: "c", count: 2, index: 0, data: "x".repeat(40) }, 5);
    expect(r.pendingChars).toBe(84); // data plus id and command
    expect(() => r.push({ id: "c", command: "c", count: 2, index: 0, data: "x".repeat(40) }, 5)).toThrow(/exceed 100 characters in total/);
    expect(r.pendingChars).toBe(84);
    expect(r.push({ id: "a", command: "c", count: 2, index: 1, data: "y" }, 6).done).toBe(true);
    expect(r.pendingChars).toBe(42);
    expect(r.sweep(20)).toHaveLength(1);
    expect(r.pendingChars).toBe(0);
    r.push({ id: "d", command: "c", count: 2, index: 0, data: "z" }, 30);
    expect(r.drop("d")).toBe(true);
    expect(r.pendingChars).toBe(0);
  });

  it("still joins chunks that arrive in any order", () => {
    const r = new Reassembler();
    const order = [3, 0, 4, 1, 2];
    let done: string | undefined;
    for (const index of order) {
      const result = r.push({ id: "x", command: "c", count: 5, index, data: String(index) }, 0);
      if (result.done) done = result.message.data ?? undefined;
    }
    expect(done).toBe("01234");
    const big = new Reassembler();
    let out: string | undefined;
    for (let index = 9_999; index >= 0; index--) {
      const result = big.push({ id: "y", command: "c", count: 10_000, index, data: "a" }, 0);
      if (result.done) out = result.message.data ?? undefined;
    }
    expect(out).toBe("a".repeat(10_000));
  });
});
