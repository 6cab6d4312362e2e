/** Helpers to walk JSON Schema documents: visit every subschema with its JSON pointer, resolve pointers. */
import { escapePointerSegment } from "./errors.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { readonly [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keywords whose value is one subschema. */
export const SINGLE_SCHEMA_KEYWORDS = [
  "additionalProperties",
  "items",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
] as const;
/** Keywords whose value is an array of subschemas. */
export const ARRAY_SCHEMA_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
/** Keywords whose value maps names to subschemas. */
export const MAP_SCHEMA_KEYWORDS = ["properties", "patternProperties", "$defs", "dependentSchemas"] as const;

/** Calls `visit` for `schema` and every nested subschema, depth first, with its JSON pointer. */
export function walkSchema(
  schema: unknown,
  visit: (node: JsonObject, pointer: string) => void,
  pointer = "",
): void {
  if (!isObject(schema)) return;
  visit(schema, pointer);
  for (const key of SINGLE_SCHEMA_KEYWORDS) {
    if (key in schema) walkSchema(schema[key], visit, `${pointer}/${key}`);
  }
  for (const key of ARRAY_SCHEMA_KEYWORDS) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((item, i) => walkSchema(item, visit, `${pointer}/${key}/${i}`));
  }
  for (const key of MAP_SCHEMA_KEYWORDS) {
    const map = schema[key];
    if (isObject(map)) {
      for (const name of Object.keys(map)) {
        walkSchema(map[name], visit, `${pointer}/${key}/${escapePointerSegment(name)}`);
      }
    }
  }
}

/** Resolves a JSON pointer ("" or "/a/b") inside a document; undefined when it does not exist. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  if (!pointer.startsWith("/")) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(segment)) return undefined;
      node = node[Number(segment)];
    } else if (isObject(node)) {
      if (!Object.prototype.hasOwnProperty.call(node, segment)) return undefined;
      node = node[segment];
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

/** Splits an absolute or relative `$ref` against a base URI into document URI and fragment pointer. */
export function resolveRef(ref: string, baseId: string): { uri: string; fragment: string } {
  const url = new URL(ref, baseId);
  const fragment = decodeURIComponent(url.hash.replace(/^#/, ""));
  url.hash = "";
  return { uri: url.toString(), fragment };
}

/** Annotation keywords that never change a validation verdict. */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set([
  "title", "description", "examples", "$comment", "deprecated", "default", "readOnly", "writeOnly", "x-openflow",
]);

/**
 * Returns a deep copy of a schema without annotation keywords (schema positions only: a property *named*
 * "description" is kept). Used to keep the standalone validators small. The input is not modified.
 */
export function stripAnnotations(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    if (ANNOTATION_KEYWORDS.has(key)) continue;
    const value = schema[key];
    if ((SINGLE_SCHEMA_KEYWORDS as readonly string[]).includes(key)) out[key] = stripAnnotations(value);
    else if ((ARRAY_SCHEMA_KEYWORDS as readonly string[]).includes(key) && Array.isArray(value)) out[key] = value.map(stripAnnotations);
    else if ((MAP_SCHEMA_KEYWORDS as readonly string[]).includes(key) && isObject(value)) {
      const map: Record<string, unknown> = {};
      for (const name of Object.keys(value)) map[name] = stripAnnotations(value[name]);
      out[key] = map;
    } else out[key] = value;
  }
  return out;
}
