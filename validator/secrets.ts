/**
 * Which payload fields hold secrets, read from the specification itself: every property named `password` or
 * `jwt`, and every property the schemas mark `"x-openflow": {"secret": true}` (`__jwt`, `rawAssertion`,
 * `firebasetoken`, `newpassword`, `passwordhash`, ...), anywhere in schemas/. A field added to the schemas with
 * that mark is redacted with no code change. (An explicit mark, not prose: a description that merely mentions a
 * token, such as "Unexpected token o in JSON", must not turn a field into a secret.)
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Always secret, whatever the description says. */
const ALWAYS = ["password", "jwt"];

/** schemas/ of this package: one level up from validator/ in a clone, two from dist/validator/. */
export function packageSchemasDir(): string {
  for (const rel of ["../schemas", "../../schemas"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, "frame.json"))) return dir;
  }
  throw new Error("schemas/ of openflow-spec not found next to the validator");
}

function listJson(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) listJson(full, out);
    else if (entry.name.endsWith(".json")) out.push(full);
  }
  return out;
}

function markedSecret(schema: Record<string, unknown>): boolean {
  const meta = schema["x-openflow"];
  return typeof meta === "object" && meta !== null && (meta as { secret?: unknown }).secret === true;
}

function collect(node: unknown, names: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, names);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const properties = (node as { properties?: unknown }).properties;
  if (typeof properties === "object" && properties !== null && !Array.isArray(properties)) {
    for (const [name, schema] of Object.entries(properties as Record<string, unknown>)) {
      if (typeof schema !== "object" || schema === null) continue;
      const s = schema as Record<string, unknown>;
      if (ALWAYS.includes(name.toLowerCase()) || markedSecret(s)) names.add(name.toLowerCase());
    }
  }
  for (const value of Object.values(node)) collect(value, names);
}

const cache = new Map<string, ReadonlySet<string>>();

/** Lower-cased names of the secret fields the schemas under `dir` describe (default: this package's schemas/). */
export function secretFieldNames(dir: string = packageSchemasDir()): ReadonlySet<string> {
  let names = cache.get(dir);
  if (!names) {
    const found = new Set<string>(ALWAYS);
    for (const file of listJson(dir)) collect(JSON.parse(readFileSync(file, "utf8")), found);
    names = found;
    cache.set(dir, names);
  }
  return names;
}
