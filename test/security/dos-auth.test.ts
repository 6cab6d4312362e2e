/**
 * Class 4, "a flood of signins makes every other client wait" and "a long chain of roles makes every command
 * slow": password hashing runs behind a bounded gate (a full line is refused at once as busy), failed signins
 * are throttled per username and per address before any hash, and role expansion is one indexed walk cached
 * until a role changes, capped at limits.maxRoles.
 */
import { describe, expect, it, vi } from "vitest";
import { HashGate, hashGate } from "../../server/throttle.js";
import { rawPeer } from "../server-helpers.js";
import { closeAfterEach, errorOf, server, signedIn, stillServes, track } from "./dos-helpers.js";

closeAfterEach();
let srv: Awaited<ReturnType<typeof server>>;

describe("signin flood", () => {
  it("signins beyond the hashing line are refused at once as busy; the line never exceeds its limits", async () => {
    srv = await server({ limits: { maxConcurrentHashes: 1, maxQueuedHashes: 2, signinFailuresPerAddress: 1_000 } });
    const alice = await signedIn(srv.url, "alice");
    const attackers = await Promise.all(Array.from({ length: 12 }, () => rawPeer(srv.url)));
    attackers.forEach((p) => track(p));
    let maxActive = 0;
    let maxQueued = 0;
    const watch = setInterval(() => {
      maxActive = Math.max(maxActive, hashGate.active);
      maxQueued = Math.max(maxQueued, hashGate.queued);
    }, 1);
    const replies = await Promise.all(attackers.map((a, i) => a.request("signin", { username: `nobody${i}`, password: "wrong" })));
    clearInterval(watch);
    const texts = replies.map(errorOf);
    const busy = texts.filter((t) => /Server busy: .*\(limits\.maxQueuedHashes(PerAddress)?\)/.test(t));
    const failed = texts.filter((t) => /failed logging in/.test(t));
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.length + failed.length).toBe(12);
    expect(maxActive).toBeLessThanOrEqual(1);
    expect(maxQueued).toBeLessThanOrEqual(2);
    await stillServes(srv.url, alice);
  });

  it("failed signins of a username from one address slow its next signins there (growing delay, no hash skipped), and the right password still signs in: no lockout", async () => {
    srv = await server({ limits: { signinFailuresPerUser: 3, signinDelayBaseMs: 20, signinMaxDelayMs: 80 } });
    const throttle = srv.context.auth.throttle;
    const p = await rawPeer(srv.url);
    track(p);
    const key = { user: "alice", address: "127.0.0.1" };
    for (let i = 0; i < 3; i++) expect(errorOf(await p.request("signin", { username: "alice", password: "wrong" }))).toMatch(/alice failed logging in/);
    expect(throttle.delayFor(key)).toBe(20);
    errorOf(await p.request("signin", { username: "alice", password: "wrong" }));
    expect(throttle.delayFor(key)).toBe(40);
    for (let i = 0; i < 5; i++) errorOf(await p.request("signin", { username: "alice", password: "wrong" }));
    expect(throttle.delayFor(key)).toBe(80); // capped at limits.signinMaxDelayMs
    // Other addresses and other usernames are not slowed by it.
    expect(throttle.delayFor({ user: "alice", address: "127.0.0.2" })).toBe(0);
    expect(throttle.delayFor({ user: "mallory", address: "127.0.0.1" })).toBe(0);
    // The owner, from the same shared address, is slowed, not refused: the right password signs in, and clears the count.
    expect((await p.request("signin", { username: "ALICE", password: "pw-alice" })).command).toBe("signin");
    expect(throttle.delayFor(key)).toBe(0);
    await stillServes(srv.url, await signedIn(srv.url, "mallory"));
  });

  it("ten wrong passwords from a shared address (all local clients are 127.0.0.1) do not refuse the owner's correct one", async () => {
    srv = await server({ limits: { signinDelayBaseMs: 10, signinMaxDelayMs: 40 } });
    const attacker = await rawPeer(srv.url);
    track(attacker);
    for (let i = 0; i < 10; i++) errorOf(await attacker.request("signin", { username: "alice", password: `guess${i}` }));
    expect(srv.context.auth.throttle.delayFor({ user: "alice", address: "127.0.0.1" })).toBeGreaterThan(0);
    const owner = await signedIn(srv.url, "alice");
    await stillServes(srv.url, owner);
  });

  it("an address with too many failed signins (any usernames) is slowed down for every username", async () => {
    srv = await server({ limits: { signinFailuresPerAddress: 4, signinDelayBaseMs: 10, signinMaxDelayMs: 40 } });
    const p = await rawPeer(srv.url);
    track(p);
    for (let i = 0; i < 4; i++) errorOf(await p.request("signin", { username: `guess${i}`, password: "wrong" }));
    expect(srv.context.auth.throttle.delayFor({ user: "anyone", address: "127.0.0.1" })).toBe(10);
    expect(srv.context.auth.throttle.delayFor({ user: "anyone", address: "127.0.0.9" })).toBe(0);
    expect((await p.request("signin", { username: "mallory", password: "pw-mallory" })).command).toBe("signin");
  });

  it("the hashing line is shared fairly: a flood from 64 loopback addresses cannot keep a client from another address out", async () => {
    const gate = new HashGate(1, 64);
    gate.configure(1, 64, 32, 16);
    let release!: () => void;
    const blocker = gate.run(() => new Promise<void>((r) => (release = r)), { address: "127.0.0.200", user: "x" });
    const flood = Array.from({ length: 64 }, (_, i) => gate.run(async () => "flood", { address: `127.0.0.${i + 2}`, user: `u${i}` }).catch((e: Error) => e.message));
    expect(gate.queued).toBe(64);
    const owner = gate.run(async () => "owner", { address: "127.0.0.1", user: "alice" });
    expect(gate.queued).toBe(64);
    release();
    await blocker;
    expect(await owner).toBe("owner");
    const results = await Promise.all(flood);
    expect(results.filter((r) => /Server busy: a signin from another address took this place/.test(r))).toHaveLength(1);
    // One address may not hold more than its share of places, one username neither.
    const small = new HashGate(1, 64);
    small.configure(1, 64, 3, 2);
    let open!: () => void;
    const busy = small.run(() => new Promise<void>((r) => (open = r)));
    const sameUser = Array.from({ length: 3 }, () => small.run(async () => "ok", { address: "127.0.0.1", user: "bob" }).catch((e: Error) => e.message));
    const sameAddress = Array.from({ length: 3 }, (_, i) => small.run(async () => "ok", { address: "127.0.0.5", user: `u${i}` }).catch((e: Error) => e.message));
    open();
    await busy;
    expect(await Promise.all(sameUser)).toEqual(["ok", "ok", expect.stringMatching(/limits\.maxQueuedHashesPerUser/)]);
    expect(await Promise.all(sameAddress)).toEqual(["ok", "ok", "ok"]);
    expect(await small.run(async () => "ok", { address: "127.0.0.5", user: "z" })).toBe("ok");
  });
});

describe("role expansion", () => {
  it("a chain of 3000 nested roles is expanded once, capped at limits.maxRoles, and recomputed only when a role changes", async () => {
    srv = await server({ limits: { maxRoles: 500 } });
    const auth = srv.context.auth;
    const store = srv.context.store;
    const mallory = auth.findUserByUsername("mallory");
    let holder = { _id: String(mallory?._id), name: "mallory" };
    for (let i = 0; i < 3000; i++) {
      const role = auth.ensureRole(`chain${i}`);
      auth.addMember(String(role._id), holder);
      holder = { _id: String(role._id), name: String(role.name) };
    }
    const scans = vi.spyOn(store, "all");
    const roles = auth.rolesOf(String(mallory?._id));
    expect(roles.length).toBe(500);
    expect(srv.log.warnings.join("\n")).toMatch(/more than 500 roles \(limits\.maxRoles\)/);
    const firstScans = scans.mock.calls.length;
    expect(firstScans).toBeLessThanOrEqual(1);
    // Every further command reuses the expansion: no scan of the role documents.
    for (let i = 0; i < 20; i++) expect(auth.rolesOf(String(mallory?._id)).length).toBe(500);
    expect(scans.mock.calls.length).toBe(firstScans);
    // A role change invalidates: a new role at the start of the chain shows up.
    const extra = auth.ensureRole("extra");
    auth.addMember(String(extra._id), { _id: String(mallory?._id), name: "mallory" });
    expect(auth.rolesOf(String(mallory?._id)).map((r) => r.name)).toContain("extra");
    scans.mockRestore();
    await stillServes(srv.url, await signedIn(srv.url, "mallory"));
  });
});
