/**
 * Phase 6, the only phase that writes to disk. `writeOutput` builds the complete output in a temporary sibling
 * directory and then swaps it into place, so a failed run leaves the output directory exactly as it was.
 * `checkOutput` writes nothing and reports every file that differs, is missing or is extra.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep, basename } from "node:path";

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return out;
    throw err;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out;
}

/** Relative paths (with `/`) of every file under `dir`, sorted; empty when `dir` does not exist. */
export async function listOutputFiles(dir: string): Promise<string[]> {
  return (await listFiles(dir)).map((f) => relative(dir, f).split(sep).join("/")).sort();
}

export interface CheckResult {
  readonly changed: readonly string[];
  readonly missing: readonly string[];
  readonly extra: readonly string[];
}

export function isClean(result: CheckResult): boolean {
  return result.changed.length === 0 && result.missing.length === 0 && result.extra.length === 0;
}

/** Compares the wanted output with what is in `outDir`. Reads only. */
export async function checkOutput(files: ReadonlyMap<string, string>, outDir: string): Promise<CheckResult> {
  const present = new Set(await listOutputFiles(outDir));
  const changed: string[] = [];
  const missing: string[] = [];
  for (const path of [...files.keys()].sort()) {
    if (!present.has(path)) {
      missing.push(path);
      continue;
    }
    const current = await readFile(join(outDir, path), "utf8");
    if (current !== files.get(path)) changed.push(path);
  }
  const extra = [...present].filter((p) => !files.has(p)).sort();
  return { changed, missing, extra };
}

/** Writes `files` as the complete content of `outDir` (files not in the map are removed). */
export async function writeOutput(files: ReadonlyMap<string, string>, outDir: string): Promise<void> {
  const parent = dirname(outDir);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const staging = join(parent, `.${basename(outDir)}.tmp-${suffix}`);
  const backup = join(parent, `.${basename(outDir)}.old-${suffix}`);
  try {
    for (const [path, contents] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (path.startsWith("/") || path.split("/").includes("..")) throw new Error(`refusing to write outside the output directory: ${path}`);
      const target = join(staging, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, contents, "utf8");
    }
    await mkdir(staging, { recursive: true });
    let hadOld = true;
    try {
      await rename(outDir, backup);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      hadOld = false;
    }
    try {
      await rename(staging, outDir);
    } catch (err) {
      if (hadOld) await rename(backup, outDir);
      throw err;
    }
    if (hadOld) await rm(backup, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
