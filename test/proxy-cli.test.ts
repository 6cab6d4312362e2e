/**
 * `openflow-spec proxy` as a CI job runs it: in process through the command's body (findings printed live with
 * connection and command, summary, exit codes as `validate`), usage errors, TLS on both sides (wss listen with a
 * key and certificate; wss upstream verified by default, trusted with --ca, unverified only with --insecure),
 * and the loop of docs/ci.md with real processes: `serve --record` plus `proxy --check --out`, stopped by SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { command, runProxy } from "../cli/proxy.js";
import { parseCommandArgs, runCommand } from "../cli/command.js";
import { connect } from "../runtime/index.js";
import { startProxy } from "../proxy/index.js";
import { startServer, type RunningServer } from "../server/index.js";
import type { Finding } from "../validator/findings.js";
import { validateInput } from "../validator/run.js";
import { rawPeer } from "./server-helpers.js";
import { hasOpenssl, selfSignedCertificate } from "./tls-helpers.js";

let dir = "";
let server: RunningServer;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "openflow-proxy-cli-"));
  server = await startServer({ users: [{ username: "admin", password: "cli-secret-pw", roles: ["admins"] }] });
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the command body in process; `stop()` ends it like SIGTERM would. */
async function inProcess(argv: string[]): Promise<{ url: string; out: () => string; err: () => string; stop: () => Promise<number> }> {
  let out = "";
  let err = "";
  let stop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  // Parsed through the real option table; the body then runs with our stop signal instead of SIGTERM.
  const { values } = parseCommandArgs(command, argv);
  const done = runProxy(values, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, stopped);
  for (let i = 0; i < 500 && !out.includes("ready"); i++) {
    const early = await Promise.race([done.then((code) => code), new Promise<undefined>((r) => setTimeout(() => r(undefined), 10))]);
    if (early !== undefined) throw new Error(`proxy exited ${early}: ${err}`);
  }
  const url = /listening on (\S+),/.exec(out)?.[1];
  if (!url) throw new Error(`no listening line: ${out} ${err}`);
  return { url, out: () => out, err: () => err, stop: () => (stop("SIGTERM"), done) };
}

describe("proxy --check", () => {
  it("prints findings as they happen, then a FAILED summary, and exits 1", async () => {
    const file = join(dir, "failing.ndjson");
    const p = await inProcess(["--listen", "127.0.0.1:0", "--upstream", server.url, "--out", file, "--check"]);
    const peer = await rawPeer(p.url);
    await peer.request("signin", { username: "admin", password: "cli-secret-pw" });
    await peer.request("query", { collectionname: "entities", query: {}, top: "ten" });
    peer.close();
    await peer.closed;
    expect(await p.stop()).toBe(1);
    expect(p.out()).toMatch(/^error payload-invalid: query request payload: \/top must be integer \[conn p1, c2s, id \S+, command query, at \/top\]$/m);
    expect(p.out()).toMatch(/openflow-spec proxy: 1 connection, \d+ frames, 4 messages, 1 error, 0 warnings: FAILED\n$/);
    // The capture holds the same finding for `validate`, and no password.
    const findings: Finding[] = [];
    await validateInput(createReadStream(file), { file, mode: "capture", onFinding: (f) => findings.push(f) });
    expect(findings.map((f) => `${f.code} ${f.connection}`)).toEqual(["payload-invalid p1"]);
    expect(readFileSync(file, "utf8")).not.toContain("cli-secret-pw");
  });

  it("exits 0 with an OK summary for clean traffic, and 1 for a warning with --fail-on warn", async () => {
    const clean = await inProcess(["--listen", "127.0.0.1:0", "--upstream", server.url, "--check"]);
    const client = await connect(clean.url, { username: "admin", password: "cli-secret-pw", logger: quiet, reconnect: false, heartbeat: false });
    await client.insertOne({ collectionname: "entities", item: { name: "cli" } });
    client.close();
    expect(await clean.stop()).toBe(0);
    expect(clean.out()).toMatch(/: OK\n$/);

    const strict = await inProcess(["--listen", "127.0.0.1:0", "--upstream", server.url, "--check", "--fail-on", "warn"]);
    const peer = await rawPeer(strict.url);
    await peer.request("Signin", { username: "admin", password: "cli-secret-pw" }); // command-case warning
    peer.close();
    await peer.closed;
    expect(await strict.stop()).toBe(1);
    expect(strict.out()).toMatch(/warning command-case/);
    expect(strict.out()).toMatch(/0 errors, 1 warning: FAILED\n$/);
  });

  it("refuses bad usage with exit 2 and a message naming the option", async () => {
    const cases: [string[], RegExp][] = [
      [["--listen", "127.0.0.1:0"], /--upstream .* is required/],
      [["--upstream", "http://x/"], /--upstream must be a ws:\/\/ or wss:\/\/ URL/],
      [["--upstream", server.url, "--listen", "nohost"], /--listen must be HOST:PORT/],
      [["--upstream", server.url, "--tls-key", "k.pem"], /--tls-key and --tls-cert go together/],
      [["--upstream", server.url, "--ca", "ca.pem", "--insecure"], /contradict/],
      [["--upstream", server.url, "--ca", join(dir, "missing.pem")], /--ca .*missing\.pem: cannot read/],
      [["--upstream", server.url, "--fail-on", "never"], /--fail-on must be one of error, warn/],
      [["--upstream", server.url, "--out", join(dir, "no", "such", "dir.ndjson")], /cannot write capture/],
      [["--upstream", server.url, "--chek"], /did you mean --check/],
    ];
    for (const [argv, message] of cases) {
      let err = "";
      const code = await runCommand(command, argv, { stdout: () => {}, stderr: (t) => void (err += t) });
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(err).toMatch(message);
    }
  });
});

describe.skipIf(!hasOpenssl)("TLS", () => {
  let cert = "";
  beforeAll(() => {
    cert = selfSignedCertificate(dir).cert;
  }, 30_000);

  it("serves wss:// with --tls-key/--tls-cert; a wss upstream is verified by default, trusted with --ca, unverified only with --insecure", async () => {
    // A TLS-listening proxy in front of the server is the wss:// upstream of the proxies below.
    const front = await inProcess(["--listen", "127.0.0.1:0", "--upstream", server.url, "--tls-key", join(dir, "key.pem"), "--tls-cert", join(dir, "cert.pem")]);
    expect(front.url).toMatch(/^wss:\/\//);
    const verified = await startProxy({ upstream: front.url });
    const trusted = await startProxy({ upstream: front.url, ca: cert });
    const insecure = await inProcess(["--listen", "127.0.0.1:0", "--upstream", front.url, "--insecure"]);
    try {
      // Default: the self-signed certificate is refused, and the client's handshake fails with 502.
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(verified.url);
        ws.once("unexpected-response", (_q, res) => (resolve(res.statusCode ?? 0), ws.terminate()));
        ws.once("error", () => {});
      });
      expect(refused).toBe(502);
      for (const url of [trusted.url, insecure.url]) {
        const client = await connect(url, { username: "admin", password: "cli-secret-pw", logger: quiet, reconnect: false, heartbeat: false });
        expect((client.user as { username?: string }).username).toBe("admin");
        client.close();
      }
      expect(insecure.out()).toMatch(/upstream certificate NOT verified/);
    } finally {
      await verified.close();
      await trusted.close();
      await insecure.stop();
      await front.stop();
    }
  });
});

describe("the CI loop with real processes", () => {
  function run(args: string[]): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], { cwd: join(import.meta.dirname, ".."), stdio: ["pipe", "pipe", "pipe"] });
  }
  function ready(child: ChildProcessWithoutNullStreams): Promise<string> {
    let out = "";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 30_000);
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("ready")) {
          clearTimeout(timer);
          resolve(out);
        }
      });
    });
  }
  function exit(child: ChildProcessWithoutNullStreams): Promise<number | null> {
    return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  it("serve --record and proxy --check --out, stopped with SIGTERM: both captures validate clean", async () => {
    const serverCapture = join(dir, "serve.ndjson");
    const proxyCapture = join(dir, "proxy.ndjson");
    const serve = run(["serve", "--port", "0", "--record", serverCapture]);
    const serveOut = await ready(serve);
    const serveUrl = /listening on (ws:\/\/\S+)/.exec(serveOut)?.[1] as string;
    const password = /password "(\w+)"/.exec(serveOut)?.[1] as string;
    const proxy = run(["proxy", "--listen", "127.0.0.1:0", "--upstream", serveUrl, "--out", proxyCapture, "--check"]);
    let proxyOut = await ready(proxy);
    proxy.stdout.on("data", (d) => (proxyOut += d));
    const proxyUrl = /listening on (\S+),/.exec(proxyOut)?.[1] as string;

    // "The app's tests": a client session through the proxy.
    const client = await connect(proxyUrl, { username: "admin", password, logger: quiet, reconnect: false, heartbeat: false });
    await client.insertOne({ collectionname: "entities", item: { name: "ci" } });
    expect((await client.query({ collectionname: "entities", query: { name: "ci" } })).result).toHaveLength(1);
    client.close();

    const proxyExit = exit(proxy);
    proxy.kill("SIGTERM");
    expect(await proxyExit).toBe(0);
    expect(proxyOut).toMatch(/openflow-spec proxy: 1 connection, \d+ frames, \d+ messages, 0 errors, 0 warnings: OK/);
    const serveExit = exit(serve);
    serve.kill("SIGTERM");
    expect(await serveExit).toBe(0);

    for (const file of [proxyCapture, serverCapture]) {
      const findings: Finding[] = [];
      const summary = await validateInput(createReadStream(file), { file, mode: "capture", onFinding: (f) => findings.push(f) });
      expect(findings).toEqual([]);
      expect(summary.messages).toBeGreaterThanOrEqual(6);
      const text = readFileSync(file, "utf8");
      expect(text).not.toContain(password);
      expect(text).toContain('"conn":');
    }
  }, 60_000);
});
