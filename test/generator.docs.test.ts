/**
 * Generated command pages on the real schemas (generated/ is checked up to date by generator.check.test.ts):
 * the error section names only what each server really does (with the frames), named shapes link to their
 * definition and shared shapes to their own page, wire frames carry the schema examples, the TypeScript usage
 * compiles against the real client, and every table keeps its column count.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { fixtureTexts, generateTexts, ROOT } from "./fixtures/generator/helpers.js";

const DOCS = join(import.meta.dirname, "../generated/docs");
const page = (name: string): string => readFileSync(join(DOCS, "commands", `${name}.md`), "utf8");
const section = (text: string, title: string): string => text.split(`\n## ${title}`)[1]?.split("\n## ")[0] ?? "";
const commandFiles = readdirSync(join(ROOT, "schemas", "commands")).filter((f) => f.endsWith(".json")).sort();
type CommandFile = { "x-openflow": { command: string; replyCommand: string | null }; $defs: { request?: { examples?: unknown[] }; reply?: { examples?: unknown[] } } };
const commandFile = (file: string): CommandFile => JSON.parse(readFileSync(join(ROOT, "schemas", "commands", file), "utf8")) as CommandFile;
/** The JSON lines of the fenced blocks of a page section. */
const frames = (text: string): Record<string, unknown>[] =>
  [...text.matchAll(/```json\n\s*(\{"id".*\})\n\s*```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

describe("generated command docs", () => {
  it("error styles follow the server implementations", () => {
    const count = section(page("count"), "Errors");
    expect(count).toContain('- server-2021: does not know `count` and answers with an `error` reply `{"message":"Unknown command count"}`');
    expect(count).toContain('- server-latest: an `error` reply with `{"message", "error"}`, e.g. `{"message":"Access denied, not signed in"');
    expect(section(page("query"), "Errors")).toContain("- server-2021: a `query` reply whose payload carries the text in `error`");
    // Server-started, answered by no server: no invented error reply.
    expect(section(page("queueclosed"), "Errors")).toContain("No server answers a `queueclosed` request, so no error reply is defined.");
    expect(section(page("queueclosed"), "Errors")).not.toContain("server-2021:");
  });

  it("says where each named shape of the field tables is defined", () => {
    const types = section(page("queuemessage"), "Types");
    for (const name of ["QueueMessageBody", "QueueMessageDelivery", "QueueMessagePublish"]) {
      expect(types).toContain(`- \`${name}\` ([\`commands/queuemessage.json\`](../../../schemas/commands/queuemessage.json) \`#/$defs/${name}\`): `);
    }
    expect(section(page("popworkitem"), "Types")).toContain("- [`StoredWorkitem`](../types/StoredWorkitem.md) ([`defs/workitem.json`](../../../schemas/defs/workitem.json) `#/$defs/StoredWorkitem`): ");
    expect(section(page("addworkitems"), "Types")).toContain("- [`Workitem`](../types/Workitem.md) ([`defs/workitem.json`](../../../schemas/defs/workitem.json)): ");
    expect(section(page("signin"), "Types")).toContain("- [`TokenUser`](../types/TokenUser.md) ([`defs/tokenuser.json`]");
    expect(page("count")).not.toContain("## Types");
  });

  it("shows request and reply as wire frames whose data is the JSON text of the schema examples", () => {
    let checked = 0;
    for (const file of commandFiles) {
      const spec = commandFile(file);
      const name = spec["x-openflow"].command;
      const request = spec.$defs.request?.examples?.[0];
      const reply = spec.$defs.reply?.examples?.[0];
      const shown = frames(section(page(name), "Wire frames"));
      if (request === undefined) continue;
      expect(shown[0], name).toMatchObject({ command: name, count: 1, index: 0 });
      expect(JSON.parse(shown[0]!["data"] as string), name).toEqual(request);
      if (reply !== undefined && spec["x-openflow"].replyCommand !== null) {
        expect(shown[1], name).toMatchObject({ replyto: shown[0]!["id"], command: spec["x-openflow"].replyCommand });
        expect(JSON.parse(shown[1]!["data"] as string), name).toEqual(reply);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(commandFiles.length / 2);
  });

  it("shows both server error styles as frames", () => {
    const [old, latest] = frames(section(page("query"), "Errors"));
    expect(old).toMatchObject({ command: "query", replyto: "x7k2m9q1a" });
    expect(JSON.parse(old!["data"] as string)).toMatchObject({ collectionname: "entities", error: "Access denied, not signed in" });
    expect(latest).toMatchObject({ command: "error", replyto: "x7k2m9q1a" });
    expect(JSON.parse(latest!["data"] as string)).toEqual({ message: "Access denied, not signed in", error: "Access denied, not signed in" });
    const [unknown] = frames(section(page("count"), "Errors"));
    expect(unknown).toMatchObject({ command: "error" });
    expect(JSON.parse(unknown!["data"] as string)).toEqual({ message: "Unknown command count" });
  });

  it("has a page for every shared shape of schemas/defs, linked from every field type that names it", () => {
    const typePages = readdirSync(join(DOCS, "types")).map((f) => readFileSync(join(DOCS, "types", f), "utf8"));
    const schemaCells = new Set(typePages.map((t) => /^\| Schema \| \[`schemas\/(defs\/[^`]+)`\][^|]*?(?: `(#[^`]+)`)? \|$/m.exec(t)).map((m) => `${m?.[1]}${m?.[2] ?? ""}`));
    for (const file of readdirSync(join(ROOT, "schemas", "defs")).filter((f) => f.endsWith(".json"))) {
      const doc = JSON.parse(readFileSync(join(ROOT, "schemas", "defs", file), "utf8")) as Record<string, unknown>;
      if (["type", "properties", "anyOf", "oneOf", "allOf", "$ref", "enum", "const"].some((k) => k in doc)) expect(schemaCells, file).toContain(`defs/${file}`);
      for (const key of Object.keys((doc["$defs"] as object | undefined) ?? {})) expect(schemaCells, `${file} ${key}`).toContain(`defs/${file}#/$defs/${key}`);
    }
    // In every field table of every page, a shared type name in the Type column is a link to its page.
    const shared = readdirSync(join(DOCS, "types")).map((f) => f.slice(0, -3));
    const pages = [...readdirSync(join(DOCS, "commands")).map((f) => join(DOCS, "commands", f)), ...readdirSync(join(DOCS, "types")).map((f) => join(DOCS, "types", f))];
    const unlinked: string[] = [];
    for (const file of pages) {
      for (const row of readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("| `"))) {
        const type = (row.replace(/\\\|/g, "").split("|")[2] ?? "").replace(/\[[^\]]*\]\([^)]*\)/g, "").replace(/"[^"]*"/g, "");
        for (const name of shared) if (new RegExp(`\\b${name}\\b`).test(type)) unlinked.push(`${file}: ${row.slice(0, 100)}`);
      }
    }
    expect(unlinked).toEqual([]);
    expect(readFileSync(join(DOCS, "types", "StoredWorkitem.md"), "utf8")).toContain("[`popworkitem`](../commands/popworkitem.md)");
    expect(readFileSync(join(DOCS, "types", "Workitem.md"), "utf8")).toContain("[`StoredWorkitem`](StoredWorkitem.md)");
    expect(section(page("popworkitem"), "Reply: `PopWorkitemReply`")).toContain("[StoredWorkitem](../types/StoredWorkitem.md)");
  });

  it("shows a TypeScript call through the client, with the high-level helpers, that compiles", () => {
    expect(section(page("watch"), "Usage")).toContain("client.watchCollection(");
    expect(section(page("watchevent"), "Usage")).toContain("client.watchCollection(");
    expect(section(page("registerqueue"), "Usage")).toContain("client.consumeQueue");
    expect(section(page("registerexchange"), "Usage")).toContain("client.consumeExchange(");
    expect(section(page("query"), "Usage")).toContain("const reply = await client.query({");
    expect(section(page("queueclosed"), "Usage")).toContain("client.onQueueClosed(");
    // Every snippet type-checks against the real runtime and generated client (strict, as a user would compile it).
    const dir = mkdtempSync(join(tmpdir(), "openflow-docs-usage-"));
    try {
      writeFileSync(join(dir, "package.json"), '{"type":"module"}');
      const files: string[] = [];
      for (const file of commandFiles) {
        const name = file.slice(0, -5);
        const code = /```ts\n([\s\S]*?)```/.exec(section(page(name), "Usage"))?.[1];
        if (code === undefined) continue;
        const path = join(dir, `${name}.ts`);
        writeFileSync(path, `${code.replace('from "openflow-spec"', `from ${JSON.stringify(join(ROOT, "runtime", "index.js"))}`)}\nexport {};\n`);
        files.push(path);
      }
      expect(files.length).toBeGreaterThan(commandFiles.length / 2);
      const program = ts.createProgram(files, {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules", "@types")],
      });
      const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("lists x-openflow.sources per implementation when a command file has them, and nothing when it has none", async () => {
    const texts = await fixtureTexts("basic");
    const spec = JSON.parse(texts.get("commands/getthing.json")!) as { "x-openflow": { sources: Record<string, { url: string; what: string }[]> } };
    const links = Object.entries(spec["x-openflow"].sources);
    expect(links.length).toBeGreaterThan(1);
    // A command no implementation knows needs no sources (the meta-schema requires one per non-empty mark).
    const old = JSON.parse(texts.get("commands/oldthing.json")!) as { "x-openflow": Record<string, unknown> };
    old["x-openflow"]["implementations"] = Object.fromEntries(Object.keys(old["x-openflow"]["implementations"] as object).map((l) => [l, []]));
    delete old["x-openflow"]["sources"];
    texts.set("commands/oldthing.json", JSON.stringify(old));
    const out = await generateTexts(texts);
    const implementations = section(out.get("docs/commands/getthing.md")!, "Implementations");
    for (const [label, list] of links) for (const { url, what } of list) expect(implementations).toContain(`- ${label}: [${what}](${url})`);
    expect(out.get("docs/commands/oldthing.md")).not.toContain("Where each implementation handles it");
  });

  it("keeps every table row at its header's column count", () => {
    for (const file of ["README.md", ...readdirSync(join(DOCS, "commands")).map((f) => `commands/${f}`), ...readdirSync(join(DOCS, "types")).map((f) => `types/${f}`)]) {
      let columns = -1;
      let fenced = false;
      for (const line of readFileSync(join(DOCS, file), "utf8").split("\n")) {
        if (line.startsWith("```")) fenced = !fenced;
        if (fenced || !line.startsWith("|")) {
          columns = -1;
          continue;
        }
        const cells = line.replace(/\\\|/g, "").split("|").length;
        if (columns < 0) columns = cells;
        else expect(cells, `${file}: ${line.slice(0, 80)}`).toBe(columns);
      }
    }
  });
});
