/**
 * Emits `generated/types.ts`: json-schema-to-typescript runs ONCE over one synthetic root whose `definitions` hold
 * every shape (frame, shared defs, each command's request and reply), so a shared shape is declared exactly once.
 * Cross-file `$ref`s are rewritten to `#/definitions/<TypeName>`; refs to locations that are not a named shape are
 * inlined. Then the command-level types are appended: `CommandMap`, name unions and discriminated unions.
 */
import { compile } from "json-schema-to-typescript";
import { caseInsensitiveEnum, type CommandModel, type SpecModel } from "../model.js";
import { ID_BASE } from "../validate.js";
import { ARRAY_SCHEMA_KEYWORDS, isObject, MAP_SCHEMA_KEYWORDS, resolvePointer, resolveRef, SINGLE_SCHEMA_KEYWORDS, type JsonObject } from "../walk.js";
import { codeHeader } from "./header.js";

const ANNOTATIONS = new Set(["title", "description", "deprecated", "default", "readOnly", "writeOnly"]);

/** A named shape that becomes one exported type. */
interface Shape {
  readonly typeName: string;
  readonly file: string;
  readonly pointer: string;
  readonly schemaUri: string;
  readonly schema: JsonObject;
  readonly deprecated?: string | undefined;
}

export function shapesOf(model: SpecModel): Shape[] {
  const shapes: Shape[] = [];
  if (model.frame) shapes.push({ typeName: "Frame", file: model.frame.file, pointer: "", schemaUri: model.frame.schemaUri, schema: model.frame.schema });
  for (const d of model.defs) shapes.push(d);
  for (const c of model.commands) {
    for (const d of c.localDefs) shapes.push(d);
    for (const p of [c.request, c.reply]) {
      if (p) shapes.push({ typeName: p.typeName, file: c.file, pointer: p.pointer, schemaUri: p.schemaUri, schema: p.schema, deprecated: c.deprecated ? (c.deprecation ?? "deprecated") : undefined });
    }
  }
  for (const r of model.robotCommands ?? []) shapes.push({ typeName: r.typeName, file: r.file, pointer: "", schemaUri: r.schemaUri, schema: r.schema });
  return shapes;
}

/** Doc comment text may not close the comment early. */
export function escapeComment(text: string): string {
  return text.replace(/\*\//g, "*\\/");
}

export interface TypesSource {
  /** The synthetic root schema (a fresh object; inputs are not mutated). */
  readonly root: JsonObject;
  readonly shapes: readonly Shape[];
}

/** Builds the synthetic root. */
export function buildTypesRoot(model: SpecModel, documents: ReadonlyMap<string, unknown>): TypesSource {
  const shapes = shapesOf(model);
  const byUri = new Map<string, string>();
  for (const s of shapes) {
    byUri.set(s.schemaUri, s.typeName);
    if (s.pointer === "") byUri.set(`${s.schemaUri}#`, s.typeName);
  }

  const rewrite = (schema: unknown, baseId: string, stack: readonly string[], top: boolean): unknown => {
    if (!isObject(schema)) return schema;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(schema)) {
      const value = schema[key];
      if (key === "x-openflow") {
        // Kept for the closed (authoring) request types only: see authoringView below.
        const values = caseInsensitiveEnum(schema);
        if (values) out[AUTHORING_ENUM] = values;
        continue;
      }
      if (key === "$id" || key === "$schema" || key === "examples" || key === "$comment") continue;
      if (key === "$defs" && top) continue; // hoisted as shapes of their own
      if (key === "$ref" && typeof value === "string") {
        const target = resolveRef(value, baseId);
        const full = target.fragment === "" ? target.uri : `${target.uri}#${target.fragment}`;
        const name = byUri.get(full);
        if (name !== undefined) {
          // tsType instead of $ref: json-schema-to-typescript then neither dereferences nor re-declares the shape
          // (a $ref with sibling keywords would otherwise become a numbered duplicate such as Date1).
          out["tsType"] = name;
        } else if (!stack.includes(full) && stack.length < 16) {
          const inlined = rewrite(resolvePointer(documents.get(target.uri), target.fragment), target.uri, [...stack, full], false);
          if (isObject(inlined)) Object.assign(out, inlined);
        }
        continue;
      }
      if ((SINGLE_SCHEMA_KEYWORDS as readonly string[]).includes(key)) {
        if (key === "contentSchema") continue; // annotation only for TypeScript: the field is a string
        out[key] = rewrite(value, baseId, stack, false);
      } else if ((ARRAY_SCHEMA_KEYWORDS as readonly string[]).includes(key) && Array.isArray(value)) {
        out[key] = value.map((v) => rewrite(v, baseId, stack, false));
      } else if ((MAP_SCHEMA_KEYWORDS as readonly string[]).includes(key) && isObject(value)) {
        const map: Record<string, unknown> = {};
        for (const name of Object.keys(value)) map[name] = rewrite(value[name], baseId, stack, false);
        out[key] = map;
      } else {
        out[key] = structuredClone(value);
      }
    }
    if (typeof out["tsType"] === "string") {
      const rest = Object.keys(out).filter((k) => k !== "tsType" && !ANNOTATIONS.has(k));
      if (rest.length > 0) {
        const constraint: Record<string, unknown> = {};
        for (const k of rest) {
          constraint[k] = out[k];
          delete out[k];
        }
        const named = out["tsType"];
        delete out["tsType"];
        out["allOf"] = [{ tsType: named }, constraint];
      }
    }
    return out;
  };

  const definitions: Record<string, unknown> = {};
  const rewritten = new Map(shapes.map((s) => [s.typeName, liftOwnFields(rewrite(s.schema, (s.schemaUri.split("#")[0] ?? s.schemaUri), [s.schemaUri], true) as Record<string, unknown>)]));
  const closedNames = closedTypeNames(model, rewritten);
  for (const name of closedNames) {
    const schema = rewritten.get(name);
    if (schema) closeTopLevel(schema);
  }
  for (const [name, schema] of rewritten) authoringView(schema, closedNames.has(name));
  for (const s of shapes) {
    const copy = rewritten.get(s.typeName) ?? {};
    copy["title"] = s.typeName;
    const where = `Schema: \`schemas/${s.file}${s.pointer === "" ? "" : `#${s.pointer}`}\``;
    const description = typeof copy["description"] === "string" ? `${copy["description"]}\n\n${where}` : where;
    copy["description"] = escapeComment(description);
    definitions[s.typeName] = copy;
  }
  const root = { title: "OpenFlowSpecRoot", type: "object", additionalProperties: false, definitions } as JsonObject;
  void ID_BASE;
  return { root, shapes };
}

/** Marker the rewrite leaves on a property with `x-openflow.caseInsensitiveEnum` (never reaches the output). */
const AUTHORING_ENUM = "x-authoring-enum";

/**
 * A property the server compares case-insensitively against a closed set: in a closed (authoring) request type it
 * becomes the union of the canonical values (`"new" | "processing" | ...`); everywhere else the marker is dropped
 * and the wire type (any string) stays.
 */
function authoringView(node: unknown, closed: boolean): void {
  if (!isObject(node)) return;
  // The rewritten schemas are fresh copies (buildTypesRoot), ours to change.
  const schema = node as Record<string, unknown>;
  const values = schema[AUTHORING_ENUM];
  if (Array.isArray(values)) {
    delete schema[AUTHORING_ENUM];
    if (closed) {
      const type = schema["type"];
      const nullable = type === "null" || (Array.isArray(type) && type.includes("null"));
      schema["tsType"] = [...values.map((v) => JSON.stringify(v)), ...(nullable ? ["null"] : [])].join(" | ");
      for (const k of ["type", "pattern", "enum"]) delete schema[k];
    }
  }
  for (const value of Object.values(schema)) {
    if (Array.isArray(value)) value.forEach((v) => authoringView(v, closed));
    else if (isObject(value)) authoringView(value, closed);
  }
}

/** Type name of the fields every request may carry (`schemas/defs/payload.json#/$defs/RequestCommon`); always closed. */
export const REQUEST_COMMON = "RequestCommon";

/**
 * Names of the shapes whose TypeScript type gets no index signature: `RequestCommon`, the request payload of every
 * command a client starts (direction c2s or both), and the named shapes such a request is made of at its top level
 * (`QueueMessageRequest = ... & (QueueMessagePublish | QueueMessageDelivery)`). An unknown or misspelt field in a
 * request an app writes is then a compile error. The schemas stay open (peers send extras); replies, shared
 * entities (documents) and server-started payloads keep their index signature.
 */
export function closedTypeNames(model: SpecModel, rewritten: ReadonlyMap<string, Record<string, unknown>>): Set<string> {
  const closed = new Set<string>([REQUEST_COMMON]);
  const localNames = new Set(model.commands.flatMap((c) => c.localDefs.map((d) => d.typeName)));
  const visit = (schema: unknown): void => {
    if (!isObject(schema)) return;
    if (typeof schema["tsType"] === "string" && localNames.has(schema["tsType"]) && !closed.has(schema["tsType"])) {
      closed.add(schema["tsType"]);
      visit(rewritten.get(schema["tsType"]));
    }
    for (const key of ["allOf", "anyOf", "oneOf"]) {
      const list = schema[key];
      if (Array.isArray(list)) list.forEach(visit);
    }
  };
  for (const c of model.commands) {
    if (c.direction === "s2c") continue;
    closed.add(c.request.typeName);
    visit(rewritten.get(c.request.typeName));
  }
  return closed;
}

/**
 * Sets `additionalProperties: false` (for json-schema-to-typescript only) on an object schema and on the members of
 * its top-level allOf/anyOf/oneOf that do not say otherwise. Nested values (filters, documents) stay open.
 */
function closeTopLevel(schema: Record<string, unknown>): void {
  const objectLike = schema["type"] === "object" || "properties" in schema || "required" in schema;
  if (objectLike && !("additionalProperties" in schema) && !("patternProperties" in schema)) schema["additionalProperties"] = false;
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const list = schema[key];
    if (Array.isArray(list)) for (const member of list) if (isObject(member) && typeof member["tsType"] !== "string") closeTopLevel(member);
  }
}

/**
 * `{allOf: [common], properties: ...}` becomes `{allOf: [common, {properties: ...}]}` with the second member
 * untitled, so json-schema-to-typescript emits `type X = RequestCommon & { ...fields }` instead of inventing an
 * auxiliary `X1` interface for the own fields.
 */
function liftOwnFields(schema: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(schema["allOf"])) return schema;
  const keep = new Set(["title", "description", "deprecated", "allOf", "$defs", "definitions", "examples"]);
  const own = Object.keys(schema).filter((k) => !keep.has(k));
  if (!own.some((k) => k !== "type")) return schema;
  const out: Record<string, unknown> = {};
  const part: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (keep.has(k)) out[k] = v;
    else part[k] = v;
  }
  if (schema["type"] !== undefined) out["type"] = schema["type"];
  out["allOf"] = [...(schema["allOf"] as unknown[]), part];
  return out;
}

/** The stored-document shape (`schemas/defs/base.json`), when the spec has one. */
export function baseShape(model: SpecModel): { readonly typeName: string; readonly schemaUri: string } | undefined {
  return model.defs.find((d) => d.file === "defs/base.json" && d.pointer === "");
}

/**
 * Top-level fields of a payload that hold stored documents: a `$ref` to the base shape, an array of them, or a
 * union with such a member (`item: Base | string`). The client methods type them by a document type parameter.
 */
export function documentFields(schema: JsonObject, schemaUri: string, baseUri: string): string[] {
  const baseId = schemaUri.split("#")[0] ?? schemaUri;
  const holds = (s: unknown, depth: number): boolean => {
    if (!isObject(s) || depth > 3) return false;
    if (typeof s["$ref"] === "string") {
      const target = resolveRef(s["$ref"], baseId);
      if (target.uri === baseUri && target.fragment === "") return true;
    }
    if (holds(s["items"], depth + 1)) return true;
    return ["anyOf", "oneOf"].some((k) => Array.isArray(s[k]) && (s[k] as unknown[]).some((m) => holds(m, depth + 1)));
  };
  const properties = isObject(schema["properties"]) ? schema["properties"] : {};
  return Object.keys(properties).filter((name) => holds(properties[name], 0));
}

function documentTypes(base: string): string[] {
  return [
    `/** The known fields of \`${base}\` (the stored-document fields), without its index signature. */`,
    `export type ${base}Fields = { [K in keyof ${base} as string extends K ? never : number extends K ? never : K]: ${base}[K] };`,
    "/** A stored document of your type `T` (MongoDB's `WithId<T>`): `T` plus the base entity fields, `_id` always set. */",
    `export type Entity<T extends object = ${base}> = T & ${base}Fields & { _id: string };`,
    "/** A document you send: `T` plus the optional base entity fields (`_type`, `name`, `_acl`, ...). */",
    `export type EntityInput<T extends object = ${base}> = T & ${base}Fields;`,
    `/** \`${base}\` (or an array of it) replaced by \`D\` in each member of a union; other members stay. */`,
    `export type SwapDocument<V, D> = V extends ${base}[] ? D[] : V extends ${base} ? D : V;`,
    `/** Payload \`P\` with the document-holding fields \`F\` typed by \`D\` instead of \`${base}\` (optionality kept). */`,
    "export type WithDocuments<P, F extends PropertyKey, D> = { [K in keyof P]: K extends F ? SwapDocument<P[K], D> : P[K] };",
    "",
  ];
}

function commandTypes(model: SpecModel): string {
  const lines: string[] = [];
  const base = baseShape(model);
  if (base) lines.push(...documentTypes(base.typeName));
  const replyOf = (c: CommandModel): string => (c.reply ? c.reply.typeName : "never");
  lines.push("/** Request and reply payload types of every command, by wire command string. */");
  lines.push("export interface CommandMap {");
  for (const c of model.commands) {
    lines.push(`  /** ${escapeComment(c.purpose)} (\`schemas/${c.file}\`)${c.deprecated ? `\n   * @deprecated ${escapeComment(c.deprecation ?? "")}` : ""} */`);
    lines.push(`  ${JSON.stringify(c.name)}: { request: ${c.request.typeName}; reply: ${replyOf(c)} };`);
  }
  lines.push("}");
  lines.push("");
  const union = (name: string, doc: string, list: readonly CommandModel[]): void => {
    lines.push(`/** ${doc} */`);
    lines.push(`export type ${name} = ${list.length === 0 ? "never" : list.map((c) => JSON.stringify(c.name)).join(" | ")};`);
    lines.push("");
  };
  union("CommandName", "Every command string the spec knows.", model.commands);
  union("ClientCommandName", "Commands a client starts (direction c2s or both).", model.commands.filter((c) => c.direction !== "s2c"));
  union("ServerCommandName", "Commands a server starts (direction s2c or both).", model.commands.filter((c) => c.direction !== "c2s"));
  lines.push("/** A request as a discriminated union: narrow on `command` to get the payload type. */");
  lines.push("export type AnyRequest = { [K in CommandName]: { command: K; payload: CommandMap[K][\"request\"] } }[CommandName];");
  lines.push("/** A reply as a discriminated union (commands without a reply are left out). */");
  lines.push("export type AnyReply = { [K in CommandName]: CommandMap[K][\"reply\"] extends never ? never : { command: K; payload: CommandMap[K][\"reply\"] } }[CommandName];");
  lines.push("/** The request payload type of a command. */");
  lines.push("export type RequestOf<K extends CommandName> = CommandMap[K][\"request\"];");
  lines.push("/** The reply payload type of a command (`never` when nobody answers it). */");
  lines.push("export type ReplyOf<K extends CommandName> = CommandMap[K][\"reply\"];");
  lines.push("");
  lines.push(...robotTypes(model));
  return lines.join("\n");
}

/** Robot command types: bodies inside `queuemessage.data` (schemas/robot/, docs/protocol.md#robot-commands). */
function robotTypes(model: SpecModel): string[] {
  const robots = model.robotCommands ?? [];
  if (robots.length === 0) return [];
  const lines: string[] = [];
  lines.push("/** Every robot command (the body inside `queuemessage.data`), by its `command` value. */");
  lines.push("export interface RobotCommandMap {");
  for (const r of robots) {
    lines.push(`  /** ${escapeComment(r.purpose)}: sent by the ${r.sender} (\`schemas/${r.file}\`) */`);
    lines.push(`  ${JSON.stringify(r.name)}: ${r.typeName};`);
  }
  lines.push("}");
  lines.push("/** Every robot command name. */");
  lines.push("export type RobotCommandName = keyof RobotCommandMap;");
  lines.push("/** Any robot command, discriminated by `command`. */");
  lines.push("export type AnyRobotCommand = RobotCommandMap[RobotCommandName];");
  const byStage = (stage: string): string => robots.filter((r) => r.stage === stage).map((r) => JSON.stringify(r.name)).join(" | ") || "never";
  lines.push("/** Robot commands that end an invocation (x-openflow.stage terminal). */");
  lines.push(`export type RobotTerminalCommandName = ${byStage("terminal")};`);
  lines.push("");
  return lines;
}

export async function emitTypes(model: SpecModel, documents: ReadonlyMap<string, unknown>): Promise<Map<string, string>> {
  const { root } = buildTypesRoot(model, documents);
  const body = await compile(root as never, "OpenFlowSpecRoot", {
    bannerComment: "",
    format: true,
    unreachableDefinitions: true,
    declareExternallyReferenced: true,
    additionalProperties: true,
    strictIndexSignatures: false,
    unknownAny: true,
    $refOptions: { resolve: { external: false } } as never,
  });
  // The synthetic root is only a container; drop its empty interface.
  const cleaned = body
    .replace(/^export interface OpenFlowSpecRoot \{\}\n?/m, "")
    .replace(/\n \* ?\n \* This interface was referenced by `OpenFlowSpecRoot`'s JSON-Schema\n \* via the `definition` "[^"]*"\./g, "")
    .trim();
  let marked = cleaned;
  for (const s of shapesOf(model)) {
    if (s.deprecated !== undefined) marked = markDeprecated(marked, s.typeName, s.deprecated);
  }
  const text = [codeHeader("schemas/"), "/* eslint-disable */", marked, "", commandTypes(model)].join("\n");
  return new Map([["types.ts", text]]);
}

/** Adds `@deprecated <reason>` to the doc comment of the exported type `name` (creating the comment if needed). */
export function markDeprecated(source: string, name: string, reason: string): string {
  const tag = ` * @deprecated ${escapeComment(reason).replace(/\n/g, " ")}`;
  const withDoc = new RegExp(`(/\\*\\*(?:(?!\\*/)[\\s\\S])*?)\\n \\*/\\nexport (type|interface) ${name}\\b`);
  if (withDoc.test(source)) return source.replace(withDoc, (_m, doc: string, kind: string) => `${doc}\n *\n${tag}\n */\nexport ${kind} ${name}`);
  const bare = new RegExp(`\\nexport (type|interface) ${name}\\b`);
  return source.replace(bare, (_m, kind: string) => `\n/**\n${tag}\n */\nexport ${kind} ${name}`);
}
