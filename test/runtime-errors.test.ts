/**
 * Errors as docs/client.md documents them: a request made while disconnected fails with `offline` when the wait for the
 * connection ends (offline.maxWaitMs, or its own shorter timeout: it was not sent either way); a refused connection, an HTTP
 * answer to the upgrade and an unknown host each give a message naming the cause; a server that stays down does
 * not cost one warning per reconnect attempt.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connect, OpenFlowError, type ClientOptions, type OpenFlowClient } from "../runtime/index.js";
import { describeOpenFailure } from "../runtime/transport.js";
import { nextReportedFailure, reportReconnectFailure } from "../runtime/reconnect.js";
import { ScriptedServer, until } from "./runtime-scripted-server.js";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function serverThenDown(options: Partial<ClientOptions>): Promise<OpenFlowClient> {
  const server = new ScriptedServer();
  await server.start();
  const client = await connect(`ws://127.0.0.1:${server.port}/`, { username: "u", password: "p", logger: quiet, heartbeat: false, ...options });
  cleanup.push(() => client.close());
  await server.stop();
  await until(() => client.state === "reconnecting", 5000, "reconnecting");
  return client;
}

async function failure(promise: Promise<unknown>): Promise<OpenFlowError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OpenFlowError) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("requests while disconnected", () => {
  it("fail with offline when the offline wait ends (request timeout equal to it, as with the defaults)", async () => {
    const client = await serverThenDown({ timeoutMs: 300, offline: { maxWaitMs: 300 }, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    const error = await failure(client.count({ collectionname: "users", query: {} }));
    expect(error.code).toBe("offline");
    expect(error.message).toMatch(/^not connected within (300 ms \(offline\.maxWaitMs\)|the request's timeout \(\d+ ms\)): count not sent$/);
  });

  it("fail with offline, naming the limit, when the request's own timeout ends the wait first", async () => {
    const client = await serverThenDown({ timeoutMs: 30_000, offline: { maxWaitMs: 30_000 }, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    const error = await failure(client.count({ collectionname: "users", query: {} }, { timeoutMs: 200 }));
    expect(error.code).toBe("offline");
    expect(error.message).toMatch(/^not connected within the request's timeout \(\d+ ms\): count not sent$/);
  });

  it("fail at once with offline under mode fail", async () => {
    const client = await serverThenDown({ offline: { mode: "fail" }, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    expect((await failure(client.count({ collectionname: "users", query: {} }))).code).toBe("offline");
  });
});

describe("a connection that cannot open names the cause", () => {
  it("refused: nothing listens on the port", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await failure(connect(`ws://127.0.0.1:${port}/`, { username: "u", password: "p", logger: quiet }));
    expect(error.code).toBe("closed");
    expect(error.message).toContain(`connection refused by 127.0.0.1:${port}`);
  });

  it("an HTTP answer instead of the websocket upgrade", async () => {
    const http: Server = createServer((_req, res) => res.writeHead(404).end("not here"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => http.close(resolve)));
    const port = (http.address() as AddressInfo).port;
    const error = await failure(connect(`ws://127.0.0.1:${port}/nope`, { username: "u", password: "p", logger: quiet }));
    expect(error.code).toBe("closed");
    expect(error.message).toContain("answered the websocket upgrade with HTTP 404");
  });

  it("an unknown host (the error a DNS failure gives, delivered by the WebSocket implementation)", async () => {
    // No real DNS lookup (tests stay on loopback): a WebSocket that fails the way `ws` does for an unknown name.
    class UnknownHost {
      readyState = 0;
      onopen: ((e: unknown) => void) | null = null;
      onmessage = null;
      onclose: ((e: unknown) => void) | null = null;
      onerror: ((e: unknown) => void) | null = null;
      constructor() {
        const error = Object.assign(new Error("getaddrinfo ENOTFOUND openflow.example.invalid"), { code: "ENOTFOUND" });
        setTimeout(() => this.onerror?.({ error, message: error.message }), 1);
      }
      send(): void {}
      close(): void {}
    }
    const error = await failure(connect("ws://openflow.example.invalid/", { username: "u", password: "p", logger: quiet, WebSocket: UnknownHost }));
    expect(error.code).toBe("closed");
    expect(error.message).toContain("unknown host: the name in openflow.example.invalid does not resolve");
  });

  it("browsers give no detail: the message says so instead of being empty", () => {
    expect(describeOpenFailure({ type: "error" }, "ws://h/")).toMatch(/^no detail from the WebSocket implementation/);
  });
});

describe("repeated reconnect failures", () => {
  it("warn for the first three attempts, then at 4, 8, 16, ...; the rest go to debug", async () => {
    expect([1, 2, 3, 4, 5, 7, 8, 9, 16, 1024, 1025].map(reportReconnectFailure)).toEqual([true, true, true, true, false, false, true, false, true, true, false]);
    expect(nextReportedFailure(4)).toBe(8);
    const warnings: string[] = [];
    const debug: string[] = [];
    const logger = { ...quiet, warn: (m: string) => warnings.push(m), debug: (m: string) => debug.push(m) };
    const client = await serverThenDown({ logger, logLevel: "debug", reconnect: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    await until(() => debug.filter((m) => m.startsWith("reconnect attempt")).length >= 20, 20_000, "20 quiet reconnect attempts");
    client.close();
    const warned = warnings.filter((m) => m.startsWith("reconnect attempt"));
    const attempts = warned.length + debug.filter((m) => m.startsWith("reconnect attempt")).length;
    expect(attempts).toBeGreaterThanOrEqual(23);
    expect(warned.length).toBeLessThanOrEqual(3 + Math.ceil(Math.log2(attempts)));
    expect(warned[3]).toMatch(/^reconnect attempt 4 failed: .*connection refused.*attempts before 8 are logged at debug level\)$/);
  }, 30_000);
});
