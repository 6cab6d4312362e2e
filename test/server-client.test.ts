/**
 * The project's client (runtime `connect`) against the local server, for every implemented command, with a small
 * package size so requests and replies are chunked. Every frame the server sends is validated against the
 * schemas too (frame.json + the command's reply/request payload schema).
 */
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, OpenFlowError, type OpenFlowClient } from "../runtime/index.js";
import { startServer, type RunningServer } from "../server/index.js";
import { rawPeer, validateRecorded } from "./server-helpers.js";

const PACKAGE_SIZE = 128;
let server: RunningServer;
const serverFrames: string[] = [];
/** Lines the server logs at error level: crashes of handlers (anything that is not an OpenFlowError). */
const crashes: string[] = [];
const clients: OpenFlowClient[] = [];
let admin: OpenFlowClient;
let alice: OpenFlowClient;

async function login(username: string, password: string): Promise<OpenFlowClient> {
  const c = await connect(server.url, { username, password, logLevel: "error", reconnect: false, timeoutMs: 5_000 });
  clients.push(c);
  return c;
}

function deferred<T>(ms = 5_000, what = "event"): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what}: nothing within ${ms} ms`)), ms);
    resolve = (v) => {
      clearTimeout(timer);
      res(v);
    };
  });
  return { promise, resolve };
}

/** The server's error text of a failed call (the client prefixes its own message with the command). */
async function failure(p: Promise<unknown>): Promise<{ message: string; code: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OpenFlowError);
    const e = err as OpenFlowError;
    return { message: e.serverMessage ?? e.message, code: e.code };
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  server = await startServer({
    packageSize: PACKAGE_SIZE,
    users: [
      { username: "admin", password: "pw-admin", roles: ["admins"] },
      { username: "alice", password: "pw-alice", roles: ["robots"] },
      { username: "bob", password: "pw-bob" },
    ],
    requeueDelayMs: 50,
    logger: { info() {}, warn() {}, error: (m) => crashes.push(m) },
    shortTokenSeconds: 4,
    refreshCheckIntervalMs: 100,
    refreshBeforeExpiryMs: 3_500,
    onFrame: (direction, text) => {
      if (direction === "out") serverFrames.push(text);
    },
  });
  admin = await login("admin", "pw-admin");
  alice = await login("alice", "pw-alice");
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
});

describe("data commands", () => {
  it("insert, query with projection/orderby/top/skip, JSON-string query with __REGEXP, count, distinct", async () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ _type: "item", name: `item-${String(i).padStart(2, "0")}`, n: i, group: i % 3, tags: [`t${i % 2}`], text: "x".repeat(40) }));
    const inserted = await admin.request<any>("insertmany", { collectionname: "data", items });
    expect(inserted.results).toHaveLength(12);
    expect(inserted.items).toBeUndefined();
    const page = await admin.request<any>("query", { collectionname: "data", query: { _type: "item" }, orderby: "n", skip: 2, top: 3, projection: { name: 1 } });
    expect(page.result.map((d: any) => d.name)).toEqual(["item-02", "item-03", "item-04"]);
    expect(page.result[0].n).toBeUndefined();
    expect(page.query).toBeUndefined();
    const regex = await admin.request<any>("query", { collectionname: "data", query: JSON.stringify({ name: "__REGEXP /item-1\\d/" }), orderby: JSON.stringify({ n: -1 }) });
    expect(regex.result.map((d: any) => d.n)).toEqual([11, 10]);
    const count = await admin.request<any>("count", { collectionname: "data", query: { group: 0 } });
    expect(count.result).toBe(4);
    const distinct = await admin.request<any>("distinct", { collectionname: "data", field: "tags", query: {} });
    expect(distinct.results.sort()).toEqual(["t0", "t1"]);
  });

  it("aggregate with $group and $lookup", async () => {
    await admin.request("insertone", { collectionname: "groups", item: { _type: "group", g: 1, label: "one" } });
    const result = await admin.request<any>("aggregate", {
      collectionname: "data",
      aggregates: [{ $match: { _type: "item" } }, { $group: { _id: "$group", total: { $sum: "$n" } } }, { $sort: { _id: 1 } }, { $lookup: { from: "groups", localField: "_id", foreignField: "g", as: "info" } }],
    });
    expect(result.result.map((r: any) => r.total)).toEqual([18, 22, 26]);
    expect(result.result[1].info[0].label).toBe("one");
    const refused = await failure(admin.request("aggregate", { collectionname: "data", aggregates: [{ $out: "copy" }] }));
    expect(refused.message).toMatch(/\$out is not supported/);
  });

  it("updateone (replace and operators), updatemany, history and getdocumentversion", async () => {
    const doc = (await admin.request<any>("insertone", { collectionname: "hist", item: { name: "h", v: 1 } })).result;
    expect(doc._type).toBe("unknown");
    const replaced = await admin.request<any>("updateone", { collectionname: "hist", item: { _id: doc._id, name: "h", v: 2 } });
    expect(replaced.result).toMatchObject({ v: 2, _version: 1, _created: doc._created });
    expect(replaced.opresult).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const operated = await admin.request<any>("updateone", { collectionname: "hist", query: { name: "h" }, item: { $inc: { v: 10 }, $set: { extra: true } } });
    expect(operated.result).toMatchObject({ v: 12, extra: true, _version: 2 });
    const many = await admin.request<any>("updatemany", { collectionname: "data", query: JSON.stringify({ group: 1 }), item: { $set: { flagged: true, _type: "ignored" } } });
    expect(many.opresult).toMatchObject({ matchedCount: 4, modifiedCount: 4 });
    const flagged = await admin.request<any>("query", { collectionname: "data", query: { flagged: true } });
    expect(flagged.result.every((d: any) => d._type === "item")).toBe(true);
    for (const [version, v] of [[0, 1], [1, 2], [2, 12], [-1, 12]] as const) {
      const got = await admin.request<any>("getdocumentversion", { collectionname: "hist", id: doc._id, version });
      expect(got.result.v).toBe(v);
    }
    const list = await admin.request<any>("listcollections", { includehist: true });
    expect(list.result.map((c: any) => c.name)).toEqual(expect.arrayContaining(["data", "hist", "hist_hist", "entities", "audit"]));
    const plain = await admin.request<any>("listcollections", {});
    expect(plain.result.map((c: any) => c.name)).not.toContain("hist_hist");
  });

  it("insertorupdateone/many with uniqeness, deleteone by _id and id, deletemany by ids and query", async () => {
    const first = await admin.request<any>("insertorupdateone", { collectionname: "ups", item: { key: "a", v: 1 }, uniqeness: "key" });
    const second = await admin.request<any>("insertorupdateone", { collectionname: "ups", item: { key: "a", v: 2 }, uniqeness: "key" });
    expect(second.result._id).toBe(first.result._id);
    expect(second.result._version).toBe(1);
    const many = await admin.request<any>("insertorupdatemany", { collectionname: "ups", items: [{ key: "a", v: 3 }, { key: "b", v: 1 }, { key: "c", v: 1 }], uniqeness: "key" });
    expect(many.results.map((d: any) => d.v)).toEqual([3, 1, 1]);
    await admin.request("insertone", { collectionname: "ups", item: { key: "b", v: 9 } });
    const dup = await failure(admin.request("insertorupdateone", { collectionname: "ups", item: { key: "b" }, uniqeness: "key" }));
    expect(dup.message).toMatch(/is not uniqe/);
    const byUnderscore = await admin.request<any>("deleteone", { collectionname: "ups", _id: first.result._id });
    expect(byUnderscore.affectedrows).toBe(1);
    const rest = (await admin.request<any>("query", { collectionname: "ups", query: {} })).result;
    expect(rest).toHaveLength(3);
    const byId = await admin.request<any>("deleteone", { collectionname: "ups", id: rest[0]._id });
    expect(byId.affectedrows).toBe(1);
    const byIds = await admin.request<any>("deletemany", { collectionname: "ups", ids: [rest[1]._id] });
    expect(byIds.affectedrows).toBe(1);
    const byQuery = await admin.request<any>("deletemany", { collectionname: "ups", query: { key: "b" } });
    expect(byQuery.affectedrows).toBe(1);
    const none = await failure(admin.request("deleteone", { collectionname: "ups", id: rest[0]._id }));
    expect(none.message).toBe("item not found, or Access Denied");
  });

  it("createcollection and dropcollection (admins only, reserved names refused)", async () => {
    await admin.request("createcollection", { collectionname: "made", capped: false });
    expect((await admin.request<any>("listcollections", {})).result.map((c: any) => c.name)).toContain("made");
    expect((await failure(admin.request("createcollection", { collectionname: "made" }))).message).toMatch(/already exists/);
    expect((await failure(alice.request("dropcollection", { collectionname: "made" }))).message).toBe("Access denied, droppping collection made");
    expect((await failure(admin.request("dropcollection", { collectionname: "entities" }))).message).toBe("Access denied, dropping reserved collection entities");
    await admin.request("dropcollection", { collectionname: "made" });
    expect((await admin.request<any>("listcollections", {})).result.map((c: any) => c.name)).not.toContain("made");
  });

  it("enforces read/update/delete rights from _acl between users", async () => {
    const mine = (await alice.request<any>("insertone", { collectionname: "shared", item: { name: "alice's" } })).result;
    const shared = (
      await alice.request<any>("insertone", {
        collectionname: "shared",
        item: { name: "readable", _acl: [{ _id: "5a17f157c4815318c8536c21", name: "users", rights: 2, deny: false }] },
      })
    ).result;
    const bob = await login("bob", "pw-bob");
    const seen = await bob.request<any>("query", { collectionname: "shared", query: {} });
    expect(seen.result.map((d: any) => d.name)).toEqual(["readable"]);
    expect((await failure(bob.request("updateone", { collectionname: "shared", item: { ...shared, name: "hacked" } }))).message).toBe("Access denied, no authorization to UpdateOne unknown readable to database");
    expect((await failure(bob.request("deleteone", { collectionname: "shared", id: shared._id }))).message).toBe("item not found, or Access Denied");
    expect((await failure(bob.request("updateone", { collectionname: "shared", item: { ...mine, name: "x" } }))).message).toBe("item not found or Access Denied");
    expect((await admin.request<any>("query", { collectionname: "shared", query: {} })).result).toHaveLength(2);
    const as = await admin.request<any>("query", { collectionname: "shared", query: {}, queryas: (bob.user as any)._id });
    expect(as.result.map((d: any) => d.name)).toEqual(["readable"]);
    const users = await bob.request<any>("query", { collectionname: "users", query: { _type: "user" } });
    expect(users.result.map((u: any) => u.username)).toEqual(["bob"]);
    expect(users.result[0].passwordhash).toBeUndefined();
  });
});

describe("sessions and tokens", () => {
  it("validate_only issues a token without changing the connection; a per-command jwt runs as that user", async () => {
    const reply = await admin.request<any>("signin", { username: "bob", password: "pw-bob", validate_only: true });
    expect(reply.user.username).toBe("bob");
    const asBob = await admin.request<any>("query", { collectionname: "shared", query: {} }, { jwt: reply.jwt });
    expect(asBob.result.map((d: any) => d.name)).toEqual(["readable"]);
    expect(asBob.jwt).toBeUndefined();
    const asAdmin = await admin.request<any>("query", { collectionname: "shared", query: {} });
    expect(asAdmin.result).toHaveLength(2);
    const long = await admin.request<any>("signin", { validate_only: true, longtoken: true });
    const payload = JSON.parse(Buffer.from(long.jwt.split(".")[1], "base64url").toString());
    expect(payload.exp - payload.iat).toBe(365 * 24 * 3600);
    expect(payload.data.username).toBe("admin");
    const bad = await failure(admin.request("query", { collectionname: "shared", query: {} }, { jwt: "not.a.jwt" }));
    expect(bad.message).toMatch(/Discard query due to invalid or expired jwt/);
  });

  it("pushes refreshtoken before the short token expires", async () => {
    const c = await login("bob", "pw-bob");
    const before = c.jwt;
    const refreshed = deferred<unknown>(5_000, "refreshtoken");
    c.onTokenRefreshed(() => refreshed.resolve(undefined));
    await refreshed.promise;
    expect(c.jwt).not.toBe(before);
    expect((await c.request<any>("count", { collectionname: "shared", query: {} })).result).toBe(1);
  });

  it("rejects expired tokens and refreshes before expiry (injected clock)", async () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const local = await startServer({
      users: [{ username: "u", password: "p" }],
      now: () => now,
      refreshCheckIntervalMs: 20,
      heartbeat: { timeoutMs: 0, signinTimeoutMs: 0 },
    });
    try {
      const peer = await rawPeer(local.url);
      const signin = await peer.request("signin", { username: "u", password: "p" });
      const token = signin.payload.jwt as string;
      const claims = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString());
      expect(claims.exp - claims.iat).toBe(300);
      expect(claims.iat).toBe(now / 1000);
      // 30 s before expiry the connection gets a new short token pushed.
      now += 271_000;
      const pushed = await peer.next((f) => f.command === "refreshtoken");
      expect(pushed.replyto).toBeUndefined();
      const refreshed = JSON.parse(pushed.data as string);
      expect(refreshed.jwt).not.toBe(token);
      expect(refreshed.user.username).toBe("u");
      // The old token, used per command after its expiry, is refused; the connection's new one works.
      now += 40_000;
      const expired = await peer.request("count", { collectionname: "x", query: {}, jwt: token });
      expect(expired.command).toBe("error");
      expect(expired.payload.message).toMatch(/^Discard count due to invalid or expired jwt .*"exp" claim timestamp check failed/);
      expect((await peer.request("count", { collectionname: "x", query: {} })).command).toBe("count");
      peer.close();
    } finally {
      await local.close();
    }
  });

  it("impersonates a user the caller may update", async () => {
    const bobId = (await admin.request<any>("query", { collectionname: "users", query: { username: "bob" } })).result[0]._id;
    const reply = await admin.request<any>("signin", { validate_only: true, jwt: admin.jwt, impersonate: bobId });
    expect(reply.user.username).toBe("bob");
    expect(reply.user.impostor).toBe((admin.user as any)._id);
    const refused = await failure(alice.request("signin", { validate_only: true, jwt: alice.jwt, impersonate: bobId }));
    expect(refused.message).toMatch(/Permission denied/);
  });
});

describe("watch", () => {
  it("pushes insert, update, replace and delete events, filtered by $match and by read rights", async () => {
    const events: any[] = [];
    const aliceEvents: any[] = [];
    const fourth = deferred<void>(5_000, "four watch events");
    const watch = await admin.watchCollection("watched", ["$.[?(@.keep != false && (@.name == 'w1' || @._type === 'unknown'))]"], (e: any) => {
      events.push(e);
      if (events.length === 4) fourth.resolve();
    });
    const aliceWatch = await alice.watchCollection("watched", [], (e: any) => aliceEvents.push(e));
    const doc = (await admin.request<any>("insertone", { collectionname: "watched", item: { name: "w1" } })).result;
    await admin.request("insertone", { collectionname: "watched", item: { name: "skipped", keep: false } });
    await admin.request("updateone", { collectionname: "watched", query: { _id: doc._id }, item: { $set: { name: "w2" } } });
    await admin.request("updateone", { collectionname: "watched", item: { ...doc, name: "w3" } });
    await admin.request("deleteone", { collectionname: "watched", id: doc._id });
    await fourth.promise;
    expect(events.map((e) => e.operationType)).toEqual(["insert", "update", "replace", "delete"]);
    expect(events[1].updateDescription.updatedFields.name).toBe("w2");
    expect(events[3].documentKey._id).toBe(doc._id);
    expect(events[0].ns).toEqual({ db: "openflow", coll: "watched" });
    expect(aliceEvents).toEqual([]);
    await watch.unwatch();
    await aliceWatch.unwatch();
    await admin.request("insertone", { collectionname: "watched", item: { name: "after" } });
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toHaveLength(4);
  });

  it("accepts an old-style [{$match}] pipeline on the change event and refuses unsupported paths", async () => {
    const events: any[] = [];
    const got = deferred<void>(5_000, "matched event");
    const handler = admin.onWatchEvent((p: any) => {
      events.push(p.result);
      got.resolve();
    });
    const reply = await admin.request<any>("watch", { collectionname: "watched2", aggregates: [{ $match: { operationType: "insert", "fullDocument.n": { $gt: 1 } } }] });
    expect(reply.result).toBe(reply.id);
    await admin.request("insertone", { collectionname: "watched2", item: { n: 1 } });
    await admin.request("insertone", { collectionname: "watched2", item: { n: 2 } });
    await got.promise;
    expect(events.map((e) => e.fullDocument.n)).toEqual([2]);
    await admin.request("unwatch", { id: reply.id });
    handler();
    const refused = await failure(admin.request("watch", { collectionname: "watched2", aggregates: ["$..book[0]"] }));
    expect(refused.message).toMatch(/is not supported by this server/);
  });
});

describe("messaging", () => {
  it("queue request/reply between two clients with correlationId", async () => {
    await alice.consumeQueue("worker.upper", (d) => ({ upper: String((d.data as any).text).toUpperCase(), from: (d.data as any).__user?.username }));
    const got = deferred<any>(5_000, "reply");
    const replies = await admin.consumeQueue("", (d) => got.resolve(d));
    const published = await admin.request<any>("queuemessage", { queuename: "worker.upper", replyto: replies.queuename, correlationId: "corr-1", data: { text: "abc" } });
    expect(published.data.__user.username).toBe("admin");
    const reply = await got.promise;
    expect(reply.correlationId).toBe("corr-1");
    expect(reply.data.upper).toBe("ABC");
    expect(reply.data.from).toBe("admin");
    await replies.close();
  });

  it("a nack (error reply) re-queues the message after the delay", async () => {
    let attempts = 0;
    const done = deferred<number>(5_000, "redelivery");
    await alice.consumeQueue("worker.flaky", () => {
      attempts++;
      if (attempts === 1) throw new Error("not yet");
      done.resolve(attempts);
    });
    await admin.request("queuemessage", { queuename: "worker.flaky", data: { n: 1 }, striptoken: true });
    expect(await done.promise).toBe(2);
  });

  it("fanout and direct exchanges route to bound queues", async () => {
    const fan: string[] = [];
    const fanDone = deferred<void>(5_000, "fanout");
    const onFan = (who: string) => () => {
      fan.push(who);
      if (fan.length === 2) fanDone.resolve();
    };
    await admin.consumeExchange({ exchangename: "news", algorithm: "fanout" }, onFan("admin"));
    // The first registrant claims an exchange (an mq document, as server-latest does); others need read on it.
    const share = (name: string) =>
      admin.request("updatemany", { collectionname: "mq", query: { _type: "exchange", name }, item: { $push: { _acl: { _id: "5a17f157c4815318c8536c21", name: "users", rights: 2, deny: false } } } });
    await share("news");
    await alice.consumeExchange({ exchangename: "news", algorithm: "fanout" }, onFan("alice"));
    await admin.request("queuemessage", { exchangename: "news", data: { headline: "x" } });
    await fanDone.promise;
    expect(fan.sort()).toEqual(["admin", "alice"]);

    const direct: string[] = [];
    const directDone = deferred<void>(5_000, "direct");
    await admin.consumeExchange({ exchangename: "jobs", algorithm: "direct", routingkey: "red" }, (d) => {
      direct.push(`red:${(d.data as any).v}`);
    });
    await share("jobs");
    await alice.consumeExchange({ exchangename: "jobs", algorithm: "direct", routingkey: "blue" }, (d) => {
      direct.push(`blue:${(d.data as any).v}`);
      directDone.resolve();
    });
    await admin.request("queuemessage", { exchange: "jobs", routingkey: "red", data: { v: 1 } });
    await admin.request("queuemessage", { exchangename: "jobs", routingkey: "blue", data: { v: 2 } });
    await directDone.promise;
    await new Promise((r) => setTimeout(r, 50));
    expect(direct.sort()).toEqual(["blue:2", "red:1"]);
    expect((await failure(admin.requestUntyped("registerexchange", { exchangename: "x", algorithm: "bogus" }))).message).toMatch(/^invalid registerexchange payload: \/algorithm must be equal to one of the allowed values/);
  });

  it("queueclosed when a queue goes away; closequeue stops consumption", async () => {
    const peer = await rawPeer(server.url);
    const signin = await peer.request("signin", { username: "bob", password: "pw-bob" });
    expect(signin.command).toBe("signin");
    const reg = await peer.request("registerqueue", { queuename: "Doomed.Queue" });
    expect(reg.payload.queuename).toBe("doomed.queue");
    expect(server.dropQueue("doomed.queue")).toBe(true);
    const closed = await peer.next((f) => f.command === "queueclosed");
    expect(JSON.parse(closed.data as string)).toEqual({ queuename: "doomed.queue" });
    expect(closed.replyto).toBeUndefined();
    const reg2 = await peer.request("registerqueue", { queuename: "" });
    expect(reg2.payload.queuename).toMatch(/^unknown\./);
    const close = await peer.request("closequeue", { queuename: reg2.payload.queuename });
    expect(close.command).toBe("closequeue");
    expect(server.context.broker.queueNames()).not.toContain(reg2.payload.queuename);
    peer.close();
  });
});

describe("message expiry", () => {
  it("drops an unconsumed message after its expiration and dead-letters a timeout to its reply queue", async () => {
    const local = await startServer({ users: [{ username: "u", password: "p" }], heartbeat: { intervalMs: 30 } });
    try {
      const c = await connect(local.url, { username: "u", password: "p", logLevel: "error", reconnect: false });
      clients.push(c);
      const got = deferred<any>(5_000, "timeout dead letter");
      const replies = await c.consumeQueue("", (d) => got.resolve(d));
      await c.request("queuemessage", { queuename: "nobody.listens", replyto: replies.queuename, correlationId: "late-1", data: { q: 1 }, expiration: 50 });
      expect(local.context.broker.pendingCount("nobody.listens")).toBe(1);
      const dead = await got.promise;
      expect(dead.data).toEqual({ command: "timeout" });
      expect(dead.correlationId).toBe("late-1");
      expect(local.context.broker.pendingCount("nobody.listens")).toBe(0);
    } finally {
      await local.close();
    }
  });
});

describe("work items", () => {
  it("queues: add, get, update, delete (purge) with the users role", async () => {
    const q = (await admin.request<any>("addworkitemqueue", { name: "wq", maxretries: 0, retrydelay: 0, initialdelay: 0 })).result;
    expect(q).toMatchObject({ _type: "workitemqueue", name: "wq", maxretries: 3 });
    expect(q._acl.some((a: any) => a.name === "wq users")).toBe(true);
    expect((await failure(admin.request("addworkitemqueue", { name: "wq", maxretries: 3, retrydelay: 0, initialdelay: 0 }))).message).toBe("Work item queue with name wq already exists");
    expect((await admin.request<any>("getworkitemqueue", { _id: q._id })).result.name).toBe("wq");
    const updated = (await admin.request<any>("updateworkitemqueue", { _id: q._id, name: "wq2", maxretries: 5 })).result;
    expect(updated).toMatchObject({ name: "wq2", maxretries: 5 });
    await admin.request("addworkitem", { wiq: "wq2", name: "x" });
    expect((await failure(admin.request("deleteworkitemqueue", { name: "wq2" }))).message).toBe("Work item queue wq2 is not empty, enable purge to delete");
    await admin.request("deleteworkitemqueue", { name: "wq2", purge: true });
    expect((await admin.request<any>("getworkitemqueue", { name: "wq2" })).result).toBeNull();
  });

  it("items: priority order, nextrun, retries, success/failed copies, files", async () => {
    await admin.request("addworkitemqueue", { name: "done", maxretries: 3, retrydelay: 0, initialdelay: 0 });
    await admin.request("addworkitemqueue", { name: "work", maxretries: 2, retrydelay: 0, initialdelay: 0, success_wiq: "done" });
    const added = await admin.request<any>("addworkitems", {
      wiq: "work",
      items: [
        { name: "low", payload: { p: 5 }, priority: 5 },
        { name: "later", payload: "plain", priority: 0, nextrun: new Date(Date.now() + 3_600_000).toISOString() },
        { name: "high", payload: { p: 1 }, priority: 1, files: [{ filename: "a.txt", file: deflateSync(Buffer.from("file in item")).toString("base64"), compressed: true }] },
      ],
    });
    expect(added.items).toHaveLength(3);
    expect(added.items[1].payload).toEqual({ value: "plain" });
    const high = (await admin.request<any>("popworkitem", { wiq: "work" })).result;
    expect(high).toMatchObject({ name: "high", state: "processing", username: "admin" });
    expect(high.files[0].filename).toBe("a.txt");
    const file = await admin.request<any>("getfile", { id: high.files[0]._id });
    expect(Buffer.from(file.file, "base64").toString()).toBe("file in item");
    const ok = (await admin.request<any>("updateworkitem", { _id: high._id, state: "successful" })).result;
    expect(ok.state).toBe("successful");
    expect(ok.nextrun).toBeUndefined();
    const copied = (await admin.request<any>("popworkitem", { wiq: "done" })).result;
    expect(copied).toMatchObject({ name: "high", payload: { p: 1 }, retries: 0, wiq: "done" });
    expect(copied.success_wiq).toBeUndefined();
    expect(copied.files[0]._id).not.toBe(high.files[0]._id);
    const copiedFile = await admin.request<any>("getfile", { id: copied.files[0]._id });
    expect(Buffer.from(copiedFile.file, "base64").toString()).toBe("file in item");

    const low = (await admin.request<any>("popworkitem", { wiq: "work" })).result;
    expect(low.name).toBe("low");
    const business = (await admin.request<any>("updateworkitem", { _id: low._id, state: "retry", errortype: "business", errormessage: "bad input" })).result;
    expect(business.state).toBe("failed");
    expect((await admin.request<any>("popworkitem", { wiq: "work" })).result).toBeUndefined();
    expect((await failure(admin.request("updateworkitem", { _id: low._id, state: "new" }))).message).toMatch(/^Illegal state new on Workitem/);
    const ignoring = (await admin.request<any>("updateworkitem", { _id: low._id, state: "retry", ignoremaxretries: true })).result;
    expect(ignoring).toMatchObject({ state: "new", retries: 1, userid: null, username: null });
    expect(typeof ignoring.nextrun).toBe("string");
    await admin.request("deleteworkitem", { _id: low._id });
    expect((await failure(admin.request("deleteworkitem", { _id: low._id }))).message).toMatch(/not found/);
  });

  it("refuses a user without invoke rights on the queue", async () => {
    await admin.request("addworkitemqueue", { name: "private", maxretries: 3, retrydelay: 0, initialdelay: 0 });
    const refused = await failure(alice.request("addworkitem", { wiq: "private", name: "x" }));
    expect(refused.message).toMatch(/Work item queue not found|missing invoke rights/);
  });
});

describe("workflow instances", () => {
  it("createworkflowinstance stores the instance and, with initialrun, sends it to the robot queue", async () => {
    const robotGot = deferred<any>(5_000, "initial run");
    await alice.consumeQueue("robot.alice", (d) => robotGot.resolve(d));
    const aliceId = (alice.user as any)._id;
    const reply = await admin.request<any>("createworkflowinstance", { targetid: aliceId, queue: "robot.alice", resultqueue: "results.admin", name: "invoice run", data: { amount: 3 }, initialrun: true });
    expect(reply.newinstanceid).toMatch(/^[0-9a-f]{24}$/);
    expect(reply.payload).toEqual({ amount: 3 });
    expect(reply.data).toBeUndefined();
    expect(JSON.parse(Buffer.from(reply.jwt.split(".")[1], "base64url").toString()).data.username).toBe("admin");
    const delivery = await robotGot.promise;
    expect(delivery.data._id).toBe(reply.newinstanceid);
    expect(delivery.replyto).toBe("results.admin");
    const stored = await alice.request<any>("query", { collectionname: "workflow_instances", query: { _id: reply.newinstanceid } });
    expect(stored.result[0]).toMatchObject({ _type: "instance", state: "new", name: "invoice run", targetid: aliceId });
    const self = await failure(admin.request("createworkflowinstance", { targetid: aliceId, queue: "q", resultqueue: "q", name: "n", data: {} }));
    expect(self.message).toBe("Cannot reply to self queuename: q correlationId: q");
    expect((await failure(admin.request("createworkflowinstance", { targetid: "nope", queue: "q", resultqueue: "r", name: "n", data: {} }))).message).toBe("Unknown target id nope");
  });
});

describe("files", () => {
  it("savefile (compressed) / getfile (compress) / updatefile with metadata", async () => {
    const content = "Lorem ipsum ".repeat(50);
    const saved = await admin.request<any>("savefile", { filename: "docs\\lorem.txt", file: deflateSync(Buffer.from(content)).toString("base64"), compressed: true, metadata: { project: "p1" } });
    expect(saved.file).toBeUndefined();
    expect(saved.result).toMatchObject({ length: content.length, contentType: "text/plain", metadata: { name: "lorem.txt", path: "docs", project: "p1" } });
    const plain = await admin.request<any>("getfile", { id: saved.id });
    expect(Buffer.from(plain.file, "base64").toString()).toBe(content);
    const packed = await admin.request<any>("getfile", { filename: "docs\\lorem.txt", compress: true });
    expect(packed.file.length).toBeLessThan(plain.file.length);
    await admin.request("updatefile", { id: saved.id, metadata: { project: "p2", name: "renamed", _acl: saved.result.metadata._acl } });
    const after = await admin.request<any>("getfile", { id: saved.id });
    expect(after.metadata).toMatchObject({ project: "p2", name: "lorem.txt" });
    const listed = await admin.request<any>("query", { collectionname: "files", query: { "metadata.project": "p2" } });
    expect(listed.result).toHaveLength(1);
    expect((await failure(alice.request("getfile", { id: saved.id }))).message).toBe(`File ${saved.id} not found`);
  });
});

describe("other commands", () => {
  it("answers honestly or says not supported", async () => {
    const clientsReply = await admin.request<any>("customcommand", { command: "getclients" });
    expect(clientsReply.result.length).toBeGreaterThanOrEqual(2);
    const unknownSub = await failure(admin.requestUntyped("customcommand", { command: "nope" }));
    expect(unknownSub.message).toMatch(/^invalid customcommand payload: \/command must be equal to one of the allowed values/);
    expect(await admin.request<any>("housekeeping", { skipnodered: true })).toMatchObject({ skipnodered: true });
    expect((await failure(admin.request("getkubenodelabels", {}))).message).toBe("No agentdriver is loaded");
    expect((await failure(admin.request("stripeaddplan", { customerid: "c" }))).message).toMatch(/not supported by this server/);
    expect((await admin.request<any>("createindex", { collectionname: "data", index: { n: 1 } })).result).toBe("n_1");
    expect((await admin.request<any>("getindexes", { collectionname: "data" })).results.map((i: any) => i.key)).toEqual([{ _id: 1 }, { n: 1 }]);
    expect((await failure(admin.request("mapreduce", { collectionname: "data", map: "function(){}", reduce: "function(){}" }))).message).toBe("Unknown command mapreduce");
    expect((await admin.request<any>("selectcustomer", { customerid: "nope" })).customerid).toBeNull();
  });
});

describe("chunking", () => {
  it("reassembles chunked requests and chunks replies at the announced package size", async () => {
    const peer = await rawPeer(server.url);
    const signin = await peer.request("signin", { username: "admin", password: "pw-admin" }, 7);
    expect(signin.payload.websocket_package_size).toBe(PACKAGE_SIZE);
    const big = "é".repeat(1000) + "😀".repeat(300);
    const inserted = await peer.request("insertone", { collectionname: "chunky", item: { big } }, 50);
    expect(inserted.command).toBe("insertone");
    expect(inserted.frames).toBeGreaterThan(10);
    expect(inserted.payload.result.big).toBe(big);
    const replyFrames = peer.frames.filter((f) => f.replyto && f.command === "insertone");
    expect(replyFrames.every((f) => (f.data ?? "").length <= PACKAGE_SIZE)).toBe(true);
    const viaClient = await admin.request<any>("query", { collectionname: "chunky", query: {} });
    expect(viaClient.result[0].big).toBe(big);
    peer.close();
  });
});

describe("server output", () => {
  it("logged no handler crash", () => {
    expect(crashes).toEqual([]);
  });

  it("every frame the server sent validates against the schemas", () => {
    const { checked, commands, issues } = validateRecorded(serverFrames);
    expect(issues).toEqual([]);
    expect(checked).toBeGreaterThan(100);
    for (const c of ["query (reply)", "queuemessage", "watchevent", "refreshtoken", "queueclosed", "error (reply)", "popworkitem (reply)", "signin (reply)"]) {
      expect(commands).toContain(c);
    }
  });
});

describe("error texts as the real server words them", () => {
  it("a disabled user, and a db-locked user's insert", async () => {
    await admin.request("insertone", { collectionname: "users", item: { _type: "user", name: "carol", username: "carol", newpassword: "pw-carol", disabled: true } });
    await admin.request("insertone", { collectionname: "users", item: { _type: "user", name: "dave", username: "dave", newpassword: "pw-dave", dblocked: true } });
    expect((await failure(login("carol", "pw-carol"))).message).toBe("Disabled user carol failed logging in using local");
    const dave = await login("dave", "pw-dave");
    const locked = await failure(dave.request("insertone", { collectionname: "entities", item: { name: "x" } }));
    expect(locked.message).toBe("Access denied (db locked) could be due to hitting quota limit for dave");
  });
});
