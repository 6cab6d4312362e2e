/**
 * The source layers: lower layers never import from higher ones (runtime/ from nothing above it; nothing below
 * the command line from cli/), and no module reaches itself again through value imports (an import circle makes
 * module start-up order matter). Read from the import statements of every source file.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const LAYERS = ["runtime", "generator", "validator", "server", "proxy", "diff", "robot", "sources", "fuzz", "cli"] as const;

interface Edge {
  to: string;
  typeOnly: boolean;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) sources(full, out);
    else if (full.endsWith(".ts") && !full.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

const files = LAYERS.flatMap((layer) => sources(join(ROOT, layer)));
const graph = new Map<string, Edge[]>();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const edges: Edge[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+"(\.[^"]+)"/gms)) {
    edges.push({ to: resolve(dirname(file), (m[2] as string).replace(/\.js$/, ".ts")), typeOnly: m[1] !== undefined });
  }
  for (const m of text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)) edges.push({ to: resolve(dirname(file), (m[1] as string).replace(/\.js$/, ".ts")), typeOnly: false });
  graph.set(file, edges);
}
const rel = (f: string): string => relative(ROOT, f);
const layerOf = (f: string): string => rel(f).split("/")[0] as string;

describe("source layers", () => {
  it("reads the imports of every source file", () => {
    expect(files.length).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it("runtime/ imports nothing above it (it also runs in browsers); nothing below the CLI imports cli/", () => {
    const wrong: string[] = [];
    for (const [file, edges] of graph) {
      for (const { to } of edges) {
        const from = layerOf(file);
        const target = rel(to).split("/")[0] as string;
        if (from === "runtime" && target !== "runtime" && target !== "generated") wrong.push(`${rel(file)} -> ${rel(to)}`);
        if (from !== "cli" && target === "cli") wrong.push(`${rel(file)} -> ${rel(to)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("has no import circle through value imports", () => {
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const circles: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 1);
      stack.push(file);
      for (const { to, typeOnly } of graph.get(file) ?? []) {
        if (typeOnly || !graph.has(to)) continue;
        if (state.get(to) === 1) circles.push([...stack.slice(stack.indexOf(to)), to].map(rel).join(" -> "));
        else if (!state.has(to)) visit(to);
      }
      stack.pop();
      state.set(file, 2);
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(circles).toEqual([]);
  });
});
