/**
 * Where the openflow-spec package itself lives: its package.json is one level above cli/ when run from source (tsx)
 * and two levels above dist/cli/ when run from the build or an installed package.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

let cached: { root: string; version: string } | undefined;

function find(): { root: string; version: string } {
  for (const rel of ["../package.json", "../../package.json"]) {
    const url = new URL(rel, import.meta.url);
    try {
      const pkg = JSON.parse(readFileSync(url, "utf8")) as { name?: string; version?: string };
      // openflow-spec in this repository; openflow-spec-tools once packed (packages/build.ts).
      if (pkg.name === "openflow-spec" || pkg.name === "openflow-spec-tools") return { root: dirname(fileURLToPath(url)), version: pkg.version ?? "0.0.0" };
    } catch {
      // try the next candidate
    }
  }
  throw new Error("package.json of openflow-spec not found next to the command-line modules");
}

/** The package's root directory (holds package.json, schemas/, templates/). */
export function packageRoot(): string {
  cached ??= find();
  return cached.root;
}

export function packageVersion(): string {
  cached ??= find();
  return cached.version;
}
