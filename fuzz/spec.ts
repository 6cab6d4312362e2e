/**
 * The spec as the fuzzer reads it: every command's `x-openflow` block (effect, direction, reply command), its
 * request schema with `$ref`s resolvable across files, its required fields and its examples. Read from this
 * package's schemas/ (the same files the generated validators were built from).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { packageSchemasDir } from "../validator/secrets.js";

export type Effect = "read" | "write" | "admin";

export interface CommandSpecInfo {
  command: string;
  direction: "c2s" | "s2c" | "both";
  effect: Effect;
  replyExpected: boolean;
  deprecated: boolean;
  /** `$defs.request` of the command file (with `$ref`s relative to `commands/`). */
  request: Record<string, unknown> | undefined;
  /** Top-level required request fields (through allOf). */
  required: string[];
  /** Request examples that are objects. */
  examples: Record<string, unknown>[];
}

export interface SpecIndex {
  commands: Map<string, CommandSpecInfo>;
  /** Resolves `ref` written in the file at `from` (a path relative to schemas/); returns the target and its file. */
  resolve(ref: string, from: string): { schema: unknown; file: string } | undefined;
}

type Json = Record<string, unknown>;

function listJson(dir: string, base = "", out: string[] = []): string[] {
  for (const entry of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = base === "" ? entry.name : `${base}/${entry.name}`;
    if (entry.isDirectory()) listJson(dir, rel, out);
    else if (entry.name.endsWith(".json")) out.push(rel);
  }
  return out;
}

function pointerGet(doc: unknown, pointer: string): unknown {
  if (pointer === "" || pointer === "/") return doc;
  let cur: unknown = doc;
  for (const raw of pointer.replace(/^\//, "").split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

function requiredOf(schema: unknown, index: Pick<SpecIndex, "resolve">, file: string, depth = 0): string[] {
  if (typeof schema !== "object" || schema === null || depth > 5) return [];
  const s = schema as Json;
  const out = new Set<string>(Array.isArray(s.required) ? (s.required as string[]) : []);
  if (typeof s.$ref === "string") {
    const target = index.resolve(s.$ref, file);
    if (target) for (const r of requiredOf(target.schema, index, target.file, depth + 1)) out.add(r);
  }
  if (Array.isArray(s.allOf)) for (const part of s.allOf) for (const r of requiredOf(part, index, file, depth + 1)) out.add(r);
  return [...out];
}

let cached: SpecIndex | undefined;

/** The spec of this package (read once). */
export function loadSpec(dir: string = packageSchemasDir()): SpecIndex {
  if (cached && dir === packageSchemasDir()) return cached;
  const files = new Map<string, unknown>();
  for (const rel of listJson(dir)) files.set(rel, JSON.parse(readFileSync(join(dir, rel), "utf8")));
  const resolve = (ref: string, from: string): { schema: unknown; file: string } | undefined => {
    const hash = ref.indexOf("#");
    const path = hash < 0 ? ref : ref.slice(0, hash);
    const pointer = hash < 0 ? "" : ref.slice(hash + 1);
    const file = path === "" ? from : posix.normalize(posix.join(posix.dirname(from), path));
    const doc = files.get(file);
    if (doc === undefined) return undefined;
    return { schema: pointerGet(doc, pointer), file };
  };
  const index: SpecIndex = { commands: new Map(), resolve };
  for (const [rel, doc] of files) {
    if (!rel.startsWith("commands/")) continue;
    const d = doc as Json;
    const x = (d["x-openflow"] ?? {}) as Json;
    const request = ((d.$defs ?? {}) as Json).request as Json | undefined;
    const examples = Array.isArray(request?.examples) ? (request.examples as unknown[]).filter((e): e is Json => typeof e === "object" && e !== null && !Array.isArray(e)) : [];
    index.commands.set(String(x.command), {
      command: String(x.command),
      direction: x.direction as CommandSpecInfo["direction"],
      effect: (x.effect as Effect | undefined) ?? "admin",
      replyExpected: x.replyExpected === true,
      deprecated: d.deprecated === true,
      request,
      required: request ? requiredOf(request, index, rel) : [],
      examples,
    });
  }
  if (dir === packageSchemasDir()) cached = index;
  return index;
}
