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
    "A client-started command is deprecated exactly when server-latest does not handle it (no yes/sends mark).",
  "protobuf-consistent":
    "x-openflow.protobuf names the messages protowrap looks up, its status follows from its changes, and it cites the request message.",
} as const;

export type LintRuleId = keyof typeof LINT_RULES;

/** The JSON pointer segment of one property name. */
const segment = (name: string): string => name.replace(/~/g, "~0").replace(/\//g, "~1");

/** Checks every rule over the validated schemas; returns the issues in file order (empty when clean). */
export function lintSchemas(validated: ValidatedSchemas): LintIssue[] {
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

    if (command) lintCommand(file.path, doc, add);

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

function lintCommand(path: string, doc: JsonObject, add: (rule: LintRuleId, file: string, pointer: string, message: string) => void): void {
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
  // Server-started and two-way commands (ping/pong, notices) stay part of the protocol whatever server-latest answers.
  if (meta["direction"] === "c2s" && !handles && !deprecated) add("deprecation-consistent", path, "/deprecated", `server-latest marks ${JSON.stringify(latest)}: the command must be deprecated`);
  if (deprecated && handles && !latest.includes("fails")) add("deprecation-consistent", path, "/deprecated", `deprecated, but server-latest handles it (${JSON.stringify(latest)})`);
  lintProtobuf(path, doc, (file, pointer, message) => add("protobuf-consistent", file, pointer, message));
}
