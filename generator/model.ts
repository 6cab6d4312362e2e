/**
 * Phase 3: a small typed model of the validated schemas. Emitters read only this model (and, for validators, the
 * compiled ajv instance); they never look at raw schema files except through the pointers recorded here.
 */
import { isCommandFile, isRobotFile, ID_BASE, META_PATH, type ValidatedSchemas } from "./validate.js";
import { defaultTypeName, handlerName, methodName, typeNameFromTitle, validatorExportName } from "./naming.js";
import { isObject, resolvePointer, resolveRef, type JsonObject } from "./walk.js";
import type { SchemaFile } from "./load.js";
import { GeneratorError, type SchemaIssue } from "./errors.js";

export const IMPLEMENTATION_LABELS = [
  "api-2021",
  "api-latest",
  "server-2021",
  "server-latest",
  "openrpa-2021",
  "openrpa-latest",
] as const;
export type ImplementationLabel = (typeof IMPLEMENTATION_LABELS)[number];
export type Direction = "c2s" | "s2c" | "both";
export type PayloadKind = "request" | "reply";

/** A string field whose content is JSON text with a schema (`contentMediaType` + `contentSchema`). */
export interface ContentFieldModel {
  /** Pointer into the payload; `*` stands for any array index or property name. */
  readonly pointer: string;
  /** Absolute schema URI of the contentSchema (`<$id>#<pointer>`), as ajv knows it. */
  readonly schemaUri: string;
  /** File and pointer of the contentSchema, for messages. */
  readonly file: string;
  readonly schemaPointer: string;
  /**
   * Conditions under which the field's contentSchema applies: it sits in a `then`/`else` branch (guarded by the
   * `if` schema passing/failing) or in an `anyOf`/`oneOf` branch (guarded by that branch passing). Empty when it
   * always applies.
   */
  readonly guards: readonly ContentGuardModel[];
}

/** One condition on a content field: the value at `pointer` must (expect true) or must not pass `schemaUri`. */
export interface ContentGuardModel {
  /** Pointer into the payload of the value the condition is checked on; `*` as in the field pointer. */
  readonly pointer: string;
  readonly schemaUri: string;
  readonly file: string;
  readonly schemaPointer: string;
  readonly expect: boolean;
}

/** One top-level property of a payload, for documentation tables. */
export interface FieldModel {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
  /** Where the field is declared when it comes from a shared def (e.g. `RequestCommon`). */
  readonly inheritedFrom?: string;
  readonly jsonText: boolean;
}

export interface PayloadModel {
  readonly kind: PayloadKind;
  /** TypeScript type name (from the schema `title`). */
  readonly typeName: string;
  readonly description: string;
  /** `https://openflow-spec.dev/schemas/commands/query.json#/$defs/request` */
  readonly schemaUri: string;
  /** Pointer of the payload schema inside the command file. */
  readonly pointer: string;
  /** ESM export name of the standalone validator. */
  readonly validatorName: string;
  readonly examples: readonly unknown[];
  readonly fields: readonly FieldModel[];
  /** Short type summary of the whole payload (e.g. `ErrorPayload \| ErrorText`), Markdown-table escaped. */
  readonly shape: string;
  readonly contentFields: readonly ContentFieldModel[];
  /**
   * Top-level fields whose value the server compares case-insensitively against a closed set
   * (`x-openflow.caseInsensitiveEnum` on the property): the wire schema accepts any spelling, the authoring view (the
   * TypeScript request type and the closed request validator) only the canonical values.
   */
  readonly authoringEnums: readonly AuthoringEnum[];
  /** The raw schema (read only). */
  readonly schema: JsonObject;
}

/** A field with a case-insensitive closed set of values (x-openflow.caseInsensitiveEnum). */
export interface AuthoringEnum {
  readonly field: string;
  /** The canonical values, in the order the schema lists them. */
  readonly values: readonly string[];
  /** The field also takes null. */
  readonly nullable: boolean;
}

/** The `x-openflow.caseInsensitiveEnum` values of a property schema, or undefined. */
export function caseInsensitiveEnum(schema: unknown): string[] | undefined {
  if (!isObject(schema)) return undefined;
  const meta = schema["x-openflow"];
  if (!isObject(meta) || !Array.isArray(meta["caseInsensitiveEnum"])) return undefined;
  return meta["caseInsensitiveEnum"].filter((v): v is string => typeof v === "string");
}

/** Top-level authoring enums of a payload schema: its own properties and those of its allOf/anyOf/oneOf members. */
export function collectAuthoringEnums(schema: JsonObject): AuthoringEnum[] {
  const out = new Map<string, AuthoringEnum>();
  const visit = (node: unknown, depth: number): void => {
    if (!isObject(node) || depth > 4) return;
    const props = node["properties"];
    if (isObject(props)) {
      for (const [field, prop] of Object.entries(props)) {
        const values = caseInsensitiveEnum(prop);
        if (!values || out.has(field)) continue;
        const type = isObject(prop) ? prop["type"] : undefined;
        out.set(field, { field, values, nullable: type === "null" || (Array.isArray(type) && type.includes("null")) });
      }
    }
    for (const k of ["allOf", "anyOf", "oneOf"]) {
      const list = node[k];
      if (Array.isArray(list)) for (const member of list) visit(member, depth + 1);
    }
  };
  visit(schema, 0);
  return [...out.values()];
}

/** One code location an implementation's behaviour was read from (x-openflow.sources entry). */
export interface SourceLink {
  readonly url: string;
  readonly what: string;
  /** A name the cited range must contain (checked by `sources verify`). */
  readonly symbol?: string;
}

export type Effect = "read" | "write" | "admin";

/** One field-level difference between the legacy payload and its protobuf message (x-openflow.protobuf.changes). */
export interface ProtobufChange {
  readonly kind: "renamed" | "moved" | "json-text" | "retyped" | "dropped" | "added" | "not-echoed" | "note";
  readonly direction: "request" | "reply";
  readonly field?: string;
  readonly to?: string;
  readonly text?: string;
}

/** What the command becomes in the OpenIAP protobuf protocol (x-openflow.protobuf). */
export type ProtobufMap =
  | { readonly status: "none"; readonly instead: string }
  | {
      readonly status: "direct" | "renamed" | "reshaped";
      readonly command: string;
      readonly rpc?: string;
      readonly request: string;
      readonly reply: string | null;
      readonly replyCommand: string | null;
      readonly changes: readonly ProtobufChange[];
      readonly sources: readonly SourceLink[];
    };

/** One error text or note of a command file, with the links it was read from (empty when the file gives none). */
export interface Claim {
  readonly text: string;
  readonly labels?: readonly ImplementationLabel[];
  readonly sources: readonly SourceLink[];
  readonly proposed: boolean;
}

export interface CommandModel {
  /** Wire command string. */
  readonly name: string;
  /** `commands/query.json` */
  readonly file: string;
  readonly id: string;
  readonly description: string;
  readonly purpose: string;
  readonly direction: Direction;
  readonly replyCommand: string | null;
  readonly replyExpected: boolean;
  readonly deprecated: boolean;
  readonly deprecation?: string;
  readonly aliases: readonly string[];
  readonly implementations: Readonly<Record<ImplementationLabel, readonly string[]>>;
  /** What the command does to the server (x-openflow.effect): read, write or admin. */
  readonly effect: Effect;
  /** Its counterpart in the OpenIAP protobuf protocol, or none (x-openflow.protobuf; required by the meta-schema). */
  readonly protobuf: ProtobufMap;
  /** A command no implementation has yet (x-openflow.proposed). */
  readonly proposed: boolean;
  /** The error texts (the `text` of claim objects). */
  readonly errors: readonly string[];
  /** The notes (the `text` of claim objects). */
  readonly notes: readonly string[];
  /** The error texts with their own source links, where the file gives them. */
  readonly errorClaims: readonly Claim[];
  /** The notes with their own source links, where the file gives them. */
  readonly noteClaims: readonly Claim[];
  /** Where each implementation's behaviour was read (x-openflow.sources): GitHub URLs at a fixed commit with line ranges. */
  readonly sources: Readonly<Partial<Record<ImplementationLabel, readonly SourceLink[]>>>;
  readonly requestRole?: string;
  readonly methodName: string;
  readonly handlerName: string;
  readonly request: PayloadModel;
  readonly reply?: PayloadModel;
  /** Other entries of the command file's `$defs` (shapes its payloads reference), as named types. */
  readonly localDefs: readonly DefModel[];
}

/** A shared shape: the root of a def file or one entry of its `$defs`. */
export interface DefModel {
  readonly typeName: string;
  readonly file: string;
  readonly pointer: string;
  readonly schemaUri: string;
  readonly schema: JsonObject;
}

/** Who publishes a robot command (x-openflow.sender of schemas/robot/<command>.json). */
export type RobotSender = "caller" | "robot" | "server";
/** Where a robot command sits in one correlation id's sequence (x-openflow.stage). */
export type RobotStage = "start" | "accepted" | "progress" | "terminal" | "control" | "control-reply" | "event";

/**
 * A robot command: a JSON body carried inside `queuemessage.data` between OpenRPA robots and their callers
 * (schemas/robot/<command>.json, docs/protocol.md#robot-commands). Not a wire command.
 */
export interface RobotCommandModel {
  /** The value of the body's `command` field. */
  readonly name: string;
  /** `robot/invoke.json` */
  readonly file: string;
  readonly schemaUri: string;
  /** TypeScript type name (from the title, e.g. `RobotInvoke`). */
  readonly typeName: string;
  /** ESM export name of the standalone validator. */
  readonly validatorName: string;
  readonly description: string;
  readonly purpose: string;
  readonly sender: RobotSender;
  readonly stage: RobotStage;
  readonly labels: readonly ImplementationLabel[];
  /** Fields the body must have besides `command`. */
  readonly required: readonly string[];
  readonly sources: readonly SourceLink[];
  readonly notes: readonly string[];
  readonly examples: readonly unknown[];
  readonly fields: readonly FieldModel[];
  readonly schema: JsonObject;
}

export interface SpecModel {
  readonly frame?: { readonly file: string; readonly schemaUri: string; readonly schema: JsonObject };
  readonly defs: readonly DefModel[];
  readonly commands: readonly CommandModel[];
  /** Robot commands (bodies inside queuemessage data), sorted by name; empty when the spec has none. */
  readonly robotCommands: readonly RobotCommandModel[];
}

/** A def file's root is a shape of its own when it says anything beyond `$defs` and annotations. */
function rootIsShape(doc: JsonObject): boolean {
  const annotations = new Set(["$schema", "$id", "title", "description", "$defs", "$comment", "examples"]);
  return Object.keys(doc).some((k) => !annotations.has(k));
}

function buildDefs(files: readonly SchemaFile[], issues: SchemaIssue[]): DefModel[] {
  const defs: DefModel[] = [];
  for (const file of files.filter((f) => f.path.startsWith("defs/"))) {
    const doc = file.json as JsonObject;
    const id = ID_BASE + file.path;
    const stem = file.path.slice("defs/".length, -".json".length);
    if (rootIsShape(doc)) {
      const title = typeof doc["title"] === "string" ? doc["title"] : stem;
      defs.push({ typeName: typeNameFromTitle(title), file: file.path, pointer: "", schemaUri: id, schema: doc });
    }
    const sub = doc["$defs"];
    if (isObject(sub)) {
      for (const key of Object.keys(sub).sort()) {
        const schema = sub[key];
        if (!isObject(schema)) continue;
        const title = typeof schema["title"] === "string" ? schema["title"] : key;
        defs.push({ typeName: typeNameFromTitle(title), file: file.path, pointer: `/$defs/${key}`, schemaUri: `${id}#/$defs/${key}`, schema });
      }
    }
  }
  const seen = new Map<string, DefModel>();
  for (const def of defs) {
    const other = seen.get(def.typeName);
    if (other) {
      issues.push({ file: def.file, pointer: `${def.pointer}/title`, message: `type name "${def.typeName}" is also used by ${other.file}#${other.pointer}` });
    } else seen.set(def.typeName, def);
  }
  return defs;
}

export interface Resolver {
  /** Resolves `$ref` from a schema located at (file, base id). */
  resolve(ref: string, fromId: string): { file: SchemaFile; pointer: string; schema: unknown; id: string } | undefined;
}

export function makeResolver(data: Pick<ValidatedSchemas, "byId">): Resolver {
  return {
    resolve(ref, fromId) {
      const target = resolveRef(ref, fromId);
      const file = data.byId.get(target.uri);
      if (!file) return undefined;
      return { file, pointer: target.fragment, schema: resolvePointer(file.json, target.fragment), id: target.uri };
    },
  };
}

/** Finds JSON-in-string fields (with a contentSchema) reachable from a payload schema, following `$ref`s. */
export function collectContentFields(
  schema: unknown,
  file: SchemaFile,
  schemaPointer: string,
  resolver: Resolver,
): ContentFieldModel[] {
  const found = new Map<string, ContentFieldModel>();
  const visiting = new Set<string>();
  const visit = (node: unknown, f: SchemaFile, sp: string, dataPointer: string, depth: number, guards: readonly ContentGuardModel[]): void => {
    if (!isObject(node) || depth > 32) return;
    const key = `${f.path}#${sp}@${dataPointer}`;
    if (visiting.has(key)) return;
    visiting.add(key);
    const id = ID_BASE + f.path;
    if (node["contentSchema"] !== undefined && node["contentMediaType"] === "application/json") {
      const schemaUri = `${id}#${sp}/contentSchema`;
      found.set(`${dataPointer} ${schemaUri}`, { pointer: dataPointer, schemaUri, file: f.path, schemaPointer: `${sp}/contentSchema`, guards });
    }
    if (typeof node["$ref"] === "string") {
      const target = resolver.resolve(node["$ref"], id);
      if (target) visit(target.schema, target.file, target.pointer, dataPointer, depth + 1, guards);
    }
    const guard = (schemaPointer: string, expect: boolean): readonly ContentGuardModel[] => [
      ...guards,
      { pointer: dataPointer, schemaUri: `${id}#${schemaPointer}`, file: f.path, schemaPointer, expect },
    ];
    for (const k of ["allOf", "anyOf", "oneOf"]) {
      const list = node[k];
      if (!Array.isArray(list)) continue;
      list.forEach((s, i) => {
        const branch = `${sp}/${k}/${i}`;
        // allOf branches always apply; an anyOf/oneOf branch only when the value passes it.
        visit(s, f, branch, dataPointer, depth + 1, k === "allOf" ? guards : guard(branch, true));
      });
    }
    visit(node["if"], f, `${sp}/if`, dataPointer, depth + 1, guards);
    if (node["if"] !== undefined) {
      visit(node["then"], f, `${sp}/then`, dataPointer, depth + 1, guard(`${sp}/if`, true));
      visit(node["else"], f, `${sp}/else`, dataPointer, depth + 1, guard(`${sp}/if`, false));
    }
    const props = node["properties"];
    if (isObject(props)) {
      for (const name of Object.keys(props)) {
        const seg = name.replace(/~/g, "~0").replace(/\//g, "~1");
        visit(props[name], f, `${sp}/properties/${seg}`, `${dataPointer}/${seg}`, depth + 1, guards);
      }
    }
    visit(node["items"], f, `${sp}/items`, `${dataPointer}/*`, depth + 1, guards);
    visit(node["additionalProperties"], f, `${sp}/additionalProperties`, `${dataPointer}/*`, depth + 1, guards);
    const prefix = node["prefixItems"];
    if (Array.isArray(prefix)) prefix.forEach((s, i) => visit(s, f, `${sp}/prefixItems/${i}`, `${dataPointer}/${i}`, depth + 1, guards));
    visiting.delete(key);
  };
  visit(schema, file, schemaPointer, "", 0, []);
  return [...found.values()].sort((a, b) => (a.pointer + a.schemaUri < b.pointer + b.schemaUri ? -1 : 1));
}

/** A short type description for docs: `string`, `integer ≥ 0`, `object \| string (JSON text)`, `Base[]`. */
export function summarizeType(schema: unknown, resolver: Resolver, fromId: string, depth = 0): string {
  if (schema === true || schema === undefined) return "any";
  if (schema === false) return "never";
  if (!isObject(schema) || depth > 4) return "any";
  if (typeof schema["$ref"] === "string") {
    const target = resolver.resolve(schema["$ref"], fromId);
    const t = target && isObject(target.schema) ? target.schema["title"] : undefined;
    if (typeof t === "string") return typeNameFromTitle(t);
    if (target) return summarizeType(target.schema, resolver, target.id, depth + 1);
    return "any";
  }
  if ("const" in schema) return JSON.stringify(schema["const"]);
  if (Array.isArray(schema["enum"])) return schema["enum"].map((v) => JSON.stringify(v)).join(" \\| ");
  for (const k of ["oneOf", "anyOf"]) {
    const list = schema[k];
    if (Array.isArray(list)) return list.map((s) => summarizeType(s, resolver, fromId, depth + 1)).join(" \\| ");
  }
  const types = Array.isArray(schema["type"]) ? (schema["type"] as string[]) : typeof schema["type"] === "string" ? [schema["type"]] : [];
  const parts = types.map((t) => {
    if (t === "array") return `${summarizeType(schema["items"], resolver, fromId, depth + 1)}[]`;
    if (t === "string" && schema["contentMediaType"] === "application/json") return "string (JSON text)";
    return t;
  });
  if (parts.length === 0 && Array.isArray(schema["allOf"])) {
    return schema["allOf"].map((s) => summarizeType(s, resolver, fromId, depth + 1)).join(" & ");
  }
  return parts.length > 0 ? parts.join(" \\| ") : "any";
}

export function collectFields(schema: JsonObject, fromId: string, resolver: Resolver): FieldModel[] {
  const own = new Map<string, FieldModel>();
  const add = (s: JsonObject, id: string, inheritedFrom: string | undefined): void => {
    const props = isObject(s["properties"]) ? s["properties"] : {};
    const required = new Set(Array.isArray(s["required"]) ? (s["required"] as string[]) : []);
    for (const name of Object.keys(props)) {
      const p = props[name];
      const desc = isObject(p) && typeof p["description"] === "string" ? p["description"] : "";
      const jsonText =
        isObject(p) &&
        (p["contentMediaType"] === "application/json" ||
          (["oneOf", "anyOf"] as const).some((k) => Array.isArray(p[k]) && (p[k] as unknown[]).some((b) => isObject(b) && b["contentMediaType"] === "application/json")));
      const existing = own.get(name);
      if (existing && !existing.inheritedFrom) continue; // own declaration wins over inherited one
      own.set(name, {
        name,
        type: summarizeType(p, resolver, id),
        required: required.has(name) || (existing?.required ?? false),
        description: desc,
        jsonText,
        ...(inheritedFrom !== undefined ? { inheritedFrom } : {}),
      });
    }
  };
  add(schema, fromId, undefined);
  const allOf = schema["allOf"];
  if (Array.isArray(allOf)) {
    for (const part of allOf) {
      if (isObject(part) && typeof part["$ref"] === "string") {
        const target = resolver.resolve(part["$ref"], fromId);
        if (target && isObject(target.schema)) {
          const title = typeof target.schema["title"] === "string" ? target.schema["title"] : target.file.path;
          add(target.schema, target.id, title);
        }
      } else if (isObject(part)) add(part, fromId, undefined);
    }
  }
  return [...own.values()];
}

/** x-openflow.sources, in label order (the meta-schema has checked its shape). */
function sourceLinks(value: unknown): Partial<Record<ImplementationLabel, SourceLink[]>> {
  const out: Partial<Record<ImplementationLabel, SourceLink[]>> = {};
  if (typeof value !== "object" || value === null) return out;
  const byLabel = value as Record<string, unknown>;
  for (const label of IMPLEMENTATION_LABELS) {
    const links = byLabel[label];
    if (!Array.isArray(links)) continue;
    out[label] = sourceLinkList(links);
  }
  return out;
}

function sourceLinkList(links: unknown): SourceLink[] {
  if (!Array.isArray(links)) return [];
  return links.map((l) => {
    const o = l as JsonObject;
    return { url: String(o["url"]), what: String(o["what"]), ...(typeof o["symbol"] === "string" ? { symbol: o["symbol"] } : {}) };
  });
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** errors/notes entries: a plain string, or a claim object {text, labels?, sources?, proposed?}. */
function claims(value: unknown): Claim[] {
  if (!Array.isArray(value)) return [];
  const out: Claim[] = [];
  for (const v of value) {
    if (typeof v === "string") out.push({ text: v, sources: [], proposed: false });
    else if (v && typeof v === "object" && typeof (v as JsonObject)["text"] === "string") {
      const o = v as JsonObject;
      const labels = Array.isArray(o["labels"]) ? (o["labels"] as ImplementationLabel[]) : undefined;
      out.push({ text: o["text"] as string, ...(labels ? { labels } : {}), sources: sourceLinkList(o["sources"]), proposed: o["proposed"] === true });
    }
  }
  return out;
}

export function buildModel(data: ValidatedSchemas): SpecModel {
  const issues: SchemaIssue[] = [];
  const resolver = makeResolver(data);
  const frameFile = data.files.find((f) => f.path === "frame.json");
  const defs = buildDefs(data.files, issues);
  const defNames = new Set(defs.map((d) => d.typeName));
  const commands: CommandModel[] = [];
  for (const file of data.files.filter((f) => isCommandFile(f.path))) {
    const doc = file.json as JsonObject;
    const id = ID_BASE + file.path;
    const meta = doc["x-openflow"] as JsonObject;
    const name = String(doc["title"]);
    const defsNode = doc["$defs"] as JsonObject;
    const payload = (kind: PayloadKind): PayloadModel | undefined => {
      const schema = defsNode[kind];
      if (!isObject(schema)) return undefined;
      const pointer = `/$defs/${kind}`;
      const typeName = typeof schema["title"] === "string" ? typeNameFromTitle(schema["title"]) : defaultTypeName(name, kind);
      if (defNames.has(typeName)) issues.push({ file: file.path, pointer: `${pointer}/title`, message: `type name "${typeName}" is already used elsewhere` });
      defNames.add(typeName);
      return {
        kind,
        typeName,
        description: typeof schema["description"] === "string" ? schema["description"] : "",
        schemaUri: `${id}#${pointer}`,
        pointer,
        validatorName: validatorExportName(name, kind),
        examples: Array.isArray(schema["examples"]) ? schema["examples"] : [],
        fields: collectFields(schema, id, resolver),
        shape: summarizeType(schema, resolver, id),
        contentFields: collectContentFields(schema, file, pointer, resolver),
        authoringEnums: collectAuthoringEnums(schema),
        schema,
      };
    };
    const localDefs: DefModel[] = [];
    for (const key of Object.keys(defsNode).sort()) {
      if (key === "request" || key === "reply") continue;
      const schema = defsNode[key];
      if (!isObject(schema)) continue;
      const typeName = typeNameFromTitle(typeof schema["title"] === "string" ? schema["title"] : key);
      if (defNames.has(typeName)) {
        issues.push({ file: file.path, pointer: `/$defs/${key}/title`, message: `type name "${typeName}" is already used elsewhere` });
        continue;
      }
      defNames.add(typeName);
      localDefs.push({ typeName, file: file.path, pointer: `/$defs/${key}`, schemaUri: `${id}#/$defs/${key}`, schema });
    }
    const request = payload("request");
    if (!request) continue; // meta-schema guarantees it
    const reply = payload("reply");
    const impl = meta["implementations"] as JsonObject;
    const implementations = Object.fromEntries(IMPLEMENTATION_LABELS.map((l) => [l, strings(impl[l])])) as Record<ImplementationLabel, string[]>;
    const sources = sourceLinks(meta["sources"]);
    commands.push({
      name,
      file: file.path,
      id,
      description: String(doc["description"]),
      purpose: String(meta["purpose"]),
      direction: meta["direction"] as Direction,
      replyCommand: typeof meta["replyCommand"] === "string" ? meta["replyCommand"] : null,
      replyExpected: meta["replyExpected"] === true,
      deprecated: doc["deprecated"] === true,
      ...(typeof meta["deprecation"] === "string" ? { deprecation: meta["deprecation"] } : {}),
      aliases: strings(meta["aliases"]),
      implementations,
      effect: meta["effect"] as Effect,
      protobuf: meta["protobuf"] as unknown as ProtobufMap,
      proposed: meta["proposed"] === true,
      errors: claims(meta["errors"]).map((c) => c.text),
      notes: claims(meta["notes"]).map((c) => c.text),
      errorClaims: claims(meta["errors"]),
      noteClaims: claims(meta["notes"]),
      sources,
      ...(typeof meta["requestRole"] === "string" ? { requestRole: meta["requestRole"] } : {}),
      methodName: methodName(name),
      handlerName: handlerName(name),
      request,
      ...(reply ? { reply } : {}),
      localDefs,
    });
  }
  const robotCommands: RobotCommandModel[] = [];
  for (const file of data.files.filter((f) => isRobotFile(f.path))) {
    const doc = file.json as JsonObject;
    const id = ID_BASE + file.path;
    const meta = doc["x-openflow"] as JsonObject;
    const name = String(meta["robotCommand"]);
    const typeName = typeNameFromTitle(String(doc["title"]));
    if (defNames.has(typeName)) {
      issues.push({ file: file.path, pointer: "/title", message: `type name "${typeName}" is already used elsewhere` });
      continue;
    }
    defNames.add(typeName);
    robotCommands.push({
      name,
      file: file.path,
      schemaUri: id,
      typeName,
      validatorName: `robot_${name.replace(/[^A-Za-z0-9_]/g, "_")}`,
      description: String(doc["description"]),
      purpose: String(meta["purpose"]),
      sender: meta["sender"] as RobotSender,
      stage: meta["stage"] as RobotStage,
      labels: strings(meta["labels"]) as ImplementationLabel[],
      required: strings(doc["required"]).filter((r) => r !== "command"),
      sources: sourceLinkList(meta["sources"]),
      notes: strings(meta["notes"]),
      examples: Array.isArray(doc["examples"]) ? doc["examples"] : [],
      fields: collectFields(doc, id, resolver),
      schema: doc,
    });
  }
  robotCommands.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (issues.length > 0) throw new GeneratorError("model", issues);
  return {
    ...(frameFile ? { frame: { file: frameFile.path, schemaUri: ID_BASE + frameFile.path, schema: frameFile.json as JsonObject } } : {}),
    defs,
    commands,
    robotCommands,
  };
}

export { META_PATH };
