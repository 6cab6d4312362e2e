import { describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.js";
import { classifyServerError, Correlator, interpretReply } from "../runtime/correlation.js";
import { OpenFlowError } from "../runtime/errors.js";
import { Heartbeat } from "../runtime/heartbeat.js";
import { redact, redactText, safeLogger, type Logger } from "../runtime/logger.js";
import { OfflineGate } from "../runtime/offline.js";
import { Pacer, TokenBucket } from "../runtime/ratelimit.js";
import { backoffDelay, defaultReconnectPolicy, shouldRetry } from "../runtime/reconnect.js";
import { chunkSizeFrom, Session } from "../runtime/session.js";
import { EventBuffer } from "../runtime/subscriptions.js";

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJkYXRhIjp7fX0.c2lnbmF0dXJl";

/** Settle state of a promise without awaiting forever. */
function track<T>(promise: Promise<T>) {
  const state: { settled: number; value?: T; error?: OpenFlowError } = { settled: 0 };
  promise.then(
    (value) => {
      state.settled += 1;
      state.value = value;
    },
    (error: OpenFlowError) => {
      state.settled += 1;
      state.error = error;
    },
  );
  return state;
}
const flush = () => new Promise((r) => setTimeout(r, 0));

describe("interpretReply: every server error style (../docs/protocol.md#error-detection)", () => {
  const cases: [string, { command: string; data: string | null | undefined }, { ok: true; payload: unknown } | { code: string; text: string }][] = [
    ["plain success", { command: "query", data: '{"result":[1]}' }, { ok: true, payload: { result: [1] } }],
    ["empty data is null", { command: "query", data: "" }, { ok: true, payload: null }],
    ["2021 error field", { command: "query", data: '{"error":"Access denied"}' }, { code: "server", text: "Access denied" }],
    ["latest error command", { command: "error", data: '{"message":"boom","error":"boom"}' }, { code: "server", text: "boom" }],
    ["latest multi-frame error (message only, Q7)", { command: "error", data: '{"message":"only message"}' }, { code: "server", text: "only message" }],
    ["non-JSON error text (client error style)", { command: "error", data: "nack message" }, { code: "server", text: "nack message" }],
    ["unknown command latest", { command: "error", data: '{"message":"Unknown command fly","error":"Unknown command fly"}' }, { code: "unsupported", text: "Unknown command fly" }],
    ["unknown command 2021 (no error key, Q8)", { command: "error", data: '{"message":"Unknown command count"}' }, { code: "unsupported", text: "Unknown command count" }],
    ["object error (stripe body)", { command: "query", data: '{"error":{"message":"card declined"}}' }, { code: "server", text: "card declined" }],
    ["missing jwt", { command: "error", data: '{"message":"Not signed in, and missing jwt"}' }, { code: "auth", text: "missing jwt" }],
    ["rate limit", { command: "error", data: '{"error":"Rate limit exceeded consumedPoints: 31"}' }, { code: "rate-limited", text: "Rate limit" }],
    ["error false is no error", { command: "query", data: '{"error":false,"result":2}' }, { ok: true, payload: { error: false, result: 2 } }],
  ];
  for (const [name, message, want] of cases) {
    it(name, () => {
      const outcome = interpretReply({ id: "r", replyto: "q", ...message }, "query");
      if ("ok" in want) expect(outcome).toEqual(want);
      else {
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) {
          expect(outcome.error.code).toBe(want.code);
          expect(outcome.error.serverMessage).toContain(want.text);
          expect(outcome.error.command).toBe("query");
          expect(outcome.error.message).toContain("query");
        }
      }
    });
  }

  it("non-JSON data in a normal reply is a protocol error", () => {
    const outcome = interpretReply({ id: "r", replyto: "q", command: "query", data: "{oops" }, "query");
    expect(!outcome.ok && outcome.error.code).toBe("protocol");
  });

  it("signin failures are auth; secrets in server text are redacted", () => {
    expect(classifyServerError("anything", "signin")).toBe("auth");
    const outcome = interpretReply({ id: "r", replyto: "q", command: "error", data: JSON.stringify({ error: `bad token ${jwt}` }) }, "query");
    expect(!outcome.ok && outcome.error.message).not.toContain(jwt);
  });
});

describe("Correlator", () => {
  it("settles on reply exactly once; late and duplicate replies are ignored", async () => {
    const clock = new ManualClock();
    const c = new Correlator(clock);
    const s = track(c.track("a", "query", { deadline: 1000, timeoutMs: 1000 }));
    expect(c.reply({ id: "x", replyto: "a", command: "query", data: '{"ok":1}' })).toBe(true);
    expect(c.reply({ id: "y", replyto: "a", command: "query", data: '{"ok":2}' })).toBe(false);
    clock.advance(5000);
    await flush();
    expect(s).toEqual({ settled: 1, value: { ok: 1 } });
    expect(c.size).toBe(0);
  });

  it("times out with one timer for many requests, each at its own deadline", async () => {
    const clock = new ManualClock();
    const c = new Correlator(clock);
    const states = [100, 200, 300].map((t, i) => track(c.track(`r${i}`, "query", { deadline: t, timeoutMs: t })));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(150);
    await flush();
    expect(states.map((s) => s.settled)).toEqual([1, 0, 0]);
    expect(states[0]?.error?.code).toBe("timeout");
    c.reply({ id: "x", replyto: "r1", command: "query", data: "{}" });
    clock.advance(1000);
    await flush();
    expect(states.map((s) => s.error?.code ?? "ok")).toEqual(["timeout", "ok", "timeout"]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("aborts via AbortSignal, before and after sending", async () => {
    const c = new Correlator(new ManualClock());
    const pre = new AbortController();
    pre.abort();
    const s1 = track(c.track("a", "query", { deadline: Infinity, timeoutMs: Infinity, signal: pre.signal }));
    const later = new AbortController();
    const s2 = track(c.track("b", "query", { deadline: Infinity, timeoutMs: Infinity, signal: later.signal }));
    later.abort();
    c.reply({ id: "x", replyto: "b", command: "query", data: "{}" });
    await flush();
    expect([s1.error?.code, s2.error?.code, s2.settled]).toEqual(["aborted", "aborted", 1]);
  });

  it("failAll settles every pending request with closed", async () => {
    const c = new Correlator(new ManualClock());
    const states = ["a", "b", "c"].map((id) => track(c.track(id, "insertone", { deadline: 10, timeoutMs: 10 })));
    c.failAll((id, command) => new OpenFlowError("closed", `${command} ${id} closed`, { id, command }));
    await flush();
    expect(states.map((s) => [s.settled, s.error?.code])).toEqual([
      [1, "closed"],
      [1, "closed"],
      [1, "closed"],
    ]);
  });
});

describe("Heartbeat state machine", () => {
  const opts = { intervalMs: 10_000, idleTimeoutMs: 30_000, probeTimeoutMs: 10_000 };

  it("pings when nothing was sent for the interval, not when busy", () => {
    const hb = new Heartbeat(opts, 0);
    expect(hb.nextDue()).toBe(10_000);
    hb.inbound(9_000);
    hb.outbound(9_000);
    expect(hb.tick(10_000)).toEqual([]);
    expect(hb.tick(19_000)).toEqual(["ping"]);
  });

  it("probes after inbound silence and declares death when the probe stays unanswered", () => {
    const hb = new Heartbeat(opts, 0);
    expect(hb.tick(10_000)).toEqual(["ping"]);
    expect(hb.tick(20_000)).toEqual(["ping"]);
    expect(hb.tick(30_000)).toEqual(["probe"]);
    expect(hb.nextDue()).toBe(40_000);
    expect(hb.tick(40_000)).toEqual(["dead"]);
    expect(hb.dead).toBe(true);
    expect(hb.tick(50_000)).toEqual([]);
  });

  it("any inbound traffic after the probe (server-latest never pongs) keeps the connection alive", () => {
    const hb = new Heartbeat(opts, 0);
    expect(hb.tick(30_000)).toEqual(["probe"]);
    hb.inbound(35_000);
    expect(hb.tick(40_000)).toEqual(["ping"]);
    expect(hb.dead).toBe(false);
    expect(hb.tick(65_000)).toEqual(["probe"]);
  });
});

describe("reconnect backoff", () => {
  it("grows exponentially, is capped, and jitters within [base/2, base]", () => {
    const p = { ...defaultReconnectPolicy, initialDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, p, 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, p, 0)).toBe(400);
    expect(backoffDelay(3, { ...p, jitter: 0 }, 0)).toBe(800);
  });

  it("gives up after maxAttempts", () => {
    const p = { ...defaultReconnectPolicy, maxAttempts: 2 };
    expect([0, 1, 2].map((f) => shouldRetry(f, p))).toEqual([true, true, false]);
    expect(shouldRetry(0, { ...p, enabled: false })).toBe(false);
  });
});

describe("rate-limit pacing", () => {
  it("token bucket refills at its rate", () => {
    const b = new TokenBucket(10, 2, 0);
    expect([b.take(0), b.take(0)]).toEqual([0, 0]);
    expect(b.take(0)).toBe(100);
    expect(b.take(100)).toBe(0);
  });

  it("unpaced sends go straight through; paced ones keep order behind one timer", () => {
    const clock = new ManualClock();
    const sent: [number, string][] = [];
    const pacer = new Pacer(clock, (t) => sent.push([clock.now(), t]));
    pacer.send("a");
    expect(sent).toEqual([[0, "a"]]);
    pacer.enable(10, 1);
    for (const t of ["b", "c", "d"]) pacer.send(t);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1000);
    expect(sent).toEqual([
      [0, "a"],
      [0, "b"],
      [100, "c"],
      [200, "d"],
    ]);
  });
});

describe("offline gate", () => {
  it("fail-fast rejects with offline", async () => {
    const gate = new OfflineGate(new ManualClock(), { mode: "fail", maxWaitMs: 1000, maxQueued: 10 });
    await expect(gate.wait("query")).rejects.toMatchObject({ code: "offline" });
  });

  it("waits bounded in time and count, and releases on open", async () => {
    const clock = new ManualClock();
    const gate = new OfflineGate(clock, { mode: "wait", maxWaitMs: 1000, maxQueued: 2 });
    const a = track(gate.wait("a"));
    const b = track(gate.wait("b"));
    const c = track(gate.wait("c"));
    await flush();
    expect(c.error?.code).toBe("offline");
    clock.advance(500);
    gate.open();
    await flush();
    expect([a.settled, b.settled, a.error, b.error]).toEqual([1, 1, undefined, undefined]);
    gate.shut();
    const d = track(gate.wait("d"));
    clock.advance(1000);
    await flush();
    expect(d.error?.code).toBe("offline");
    const e = track(gate.wait("e", undefined, clock.now() + 100));
    clock.advance(100);
    await flush();
    // The request's own (shorter) deadline ended the wait: still "offline", since nothing was sent.
    expect(e.error?.code).toBe("offline");
    expect(e.error?.message).toBe("not connected within the request's timeout (100 ms): e not sent");
  });
});

describe("session", () => {
  it("adopts websocket_package_size, keeps the old value when missing or invalid (Q5)", () => {
    expect(chunkSizeFrom(4096, 25_000)).toBe(4096);
    expect(chunkSizeFrom(undefined, 4096)).toBe(4096);
    expect(chunkSizeFrom("500", 4096)).toBe(4096);
    expect(chunkSizeFrom(0, 4096)).toBe(4096);
    expect(chunkSizeFrom(1.5, 4096)).toBe(4096);
  });

  it("signs in with the newest jwt after a refresh, with password as fallback", () => {
    const s = new Session({ username: "u", password: "p" });
    expect(s.signinPayload()).toMatchObject({ username: "u", password: "p" });
    s.applySignin({ jwt: "j1", user: { name: "u" }, websocket_package_size: 1000 });
    expect(s.chunkSize).toBe(1000);
    s.applyRefresh({ jwt: "j2", user: { name: "u2" } });
    expect(s.state).toEqual({ jwt: "j2", user: { name: "u2" } });
    expect(s.signinPayload()).toMatchObject({ jwt: "j2" });
    expect(s.signinPayload()).not.toHaveProperty("password");
    expect(s.signinPayload(true)).toMatchObject({ username: "u", password: "p" });
    expect(s.applyRefresh({ user: {} })).toBeUndefined();
    expect(() => s.applySignin({ user: {} })).toThrow(/no jwt/);
  });
});

describe("logging redaction", () => {
  it("removes jwts, passwords and tokens from text and fields", () => {
    expect(redactText(`token ${jwt} end`)).toBe("token [redacted] end");
    expect(redactText('{"username":"u","password":"hunter2"}')).toBe('{"username":"u","password":"[redacted]"}');
    expect(redact({ user: "u", password: "hunter2", nested: { jwt, __jwt: "x", ok: jwt } })).toEqual({
      user: "u",
      password: "[redacted]",
      nested: { jwt: "[redacted]", __jwt: "[redacted]", ok: "[redacted]" },
    });
  });

  it("safeLogger redacts everything and survives a throwing logger", () => {
    const lines: string[] = [];
    const inner: Logger = {
      debug: (m, f) => lines.push(m + JSON.stringify(f ?? {})),
      info: () => {
        throw new Error("broken");
      },
      warn: (m, f) => lines.push(m + JSON.stringify(f ?? {})),
      error: (m) => lines.push(m),
    };
    const log = safeLogger(inner, "debug");
    log.debug(`signin with ${jwt}`, { password: "hunter2" });
    log.info("ignored");
    expect(lines.join("\n")).not.toMatch(/hunter2|eyJhbGci/);
    expect(lines).toHaveLength(1);
  });
});

describe("watch event buffer", () => {
  it("delivers in order, drops the oldest when full, ends cleanly", async () => {
    const b = new EventBuffer<number>(2);
    b.push(1);
    b.push(2);
    b.push(3);
    expect(b.dropped).toBe(1);
    expect(await b.next()).toEqual({ value: 2, done: false });
    const waiting = b.next();
    b.push(4);
    b.push(5);
    expect(await waiting).toEqual({ value: 3, done: false });
    b.end();
    expect(await b.next()).toEqual({ value: 4, done: false });
    expect(await b.next()).toEqual({ value: 5, done: false });
    expect(await b.next()).toEqual({ value: undefined, done: true });
  });
});
