/**
 * One small before/after pair per rule of diff/rules.ts, with the classification expected for clients and for
 * servers; then the direction cases (server-started command, a command both sides start, the frame), a change
 * inside a JSON-in-string contentSchema and one reached through a $ref into defs/.
 */
import { describe, expect, it } from "vitest";
import { diffSpecs, judge, ruleIds, type RuleId, type Severity } from "../diff/index.js";
import { commandFile, tree, type CommandOptions, type Json } from "./diff-helpers.js";

interface Case {
  rule: RuleId;
  before: Record<string, Json>;
  after: Record<string, Json>;
  clients: Severity;
  servers: Severity;
  /** Payload pointer of the finding ("" for command rules). */
  pointer: string;
}

const cmd = (name: string, o: CommandOptions = {}): Record<string, Json> => ({ [`commands/${name}.json`]: commandFile(name, o) });
const req = (request: Record<string, Json>, o: CommandOptions = {}): Record<string, Json> => cmd("frob", { ...o, request });
const rep = (reply: Record<string, Json>, o: CommandOptions = {}): Record<string, Json> => cmd("frob", { ...o, reply });
const str = { type: "string" };
const strOrNull = { type: ["string", "null"] };

const cases: Case[] = [
  { rule: "COMMAND_REMOVED", before: { ...cmd("frob"), ...cmd("other") }, after: cmd("other"), clients: "error", servers: "safe", pointer: "" },
  { rule: "COMMAND_RENAMED", before: cmd("frob", { request: { properties: { a: str } }, replyCommand: "x" }), after: cmd("frobnicate", { request: { properties: { a: str } }, replyCommand: "x" }), clients: "error", servers: "error", pointer: "" },
  { rule: "COMMAND_ADDED", before: cmd("other"), after: { ...cmd("other"), ...cmd("frob") }, clients: "safe", servers: "safe", pointer: "" },
  { rule: "COMMAND_DEPRECATED", before: cmd("frob"), after: cmd("frob", { deprecated: true }), clients: "info", servers: "info", pointer: "" },
  { rule: "COMMAND_UNDEPRECATED", before: cmd("frob", { deprecated: true }), after: cmd("frob"), clients: "info", servers: "info", pointer: "" },
  { rule: "DIRECTION_CHANGED", before: cmd("frob", { reply: null, replyCommand: null }), after: cmd("frob", { direction: "s2c", reply: null, replyCommand: null }), clients: "error", servers: "error", pointer: "" },
  { rule: "REPLY_COMMAND_CHANGED", before: cmd("frob", { replyCommand: "frob" }), after: cmd("frob", { replyCommand: "frobbed" }), clients: "error", servers: "error", pointer: "" },
  { rule: "REPLY_EXPECTED_CHANGED", before: cmd("frob", { replyExpected: true }), after: cmd("frob", { replyExpected: false }), clients: "error", servers: "error", pointer: "" },
  // a request field becomes required: breaks clients that omit it
  { rule: "FIELD_BECAME_REQUIRED", before: req({ properties: { a: str } }), after: req({ properties: { a: str }, required: ["a"] }), clients: "error", servers: "safe", pointer: "/request/a" },
  { rule: "FIELD_BECAME_OPTIONAL", before: rep({ properties: { a: str }, required: ["a"] }), after: rep({ properties: { a: str } }), clients: "error", servers: "safe", pointer: "/reply/a" },
  { rule: "FIELD_ADDED", before: rep({ properties: {} }), after: rep({ properties: { a: str } }), clients: "safe", servers: "safe", pointer: "/reply/a" },
  // a reply field is removed: breaks clients that read it
  { rule: "FIELD_REMOVED", before: rep({ properties: { a: str, b: str } }), after: rep({ properties: { b: str } }), clients: "error", servers: "warn", pointer: "/reply/a" },
  { rule: "CLOSED_FIELD_REMOVED", before: req({ properties: { a: str, b: str }, additionalProperties: false }), after: req({ properties: { b: str }, additionalProperties: false }), clients: "error", servers: "error", pointer: "/request/a" },
  { rule: "FIELD_DEPRECATED", before: rep({ properties: { a: str } }), after: rep({ properties: { a: { type: "string", deprecated: true } } }), clients: "info", servers: "info", pointer: "/reply/a" },
  { rule: "ADDITIONAL_PROPERTIES_CLOSED", before: req({ properties: { a: str } }), after: req({ properties: { a: str }, additionalProperties: false }), clients: "error", servers: "safe", pointer: "/request" },
  { rule: "ADDITIONAL_PROPERTIES_OPENED", before: req({ properties: { a: str }, additionalProperties: false }), after: req({ properties: { a: str } }), clients: "safe", servers: "warn", pointer: "/request" },
  // a request type narrows: breaks clients; a request type widens: may break servers that read it
  { rule: "TYPE_NARROWED", before: req({ properties: { a: strOrNull } }), after: req({ properties: { a: str } }), clients: "error", servers: "safe", pointer: "/request/a" },
  { rule: "TYPE_WIDENED", before: req({ properties: { a: str } }), after: req({ properties: { a: strOrNull } }), clients: "safe", servers: "warn", pointer: "/request/a" },
  // a reply field's type changes: breaks clients that read it (and servers that send the old type)
  { rule: "TYPE_CHANGED", before: rep({ properties: { a: str } }), after: rep({ properties: { a: { type: "integer" } } }), clients: "error", servers: "error", pointer: "/reply/a" },
  // a request enum loses a value: breaks clients
  { rule: "ENUM_VALUE_REMOVED", before: req({ properties: { a: { enum: ["x", "y"] } } }), after: req({ properties: { a: { enum: ["x"] } } }), clients: "error", servers: "safe", pointer: "/request/a" },
  // a reply enum gains a value: warn for clients
  { rule: "ENUM_VALUE_ADDED", before: rep({ properties: { a: { enum: ["x"] } } }), after: rep({ properties: { a: { enum: ["x", "y"] } } }), clients: "warn", servers: "safe", pointer: "/reply/a" },
  { rule: "VALUES_RESTRICTED", before: req({ properties: { a: str } }), after: req({ properties: { a: { type: "string", const: "x" } } }), clients: "error", servers: "safe", pointer: "/request/a" },
  { rule: "VALUES_UNRESTRICTED", before: rep({ properties: { a: { type: "string", enum: ["x"] } } }), after: rep({ properties: { a: str } }), clients: "warn", servers: "safe", pointer: "/reply/a" },
  { rule: "CONSTRAINT_TIGHTENED", before: req({ properties: { a: str } }), after: req({ properties: { a: { type: "string", minLength: 1 } } }), clients: "error", servers: "safe", pointer: "/request/a" },
  { rule: "CONSTRAINT_LOOSENED", before: rep({ properties: { a: { type: "integer", maximum: 9 } } }), after: rep({ properties: { a: { type: "integer" } } }), clients: "warn", servers: "safe", pointer: "/reply/a" },
  { rule: "CONSTRAINT_CHANGED", before: req({ properties: { a: { type: "string", pattern: "^a" } } }), after: req({ properties: { a: { type: "string", pattern: "^b" } } }), clients: "error", servers: "warn", pointer: "/request/a" },
  {
    rule: "VARIANT_REMOVED",
    before: req({ properties: { a: { oneOf: [{ type: "object", required: ["x"] }, { type: "object", required: ["y"] }] } } }),
    after: req({ properties: { a: { oneOf: [{ type: "object", required: ["x"] }] } } }),
    clients: "error", servers: "safe", pointer: "/request/a",
  },
  {
    rule: "VARIANT_ADDED",
    before: rep({ properties: { a: { anyOf: [{ type: "object", required: ["x"] }] } } }),
    after: rep({ properties: { a: { anyOf: [{ type: "object", required: ["x"] }, { type: "object", required: ["y"] }] } } }),
    clients: "warn", servers: "safe", pointer: "/reply/a",
  },
  { rule: "KEYWORD_CHANGED", before: req({ properties: { a: str } }), after: req({ properties: { a: { type: "string", not: { const: "x" } } } }), clients: "error", servers: "warn", pointer: "/request/a" },
];

function classify(before: Record<string, Json>, after: Record<string, Json>) {
  return diffSpecs(tree("before", before), tree("after", after)).findings;
}

describe("one fixture pair per rule", () => {
  it("covers every rule of the table", () => {
    expect(cases.map((c) => c.rule).sort()).toEqual([...ruleIds].sort());
  });

  it.each(cases)("$rule: clients $clients, servers $servers", (c) => {
    const findings = classify(c.before, c.after);
    expect(findings.map((f) => f.rule)).toEqual([c.rule]);
    expect(findings[0]).toMatchObject({ clients: c.clients, servers: c.servers, pointer: c.pointer });
    expect(findings[0]!.message.length).toBeGreaterThan(0);
    expect(classify(c.before, c.before)).toEqual([]);
  });
});

describe("the direction decides who breaks", () => {
  const required = (o: CommandOptions, r: string[]): Record<string, Json> => cmd("evt", { ...o, request: { properties: { a: str }, required: r } });

  it("a server-started command's request is written by servers: a new required field breaks servers", () => {
    const o: CommandOptions = { direction: "s2c", replyCommand: null, reply: null };
    const [f, ...rest] = classify(required(o, []), required(o, ["a"]));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ rule: "FIELD_BECAME_REQUIRED", command: "evt", clients: "safe", servers: "error" });
  });

  it("its reply is written by clients: a removed reply field breaks servers that read it", () => {
    const o = (props: Record<string, Json>): CommandOptions => ({ direction: "s2c", reply: { properties: props } });
    const findings = classify(cmd("evt", o({ a: str })), cmd("evt", o({})));
    expect(findings).toMatchObject([{ rule: "FIELD_REMOVED", pointer: "/reply/a", clients: "warn", servers: "error" }]);
  });

  it("a command both sides start breaks both", () => {
    const o: CommandOptions = { direction: "both" };
    expect(classify(required(o, []), required(o, ["a"]))).toMatchObject([{ rule: "FIELD_BECAME_REQUIRED", clients: "error", servers: "error" }]);
  });

  it("the frame is classified like a payload for both directions", () => {
    const frame = (count: Json): Record<string, Json> => ({ "frame.json": { type: "object", properties: { id: str, count } }, ...cmd("other") });
    expect(classify(frame({ type: ["integer", "string"] }), frame({ type: "integer" }))).toMatchObject([
      { rule: "TYPE_NARROWED", command: "frame", part: "frame", pointer: "/frame/count", clients: "error", servers: "error" },
    ]);
    expect(classify(frame({ type: "integer" }), frame({ type: "integer", minimum: 1 }))[0]).toMatchObject({ rule: "CONSTRAINT_TIGHTENED", clients: "error", servers: "error" });
  });

  it("a command that changes direction is judged with both directions", () => {
    const findings = classify(cmd("frob", { request: { properties: { a: str } } }), cmd("frob", { direction: "s2c", request: { properties: { a: str }, required: ["a"] } }));
    expect(findings.map((f) => [f.rule, f.clients, f.servers])).toEqual([
      ["DIRECTION_CHANGED", "error", "error"],
      ["FIELD_BECAME_REQUIRED", "error", "error"],
    ]);
  });
});

describe("contentSchema and $ref", () => {
  const content = (inner: Record<string, Json>): Record<string, Json> =>
    req({ properties: { q: { type: "string", contentMediaType: "application/json", contentSchema: { type: "object", properties: { x: str }, ...inner } } } });

  it("a change inside JSON text is classified like a plain field", () => {
    expect(classify(content({}), content({ required: ["x"] }))).toMatchObject([
      { rule: "FIELD_BECAME_REQUIRED", pointer: "/request/q/{json}/x", clients: "error", servers: "safe", schema: "commands/frob.json#/$defs/request/properties/q/contentSchema/properties/x" },
    ]);
  });

  it("a contentSchema added to a string field narrows it for senders", () => {
    const plain = req({ properties: { q: str } });
    const findings = classify(plain, content({}));
    expect(findings.map((f) => [f.rule, f.pointer, f.clients, f.servers])).toEqual([
      ["CONSTRAINT_TIGHTENED", "/request/q", "error", "safe"], // contentMediaType: the text must now be JSON
      ["TYPE_NARROWED", "/request/q/{json}", "error", "safe"], // any JSON → an object
      ["FIELD_ADDED", "/request/q/{json}/x", "safe", "safe"],
    ]);
  });

  it("a change in a shared definition reaches every command that refers to it, with the command's direction", () => {
    const def = (t: Json): Record<string, Json> => ({
      "defs/thing.json": { $id: "https://openflow-spec.dev/schemas/defs/thing.json", type: "object", properties: { n: { type: t } } },
      ...cmd("put", { request: { properties: { thing: { $ref: "../defs/thing.json" } } } }),
      ...cmd("get", { reply: { properties: { thing: { $ref: "../defs/thing.json" } } } }),
    });
    const findings = classify(def("integer"), def("number"));
    expect(findings).toMatchObject([
      { rule: "TYPE_WIDENED", command: "get", pointer: "/reply/thing/n", clients: "warn", servers: "safe", schema: "defs/thing.json#/properties/n" },
      { rule: "TYPE_WIDENED", command: "put", pointer: "/request/thing/n", clients: "safe", servers: "warn" },
    ]);
  });

  it("wrapping a shape in anyOf with null compares alternative by alternative", () => {
    const date: Record<string, Json> = { "defs/date.json": { $id: "https://openflow-spec.dev/schemas/defs/date.json", anyOf: [{ type: "string" }, { type: "object", required: ["seconds"] }] } };
    const before = { ...date, ...req({ properties: { at: { $ref: "../defs/date.json" } } }) };
    const after = { ...date, ...req({ properties: { at: { anyOf: [{ $ref: "../defs/date.json" }, { type: "null" }] } } }) };
    expect(classify(before, after)).toMatchObject([{ rule: "TYPE_WIDENED", pointer: "/request/at", message: "type object|string → null|object|string" }]);
  });

  it("a recursive schema is compared without looping", () => {
    const node = (t: string): Record<string, Json> => ({
      "defs/node.json": { $id: "https://openflow-spec.dev/schemas/defs/node.json", type: "object", properties: { v: { type: t }, children: { type: "array", items: { $ref: "node.json" } } } },
      ...req({ properties: { root: { $ref: "../defs/node.json" } } }),
    });
    // reported where the recursion starts and one level down, where the cycle guard stops it
    expect(classify(node("string"), node("integer")).map((f) => [f.rule, f.pointer])).toEqual([
      ["TYPE_CHANGED", "/request/root/children/[]/v"],
      ["TYPE_CHANGED", "/request/root/v"],
    ]);
  });
});

describe("verdict", () => {
  it("suggests major for a break, minor for an addition, none for no change", () => {
    const bump = (b: Record<string, Json>, a: Record<string, Json>) => judge(diffSpecs(tree("b", b), tree("a", a))).bump;
    expect(bump(cases[8]!.before, cases[8]!.after)).toBe("major");
    expect(bump(cmd("other"), { ...cmd("other"), ...cmd("frob") })).toBe("minor");
    expect(bump(cmd("other"), cmd("other"))).toBe("none");
  });

  it("fails at error by default and at warn with failOn warn; acknowledged findings do not fail", () => {
    const widened = diffSpecs(tree("b", cases[17]!.before), tree("a", cases[17]!.after));
    expect(judge(widened).ok).toBe(true);
    expect(judge(widened, { failOn: "warn" }).ok).toBe(false);
    const broken = diffSpecs(tree("b", cases[8]!.before), tree("a", cases[8]!.after));
    expect(judge(broken).ok).toBe(false);
    expect(judge(broken, { acknowledged: (f) => f.rule === "FIELD_BECAME_REQUIRED" && f.pointer === "/request/a" }).ok).toBe(true);
  });
});
