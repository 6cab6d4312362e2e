/**
 * The standalone validators (generated/validators.js) against ajv compiling the schemas in memory: one set of
 * valid and invalid vectors, the same verdict and the same errors through both paths. Plus runtime/validate.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ValidateFunction } from "ajv";
import { createAjv } from "../generator/ajv.js";
import { loadSchemas } from "../generator/load.js";
import { ID_BASE, META_PATH } from "../generator/validate.js";
import * as standalone from "../generated/validators.js";
import { decodeData, hasReplySchema, isKnownCommand, knownCommands, validateFrame, validatePayload } from "../runtime/validate.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const WRONG_VALUES: unknown[] = [12345, "x", null, true, [], {}];

interface Case {
  name: string;
  uri: string;
  validate: standalone.Validator;
  vectors: unknown[];
}

let inMemory: (uri: string) => ValidateFunction;
let cases: Case[];

beforeAll(async () => {
  const loaded = await loadSchemas(join(ROOT, "schemas"));
  const ajv = createAjv();
  for (const f of loaded.files) if (f.path !== META_PATH) ajv.addSchema(f.json as object);
  inMemory = (uri) => {
    const v = ajv.getSchema(uri);
    if (!v) throw new Error(`no schema ${uri}`);
    return v;
  };
  cases = [];
  const frameExamples = (loaded.files.find((f) => f.path === "frame.json")?.json as { examples?: unknown[] }).examples ?? [];
  cases.push({ name: "frame", uri: `${ID_BASE}frame.json`, validate: standalone.frame, vectors: [...frameExamples, ...mutations(frameExamples), {}, null, "x"] });
  for (const f of loaded.files.filter((x) => x.path.startsWith("commands/"))) {
    const doc = f.json as { title: string; $defs: Record<string, { examples?: unknown[] } | undefined> };
    for (const kind of ["request", "reply"] as const) {
      const schema = doc.$defs[kind];
      if (!schema) continue;
      const table = kind === "request" ? standalone.requestValidators : standalone.replyValidators;
      const validate = table[doc.title];
      if (!validate) throw new Error(`standalone has no ${kind} validator for ${doc.title}`);
      const examples = schema.examples ?? [];
      cases.push({ name: `${doc.title} ${kind}`, uri: `${ID_BASE}${f.path}#/$defs/${kind}`, validate, vectors: [...examples, ...mutations(examples), {}, null, 7, "text", []] });
    }
  }
});

/** Each example with one top-level property replaced by each wrong value (bounded: first 2 examples, 8 keys). */
function mutations(examples: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const example of examples.slice(0, 2)) {
    if (typeof example !== "object" || example === null || Array.isArray(example)) continue;
    for (const key of Object.keys(example).slice(0, 8)) {
      for (const wrong of WRONG_VALUES) out.push({ ...example, [key]: wrong });
    }
  }
  return out;
}

function errorKeys(errors: readonly { instancePath: string; keyword: string; schemaPath: string }[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.schemaPath}`).sort();
}

describe("standalone validators agree with in-memory ajv", () => {
  it("covers the frame and every command request/reply", () => {
    expect(cases.length).toBeGreaterThan(2);
    expect(Object.keys(standalone.requestValidators).sort()).toEqual(knownCommands());
  });

  it("gives the same verdict and errors for every vector", () => {
    let valid = 0;
    let invalid = 0;
    for (const c of cases) {
      const reference = inMemory(c.uri);
      for (const vector of c.vectors) {
        const want = reference(vector);
        const got = c.validate(vector);
        expect(got, `${c.name}: ${JSON.stringify(vector)}`).toBe(want);
        expect(errorKeys(c.validate.errors), `${c.name}: ${JSON.stringify(vector)}`).toEqual(errorKeys(reference.errors));
        if (got) valid++;
        else invalid++;
      }
    }
    // The vector set exercises both outcomes.
    expect(valid).toBeGreaterThan(10);
    expect(invalid).toBeGreaterThan(10);
  });

  it("is plain ESM without require, eval or new Function, importable by Node itself", async () => {
    const file = join(ROOT, "generated/validators.js");
    const text = await readFile(file, "utf8");
    expect(text).not.toMatch(/\brequire\(/);
    expect(text).not.toMatch(/\beval\(|new Function\(/);
    const script = `import(${JSON.stringify(file)}).then((m) => { process.stdout.write(JSON.stringify({ frame: m.frame({ id: "a", command: "ping" }), n: Object.keys(m.requestValidators).length })); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({ frame: true, n: knownCommands().length });
  });
});

describe("runtime/validate.ts", () => {
  it("reports readable messages with pointers", () => {
    expect(validateFrame({ id: "a", command: "query", count: "1" })).toEqual([
      expect.objectContaining({ pointer: "/count", message: "/count must be integer", keyword: "type" }),
    ]);
    expect(validateFrame({ id: "a", command: "query", count: 2, index: 2 })).toEqual([
      expect.objectContaining({ pointer: "/index", message: "/index must be below count (2)" }),
    ]);
    expect(validateFrame({ id: "a", command: "query", data: null, count: 1, index: 0 })).toEqual([]);
    const issues = validatePayload("query", "request", { query: {} });
    expect(issues).toContainEqual(expect.objectContaining({ pointer: "", message: "must have required property 'collectionname'", keyword: "required" }));
    expect(issues[0]?.schemaPath).toMatch(/^commands\/query\.json#\/\$defs\/request/);
  });

  it("lower-cases the command and rejects unknown ones with one issue", () => {
    expect(isKnownCommand("QUERY")).toBe(true);
    expect(validatePayload("Query", "request", { collectionname: "entities", query: {} })).toEqual([]);
    expect(validatePayload("nosuchcommand", "request", {})).toEqual([
      expect.objectContaining({ pointer: "", message: expect.stringMatching(/unknown command 'nosuchcommand'/) }),
    ]);
  });

  it("decodes JSON-in-string fields and validates them against their contentSchema", () => {
    expect(validatePayload("query", "request", { collectionname: "entities", query: '{"_type":"test"}' })).toEqual([]);
    const notJson = validatePayload("query", "request", { collectionname: "entities", query: "{_type:1" });
    expect(notJson).toEqual([expect.objectContaining({ pointer: "/query", keyword: "contentMediaType", message: expect.stringMatching(/^\/query must be JSON text/) })]);
    const wrongShape = validatePayload("query", "request", { collectionname: "entities", query: "[1,2]" });
    expect(wrongShape).toEqual([
      expect.objectContaining({ pointer: "/query", contentPointer: "", message: "/query (inside its JSON text) must be object" }),
    ]);
  });

  it("applies a contentSchema only where its if/then or anyOf/oneOf branch applies", () => {
    // customcommand's data is JSON text whose schema depends on the sub-command (allOf of if/then branches).
    expect(validatePayload("customcommand", "request", { command: "createindex", data: JSON.stringify({ collectionname: "entities", name: "ix", index: { name: 1 } }) })).toEqual([]);
    expect(validatePayload("customcommand", "request", { command: "snapshotcreate", data: JSON.stringify({ repo: "r", branch: "main" }) })).toEqual([]);
    const missing = validatePayload("customcommand", "request", { command: "snapshotcreate", data: JSON.stringify({ branch: "main" }) });
    expect(missing).toEqual([expect.objectContaining({ pointer: "/data", keyword: "required", message: "/data (inside its JSON text) must have required property 'repo'" })]);
  });

  it("accepts every example of every command schema, JSON-in-string contents included", async () => {
    const commandsDir = join(ROOT, "schemas", "commands");
    const names = knownCommands();
    const failures: string[] = [];
    for (const name of names) {
      const schema = JSON.parse(await readFile(join(commandsDir, `${name}.json`), "utf8")) as { $defs: Record<string, { examples?: unknown[] }> };
      for (const kind of ["request", "reply"] as const) {
        for (const [i, example] of (schema.$defs[kind]?.examples ?? []).entries()) {
          const issues = validatePayload(name, kind, example);
          if (issues.length > 0) failures.push(`${name} ${kind} example ${i}: ${issues.map((x) => x.message).join("; ")}`);
        }
      }
    }
    // Every command file, and at least the 80 command strings of the catalog (a maintainer adds more).
    expect(names).toEqual((await readdir(commandsDir)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort());
    expect(names.length).toBeGreaterThanOrEqual(80);
    expect(failures).toEqual([]);
  });

  it("has no reply schema for commands nobody answers", () => {
    const unanswered = knownCommands().find((c) => !hasReplySchema(c));
    expect(unanswered).toBeDefined();
    expect(validatePayload(unanswered ?? "", "reply", {})).toEqual([expect.objectContaining({ message: expect.stringMatching(/no reply payload schema/) })]);
  });

  it("decodes frame data", () => {
    expect(decodeData(undefined)).toEqual({ ok: true, payload: null });
    expect(decodeData(null)).toEqual({ ok: true, payload: null });
    expect(decodeData("")).toEqual({ ok: true, payload: null });
    expect(decodeData('{"a":1}')).toEqual({ ok: true, payload: { a: 1 } });
    expect(decodeData("Unknown command")).toEqual({ ok: false, issue: expect.objectContaining({ pointer: "/data", message: expect.stringMatching(/not JSON text/) }) });
    expect(decodeData("Unknown command", { allowPlainText: true })).toEqual({ ok: true, payload: "Unknown command" });
    expect(decodeData(42)).toEqual({ ok: false, issue: expect.objectContaining({ keyword: "type" }) });
  });
});
