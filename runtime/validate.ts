/**
 * Validation on top of the generated ajv standalone validators (`generated/validators.js`). Nothing is compiled at
 * run time, so this works under a strict Content-Security-Policy and in browsers.
 *
 * API (stable; changes are listed in https://github.com/openflow-spec/openflow-spec/blob/main/docs/changelog.md):
 * - `validateFrame(frame)`: the wire frame (https://github.com/openflow-spec/openflow-spec/blob/main/schemas/frame.json) plus the `index < count` rule.
 * - `validatePayload(command, kind, payload)`: a command's request or reply payload, including JSON-in-string fields
 *   (`contentMediaType: application/json` + `contentSchema`), which are decoded and checked too.
 * - `decodeData(data)`: frame `data` -> payload (missing/null/"" -> null).
 * - `isKnownCommand(name)`.
 * - `validators`: the payload check to pass to `connect(url, { validation: "strict", validators })`; requests are
 *   checked closed (an unknown top-level field is an error), replies open (servers echo extras).
 * This module is the package entry `openflow-spec/validation`: the validators (about 1.5 MB of generated code) reach
 * an app bundle only when the app imports it.
 * Command names are lower-cased before lookup, as servers do.
 */
import {
  closedRequestValidators,
  contentFields,
  frame as frameValidator,
  replyValidators,
  requestValidators,
  robotValidators,
  type ContentGuard,
  type Validator,
  type ValidatorError,
} from "../generated/validators.js";
import { describeResult, type PayloadCheck } from "./validation.js";

/** One problem found in a frame or payload. */
export interface ValidationIssue {
  /** JSON pointer of the offending value in the frame or payload ("" = the whole value). */
  pointer: string;
  /** Readable message, starting with the pointer when it is not the root, e.g. `/count must be integer`. */
  message: string;
  /** The JSON Schema keyword that failed (`type`, `required`, ...). */
  keyword?: string;
  /** Where in the schema the rule lives, e.g. `commands/query.json#/$defs/request/required`. */
  schemaPath?: string;
  /** For a JSON-in-string field: pointer of the offending value inside the decoded JSON text. */
  contentPointer?: string;
}

export type PayloadKind = "request" | "reply";

export type DecodeResult = { ok: true; payload: unknown } | { ok: false; issue: ValidationIssue };

function paramsText(e: ValidatorError): string {
  const p = e.params;
  if (e.keyword === "additionalProperties" && typeof p["additionalProperty"] === "string") {
    return ` '${p["additionalProperty"]}'`;
  }
  if (e.keyword === "unevaluatedProperties" && typeof p["unevaluatedProperty"] === "string") {
    return ` '${p["unevaluatedProperty"]}'`;
  }
  if (e.keyword === "enum" && Array.isArray(p["allowedValues"])) {
    return `: ${p["allowedValues"].map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (e.keyword === "const" && "allowedValue" in p) return `: ${JSON.stringify(p["allowedValue"])}`;
  return "";
}

function schemaLocation(schemaPath: string, base: string | undefined): string {
  if (base === undefined) return schemaPath;
  // ajv writes "#/..." for the root schema and "<relative ref>/..." once it followed a $ref into another file.
  return schemaPath.startsWith("#") ? `${base}${schemaPath.slice(1)}` : schemaPath;
}

/** Converts ajv errors into issues. `prefix` is prepended to every pointer. */
export function toIssues(errors: readonly ValidatorError[] | null | undefined, options: { prefix?: string; schemaBase?: string } = {}): ValidationIssue[] {
  const prefix = options.prefix ?? "";
  return (errors ?? []).map((e) => {
    const unknownField = e.keyword === "unevaluatedProperties" && typeof e.params["unevaluatedProperty"] === "string" ? e.params["unevaluatedProperty"] : undefined;
    if (unknownField !== undefined) {
      // A closed request's unknown field: point at the field itself.
      const pointer = `${prefix}${e.instancePath}/${unknownField.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      return { pointer, message: `${pointer} is not a field of this request (unknown or misspelt)`, keyword: e.keyword, schemaPath: schemaLocation(e.schemaPath, options.schemaBase) };
    }
    const pointer = prefix + e.instancePath;
    const text = `${e.message ?? `must pass "${e.keyword}"`}${paramsText(e)}`;
    return {
      pointer,
      message: pointer === "" ? text : `${pointer} ${text}`,
      keyword: e.keyword,
      schemaPath: schemaLocation(e.schemaPath, options.schemaBase),
    };
  });
}

function run(validate: Validator, value: unknown, options: { prefix?: string; schemaBase?: string }): ValidationIssue[] {
  return validate(value) ? [] : toIssues(validate.errors, options);
}

/**
 * A closed request's issues. The closed validator's own `properties` hold the authoring enums (fields the server
 * compares case-insensitively against a closed set): their message lists the allowed values in words, e.g.
 * `state must be one of new, processing, successful, retry, failed`.
 */
function closedIssues(validate: Validator, payload: unknown, schemaBase: string): ValidationIssue[] {
  if (validate(payload)) return [];
  return (validate.errors ?? []).map((e) => {
    const allowed = e.params["allowedValues"];
    if (e.keyword === "enum" && e.schemaPath.startsWith("#/properties/") && Array.isArray(allowed)) {
      const field = e.instancePath.slice(1).replace(/~1/g, "/").replace(/~0/g, "~");
      const values = allowed.filter((v) => v !== null).map(String);
      const text = `${field} must be one of ${values.join(", ")}${allowed.includes(null) ? " (or null)" : ""}, got ${JSON.stringify((payload as Record<string, unknown>)[field])}`;
      return { pointer: e.instancePath, message: text, keyword: "enum", schemaPath: `${schemaBase}/properties/${field}` };
    }
    return toIssues([e], { schemaBase })[0] as ValidationIssue;
  });
}

/** Validates one wire frame. Returns [] when valid. */
export function validateFrame(frame: unknown): ValidationIssue[] {
  const issues = run(frameValidator, frame, { schemaBase: "frame.json#" });
  if (typeof frame === "object" && frame !== null) {
    const { index, count } = frame as { index?: unknown; count?: unknown };
    if (Number.isInteger(index) && Number.isInteger(count) && (index as number) >= (count as number)) {
      issues.push({ pointer: "/index", message: `/index must be below count (${String(count)})`, keyword: "index<count" });
    }
  }
  return issues;
}

function lookup(table: Readonly<Record<string, Validator>>, command: string): Validator | undefined {
  return Object.prototype.hasOwnProperty.call(table, command) ? table[command] : undefined;
}

/** True when the spec has a schema for this command string (case-insensitive, as servers lower-case it). */
export function isKnownCommand(name: string): boolean {
  return lookup(requestValidators, String(name).toLowerCase()) !== undefined;
}

/** Every command string the spec knows, sorted. */
export function knownCommands(): readonly string[] {
  return Object.keys(requestValidators).sort();
}

/** True when the spec has a schema for this robot command (the `command` of a body inside queuemessage data). */
export function isKnownRobotCommand(name: string): boolean {
  return lookup(robotValidators, name) !== undefined;
}

/** Every robot command the spec knows (schemas/robot/), sorted. */
export function knownRobotCommands(): readonly string[] {
  return Object.keys(robotValidators).sort();
}

/**
 * Validates a robot command (a body inside `queuemessage.data`, https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#robot-commands) against its schema
 * in schemas/robot/. Returns undefined when the spec has no such robot command, else the issues ([] when valid).
 * `prefix` is put before every pointer (e.g. `/data` for the body inside a queuemessage payload).
 */
export function validateRobotCommand(body: unknown, prefix = ""): ValidationIssue[] | undefined {
  const command = typeof body === "object" && body !== null ? (body as { command?: unknown }).command : undefined;
  const validate = typeof command === "string" ? lookup(robotValidators, command) : undefined;
  if (!validate) return undefined;
  return run(validate, body, { prefix, schemaBase: `robot/${String(command)}.json#` });
}

/** True when the command has a reply payload schema (false for commands nobody answers). */
export function hasReplySchema(name: string): boolean {
  return lookup(replyValidators, String(name).toLowerCase()) !== undefined;
}

/** All values in `root` matching a content-field pointer, where `*` matches any array index or property name. */
function matchPointer(root: unknown, pointer: string): { pointer: string; value: unknown }[] {
  let current: { pointer: string; value: unknown }[] = [{ pointer: "", value: root }];
  if (pointer === "") return current;
  for (const segment of pointer.slice(1).split("/")) {
    const next: { pointer: string; value: unknown }[] = [];
    for (const { pointer: at, value } of current) {
      if (typeof value !== "object" || value === null) continue;
      if (segment === "*") {
        const keys = Array.isArray(value) ? value.map((_v, i) => String(i)) : Object.keys(value);
        for (const key of keys) {
          next.push({ pointer: `${at}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, value: (value as Record<string, unknown>)[key] });
        }
      } else {
        const key = segment.replace(/~1/g, "/").replace(/~0/g, "~");
        if (Object.prototype.hasOwnProperty.call(value, key)) {
          next.push({ pointer: `${at}/${segment}`, value: (value as Record<string, unknown>)[key] });
        }
      }
    }
    current = next;
  }
  return current;
}

/**
 * True when every guard of a content field holds for one concrete match. A guard's pointer is a prefix (in
 * segments, `*` included) of the field pointer, so its concrete location is the same prefix of the match.
 */
function guardsHold(guards: readonly ContentGuard[], payload: unknown, concrete: string): boolean {
  if (guards.length === 0) return true;
  const segments = concrete === "" ? [] : concrete.slice(1).split("/");
  for (const guard of guards) {
    const depth = guard.pointer === "" ? 0 : guard.pointer.slice(1).split("/").length;
    const at = depth === 0 ? "" : `/${segments.slice(0, depth).join("/")}`;
    const target = matchPointer(payload, at)[0];
    if (!target || guard.validate(target.value) !== guard.expect) return false;
  }
  return true;
}

/** True when the command has a closed request validator (every command a client starts). */
export function hasClosedRequestSchema(name: string): boolean {
  return lookup(closedRequestValidators, String(name).toLowerCase()) !== undefined;
}

export interface PayloadValidationOptions {
  /**
   * Check a request closed: a top-level field that no part of the request schema declares is an issue (keyword
   * `unevaluatedProperties`, pointer at the field). Replies and server-started commands are always checked open.
   */
  closed?: boolean;
}

/**
 * Validates a command payload against `schemas/commands/<command>.json#/$defs/<kind>`. JSON-in-string fields are
 * decoded and checked against their contentSchema; their issues point at the string field and say so.
 */
export function validatePayload(command: string, kind: PayloadKind, payload: unknown, options: PayloadValidationOptions = {}): ValidationIssue[] {
  const name = String(command).toLowerCase();
  if (kind !== "request" && kind !== "reply") {
    return [{ pointer: "", message: `unknown payload kind '${String(kind)}' (expected request or reply)` }];
  }
  if (!isKnownCommand(name)) {
    return [{ pointer: "", message: `unknown command '${command}': no schema in schemas/commands/`, keyword: "command" }];
  }
  const closed = options.closed === true && kind === "request" ? lookup(closedRequestValidators, name) : undefined;
  const validate = closed ?? lookup(kind === "request" ? requestValidators : replyValidators, name);
  if (!validate) {
    return [{ pointer: "", message: `command '${name}' has no ${kind} payload schema (it is never answered)`, keyword: "command" }];
  }
  const schemaBase = `commands/${name}.json#/$defs/${kind}`;
  const issues = closed ? closedIssues(closed, payload, schemaBase) : run(validate, payload, { schemaBase });
  const fields = Object.prototype.hasOwnProperty.call(contentFields, name) ? contentFields[name]?.[kind] ?? [] : [];
  for (const field of fields) {
    for (const match of matchPointer(payload, field.pointer)) {
      if (typeof match.value !== "string") continue; // the object form of the field is checked by the schema
      if (!guardsHold(field.guards, payload, match.pointer)) continue; // a branch that does not apply here
      let decoded: unknown;
      try {
        decoded = JSON.parse(match.value);
      } catch (err) {
        issues.push({
          pointer: match.pointer,
          message: `${match.pointer} must be JSON text (${err instanceof Error ? err.message : String(err)})`,
          keyword: "contentMediaType",
          schemaPath: field.schema.replace(/\/contentSchema$/, "/contentMediaType"),
        });
        continue;
      }
      if (!field.validate(decoded)) {
        for (const e of field.validate.errors ?? []) {
          const inner = e.instancePath;
          const text = `${e.message ?? `must pass "${e.keyword}"`}${paramsText(e)}`;
          issues.push({
            pointer: match.pointer,
            message: `${match.pointer} (inside its JSON text${inner === "" ? "" : ` at ${inner}`}) ${text}`,
            keyword: e.keyword,
            schemaPath: schemaLocation(e.schemaPath, field.schema),
            contentPointer: inner,
          });
        }
      }
    }
  }
  return issues;
}

/**
 * Decodes a frame's (reassembled) `data` into the payload. Missing, null or "" -> `null`. Text that is not JSON is
 * an issue unless `allowPlainText` is set (error frames may carry plain text; the payload is then the raw string).
 */
export function decodeData(data: unknown, options: { allowPlainText?: boolean } = {}): DecodeResult {
  if (data === undefined || data === null || data === "") return { ok: true, payload: null };
  if (typeof data !== "string") {
    return { ok: false, issue: { pointer: "/data", message: `/data must be a string of JSON text or null (got ${Array.isArray(data) ? "array" : typeof data})`, keyword: "type" } };
  }
  try {
    return { ok: true, payload: JSON.parse(data) as unknown };
  } catch (err) {
    if (options.allowPlainText) return { ok: true, payload: data };
    return {
      ok: false,
      issue: { pointer: "/data", message: `/data is not JSON text (${err instanceof Error ? err.message : String(err)})`, keyword: "contentMediaType" },
    };
  }
}

/**
 * The payload check for `connect(url, { validation: "warn" | "strict", validators })`: requests closed (a misspelt
 * field such as `tpo` is reported), replies open. Commands without a schema (custom ones) pass unchecked.
 */
export const validators: PayloadCheck = (command, kind, payload) => {
  if (!isKnownCommand(command)) return undefined;
  if (kind === "reply" && !hasReplySchema(command)) return undefined;
  return describeResult(validatePayload(command, kind, payload, { closed: kind === "request" }));
};
