/**
 * JSON Schema → fast-check arbitrary, for the request schemas of the spec: `$ref` across files, `allOf` (merged
 * properties), `anyOf`/`oneOf` (one branch), `const`, `enum`, types, formats (`date-time`, `email`, `uri`,
 * `uuid`), string and number bounds, arrays (short), and JSON-in-string fields (`contentMediaType:
 * application/json` + `contentSchema`: the value is generated from the content schema, then JSON-encoded).
 * Objects get their required fields and a random subset of the optional ones. Depth is bounded; at the bound
 * only required fields are generated, with the simplest values.
 *
 * Values are drawn with `draw(arbitrary, seed)`: one seeded fast-check sample, so a run is reproducible from
 * `--seed` alone.
 */
import fc from "fast-check";
import type { SpecIndex } from "./spec.js";

type Json = Record<string, unknown>;

const MAX_DEPTH = 4;

/** Field names that are safe as MongoDB document keys (no `$`, no dots). */
export const fieldName: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/);

/** A free-form JSON value (for schemas that say nothing, such as `payload` of a work item). */
export const freeJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.string({ maxLength: 12 }),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fieldName, tie("value"), { maxKeys: 3 }),
  ),
})).value;


function typeArbitrary(type: string, s: Json, spec: SpecIndex, file: string, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer": {
      const min = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : -1000;
      const max = typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - 1 : Math.max(min, 0) + 1000;
      return fc.integer({ min: Math.ceil(min), max: Math.floor(Math.max(min, max)) });
    }
    case "number": {
      const min = typeof s.minimum === "number" ? s.minimum : -1000;
      const max = typeof s.maximum === "number" ? s.maximum : Math.max(min, 0) + 1000;
      return fc.double({ min, max: Math.max(min, max), noNaN: true, noDefaultInfinity: true });
    }
    case "string":
      return stringArbitrary(s, spec, file, depth);
    case "array": {
      const items = s.items === undefined || s.items === true ? freeJson : schemaArbitrary(s.items, spec, file, depth + 1);
      const minLength = typeof s.minItems === "number" ? s.minItems : 0;
      const maxLength = Math.max(minLength, Math.min(typeof s.maxItems === "number" ? s.maxItems : 3, depth >= MAX_DEPTH ? minLength : 3));
      return fc.array(items, { minLength, maxLength });
    }
    case "object":
      return objectArbitrary(s, spec, file, depth);
    default:
      return freeJson;
  }
}

function stringArbitrary(s: Json, spec: SpecIndex, file: string, depth: number): fc.Arbitrary<unknown> {
  if (s.contentMediaType === "application/json" && s.contentSchema !== undefined) {
    return schemaArbitrary(s.contentSchema, spec, file, depth + 1).map((v) => JSON.stringify(v ?? null));
  }
  switch (s.format) {
    case "date-time":
      return fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
    case "email":
      return fc.emailAddress();
    case "uri":
      return fc.webUrl();
    case "uuid":
      return fc.uuid();
    default:
      break;
  }
  if (typeof s.pattern === "string") {
    try {
      return fc.stringMatching(new RegExp(s.pattern));
    } catch {
      // a pattern JavaScript cannot compile: plain strings below
    }
  }
  const minLength = typeof s.minLength === "number" ? s.minLength : 0;
  const maxLength = Math.max(minLength, typeof s.maxLength === "number" ? Math.min(s.maxLength, 24) : 16);
  return fc.string({ minLength, maxLength });
}

interface Shape {
  properties: Map<string, { schema: unknown; file: string }>;
  required: Set<string>;
}

/** Properties and required names of an object schema, through `$ref` and `allOf`. */
function collectShape(schema: unknown, spec: SpecIndex, file: string, shape: Shape, depth = 0): void {
  if (typeof schema !== "object" || schema === null || depth > 6) return;
  const s = schema as Json;
  if (typeof s.$ref === "string") {
    const target = spec.resolve(s.$ref, file);
    if (target) collectShape(target.schema, spec, target.file, shape, depth + 1);
  }
  if (typeof s.properties === "object" && s.properties !== null) {
    for (const [name, sub] of Object.entries(s.properties as Json)) {
      if (!shape.properties.has(name)) shape.properties.set(name, { schema: sub, file });
    }
  }
  if (Array.isArray(s.required)) for (const r of s.required) shape.required.add(String(r));
  if (Array.isArray(s.allOf)) for (const part of s.allOf) collectShape(part, spec, file, shape, depth + 1);
}

function objectArbitrary(s: Json, spec: SpecIndex, file: string, depth: number, branch?: unknown): fc.Arbitrary<unknown> {
  const alternatives = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as unknown[] | undefined;
  if (branch === undefined && alternatives && alternatives.length > 0) {
    // "one of these ways" (by id or by name, by ids or by query): pick a branch and add its required fields.
    return fc.oneof(...alternatives.map((b) => objectArbitrary(s, spec, file, depth, b)));
  }
  const shape: Shape = { properties: new Map(), required: new Set() };
  // The object's own property schemas first (they carry the encodings, e.g. JSON text with its contentSchema);
  // the branch adds its required fields and properties of its own.
  collectShape(s, spec, file, shape);
  if (branch !== undefined) collectShape(branch, spec, file, shape);
  if (shape.properties.size === 0) return depth >= MAX_DEPTH ? fc.constant({}) : fc.dictionary(fieldName, freeJson, { maxKeys: 3 });
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [name, { schema, file: at }] of shape.properties) {
    const isRequired = shape.required.has(name);
    if (!isRequired && depth >= MAX_DEPTH) continue;
    record[name] = schemaArbitrary(schema, spec, at, depth + 1);
    if (isRequired) requiredKeys.push(name);
  }
  return fc.record(record, { requiredKeys }) as fc.Arbitrary<unknown>;
}

/** An arbitrary for `schema`, written in the file `file` (relative to schemas/, for its `$ref`s). */
export function schemaArbitrary(schema: unknown, spec: SpecIndex, file: string, depth = 0): fc.Arbitrary<unknown> {
  if (schema === true || schema === undefined) return freeJson;
  if (schema === false || typeof schema !== "object" || schema === null) return fc.constant(null);
  const s = schema as Json;
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.enum.length > 0) return fc.constantFrom(...(s.enum as unknown[]));
  const hasOwnShape = s.type !== undefined || s.properties !== undefined || s.allOf !== undefined;
  if (typeof s.$ref === "string" && !hasOwnShape) {
    const target = spec.resolve(s.$ref, file);
    return target ? schemaArbitrary(target.schema, spec, target.file, depth + 1) : freeJson;
  }
  const branches = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as unknown[] | undefined;
  if (branches && branches.length > 0 && !hasOwnShape) {
    return fc.oneof(...branches.map((b) => schemaArbitrary(b, spec, file, depth + 1)));
  }
  if (s.allOf !== undefined || s.properties !== undefined) return objectArbitrary(s, spec, file, depth);
  if (Array.isArray(s.type)) {
    const types = (s.type as string[]).filter((t) => depth < MAX_DEPTH || t !== "object");
    return fc.oneof(...(types.length > 0 ? types : ["null"]).map((t) => typeArbitrary(t, s, spec, file, depth)));
  }
  if (typeof s.type === "string") return typeArbitrary(s.type, s, spec, file, depth);
  if (branches && branches.length > 0) return fc.oneof(...branches.map((b) => schemaArbitrary(b, spec, file, depth + 1)));
  return freeJson;
}

/** One value of `arb`, reproducible from `seed`. */
export function draw<T>(arb: fc.Arbitrary<T>, seed: number): T {
  return fc.sample(arb, { seed: seed | 0, numRuns: 1 })[0] as T;
}

/** A small deterministic PRNG (mulberry32) for the fuzzer's own choices (which command, which mutation). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
