/**
 * Five rough edges a newcomer hit (issue 21): a negative number given to an integer option, the wording of a file
 * that cannot be read (`serve --users` and `validate`, one helper), an address in use (serve and proxy name the
 * port and `--port 0`), did-you-mean for unknown commands in validator findings, and "1 warnings" in JUnit.
 */
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as validateMain } from "../cli/validate.js";
import { runProxy } from "../cli/proxy.js";
import { cannotRead } from "../validator/file-errors.js";
import { validateCommandPayload } from "../validator/payload.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const tsx = join(ROOT, "node_modules/.bin/tsx");

function capture() {
  let out = "";
  let err = "";
  return { io: { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) }, out: () => out, err: () => err };
}

function stdinOf(text: string) {
  return async function* () {
    yield Buffer.from(text);
  };
}

describe("a negative number for an integer option", () => {
  it("names the option and its range instead of leaking the parser's 'argument is ambiguous'", async () => {
    for (const argv of [["--max-findings", "-1", "x.json"], ["--max-findings=-1", "x.json"]]) {
      const c = capture();
      expect(await validateMain(argv, c.io)).toBe(2);
      expect(c.err()).toBe('openflow-spec validate: --max-findings must be a whole number at least 0, got "-1"\n');
    }
  });
});

describe("a file that cannot be read", () => {
  it("is worded the same by validate and serve --users, naming the cause and not the syscall", async () => {
    const missing = "no-such-dir/missing.json";
    const c = capture();
    expect(await validateMain([missing], c.io)).toBe(2);
    expect(c.out()).toContain(`${cannotRead(missing, Object.assign(new Error("x"), { code: "ENOENT" }))}\n`);
    expect(c.out()).toContain("no-such-dir/missing.json: cannot read: no such file or folder");
    const serve = spawnSync(tsx, ["cli/main.ts", "serve", "--port", "0", "--users", missing], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(serve.status).toBe(2);
    expect(serve.stderr).toBe(`openflow-spec serve: --users ${missing}: cannot read: no such file or folder\n`);
    expect(serve.stderr).not.toMatch(/ENOENT|open '/);
  });
});

describe("an address in use", () => {
  let blocker: Server;
  let port = 0;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  it("serve names the address and the --port 0 fix", () => {
    const serve = spawnSync(tsx, ["cli/main.ts", "serve", "--port", String(port)], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(serve.status).toBe(1);
    expect(serve.stderr).toBe(`openflow-spec serve: cannot start: 127.0.0.1:${port} is already in use (another server, or an earlier run still going): pick a free port with --port 0, or stop the other process\n`);
  });

  it("proxy names the address and the :0 fix", async () => {
    const c = capture();
    const code = await runProxy({ upstream: "ws://127.0.0.1:1/", listen: `127.0.0.1:${port}` }, c.io, new Promise(() => {}));
    expect(code).toBe(1);
    expect(c.err()).toContain(`127.0.0.1:${port} is already in use`);
    expect(c.err()).toContain("--listen 127.0.0.1:0");
  });
});

describe("unknown commands in validator findings", () => {
  it("suggest the nearest known command, and none when nothing is near", () => {
    expect(validateCommandPayload("qeury", "request", {})[0]?.message).toBe('unknown command "qeury" (did you mean "query"?)');
    expect(validateCommandPayload("InsertOen", "request", {})[0]?.message).toBe('unknown command "InsertOen" (did you mean "insertone"?)');
    expect(validateCommandPayload("zzzzzzzzzz", "request", {})[0]?.message).toBe('unknown command "zzzzzzzzzz"');
  });

  it("in a capture too, and for --command", async () => {
    const c = capture();
    const frame = JSON.stringify({ id: "1", command: "registerqeue", data: "{}" });
    expect(await validateMain(["-"], { ...c.io, stdin: stdinOf(`${frame}\n`) as never })).toBe(1);
    expect(c.out()).toContain('unknown command "registerqeue" (did you mean "registerqueue"?)');
    const d = capture();
    expect(await validateMain(["--command", "insertmnay", "-"], { ...d.io, stdin: stdinOf("{}") as never })).toBe(2);
    expect(d.err()).toBe('openflow-spec validate: --command "insertmnay" is not a known command (did you mean "insertmany"?)\n');
  });
});

describe("counts in reports", () => {
  it("JUnit says 1 warning, 1 frame, 1 message, and plural otherwise", async () => {
    // An unknown field of a request is a warning (unknown-request-field).
    const frame = JSON.stringify({ id: "1", command: "query", data: JSON.stringify({ collectionname: "users", query: {}, tpo: 1 }) });
    const c = capture();
    expect(await validateMain(["--format", "junit", "--strict", "-"], { ...c.io, stdin: stdinOf(`${frame}\n`) as never })).toBe(1);
    expect(c.out()).toContain("1 frame, 1 message, 0 errors, 1 warning");
    expect(c.out()).not.toMatch(/\b1 (warnings|frames|messages|errors)\b/);
  });
});
