/**
 * The spec-level diff: command by command (matched by command string) and the frame schema, with each command's
 * direction deciding who writes and who reads each payload. A request of a client-started (c2s) command is
 * written by clients and read by servers, its reply the other way; a server-started (s2c) command swaps both;
 * `both` and the frame are written and read by both sides. Every change of ./compare.ts becomes a finding with a
 * severity for clients and one for servers, taken from the rule's sender/receiver columns.
 */
import { isObject, stripAnnotations } from "../generator/walk.js";
import { compareSchemas, type Change } from "./compare.js";
import { rules, worse, type RuleId, type Severity } from "./rules.js";
import { canonical, formatLoc, SchemaIndex, type SchemaNode } from "./schema.js";
import type { SchemaTree } from "./source.js";

export type Side = "clients" | "servers";
export type Part = "command" | "request" | "reply" | "frame";
type Direction = "c2s" | "s2c" | "both";

export interface Finding {
  readonly rule: RuleId;
  /** The command string, or `frame` for the frame schema. */
  readonly command: string;
  readonly part: Part;
  /** `/request/top`, `/reply/result/[]/name`, `/frame/count`; "" for command-level rules. Used to acknowledge. */
  readonly pointer: string;
  /** Schema location in the head tree (base tree when gone): `commands/query.json#/$defs/request/properties/top`. */
  readonly schema: string;
  readonly message: string;
  readonly clients: Severity;
  readonly servers: Severity;
}

export interface SpecDiff {
  readonly base: string;
  readonly head: string;
  readonly findings: readonly Finding[];
}

interface CommandFile {
  readonly name: string;
  readonly file: string;
  readonly json: Record<string, unknown>;
  readonly meta: Record<string, unknown>;
}

function commandsOf(tree: SchemaTree): Map<string, CommandFile> {
  const out = new Map<string, CommandFile>();
  for (const [file, json] of tree.files) {
    if (!file.startsWith("commands/") || !isObject(json)) continue;
    const meta = isObject(json["x-openflow"]) ? (json["x-openflow"] as Record<string, unknown>) : {};
    const name = typeof meta["command"] === "string" ? meta["command"] : typeof json["title"] === "string" ? json["title"] : file.slice(9, -5);
    out.set(name, { name, file, json: json as Record<string, unknown>, meta });
  }
  return out;
}

function directionOf(command: CommandFile): Direction {
  const d = command.meta["direction"];
  return d === "s2c" || d === "both" ? d : "c2s";
}

/** Who writes a part of a command. */
function senders(direction: Direction, part: "request" | "reply"): Side[] {
  if (direction === "both") return ["clients", "servers"];
  const starter: Side = direction === "c2s" ? "clients" : "servers";
  const answerer: Side = starter === "clients" ? "servers" : "clients";
  return [part === "request" ? starter : answerer];
}

const BOTH: readonly Side[] = ["clients", "servers"];

/** Severity for each side of a rule, given who sends and who receives. */
function severities(rule: RuleId, sending: readonly Side[], receiving: readonly Side[]): { clients: Severity; servers: Severity } {
  const of = (side: Side): Severity => {
    let s: Severity = "safe";
    if (sending.includes(side)) s = worse(s, rules[rule].sender);
    if (receiving.includes(side)) s = worse(s, rules[rule].receiver);
    return s;
  };
  return { clients: of("clients"), servers: of("servers") };
}

/** The payload schemas of a command without annotations, to recognise a rename. */
function payloadText(command: CommandFile): string {
  const defs = isObject(command.json["$defs"]) ? command.json["$defs"] : {};
  return canonical(stripAnnotations({ request: defs["request"], reply: defs["reply"] }));
}

/** Diffs two schema trees. */
export function diffSpecs(base: SchemaTree, head: SchemaTree): SpecDiff {
  const before = new SchemaIndex(base);
  const after = new SchemaIndex(head);
  before.checkRefs();
  after.checkRefs();
  const findings: Finding[] = [];
  const add = (rule: RuleId, command: string, part: Part, path: string, schema: string, message: string, sending: readonly Side[], receiving: readonly Side[]): void => {
    findings.push({ rule, command, part, pointer: part === "command" ? "" : `/${part}${path}`, schema, message, ...severities(rule, sending, receiving) });
  };
  const payload = (command: string, part: Part, a: SchemaNode[], b: SchemaNode[], sending: readonly Side[], receiving: readonly Side[]): void => {
    compareSchemas(a, b, {
      before,
      after,
      emit: (c: Change) => add(c.rule, command, part, c.path, formatLoc(c.loc), c.message, sending, receiving),
    });
  };

  if (base.files.has("frame.json") || head.files.has("frame.json")) {
    const nodes = (index: SchemaIndex): SchemaNode[] => (index.tree.files.has("frame.json") ? [index.at("frame.json", "")] : []);
    payload("frame", "frame", nodes(before), nodes(after), BOTH, BOTH);
  }

  const a = commandsOf(base);
  const b = commandsOf(head);
  const removed = [...a.keys()].filter((n) => !b.has(n));
  const added = new Set([...b.keys()].filter((n) => !a.has(n)));
  for (const name of removed) {
    const old = a.get(name)!;
    const starter = senders(directionOf(old), "request");
    const answerer = senders(directionOf(old), "reply");
    const renamed = [...added].find((n) => payloadText(b.get(n)!) === payloadText(old));
    if (renamed !== undefined) {
      added.delete(renamed);
      add("COMMAND_RENAMED", name, "command", "", b.get(renamed)!.file, `renamed to ${renamed}`, starter, answerer);
    } else add("COMMAND_REMOVED", name, "command", "", old.file, `command ${name} removed (${old.file})`, starter, answerer);
  }
  for (const name of added) {
    const cmd = b.get(name)!;
    const starter = senders(directionOf(cmd), "request");
    add("COMMAND_ADDED", name, "command", "", cmd.file, `new ${directionOf(cmd)} command ${name}`, starter, BOTH);
  }

  for (const [name, old] of a) {
    const cur = b.get(name);
    if (cur === undefined) continue;
    const dirs = [directionOf(old), directionOf(cur)];
    const requestSenders = BOTH.filter((s) => dirs.some((d) => senders(d, "request").includes(s)));
    const replySenders = BOTH.filter((s) => dirs.some((d) => senders(d, "reply").includes(s)));
    const cmd = (rule: RuleId, message: string): void => add(rule, name, "command", "", `${cur.file}#/x-openflow`, message, requestSenders, replySenders);
    if (dirs[0] !== dirs[1]) cmd("DIRECTION_CHANGED", `direction ${dirs[0]} → ${dirs[1]}`);
    const rc = [old.meta["replyCommand"] ?? null, cur.meta["replyCommand"] ?? null];
    if (rc[0] !== rc[1]) cmd("REPLY_COMMAND_CHANGED", `replyCommand ${JSON.stringify(rc[0])} → ${JSON.stringify(rc[1])}`);
    const re = [old.meta["replyExpected"] === true, cur.meta["replyExpected"] === true];
    if (re[0] !== re[1]) cmd("REPLY_EXPECTED_CHANGED", `replyExpected ${re[0]} → ${re[1]}`);
    const dep = [old.json["deprecated"] === true, cur.json["deprecated"] === true];
    if (!dep[0] && dep[1]) cmd("COMMAND_DEPRECATED", `deprecated${typeof cur.meta["deprecation"] === "string" ? `: ${cur.meta["deprecation"]}` : ""}`);
    if (dep[0] && !dep[1]) cmd("COMMAND_UNDEPRECATED", "no longer deprecated");
    for (const part of ["request", "reply"] as const) {
      const nodes = (index: SchemaIndex, c: CommandFile): SchemaNode[] => {
        const node = index.at(c.file, `/$defs/${part}`);
        return node.schema === undefined ? [] : [node];
      };
      const x = nodes(before, old);
      const y = nodes(after, cur);
      if (x.length === 0 || y.length === 0) continue; // a reply that appears or disappears is REPLY_COMMAND_CHANGED
      const sending = part === "request" ? requestSenders : replySenders;
      const receiving = part === "request" ? replySenders : requestSenders;
      payload(name, part, x, y, sending, receiving);
    }
  }
  const seen = new Set<string>();
  const unique = findings.filter((f) => {
    // the same change reached through two alternatives (a shape referenced from both branches of a oneOf)
    const key = canonical([f.rule, f.command, f.pointer, f.schema, f.message]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const partOrder: Record<Part, number> = { frame: 0, command: 1, request: 2, reply: 3 };
  unique.sort((x, y) =>
    x.command === y.command
      ? partOrder[x.part] - partOrder[y.part] || x.pointer.localeCompare(y.pointer) || x.rule.localeCompare(y.rule)
      : x.command === "frame" ? -1 : y.command === "frame" ? 1 : x.command.localeCompare(y.command),
  );
  return { base: base.label, head: head.label, findings: unique };
}
