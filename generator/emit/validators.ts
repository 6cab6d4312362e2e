/**
 * Emits `generated/validators.js` (+ `.d.ts`): ajv standalone code for the frame, every command request and reply,
 * and every JSON-in-string field's contentSchema. The output is dependency-free ESM: ajv's `require()` calls for
 * its runtime helpers are replaced by inline implementations, and nothing is compiled at run time (CSP-safe: no
 * eval / new Function).
 */
import standaloneCodeModule from "ajv/dist/standalone/index.js";
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { SpecModel } from "../model.js";
import { codeHeader } from "./header.js";

type StandaloneCode = (ajv: Ajv2020, refs: Record<string, string>) => string;
const standaloneCode = ((standaloneCodeModule as unknown as { default?: unknown }).default ??
  standaloneCodeModule) as StandaloneCode;

/**
 * ajv runtime helpers that standalone code loads with `require()`, re-implemented inline so the output is
 * dependency-free ESM. (Importing the CommonJS helpers from ESM is ambiguous: Node gives `module.exports` as the
 * default import while bundlers honour `__esModule` and give `exports.default`, see ajv issue 1976.)
 * Each value is an expression for the module object; ajv reads its `.default`.
 */
const INLINE_HELPERS: Readonly<Record<string, string>> = {
  "ajv/dist/runtime/ucs2length": [
    "{ default: function ucs2length(str) {",
    "  // Length in Unicode code points: a surrogate pair counts once (JSON Schema minLength/maxLength).",
    "  let length = 0;",
    "  for (let i = 0; i < str.length; i++, length++) {",
    "    const c = str.charCodeAt(i);",
    "    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {",
    "      const d = str.charCodeAt(i + 1);",
    "      if (d >= 0xdc00 && d <= 0xdfff) i++;",
    "    }",
    "  }",
    "  return length;",
    "} }",
  ].join("\n"),
  "ajv/dist/runtime/equal": [
    "{ default: function equal(a, b) {",
    "  // Deep equality of JSON values (const, enum, uniqueItems).",
    "  if (a === b) return true;",
    "  if (typeof a !== \"object\" || typeof b !== \"object\" || a === null || b === null) return a !== a && b !== b;",
    "  if (Array.isArray(a) !== Array.isArray(b)) return false;",
    "  if (Array.isArray(a)) {",
    "    if (a.length !== b.length) return false;",
    "    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;",
    "    return true;",
    "  }",
    "  const keys = Object.keys(a);",
    "  if (keys.length !== Object.keys(b).length) return false;",
    "  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(b, k) || !equal(a[k], b[k])) return false;",
    "  return true;",
    "} }",
  ].join("\n"),
};

/** Replaces ajv's `require("...")` calls with inline helpers; throws for helpers we do not provide. */
export function inlineRequires(code: string): { helpers: string; code: string } {
  const used = new Map<string, string>();
  const rewritten = code.replace(/require\((["'])([^"'\\]+)\1\)/g, (_m, _q: string, spec: string) => {
    const impl = INLINE_HELPERS[spec];
    if (impl === undefined) {
      throw new Error(`standalone validators need ajv helper "${spec}", which the emitter does not inline (is a "format" keyword used? add it to INLINE_HELPERS)`);
    }
    let local = used.get(spec);
    if (local === undefined) {
      local = `__helper_${spec.slice(spec.lastIndexOf("/") + 1).replace(/[^A-Za-z0-9_]/g, "_")}`;
      used.set(spec, local);
    }
    return local;
  });
  const helpers = [...used.entries()].map(([spec, local]) => `const ${local} = ${INLINE_HELPERS[spec] ?? "{}"};`).join("\n");
  return { helpers, code: rewritten };
}

/** `$id` prefix of the closed request schemas the emitter adds (they exist only inside the generated validators). */
export const CLOSED_ID_BASE = "https://openflow-spec.dev/closed/";

function closedValidatorName(requestValidatorName: string): string {
  return `${requestValidatorName}_closed`;
}

function contentExportName(index: number): string {
  return `content_${index}`;
}

/** `ajv` must hold every schema, compiled with `code.source` (validateSchemas provides it). */
export function emitValidators(model: SpecModel, ajv: Ajv2020): Map<string, string> {
  const refs: Record<string, string> = {};
  if (model.frame) refs["frame"] = model.frame.schemaUri;
  const contentIndex = new Map<string, string>();
  const guardIndex = new Map<string, string>();
  for (const c of model.commands) {
    for (const p of [c.request, c.reply]) {
      if (!p) continue;
      refs[p.validatorName] = p.schemaUri;
      for (const f of p.contentFields) {
        if (!contentIndex.has(f.schemaUri)) {
          const name = contentExportName(contentIndex.size);
          contentIndex.set(f.schemaUri, name);
          refs[name] = f.schemaUri;
        }
        for (const g of f.guards) {
          if (!guardIndex.has(g.schemaUri)) {
            const name = `guard_${guardIndex.size}`;
            guardIndex.set(g.schemaUri, name);
            refs[name] = g.schemaUri;
          }
        }
      }
    }
  }
  const robots = model.robotCommands ?? [];
  for (const r of robots) refs[r.validatorName] = r.schemaUri;
  // Closed request validators: the request schema plus `unevaluatedProperties: false` at its top level, so a field
  // no branch of the schema knows (a typo such as `tpo`) is reported. Added here, not in the schema files: on the wire
  // the schemas stay open (peers send extras); the closed mode is for what a developer writes.
  const closed: { command: string; name: string }[] = [];
  for (const c of model.commands) {
    if (c.direction === "s2c") continue;
    const name = closedValidatorName(c.request.validatorName);
    const $id = `${CLOSED_ID_BASE}${c.name}.json`;
    // Fields the server compares case-insensitively against a closed set take only the canonical values here: an
    // app's "succesful" is caught before it is sent, with the allowed values in the message (runtime/validate.ts).
    const authoring: Record<string, unknown> = {};
    for (const e of c.request.authoringEnums) authoring[e.field] = { enum: e.nullable ? [...e.values, null] : [...e.values] };
    const closedSchema: Record<string, unknown> = { $id, type: "object", $ref: c.request.schemaUri, unevaluatedProperties: false };
    if (Object.keys(authoring).length > 0) closedSchema["properties"] = authoring;
    if (ajv.getSchema($id) === undefined) ajv.addSchema(closedSchema);
    refs[name] = $id;
    closed.push({ command: c.name, name });
  }
  const raw = standaloneCode(ajv, refs);
  const { helpers, code: plain } = inlineRequires(raw.replace(/^"use strict";\n?/, ""));
  // JSDoc types on the exports: when tsc builds the package (allowJs), it derives validators.d.ts from this file,
  // and these annotations make that derived declaration match the handwritten one emitted below.
  const code = plain.replace(/^export const ([A-Za-z_$][\w$]*) = (validate\d+);$/gm, "/** @type {Validator} */\nexport const $1 = $2;");

  const table = (kind: "request" | "reply"): string =>
    model.commands
      .flatMap((c) => {
        const p = kind === "request" ? c.request : c.reply;
        return p ? [`  ${JSON.stringify(c.name)}: ${p.validatorName},`] : [];
      })
      .join("\n");
  const contentTable = model.commands
    .map((c) => {
      const list = (kind: "request" | "reply"): string => {
        const p = kind === "request" ? c.request : c.reply;
        const items = (p?.contentFields ?? []).map((f) => {
          const guards = f.guards.map(
            (g) => `Object.freeze({ pointer: ${JSON.stringify(g.pointer)}, expect: ${String(g.expect)}, validate: ${guardIndex.get(g.schemaUri)} })`,
          );
          return `Object.freeze({ pointer: ${JSON.stringify(f.pointer)}, schema: ${JSON.stringify(`${f.file}#${f.schemaPointer}`)}, validate: ${contentIndex.get(f.schemaUri)}, guards: Object.freeze([${guards.join(", ")}]) })`;
        });
        return `Object.freeze([${items.join(", ")}])`;
      };
      return `  ${JSON.stringify(c.name)}: Object.freeze({ request: ${list("request")}, reply: ${list("reply")} }),`;
    })
    .join("\n");

  const js = [
    codeHeader("schemas/"),
    "/* eslint-disable */",
    "/** @typedef {{ instancePath: string; schemaPath: string; keyword: string; params: Record<string, unknown>; message?: string }} ValidatorError */",
    "/** @typedef {{ (data: unknown): boolean; errors?: ValidatorError[] | null }} Validator */",
    "/** @typedef {{ readonly pointer: string; readonly expect: boolean; readonly validate: Validator }} ContentGuard */",
    "/** @typedef {{ readonly pointer: string; readonly schema: string; readonly validate: Validator; readonly guards: readonly ContentGuard[] }} ContentField */",
    helpers,
    code.trimEnd(),
    "",
    "/** Request payload validators by wire command string. */",
    "/** @type {Readonly<Record<string, Validator>>} */",
    `export const requestValidators = Object.freeze({\n${table("request")}\n});`,
    "/** Closed request validators (unknown top-level fields are errors) of every command a client starts. */",
    "/** @type {Readonly<Record<string, Validator>>} */",
    `export const closedRequestValidators = Object.freeze({\n${closed.map((c) => `  ${JSON.stringify(c.command)}: ${c.name},`).join("\n")}\n});`,
    "/** Reply payload validators by wire command string (commands that are never answered have none). */",
    "/** @type {Readonly<Record<string, Validator>>} */",
    `export const replyValidators = Object.freeze({\n${table("reply")}\n});`,
    ...(robots.length === 0
      ? []
      : [
          "/** Robot command validators (bodies inside queuemessage data, schemas/robot/) by their `command` value. */",
          "/** @type {Readonly<Record<string, Validator>>} */",
          `export const robotValidators = Object.freeze({\n${robots.map((r) => `  ${JSON.stringify(r.name)}: ${r.validatorName},`).join("\n")}\n});`,
        ]),
    "/** JSON-in-string fields (contentMediaType application/json + contentSchema) by command and payload kind. */",
    "/** @type {Readonly<Record<string, { readonly request: readonly ContentField[]; readonly reply: readonly ContentField[] }>>} */",
    `export const contentFields = Object.freeze({\n${contentTable}\n});`,
    "",
  ]
    .filter((part) => part !== "")
    .join("\n");

  const exportNames = Object.keys(refs);
  const dts = [
    codeHeader("schemas/"),
    "/** One ajv error object (subset used by runtime/validate.ts). */",
    "export interface ValidatorError {",
    "  instancePath: string;",
    "  schemaPath: string;",
    "  keyword: string;",
    "  params: Record<string, unknown>;",
    "  message?: string;",
    "}",
    "/** A standalone ajv validate function: returns the verdict and leaves the errors of the last call in `errors`. */",
    "export interface Validator {",
    "  (data: unknown): boolean;",
    "  errors?: ValidatorError[] | null;",
    "}",
    "/** A JSON-in-string field: where it is in the payload (`*` = any index or key) and the validator of its content. */",
    "/** A condition on a content field: the value at `pointer` must pass `validate` (expect true) or fail it. */",
    "export interface ContentGuard {",
    "  readonly pointer: string;",
    "  readonly expect: boolean;",
    "  readonly validate: Validator;",
    "}",
    "export interface ContentField {",
    "  readonly pointer: string;",
    "  /** Schema file and pointer of the contentSchema, e.g. `commands/query.json#/$defs/request/...`. */",
    "  readonly schema: string;",
    "  readonly validate: Validator;",
    "  /** The field's contentSchema applies only where every guard holds (if/then/else and anyOf/oneOf branches). */",
    "  readonly guards: readonly ContentGuard[];",
    "}",
    ...exportNames.map((n) => `export declare const ${n}: Validator;`),
    "export declare const requestValidators: Readonly<Record<string, Validator>>;",
    "export declare const closedRequestValidators: Readonly<Record<string, Validator>>;",
    "export declare const replyValidators: Readonly<Record<string, Validator>>;",
    ...(robots.length === 0 ? [] : ["export declare const robotValidators: Readonly<Record<string, Validator>>;"]),
    "export declare const contentFields: Readonly<Record<string, { readonly request: readonly ContentField[]; readonly reply: readonly ContentField[] }>>;",
    "",
  ].join("\n");
  return new Map([
    ["validators.js", js],
    ["validators.d.ts", dts],
  ]);
}
