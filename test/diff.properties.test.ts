/**
 * Properties of the diff over the real spec: a tree diffed with itself (in any key order) has no findings; and a
 * random single-field edit that makes a schema's own example fail validation (checked with ajv) is never
 * classified as safe for the side that writes that payload.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { join, resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { diffSpecs, loadDirectory, type SchemaTree } from "../diff/index.js";
import type { Json } from "./diff-helpers.js";
import { walkSchema } from "../generator/walk.js";

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;
const spec = await loadDirectory(join(resolve(import.meta.dirname, ".."), "schemas"));
type Obj = { [key: string]: Json };
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** A copy with every object's keys, and the order-free arrays (required, type, enum), in a random order. */
function shuffled(value: Json, random: () => number, key = ""): Json {
  const shuffle = <T>(list: T[]): T[] => list.map((v) => [random(), v] as const).sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  if (Array.isArray(value)) return ["required", "type", "enum"].includes(key) ? shuffle(value) : value.map((v) => shuffled(v, random));
  if (!isObj(value)) return value;
  return Object.fromEntries(shuffle(Object.keys(value)).map((k) => [k, shuffled(value[k]!, random, k)]));
}

function withFiles(tree: SchemaTree, files: Iterable<[string, unknown]>, label: string): SchemaTree {
  return { label, root: label, files: new Map(files) };
}

describe("diff(x, x)", () => {
  it("is empty for the whole spec", () => {
    expect(diffSpecs(spec, spec).findings).toEqual([]);
  });

  it("is empty for every schema in schemas/ with keys and order-free arrays reordered", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        let state = seed;
        const random = (): number => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        const copy = withFiles(spec, [...spec.files].map(([f, j]) => [f, shuffled(j as Json, random)]), "shuffled");
        expect(diffSpecs(spec, copy).findings).toEqual([]);
      }),
      { numRuns: 2 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Random single-field edits

type Part = "request" | "reply";
interface Target {
  command: string;
  file: string;
  part: Part;
  examples: Json[];
  /** The sides that write this payload. */
  writers: ("clients" | "servers")[];
}

const shared = [...spec.files].filter(([f]) => !f.startsWith("commands/"));
const targets: Target[] = [];
for (const [file, json] of spec.files) {
  if (!file.startsWith("commands/") || !isObj(json)) continue;
  const meta = json["x-openflow"] as Obj;
  const direction = meta["direction"] as string;
  for (const part of ["request", "reply"] as const) {
    const schema = (json["$defs"] as Obj)[part];
    if (!isObj(schema) || !Array.isArray(schema["examples"]) || !isObj(schema["properties"])) continue;
    const starter = direction === "s2c" ? "servers" : "clients";
    const writers: Target["writers"] = direction === "both" ? ["clients", "servers"] : [part === "request" ? starter : starter === "clients" ? "servers" : "clients"];
    targets.push({ command: meta["command"] as string, file, part, examples: schema["examples"] as Json[], writers });
  }
}

const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
addFormats(ajv);
for (const [, json] of shared) ajv.addSchema(json as object);
let serial = 0;
/** Compiles one command file (under a fresh $id, so edited copies never clash) and returns the part's validator. */
function validator(json: Obj, part: Part): ((value: unknown) => boolean) | undefined {
  const id = (json["$id"] as string).replace(/\.json$/, `-${++serial}.json`);
  try {
    ajv.addSchema({ ...json, $id: id });
    const v = ajv.getSchema(`${id}#/$defs/${part}`);
    return v ? (value) => v(value) as boolean : undefined;
  } catch {
    return undefined; // the edit made a schema ajv refuses: not a case for this property
  }
}

const anyValue = fc.constantFrom<Json>("x", "", 0, 7, 1.5, true, null, {}, []);
const editArb = fc.oneof(
  fc.record({ kind: fc.constant("type" as const), type: fc.constantFrom("string", "integer", "number", "boolean", "object", "array", "null") }),
  fc.record({ kind: fc.constant("dropType" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("enum" as const), values: fc.array(anyValue, { minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant("const" as const), value: anyValue }),
  fc.record({ kind: fc.constant("require" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("remove" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("close" as const) }),
  fc.record({ kind: fc.constant("bound" as const), keyword: fc.constantFrom("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "minProperties", "maxProperties"), n: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant("pattern" as const), pattern: fc.constantFrom("^x", "^[0-9]+$") }),
  fc.record({ kind: fc.constant("format" as const), format: fc.constantFrom("date-time", "email", "uuid") }),
  fc.record({ kind: fc.constant("not" as const), value: anyValue }),
);
type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

/** Applies one edit to one subschema of the part (any depth: properties, items, alternatives, then-branches). */
function applyEdit(part: Obj, at: number, edit: Edit): string {
  const nodes: { node: Obj; pointer: string }[] = [];
  walkSchema(part, (node, pointer) => void nodes.push({ node: node as Obj, pointer }));
  const { node, pointer } = nodes[at % nodes.length]!;
  const root = node;
  const props = isObj(node["properties"]) ? node["properties"] : {};
  const names = Object.keys(props);
  const where = pointer || "/";
  switch (edit.kind) {
    case "type": node["type"] = edit.type; return `${where}: type ${edit.type}`;
    case "dropType": {
      const t = node["type"];
      if (!Array.isArray(t) || t.length < 2) return "no-op";
      node["type"] = t.filter((_, i) => i !== edit.i % t.length);
      return `${where}: type ${JSON.stringify(node["type"])}`;
    }
    case "enum": node["enum"] = edit.values; return `${where}: enum ${JSON.stringify(edit.values)}`;
    case "const": node["const"] = edit.value; return `${where}: const ${JSON.stringify(edit.value)}`;
    case "require": {
      const n = names[edit.i % Math.max(1, names.length)];
      if (n === undefined) return "no-op";
      root["required"] = [...((root["required"] as string[] | undefined) ?? []), n];
      return `${where}: required ${n}`;
    }
    case "remove": {
      const n = names[edit.i % Math.max(1, names.length)];
      if (n === undefined) return "no-op";
      delete props[n];
      return `${where}: removed ${n}`;
    }
    case "close": root["additionalProperties"] = false; return `${where}: closed`;
    case "bound": node[edit.keyword] = edit.n; return `${where}: ${edit.keyword} ${edit.n}`;
    case "pattern": node["pattern"] = edit.pattern; return `${where}: pattern ${edit.pattern}`;
    case "format": node["format"] = edit.format; return `${where}: format ${edit.format}`;
    case "not": node["not"] = { const: edit.value }; return `${where}: not ${JSON.stringify(edit.value)}`;
  }
}

describe("random single-field edits", () => {
  it("are never safe for the writers of a payload whose example they make invalid", () => {
    let broken = 0;
    const before = new Map<string, (value: unknown) => boolean>();
    fc.assert(
      fc.property(fc.nat(), fc.nat(), editArb, (pick, at, edit) => {
        const target = targets[pick % targets.length]!;
        const original = spec.files.get(target.file) as Obj;
        const key = `${target.file}:${target.part}`;
        if (!before.has(key)) before.set(key, validator(original, target.part)!);
        const edited = clone(original);
        const what = applyEdit((edited["$defs"] as Obj)[target.part] as Obj, at, edit);
        const after = validator(edited, target.part);
        if (what === "no-op" || after === undefined) return;
        const failing = target.examples.filter((ex) => before.get(key)!(ex) && !after(ex));
        if (failing.length === 0) return;
        broken++;
        const a = withFiles(spec, [...shared, [target.file, original]], "before");
        const b = withFiles(spec, [...shared, [target.file, edited]], "after");
        const findings = diffSpecs(a, b).findings.filter((f) => f.part === target.part);
        for (const side of target.writers) {
          const classified = findings.map((f) => f[side]);
          expect(classified.some((s) => s === "error" || s === "warn"), `${target.command} ${target.part} ${what}: ${side} ${JSON.stringify(findings)}`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
    // the property must have been exercised, not skipped: enough edits really broke an example
    expect(broken).toBeGreaterThan(20);
  });
});
