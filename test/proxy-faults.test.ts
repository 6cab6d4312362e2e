/**
 * The proxy under faults, against small scripted upstreams (plain ws servers on loopback) so each fault can be
 * produced on purpose: an upstream that refuses, one that dies in the middle of a chunked message, a client that
 * vanishes, close codes in both directions, and a client that stops reading (back-pressure keeps the proxy's
 * memory bounded and nothing is lost once it reads again).
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { encodeMessageText } from "../runtime/framing.js";
import { startProxy, type RunningProxy } from "../proxy/index.js";
import { ConnectionsValidator } from "../validator/connections.js";
import type { Finding } from "../validator/findings.js";
import { waitFor } from "./server-helpers.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A scripted upstream: `onConnection` gets each socket the proxy opens. */
async function upstream(onConnection: (ws: WebSocket) => void): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", onConnection);
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, wss };
}

async function proxyTo(url: string, extra: Partial<Parameters<typeof startProxy>[0]> = {}): Promise<RunningProxy> {
  const proxy = await startProxy({ upstream: url, connectTimeoutMs: 5_000, ...extra });
  cleanup.push(() => proxy.close());
  return proxy;
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  cleanup.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** How the client's handshake failed: the HTTP status of the refusal. */
function refusal(url: string): Promise<number> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", () => {});
    ws.once("open", () => reject(new Error("the handshake should have been refused")));
  });
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Polls `condition` every 10 ms, at most `ms` (bounded). */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("upstream refuses", () => {
  it("answers the client's handshake with 502 when the upstream cannot be reached, and stays up", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const proxy = await proxyTo(`ws://127.0.0.1:${port}/`);
    expect(await refusal(proxy.url)).toBe(502);
    expect(await refusal(proxy.url)).toBe(502);
    expect(proxy.connections.size).toBe(0);
    expect(proxy.accepted).toBe(0);
  });

  it("passes the upstream's own refusal status on", async () => {
    const http: Server = createServer((_req, res) => res.writeHead(404).end());
    http.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
    cleanup.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const proxy = await proxyTo(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    expect(await refusal(proxy.url)).toBe(401);
  });
});

describe("upstream dies mid-chunked message", () => {
  it("forwards the chunks that came, drops the client with 1006 and reports the incomplete message", async () => {
    const chunks = encodeMessageText({ id: "big", replyto: "q1", command: "query", data: JSON.stringify({ result: ["x".repeat(300)] }) }, 100);
    expect(chunks.length).toBeGreaterThan(3);
    const up = await upstream((ws) => {
      ws.once("message", () => {
        ws.send(chunks[0] as string);
        ws.send(chunks[1] as string, () => ws.terminate()); // the server process dies: no close frame
      });
    });
    const findings: Finding[] = [];
    const lines: string[] = [];
    const proxy = await proxyTo(up.url, { onFinding: (f) => findings.push(f), capture: { write: (l) => lines.push(l) } });
    const client = await open(proxy.url);
    const got: string[] = [];
    client.on("message", (m) => got.push(m.toString()));
    const closed = closeOf(client);
    client.send(JSON.stringify({ id: "q1", command: "query", data: JSON.stringify({ collectionname: "entities", query: {} }) }));
    expect((await closed).code).toBe(1006);
    expect(got).toEqual(chunks.slice(0, 2));
    await until(() => findings.length >= 2, 5_000, "findings at close");
    expect(findings.map((f) => f.code).sort()).toEqual(["incomplete-message", "unanswered-request"]);
    expect(findings.every((f) => f.connection === "p1")).toBe(true);
    // The capture says the same when validated afterwards, and records who closed with which code.
    await until(() => lines.some((l) => l.includes('"event":"close"')), 5_000, "close event in the capture");
    const close = JSON.parse(lines.find((l) => l.includes('"event":"close"')) as string);
    expect(close).toMatchObject({ conn: "p1", by: "upstream", code: 1006 });
    const validator = new ConnectionsValidator();
    for (const l of lines) validator.push(l);
    expect(validator.finish().map((f) => f.code).sort()).toEqual(["incomplete-message", "unanswered-request"]);
  });
});

describe("closing", () => {
  it("passes the client's close code and reason to the upstream, and the upstream's to the client", async () => {
    const seen: { code: number; reason: string }[] = [];
    const sockets: WebSocket[] = [];
    const up = await upstream((ws) => {
      sockets.push(ws);
      ws.on("close", (code, reason) => seen.push({ code, reason: reason.toString() }));
    });
    const proxy = await proxyTo(up.url);
    const a = await open(proxy.url);
    a.close(4001, "bye from the client");
    await until(() => seen.length === 1, 5_000, "upstream close");
    expect(seen[0]).toEqual({ code: 4001, reason: "bye from the client" });

    const b = await open(proxy.url);
    await until(() => sockets.length === 2, 5_000, "second upstream socket");
    const closed = closeOf(b);
    sockets[1]?.close(4002, "bye from the server");
    expect(await closed).toEqual({ code: 4002, reason: "bye from the server" });

    const c = await open(proxy.url);
    await until(() => sockets.length === 3, 5_000, "third upstream socket");
    const third = closeOf(c);
    sockets[2]?.close();
    expect((await third).code).toBe(1005);
    await until(() => proxy.connections.size === 0, 5_000, "connections forgotten");
  });

  it("forwards a text message that is not UTF-8 as is: the upstream refuses it (1007) and the client sees that code", async () => {
    const refused: string[] = [];
    const up = await upstream((ws) => ws.on("error", (err) => refused.push(err.message)));
    const proxy = await proxyTo(up.url);
    const client = await open(proxy.url);
    const closed = closeOf(client);
    client.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    await until(() => refused.length === 1, 5_000, "upstream refusal");
    expect(refused[0]).toMatch(/invalid UTF-8/);
    expect((await closed).code).toBe(1007);
  });

  it("drops the upstream connection when the client vanishes without a close frame", async () => {
    const seen: number[] = [];
    const up = await upstream((ws) => ws.on("close", (code) => seen.push(code)));
    const proxy = await proxyTo(up.url);
    const client = await open(proxy.url);
    await until(() => up.wss.clients.size === 1, 5_000, "upstream socket");
    client.terminate();
    await until(() => seen.length === 1, 5_000, "upstream close");
    expect(seen).toEqual([1006]);
    await until(() => proxy.connections.size === 0, 5_000, "connection forgotten");
  });
});

describe("a client that stops reading", () => {
  it("pauses the upstream instead of buffering: proxy memory stays bounded, and everything arrives once it reads", async () => {
    const size = 512 * 1024;
    const count = 80; // 40 MiB: far more than the socket buffers of both hops hold
    const messages = Array.from({ length: count }, (_, i) => JSON.stringify({ id: `m${i}`, command: "watchevent", data: JSON.stringify({ id: "w", result: { n: i, fill: String(i % 10).repeat(size) } }) }));
    let server: WebSocket | undefined;
    const up = await upstream((ws) => {
      server = ws;
      ws.once("message", () => {
        for (const m of messages) ws.send(m);
      });
    });
    const highWaterBytes = 1024 * 1024;
    const proxy = await proxyTo(up.url, { highWaterBytes });
    const client = await open(proxy.url);
    const digests: string[] = [];
    client.on("message", (m) => digests.push(createHash("sha1").update(m as Buffer).digest("hex")));
    client.pause();
    client.send("go");
    await until(() => proxy.connections.size === 1, 5_000, "connection");
    const conn = [...proxy.connections.values()][0];
    // The proxy stops reading the upstream: the backlog stays in the upstream's send buffer, not in the proxy.
    await until(() => (conn?.stats.pauses.s2c ?? 0) > 0, 20_000, "upstream paused");
    expect(conn?.stats.messages.s2c).toBeLessThan(count);
    expect(server?.bufferedAmount).toBeGreaterThan(8 * size);
    const peak = conn?.stats.peakBuffered.s2c ?? Infinity;
    expect(peak).toBeLessThanOrEqual(highWaterBytes + 2 * (size + 200));
    client.resume();
    const all = waitFor<void>((resolve) => client.on("message", () => digests.length === count && resolve()), 20_000, "all messages");
    if (digests.length < count) await all;
    expect(digests).toEqual(messages.map((m) => createHash("sha1").update(m).digest("hex")));
    // Still bounded after the whole transfer.
    expect(conn?.stats.peakBuffered.s2c).toBeLessThanOrEqual(highWaterBytes + 2 * (size + 200));
  });
});

describe("a capture that cannot keep up", () => {
  it("pauses reading until the capture drains, then goes on", async () => {
    const got: string[] = [];
    const up = await upstream((ws) => ws.on("message", (m) => got.push(m.toString())));
    let backedUp = true;
    const drains: (() => void)[] = [];
    const written: string[] = [];
    const proxy = await proxyTo(up.url, {
      capture: {
        write: (l) => written.push(l),
        get backedUp() {
          return backedUp;
        },
        onDrain: (h) => drains.push(h),
      },
    });
    const client = await open(proxy.url);
    client.send('{"id":"1","command":"ping"}');
    await until(() => got.length === 1, 5_000, "first message upstream");
    const conn = [...proxy.connections.values()][0];
    expect(conn?.stats.pauses.c2s).toBe(1);
    client.send('{"id":"2","command":"ping"}');
    // The capture drains: reading resumes and the second message goes through.
    backedUp = false;
    for (const h of drains) h();
    await until(() => got.length === 2, 5_000, "second message upstream");
    expect(got).toEqual(['{"id":"1","command":"ping"}', '{"id":"2","command":"ping"}']);
    await until(() => written.length >= 3, 5_000, "capture lines");
    expect(written.map((l) => JSON.parse(l).frame?.id ?? JSON.parse(l).event)).toEqual(["open", "1", "2"]);
  });
});

describe("the handshake", () => {
  it("passes the client's path, query, credentials header and subprotocol on to the upstream", async () => {
    const seen: { url: string | undefined; auth: string | undefined; protocol: string }[] = [];
    const up = await upstream((ws) => void ws);
    up.wss.on("connection", (ws, req) => seen.push({ url: req.url, auth: req.headers.authorization, protocol: ws.protocol }));
    const proxy = await proxyTo(`${up.url}base/`);
    const client = new WebSocket(`${proxy.url}ws/v1?agent=robot&x=a?b`, ["openflow"], { headers: { Authorization: "Bearer abc" } });
    cleanup.push(() => client.terminate());
    await new Promise<void>((resolve, reject) => {
      client.once("open", () => resolve());
      client.once("error", reject);
    });
    expect(client.protocol).toBe("openflow");
    await until(() => seen.length === 1, 5_000, "upstream connection");
    expect(seen[0]).toEqual({ url: "/base/ws/v1?agent=robot&x=a?b", auth: "Bearer abc", protocol: "openflow" });
    const plain = await open(proxy.url);
    await until(() => seen.length === 2, 5_000, "second upstream connection");
    expect(seen[1]?.url).toBe("/base/");
    plain.close();
  });
});
