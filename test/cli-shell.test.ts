/**
 * `openflow-spec shell`: driven by a script on standard input (in process, against serve), its completer, its
 * reference pages, and once through a pseudo-terminal made by `script` (util-linux; skipped where absent) to see
 * Tab completion and the history file in terminal mode.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../cli/command.js";
import { command, referencePage, runShell, schemaPage, shellCompleter } from "../cli/shell.js";
import { startServer, type RunningServer } from "../server/index.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const quiet = { info() {}, warn() {}, error() {} };
let server: RunningServer;
let dir = "";

beforeAll(async () => {
  server = await startServer({ users: [{ username: "alice", password: "pw-alice" }], logger: quiet });
  dir = mkdtempSync(join(tmpdir(), "openflow-shell-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function shell(script: string, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t), stdin: () => Readable.from([script]) };
  const spec = { ...command, run: (a: Parameters<typeof runShell>[0], cio: Parameters<typeof runShell>[1]) => runShell(a, cio, { env: {} }) };
  const code = await runCommand(spec, [server.url, "--user", "alice:pw-alice", ...extra], io);
  return { code, out, err };
}

describe("shell driven by a script on stdin", () => {
  it("runs each line on one connection, echoing it, and prints pushes as they arrive", async () => {
    const r = await shell(
      [
        "# comments and blank lines are skipped",
        "",
        'registerqueue {"queuename":"shellq"}',
        'queuemessage {"queuename":"shellq","data":{"hello":"world"},"striptoken":true}',
        ".wait 10 1",
        'count {"collectionname":"users","query":{"username":"alice"}}',
        ".exit",
        "listcollections",
      ].join("\n"),
    );
    expect(r.err).toBe(`connected to ${server.url} as alice; .help for help, Tab completes\n`);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines.filter((l) => l.startsWith("> "))).toEqual([
      '> registerqueue {"queuename":"shellq"}',
      '> queuemessage {"queuename":"shellq","data":{"hello":"world"},"striptoken":true}',
      "> .wait 10 1",
      '> count {"collectionname":"users","query":{"username":"alice"}}',
      "> .exit",
    ]);
    const push = lines.find((l) => l.startsWith("push queuemessage ")) as string;
    expect(JSON.parse(push.slice("push queuemessage ".length))).toMatchObject({ queuename: "shellq", data: { hello: "world" } });
    // The reply of count follows its echo; listcollections after .exit never ran.
    expect(r.out).toMatch(/> count \{.*\}\n\{\n {2}"collectionname": "users",\n {2}"result": 1\n\}\n> \.exit\n$/);
  });

  it("checks payloads like call (did-you-mean), reports errors and exits 1 when a line failed", async () => {
    const r = await shell(['query {"collectionname":"users","query":{},"tpo":1}', 'query {"collectionname":"users","query":{"$nope":1}}', "qeury {}", ".hlep", "count {not json"].join("\n"));
    expect(r.code).toBe(1);
    expect(r.err).toContain('not sent: /tpo is not a field of this request (unknown or misspelt) (did you mean "top"?) (--no-validate sends anyway)');
    expect(r.err).toMatch(/the server answered query with an error: .*\$nope/);
    expect(r.err).toContain('not sent: unknown command "qeury" (did you mean "query"?)');
    expect(r.err).toContain("unknown shell command .hlep (did you mean .help?)");
    expect(r.err).toMatch(/the payload is not JSON: /);
  });

  it(".help <command> prints the command's reference page; .help alone the dot commands", async () => {
    const r = await shell(".help\n.help count\n.help cuont\n");
    expect(r.out).toContain(".wait S [N]");
    expect(r.out).toContain(readFileSync(join(ROOT, "generated/docs/commands/count.md"), "utf8").trimEnd());
    expect(r.err).toContain('no reference page for "cuont" (did you mean "count"?)');
  });

  it("a wrong password is exit 2 before any line runs", async () => {
    let err = "";
    const io = { stdout: () => {}, stderr: (t: string) => void (err += t), stdin: () => Readable.from(["listcollections\n"]) };
    const spec = { ...command, run: (a: Parameters<typeof runShell>[0], cio: Parameters<typeof runShell>[1]) => runShell(a, cio, { env: {} }) };
    expect(await runCommand(spec, [server.url, "--user", "alice:nope-secret"], io)).toBe(2);
    expect(err).toMatch(/sign-in as alice refused/);
    expect(err).not.toContain("nope-secret");
  });
});

describe("completion", () => {
  it("completes commands, dot commands, .help topics and payload fields from the schemas", () => {
    expect(shellCompleter("listcoll")).toEqual([["listcollections"], "listcoll"]);
    expect(shellCompleter(".he")).toEqual([[".help"], ".he"]);
    expect(shellCompleter(".help insertm")).toEqual([["insertmany"], "insertm"]);
    expect(shellCompleter("query ")).toEqual([["{"], ""]);
    expect(shellCompleter('query {"coll')).toEqual([['"collectionname":'], '"coll']);
    expect(shellCompleter('query {"collectionname":"users", to')[0]).toEqual(['"top":']);
    expect(shellCompleter('registerqueue {"')[0]).toContain('"queuename":');
    expect(referencePage("../package").ok).toBe(false);
    // Without the generated pages (the installed tools package), a page from the schema.
    expect(schemaPage("count")).toMatch(/^# `count`\n\nCount the documents .*\n\nRequest fields: `collectionname`, `query`, /s);
  });
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!hasScript)("shell in a pseudo-terminal (util-linux script)", () => {
  it("Tab completes the command name, the line goes to the history file, Ctrl+C leaves", async () => {
    const history = join(dir, "history");
    const tsx = join(ROOT, "node_modules/.bin/tsx");
    const child = spawn("script", ["-qfec", `${tsx} cli/main.ts shell ${server.url} --user alice:pw-alice --history ${history}`, "/dev/null"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let seen = "";
    child.stdout.on("data", (d: Buffer) => void (seen += d.toString()));
    const until = async (text: string) => {
      for (let i = 0; i < 400 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      if (!seen.includes(text)) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(seen)}`);
    };
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await until("openflow> ");
      // One key per write: readline disables completion inside a pasted chunk.
      child.stdin.write("listcoll");
      await until("listcoll");
      child.stdin.write("\t");
      await until("listcollections");
      child.stdin.write("\r");
      await until('"name": "users"');
      // Ctrl+C on a half-typed line leaves (readline alone would pause the input and hang).
      const before = seen.length;
      child.stdin.write("listco");
      for (let i = 0; i < 200 && !seen.slice(before).includes("listco"); i++) await new Promise((r) => setTimeout(r, 50));
      child.stdin.write("\u0003");
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
    expect(readFileSync(history, "utf8")).toBe("listcollections\n");
  }, 30_000);
});
