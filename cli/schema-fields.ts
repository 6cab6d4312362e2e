/**
 * What the schemas say about a command, for the terminal verbs: the commands a client may send and the fields of
 * their request payloads (completion in `shell`, did-you-mean in `call`), read from this package's schemas/ (the
 * same files the validators were generated from). `$ref`s into other files and `allOf`/`anyOf`/`oneOf` branches are
 * followed, so the common request fields (`jwt`, `traceId`, ...) are included.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { packageSchemasDir } from "../validator/secrets.js";

type Node = Record<string, unknown>;

interface CommandFile {
  command: string;
  direction: string;
  replyExpected: boolean;
  file: string;
  schema: Node;
}

let cached: Map<string, CommandFile> | undefined;

function commandFiles(): Map<string, CommandFile> {
  if (cached) return cached;
  const dir = join(packageSchemasDir(), "commands");
  const out = new Map<string, CommandFile>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const file = join(dir, name);
    const schema = JSON.parse(readFileSync(file, "utf8")) as Node;
    const meta = (schema["x-openflow"] ?? {}) as { command?: string; direction?: string; replyExpected?: boolean };
    const command = (meta.command ?? name.replace(/\.json$/, "")).toLowerCase();
    out.set(command, { command, direction: meta.direction ?? "c2s", replyExpected: meta.replyExpected !== false, file, schema });
  }
  cached = out;
  return out;
}

/** Commands a client sends (direction c2s or both), lower-case and sorted. */
export function clientCommands(): string[] {
  return [...commandFiles().values()].filter((c) => c.direction !== "s2c").map((c) => c.command);
}

/** Who sends the command and whether it is answered (x-openflow.direction, replyExpected); undefined if unknown. */
export function commandTraits(command: string): { direction: string; replyExpected: boolean } | undefined {
  const entry = commandFiles().get(command.toLowerCase());
  return entry ? { direction: entry.direction, replyExpected: entry.replyExpected } : undefined;
}

/** The command's one-paragraph description from its schema (empty if unknown). */
export function commandDescription(command: string): string {
  const description = commandFiles().get(command.toLowerCase())?.schema["description"];
  return typeof description === "string" ? description : "";
}

const fileCache = new Map<string, Node>();

function resolveRef(ref: string, baseFile: string): { node: Node; file: string } | undefined {
  const [path, fragment = ""] = ref.split("#");
  const file = path ? resolve(dirname(baseFile), path) : baseFile;
  let root = fileCache.get(file);
  if (!root) {
    try {
      root = JSON.parse(readFileSync(file, "utf8")) as Node;
    } catch {
      return undefined;
    }
    fileCache.set(file, root);
  }
  let node: unknown = root;
  for (const part of fragment.split("/").filter(Boolean)) node = (node as Node | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return typeof node === "object" && node !== null ? { node: node as Node, file } : undefined;
}

function collect(node: Node, file: string, own: Set<string>, depth: number): void {
  if (depth > 8) return;
  const properties = node["properties"];
  if (typeof properties === "object" && properties !== null) for (const key of Object.keys(properties)) own.add(key);
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const branches = node[key];
    if (Array.isArray(branches)) for (const b of branches) if (typeof b === "object" && b !== null) collect(b as Node, file, own, depth + 1);
  }
  const ref = node["$ref"];
  if (typeof ref === "string") {
    const target = resolveRef(ref, file);
    if (target) collect(target.node, target.file, own, depth + 1);
  }
}

/**
 * The field names of a command's request payload, the command's own first (in schema order), then the fields
 * every request may carry. Empty for a command the spec does not know.
 */
export function requestFields(command: string): string[] {
  const entry = commandFiles().get(command.toLowerCase());
  const request = (entry?.schema["$defs"] as Node | undefined)?.["request"] as Node | undefined;
  if (!entry || !request) return [];
  const own = new Set<string>();
  const properties = request["properties"];
  if (typeof properties === "object" && properties !== null) for (const key of Object.keys(properties)) own.add(key);
  collect(request, entry.file, own, 0);
  return [...own];
}
