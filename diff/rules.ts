/**
 * The rule table of `openflow-spec diff`: every kind of change it reports, with a stable id, a one-line
 * description, and what it means for the side that *sends* the payload (or starts the command) and for the side
 * that *receives* it. Which side is "clients" and which is "servers" follows from the command's direction (see
 * ./sides.ts). The table in docs/ci.md is generated from this list (`npm run docs:diff-rules`).
 */

/** How bad a change is for one side: breaks existing peers, may break them, worth knowing, or harmless. */
export type Severity = "error" | "warn" | "info" | "safe";

/** Semver part of the spec version a change calls for on its own (a breaking change always calls for major). */
export type Bump = "major" | "minor";

export interface Rule {
  readonly description: string;
  /** For the writer of the payload (for command rules: the side that starts the command). */
  readonly sender: Severity;
  /** For the reader of the payload (for command rules: the side that answers or handles it). */
  readonly receiver: Severity;
  readonly bump: Bump;
}

const rule = (sender: Severity, receiver: Severity, bump: Bump, description: string): Rule => ({ sender, receiver, bump, description });

/** Every rule, in the order docs/ci.md lists them. Ids are stable: never rename one, add a new id instead. */
export const rules = {
  // Commands
  COMMAND_REMOVED: rule("error", "safe", "major", "A command is gone from the spec: peers that still send it get 'Unknown command'."),
  COMMAND_RENAMED: rule("error", "error", "major", "A command was removed and another one added with the same payload schemas: old peers use the old name."),
  COMMAND_ADDED: rule("safe", "safe", "minor", "A new command: nobody sends it yet."),
  COMMAND_DEPRECATED: rule("info", "info", "minor", "A command is now marked deprecated (the latest server no longer handles it)."),
  COMMAND_UNDEPRECATED: rule("info", "info", "minor", "A command is no longer marked deprecated."),
  DIRECTION_CHANGED: rule("error", "error", "major", "Which side starts the command (x-openflow.direction) changed."),
  REPLY_COMMAND_CHANGED: rule("error", "error", "major", "The command a successful reply carries (x-openflow.replyCommand) changed, or a reply appeared or disappeared."),
  REPLY_EXPECTED_CHANGED: rule("error", "error", "major", "Whether the sender waits for a reply (x-openflow.replyExpected) changed: one side waits for an answer the other never sends."),
  // Fields of an object
  FIELD_BECAME_REQUIRED: rule("error", "safe", "major", "A field is now required (a new required field, or an optional one made required): senders that omit it are refused."),
  FIELD_BECAME_OPTIONAL: rule("safe", "error", "major", "A required field is now optional: receivers that rely on it find it missing."),
  FIELD_ADDED: rule("safe", "safe", "minor", "A new optional field."),
  FIELD_REMOVED: rule("warn", "error", "major", "A field is gone from the spec: receivers that read it no longer get it; what senders still put there is ignored."),
  CLOSED_FIELD_REMOVED: rule("error", "error", "major", "A field is gone from an object that refuses unknown fields: senders that still send it are refused."),
  FIELD_DEPRECATED: rule("info", "info", "minor", "A field is now marked deprecated."),
  ADDITIONAL_PROPERTIES_CLOSED: rule("error", "safe", "major", "An object now refuses fields it does not list (additionalProperties/unevaluatedProperties false)."),
  ADDITIONAL_PROPERTIES_OPENED: rule("safe", "warn", "minor", "An object now accepts fields it does not list."),
  // Values
  TYPE_NARROWED: rule("error", "safe", "major", "A value accepts fewer JSON types (e.g. string|null to string): senders of the dropped types are refused."),
  TYPE_WIDENED: rule("safe", "warn", "minor", "A value accepts more JSON types (e.g. string to string|null): receivers may get a type they do not handle."),
  TYPE_CHANGED: rule("error", "error", "major", "A value's JSON type changed (neither narrower nor wider)."),
  ENUM_VALUE_REMOVED: rule("error", "safe", "major", "An allowed value (enum or const) was removed: senders of it are refused."),
  ENUM_VALUE_ADDED: rule("safe", "warn", "minor", "An allowed value (enum or const) was added: receivers may get a value they do not handle."),
  VALUES_RESTRICTED: rule("error", "safe", "major", "A value is now limited to a list (enum or const added)."),
  VALUES_UNRESTRICTED: rule("safe", "warn", "minor", "A value is no longer limited to a list (enum or const removed)."),
  CONSTRAINT_TIGHTENED: rule("error", "safe", "major", "A constraint got stricter or was added (minLength, minimum, maxItems, pattern, format, contentMediaType, ...)."),
  CONSTRAINT_LOOSENED: rule("safe", "warn", "minor", "A constraint got looser or was removed."),
  CONSTRAINT_CHANGED: rule("error", "warn", "major", "A constraint changed in a way that is neither stricter nor looser (e.g. a different pattern)."),
  // Alternatives and other keywords
  VARIANT_REMOVED: rule("error", "safe", "major", "An alternative of a oneOf/anyOf was removed: senders of that shape are refused."),
  VARIANT_ADDED: rule("safe", "warn", "minor", "An alternative was added to a oneOf/anyOf: receivers may get a shape they do not handle."),
  KEYWORD_CHANGED: rule("error", "warn", "major", "A validation keyword the diff cannot rank changed (oneOf/anyOf/if added or removed, an if condition, not, dependentRequired, ...)."),
} as const satisfies Record<string, Rule>;

export type RuleId = keyof typeof rules;

export const ruleIds = Object.keys(rules) as RuleId[];

const order: Record<Severity, number> = { safe: 0, info: 1, warn: 2, error: 3 };

/** The worse of two severities. */
export function worse(a: Severity, b: Severity): Severity {
  return order[a] >= order[b] ? a : b;
}

/** True when `s` is at least `threshold` (error > warn > info > safe). */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return order[s] >= order[threshold];
}
