/**
 * Emits `docs/html/index.html`: the Markdown reference of `emitDocs` rendered with `marked` into one static page
 * (no server, no network: styles and script inline) with a search box, the command list and the shared types.
 * Every Markdown page becomes one `<section>`; links between pages become in-page anchors, links to other files of
 * the repository are rewritten relative to the page. Raw HTML inside the Markdown is shown as text.
 */
import Handlebars from "handlebars";
import { Marked, type Tokens } from "marked";
import { posix } from "node:path";
import type { Templates } from "./docs.js";
import { markdownHeader } from "./header.js";

export const HTML_PAGE = "docs/html/index.html";

/** Section id of a Markdown page of the reference, or undefined for any other path (relative to `generated/`). */
export function sectionId(path: string): string | undefined {
  if (path === "docs/README.md") return "home";
  if (path === "docs/migration.md") return "migration";
  if (path === "docs/migration.md") return "migration";
  const command = /^docs\/commands\/([^/]+)\.md$/.exec(path);
  if (command) return `command-${command[1]}`;
  const type = /^docs\/types\/([^/]+)\.md$/.exec(path);
  return type ? `type-${type[1]}` : undefined;
}

const escapeHtml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Where a link of the page at `from` (relative to `generated/`) points in the single HTML page. */
function rewriteHref(href: string, from: string, pages: ReadonlySet<string>): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#")) return href;
  const hash = href.indexOf("#");
  const path = hash < 0 ? href : href.slice(0, hash);
  const fragment = hash < 0 ? "" : href.slice(hash);
  const target = posix.normalize(posix.join(posix.dirname(from), path));
  if (pages.has(target)) return `#${sectionId(target)}`;
  const relative = posix.relative(posix.dirname(HTML_PAGE), target) + (path.endsWith("/") ? "/" : "");
  return relative + fragment;
}

export function emitHtml(docs: ReadonlyMap<string, string>, templates: Templates): Map<string, string> {
  const template = templates.get("reference.html.hbs");
  if (template === undefined) throw new Error("template templates/reference.html.hbs is missing");
  const pages = new Set([...docs.keys()].filter((p) => sectionId(p) !== undefined));
  let current = "";
  const marked = new Marked({
    gfm: true,
    async: false,
    walkTokens(token) {
      if (token.type === "link" || token.type === "image") (token as Tokens.Link).href = rewriteHref((token as Tokens.Link).href, current, pages);
    },
    renderer: {
      html(token: Tokens.HTML | Tokens.Tag): string {
        return escapeHtml(token.text);
      },
    },
  });
  const render = (path: string): string => {
    current = path;
    const text = (docs.get(path) ?? "").replace(/^<!--.*?-->\n/, "");
    return marked.parse(text, { async: false });
  };
  const titleOf = (path: string): string => /^# `?([^`\n]+)`?/m.exec(docs.get(path) ?? "")?.[1] ?? path;
  const purposeOf = (path: string): string => (docs.get(path) ?? "").split("\n").find((l) => l.startsWith("| Purpose |"))?.slice(11, -2).trim() ?? "";
  const sorted = [...pages].sort();
  const commands = sorted.filter((p) => p.startsWith("docs/commands/"));
  const types = sorted.filter((p) => p.startsWith("docs/types/"));
  const entry = (path: string): Record<string, string | boolean> => ({
    id: sectionId(path) ?? "",
    name: titleOf(path),
    search: `${titleOf(path)} ${purposeOf(path)}`.toLowerCase(),
    deprecated: (docs.get(path) ?? "").includes("> **Deprecated.**"),
  });

  const hbs = Handlebars.create();
  const page = hbs.compile(template, { strict: false });
  const html = page({
    header: markdownHeader("schemas/ (the Markdown reference in generated/docs/)").trimEnd(),
    commands: commands.map(entry),
    types: types.map(entry),
    sections: ["docs/README.md", "docs/migration.md", ...commands, ...types].filter((p) => pages.has(p)).map((p) => ({ id: sectionId(p), html: render(p) })),
  });
  return new Map([[HTML_PAGE, html.replace(/[ \t]+\n/g, "\n").trimEnd() + "\n"]]);
}
