/**
 * Phase 2b: the spec's own rules, beyond what JSON Schema and the meta-schema (schemas/meta/command.schema.json:
 * required examples, a reply schema when there is a reply command, a deprecation reason, ...) can say. They run after `validate`
 * (so every file is a compiled, well-formed schema) inside `generate`, which stops on any violation, and alone as
 * `openflow-spec lint`. Each issue names its rule, the file and a JSON pointer inside it.
 */
import { type SchemaIssue } from "./errors.js";
import { ID_BASE, isCommandFile, isMetaFile, isRobotFile, type ValidatedSchemas } from "./validate.js";
import { lintProtobuf } from "./lint-protobuf.js";
import { isObject, walkSchema, type JsonObject } from "./walk.js";
import { CLAIMS_PENDING } from "./claims-pending.js";

export interface LintIssue extends SchemaIssue {
  /** The rule's id, from LINT_RULES. */
  rule: LintRuleId;
}

/** Every rule, with the one line a maintainer reads when it fires. */
export const LINT_RULES = {
  "def-title": "A shared shape in defs/ has a PascalCase title (it becomes the TypeScript type name).",
  "def-examples": "A shared shape in defs/ has at least one example.",
  "payload-title": "A command's $defs.request / $defs.reply title is <Pascal>Request / <Pascal>Reply.",
  "property-description": "Every property has a description, also inside anyOf/oneOf/then branches (not inside if).",
  "example-valid": "Every example validates against the schema it stands in.",
  "deprecation-consistent":
    "A client-started command is deprecated exactly when server-latest does not handle it (no yes/sends mark); a proposed command is exempt.",
  "proposed-unimplemented": "A proposed command (x-openflow.proposed) has every implementation mark empty and no sources.",
  "claim-sources":
    "Every error and note of a non-proposed command is a claim object with a source link that names a symbol (an error thrown by a helper links the helper's line).",
  "protobuf-consistent":
    "x-openflow.protobuf names the messages protowrap looks up, its status follows from its changes, and it cites the request message.",
} as const;

export type LintRuleId = keyof typeof LINT_RULES;

/** The JSON pointer segment of one property name. */
const segment = (name: string): string => name.replace(/~/g, "~0").replace(/\//g, "~1");

export interface LintOptions {
  /** Commands `claim-sources` skips (default: this repository's CLAIMS_PENDING). */
  readonly claimsPending?: ReadonlySet<string>;
}

/** Checks every rule over the validated schemas; returns the issues in file order (empty when clean). */
export function lintSchemas(validated: ValidatedSchemas, options: LintOptions = {}): LintIssue[] {
  const issues: LintIssue[] = [];
  const add = (rule: LintRuleId, file: string, pointer: string, message: string): void => void issues.push({ rule, file, pointer, message });

  for (const file of validated.files) {
    if (isMetaFile(file.path) || !isObject(file.json)) continue;
    const doc = file.json;
    const isDef = file.path.startsWith("defs/");
    const command = isCommandFile(file.path);

    if (isDef) {
      const title = doc["title"];
      if (typeof title !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(title.replace(/ /g, ""))) add("def-title", file.path, "/title", `title ${JSON.stringify(title)} is not PascalCase`);
      // payload.json is the container of the common request/reply fields: it has no root shape of its own.
      if (file.path !== "defs/payload.json" && !hasExamples(doc)) add("def-examples", file.path, "/examples", "no examples");
    }

    // Every property described: for commands in the payload schemas, for defs and robot commands everywhere.
    const describedRoots: Array<[unknown, string]> = command
      ? (["request", "reply"] as const).map((kind) => [defsOf(doc)[kind], `/$defs/${kind}`])
      : isDef || isRobotFile(file.path)
        ? [[doc, ""]]
        : [];
    for (const [root, at] of describedRoots) {
      walkSchema(
        root,
        (node, pointer) => {
          // `if` subschemas are conditions (discriminators), not shapes: their properties need no prose.
          if (/\/if(\/|$)/.test(pointer)) return;
          const props = node["properties"];
          if (!isObject(props)) return;
          for (const [name, prop] of Object.entries(props)) {
            if (isObject(prop) && typeof prop["description"] !== "string") add("property-description", file.path, `${pointer}/properties/${segment(name)}`, `property "${name}" has no description`);
          }
        },
        at,
      );
    }

    if (command) lintCommand(file.path, doc, add, options.claimsPending ?? CLAIMS_PENDING);

    // Examples validate: the root and every $defs entry that carries them.
    const targets: Array<[string, unknown]> = [["", doc["examples"]]];
    for (const [key, def] of Object.entries(defsOf(doc))) if (isObject(def)) targets.push([`/$defs/${segment(key)}`, def["examples"]]);
    for (const [pointer, examples] of targets) {
      if (!Array.isArray(examples) || examples.length === 0) continue;
      const validate = validated.ajv.getSchema(pointer === "" ? ID_BASE + file.path : `${ID_BASE}${file.path}#${pointer}`);
      if (!validate) continue;
      examples.forEach((example: unknown, i) => {
        if (validate(example)) return;
        const first = validate.errors?.[0];
        const where = first ? `${first.instancePath || "(root)"} ${first.message ?? first.keyword}` : "does not validate";
        add("example-valid", file.path, `${pointer}/examples/${i}`, `example does not validate: ${where}`);
      });
    }
  }
  return issues;
}

function defsOf(doc: JsonObject): JsonObject {
  const defs = doc["$defs"];
  return isObject(defs) ? defs : {};
}

function hasExamples(node: unknown): boolean {
  return isObject(node) && Array.isArray(node["examples"]) && node["examples"].length > 0;
}

function lintCommand(path: string, doc: JsonObject, add: (rule: LintRuleId, file: string, pointer: string, message: string) => void, pending: ReadonlySet<string>): void {
  const defs = defsOf(doc);
  for (const [kind, suffix] of [["request", "Request"], ["reply", "Reply"]] as const) {
    const payload = defs[kind];
    if (!isObject(payload)) continue;
    const title = payload["title"];
    if (typeof title !== "string" || !new RegExp(`^[A-Z][A-Za-z0-9]*${suffix}$`).test(title)) add("payload-title", path, `/$defs/${kind}/title`, `title ${JSON.stringify(title)} must be <Pascal>${suffix}`);
  }

  const meta = isObject(doc["x-openflow"]) ? doc["x-openflow"] : {};

  const impl = isObject(meta["implementations"]) ? meta["implementations"] : {};
  const latest = Array.isArray(impl["server-latest"]) ? (impl["server-latest"] as unknown[]) : [];
  const handles = latest.some((s) => s === "yes" || s === "sends");
  const deprecated = doc["deprecated"] === true;
  const proposed = meta["proposed"] === true;

  if (proposed) {
    for (const [label, marks] of Object.entries(impl)) {
      if (Array.isArray(marks) && marks.length > 0) add("proposed-unimplemented", path, `/x-openflow/implementations/${label}`, `a proposed command has no implementation yet, but ${label} is marked ${JSON.stringify(marks)}: empty the mark, or drop "proposed" and cite the source`);
    }
    if (isObject(meta["sources"]) && Object.keys(meta["sources"]).length > 0) add("proposed-unimplemented", path, "/x-openflow/sources", "a proposed command has no implementation to cite: remove x-openflow.sources");
  } else if (!pending.has(String(meta["command"] ?? ""))) {
    for (const key of ["errors", "notes"] as const) {
      const list = Array.isArray(meta[key]) ? (meta[key] as unknown[]) : [];
      list.forEach((claim, i) => {
        const at = `/x-openflow/${key}/${i}`;
        if (!isObject(claim)) return add("claim-sources", path, at, `${key === "errors" ? "error" : "note"} ${JSON.stringify(String(claim).slice(0, 60))} has no source: write it as {"text", "sources": [{"url", "what", "symbol"}]}`);
        if (claim["proposed"] === true) return;
        const sources = Array.isArray(claim["sources"]) ? (claim["sources"] as unknown[]) : [];
        if (!sources.some((s) => isObject(s) && typeof s["symbol"] === "string" && s["symbol"] !== "")) add("claim-sources", path, `${at}/sources`, "needs at least one source link with a symbol (the name the cited range must contain)");
      });
    }
  }

  // Server-started and two-way commands (ping/pong, notices) stay part of the protocol whatever server-latest answers.
  // A proposed command is not implemented by anyone yet: nothing to deprecate.
  if (meta["direction"] === "c2s" && !handles && !deprecated && !proposed) add("deprecation-consistent", path, "/deprecated", `server-latest marks ${JSON.stringify(latest)}: the command must be deprecated`);
  if (deprecated && handles && !latest.includes("fails")) add("deprecation-consistent", path, "/deprecated", `deprecated, but server-latest handles it (${JSON.stringify(latest)})`);
  lintProtobuf(path, doc, (file, pointer, message) => add("protobuf-consistent", file, pointer, message));
}
