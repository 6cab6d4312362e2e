/**
 * A schema tree seen as the diff needs it: `$ref`s resolved across files (relative to each file's `$id`), and any
 * subschema flattened into a `Shape` that merges its `allOf` members and `$ref` target, so that the fields of
 * `payload.json#/$defs/RequestCommon` count as fields of every request. Annotations (title, description, examples,
 * x-*) are dropped; every other keyword lands in a slot of the shape, unknown ones in `opaque`, so no validation
 * keyword is ever ignored.
 */
import { isObject, resolvePointer, resolveRef, walkSchema } from "../generator/walk.js";
import { escapePointerSegment } from "../generator/errors.js";
import type { SchemaTree } from "./source.js";

/** Where a subschema lives: file relative to the schemas directory and JSON pointer inside it. */
export interface Loc {
  readonly file: string;
  readonly pointer: string;
}

export interface SchemaNode {
  readonly schema: unknown;
  readonly loc: Loc;
}

/** A `$ref` that names no file or no location in the tree. */
export class SchemaRefError extends Error {
  override name = "SchemaRefError";
}

export function formatLoc(loc: Loc): string {
  return `${loc.file}#${loc.pointer}`;
}

export function child(node: SchemaNode, ...segments: (string | number)[]): SchemaNode {
  let value: unknown = node.schema;
  for (const s of segments) value = isObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[s] : undefined;
  return { schema: value, loc: { file: node.loc.file, pointer: node.loc.pointer + segments.map((s) => `/${escapePointerSegment(s)}`).join("") } };
}

/** Resolves `$ref`s inside one tree. Files without an `$id` get a stand-in base URI from their path. */
export class SchemaIndex {
  private readonly byUri = new Map<string, string>();
  private readonly baseOf = new Map<string, string>();

  constructor(readonly tree: SchemaTree) {
    for (const [file, json] of tree.files) {
      const local = `https://openflow-spec.invalid/schemas/${file}`;
      const id = isObject(json) && typeof json["$id"] === "string" ? (json["$id"] as string) : undefined;
      let base = local;
      if (id !== undefined) {
        try {
          base = new URL(id).toString();
        } catch {
          // a relative or broken $id: keep the stand-in
        }
      }
      this.baseOf.set(file, base);
      this.byUri.set(base, file);
      this.byUri.set(local, file);
    }
  }

  /** Resolves every `$ref` of every file once, so a dangling one is an error even where the diff would not look. */
  checkRefs(): void {
    for (const [file, json] of this.tree.files) {
      walkSchema(json, (node, pointer) => {
        if (typeof node["$ref"] === "string") this.deref(node["$ref"], { file, pointer });
      });
    }
  }

  /** The subschema at `pointer` of `file` (schema undefined when absent). */
  at(file: string, pointer: string): SchemaNode {
    return { schema: resolvePointer(this.tree.files.get(file), pointer), loc: { file, pointer } };
  }

  /** The target of a `$ref` written at `from`. */
  deref(ref: string, from: Loc): SchemaNode {
    let target: { uri: string; fragment: string };
    try {
      target = resolveRef(ref, this.baseOf.get(from.file) ?? `https://openflow-spec.invalid/schemas/${from.file}`);
    } catch {
      throw new SchemaRefError(`${this.tree.label}: ${formatLoc(from)}: $ref ${JSON.stringify(ref)} is not a valid URI reference`);
    }
    const file = this.byUri.get(target.uri);
    const node = file === undefined ? undefined : this.at(file, target.fragment);
    if (node === undefined || node.schema === undefined) {
      throw new SchemaRefError(`${this.tree.label}: ${formatLoc(from)}: $ref ${JSON.stringify(ref)} points to nothing in the tree`);
    }
    return node;
  }
}

/** JSON types over a domain where "number" is integer plus fraction, so subset tests are plain set tests. */
export type TypeAtom = "null" | "boolean" | "object" | "array" | "string" | "integer" | "fraction";
const ALL_ATOMS: readonly TypeAtom[] = ["null", "boolean", "object", "array", "string", "integer", "fraction"];

function atomsOfType(type: string): TypeAtom[] {
  if (type === "number") return ["integer", "fraction"];
  return (ALL_ATOMS as readonly string[]).includes(type) && type !== "fraction" ? [type as TypeAtom] : [];
}

function atomOfValue(value: unknown): TypeAtom {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "fraction";
  return typeof value as TypeAtom;
}

/** `string|null`, `number`, `any`, `nothing`. */
export function formatTypes(types: ReadonlySet<TypeAtom> | undefined): string {
  if (types === undefined) return "any";
  if (types.size === 0) return "nothing";
  const names: string[] = [];
  for (const atom of ALL_ATOMS) {
    if (!types.has(atom)) continue;
    if (atom === "integer") names.push(types.has("fraction") ? "number" : "integer");
    else if (atom !== "fraction") names.push(atom);
  }
  return names.join("|");
}

function intersect(a: ReadonlySet<TypeAtom> | undefined, b: ReadonlySet<TypeAtom> | undefined): Set<TypeAtom> | undefined {
  if (a === undefined) return b === undefined ? undefined : new Set(b);
  if (b === undefined) return new Set(a);
  return new Set([...a].filter((t) => b.has(t)));
}

/** Key-order independent JSON text, for comparing values and opaque keywords. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  return JSON.stringify(value) ?? "undefined";
}

/** Keywords whose array value is a set: its order never matters. */
const SET_KEYWORDS = new Set(["required", "type", "enum"]);

/** Like `canonical`, for schema text: the arrays of required, type and enum are compared as sets. */
export function canonicalSchema(value: unknown, key = ""): string {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonicalSchema(v));
    return `[${(SET_KEYWORDS.has(key) ? items.sort() : items).join(",")}]`;
  }
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalSchema(value[k], k)}`).join(",")}}`;
  return JSON.stringify(value) ?? "undefined";
}

/** Keywords that never change what validates. */
const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "definitions", "$comment", "$anchor", "$dynamicAnchor", "title", "description", "examples", "default", "readOnly", "writeOnly", "deprecated"]);
/** Keywords compared by value, each with a direction (see ./compare.ts). */
export const CONSTRAINT_KEYWORDS = new Set([
  "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "pattern", "format",
  "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "minContains", "maxContains", "contentMediaType", "contentEncoding",
]);

export interface Group {
  readonly kind: "oneOf" | "anyOf";
  readonly variants: SchemaNode[];
  readonly loc: Loc;
}

export interface Conditional {
  readonly condition: string;
  readonly then: SchemaNode[];
  readonly else: SchemaNode[];
  readonly loc: Loc;
}

/** One subschema with its allOf members and $ref targets merged in. */
export interface Shape {
  readonly loc: Loc;
  /** Declared JSON types (undefined: any). */
  types: Set<TypeAtom> | undefined;
  /** Allowed values from enum/const (undefined: any), as canonical JSON. */
  values: Set<string> | undefined;
  readonly properties: Map<string, SchemaNode[]>;
  readonly required: Set<string>;
  /** additionalProperties or unevaluatedProperties is false. */
  closed: boolean;
  readonly additional: SchemaNode[];
  readonly items: SchemaNode[];
  readonly content: SchemaNode[];
  readonly constraints: Map<string, string[]>;
  readonly opaque: Map<string, string[]>;
  readonly groups: Group[];
  readonly conditionals: Conditional[];
  deprecated: boolean;
}

/** Shapes per tree index, keyed by their locations: a shared definition is flattened once per diff. */
const shapes = new WeakMap<SchemaIndex, Map<string, Shape>>();
const typesMemo = new WeakMap<Shape, { types: Set<TypeAtom> | undefined }>();

/** Flattens a conjunction of subschemas (one node, or a property defined in several allOf members). */
export function shapeOf(nodes: readonly SchemaNode[], index: SchemaIndex): Shape {
  let memo = shapes.get(index);
  if (memo === undefined) shapes.set(index, (memo = new Map()));
  const key = nodes.map((n) => formatLoc(n.loc)).join("&");
  let shape = memo.get(key);
  if (shape === undefined) memo.set(key, (shape = flatten(nodes, index)));
  return shape;
}

function flatten(nodes: readonly SchemaNode[], index: SchemaIndex): Shape {
  const shape: Shape = {
    loc: nodes[0]?.loc ?? { file: "", pointer: "" },
    types: undefined, values: undefined, properties: new Map(), required: new Set(), closed: false, additional: [], items: [],
    content: [], constraints: new Map(), opaque: new Map(), groups: [], conditionals: [], deprecated: false,
  };
  const seen = new Set<string>();
  const push = <T>(map: Map<string, T[]>, key: string, value: T): void => void map.set(key, [...(map.get(key) ?? []), value]);

  const add = (node: SchemaNode): void => {
    const key = formatLoc(node.loc);
    if (seen.has(key)) return; // a $ref cycle, or the same member reached twice
    seen.add(key);
    const s = node.schema;
    if (s === false) shape.types = new Set();
    if (!isObject(s)) return;
    for (const [k, v] of Object.entries(s)) {
      if (ANNOTATIONS.has(k) || k.startsWith("x-")) {
        if (k === "deprecated" && v === true) shape.deprecated = true;
        continue;
      }
      switch (k) {
        case "$ref":
          if (typeof v === "string") add(index.deref(v, node.loc));
          else push(shape.opaque, k, canonicalSchema(v));
          break;
        case "allOf":
          if (Array.isArray(v)) v.forEach((_, i) => add(child(node, k, i)));
          else push(shape.opaque, k, canonicalSchema(v, k));
          break;
        case "type": {
          const atoms = new Set((Array.isArray(v) ? v : [v]).flatMap((t) => (typeof t === "string" ? atomsOfType(t) : [])));
          shape.types = intersect(shape.types, atoms);
          break;
        }
        case "enum":
        case "const": {
          const list = k === "const" ? [v] : Array.isArray(v) ? v : [];
          const values = new Set(list.map(canonical));
          shape.values = shape.values === undefined ? values : new Set([...shape.values].filter((x) => values.has(x)));
          shape.types = intersect(shape.types, new Set(list.map(atomOfValue)));
          break;
        }
        case "properties":
          if (isObject(v)) for (const name of Object.keys(v)) push(shape.properties, name, child(node, k, name));
          break;
        case "required":
          if (Array.isArray(v)) for (const name of v) if (typeof name === "string") shape.required.add(name);
          break;
        case "additionalProperties":
        case "unevaluatedProperties":
          if (v === false) shape.closed = true;
          else if (v !== true) shape.additional.push(child(node, k));
          break;
        case "items":
          if (Array.isArray(v)) push(shape.opaque, k, canonicalSchema(v, k));
          else shape.items.push(child(node, k));
          break;
        case "contentSchema":
          shape.content.push(child(node, k));
          break;
        case "oneOf":
        case "anyOf":
          if (Array.isArray(v)) shape.groups.push({ kind: k, variants: v.flatMap((_, i) => expandVariant(child(node, k, i), index, 0)), loc: child(node, k).loc });
          else push(shape.opaque, k, canonicalSchema(v, k));
          break;
        case "if":
          shape.conditionals.push({ condition: canonicalSchema(v), then: "then" in s ? [child(node, "then")] : [], else: "else" in s ? [child(node, "else")] : [], loc: child(node, k).loc });
          break;
        case "then":
        case "else":
          if (!("if" in s)) push(shape.opaque, k, canonicalSchema(v, k));
          break;
        default:
          push(CONSTRAINT_KEYWORDS.has(k) ? shape.constraints : shape.opaque, k, canonicalSchema(v, k));
      }
    }
  };
  for (const node of nodes) add(node);
  return shape;
}

/** Keys of a schema object that take part in validation. */
function validationKeys(schema: Record<string, unknown>): string[] {
  return Object.keys(schema).filter((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-"));
}

/**
 * The alternatives a variant stands for: itself, or, when it is only a `$ref` or only an anyOf/oneOf (as
 * `{"anyOf": [{"$ref": "date.json"}, {"type": "null"}]}` with date.json an anyOf of string and object), the
 * alternatives inside it, so that wrapping a shape in another anyOf compares alternative by alternative.
 */
function expandVariant(node: SchemaNode, index: SchemaIndex, depth: number): SchemaNode[] {
  const s = node.schema;
  if (!isObject(s) || depth > 8) return [node];
  const keys = validationKeys(s);
  if (keys.length !== 1) return [node];
  const k = keys[0]!;
  if (k === "$ref" && typeof s[k] === "string") {
    const target = index.deref(s[k] as string, node.loc);
    const inner = expandVariant(target, index, depth + 1);
    return inner.length > 1 ? inner : [node];
  }
  if ((k === "anyOf" || k === "oneOf") && Array.isArray(s[k])) return (s[k] as unknown[]).flatMap((_, i) => expandVariant(child(node, k, i), index, depth + 1));
  return [node];
}

/** The JSON types a shape can hold, narrowed by its enum/const and by each oneOf/anyOf. */
export function effectiveTypes(shape: Shape, index: SchemaIndex, depth = 0): Set<TypeAtom> | undefined {
  const known = typesMemo.get(shape);
  if (known !== undefined) return known.types;
  const types = computeTypes(shape, index, depth);
  if (depth === 0) typesMemo.set(shape, { types });
  return types;
}

function computeTypes(shape: Shape, index: SchemaIndex, depth: number): Set<TypeAtom> | undefined {
  let types = shape.types;
  if (depth > 16) return types;
  for (const group of shape.groups) {
    const union = new Set<TypeAtom>();
    let any = false;
    for (const variant of group.variants) {
      const t = effectiveTypes(shapeOf([variant], index), index, depth + 1);
      if (t === undefined) any = true;
      else t.forEach((x) => union.add(x));
    }
    if (!any) types = intersect(types, union);
  }
  return types;
}
