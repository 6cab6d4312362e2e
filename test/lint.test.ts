/**
 * `openflow-spec lint` and the lint phase of `generate`: each rule fires on a one-edit break of the basic fixture,
 * names its file and pointer, and stops `generate`; the repository's own schemas are clean.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadFromTexts } from "../generator/load.js";
import { validateSchemas } from "../generator/validate.js";
import { LINT_RULES, lintSchemas, type LintRuleId } from "../generator/lint.js";
import { GeneratorError } from "../generator/errors.js";
import { main as lintMain } from "../cli/lint.js";
import { main as generateMain } from "../cli/generate.js";
import { captureIo, fixtureTexts, ROOT, tempDir, writeTree } from "./fixtures/generator/helpers.js";

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The basic fixture with one file edited in place. */
async function edited(path: string, edit: (doc: Doc) => void): Promise<Map<string, string>> {
  const texts = await fixtureTexts("basic");
  const doc = JSON.parse(texts.get(path) ?? "null") as Doc;
  edit(doc);
  texts.set(path, JSON.stringify(doc, null, 2));
  return texts;
}

/** A well-formed protobuf entry for the fixture's getthing (direct: same command, no field changes). */
const MAPPED = {
  status: "direct",
  command: "getthing",
  request: "GetThingRequest",
  reply: "GetThingResponse",
  replyCommand: "getthingreply",
  changes: [],
  sources: [{ url: "https://github.com/openiap/proto/blob/537c781eaef53642dd032e3f64638f71173b7528/base.proto#L1-L2", what: "message", symbol: "GetThingRequest" }],
};

const lintOf = (texts: ReadonlyMap<string, string>) => lintSchemas(validateSchemas(loadFromTexts(texts)));

const CASES: Array<[LintRuleId, string, (doc: Doc) => void, string]> = [
  ["def-title", "defs/thing.json", (d) => void (d.title = "thing_shape"), "/title"],
  ["def-examples", "defs/thing.json", (d) => void delete d.examples, "/examples"],
  ["payload-title", "commands/getthing.json", (d) => void (d.$defs.request.title = "GetThingArgs"), "/$defs/request/title"],
  ["property-description", "commands/getthing.json", (d) => void delete d.$defs.request.properties.filter.oneOf[1].contentSchema.properties.kind.description, "/$defs/request/properties/filter/oneOf/1/contentSchema/properties/kind"],
  ["example-valid", "commands/getthing.json", (d) => void d.$defs.request.examples.push({ name: "" }), "/$defs/request/examples/1"],
  ["deprecation-consistent", "commands/getthing.json", (d) => void (d["x-openflow"].implementations["server-latest"] = []), "/deprecated"],
  // A renamed field makes the command reshaped, not direct.
  ["protobuf-consistent", "commands/getthing.json", (d) => void (d["x-openflow"].protobuf = { ...MAPPED, changes: [{ kind: "renamed", direction: "request", field: "name", to: "title" }] }), "/x-openflow/protobuf/status"],
  ["proposed-unimplemented", "commands/getthing.json", (d) => void (d["x-openflow"].proposed = true), "/x-openflow/implementations/server-latest"],
  ["claim-sources", "commands/getthing.json", (d) => void (d["x-openflow"].errors[0].sources[0].symbol = undefined), "/x-openflow/errors/0/sources"],
];

describe("lint rules", () => {
  it("cover every rule in the table", () => {
    expect(CASES.map(([rule]) => rule).sort()).toEqual(Object.keys(LINT_RULES).sort());
  });

  it("the unedited fixture is clean", async () => {
    expect(lintOf(await fixtureTexts("basic"))).toEqual([]);
  });

  for (const [rule, file, edit, pointer] of CASES) {
    it(`${rule} fires on ${file}#${pointer}`, async () => {
      const issues = lintOf(await edited(file, edit));
      expect(issues.map((i) => [i.rule, i.file, i.pointer])).toContainEqual([rule, file, pointer]);
      expect(new Set(issues.map((i) => i.rule))).toEqual(new Set([rule]));
    });
  }
});

describe("claim-sources", () => {
  it("refuses a plain-string error or note, and accepts a proposed claim without a source", async () => {
    const texts = await edited("commands/getthing.json", (d) => {
      d["x-openflow"].errors.push("A bare text", { text: "A proposed text", proposed: true });
      d["x-openflow"].notes.unshift("A bare note");
    });
    const issues = lintOf(texts).map((i) => [i.rule, i.pointer]);
    expect(issues).toEqual([
      ["claim-sources", "/x-openflow/errors/1"],
      ["claim-sources", "/x-openflow/notes/0"],
    ]);
  });

  it("the pending list only names this repository's commands that still have a claim without its own source", async () => {
    const { CLAIMS_PENDING } = await import("../generator/claims-pending.js");
    const { readdirSync, readFileSync } = await import("node:fs");
    const names = readdirSync(join(ROOT, "schemas/commands")).map((f) => f.replace(/\.json$/, ""));
    const converted = [...CLAIMS_PENDING].filter((name) => {
      if (!names.includes(name)) return true; // stale: no such command
      const meta = JSON.parse(readFileSync(join(ROOT, "schemas/commands", `${name}.json`), "utf8"))["x-openflow"];
      const all = [...(meta.errors ?? []), ...(meta.notes ?? [])] as unknown[];
      return all.every((c) => typeof c === "object" && c !== null && ((c as Doc).proposed === true || ((c as Doc).sources ?? []).some((s: Doc) => typeof s.symbol === "string")));
    });
    expect(converted, "converted (or unknown) commands still listed in generator/claims-pending.ts").toEqual([]);
  });
});

describe("openflow-spec lint", () => {
  it("passes the repository's schemas", async () => {
    const io = captureIo();
    expect(await lintMain([join(ROOT, "schemas")], io.io)).toBe(0);
    expect(io.out()).toMatch(/openflow-spec lint: \d+ files, 0 problems\n$/);
  });

  it("names file, pointer and rule, exits 1; generate stops on the same problem and writes nothing", async () => {
    const dir = await tempDir("lint");
    await writeTree(join(dir, "schemas"), await edited("commands/getthing.json", (d) => void delete d.$defs.request.properties.count.description));
    const io = captureIo();
    expect(await lintMain([join(dir, "schemas")], io.io)).toBe(1);
    expect(io.out()).toMatch(/schemas\/commands\/getthing\.json#\/\$defs\/request\/properties\/count: property "count" has no description \[property-description\]/);
    expect(io.out()).toMatch(/1 problem\n$/);

    const json = captureIo();
    expect(await lintMain(["--format", "json", join(dir, "schemas")], json.io)).toBe(1);
    expect(JSON.parse(json.out())).toMatchObject({ problems: [{ rule: "property-description", pointer: "/$defs/request/properties/count" }] });

    const gen = captureIo();
    const out = join(dir, "generated");
    expect(await generateMain(["--schemas", join(dir, "schemas"), "--templates", join(ROOT, "templates"), "--out", out], gen.io)).toBe(1);
    expect(gen.err()).toMatch(/lint: 1 problem in the schemas\n {2}commands\/getthing\.json#\/\$defs\/request\/properties\/count: property "count" has no description/);
  });

  it("reports schema errors (meta-schema) as problems too, and bad arguments as usage", async () => {
    const dir = await tempDir("lint-meta");
    await writeTree(join(dir, "schemas"), await edited("commands/getthing.json", (d) => void (d["x-openflow"].direction = "sideways")));
    const io = captureIo();
    expect(await lintMain([join(dir, "schemas")], io.io)).toBe(1);
    expect(io.out()).toMatch(/getthing\.json#\/x-openflow\/direction: /);
    const usage = captureIo();
    expect(await lintMain([join(dir, "nope")], usage.io)).toBe(2);
    expect(usage.err()).toMatch(/openflow-spec lint: .*nope: no such directory\n/);
    // No argument, run where there is no schemas/ (an app that installed the tools): the message says what to do.
    const cwd = process.cwd();
    const noArg = captureIo();
    try {
      process.chdir(await tempDir("lint-no-schemas"));
      expect(await lintMain([], noArg.io)).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(noArg.err()).toMatch(/openflow-spec lint: schemas: no such directory here \(run it where schemas\/ is, or name the folder: openflow-spec lint path\/to\/schemas\)/);
    expect(await lintMain(["a", "b"], captureIo().io)).toBe(2);
  });
});

it("GeneratorError carries the lint issues with their rule", async () => {
  const texts = await edited("defs/thing.json", (d) => void delete d.examples);
  const { generateFromLoaded, loadTemplates } = await import("../generator/generate.js");
  const run = generateFromLoaded(loadFromTexts(texts), await loadTemplates(join(ROOT, "templates")));
  await expect(run).rejects.toBeInstanceOf(GeneratorError);
  await expect(run).rejects.toMatchObject({ phase: "lint", issues: [{ rule: "def-examples", file: "defs/thing.json" }] });
});
