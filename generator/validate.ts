/**
 * Phase 2: check the loaded schemas before anything is transformed. Every problem names the file, a JSON pointer
 * inside it and what is wrong; all problems of the phase are collected and thrown together as one GeneratorError.
 *
 * Checks, in order:
 * 1. every file is an object with the `$id` its path implies; `$id`s are unique;
 * 2. every file is a valid JSON Schema; every command file passes `schemas/meta/command.schema.json`, and file
 *    name = title = x-openflow.command;
 * 3. no unknown keyword, every `$ref` resolves to an existing file and pointer; no two commands map to one method
 *    or type name;
 * 4. every file compiles under ajv strict mode.
 * A file that fails a check is left out of the later checks that would only repeat it (a file whose `$ref`s reach a
 * broken file is not compiled), but every other file goes on: `checkSchemas` reports every problem of a run at
 * once. Misspelt keywords, enum values and meta-schema property names get a did-you-mean.
 */
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject } from "ajv";
import { createAjv } from "./ajv.js";
import { GeneratorError, type SchemaIssue } from "./errors.js";
import type { LoadedSchemas, SchemaFile } from "./load.js";
import { defaultTypeName, handlerName, methodName, typeNameFromTitle } from "./naming.js";
import { isObject, resolvePointer, resolveRef, stripAnnotations, walkSchema, type JsonObject } from "./walk.js";
import { didYouMean } from "./suggest.js";

export const ID_BASE = "https://openflow-spec.dev/schemas/";
export const META_PATH = "meta/command.schema.json";
/** Meta-schema of the robot command files (`robot/<command>.json`, bodies carried inside `queuemessage.data`). */
export const ROBOT_META_PATH = "meta/robot.schema.json";

/** A meta-schema: checked against files, never compiled as a payload schema. */
export function isMetaFile(path: string): boolean {
  return path === META_PATH || path === ROBOT_META_PATH;
}

/** Robot command files are `robot/<command>.json` (docs/protocol.md#robot-commands). */
export function isRobotFile(path: string): boolean {
  return /^robot\/[^/]+\.json$/.test(path);
}

export interface ValidatedSchemas extends LoadedSchemas {
  /**
   * ajv (standalone-capable) holding every schema except the meta-schema, compiled, with annotation keywords
   * stripped. Used by the validators emitter.
   */
  readonly ajv: Ajv2020;
  /** `$id` -> file. */
  readonly byId: ReadonlyMap<string, SchemaFile>;
}

/** Command files are `commands/<name>.json`. */
export function isCommandFile(path: string): boolean {
  return /^commands\/[^/]+\.json$/.test(path);
}

/**
 * ajv's errors as issues, one per problem: where a value fails an `enum`, the `anyOf`/`type` errors of the same
 * place are the same problem said again and are dropped. `data` is the validated document and `schema` the schema
 * it was validated against (for did-you-mean: the value's allowed spellings, the schema's property names).
 */
function ajvIssues(file: string, errors: readonly ErrorObject[] | null | undefined, data?: unknown, schema?: unknown): SchemaIssue[] {
  const list = errors ?? [];
  const enumAt = new Set(list.filter((e) => e.keyword === "enum" || e.keyword === "const").map((e) => e.instancePath));
  const kept = list.filter((e) => !enumAt.has(e.instancePath) || e.keyword === "enum" || e.keyword === "const");
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of kept) {
    const message = describeAjvError(e) + hint(e, data, schema);
    const key = `${e.instancePath}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, pointer: e.instancePath, message });
  }
  return out;
}

/** A did-you-mean for an ajv error: the allowed value closest to the given one, or the property name closest to an unknown one. */
function hint(e: ErrorObject, data: unknown, schema: unknown): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === "enum" && data !== undefined) {
    const value = resolvePointer(data, e.instancePath);
    const allowed = Array.isArray(params["allowedValues"]) ? params["allowedValues"].filter((v): v is string => typeof v === "string") : [];
    return typeof value === "string" ? didYouMean(value, allowed) : "";
  }
  if (e.keyword === "additionalProperties") {
    // The failing schema itself (verbose ajv), else its place in the validating schema.
    const at = e.parentSchema ?? (schema === undefined ? undefined : resolvePointer(schema, decodeURIComponent(e.schemaPath.replace(/^#/, "").replace(/\/additionalProperties$/, ""))));
    const props = isObject(at) && isObject(at["properties"]) ? Object.keys(at["properties"]) : [];
    return didYouMean(String(params["additionalProperty"]), props);
  }
  return "";
}

/** Readable text for one ajv error, including the offending property name where ajv keeps it in params. */
export function describeAjvError(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === "additionalProperties") return `must NOT have additional property '${String(params["additionalProperty"])}'`;
  if (e.keyword === "enum") return `${e.message ?? "must be one of the allowed values"}: ${JSON.stringify(params["allowedValues"])}`;
  if (e.keyword === "const") return `must be ${JSON.stringify(params["allowedValue"])}`;
  return e.message ?? `fails keyword ${e.keyword}`;
}

function checkIds(loaded: LoadedSchemas, issues: SchemaIssue[]): Map<string, SchemaFile> {
  const byId = new Map<string, SchemaFile>();
  for (const file of loaded.files) {
    if (!isObject(file.json)) {
      issues.push({ file: file.path, pointer: "", message: "a schema file must contain a JSON object" });
      continue;
    }
    const id = file.json["$id"];
    const expected = ID_BASE + file.path;
    if (id !== expected) {
      issues.push({ file: file.path, pointer: "/$id", message: `must be "${expected}" (found ${JSON.stringify(id)})` });
      continue;
    }
    byId.set(expected, file);
  }
  return byId;
}

function checkCommandFiles(loaded: LoadedSchemas, ajv: Ajv2020, issues: SchemaIssue[], broken: Set<string>): void {
  const metaFile = loaded.files.find((f) => f.path === META_PATH);
  const commands = loaded.files.filter((f) => isCommandFile(f.path));
  if (!metaFile) {
    if (commands.length > 0) issues.push({ file: META_PATH, pointer: "", message: "meta-schema for command files is missing" });
    return;
  }
  let validateMeta;
  try {
    validateMeta = ajv.compile(metaFile.json as object);
  } catch (err) {
    issues.push({ file: META_PATH, pointer: "", message: `meta-schema does not compile: ${(err as Error).message}` });
    return;
  }
  for (const file of commands) {
    if (broken.has(file.path)) continue;
    if (!validateMeta(file.json)) {
      issues.push(...ajvIssues(file.path, validateMeta.errors, file.json, metaFile.json).map((i) => ({ ...i, message: `${i.message} (meta-schema)` })));
      broken.add(file.path);
      continue;
    }
    const doc = file.json as JsonObject;
    const name = file.path.slice("commands/".length, -".json".length);
    const meta = doc["x-openflow"] as JsonObject;
    if (doc["title"] !== name) issues.push({ file: file.path, pointer: "/title", message: `must equal the file name "${name}"` });
    if (meta["command"] !== name) {
      issues.push({ file: file.path, pointer: "/x-openflow/command", message: `must equal the file name "${name}"` });
    }
    if (meta["deprecation"] !== undefined && doc["deprecated"] !== true) {
      issues.push({ file: file.path, pointer: "/deprecated", message: "must be true when x-openflow.deprecation is set" });
    }
    if (meta["replyCommand"] === null && meta["replyExpected"] === true) {
      issues.push({ file: file.path, pointer: "/x-openflow/replyExpected", message: "cannot be true when replyCommand is null" });
    }
  }
}

/** Every robot command file passes `schemas/meta/robot.schema.json`; file name = robotCommand = properties.command.const. */
function checkRobotFiles(loaded: LoadedSchemas, ajv: Ajv2020, issues: SchemaIssue[], broken: Set<string>): void {
  const robots = loaded.files.filter((f) => isRobotFile(f.path));
  if (robots.length === 0) return;
  const metaFile = loaded.files.find((f) => f.path === ROBOT_META_PATH);
  if (!metaFile) {
    issues.push({ file: ROBOT_META_PATH, pointer: "", message: "meta-schema for robot command files is missing" });
    return;
  }
  let validateMeta;
  try {
    validateMeta = ajv.compile(metaFile.json as object);
  } catch (err) {
    issues.push({ file: ROBOT_META_PATH, pointer: "", message: `meta-schema does not compile: ${(err as Error).message}` });
    return;
  }
  for (const file of robots) {
    if (broken.has(file.path)) continue;
    if (!validateMeta(file.json)) {
      issues.push(...ajvIssues(file.path, validateMeta.errors, file.json, metaFile.json).map((i) => ({ ...i, message: `${i.message} (robot meta-schema)` })));
      broken.add(file.path);
      continue;
    }
    const doc = file.json as JsonObject;
    const name = file.path.slice("robot/".length, -".json".length);
    const meta = doc["x-openflow"] as JsonObject;
    if (meta["robotCommand"] !== name) issues.push({ file: file.path, pointer: "/x-openflow/robotCommand", message: `must equal the file name "${name}"` });
    const command = ((doc["properties"] as JsonObject)["command"] as JsonObject)["const"];
    if (command !== name) issues.push({ file: file.path, pointer: "/properties/command/const", message: `must equal the file name "${name}"` });
  }
}

/** Every `$ref` must point at a loaded file and an existing location inside it. */
function checkRefs(loaded: LoadedSchemas, byId: ReadonlyMap<string, SchemaFile>, issues: SchemaIssue[], broken: Set<string>, uses: Map<string, Set<string>>): void {
  for (const file of loaded.files) {
    if (broken.has(file.path)) continue;
    const baseId = ID_BASE + file.path;
    const before = issues.length;
    const used = new Set<string>();
    uses.set(file.path, used);
    walkSchema(file.json, (node, pointer) => {
      const ref = node["$ref"];
      if (ref === undefined) return;
      const at = `${pointer}/$ref`;
      if (typeof ref !== "string") {
        issues.push({ file: file.path, pointer: at, message: "$ref must be a string" });
        return;
      }
      let target;
      try {
        target = resolveRef(ref, baseId);
      } catch {
        issues.push({ file: file.path, pointer: at, message: `$ref "${ref}" is not a valid URI reference` });
        return;
      }
      const targetFile = byId.get(target.uri);
      if (targetFile) used.add(targetFile.path);
      if (!targetFile) {
        const expected = target.uri.startsWith(ID_BASE) ? ` (expected a file schemas/${target.uri.slice(ID_BASE.length)})` : "";
        issues.push({ file: file.path, pointer: at, message: `unresolved $ref "${ref}": no schema with $id ${target.uri}${expected}` });
        return;
      }
      if (target.fragment !== "" && !target.fragment.startsWith("/")) {
        let found = false;
        walkSchema(targetFile.json, (n) => {
          if (n["$anchor"] === target.fragment) found = true;
        });
        if (!found) issues.push({ file: file.path, pointer: at, message: `unresolved $ref "${ref}": no $anchor "${target.fragment}" in ${targetFile.path}` });
        return;
      }
      if (!isObject(resolvePointer(targetFile.json, target.fragment)) && resolvePointer(targetFile.json, target.fragment) !== true) {
        issues.push({ file: file.path, pointer: at, message: `unresolved $ref "${ref}": ${targetFile.path} has no schema at #${target.fragment}` });
      }
    });
    if (issues.length > before) broken.add(file.path);
  }
}

/** Two commands must not produce the same method, handler or payload type name. */
function checkNames(loaded: LoadedSchemas, issues: SchemaIssue[]): void {
  const seen = new Map<string, string>();
  const claim = (key: string, name: string, file: string, pointer: string, what: string): void => {
    const previous = seen.get(key);
    if (previous !== undefined) issues.push({ file, pointer, message: `${what} "${name}" collides with the one of ${previous}` });
    else seen.set(key, file);
  };
  for (const file of loaded.files.filter((f) => isCommandFile(f.path))) {
    const doc = file.json as JsonObject;
    const command = String(doc["title"]);
    claim(`method ${methodName(command)}`, methodName(command), file.path, "/title", "method name");
    claim(`handler ${handlerName(command)}`, handlerName(command), file.path, "/title", "handler name");
    const defs = doc["$defs"] as JsonObject;
    for (const kind of ["request", "reply"] as const) {
      const payload = defs[kind];
      if (!isObject(payload)) continue;
      const title = typeof payload["title"] === "string" ? typeNameFromTitle(payload["title"]) : defaultTypeName(command, kind);
      claim(`type ${title}`, title, file.path, `/$defs/${kind}/title`, "type name");
    }
  }
}

/** Every problem of the schemas, and the schemas the later phases can still read (lint runs on them). */
export interface CheckedSchemas {
  readonly issues: readonly SchemaIssue[];
  /**
   * Every file that is an object with its right `$id`; `ajv` holds those that compiled (a broken file, or one whose
   * `$ref`s reach a broken file, is not in it).
   */
  readonly validated: ValidatedSchemas;
}

/** Phase 2 without stopping: every problem of every file (see the module comment), and what can still be linted. */
export function checkSchemas(loaded: LoadedSchemas): CheckedSchemas {
  const issues: SchemaIssue[] = [];
  const broken = new Set<string>();
  const byId = checkIds(loaded, issues);
  const identified = loaded.files.filter((f) => byId.get(ID_BASE + f.path) === f);
  for (const f of loaded.files) if (!identified.includes(f)) broken.add(f.path);

  const ajv = createAjv({ verbose: true });
  // JSON Schema meta-schema check first: its errors carry pointers.
  for (const file of identified) {
    if (!ajv.validateSchema(file.json as object)) {
      issues.push(...ajvIssues(file.path, ajv.errors, file.json).map((i) => ({ ...i, message: `invalid JSON Schema: ${i.message}` })));
      broken.add(file.path);
    }
  }

  // Unknown keywords and formats in every readable schema, also one the command meta-schema refuses.
  const readable = identified.filter((f) => !broken.has(f.path));
  checkCommandFiles({ files: identified }, ajv, issues, broken);
  checkRobotFiles({ files: identified }, ajv, issues, broken);
  checkUnknownKeywords({ files: readable }, ajv, issues, broken);
  checkFormats({ files: readable }, issues);
  const uses = new Map<string, Set<string>>();
  checkRefs({ files: identified.filter((f) => !broken.has(f.path)) }, byId, issues, broken, uses);
  checkNames({ files: identified.filter((f) => !broken.has(f.path) && (!isCommandFile(f.path) || isObject((f.json as JsonObject)["$defs"]))) }, issues);

  // A file whose $refs reach a broken one cannot compile; it is left out quietly (its own problems show once the other is fixed).
  const reachesBroken = (path: string, seen = new Set<string>()): boolean => {
    if (broken.has(path)) return true;
    if (seen.has(path)) return false;
    seen.add(path);
    return [...(uses.get(path) ?? [])].some((p) => reachesBroken(p, seen));
  };
  const compilable = identified.filter((f) => !isMetaFile(f.path) && !reachesBroken(f.path));

  // Strict compile of every schema. Annotation keywords are stripped first (they cannot change a verdict, and the
  // unknown-keyword check above already covered them), so this same ajv instance can emit compact standalone code
  // without a second compile.
  const compiled = createAjv({ standalone: true });
  const added: SchemaFile[] = [];
  for (const file of compilable) {
    try {
      compiled.addSchema(stripAnnotations(file.json) as object);
      added.push(file);
    } catch (err) {
      issues.push({ file: file.path, pointer: "", message: `ajv cannot add schema: ${(err as Error).message}` });
    }
  }
  for (const file of added) {
    // ajv compiles a `$defs` entry or a contentSchema only when something asks for it: ask for each one here, so
    // a strict-mode error surfaces now, with its file, and not later inside an emitter.
    const targets = [""];
    const defs = (file.json as JsonObject)["$defs"];
    if (isObject(defs)) targets.push(...Object.keys(defs).map((k) => `/$defs/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`));
    walkSchema(file.json, (node, pointer) => {
      if (node["contentSchema"] !== undefined) targets.push(`${pointer}/contentSchema`);
    });
    for (const pointer of targets) {
      try {
        compiled.getSchema(pointer === "" ? ID_BASE + file.path : `${ID_BASE}${file.path}#${pointer}`);
      } catch (err) {
        const message = (err as Error).message;
        issues.push({ file: file.path, pointer: locateAjvMessage(message, ID_BASE + file.path, pointer), message: `ajv strict compile failed: ${message}` });
      }
    }
  }
  return { issues, validated: { files: identified, ajv: compiled, byId } };
}

/** Phase 2: the checked schemas, or a GeneratorError listing every problem. */
export function validateSchemas(loaded: LoadedSchemas): ValidatedSchemas {
  const { issues, validated } = checkSchemas(loaded);
  if (issues.length > 0) throw new GeneratorError("validate", issues);
  return { ...loaded, ...validated, files: loaded.files };
}

/**
 * ajv strict messages often end with `at "<uri>#<pointer>"`, the pointer being relative to the schema that was
 * compiled (`compiledAt`). Turn that into a pointer inside the file; fall back to `compiledAt` when the location is
 * in another file (the message then still names that file's URI).
 */
function locateAjvMessage(message: string, fileId: string, compiledAt: string): string {
  const m = /at "([^"#]*)#([^"]*)"/.exec(message);
  if (!m || m[1] !== fileId) return compiledAt;
  return compiledAt + (m[2] ?? "");
}

/**
 * The standalone validators must stay dependency-free ESM; ajv-formats' helpers would be `require()`d from it and are
 * not inlined (emit/validators.ts), so `format` is refused here with its location.
 */
function checkFormats(loaded: LoadedSchemas, issues: SchemaIssue[]): void {
  for (const file of loaded.files) {
    if (isMetaFile(file.path)) continue;
    walkSchema(file.json, (node, pointer) => {
      if (node["format"] !== undefined) {
        issues.push({ file: file.path, pointer: `${pointer}/format`, message: `"format" is not supported by the standalone validators (they would need ajv-formats at run time); use "pattern"` });
      }
    });
  }
}

/** Keywords ajv does not know make strict mode fail without a location; find them here, with their pointer. */
function checkUnknownKeywords(loaded: LoadedSchemas, ajv: Ajv2020, issues: SchemaIssue[], broken: Set<string>): void {
  const core = new Set([
    "$id", "$schema", "$ref", "$defs", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "definitions",
    "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples", "contentMediaType",
    "contentEncoding", "contentSchema",
  ]);
  // Every keyword ajv knows (the vocabularies plus x-openflow), for did-you-mean.
  const known = [...core, ...Object.keys((ajv as unknown as { RULES: { all: Record<string, unknown> } }).RULES.all)];
  for (const file of loaded.files) {
    walkSchema(file.json, (node, pointer) => {
      for (const key of Object.keys(node)) {
        if (!core.has(key) && !ajv.getKeyword(key)) {
          issues.push({ file: file.path, pointer: `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, message: `unknown keyword "${key}" (ajv strict mode)${didYouMean(key, known)}` });
          broken.add(file.path);
        }
      }
    });
  }
}
