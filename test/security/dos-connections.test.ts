/**
 * Class 4, "one unauthenticated peer (or many) stops the server": connection caps, half-received bytes per
 * unauthenticated connection and in total, a frame announced large and sent slowly; and back-pressure: a
 * client that asked for several large replies at once gets them all (queued, never disconnected), while a
 * client that reads nothing is closed. Each attack ends with a well-behaved client answered.
 */
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/server.js";
import { rawPeer, type RawPeer } from "../server-helpers.js";
import { errorOf, server, signedIn, stillServes } from "./dos-helpers.js";

let open: { close(): unknown }[] = [];
let servers: RunningServer[] = [];

afterEach(async () => {
  for (const p of open) p.close();
  open = [];
  for (const s of servers) await s.close();
  servers = [];
});

async function start(options: Parameters<typeof server>[0]) {
  const s = await server(options);
  servers.push(s);
  return s;
}

async function peer(url: string): Promise<RawPeer> {
  const p = await rawPeer(url);
  open.push(p);
  return p;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

/** A raw TCP websocket client that can send a frame header announcing `length` bytes and then only part of it. */
async function rawSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  open.push({ close: () => socket.destroy() });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const key = randomBytes(16).toString("base64");
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    socket.once("data", (d: Buffer) => (d.toString().startsWith("HTTP/1.1 101") ? resolve() : reject(new Error(d.toString()))));
  });
  return socket;
}

function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x81; // FIN, text
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(length), 2);
  randomBytes(4).copy(header, 10);
  return header;
}

describe("connection caps", () => {
  it("connections that never sign in are capped: a newcomer closes the oldest idle one (never a 503); signed-in clients go on", async () => {
    const s = await start({ limits: { maxUnauthenticatedConnections: 3, maxUnauthenticatedConnectionsPerAddress: 3 } });
    const alice = await signedIn(s.url, "alice");
    open.push(alice);
    const idle = [await peer(s.url), await peer(s.url), await peer(s.url)];
    const next = await peer(s.url);
    await idle[0]?.closed;
    expect(s.log.warnings.join("\n")).toMatch(/limits\.maxUnauthenticatedConnectionsPerAddress 3/);
    await stillServes(s.url, alice);
    expect((await next.request("signin", { username: "mallory", password: "pw-mallory" })).command).toBe("signin");
    expect([...s.context.connections].filter((c) => !c.signedIn).length).toBeLessThanOrEqual(3);
  });

  it("total connections are capped", async () => {
    const s = await start({ limits: { maxConnections: 2, maxConnectionsPerAddress: 2, maxConnectionsPerUser: 2 } });
    const alice = await signedIn(s.url, "alice");
    open.push(alice);
    await signedIn(s.url, "mallory").then((p) => open.push(p));
    await expect(rawPeer(s.url)).rejects.toThrow(/503/);
    expect(s.log.warnings.join("\n")).toMatch(/limits\.maxConnections 2/);
    await stillServes(s.url, alice);
  });
});

describe("half-received bytes", () => {
  it("an unauthenticated peer that announces a large frame and trickles it is closed at limits.maxUnauthenticatedPendingBytes", async () => {
    const s = await start({}); // the default limit, 64 KiB
    const socket = await rawSocket(s.port);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // 10 MB announced: under maxFrameBytes (32 MB), so ws alone would buffer all of it for this peer.
    socket.write(frameHeader(10 * 1024 * 1024));
    for (let i = 0; i < 4; i++) socket.write(Buffer.alloc(32 * 1024, 0x61));
    await closed;
    expect(s.log.warnings.join("\n")).toMatch(/half-received before signin \(limits\.maxUnauthenticatedPendingBytes 65536\)/);
    expect(s.context.connections.size).toBe(0);
    await stillServes(s.url);
  });

  it("an unauthenticated peer sending a chunked message beyond the limit is closed", async () => {
    const s = await start({ limits: { maxUnauthenticatedPendingBytes: 32 * 1024 } });
    const p = await peer(s.url);
    const payload = { username: "x".repeat(200_000), password: "y" };
    const text = JSON.stringify(payload);
    // All chunks but the last: the message never completes, the chunks pile up.
    const id = "big";
    const count = Math.ceil(text.length / 10_000);
    for (let i = 0; i < count - 1; i++) p.sendText(JSON.stringify({ id, command: "signin", count, index: i, data: text.slice(i * 10_000, (i + 1) * 10_000) }));
    await p.closed;
    expect(s.log.warnings.join("\n")).toMatch(/maxUnauthenticatedPendingBytes/);
    await stillServes(s.url);
  });

  it("many signed-in peers each under their own limits cannot exceed limits.maxTotalPendingBytes together", async () => {
    const s = await start({ limits: { maxTotalPendingBytes: 150_000, maxTotalPendingBytesPerAddress: 150_000, maxTotalPendingBytesPerUser: 150_000 } });
    const alice = await signedIn(s.url, "alice");
    open.push(alice);
    const attackers = [await signedIn(s.url, "mallory"), await signedIn(s.url, "mallory"), await signedIn(s.url, "mallory")];
    open.push(...attackers);
    for (const [n, a] of attackers.entries()) {
      for (let i = 0; i < 6; i++) a.sendText(JSON.stringify({ id: `half${n}`, command: "insertone", count: 10, index: i, data: "z".repeat(10_000) }));
    }
    await until(() => s.log.warnings.some((w) => /limits\.maxTotalPendingBytes 150000/.test(w)), "the total cap closes a connection");
    await Promise.race([attackers[2]?.closed, attackers[1]?.closed]);
    expect((s.context as unknown as { pendingBytes: number }).pendingBytes).toBeLessThanOrEqual(150_000);
    await stillServes(s.url, alice);
  });
});

describe("back-pressure on replies", () => {
  it("a client that asked for several large replies at once receives all of them, one after the other", async () => {
    // Before: replies went out as fast as they were produced, and a reader slower than the server went past
    // maxBufferedBytes and was disconnected as a "slow reader".
    const s = await start({ limits: { maxBufferedBytes: 512 * 1024, maxInflightReplyBytes: 64 * 1024 } });
    const alice = await signedIn(s.url, "alice");
    open.push(alice);
    const big = "b".repeat(1024 * 1024);
    const inserted = await alice.request("insertone", { collectionname: "entities", item: { big } });
    expect(inserted.command).toBe("insertone");
    const conn = [...s.context.connections].find((c) => c.signedIn);
    alice.pause();
    const replies = Array.from({ length: 8 }, () => alice.request("query", { collectionname: "entities", query: { big: { $exists: true } } }).catch((e: Error) => e));
    // The server holds the rest of the requests while the first replies wait for the client.
    await until(() => (conn?.bufferedBytes ?? 0) > 64 * 1024 && (conn?.pendingRequests ?? 0) > 0, "replies back up and requests wait");
    expect(conn?.closed).toBe(false);
    alice.resume();
    const results = await Promise.all(replies);
    for (const r of results) {
      expect(r).not.toBeInstanceOf(Error);
      expect((r as { command: string }).command).toBe("query");
      expect((r as { payload: any }).payload.result[0].big.length).toBe(big.length);
    }
    expect(conn?.closed).toBe(false);
    await stillServes(s.url, alice);
  });

  it("a client that reads none of the bytes waiting for it is closed after limits.writeStallTimeoutMs", async () => {
    const s = await start({ limits: { writeStallTimeoutMs: 200, maxInflightReplyBytes: 64 * 1024 }, heartbeat: { intervalMs: 50 } });
    const mallory = await signedIn(s.url, "mallory");
    open.push(mallory);
    await mallory.request("insertone", { collectionname: "entities", item: { big: "c".repeat(2 * 1024 * 1024) } });
    mallory.pause();
    // Enough replies to fill the loopback socket buffers, which absorb several megabytes before anything waits.
    for (let i = 0; i < 40; i++) mallory.send("query", { collectionname: "entities", query: {} });
    const conn = [...s.context.connections].find((c) => c.signedIn);
    await until(() => conn?.closed === true, "the server closes the client that reads nothing");
    mallory.resume(); // a paused client notices the close only once it reads again
    await mallory.closed;
    expect(s.log.warnings.join("\n")).toMatch(/read none \(not reading\)/);
    await stillServes(s.url);
  });
});

describe("rate limit", () => {
  it("a flood of requests from one connection is answered with the rate-limit error; others are unaffected", async () => {
    const s = await start({ rateLimit: { points: 5, durationMs: 60_000 } });
    const mallory = await signedIn(s.url, "mallory");
    open.push(mallory);
    const replies = await Promise.all(Array.from({ length: 4 }, () => mallory.request("count", { collectionname: "entities", query: {} }).then((r) => r.command)));
    expect(replies).toEqual(["count", "count", "count", "count"]);
    mallory.send("count", { collectionname: "entities", query: {} });
    const limited = await mallory.next((f) => f.command === "error" && !f.replyto && /Rate limit exceeded/.test(f.data ?? ""));
    expect(limited.data).toMatch(/consumedPoints: 6/);
    await stillServes(s.url);
  });
});

describe("broker", () => {
  it("messages queued for nobody are capped at limits.maxQueuedMessages", async () => {
    const s = await start({ limits: { maxQueuedMessages: 5, maxQueuedMessagesPerAddress: 5, maxQueuedMessagesPerUser: 5 } });
    const mallory = await signedIn(s.url, "mallory");
    open.push(mallory);
    for (let i = 0; i < 5; i++) expect((await mallory.request("queuemessage", { queuename: `nobody${i}`, data: { i } })).command).toBe("queuemessage");
    const refused = await mallory.request("queuemessage", { queuename: "nobody", data: { i: 6 } });
    expect(errorOf(refused)).toMatch(/Too many queued messages: 5 on this server \(limits\.maxQueuedMessages 5\)/);
    expect(s.context.broker.queuedMessages).toBe(5);
    await stillServes(s.url);
  });

  it("queues consumed per connection and exchanges are capped", async () => {
    const s = await start({ limits: { maxQueuesPerConnection: 3, maxExchanges: 2, maxExchangesPerAddress: 2, maxExchangesPerUser: 2 } });
    const mallory = await signedIn(s.url, "mallory");
    open.push(mallory);
    for (let i = 0; i < 3; i++) expect((await mallory.request("registerqueue", { queuename: `q${i}` })).command).toBe("registerqueue");
    expect((await mallory.request("registerqueue", { queuename: "q1" })).command).toBe("registerqueue"); // already consumed: no new slot
    expect(errorOf(await mallory.request("registerqueue", { queuename: "q3" }))).toMatch(/Too many queues: this connection consumes 3 \(limits\.maxQueuesPerConnection\)/);
    await mallory.request("closequeue", { queuename: "q0" });
    expect((await mallory.request("registerqueue", { queuename: "q3" })).command).toBe("registerqueue");
    for (const name of ["x1", "x2"]) expect((await mallory.request("registerexchange", { exchangename: name, algorithm: "fanout", addqueue: false })).command).toBe("registerexchange");
    expect(errorOf(await mallory.request("registerexchange", { exchangename: "x3", algorithm: "fanout", addqueue: false }))).toMatch(/Too many exchanges: 2 on this server \(limits\.maxExchanges 2\)/);
    await stillServes(s.url);
  });
});
