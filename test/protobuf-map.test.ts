/**
 * The legacy ↔ protobuf migration map (x-openflow.protobuf): golden entries read from server-latest's protobuf
 * path, the lint rule that keeps entries consistent, the generated docs and AsyncAPI extension, and
 * `openflow-spec migrate-report` in each format on captures (fixtures, and traffic recorded from `serve`).
 */
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadFromTexts } from "../generator/load.js";
import { validateSchemas } from "../generator/validate.js";
import { lintSchemas } from "../generator/lint.js";
import { expectedMessage } from "../generator/lint-protobuf.js";
import { loadMigrationMap, type MapEntry } from "../validator/migrate/report.js";
import { runCommand } from "../cli/command.js";
import { command as migrateReport } from "../cli/migrate-report.js";
import { captureIo, ROOT } from "./fixtures/generator/helpers.js";
import { connect } from "../runtime/index.js";
import { startServer } from "../server/index.js";
import { CaptureRecorder, parseWireMessage } from "../validator/recorder.js";

const SCHEMAS = join(ROOT, "schemas");
const map = loadMigrationMap(SCHEMAS);
const mapped = (c: string): Extract<MapEntry, { command: string }> => {
  const e = map.get(c);
  if (!e || e.status === "none") throw new Error(`${c} has no protobuf counterpart`);
  return e;
};

describe("the migration map", () => {
  it("covers every command file", () => {
    const files = readdirSync(join(SCHEMAS, "commands")).filter((f) => f.endsWith(".json"));
    expect(map.size).toBe(files.length);
  });

  it.each([
    ["updatemany", "reshaped", "updatedocument", "UpdateDocument", "UpdateDocumentRequest", "updatedocumentreply"],
    ["closequeue", "renamed", "unregisterqueue", "UnRegisterQueue", "UnRegisterQueueRequest", "unregisterqueuereply"],
    ["addworkitem", "reshaped", "pushworkitem", "PushWorkitem", "PushWorkitemRequest", "pushworkitemreply"],
    ["registerqueue", "direct", "registerqueue", "RegisterQueue", "RegisterQueueRequest", "registerqueuereply"],
    ["getfile", "reshaped", "download", "Download", "DownloadRequest", "downloadreply"],
  ])("%s is %s: envelope command %s, rpc %s, %s, reply %s", (legacy, status, command, rpc, request, replyCommand) => {
    const e = mapped(legacy);
    expect({ status: e.status, command: e.command, rpc: e.rpc, request: e.request, replyCommand: e.replyCommand }).toEqual({ status, command, rpc, request, replyCommand });
  });

  it("records the field-level renames of the server's translation", () => {
    expect(mapped("updatemany").changes).toContainEqual({ kind: "renamed", direction: "request", field: "item", to: "document" });
    expect(mapped("query").changes).toContainEqual({ kind: "renamed", direction: "reply", field: "result", to: "results" });
    expect(mapped("query").changes).toContainEqual({ kind: "json-text", direction: "request", field: "query" });
    expect(mapped("addworkitem").changes).toContainEqual({ kind: "json-text", direction: "request", field: "payload" });
    expect(mapped("addworkitems").changes).toContainEqual({ kind: "renamed", direction: "reply", field: "items", to: "workitems" });
    expect(mapped("signin").changes).toContainEqual({ kind: "renamed", direction: "request", field: "clientagent", to: "agent" });
    expect(mapped("updateworkitem").changes).toContainEqual({ kind: "moved", direction: "request", field: "state", to: "workitem.state" });
  });

  it.each(["getworkitemqueue", "updatefile", "queueclosed", "exchangeclosed", "selectcustomer"])("%s has none, with what to use instead", (c) => {
    const e = map.get(c);
    expect(e?.status).toBe("none");
    expect(e && "instead" in e ? e.instead.length : 0).toBeGreaterThan(10);
  });

  it("every mapped entry names the messages protowrap looks up and cites the request message", () => {
    for (const [c, e] of map) {
      if (e.status === "none") continue;
      expect(expectedMessage(e.command), c).toContain(e.request.toLowerCase());
      const sources = (e as unknown as { sources: { symbol?: string; url: string }[] }).sources;
      expect(sources.some((s) => s.symbol === e.request), c).toBe(true);
      for (const s of sources) expect(s.url, c).toMatch(/^https:\/\/github\.com\/(openiap\/proto|openiap\/nodeapi|open-rpa\/openflow)\/blob\/[0-9a-f]{40}\//);
    }
  });

  it("every command's page has a Protobuf section and the migration page counts them", () => {
    const counts = { direct: 0, renamed: 0, reshaped: 0, none: 0 };
    for (const [c, e] of map) {
      counts[e.status]++;
      const page = readFileSync(join(ROOT, "generated/docs/commands", `${c}.md`), "utf8");
      expect(page, c).toContain("## Protobuf");
      expect(page, c).toContain(e.status === "none" ? "**none:**" : `envelope command \`${e.command}\``);
    }
    const migration = readFileSync(join(ROOT, "generated/docs/migration.md"), "utf8");
    expect(migration).toContain(`${counts.direct + counts.renamed + counts.reshaped} of ${map.size} commands have a counterpart: ${counts.direct} direct, ${counts.renamed} renamed, ${counts.reshaped} reshaped; ${counts.none} have none.`);
    for (const c of map.keys()) expect(migration).toContain(`[\`${c}\`](commands/${c}.md)`);
  });

  it("the AsyncAPI export carries the map on each operation", () => {
    const doc = JSON.parse(readFileSync(join(ROOT, "generated/asyncapi.json"), "utf8")) as { operations: Record<string, { "x-openflow"?: { command?: string; protobuf?: MapEntry } }> };
    const ops = Object.values(doc.operations);
    const op = ops.find((o) => o["x-openflow"]?.command === "updatemany");
    expect(op?.["x-openflow"]?.protobuf).toEqual(map.get("updatemany"));
    expect(ops.every((o) => o["x-openflow"]?.protobuf !== undefined)).toBe(true);
  });
});

describe("lint rule protobuf-consistent", () => {
  const texts = (): Map<string, string> => {
    const out = new Map<string, string>();
    for (const f of readdirSync(join(SCHEMAS, "commands"))) out.set(`commands/${f}`, readFileSync(join(SCHEMAS, "commands", f), "utf8"));
    for (const f of readdirSync(join(SCHEMAS, "defs"))) out.set(`defs/${f}`, readFileSync(join(SCHEMAS, "defs", f), "utf8"));
    out.set("frame.json", readFileSync(join(SCHEMAS, "frame.json"), "utf8"));
    out.set("meta/command.schema.json", readFileSync(join(SCHEMAS, "meta/command.schema.json"), "utf8"));
    return out;
  };
  const edit = (command: string, change: (p: Record<string, unknown>) => void) => {
    const t = texts();
    const doc = JSON.parse(t.get(`commands/${command}.json`) as string) as { "x-openflow": { protobuf: Record<string, unknown> } };
    change(doc["x-openflow"].protobuf);
    t.set(`commands/${command}.json`, JSON.stringify(doc));
    return lintSchemas(validateSchemas(loadFromTexts(t))).filter((i) => i.rule === "protobuf-consistent");
  };

  it("is clean on the repository's schemas", () => {
    expect(edit("query", () => {})).toEqual([]);
  });
  it("fires on a message protowrap would not look up", () => {
    expect(edit("closequeue", (p) => void (p["request"] = "CloseQueueRequest")).map((i) => i.pointer)).toEqual(["/x-openflow/protobuf/request", "/x-openflow/protobuf/sources"]);
  });
  it("fires on a status the changes contradict", () => {
    expect(edit("closequeue", (p) => void (p["status"] = "direct")).map((i) => i.pointer)).toEqual(["/x-openflow/protobuf/status"]);
    expect(edit("updatemany", (p) => void (p["status"] = "renamed")).map((i) => i.message)).toEqual(['status "renamed" does not match the changes and command: expected "reshaped"']);
  });
  it("fires when no source cites the request message", () => {
    expect(edit("count", (p) => void (p["sources"] = (p["sources"] as { symbol?: string }[]).filter((s) => s.symbol !== "CountRequest"))).map((i) => i.pointer)).toEqual(["/x-openflow/protobuf/sources"]);
  });
});

describe("openflow-spec migrate-report", () => {
  const run = async (args: string[]) => {
    const io = captureIo();
    const code = await runCommand(migrateReport, args, io.io);
    return { code, out: io.out(), err: io.err() };
  };
  const capture = async (lines: object[]): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), "ofs-migrate-"));
    const file = join(dir, "app.ndjson");
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    return file;
  };
  const frame = (dir: string, id: string, command: string, payload: object, replyto?: string) => ({ dir, frame: { id, command, ...(replyto ? { replyto } : {}), data: JSON.stringify(payload) } });

  it("json: the documented keys, only the commands the capture uses, used changes marked", async () => {
    const file = await capture([
      frame("c2s", "1", "updatemany", { collectionname: "entities", query: { a: 1 }, item: { $set: { b: 2 } } }),
      frame("s2c", "2", "updatemany", { opresult: { modifiedCount: 1 } }, "1"),
      frame("c2s", "3", "closequeue", { queuename: "q1" }),
      frame("c2s", "4", "getworkitemqueue", { name: "wiq" }),
      frame("c2s", "5", "mycustomthing", {}),
    ]);
    const { code, out } = await run(["--format", "json", file]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { commands: { command: string; status: string; protobuf: { command: string } | null; changes: { field?: string; kind: string; used: boolean }[] }[]; summary: Record<string, number> };
    expect(report.commands.map((c) => [c.command, c.status])).toEqual([
      ["closequeue", "renamed"],
      ["getworkitemqueue", "none"],
      ["mycustomthing", "unknown"],
      ["updatemany", "reshaped"],
    ]);
    const um = report.commands.find((c) => c.command === "updatemany");
    expect(um?.protobuf?.command).toBe("updatedocument");
    expect(um?.changes.find((c) => c.kind === "renamed" && c.field === "item")?.used).toBe(true);
    expect(report.summary).toMatchObject({ commands: 4, messages: 4, direct: 0, renamed: 1, reshaped: 1, none: 1, unknown: 1 });
  });

  it("text and markdown name each command with its status and protobuf counterpart", async () => {
    const file = join(ROOT, "test/fixtures/captures/good/good-session.ndjson");
    const text = await run([file]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^query {2}reshaped {2}query \(rpc Query\): QueryRequest -> QueryResponse/m);
    expect(text.out).toMatch(/\* reply result is renamed results/);
    const md = await run(["--format", "markdown", file]);
    expect(md.out).toContain("| Command | Status | Protobuf | Messages | Changes the app meets |");
    expect(md.out).toContain("| `ping` | direct |");
  });

  it("exit 2 for an unreadable input", async () => {
    const r = await run([join(tmpdir(), "no-such-capture.ndjson")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("no-such-capture.ndjson");
  });

  it("reports what an app recorded from serve really uses", async () => {
    const lines: string[] = [];
    const recorder = new CaptureRecorder((line) => void lines.push(line));
    const server = await startServer({
      users: [{ username: "u", password: "p", roles: ["admins"] }],
      logger: { info() {}, warn() {}, error() {} },
      onFrame: (direction, text, conn) => recorder.message(conn, direction === "in" ? "c2s" : "s2c", parseWireMessage(text)),
    });
    try {
      const client = await connect(server.url, { username: "u", password: "p", logger: { debug() {}, info() {}, warn() {}, error() {} } });
      await client.insertOne({ collectionname: "entities", item: { _type: "note", name: "n" } });
      await client.updateMany({ collectionname: "entities", query: { _type: "note" }, item: { $set: { done: true } } });
      await client.query({ collectionname: "entities", query: {}, top: 5 });
      client.close();
    } finally {
      await server.close();
    }
    recorder.flush();
    const dir = await mkdtemp(join(tmpdir(), "ofs-migrate-serve-"));
    const file = join(dir, "serve.ndjson");
    await writeFile(file, lines.join(""));
    const { code, out } = await run(["--format", "json", file]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { commands: { command: string; status: string }[] };
    expect(report.commands.map((c) => c.command)).toEqual(expect.arrayContaining(["insertone", "query", "signin", "updatemany"]));
    expect(report.commands.find((c) => c.command === "updatemany")?.status).toBe("reshaped");
  });
});
