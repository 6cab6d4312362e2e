/**
 * Phase 1: read every `*.json` under the schemas directory into memory. Invalid JSON is reported with file, line
 * and column. Nothing else in the generator reads the disk.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { GeneratorError, type SchemaIssue } from "./errors.js";

export interface SchemaFile {
  /** Path relative to the schemas directory, with `/` separators, e.g. `commands/query.json`. */
  readonly path: string;
  /** The parsed document. Later phases must not mutate it. */
  readonly json: unknown;
}

export interface LoadedSchemas {
  /** Files sorted by path, so every later phase sees the same order on every machine. */
  readonly files: readonly SchemaFile[];
}

async function listJsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listJsonFiles(full)));
    else if (entry.isFile() && entry.name.endsWith(".json")) out.push(full);
  }
  return out;
}

/** Converts a character offset to a 1-based line and column. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Parses one file's text; a syntax error becomes an issue with line and column. */
export function parseSchemaText(path: string, text: string): { json: unknown } | { issue: SchemaIssue } {
  try {
    return { json: JSON.parse(text) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /at position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const { line, column } = lineColumnAt(text, offset);
    const clean = message.replace(/\s*\(line \d+ column \d+\)$/, "");
    return { issue: { file: path, pointer: "", line, column, message: `invalid JSON: ${clean}` } };
  }
}

/** Builds the in-memory schema set from file texts (used by tests and by `loadSchemas`). */
export function loadFromTexts(texts: ReadonlyMap<string, string>): LoadedSchemas {
  const files: SchemaFile[] = [];
  const issues: SchemaIssue[] = [];
  for (const path of [...texts.keys()].sort()) {
    const parsed = parseSchemaText(path, texts.get(path) ?? "");
    if ("issue" in parsed) issues.push(parsed.issue);
    else files.push({ path, json: parsed.json });
  }
  if (issues.length > 0) throw new GeneratorError("load", issues);
  return { files };
}

/** Reads `dir` recursively. Throws GeneratorError on unreadable or invalid JSON files. */
export async function loadSchemas(dir: string): Promise<LoadedSchemas> {
  let paths: string[];
  try {
    paths = await listJsonFiles(dir);
  } catch (err) {
    throw new GeneratorError("load", [
      { file: dir, pointer: "", message: `cannot read schemas directory: ${(err as Error).message}` },
    ]);
  }
  const texts = new Map<string, string>();
  for (const full of paths.sort()) {
    texts.set(relative(dir, full).split(sep).join("/"), await readFile(full, "utf8"));
  }
  if (texts.size === 0) {
    throw new GeneratorError("load", [{ file: dir, pointer: "", message: "no *.json schema files found" }]);
  }
  return loadFromTexts(texts);
}
