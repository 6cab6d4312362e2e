/**
 * Robustness of the local server: state a connection creates goes away with it even when the connection
 * closes while its request is in flight, one client's watch filter cannot fail another client's write, and
 * close() leaves no timer or socket behind.
 */
import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { startServer } from "../server/index.js";
import { topicMatches } from "../server/broker.js";
import { newFrameId } from "../runtime/framing.js";
import { rawPeer } from "./server-helpers.js";

async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const users = [{ username: "admin", password: "pw-admin", roles: ["admins"] }];

describe("server robustness", () => {
  it("watches and queues registered by a request still in flight when the connection closes do not outlive it", async () => {
    const crashes: string[] = [];
    const server = await startServer({ users, logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
    try {
      const admin = await rawPeer(server.url);
      const signin = await admin.request("signin", { username: "admin", password: "pw-admin" });
      const jwt = signin.payload.jwt as string;
      admin.close();
      // Each peer sends its requests (authenticated by the payload jwt, verified asynchronously) and vanishes.
      for (let i = 0; i < 10; i++) {
        const ws = new WebSocket(server.url);
        await new Promise<void>((resolve, reject) => {
          ws.once("open", () => resolve());
          ws.once("error", reject);
        });
        for (const [command, payload] of [
          ["watch", { collectionname: "entities", paths: [], jwt }],
          ["registerqueue", { queuename: "", jwt }],
          ["registerexchange", { exchangename: `ex${i}`, algorithm: "fanout", jwt }],
        ] as const) {
          ws.send(JSON.stringify({ id: newFrameId(), command, data: JSON.stringify(payload), count: 1, index: 0 }));
        }
        ws.terminate();
      }
      await until(() => server.connectionCount === 0, 2000, "connections gone");
      await new Promise((r) => setTimeout(r, 100)); // let every in-flight request finish
      expect(server.context.watches.size).toBe(0);
      expect(server.context.broker.queueNames()).toEqual([]);
      expect(crashes).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe("watch filters", () => {
  it("a filter that throws on some document fails neither the writer's command nor other watchers' events", async () => {
    const crashes: string[] = [];
    const server = await startServer({ users, logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
    try {
      const watcher = await rawPeer(server.url);
      await watcher.request("signin", { username: "admin", password: "pw-admin" });
      // `==` against a document value whose valueOf/toString are not functions throws a TypeError in JS.
      const bad = await watcher.request("watch", { collectionname: "entities", paths: ["$.[?(@.n == 'x')]"] });
      expect(bad.command).toBe("watch");
      const good = await watcher.request("watch", { collectionname: "entities", paths: [] });
      const writer = await rawPeer(server.url);
      await writer.request("signin", { username: "admin", password: "pw-admin" });
      const insert = await writer.request("insertone", { collectionname: "entities", item: { name: "odd", n: { valueOf: 1, toString: 1 } } });
      expect(insert.command).toBe("insertone");
      const event = await watcher.next((f) => f.command === "watchevent");
      expect(JSON.parse(event.data as string).id).toBe(good.payload.id);
      expect(crashes).toEqual([]);
      watcher.close();
      writer.close();
    } finally {
      await server.close();
    }
  });
});

describe("shutdown", () => {
  it("client.close() and server.close() leave no timer or socket, with a nack re-queue timer and a half-received message pending", async () => {
    const { connect } = await import("../runtime/index.js");
    const before = process.getActiveResourcesInfo().filter((r) => r !== "FSReqCallback").length;
    const server = await startServer({ users, requeueDelayMs: 60_000 });
    const client = await connect(server.url, { username: "admin", password: "pw-admin", logLevel: "silent" });
    let nacks = 0;
    await client.consumeQueue("q1", () => {
      nacks += 1;
      throw new Error("nack");
    });
    await client.request("queuemessage", { queuename: "q1", data: { a: 1 } });
    const raw = await rawPeer(server.url);
    await raw.request("signin", { username: "admin", password: "pw-admin" });
    raw.sendText(JSON.stringify({ id: "half", command: "query", count: 3, index: 0, data: "{" }));
    await until(() => nacks === 1, 2000, "the nack");
    client.close();
    await server.close();
    await raw.closed;
    await until(() => process.getActiveResourcesInfo().filter((r) => r !== "FSReqCallback").length <= before, 1000, "handles released");
  });
});

describe("messaging input", () => {
  it("topic matching stays fast for patterns of many # (one publish must not block the server)", () => {
    const pattern = `${Array(12).fill("#").join(".")}.c`;
    const key = `${Array(30).fill("a").join(".")}.b`;
    const started = Date.now();
    expect(topicMatches(pattern, key)).toBe(false);
    expect(topicMatches(pattern, `${key}.c`)).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("topic matching agrees with a regular-expression reference on small random cases", () => {
    const words = ["a", "b", "*", "#"];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const reference = (pattern: string, key: string) => {
      // "#" = zero or more words; the dots around a "#" that matches nothing disappear with it.
      let re = pattern
        .split(".")
        .map((w) => (w === "#" ? "#" : w === "*" ? "[^.]+" : w))
        .join("\\.");
      re = re.replace(/^#\\\./, "(?:[^.]+\\.)*").replace(/\\\.#$/, "(?:\\.[^.]+)*").replace(/\\\.#(?=\\\.)/g, "(?:\\.[^.]+)*").replace(/^#$/, "(?:[^.]+(?:\\.[^.]+)*)?");
      return new RegExp(`^${re}$`).test(key);
    };
    for (let i = 0; i < 2000; i++) {
      const pattern = Array.from({ length: 1 + rand(4) }, () => words[rand(4)]).join(".");
      const key = Array.from({ length: 1 + rand(4) }, () => words[rand(2)]).join(".");
      expect(topicMatches(pattern, key), `${pattern} vs ${key}`).toBe(reference(pattern, key));
    }
  });
});

describe("work item input", () => {
  it("a queue delay beyond the Date range is refused when set, instead of failing every later work item", async () => {
    const crashes: string[] = [];
    const server = await startServer({ users, validate: false, logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
    try {
      const peer = await rawPeer(server.url);
      await peer.request("signin", { username: "admin", password: "pw-admin" });
      const add = await peer.request("addworkitemqueue", { name: "q1", maxretries: 3, retrydelay: 0, initialdelay: 1e308 });
      expect(add.command).toBe("error");
      expect(add.payload.message).toMatch(/initialdelay must be at most/);
      const ok = await peer.request("addworkitemqueue", { name: "q2", maxretries: 3, retrydelay: 0, initialdelay: 0 });
      expect(ok.command).toBe("addworkitemqueue");
      const update = await peer.request("updateworkitemqueue", { name: "q2", retrydelay: -1e300 });
      expect(update.command).toBe("error");
      expect(update.payload.message).toMatch(/retrydelay must be at most/);
      const item = await peer.request("addworkitem", { wiq: "q2", name: "a", payload: {}, nextrun: { seconds: 1e300 } });
      expect(item.command).toBe("error");
      expect(item.payload.message).toMatch(/invalid date/);
      expect((await peer.request("addworkitem", { wiq: "q2", name: "b", payload: {} })).command).toBe("addworkitem");
      expect(crashes).toEqual([]);
      peer.close();
    } finally {
      await server.close();
    }
  });
});

describe("secrets", () => {
  it("password hashes never reach a client: not by projection under another name, $lookup, or a filter", async () => {
    const server = await startServer({ users: [...users, { username: "eve", password: "pw-eve" }] });
    try {
      const eve = await rawPeer(server.url);
      const signin = await eve.request("signin", { username: "eve", password: "pw-eve" });
      const id = signin.payload.user._id as string;
      const texts: string[] = [];
      const projected = await eve.request("aggregate", { collectionname: "users", aggregates: [{ $project: { h: "$passwordhash" } }] });
      texts.push(JSON.stringify(projected.payload.result));
      const queried = await eve.request("query", { collectionname: "users", query: { _id: id }, projection: { h: "$passwordhash" } });
      expect(queried.payload.result).toHaveLength(1);
      texts.push(JSON.stringify(queried.payload.result));
      await eve.request("insertone", { collectionname: "entities", item: { name: "mine", uid: id } });
      const looked = await eve.request("aggregate", { collectionname: "entities", aggregates: [{ $match: { name: "mine" } }, { $lookup: { from: "users", localField: "uid", foreignField: "_id", as: "u" } }] });
      expect(looked.payload.result[0].u).toHaveLength(1);
      texts.push(JSON.stringify(looked.payload.result));
      for (const text of texts) expect(text).not.toMatch(/scrypt|passwordhash/);
      expect(texts[0]).toContain(id);
      const oracle = await eve.request("count", { collectionname: "users", query: { _id: id, passwordhash: { $exists: true } } });
      expect(oracle.payload.result).toBe(0);
      const distinct = await eve.request("distinct", { collectionname: "users", field: "passwordhash" });
      expect(distinct.payload.results).toEqual([]);
      eve.close();
    } finally {
      await server.close();
    }
  });
});

describe("prototype keys", () => {
  it("a __proto__ key in a filter, update document or pipeline is refused by name, never dropped (deletemany matched everything)", async () => {
    const server = await startServer({ users, validate: false });
    try {
      const peer = await rawPeer(server.url);
      await peer.request("signin", { username: "admin", password: "pw-admin" });
      for (let i = 0; i < 3; i++) await peer.request("insertone", { collectionname: "entities", item: { name: `n${i}` } });
      const proto = (inner: unknown) => JSON.parse(`{"__proto__":${JSON.stringify(inner)}}`) as Record<string, unknown>;
      const attempts = [
        await peer.request("deletemany", { collectionname: "entities", query: proto({ name: "nomatch" }) }),
        await peer.request("count", { collectionname: "entities", query: proto({ name: "nomatch" }) }),
        await peer.request("updatemany", { collectionname: "entities", query: { name: "n0" }, item: { $set: proto({ polluted: 1 }) } }),
        await peer.request("aggregate", { collectionname: "entities", aggregates: [{ $match: proto({ name: "nomatch" }) }] }),
      ];
      for (const reply of attempts) {
        expect(reply.command).toBe("error");
        expect(reply.payload.message).toMatch(/__proto__ is not allowed/);
      }
      const count = await peer.request("count", { collectionname: "entities", query: {} });
      expect(count.payload.result).toBe(3);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      peer.close();
    } finally {
      await server.close();
    }
  });
});

describe("broker memory", () => {
  it("queues that only ever received now-expired messages are forgotten by the sweep; consumed and waiting ones stay", async () => {
    let now = Date.now();
    const server = await startServer({ users, now: () => now });
    try {
      const peer = await rawPeer(server.url);
      await peer.request("signin", { username: "admin", password: "pw-admin" });
      const consumed = await peer.request("registerqueue", { queuename: "kept" });
      expect(consumed.command).toBe("registerqueue");
      for (let i = 0; i < 50; i++) {
        const r = await peer.request("queuemessage", { queuename: `random${i}`, data: { i }, expiration: 1000, striptoken: true });
        expect(r.command).toBe("queuemessage");
      }
      await peer.request("queuemessage", { queuename: "waiting", data: {}, expiration: 60_000, striptoken: true });
      expect(server.context.broker.queueNames()).toHaveLength(52);
      now += 2_000;
      server.context.broker.sweep();
      expect(server.context.broker.queueNames().sort()).toEqual(["kept", "waiting"]);
      peer.close();
    } finally {
      await server.close();
    }
  });
});

describe("compressed uploads", () => {
  it("a deflate bomb is refused at the message size limit, in savefile and in work item files", async () => {
    const { deflateSync } = await import("node:zlib");
    const crashes: string[] = [];
    const server = await startServer({ users, limits: { maxMessageChars: 1024 * 1024 }, logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
    try {
      const peer = await rawPeer(server.url);
      await peer.request("signin", { username: "admin", password: "pw-admin" });
      const bomb = deflateSync(Buffer.alloc(16 * 1024 * 1024)).toString("base64"); // ~22 KB of text, 16 MiB inflated
      expect(bomb.length).toBeLessThan(100_000);
      const saved = await peer.request("savefile", { filename: "bomb.bin", mimeType: "application/octet-stream", file: bomb, compressed: true });
      expect(saved.command).toBe("error");
      expect(saved.payload.message).toMatch(/could not be inflated/);
      await peer.request("addworkitemqueue", { name: "wq", maxretries: 3, retrydelay: 0, initialdelay: 0 });
      const item = await peer.request("addworkitem", { wiq: "wq", name: "w", payload: {}, files: [{ filename: "bomb.bin", file: bomb, compressed: true }] });
      expect(item.command).toBe("error");
      expect(item.payload.message).toMatch(/could not be inflated/);
      const small = deflateSync(Buffer.from("hello")).toString("base64");
      expect((await peer.request("savefile", { filename: "ok.txt", mimeType: "text/plain", file: small, compressed: true })).command).toBe("savefile");
      expect(crashes).toEqual([]);
      peer.close();
    } finally {
      await server.close();
    }
  });
});

describe("options", () => {
  it("refuses timer options beyond the platform timer range (they would fire after 1 ms, intervals would spin)", async () => {
    for (const options of [{ requeueDelayMs: 3e9 }, { refreshCheckIntervalMs: 3e9 }, { heartbeat: { intervalMs: 3e9 } }]) {
      await expect(startServer({ users, ...options })).rejects.toThrow(/must be at most 2147483647 ms/);
    }
  });
});

describe("half-received memory", () => {
  it("all half-received messages of a connection together stay under maxPendingChars; the connection and others go on", async () => {
    const server = await startServer({ users, limits: { maxMessageChars: 100_000, maxPartialMessages: 1_000 } });
    try {
      const peer = await rawPeer(server.url);
      await peer.request("signin", { username: "admin", password: "pw-admin" });
      // 10 messages of 30 000 characters each, each missing its last chunk: 300 000 > 2 x 100 000.
      const piece = "x".repeat(30_000);
      for (let i = 0; i < 10; i++) peer.sendText(JSON.stringify({ id: `h${i}`, command: "count", count: 2, index: 0, data: piece }));
      const refused = await peer.next((f) => f.replyto === "h6");
      expect(JSON.parse(refused.data as string).message).toMatch(/half-received messages exceed 200000 characters in total/);
      const conn = [...server.context.connections].find((c) => c.signedIn);
      expect(conn?.reassembler.pendingChars).toBeLessThanOrEqual(200_000);
      const ok = await peer.request("count", { collectionname: "entities", query: {} });
      expect(ok.command).toBe("count");
      peer.close();
    } finally {
      await server.close();
    }
  });
});

describe("deeply nested payloads", () => {
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;

  it("get a clear error in both styles, even before signin, and never take the server down", async () => {
    for (const errorStyle of ["latest", "2021"] as const) {
      const crashes: string[] = [];
      // The stranger's deep payloads are larger than the default 64 KiB an unauthenticated peer may send.
      const limits = { maxUnauthenticatedPendingBytes: 1024 * 1024 };
      const server = await startServer({ users, errorStyle, limits, logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
      try {
        const stranger = await rawPeer(server.url);
        // Echoed back as server-latest does (Q19): re-serializing it overflows; that must not end the process.
        stranger.sendText(JSON.stringify({ id: "e0", command: "error", data: `{"message":${deep}}` }));
        stranger.sendText(JSON.stringify({ id: "d0", command: "query", data: `{"collectionname":"entities","query":{"a":${deep}}}` }));
        const before = await stranger.next((f) => f.replyto === "d0");
        expect(JSON.parse(before.data as string).error).toBe("Not signed in, and missing jwt");
        const peer = await rawPeer(server.url);
        await peer.request("signin", { username: "admin", password: "pw-admin" });
        peer.sendText(JSON.stringify({ id: "d1", command: "insertone", data: `{"collectionname":"entities","item":{"a":${deep}}}` }));
        const reply = await peer.next((f) => f.replyto === "d1");
        expect(JSON.parse(reply.data as string).error).toBe("insertone payload is nested too deeply to process");
        const count = await peer.request("count", { collectionname: "entities", query: {} });
        expect(count.payload.result).toBe(0);
        expect(crashes.filter((c) => !c.includes("message handling failed: RangeError"))).toEqual([]);
        stranger.close();
        peer.close();
      } finally {
        await server.close();
      }
    }
  });
});

describe("slow readers", () => {
  it("a client that stops reading is closed once maxBufferedBytes are waiting for it; writers are unaffected", async () => {
    const warnings: string[] = [];
    const server = await startServer({ users, limits: { maxBufferedBytes: 1024 * 1024 }, logger: { info() {}, warn: (m) => warnings.push(m), error() {} } });
    try {
      const slow = await rawPeer(server.url);
      await slow.request("signin", { username: "admin", password: "pw-admin" });
      expect((await slow.request("watch", { collectionname: "entities", paths: [] })).command).toBe("watch");
      const slowWs = [...server.context.connections].find((c) => c.signedIn);
      const writer = await rawPeer(server.url);
      await writer.request("signin", { username: "admin", password: "pw-admin" });
      slow.pause(); // the server's writes to it now back up into the server's memory
      const items = Array.from({ length: 50 }, (_, i) => ({ name: `doc${i}`, blob: "x".repeat(20_000) }));
      for (let batch = 0; batch < 40 && server.connectionCount > 1; batch++) {
        const r = await writer.request("insertmany", { collectionname: "entities", items });
        expect(r.command).toBe("insertmany");
      }
      expect(server.connectionCount).toBe(1);
      expect(slowWs?.closed).toBe(true);
      expect(warnings.some((w) => w.includes("the client does not read"))).toBe(true);
      writer.close();
    } finally {
      await server.close();
    }
  });
});

describe("chunking abuse", () => {
  it("10 000 one-character chunks of one message are joined; an id reused while half-received is refused by name", async () => {
    const server = await startServer({ users });
    try {
      const peer = await rawPeer(server.url);
      await peer.request("signin", { username: "admin", password: "pw-admin" });
      const tiny = await peer.request("count", { collectionname: "entities", query: { name: "x".repeat(9_950) } }, 1);
      expect(tiny.command).toBe("count");
      expect(tiny.payload.result).toBe(0);
      peer.sendText(JSON.stringify({ id: "re", command: "count", count: 3, index: 0, data: "{" }));
      peer.sendText(JSON.stringify({ id: "re", command: "count", count: 2, index: 1, data: "}" }));
      const refused = await peer.next((f) => f.replyto === "re");
      expect(refused.command).toBe("error");
      expect(JSON.parse(refused.data as string).message).toMatch(/message re \(count\): chunk 1 disagrees with earlier chunks of the same id/);
      expect((await peer.request("count", { collectionname: "entities", query: {} })).command).toBe("count");
      peer.close();
    } finally {
      await server.close();
    }
  });
});
