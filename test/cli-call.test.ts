/**
 * `openflow-spec call` against the local server (loopback only): a reply, an error reply, sign-in failures, a
 * closed port, an unknown host through an injected resolver (no real DNS lookup), --jwt and the environment,
 * --listen --count with queue messages and watch events, --frames with secrets redacted, did-you-mean.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { command, runCall, type VerbDeps } from "../cli/call.js";
import { runCommand } from "../cli/command.js";
import type { Resolver } from "../cli/connection.js";
import { connect, type OpenFlowClient } from "../runtime/client.js";
import { silentLogger } from "../runtime/logger.js";
import { startProxy } from "../proxy/proxy.js";
import { startServer, type RunningServer } from "../server/index.js";
import { hasOpenssl, selfSignedCertificate } from "./tls-helpers.js";

const quiet = { info() {}, warn() {}, error() {} };
let server: RunningServer;
let other: OpenFlowClient;
/** A second connection as alice, who may read what call's alice creates and send to her queues. */
let alice2: OpenFlowClient;
let dir = "";

beforeAll(async () => {
  server = await startServer({ users: [{ username: "alice", password: "pw-alice-secret" }, { username: "bob", password: "pw-bob" }], logger: quiet });
  other = await connect(server.url, { credentials: { username: "bob", password: "pw-bob" }, logger: silentLogger, reconnect: false });
  alice2 = await connect(server.url, { credentials: { username: "alice", password: "pw-alice-secret" }, logger: silentLogger, reconnect: false });
  dir = mkdtempSync(join(tmpdir(), "openflow-call-"));
});

afterAll(async () => {
  other.close();
  alice2.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  out: string;
  err: string;
}

/** Runs `call` in process; the environment is empty unless given, so the developer's variables never leak in. */
function call(argv: string[], deps: VerbDeps = {}, stdin?: string): { done: Promise<Result>; out: () => string } {
  let out = "";
  let err = "";
  const io = {
    stdout: (t: string) => void (out += t),
    stderr: (t: string) => void (err += t),
    ...(stdin !== undefined ? { stdin: () => Readable.from([stdin]) } : {}),
  };
  const spec = { ...command, run: (args: Parameters<typeof runCall>[0], cio: Parameters<typeof runCall>[1]) => runCall(args, cio, { env: {}, ...deps }) };
  return { done: runCommand(spec, argv, io).then((code) => ({ code, out, err })), out: () => out };
}

const run = (argv: string[], deps: VerbDeps = {}, stdin?: string) => call(argv, deps, stdin).done;
const alice = ["--user", "alice:pw-alice-secret"];

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("call: replies and errors", () => {
  it("prints the reply payload as JSON and exits 0", async () => {
    const r = await run([server.url, "query", '{"collectionname":"users","query":{"username":"alice"}}', ...alice]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.out) as { result: Array<{ username: string }> };
    expect(reply.result.map((u) => u.username)).toEqual(["alice"]);
  });

  it("an error reply: exit 1, the server's text on stderr, nothing on stdout", async () => {
    const r = await run([server.url, "query", '{"collectionname":"users","query":{"$nosuchop":1}}', ...alice]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^openflow-spec call: the server answered query with an error: .*\$nosuchop/);
  });

  it("reads the payload from standard input (-) and from @file; bad JSON is a usage error", async () => {
    const viaStdin = await run([server.url, "count", "-", ...alice], {}, '{"collectionname":"users","query":{}}');
    expect(viaStdin.code).toBe(0);
    expect((JSON.parse(viaStdin.out) as { result: number }).result).toBeGreaterThanOrEqual(2);
    const file = join(dir, "payload.json");
    writeFileSync(file, '{"collectionname":"users","query":{"username":"bob"}}');
    writeFileSync(file, '{"collectionname":"users","query":{"username":"alice"}}');
    const viaFile = await run([server.url, "count", `@${file}`, ...alice]);
    expect((JSON.parse(viaFile.out) as { result: number }).result).toBe(1);
    const bad = await run([server.url, "count", "{collectionname:users}", ...alice]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/the payload is not JSON: .*quote it for the shell/);
    const missing = await run([server.url, "count", `@${join(dir, "nope.json")}`, ...alice]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("nope.json: cannot read: no such file or folder");
  });
});

describe("call: connecting and signing in", () => {
  it("a wrong password: exit 2, names the user, never the password", async () => {
    const r = await run([server.url, "listcollections", "--user", "alice:not-the-password"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sign-in as alice refused by .*check the user name and password/);
    expect(r.err + r.out).not.toContain("not-the-password");
  });

  it("no sign-in at all: exit 2 naming every way to give one", async () => {
    const r = await run([server.url, "listcollections"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs a sign-in: --user NAME:PASSWORD, --jwt TOKEN, or OPENFLOW_USER/);
  });

  it("a closed port: exit 2, connection refused", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await run([`ws://127.0.0.1:${port}/`, "listcollections", ...alice]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/connection refused by 127\.0\.0\.1:\d+ \(nothing listens on that port/);
  });

  it("an unknown host, through an injected resolver (no DNS lookup): exit 2, unknown host", async () => {
    const asked: string[] = [];
    const resolver: Resolver = async (name) => {
      asked.push(name);
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    };
    const r = await run(["ws://openflow.example.test:3000/ws/v1", "listcollections", ...alice], { resolver });
    expect(asked).toContain("openflow.example.test");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown host: the name in openflow\.example\.test:3000 does not resolve/);
  });

  it("the injected resolver is what connects: a made-up name reaches the local server", async () => {
    const resolver: Resolver = async (name) => {
      expect(name).toBe("openflow.example.test");
      return { address: "127.0.0.1", family: 4 };
    };
    const port = new URL(server.url).port;
    const r = await run([`ws://openflow.example.test:${port}/`, "count", '{"collectionname":"users","query":{}}', ...alice], { resolver });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  it("--jwt, OPENFLOW_JWT and OPENFLOW_USER/OPENFLOW_PASSWORD sign in; no token is echoed", async () => {
    const token = other.jwt as string;
    expect(token).toMatch(/^eyJ/);
    const payload = '{"collectionname":"users","query":{"_type":"user"}}';
    for (const [argv, env, who] of [
      [["--jwt", token], {}, "bob"],
      [[], { OPENFLOW_JWT: token }, "bob"],
      [[], { OPENFLOW_USER: "alice", OPENFLOW_PASSWORD: "pw-alice-secret" }, "alice"],
      [["--user", "alice:pw-alice-secret"], { OPENFLOW_JWT: token }, "alice"],
    ] as const) {
      const r = await run([server.url, "query", payload, ...argv], { env });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      // Each user reads their own user document: the reply shows who signed in.
      expect((JSON.parse(r.out) as { result: Array<{ username: string }> }).result.map((u) => u.username)).toContain(who);
      expect(r.out).not.toContain(token);
    }
    const refused = await run([server.url, "query", payload], { env: { OPENFLOW_JWT: "eyJhbGciOiJIUzI1NiJ9.eyJub3BlIjoxfQ.bad" } });
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/sign-in as jwt refused/);
    expect(refused.err).not.toContain("eyJub3BlIjoxfQ");
  });
});

describe("call --listen", () => {
  it("prints queue messages as NDJSON after the reply and stops after --count", async () => {
    const queue = `q-${Date.now()}`;
    const c = call([server.url, "registerqueue", JSON.stringify({ queuename: queue }), "--listen", "--count", "2", "--timeout", "20", ...alice]);
    await waitFor(() => c.out().includes(`"queuename": "${queue}"`), "the registerqueue reply");
    await alice2.requestUntyped("queuemessage", { queuename: queue, data: { n: 1 }, striptoken: true });
    await alice2.requestUntyped("queuemessage", { queuename: queue, data: { n: 2 } });
    const r = await c.done;
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const [reply, ...lines] = r.out.split(/\n(?=[{])/);
    expect(JSON.parse(reply as string)).toEqual({ queuename: queue });
    const pushes = lines.join("\n").trim().split("\n").map((l) => JSON.parse(l) as { command: string; payload: { queuename: string; data: { n: number; __jwt?: string } } });
    expect(pushes.map((p) => [p.command, p.payload.queuename, p.payload.data.n])).toEqual([
      ["queuemessage", queue, 1],
      ["queuemessage", queue, 2],
    ]);
    // The sender's token travels in the delivery unless it strips it: printed redacted.
    expect(pushes[1]?.payload.data.__jwt).toBe("[redacted]");
    expect(r.out).not.toContain(alice2.jwt as string);
  });

  it("prints watch events; --timeout before --count is exit 1 saying how many arrived", async () => {
    const c = call([server.url, "watch", '{"collectionname":"entities","paths":[]}', "--listen", "--count", "1", "--timeout", "20", ...alice]);
    await waitFor(() => c.out().includes("}"), "the watch reply");
    await alice2.requestUntyped("insertone", { collectionname: "entities", item: { name: "watched", _type: "test" } });
    const r = await c.done;
    expect(r.code).toBe(0);
    const push = JSON.parse(r.out.trim().split("\n").pop() as string) as { command: string; payload: { operation?: string; fullDocument?: { name: string } } };
    expect(push.command).toBe("watchevent");
    expect(JSON.stringify(push.payload)).toContain('"watched"');

    const short = await run([server.url, "registerqueue", '{"queuename":"nobody-sends"}', "--listen", "--count", "3", "--timeout", "1", ...alice]);
    expect(short.code).toBe(1);
    expect(short.err).toBe("openflow-spec call: 0 of 3 pushes arrived within 1 s\n");
  });

  it("without --count or --timeout it listens until stopped (Ctrl+C), then exits 0", async () => {
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const c = call([server.url, "registerqueue", '{"queuename":"until-stopped"}', "--listen", ...alice], { stop: stopped });
    await waitFor(() => c.out().includes("until-stopped"), "the registerqueue reply");
    await alice2.requestUntyped("queuemessage", { queuename: "until-stopped", data: { n: 7 }, striptoken: true });
    await waitFor(() => c.out().includes('"n":7'), "the push");
    stop();
    const r = await c.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop() as string)).toMatchObject({ command: "queuemessage", payload: { queuename: "until-stopped", data: { n: 7 } } });
  });

  it("--count needs --listen", async () => {
    const r = await run([server.url, "listcollections", "--count", "1", ...alice]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--count needs --listen");
  });
});

describe("call --frames", () => {
  it("shows every frame on stderr with the password and tokens redacted", async () => {
    const r = await run([server.url, "count", '{"collectionname":"users","query":{}}', "--frames", ...alice]);
    expect(r.code).toBe(0);
    const lines = r.err.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("> ")).length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.startsWith("< ")).length).toBeGreaterThanOrEqual(2);
    const signin = lines.find((l) => l.startsWith("> ") && l.includes('"command":"signin"')) as string;
    expect(JSON.parse(JSON.parse(signin.slice(2)).data as string)).toMatchObject({ username: "alice", password: "[redacted]" });
    const reply = lines.find((l) => l.startsWith("< ") && l.includes('"command":"signin"')) as string;
    expect(JSON.parse(JSON.parse(reply.slice(2)).data as string)).toMatchObject({ jwt: "[redacted]" });
    expect(r.err).not.toContain("pw-alice-secret");
    expect(r.err).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}\./);
  });
});

describe("call: checked against the spec before sending", () => {
  it("an unknown command or field gets a did-you-mean and is not sent (exit 2)", async () => {
    const cmd = await run([server.url, "qeury", '{"collectionname":"users","query":{}}', ...alice]);
    expect(cmd.code).toBe(2);
    expect(cmd.err).toBe('openflow-spec call: not sent: unknown command "qeury" (did you mean "query"?)\n  (--no-validate sends it anyway)\n');
    const field = await run([server.url, "query", '{"collectionname":"users","query":{},"tpo":5}', ...alice]);
    expect(field.code).toBe(2);
    expect(field.err).toContain('/tpo is not a field of this request (unknown or misspelt) (did you mean "top"?)');
    const type = await run([server.url, "query", '{"collectionname":"users","query":{},"top":"5"}', ...alice]);
    expect(type.code).toBe(2);
    expect(type.err).toContain("/top must be integer");
  });

  it("a command servers send, or one nobody answers, is refused before waiting for a reply that never comes", async () => {
    const push = await run([server.url, "watchevent", "{}", ...alice]);
    expect(push.code).toBe(2);
    expect(push.err).toContain("watchevent is a command servers send, not clients");
    const ping = await run([server.url, "ping", ...alice]);
    expect(ping.code).toBe(2);
    expect(ping.err).toContain("ping gets no reply (x-openflow.replyExpected is false), and this waits for one; `openflow-spec probe` shows how a server treats ping");
  });

  it("--no-validate sends anyway, and the server's answer decides", async () => {
    const r = await run([server.url, "qeury", "{}", "--no-validate", ...alice]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the server answered qeury with an error: Unknown command qeury/);
  });
});

describe("call --listen with the official client on the other side", () => {
  it("receives a queue message the official @openiap/openflow-api client sends", async () => {
    const { createRequire } = await import("node:module");
    const { officialConnect } = await import("./server-helpers.js");
    const api = createRequire(import.meta.url)("@openiap/openflow-api") as any;
    api.ApiConfig.log_error = false;
    const opened: any[] = [];
    try {
      const ws = await officialConnect(api.WebSocketClient, server.url, opened);
      await api.NoderedUtil.SigninWithUsername({ username: "alice", password: "pw-alice-secret", websocket: ws });
      const c = call([server.url, "registerqueue", '{"queuename":"cli.official"}', "--listen", "--count", "1", "--timeout", "20", ...alice]);
      await waitFor(() => c.out().includes("cli.official"), "the registerqueue reply");
      // The api's Queue resolves once the server took the message (a plain send, no reply queue).
      await api.NoderedUtil.Queue({ websocket: ws, queuename: "cli.official", data: { from: "official" }, striptoken: true });
      const r = await c.done;
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const push = JSON.parse(r.out.trim().split("\n").pop() as string) as { command: string; payload: { queuename: string; data: { from: string } } };
      expect(push).toMatchObject({ command: "queuemessage", payload: { queuename: "cli.official", data: { from: "official" } } });
    } finally {
      for (const ws of opened) ws.close();
    }
  });
});

describe.skipIf(!hasOpenssl)("call over wss:// (the recording proxy with a self-signed certificate in front of serve)", () => {
  it("refuses the certificate naming --ca, trusts it with --ca, and --insecure connects too", async () => {
    const made = selfSignedCertificate(dir);
    const proxy = await startProxy({ upstream: server.url, port: 0, tls: { key: made.key, cert: made.cert }, logger: { info() {}, warn() {} } });
    try {
      const payload = '{"collectionname":"users","query":{"username":"alice"}}';
      const refused = await run([proxy.url, "count", payload, ...alice]);
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT.*trust the server's certificate or its CA with --ca FILE/);
      const trusted = await run([proxy.url, "count", payload, "--ca", made.certFile, ...alice]);
      expect(trusted.err).toBe("");
      expect(JSON.parse(trusted.out)).toMatchObject({ result: 1 });
      const insecure = await run([proxy.url, "count", payload, "--insecure", ...alice]);
      expect(insecure.code).toBe(0);
      expect(insecure.err).toMatch(/^warning: --insecure: the server's certificate is not verified/);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
