/**
 * Fault tests over a real loopback websocket against a scripted peer (test/runtime-scripted-server.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, OpenFlowError, type OpenFlowClient } from "../runtime/index.js";
import type { ClientOptions } from "../runtime/core.js";
import type { Logger } from "../runtime/logger.js";
import { fakeJwt, ScriptedServer, until } from "./runtime-scripted-server.js";

let server: ScriptedServer;
const clients: OpenFlowClient[] = [];
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function open(options: Partial<ClientOptions> = {}): Promise<OpenFlowClient> {
  const client = await connect(server.url, {
    username: "tester",
    password: "secret-pw",
    logger: quiet,
    timeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
  clients.push(client);
  return client;
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: OpenFlowError }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: error as OpenFlowError };
  }
}

beforeEach(async () => {
  server = new ScriptedServer();
  await server.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.stop();
});

describe("connect and request", () => {
  it("signs in, adopts the announced chunk size, and round-trips a request", async () => {
    const client = await open();
    expect(client.state).toBe("open");
    expect(client.jwt).toBe(fakeJwt(1));
    expect(client.user).toMatchObject({ name: "tester" });
    const reply = await client.request("query", { collectionname: "entities", query: {} });
    expect(reply).toMatchObject({ collectionname: "entities", echoed: true });
    const sent = server.conns[0]?.received.find((m) => m.command === "query");
    expect(sent?.replyto).toBeUndefined();
  });

  it("chunks outgoing data at the signin reply's websocket_package_size and reassembles chunked replies", async () => {
    const client = await open();
    const frames: number[] = [];
    server.conns[0]?.ws.on("message", () => frames.push(1));
    const big = "ü😀\u2028".repeat(5000);
    server.script = (conn, message, payload) => {
      if (message.command !== "query") return "default";
      conn.reply(message, { ...(payload as object), result: big }, { chunkSize: 777 });
    };
    const reply = (await client.requestUntyped("query", { text: big })) as { text: string; result: string };
    expect(reply.text).toBe(big);
    expect(reply.result).toBe(big);
    expect(frames.length).toBe(Math.ceil(JSON.stringify({ text: big }).length / 4096));
  });

  it("puts jwt, traceId and spanId inside the payload, priority on the frame", async () => {
    const client = await open();
    await client.requestUntyped("query", { q: 1 }, { jwt: "other-user-token", traceId: "t1", spanId: "s1", priority: 3 });
    const sent = server.conns[0]?.received.find((m) => m.command === "query");
    expect(JSON.parse(sent?.data ?? "{}")).toEqual({ q: 1, jwt: "other-user-token", traceId: "t1", spanId: "s1" });
    expect(sent?.priority).toBe(3);
  });

  it("rejects bad credentials with auth and keeps the password out of the error", async () => {
    const error = await connect(server.url, { username: "tester", password: "wrong", logger: quiet, reconnect: false }).catch((e: unknown) => e);
    expect(OpenFlowError.is(error, "auth")).toBe(true);
    expect(String((error as Error).message)).not.toContain("wrong\"");
  });

  it("rejects invalid options with usage", async () => {
    await expect(connect("http://x", { jwt: "a" })).rejects.toMatchObject({ code: "usage" });
    await expect(connect(server.url, {} as ClientOptions)).rejects.toMatchObject({ code: "usage" });
    await expect(connect(server.url, { jwt: "a", timeoutMs: -1 })).rejects.toMatchObject({ code: "usage" });
  });
});

describe("faults: every pending request settles", () => {
  it("server errors in both styles, unknown command, non-JSON error text", async () => {
    const client = await open();
    server.script = (conn, message) => {
      if (message.command === "style2021") conn.reply(message, { error: "Access denied" });
      else if (message.command === "stylelatest") conn.reply(message, { message: "boom", error: "boom" }, { command: "error" });
      else if (message.command === "nope") conn.reply(message, { message: "Unknown command nope" }, { command: "error" });
      else if (message.command === "text") conn.reply(message, "Sorry, I'm bussy", { command: "error", raw: true });
      else return "default";
    };
    const results = await Promise.all(["style2021", "stylelatest", "nope", "text"].map((c) => settle(client.requestUntyped(c, {}))));
    expect(results.map((r) => (r.ok ? "ok" : `${r.error.code}:${r.error.serverMessage}:${r.error.command}`))).toEqual([
      "server:Access denied:style2021",
      "server:boom:stylelatest",
      "unsupported:Unknown command nope:nope",
      "server:Sorry, I'm bussy:text",
    ]);
  });

  it("never replies -> timeout; replies twice -> first wins, second dropped; abort", async () => {
    const client = await open();
    server.script = (conn, message, payload) => {
      if (message.command === "silent") return;
      if (message.command === "twice") {
        conn.reply(message, { n: 1 });
        conn.reply(message, { n: 2 });
        return;
      }
      return "default";
    };
    const silent = settle(client.requestUntyped("silent", {}, { timeoutMs: 150 }));
    const twice = await client.requestUntyped("twice", {});
    expect(twice).toEqual({ n: 1 });
    const ac = new AbortController();
    const aborted = settle(client.requestUntyped("silent", {}, { signal: ac.signal, timeoutMs: 5000 }));
    ac.abort();
    expect((await aborted).ok === false && (await aborted as { error: OpenFlowError }).error.code).toBe("aborted");
    const s = await silent;
    expect(!s.ok && s.error.code).toBe("timeout");
    const after = await client.requestUntyped("query", {});
    expect(after).toMatchObject({ echoed: true });
  });

  it("server closes in the middle of a chunked reply: pending requests fail with closed, client reconnects", async () => {
    const client = await open();
    server.script = (conn, message) => {
      if (message.command !== "bigquery") return "default";
      const texts = JSON.stringify({ result: "x".repeat(10_000) });
      conn.sendText(JSON.stringify({ id: "half", replyto: message.id, command: "bigquery", data: texts.slice(0, 500), count: 3, index: 0 }));
      setTimeout(() => conn.ws.terminate(), 20);
    };
    const other = settle(client.requestUntyped("silentother", {}, { timeoutMs: 5000 }));
    server.script = ((prev) => (conn, message, payload) => (message.command === "silentother" ? undefined : prev(conn, message, payload)))(server.script);
    const r = await settle(client.requestUntyped("bigquery", {}));
    expect(!r.ok && r.error.code).toBe("closed");
    const o = await other;
    expect(!o.ok && o.error.code).toBe("closed");
    await until(() => client.state === "open" && server.signins === 2, 3000, "reconnect");
    expect(await client.requestUntyped("query", {})).toMatchObject({ echoed: true });
  });

  it("garbage frames, a bad chunk for one request and unknown server commands do not kill other requests", async () => {
    const client = await open();
    const errors: OpenFlowError[] = [];
    client.on("error", (e) => errors.push(e));
    server.script = (conn, message) => {
      if (message.command === "victim") {
        conn.sendText("this is not json");
        conn.sendText(JSON.stringify({ id: "v", replyto: message.id, command: "victim", data: "a", count: "2", index: 0 }));
        conn.sendText(JSON.stringify({ command: "error", data: "Unexpected token", priority: 1 }));
        return;
      }
      return "default";
    };
    const conn = server.conns[0];
    const ok = client.requestUntyped("query", {});
    const victim = await settle(client.requestUntyped("victim", {}, { timeoutMs: 1000 }));
    expect(await ok).toMatchObject({ echoed: true });
    // the malformed chunk names the request it answers, so that request fails at once (not by timeout)
    expect(!victim.ok && victim.error.code).toBe("protocol");
    // unknown server-started command -> error reply; ping -> pong
    const unknownId = conn?.push("fly", { x: 1 });
    const pingId = "srvping";
    conn?.sendText(JSON.stringify({ id: pingId, command: "ping", count: 1, index: 0 }));
    await until(() => (conn?.received.filter((m) => m.replyto === unknownId || m.replyto === pingId).length ?? 0) === 2, 2000, "replies");
    const answers = conn?.received.filter((m) => m.replyto === unknownId || m.replyto === pingId).map((m) => [m.replyto === pingId ? "ping" : "fly", m.command, m.data]);
    expect(answers).toEqual(expect.arrayContaining([["fly", "error", "Unknown command"], ["ping", "pong", ""]]));
    expect(errors.some((e) => e.code === "protocol")).toBe(true);
    expect(client.state).toBe("open");
  });

  it("rate limit exceeded (uncorrelated error with the request id) is retried, then surfaced as rate-limited", async () => {
    const client = await open({ rateLimit: { retries: 2, retryDelayMs: 10 } });
    let attempts = 0;
    server.script = (conn, message) => {
      if (message.command === "limited") {
        attempts += 1;
        conn.sendText(JSON.stringify({ id: message.id, command: "error", data: JSON.stringify({ error: "Rate limit exceeded consumedPoints: 31" }), count: 1, index: 0 }));
        return;
      }
      if (message.command === "flaky") {
        attempts += 1;
        if (attempts < 5) {
          conn.sendText(JSON.stringify({ id: message.id, command: "error", data: JSON.stringify({ error: "Rate limit exceeded consumedPoints: 31" }), count: 1, index: 0 }));
          return;
        }
      }
      return "default";
    };
    const r = await settle(client.requestUntyped("limited", {}));
    expect(!r.ok && r.error.code).toBe("rate-limited");
    expect(attempts).toBe(3);
    expect(await client.requestUntyped("flaky", {})).toMatchObject({ echoed: true });
    // the client never answers server `error` frames (server-latest would echo them back forever, Q19)
    expect(server.conns[0]?.received.some((m) => m.command === "error")).toBe(false);
  });
});

describe("push handlers", () => {
  it("queue messages: ack, nack, reply to the sender's replyto queue with its correlationId", async () => {
    const client = await open();
    const consumer = await client.consumeQueue<{ n: number }>("jobs", (delivery) => {
      if (delivery.data.n === 2) throw new Error("cannot do 2");
      if (delivery.data.n === 3) return { answer: 42 };
      return undefined;
    });
    expect(consumer.queuename).toBe("jobs");
    const conn = server.conns[0];
    const ids = [1, 2, 3].map((n) => conn?.push("queuemessage", { queuename: "jobs", data: { n }, replyto: "caller.q", correlationId: `c${n}` }));
    await until(() => (conn?.received.filter((m) => ids.includes(m.replyto ?? "")).length ?? 0) === 3, 2000, "queue replies");
    const byId = (id: string | undefined) => conn?.received.find((m) => m.replyto === id);
    expect(byId(ids[0])?.command).toBe("queuemessage");
    expect(byId(ids[1])).toMatchObject({ command: "error", data: "cannot do 2" });
    expect(byId(ids[2])?.command).toBe("queuemessage");
    await until(() => conn?.received.some((m) => m.command === "queuemessage" && !m.replyto) ?? false, 2000, "reply publish");
    const publish = conn?.received.find((m) => m.command === "queuemessage" && !m.replyto);
    expect(JSON.parse(publish?.data ?? "{}")).toMatchObject({ queuename: "caller.q", correlationId: "c3", data: { answer: 42 } });
    // a message for a queue nobody consumes is nacked, not left hanging
    const stray = conn?.push("queuemessage", { queuename: "other", data: {} });
    await until(() => conn?.received.some((m) => m.replyto === stray) ?? false, 2000, "stray nack");
    expect(conn?.received.find((m) => m.replyto === stray)?.command).toBe("error");
  });

  it("watch events reach the handler and the async iterator; watchevent and refreshtoken get no reply", async () => {
    const client = await open();
    const seen: unknown[] = [];
    const watch = await client.watchCollection("entities", ["$.[?(@._type == 'x')]"], (e) => seen.push(e));
    expect(watch.id).toBe("w1");
    const conn = server.conns[0];
    conn?.push("watchevent", { id: "w1", result: { operationType: "insert" } });
    conn?.push("watchevent", { id: "w1", result: { operationType: "update" } });
    const refreshed: string[] = [];
    client.onTokenRefreshed((s) => refreshed.push(s.jwt));
    conn?.push("refreshtoken", { jwt: fakeJwt(99), user: { name: "tester2" } });
    const got: string[] = [];
    for await (const event of watch) {
      got.push(String(event.operationType));
      if (got.length === 2) break;
    }
    expect(got).toEqual(["insert", "update"]);
    expect(seen).toHaveLength(2);
    await until(() => refreshed.length === 1, 2000, "refresh");
    expect(client.jwt).toBe(fakeJwt(99));
    expect(client.user).toEqual({ name: "tester2" });
    // break unwatched on the server
    await until(() => conn?.received.some((m) => m.command === "unwatch") ?? false, 2000, "unwatch");
    expect(conn?.received.filter((m) => m.replyto && m.command !== "queuemessage")).toEqual([]);
  });
});

describe("reconnect and session restore", () => {
  it("server restarts: requests in flight fail with closed, offline requests wait, the session, queues and watches come back", async () => {
    const client = await open({ reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    const states: string[] = [];
    client.onStateChange((s) => states.push(s.state));
    const named = await client.consumeQueue("named", () => undefined);
    const generated = await client.consumeQueue("", () => undefined);
    const firstGenerated = generated.queuename;
    const exchange = await client.consumeExchange({ exchangename: "news", algorithm: "fanout" }, () => undefined);
    expect(exchange.queuename).toBe("q.news");
    const events: unknown[] = [];
    const watch = await client.watchCollection("entities", [], (e) => events.push(e));
    server.conns[0]?.push("refreshtoken", { jwt: fakeJwt(77), user: { name: "tester" } });
    await until(() => client.jwt === fakeJwt(77), 2000, "refresh");
    server.script = (conn, message) => (message.command === "hang" ? undefined : "default");
    const inflight = settle(client.requestUntyped("hang", {}, { timeoutMs: 10_000 }));
    const port = server.port;
    await server.stop();
    const r = await inflight;
    expect(!r.ok && r.error.code).toBe("closed");
    await until(() => client.state === "reconnecting", 2000, "reconnecting");
    const waiting = client.requestUntyped("query", { while: "offline" });
    const restarted = new ScriptedServer();
    server = restarted;
    await restarted.start(port);
    expect(await waiting).toMatchObject({ while: "offline", echoed: true });
    expect(client.state).toBe("open");
    // signed in again with the newest (refreshed) jwt
    const signin = restarted.conns[0]?.received.find((m) => m.command === "signin");
    expect(JSON.parse(signin?.data ?? "{}")).toMatchObject({ jwt: fakeJwt(77) });
    expect(JSON.parse(signin?.data ?? "{}")).not.toHaveProperty("password");
    expect(restarted.registered).toContain("named");
    expect(named.queuename).toBe("named");
    expect(generated.queuename).not.toBe(firstGenerated);
    expect(restarted.registered).toContain(generated.queuename);
    expect(watch.id).toBe("w1");
    expect(restarted.conns[0]?.received.some((m) => m.command === "registerexchange" && JSON.parse(m.data ?? "{}").exchangename === "news")).toBe(true);
    // registering while reconnecting waits for the session instead of failing
    restarted.conns[0]?.push("watchevent", { id: "w1", result: { operationType: "delete" } });
    await until(() => events.length === 1, 2000, "restored watch event");
    expect(states).toEqual(["reconnecting", "open"]);
  });

  it("falls back to username/password when the stored jwt is refused after a reconnect", async () => {
    const client = await open();
    server.conns[0]?.push("refreshtoken", { jwt: "bad", user: {} });
    await until(() => client.jwt === "bad", 2000, "refresh");
    server.dropAll();
    await until(() => server.signins === 3 && client.state === "open", 3000, "fallback signin");
    expect(client.jwt).toBe(fakeJwt(2));
  });

  it("offline fail-fast and give-up after maxAttempts", async () => {
    const client = await open({ offline: { mode: "fail" }, reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } });
    await server.stop();
    await until(() => client.state !== "open", 2000, "drop");
    const r = await settle(client.requestUntyped("query", {}));
    expect(!r.ok && ["offline", "closed"].includes(r.error.code)).toBe(true);
    await until(() => client.state === "closed", 3000, "give up");
    const after = await settle(client.requestUntyped("query", {}));
    expect(!after.ok && after.error.code).toBe("closed");
  });

  it("heartbeat: a silent server (no replies, no frames) is detected dead and the client reconnects", async () => {
    const client = await open({ heartbeat: { intervalMs: 40, idleTimeoutMs: 120, probeTimeoutMs: 80 } });
    let pings = 0;
    server.script = (conn, message) => {
      if (message.command === "ping") pings += 1;
      if (server.signins >= 2) return "default";
      if (message.command === "signin") return "default";
      return undefined; // swallow everything, like a half-open TCP connection
    };
    await until(() => server.signins === 2 && client.state === "open", 3000, "dead detection and reconnect");
    expect(pings).toBeGreaterThan(0);
    expect(server.conns[0]?.received.some((m) => m.command === "count")).toBe(true);
  });

  it("close() settles everything and is final", async () => {
    const client = await open();
    server.script = () => undefined;
    const pending = settle(client.requestUntyped("query", {}, { timeoutMs: 10_000 }));
    client.close();
    const r = await pending;
    expect(!r.ok && r.error.code).toBe("closed");
    expect(client.state).toBe("closed");
    await expect(client.requestUntyped("query", {})).rejects.toMatchObject({ code: "closed" });
  });
});

describe("logging", () => {
  it("never logs the password or a jwt", async () => {
    const lines: string[] = [];
    const sink = (m: string, f?: Record<string, unknown>) => lines.push(m + (f ? JSON.stringify(f) : ""));
    const client = await open({ logger: { debug: sink, info: sink, warn: sink, error: sink }, logLevel: "debug" });
    server.conns[0]?.push("refreshtoken", { jwt: fakeJwt(5), user: {} });
    await until(() => client.jwt === fakeJwt(5), 2000, "refresh");
    server.dropAll();
    await until(() => server.signins === 2 && client.state === "open", 3000, "reconnect");
    expect(lines.length).toBeGreaterThan(3);
    const all = lines.join("\n");
    expect(all).not.toContain("secret-pw");
    expect(all).not.toMatch(/eyJhbGci/);
  });
});

describe("validation mode", () => {
  it("strict rejects an invalid request before sending and an invalid reply after receiving", async () => {
    const client = await open({ validation: "strict" });
    const bad = await settle(client.query({ collectionname: 5 as unknown as string, query: {} }));
    expect(!bad.ok && bad.error.code).toBe("validation");
    expect(!bad.ok && bad.error.message).toContain("/collectionname must be string");
    expect(server.conns[0]?.received.some((m) => m.command === "query")).toBe(false);
    server.script = (conn, message, payload) => {
      if (message.command !== "query") return "default";
      conn.reply(message, { ...(payload as object), result: "not an array" });
    };
    const badReply = await settle(client.query({ collectionname: "entities", query: {} }));
    expect(!badReply.ok && badReply.error.message).toContain("reply payload is invalid");
    // custom commands without a schema pass through
    expect(await client.requestUntyped("nosuchcommand", { a: 1 })).toMatchObject({ echoed: true });
  });

  it("strict checks requests closed: a misspelt optional field is rejected by name before sending", async () => {
    const { validators } = await import("../runtime/validate.js");
    for (const client of [await open({ validation: "strict" }), await open({ validation: "strict", validators })]) {
      const sentBefore = server.conns.flatMap((c) => c.received).filter((m) => m.command === "query").length;
      const typo = await settle(client.requestUntyped("query", { collectionname: "entities", query: {}, tpo: 10 }));
      expect(!typo.ok && typo.error.code).toBe("validation");
      expect(!typo.ok && typo.error.message).toContain("/tpo is not a field of this request");
      expect(server.conns.flatMap((c) => c.received).filter((m) => m.command === "query")).toHaveLength(sentBefore);
      // The same request spelt right goes out; replies stay open (servers echo extra fields).
      expect(await client.query({ collectionname: "entities", query: {}, top: 10 })).toMatchObject({ echoed: true });
      client.close();
    }
  });

  it("a validators option that is not the validation entry's export is a usage error", async () => {
    const failed = await settle(open({ validation: "strict", validators: "yes" as never }));
    expect(!failed.ok && failed.error.code).toBe("usage");
    expect(!failed.ok && failed.error.message).toContain("openflow-spec/validation");
  });

  it("warn logs and still sends", async () => {
    const warnings: string[] = [];
    const client = await open({ validation: "warn", logger: { ...quiet, warn: (m) => warnings.push(m) } });
    await client.query({ collectionname: 5 as unknown as string, query: {} });
    expect(warnings.some((w) => w.includes("/collectionname must be string"))).toBe(true);
  });
});

describe("registering while offline", () => {
  it("consumeQueue during a reconnect waits for the session and then registers", async () => {
    const client = await open({ reconnect: { initialDelayMs: 100, maxDelayMs: 100 } });
    const port = server.port;
    await server.stop();
    await until(() => client.state === "reconnecting", 2000, "reconnecting");
    const pending = client.consumeQueue("late", () => undefined);
    const restarted = new ScriptedServer();
    server = restarted;
    await restarted.start(port);
    const consumer = await pending;
    expect(consumer.queuename).toBe("late");
    expect(restarted.registered).toEqual(["late"]);
  });
});

describe("server-side queue loss and generic handlers", () => {
  it("queueclosed emits an event and the consumer is registered again", async () => {
    const client = await open();
    const closed: string[] = [];
    client.on("queueclosed", (e) => closed.push(e.queuename));
    const consumer = await client.consumeQueue("jobs", () => undefined);
    server.conns[0]?.push("queueclosed", { queuename: "jobs" });
    await until(() => closed.length === 1, 2000, "queueclosed event");
    await until(() => server.registered.filter((q) => q === "jobs").length === 2 && consumer.active, 3000, "re-registration");
    expect(server.conns[0]?.received.some((m) => m.command === "queueclosed")).toBe(false);
  });

  it("onCommand handlers answer server commands: return value is the reply, throwing replies error", async () => {
    const client = await open();
    client.onCommand("customping", (payload) => ({ pong: (payload as { n: number }).n + 1 }));
    client.onCommand("failing", () => {
      throw new Error(`nope ${fakeJwt(3)}`);
    });
    const conn = server.conns[0];
    const a = conn?.push("customping", { n: 1 });
    const b = conn?.push("failing", {});
    await until(() => (conn?.received.filter((m) => m.replyto === a || m.replyto === b).length ?? 0) === 2, 2000, "handler replies");
    expect(JSON.parse(conn?.received.find((m) => m.replyto === a)?.data ?? "{}")).toEqual({ pong: 2 });
    const failure = conn?.received.find((m) => m.replyto === b);
    expect(failure?.command).toBe("error");
    expect(failure?.data).toBe("nope [redacted]");
  });
});
