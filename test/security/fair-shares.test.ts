/**
 * Root cause 5 of issue 19: every server-wide cap was one pool, so one address or one user could take all of
 * it. Each cap now has a per-address and a per-user share (server/shares.ts, options.ts); connections that never
 * sign in are closed at a short deadline and, when their pool is full, the oldest idle one makes room instead
 * of every newcomer getting a 503. Each test takes one share, checks the refusal names it, and that a second,
 * well-behaved client (another user on the same loopback address) is served.
 */
import { describe, expect, it } from "vitest";
import { resolveOptions } from "../../server/options.js";
import { rawPeer } from "../server-helpers.js";
import { closeAfterEach, errorOf, server, signedIn, stillServes, track } from "./dos-helpers.js";

closeAfterEach();

describe("fair shares of every global cap", () => {
  it("defaults: per-address shares are half the global cap, per-user shares a quarter", () => {
    const l = resolveOptions().limits;
    expect(l.maxConnectionsPerAddress).toBe(l.maxConnections / 2);
    expect(l.maxConnectionsPerUser).toBe(l.maxConnections / 4);
    expect(l.maxUnauthenticatedConnectionsPerAddress).toBe(l.maxUnauthenticatedConnections / 2);
    expect(l.maxQueuedMessagesPerUser).toBe(l.maxQueuedMessages / 4);
    expect(l.maxExchangesPerAddress).toBe(l.maxExchanges / 2);
    expect(l.maxQueuesPerUser).toBe(l.maxQueues / 4);
    expect(l.maxQueuedHashesPerAddress).toBe(l.maxQueuedHashes / 2);
    expect(l.maxTotalPendingBytesPerUser).toBe(l.maxTotalPendingBytes / 4);
  });

  it("100 idle unauthenticated sockets (the default pool) do not keep a new client out: the oldest idle ones are closed", async () => {
    const s = await server();
    const idle = await Promise.all(Array.from({ length: 100 }, () => rawPeer(s.url).then(track)));
    const newcomer = track(await rawPeer(s.url));
    expect((await newcomer.request("signin", { username: "alice", password: "pw-alice" })).command).toBe("signin");
    const unauthenticated = [...s.context.connections].filter((c) => !c.signedIn && !c.closed).length;
    expect(unauthenticated).toBeLessThanOrEqual(s.context.options.limits.maxUnauthenticatedConnectionsPerAddress);
    await idle[0]?.closed;
    await stillServes(s.url, newcomer);
  });

  it("a connection that does not sign in within heartbeat.signinTimeoutMs is closed by its own timer", async () => {
    const s = await server({ heartbeat: { signinTimeoutMs: 200, intervalMs: 60_000 } });
    const idle = track(await rawPeer(s.url));
    await idle.closed;
    expect([...s.context.connections].some((c) => !c.closed && !c.signedIn)).toBe(false);
    await stillServes(s.url);
  });

  it("one user cannot take all connections (limits.maxConnectionsPerUser); another user signs in", async () => {
    const s = await server({ limits: { maxConnections: 8 } });
    await signedIn(s.url, "mallory");
    await signedIn(s.url, "mallory");
    const third = track(await rawPeer(s.url));
    expect(errorOf(await third.request("signin", { username: "mallory", password: "pw-mallory" }))).toMatch(/too many connections for user mallory: 2 \(limits\.maxConnectionsPerUser 2\)/);
    await stillServes(s.url);
  });

  it("one address cannot take all connections (limits.maxConnectionsPerAddress): 503 names the share", async () => {
    const s = await server({ limits: { maxConnections: 4, maxConnectionsPerUser: 4 } });
    await signedIn(s.url, "alice");
    await signedIn(s.url, "mallory");
    await expect(rawPeer(s.url)).rejects.toThrow(/503/);
    expect(s.log.warnings.join("\n")).toMatch(/too many connections from 127\.0\.0\.1 \(limits\.maxConnectionsPerAddress 2\)/);
  });

  it("one user cannot take all exchanges, queues or queued messages; another user still can", async () => {
    const s = await server({ limits: { maxExchanges: 8, maxQueues: 8, maxQueuedMessages: 8 } });
    const mallory = await signedIn(s.url, "mallory");
    const alice = await signedIn(s.url, "alice");
    for (const name of ["x1", "x2"]) expect((await mallory.request("registerexchange", { exchangename: name, algorithm: "fanout", addqueue: false })).command).toBe("registerexchange");
    expect(errorOf(await mallory.request("registerexchange", { exchangename: "x3", algorithm: "fanout", addqueue: false }))).toMatch(/Too many exchanges for user .*\(limits\.maxExchangesPerUser 2\)/);
    expect((await alice.request("registerexchange", { exchangename: "a1", algorithm: "fanout", addqueue: false })).command).toBe("registerexchange");

    for (const name of ["q1", "q2"]) expect((await mallory.request("queuemessage", { queuename: name, data: {} })).command).toBe("queuemessage");
    expect(errorOf(await mallory.request("queuemessage", { queuename: "q1", data: {} }))).toMatch(/Too many queued messages for user .*\(limits\.maxQueuedMessagesPerUser 2\)/);
    expect(errorOf(await mallory.request("registerqueue", { queuename: "q3" }))).toMatch(/Too many queues for user .*\(limits\.maxQueuesPerUser 2\)/);
    expect((await alice.request("queuemessage", { queuename: "aq", data: {} })).command).toBe("queuemessage");
    expect(s.context.broker.queuedMessages).toBe(3);
    await stillServes(s.url, alice);
  });

  it("one user's connections together cannot hold more than its share of half-received bytes", async () => {
    const s = await server({ limits: { maxTotalPendingBytes: 400_000 } });
    const alice = await signedIn(s.url, "alice");
    const attackers = [await signedIn(s.url, "mallory"), await signedIn(s.url, "mallory")];
    for (const [n, a] of attackers.entries()) {
      for (let i = 0; i < 6; i++) a.sendText(JSON.stringify({ id: `half${n}`, command: "insertone", count: 10, index: i, data: "z".repeat(10_000) }));
    }
    await Promise.race(attackers.map((a) => a.closed));
    expect(s.log.warnings.join("\n")).toMatch(/half-received bytes for user .*\(limits\.maxTotalPendingBytesPerUser 100000\)/);
    await stillServes(s.url, alice);
  });
});
