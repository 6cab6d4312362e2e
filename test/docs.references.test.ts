/**
 * The repository explains itself: every relative Markdown link and its anchor resolves, every citation of the
 * protocol guide (docs/protocol.md with an anchor) in code comments, schema text, templates and generated files
 * names a section that exists, and every quirk id (Q1, Q2, ...) mentioned anywhere has its section. Found by
 * scanning the repository, not from a list; a failure names file and line. Links in templates/ are relative to the
 * page they become, so they are checked in the generated pages.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const GUIDE = join(ROOT, "docs", "protocol.md");
const SKIP_DIRS = new Set(["node_modules", "dist", ".git", "coverage"]);
const TEXT_FILES = /\.(md|ts|mts|js|mjs|json|hbs|html|yml|yaml)$/;
const SELF = resolve(import.meta.filename);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...walk(join(dir, entry.name)));
    } else if (TEXT_FILES.test(entry.name)) out.push(join(dir, entry.name));
  }
  return out;
}

// The docs site's bundled scripts (generated/docs/html/assets/) are minified library code, not prose.
const files = walk(ROOT).filter((f) => f !== SELF && !f.endsWith("package-lock.json") && !f.startsWith(join(ROOT, "generated", "docs", "html", "assets")));
const markdown = files.filter((f) => f.endsWith(".md"));
const rel = (file: string): string => relative(ROOT, file).split(sep).join("/");

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const anchorCache = new Map<string, Set<string>>();
/** Anchors a Markdown file defines: explicit `id="..."` / `name="..."` and the slugs of its headings. */
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (anchors) return anchors;
  anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
  }
  anchorCache.set(file, anchors);
  return anchors;
}

interface Problem {
  where: string;
  what: string;
}

/** Relative link targets of a Markdown file, outside code blocks and code spans, with their line numbers. */
function markdownLinks(file: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  let fenced = false;
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
      if (fenced) return;
      const line = text.replace(/`[^`]*`/g, "code");
      for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1]! });
      for (const m of line.matchAll(/<a\s+[^>]*href="([^"]+)"/g)) links.push({ line: i + 1, target: m[1]! });
    });
  return links;
}

function checkLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // absolute URL
  const hash = target.indexOf("#");
  const path = decodeURI(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = path === "" ? file : resolve(dirname(file), path);
  if (!resolved.startsWith(ROOT)) return `${target} points outside the repository`;
  if (!existsSync(resolved)) return `${target}: no such file or directory`;
  if (anchor !== undefined && anchor !== "" && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) {
    return `${target}: ${rel(resolved)} has no anchor "${anchor}"`;
  }
  return undefined;
}

function lines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n");
}

describe("documentation references", () => {
  it("scans the guide, the README and the generated reference", () => {
    expect(existsSync(GUIDE)).toBe(true);
    for (const must of ["README.md", "docs/protocol.md", "generated/docs/README.md"]) expect(markdown.map(rel)).toContain(must);
    expect(markdown.filter((f) => rel(f).startsWith("generated/docs/commands/")).length).toBeGreaterThan(0);
  });

  it("resolves every relative Markdown link and anchor", () => {
    const problems: Problem[] = [];
    for (const file of markdown) {
      for (const { line, target } of markdownLinks(file)) {
        const what = checkLink(file, target);
        if (what) problems.push({ where: `${rel(file)}:${line}`, what });
      }
    }
    expect(problems.map((p) => `${p.where}: ${p.what}`)).toEqual([]);
  });

  it("resolves every citation of the protocol guide in code, schemas, templates and generated files", () => {
    const anchors = anchorsOf(GUIDE);
    const problems: string[] = [];
    let citations = 0;
    for (const file of files) {
      lines(file).forEach((text, i) => {
        for (const m of text.matchAll(/(?<![\w/.-])((?:\.\.\/)*)docs\/protocol\.md(?:#([A-Za-z0-9_-]+))?/g)) {
          citations++;
          const where = `${rel(file)}:${i + 1}`;
          // Templates link relative to the page they become; the generated pages are checked as Markdown above.
          if (m[1] && !rel(file).startsWith("templates/") && resolve(dirname(file), `${m[1]}docs/protocol.md`) !== GUIDE) problems.push(`${where}: ${m[0]} does not lead to docs/protocol.md from ${rel(dirname(file))}/`);
          if (m[2] !== undefined && !anchors.has(m[2])) problems.push(`${where}: docs/protocol.md has no section "${m[2]}"`);
        }
      });
    }
    expect(citations).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("gives every quirk id mentioned anywhere its own section in the guide", () => {
    const anchors = anchorsOf(GUIDE);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      lines(file).forEach((text, i) => {
        for (const m of text.matchAll(/\bQ(\d{1,3})\b/g)) {
          seen.add(m[1]!);
          if (!anchors.has(`q${m[1]}`)) problems.push(`${rel(file)}:${i + 1}: quirk Q${m[1]} has no section <a id="q${m[1]}"> in docs/protocol.md`);
        }
      });
    }
    expect(seen.size).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("resolves every absolute link to this repository's files (JSDoc hovers, package READMEs) and its anchor", () => {
    // The client package ships neither docs/ nor schemas/, so its JSDoc links point at the repository on GitHub:
    // the file must exist here and the anchor must be a section of it.
    const problems: string[] = [];
    let links = 0;
    for (const file of files.filter((f) => !rel(f).startsWith("test/"))) {
      lines(file).forEach((text, i) => {
        for (const m of text.matchAll(/https:\/\/github\.com\/openflow-spec\/openflow-spec\/(?:blob|tree)\/main\/([\w./-]*[\w/])(?:#([\w-]+))?/g)) {
          links++;
          const target = join(ROOT, m[1]!);
          if (!existsSync(target)) problems.push(`${rel(file)}:${i + 1}: ${m[0]}: no such file in the repository`);
          else if (m[2] !== undefined && target.endsWith(".md") && !anchorsOf(target).has(m[2])) problems.push(`${rel(file)}:${i + 1}: ${m[0]}: ${m[1]} has no anchor "${m[2]}"`);
        }
      });
    }
    expect(links).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("points nowhere outside the repository for protocol facts (catalog files, their entity section ids)", () => {
    const problems: string[] = [];
    for (const file of files) {
      lines(file).forEach((text, i) => {
        if (/\b(?:PROTOCOL|COMMANDS|SOURCES)\.md\b|\.\.\/shared\/|\(E\d{1,2}\)/.test(text)) problems.push(`${rel(file)}:${i + 1}: ${text.trim().slice(0, 120)}`);
      });
    }
    expect(problems).toEqual([]);
  });
});
