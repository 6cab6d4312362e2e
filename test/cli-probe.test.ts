/**
 * `openflow-spec probe` (loopback only): both error styles of `serve` and package sizes 25000 and 4096, a wrong
 * password, a closed port, an unknown host through an injected resolver, a plain HTTP server answering 404, a TLS
 * server with a self-signed certificate (refused, then trusted with --ca), and a server that closes the websocket
 * with a code.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import type { VerbDeps } from "../cli/call.js";
import { runCommand } from "../cli/command.js";
import type { Resolver } from "../cli/connection.js";
import { command, runProbe } from "../cli/probe.js";
import { PROBE_COMMANDS, PROBE_STAGES } from "../cli/probe-walk.js";
import { requestProblems } from "../cli/request-check.js";
import { startServer, type RunningServer } from "../server/index.js";
import { hasOpenssl, selfSignedCertificate } from "./tls-helpers.js";
import { freePort } from "./ports.js";

const quiet = { info() {}, warn() {}, error() {} };
const users = [{ username: "alice", password: "pw-alice" }];

async function probe(argv: string[], deps: VerbDeps = {}): Promise<{ code: number; out: string; err: string; json: Record<string, unknown> }> {
  let out = "";
  let err = "";
  const spec = { ...command, run: (a: Parameters<typeof runProbe>[0], io: Parameters<typeof runProbe>[1]) => runProbe(a, io, { env: {}, ...deps }) };
  const code = await runCommand(spec, argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  let json: Record<string, unknown> = {};
  if (argv.includes("json")) json = JSON.parse(out) as Record<string, unknown>;
  return { code, out, err, json };
}


function listen(server: HttpServer | HttpsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

describe("probe against serve", () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each([
    ["latest", 25_000, "dropped"],
    ["2021", 4096, "answered"],
  ] as const)("error style %s, package size %i: reaches ready and reports what the wire shows", async (errorStyle, packageSize, ping) => {
    const server = await startServer({ users, logger: quiet, errorStyle, packageSize });
    servers.push(server);
    const r = await probe([server.url, "--user", "alice:pw-alice", "--format", "json"]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ reachable: true, stage: "ready", error: null, errorStyle, packageSize, ping, signedIn: true, user: "alice", rateLimit: null });
    expect(Object.keys(r.json).slice(0, 6)).toEqual(["url", "reachable", "stage", "error", "errorStyle", "packageSize"]);
    expect(r.json["commands"]).toEqual({ count: "answers", query: "answers", distinct: "answers", listcollections: "answers", "openflow-spec-probe-unknown": "unknown command" });
    expect(r.out).not.toContain("pw-alice");
  });

  it("reports a rate limit the probe runs into, and still reaches ready", async () => {
    const server = await startServer({ users, logger: quiet, rateLimit: { points: 4, durationMs: 60_000 } });
    servers.push(server);
    const r = await probe([server.url, "--user", "alice:pw-alice", "--format", "json"]);
    expect(r.json["rateLimit"]).toMatch(/^hit during the probe: Rate limit exceeded/);
    expect(r.json).toMatchObject({ stage: "ready", signedIn: true });
    expect(Object.values(r.json["commands"] as Record<string, string>).some((a) => a.startsWith("error: Rate limit exceeded"))).toBe(true);
  });

  it("without a sign-in: connected is ready (exit 0), the error style is still read, the package size is not known", async () => {
    const server = servers[0] as RunningServer;
    const r = await probe([server.url, "--format", "json"]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ reachable: true, stage: "ready", errorStyle: "latest", packageSize: null, signedIn: false });
    expect(r.json["commands"]).toBeUndefined();
  });

  it("a wrong password stops at signin with the server's text and the fix (exit 2)", async () => {
    const server = servers[0] as RunningServer;
    const r = await probe([server.url, "--user", "alice:wrong-secret", "--format", "json"]);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ reachable: true, stage: "signin" });
    expect(r.json["error"]).toMatch(/^sign-in as alice refused: /);
    expect(r.json["fix"]).toMatch(/check the user name and password/);
    expect(r.out).not.toContain("wrong-secret");
  });

  it("the text report lists each step and the findings", async () => {
    const server = servers[1] as RunningServer;
    const r = await probe([server.url, "--user", "alice:pw-alice"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^probe ws:\/\/127\.0\.0\.1:\d+\/\n {2}ok {3}dns {7}127\.0\.0\.1 is an address: no lookup\n {2}ok {3}tcp/);
    expect(r.out).toContain("error style: 2021 (a query without collectionname was answered with command \"query\" and error:");
    expect(r.out).toContain("websocket_package_size: 4096");
    expect(r.out).toContain("ping: answered with pong");
  });
});

describe("probe where the connection stops", () => {
  it("a closed port stops at tcp (exit 2)", async () => {
    const port = await freePort();
    const r = await probe([`ws://127.0.0.1:${port}/`, "--format", "json"]);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ reachable: false, stage: "tcp", error: `connection refused by 127.0.0.1:${port}: nothing listens on that port` });
  });

  it("an unknown host stops at dns, through the injected resolver", async () => {
    const asked: string[] = [];
    const resolver: Resolver = async (name) => {
      asked.push(name);
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    };
    const r = await probe(["wss://openflow.example.test/ws/v1", "--format", "json"], { resolver });
    expect(asked).toEqual(["openflow.example.test"]);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ reachable: false, stage: "dns", error: "unknown host: openflow.example.test does not resolve (ENOTFOUND)" });
  });

  it("a plain HTTP server answering 404 stops at upgrade, with the status and what it means", async () => {
    const http = createHttpServer((_req, res) => {
      res.writeHead(404, { server: "plain-test" }).end("not found");
    });
    const port = await listen(http);
    try {
      const r = await probe([`ws://127.0.0.1:${port}/ws/v1`, "--format", "json"]);
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({ reachable: false, stage: "upgrade", httpStatus: 404, error: "HTTP 404: nothing at /ws/v1 (server: plain-test)" });
      expect(r.json["fix"]).toMatch(/wrong path: OpenFlow servers answer on \/, \/ws or \/ws\/v1/);
    } finally {
      http.close();
    }
  });

  it("a server that closes the websocket with a code stops at websocket, naming the code", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("connection", (ws) => ws.close(1008, "too many connections from your address"));
    await new Promise((r) => wss.once("listening", r));
    try {
      const r = await probe([`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, "--format", "json"]);
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({ reachable: true, stage: "websocket", closeCode: 1008, closeReason: "too many connections from your address" });
      expect(r.json["error"]).toMatch(/closed the websocket right after opening with code 1008 "too many connections from your address": policy violation/);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});

describe.skipIf(!hasOpenssl)("probe and TLS", () => {
  let dir = "";
  let certFile = "";
  let https: HttpsServer;
  let url = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "openflow-probe-tls-"));
    const made = selfSignedCertificate(dir);
    certFile = made.certFile;
    https = createHttpsServer({ cert: made.cert, key: made.key }, (_req, res) => void res.writeHead(404).end());
    // A websocket server on the TLS port that answers ping like server-2021 and nothing else.
    const wss = new WebSocketServer({ server: https });
    wss.on("connection", (ws) => ws.on("message", (raw) => {
      const frame = JSON.parse(raw.toString()) as { id: string; command: string };
      if (frame.command === "ping") ws.send(JSON.stringify({ id: "p1", replyto: frame.id, command: "pong", data: "" }));
    }));
    url = `wss://127.0.0.1:${await listen(https)}/`;
  }, 30_000);
  afterAll(() => {
    https?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a self-signed certificate stops at tls with the fix", async () => {
    const r = await probe([url, "--format", "json"]);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ reachable: false, stage: "tls", error: "the certificate of 127.0.0.1 is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)" });
    expect(r.json["fix"]).toMatch(/--ca FILE.*--insecure skips the check, for tests only/);
  });

  it("a certificate for another name stops at tls, naming the host (a made-up name through the resolver)", async () => {
    const resolver: Resolver = async () => ({ address: "127.0.0.1", family: 4 });
    const named = url.replace("127.0.0.1", "openflow.example.test");
    const r = await probe([named, "--ca", certFile, "--format", "json"], { resolver });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ stage: "tls", address: "127.0.0.1" });
    expect(r.json["error"]).toMatch(/^the certificate is not for openflow\.example\.test: /);
    expect(r.json["fix"]).toBe("connect with a name the certificate lists, or issue a certificate for this name");
  });

  it("--ca trusts it, --insecure skips the check (reported); ws:// to the TLS port is named", async () => {
    const trusted = await probe([url, "--ca", certFile, "--format", "json", "--connect-timeout", "2"]);
    expect(trusted.json).toMatchObject({ reachable: true, tls: { authorized: true, subject: "127.0.0.1" }, ping: "answered" });
    const insecure = await probe([url, "--insecure", "--format", "json", "--connect-timeout", "2"]);
    expect(insecure.json).toMatchObject({ reachable: true, tls: { authorized: false, authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT" } });
    const plain = await probe([url.replace("wss:", "ws:"), "--format", "json", "--connect-timeout", "2"]);
    expect(plain.code).toBe(2);
    expect(plain.json).toMatchObject({ reachable: false, stage: "upgrade", fix: `use ${url}` });
    expect(plain.json["error"]).toMatch(/the port speaks TLS$/);
  });
});

describe("probe's own requests", () => {
  it("are valid against the spec, and the stages are the documented ones", () => {
    for (const { command: name, payload } of PROBE_COMMANDS) expect(requestProblems(name, payload)).toEqual([]);
    expect(PROBE_STAGES).toEqual(["dns", "tcp", "tls", "upgrade", "websocket", "signin", "ready"]);
  });
});
