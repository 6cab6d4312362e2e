/**
 * The browser path stays free of Node: every module reachable from runtime/index.ts (static and dynamic
 * relative imports) imports no `node:` module and no `ws` (which the transport loads lazily by a variable
 * specifier only when needed).
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0 && seen.size < 500) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
      const spec = match[1] as string;
      const target = join(dirname(file), spec);
      const candidates = [target.replace(/\.js$/, ".ts"), target];
      const found = candidates.find((c) => {
        try {
          readFileSync(c);
          return true;
        } catch {
          return false;
        }
      });
      if (found) queue.push(found);
    }
  }
  return seen;
}

it("runtime/index.ts reaches no Node-only module", () => {
  const files = reachable(join(root, "runtime/index.ts"));
  expect(files.size).toBeGreaterThan(10);
  const offenders: string[] = [];
  for (const [file, text] of files) {
    if (/from\s+["']node:|import\s*\(\s*["']node:|from\s+["']ws["']|import\s*\(\s*["']ws["']|\brequire\s*\(/.test(text)) offenders.push(relative(root, file));
  }
  expect(offenders).toEqual([]);
});
