/**
 * TLS: verification is on by default, `tls.ca` trusts a private CA, and only the loudly named opt-out accepts
 * an untrusted certificate. Uses a throwaway self-signed certificate for 127.0.0.1 made with openssl.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { encodeMessageText, parseFrame } from "../runtime/framing.js";
import { connect, OpenFlowError } from "../runtime/index.js";
import { fakeJwt } from "./runtime-scripted-server.js";
import { hasOpenssl, selfSignedCertificate } from "./tls-helpers.js";

let dir = "";
let cert = "";
let https: Server | undefined;
let url = "";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), "openflow-tls-"));
  const made = selfSignedCertificate(dir);
  cert = made.cert;
  https = createServer({ cert, key: made.key });
  const wss = new WebSocketServer({ server: https });
  wss.on("connection", (ws) => {
    ws.on("message", (raw) => {
      const frame = parseFrame(raw.toString());
      const data = JSON.stringify({ jwt: fakeJwt(1), user: { name: "tls" } });
      for (const text of encodeMessageText({ id: `r${frame.id}`, replyto: frame.id, command: frame.command, data }, 25_000)) ws.send(text);
    });
  });
  await new Promise<void>((resolve) => https?.listen(0, "127.0.0.1", () => resolve()));
  url = `wss://127.0.0.1:${(https.address() as { port: number }).port}/`;
}, 30_000);

afterAll(async () => {
  if (https) await new Promise<void>((resolve) => https?.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasOpenssl)("TLS", () => {
  it("rejects a self-signed certificate by default", async () => {
    const error = await connect(url, { jwt: "j", logger: quiet, reconnect: false, connectTimeoutMs: 5000 }).catch((e: unknown) => e);
    expect(OpenFlowError.is(error, "closed")).toBe(true);
    expect(String((error as Error).message)).toMatch(/self.signed|certificate/i);
  });

  it("trusts it with tls.ca", async () => {
    const client = await connect(url, { jwt: "j", logger: quiet, tls: { ca: cert } });
    expect(client.user).toEqual({ name: "tls" });
    client.close();
  });

  it("accepts it with dangerouslyDisableTlsVerification, and says so in the log", async () => {
    const warnings: string[] = [];
    const client = await connect(url, { jwt: "j", logger: { ...quiet, warn: (m) => warnings.push(m) }, tls: { dangerouslyDisableTlsVerification: true } });
    expect(client.state).toBe("open");
    expect(warnings.some((w) => w.includes("DISABLED"))).toBe(true);
    client.close();
  });
});

describe("transport injection", () => {
  it("uses an injected constructor, with Node-only options only when TLS options are given", async () => {
    const calls: unknown[][] = [];
    class FakeSocket {
      readyState = 0;
      onopen: ((e: unknown) => void) | null = null;
      onmessage: ((e: { data: unknown }) => void) | null = null;
      onclose: ((e: { code?: number }) => void) | null = null;
      onerror: ((e: unknown) => void) | null = null;
      constructor(...args: unknown[]) {
        calls.push(args);
        setTimeout(() => this.onclose?.({ code: 1006 }), 0);
      }
      send(): void {}
      close(): void {}
    }
    await connect("ws://127.0.0.1:9/", { jwt: "j", WebSocket: FakeSocket, logger: quiet, reconnect: false }).catch(() => {});
    await connect("wss://127.0.0.1:9/", { jwt: "j", WebSocket: FakeSocket, logger: quiet, reconnect: false, tls: { ca: "PEM" } }).catch(() => {});
    expect(calls[0]).toEqual(["ws://127.0.0.1:9/"]);
    expect(calls[1]).toEqual(["wss://127.0.0.1:9/", [], { ca: "PEM" }]);
  });
});
