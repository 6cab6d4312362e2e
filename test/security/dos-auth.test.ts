/**
 * Class 4, "a flood of signins makes every other client wait" and "a long chain of roles makes every command
 * slow": password hashing runs behind a bounded gate (a full line is refused at once as busy), failed signins
 * are throttled per username and per address before any hash, and role expansion is one indexed walk cached
 * until a role changes, capped at limits.maxRoles.
 */
import { describe, expect, it, vi } from "vitest";
import { hashGate } from "../../server/throttle.js";
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
    const busy = texts.filter((t) => /Server busy: \d+ password checks are waiting \(limits\.maxQueuedHashes\)/.test(t));
    const failed = texts.filter((t) => /failed logging in/.test(t));
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.length + failed.length).toBe(12);
    expect(maxActive).toBeLessThanOrEqual(1);
    expect(maxQueued).toBeLessThanOrEqual(2);
    await stillServes(srv.url, alice);
  });

  it("a username with too many failed signins from one address is refused there for the window, before any hash, even with the right password; its owner elsewhere is not locked out", async () => {
    srv = await server({ limits: { signinFailuresPerUser: 3 } });
    const p = await rawPeer(srv.url);
    track(p);
    for (let i = 0; i < 3; i++) expect(errorOf(await p.request("signin", { username: "alice", password: "wrong" }))).toMatch(/alice failed logging in/);
    const gate = vi.spyOn(hashGate, "run");
    const refused = await p.request("signin", { username: "ALICE", password: "pw-alice" });
    expect(errorOf(refused)).toMatch(/Too many failed signins for user alice from 127\.0\.0\.1; try again in \d+ s/);
    expect(gate).not.toHaveBeenCalled();
    gate.mockRestore();
    // The failures were counted for that address only: an attacker cannot lock the owner out everywhere.
    expect((await srv.context.auth.login("alice", "pw-alice", "127.0.0.2"))?.username).toBe("alice");
    // Other users sign in as usual.
    const other = await signedIn(srv.url, "mallory");
    await stillServes(srv.url, other);
  });

  it("an address with too many failed signins (any usernames) is refused for the window", async () => {
    srv = await server({ limits: { signinFailuresPerAddress: 4 } });
    const p = await rawPeer(srv.url);
    track(p);
    for (let i = 0; i < 4; i++) errorOf(await p.request("signin", { username: `guess${i}`, password: "wrong" }));
    expect(errorOf(await p.request("signin", { username: "guess9", password: "wrong" }))).toMatch(/Too many failed signins for address 127\.0\.0\.1/);
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
