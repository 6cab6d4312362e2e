/**
 * Bad input against the local server: garbage frames, wrong types, unknown commands, broken chunking, limits,
 * unauthorized access, the 2021 error style, rate limiting and heartbeats. The server must answer with errors
 * (or close the one offending connection where the real server does) and keep serving everybody else.
 */
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateFrame } from "../runtime/validate.js";
import { startServer, type RunningServer } from "../server/index.js";
import { rawPeer, type RawPeer } from "./server-helpers.js";

const users = [
  { username: "admin", password: "pw-admin", roles: ["admins"] },
  { username: "eve", password: "pw-eve" },
];

async function signedIn(server: RunningServer, username = "admin", password = "pw-admin"): Promise<RawPeer> {
  const peer = await rawPeer(server.url);
  const reply = await peer.request("signin", { username, password });
  expect(reply.command).toBe("signin");
  return peer;
}

function errorOf(reply: { command: string; payload: any }): string {
  expect(reply.command).toBe("error");
  expect(reply.payload.error).toBe(reply.payload.message);
  return reply.payload.message;
}

describe("latest style", () => {
  const crashes: string[] = [];
  let server: RunningServer;
  let good: RawPeer;

  beforeAll(async () => {
    server = await startServer({ users, limits: { maxMessageChars: 5_000, maxChunks: 20 }, logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
    good = await signedIn(server);
  });
  afterAll(async () => {
    await server.close();
    expect(crashes).toEqual([]);
  });

  async function stillServing(): Promise<void> {
    const r = await good.request("count", { collectionname: "entities", query: {} });
    expect(r.command).toBe("count");
    expect(typeof r.payload.result).toBe("number");
  }

  it("answers unparsable text with the uncorrelated error frame and keeps the connection", async () => {
    const bad = await signedIn(server);
    bad.sendText("{not json");
    const frame = await bad.next((f) => f.command === "error" && !f.id);
    expect(frame.replyto).toBeUndefined();
    expect(typeof frame.data).toBe("string");
    expect(() => JSON.parse(frame.data as string)).toThrow();
    expect(validateFrame(frame)).toEqual([]);
    bad.sendText("[1,2,3]");
    bad.sendText("42");
    await bad.next((f) => f.command === "error" && f.data === "frame must be a JSON object");
    const after = await bad.request("count", { collectionname: "entities", query: {} });
    expect(after.command).toBe("count");
    await stillServing();
    bad.close();
  });

  it("names the bad frame field: string count, bad index, non-string data", async () => {
    const bad = await signedIn(server);
    bad.sendText(JSON.stringify({ id: "f1", command: "query", data: "{}", count: "1", index: 0 }));
    const r1 = await bad.next((f) => f.replyto === "f1");
    expect(r1.command).toBe("error");
    expect(JSON.parse(r1.data as string).message).toMatch(/\/count must be an integer/);
    bad.sendText(JSON.stringify({ id: "f2", command: "query", data: "{}", count: 2, index: 5 }));
    expect(JSON.parse((await bad.next((f) => f.replyto === "f2")).data as string).message).toMatch(/index 5 is outside 0\.\.1/);
    bad.sendText(JSON.stringify({ id: "f3", command: "query", data: { collectionname: "x" } }));
    expect(JSON.parse((await bad.next((f) => f.replyto === "f3")).data as string).message).toMatch(/\/data must be a string/);
    bad.sendText(JSON.stringify({ id: "f4", command: "query", data: "{broken" }));
    expect(JSON.parse((await bad.next((f) => f.replyto === "f4")).data as string).message).toMatch(/payload is not JSON/);
    await stillServing();
    bad.close();
  });

  it("echoes a frame without command unchanged (real servers do), and errors before signin", async () => {
    const peer = await rawPeer(server.url);
    peer.sendText(JSON.stringify({ id: "nc1", data: "{}" }));
    const before = await peer.next((f) => f.replyto === "nc1");
    expect(JSON.parse(before.data as string).message).toMatch(/\/command must be a non-empty string/);
    await peer.request("signin", { username: "eve", password: "pw-eve" });
    const text = JSON.stringify({ id: "nc2", data: "{\"a\":1}", count: 1, index: 0 });
    peer.sendText(text);
    const echoed = await peer.next((f) => f.id === "nc2");
    expect(echoed).toEqual(JSON.parse(text));
    peer.close();
  });

  it("rejects commands before signin, unknown commands after, and wrong payload types by field", async () => {
    const peer = await rawPeer(server.url);
    expect(errorOf(await peer.request("query", { collectionname: "entities", query: {} }))).toBe("Not signed in, and missing jwt");
    expect(errorOf(await peer.request("signin", { username: "eve", password: "wrong" }))).toBe("eve failed logging in using local");
    expect(errorOf(await peer.request("signin", { username: "nobody", password: "x" }))).toBe("nobody failed logging in using local");
    expect(errorOf(await peer.request("signin", { jwt: "garbage" }))).toMatch(/^Discard signin due to invalid or expired jwt/);
    expect(errorOf(await peer.request("signin", { rawAssertion: "abc" }))).toMatch(/not supported by this server/);
    await peer.request("signin", { username: "eve", password: "pw-eve" });
    expect(errorOf(await peer.request("nosuchcommand", { a: 1 }))).toBe("Unknown command nosuchcommand");
    expect(errorOf(await peer.request("query", { collectionname: "entities", query: {}, top: "ten" }))).toMatch(/^invalid query payload: \/top must be integer/);
    expect(errorOf(await peer.request("insertone", { collectionname: 5, item: {} }))).toMatch(/\/collectionname must be string/);
    expect(errorOf(await peer.request("insertone", { collectionname: "x" }))).toMatch(/must have required property 'item'/);
    expect(errorOf(await peer.request("query", { collectionname: "entities", query: "{not json" }))).toMatch(/\/query/);
    expect(errorOf(await peer.request("query", { collectionname: "entities", query: { $where: "1" } }))).toMatch(/^Invalid query/);
    expect(errorOf(await peer.request("count", null))).toMatch(/^invalid count payload/);
    expect(errorOf(await peer.request("insertone", { collectionname: "users", item: { _type: "user", name: "x" } }))).toMatch(/^Access denied, no authorization to InsertOne/);
    expect(errorOf(await peer.request("dropcollection", { collectionname: "entities" }))).toMatch(/^Access denied/);
    await stillServing();
    peer.close();
  });

  it("refuses another user's documents (ACL) and lets the owner work on", async () => {
    const owner = await signedIn(server);
    const doc = (await owner.request("insertone", { collectionname: "secrets", item: { name: "s", v: 1 } })).payload.result;
    const eve = await signedIn(server, "eve", "pw-eve");
    expect((await eve.request("query", { collectionname: "secrets", query: {} })).payload.result).toEqual([]);
    expect(errorOf(await eve.request("updateone", { collectionname: "secrets", item: { ...doc, v: 2 } }))).toBe("item not found or Access Denied");
    expect(errorOf(await eve.request("deleteone", { collectionname: "secrets", id: doc._id }))).toBe("item not found, or Access Denied");
    expect((await eve.request("deletemany", { collectionname: "secrets", query: {} })).payload.affectedrows).toBe(0);
    expect((await eve.request("getdocumentversion", { collectionname: "secrets", id: doc._id, version: 0 })).payload.result).toBeNull();
    expect((await owner.request("query", { collectionname: "secrets", query: {} })).payload.result[0].v).toBe(1);
    owner.close();
    eve.close();
  });

  it("enforces message size and chunk count limits per message, connection stays up", async () => {
    const peer = await signedIn(server);
    const big = await peer.request("insertone", { collectionname: "x", item: { s: "y".repeat(6_000) } });
    expect(errorOf(big)).toMatch(/exceeds the limit of 5000/);
    const many = await peer.request("insertone", { collectionname: "x", item: { s: "y".repeat(200) } }, 5);
    expect(errorOf(many)).toMatch(/exceeds the limit of 20 chunks/);
    peer.sendText(JSON.stringify({ id: "dup", command: "count", data: "{", count: 3, index: 0 }));
    peer.sendText(JSON.stringify({ id: "dup", command: "count", data: "{", count: 3, index: 0 }));
    expect(JSON.parse((await peer.next((f) => f.replyto === "dup")).data as string).message).toMatch(/duplicate chunk 0 of 3/);
    expect((await peer.request("count", { collectionname: "x", query: {} })).command).toBe("count");
    peer.close();
  });

  it("drops ping/pong silently; sends a client's uncorrelated error and refreshtoken back (Q19)", async () => {
    const peer = await signedIn(server);
    peer.send("ping", undefined, 100, "p1");
    peer.sendText(JSON.stringify({ id: "e1", command: "error", data: JSON.stringify({ message: "boom" }) }));
    peer.sendText(JSON.stringify({ id: "e2", command: "error", data: "plain text" }));
    const e1 = await peer.next((f) => f.id === "e1");
    expect(JSON.parse(e1.data as string)).toEqual({ message: "boom", error: "boom" });
    const e2 = await peer.next((f) => f.id === "e2");
    expect(JSON.parse(e2.data as string).error).toMatch(/JSON/);
    expect(peer.frames.some((f) => f.replyto === "p1")).toBe(false);
    peer.close();
  });

  it("ignores binary messages with an error and refuses other paths", async () => {
    const peer = await signedIn(server);
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(server.url.replace(/\/$/, "/other"));
      ws.on("error", () => resolve());
      ws.on("unexpected-response", () => resolve());
    });
    const ws = new WebSocket(server.url + "ws/v1");
    await new Promise((r) => ws.once("open", r));
    const got = new Promise<string>((r) => ws.once("message", (d) => r(d.toString())));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(JSON.parse(await got).data).toMatch(/binary/);
    ws.close();
    await stillServing();
    peer.close();
  });

  it("survives a burst of garbage from one client while another is served", async () => {
    const noisy = await signedIn(server);
    for (let i = 0; i < 200; i++) noisy.sendText(i % 2 ? `garbage ${i}` : JSON.stringify({ id: `g${i}`, command: "query", data: `{"collectionname":${i}}` }));
    await Promise.all(Array.from({ length: 10 }, () => stillServing()));
    await noisy.next((f) => f.replyto === "g198");
    expect((await noisy.request("count", { collectionname: "entities", query: {} })).command).toBe("count");
    noisy.close();
  });
});

describe("2021 style", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ users, errorStyle: "2021" });
  });
  afterAll(async () => {
    await server.close();
  });

  it("replies errors with the same command and an error field, unknown commands as {message}, ping with pong", async () => {
    const peer = await rawPeer(server.url);
    const denied = await peer.request("query", { collectionname: "entities", query: {} });
    expect(denied.command).toBe("query");
    expect(denied.payload).toMatchObject({ collectionname: "entities", error: "Not signed in, and missing jwt" });
    const bad = await peer.request("signin", { username: "admin", password: "nope" });
    expect(bad.command).toBe("signin");
    expect(bad.payload.error).toBe("admin failed logging in using local");
    expect(bad.payload.password).toBeUndefined();
    await peer.request("signin", { username: "admin", password: "pw-admin" });
    const unknown = await peer.request("nosuchcommand", {});
    expect(unknown).toMatchObject({ command: "error", payload: { message: "Unknown command nosuchcommand" } });
    expect(unknown.payload.error).toBeUndefined();
    const pong = await peer.request("ping", undefined);
    expect(pong.command).toBe("pong");
    peer.close();
  });
});

describe("rate limit and heartbeat", () => {
  it("answers over-limit requests with the uncorrelated rate-limit error", async () => {
    const server = await startServer({ users, rateLimit: { points: 5, durationMs: 60_000 } });
    try {
      const peer = await signedIn(server);
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push(peer.send("count", { collectionname: "entities", query: {} }));
      const limited = await peer.next((f) => f.command === "error" && f.id === ids[7]);
      expect(limited.replyto).toBeUndefined();
      expect(JSON.parse(limited.data as string)).toEqual({ error: "Rate limit exceeded consumedPoints: 9" });
      const answered = peer.frames.filter((f) => f.replyto && ids.includes(f.replyto));
      await peer.next((f) => f.replyto === ids[3]);
      expect(answered.length).toBeLessThanOrEqual(4);
      peer.close();
    } finally {
      await server.close();
    }
  });

  it("closes silent clients and clients that never sign in", async () => {
    const server = await startServer({ users, heartbeat: { timeoutMs: 300, intervalMs: 50, signinTimeoutMs: 200 } });
    try {
      const unsigned = await rawPeer(server.url);
      const silent = await signedIn(server);
      const chatty = await signedIn(server);
      const keepAlive = setInterval(() => chatty.send("ping", undefined), 50);
      await Promise.all([unsigned.closed, silent.closed]);
      expect((await chatty.request("count", { collectionname: "entities", query: {} })).command).toBe("count");
      clearInterval(keepAlive);
      chatty.close();
    } finally {
      await server.close();
    }
  });
});
