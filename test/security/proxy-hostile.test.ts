/**
 * Root cause 6, the proxy trusts its input: hostile handshakes, paths that try to leave the configured upstream
 * path, and memory across many connections. Each class asserts the refusal or the bound (counters and sizes, not
 * times) and that a well-behaved client is still served afterwards (or meanwhile) by the same proxy process.
 */
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { receiverHeld } from "../../proxy/budget.js";
import { isRefusal, upstreamTarget } from "../../proxy/handshake.js";
import { startProxy, type RunningProxy } from "../../proxy/index.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Upstream {
  url: string;
  wss: WebSocketServer;
  /** Request targets of every upstream handshake. */
  seen: string[];
}

/** An echo upstream recording the path of every connection the proxy opens. */
async function upstream(onConnection?: (ws: WebSocket, path: string) => void): Promise<Upstream> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const seen: string[] = [];
  wss.on("connection", (ws, req) => {
    seen.push(req.url ?? "");
    if (onConnection) onConnection(ws, req.url ?? "");
    else ws.on("message", (data, binary) => ws.send(data, { binary }));
  });
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, wss, seen };
}

async function proxyTo(url: string, extra: Partial<Parameters<typeof startProxy>[0]> = {}): Promise<RunningProxy> {
  const proxy = await startProxy({ upstream: url, connectTimeoutMs: 5_000, ...extra });
  cleanup.push(() => proxy.close());
  return proxy;
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
  cleanup.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}

/** A well-behaved round trip through the proxy: one frame out, its echo back. */
async function served(proxyUrl: string): Promise<boolean> {
  const ws = await open(proxyUrl);
  const frame = '{"id":"ok","command":"ping"}';
  const echo = new Promise<string>((resolve) => ws.once("message", (d) => resolve(String(d))));
  ws.send(frame);
  const got = await Promise.race([echo, new Promise<string>((resolve) => setTimeout(() => resolve("(timeout)"), 5_000))]);
  ws.close();
  return got === frame;
}

/** Send a raw HTTP upgrade request and return the status code of the answer (0 when the socket closed silently). */
function rawHandshake(port: number, lines: string[]): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const done = (): void => {
      socket.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0));
    };
    const timer = setTimeout(done, 5_000);
    socket.on("data", (d) => {
      answer += d.toString("latin1");
      if (/\r\n\r\n/.test(answer)) {
        clearTimeout(timer);
        done();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      done();
    });
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
function upgradeRequest(path: string, extra: string[] = [], method = "GET"): string[] {
  return [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade", ...extra];
}
const standard = [`Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13"];

describe("hostile handshakes", () => {
  it("answers every malformed handshake with an HTTP error, opens nothing upstream, and keeps serving others", async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url);
    const port = proxy.port;
    const cases: [string, string[], number][] = [
      ["duplicate subprotocol", upgradeRequest("/", [...standard, "Sec-WebSocket-Protocol: chat, chat"]), 400],
      ["duplicate subprotocol in two headers", upgradeRequest("/", [...standard, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"]), 400],
      ["empty subprotocol", upgradeRequest("/", [...standard, "Sec-WebSocket-Protocol: chat,,x"]), 400],
      ["subprotocol with a separator", upgradeRequest("/", [...standard, "Sec-WebSocket-Protocol: a b"]), 400],
      ["subprotocol with a quote", upgradeRequest("/", [...standard, 'Sec-WebSocket-Protocol: "x"']), 400],
      ["missing key", upgradeRequest("/", ["Sec-WebSocket-Version: 13"]), 400],
      ["short key", upgradeRequest("/", ["Sec-WebSocket-Key: abc", "Sec-WebSocket-Version: 13"]), 400],
      ["unknown version", upgradeRequest("/", [`Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 12"]), 400],
      ["not GET", upgradeRequest("/", standard, "POST"), 405],
      ["upgrade to something else", ["GET / HTTP/1.1", "Host: x", "Upgrade: h2c", "Connection: Upgrade", ...standard], 400],
    ];
    const statuses: Record<string, number> = {};
    for (const [name, lines] of cases) statuses[name] = await rawHandshake(port, lines);
    expect(statuses).toEqual(Object.fromEntries(cases.map(([name, , status]) => [name, status])));
    expect(proxy.handshakeErrors).toBe(cases.length);
    expect(up.seen).toEqual([]);
    // The same process still serves a well-behaved client, many times over.
    for (let i = 0; i < 3; i++) expect(await served(proxy.url)).toBe(true);
    expect(proxy.accepted).toBe(3);
  });
});

describe("peer-chosen text in the proxy's log", () => {
  it("a close reason or an upstream status text cannot start a log line", async () => {
    const up = await upstream();
    const log: string[] = [];
    const logger = { info: (m: string) => log.push(m), warn: (m: string) => log.push(m) };
    const proxy = await proxyTo(up.url, { logger });
    const ws = await open(proxy.url);
    const closed = new Promise((resolve) => ws.once("close", resolve));
    ws.close(4000, "bye\n::error::injected\r\u2028::warning::x");
    await closed;
    for (let i = 0; i < 100 && !log.some((l) => l.includes("closed by")); i++) await new Promise((r) => setTimeout(r, 10));
    const text = log.join("\n");
    expect(text).toContain("closed by the client with code 4000");
    for (const line of text.split(/[\n\r\u2028\u2029\u0085]/)) expect(line.trimStart().startsWith("::"), line).toBe(false);
    expect(await served(proxy.url)).toBe(true);
  });
});

describe("the upstream path", () => {
  const base = new URL("ws://upstream.test/tenant-a/ws");

  it("is the configured one, or below it: traversal and encoded separators are refused, never resolved", () => {
    const refused = [
      "/../tenant-b/ws",
      "/..",
      "/./../tenant-b/ws",
      "/%2e%2e/tenant-b/ws",
      "/%2E%2e/tenant-b/ws",
      "/.%2e/tenant-b/ws",
      "/..%2ftenant-b/ws",
      "/..%2Ftenant-b",
      "/%252e%252e/tenant-b",
      "/..%5ctenant-b",
      "/..\\tenant-b",
      "/..;/tenant-b/ws",
      "/x/../../tenant-b/ws",
      "//tenant-b/ws",
      "http://upstream.test/tenant-b/ws",
      "tenant-b/ws",
      "/%00",
      "/a%",
    ];
    for (const target of refused) expect(isRefusal(upstreamTarget(base, target)), target).toBe(true);
    expect(upstreamTarget(base, "/")).toBe("ws://upstream.test/tenant-a/ws");
    expect(upstreamTarget(base, "/v2?agent=robot")).toBe("ws://upstream.test/tenant-a/ws/v2?agent=robot");
    expect(upstreamTarget(base, "/a...b/%41")).toBe("ws://upstream.test/tenant-a/ws/a...b/%41");
  });

  it("property: any request target either is refused or stays under the configured path with no dot segment", () => {
    const piece = fc.constantFrom("..", ".", "%2e", "%2E", "%2f", "%2F", "%5c", "%25", "%252e", "/", "\\", ";", "?", "#", "tenant-b", "ws", "a", "%41", "..;", "//", ":", "@", "~");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.boolean(), (pieces, slash) => {
        const target = `${slash ? "/" : ""}${pieces.join("")}`;
        const result = upstreamTarget(base, target);
        if (isRefusal(result)) return;
        const url = new URL(result);
        expect(url.host).toBe("upstream.test");
        expect(url.pathname === "/tenant-a/ws" || url.pathname.startsWith("/tenant-a/ws/")).toBe(true);
        const decoded = decodeURIComponent(url.pathname);
        expect(decoded.split("/").some((s) => /^\.+(;.*)?$/.test(s))).toBe(false);
        expect(decoded.includes("\\")).toBe(false);
      }),
      { seed: 19_06, numRuns: 2_000 },
    );
  });

  it("through the proxy: traversal attempts get 400 and reach no upstream path; the configured path is served", async () => {
    const up = await upstream();
    const proxy = await proxyTo(`${up.url}tenant-a/ws`);
    for (const path of ["/../tenant-b/ws", "/%2e%2e/tenant-b/ws", "/..%2ftenant-b/ws", "/..;/tenant-b/ws", "http://127.0.0.1/tenant-b/ws"]) {
      expect(await rawHandshake(proxy.port, upgradeRequest(path, standard)), path).toBe(400);
    }
    expect(up.seen).toEqual([]);
    expect(await served(proxy.url)).toBe(true);
    expect(await served(`${proxy.url}v2`)).toBe(true);
    expect(up.seen).toEqual(["/tenant-a/ws", "/tenant-a/ws/v2"]);
  });
});

describe("memory across connections", () => {
  it("reads what a ws receiver holds of a message still arriving (the budget depends on it)", async () => {
    let server: WebSocket | undefined;
    const up = await upstream((ws) => (server = ws));
    const client = await open(up.url);
    for (let i = 0; i < 50 && !server; i++) await new Promise((r) => setTimeout(r, 20));
    // Half of a 100 000-byte frame, written raw: the receiver holds it without delivering a message.
    const header = Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0, 0, 0, 0, 0]); // masked, zero mask
    (client as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.concat([header, Buffer.alloc(50_000, 0x61)]));
    for (let i = 0; i < 100 && receiverHeld(server as WebSocket) < 50_000; i++) await new Promise((r) => setTimeout(r, 10));
    expect(receiverHeld(server as WebSocket)).toBeGreaterThanOrEqual(50_000);
  });

  it("many clients sending large messages: the proxy holds at most twice the limit + one message + one read per socket, loses nothing, and serves a small client meanwhile", async () => {
    const floods = 8;
    const perClient = 6;
    const size = 2 * 1024 * 1024;
    const limit = 4 * 1024 * 1024;
    let arrived = 0;
    const up = await upstream((ws, path) => {
      ws.on("message", (data, binary) => {
        if (path.endsWith("/flood")) arrived++;
        else ws.send(data, { binary });
      });
    });
    const proxy = await proxyTo(up.url, { maxBufferedBytes: limit, maxMessageBytes: 8 * 1024 * 1024, highWaterBytes: 64 * 1024 * 1024 });
    const clients = await Promise.all(Array.from({ length: floods }, () => open(`${proxy.url}flood`)));
    const payload = Buffer.alloc(size, 0x62);
    for (const c of clients) for (let i = 0; i < perClient; i++) c.send(payload);
    // A small client is served while the flood is in progress.
    expect(await served(proxy.url)).toBe(true);
    for (let i = 0; i < 3_000 && arrived < floods * perClient; i++) await new Promise((r) => setTimeout(r, 10));
    expect(arrived).toBe(floods * perClient);
    // Twice the limit (what was held when it was passed, plus the fair shares), one message beyond it (the
    // leader's), one socket read per socket.
    const bound = 2 * limit + size + (floods + 1) * 2 * 64 * 1024;
    expect(proxy.memory.peak).toBeLessThanOrEqual(bound);
    expect(proxy.memory.pauses).toBeGreaterThan(0);
    expect(proxy.memory.held).toBe(0);
    expect(await served(proxy.url)).toBe(true);
  });
});
