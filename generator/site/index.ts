/**
 * The docs site of this repository, emitted by `npm run generate` into `generated/docs/html/` beside the HTML
 * reference (index.html) and drift-checked with the rest:
 *
 * - `guides/<name>.html`: the README and every `docs/*.md`, rendered with `marked`; headings get GitHub's anchor
 *   ids, links between guides and to the reference become links to the rendered pages, links to other files of
 *   the repository stay relative to the checkout; ```mermaid blocks are rendered to SVG here with
 *   beautiful-mermaid (no DOM, ~2 ms a diagram, nothing runs or downloads in the browser); a
 *   `<!-- snippet: skip (reason) -->` marker becomes a visible note.
 * - `search.html` + `assets/search-index.js`: a minisearch index built here over every guide section (quirks
 *   included), every command page (fields, error texts) and every shared type; `assets/search.js` queries it.
 * - `try.html` + `assets/try.js`: connect to a server (a local `openflow-spec serve` by default), pick a command,
 *   edit its payload (checked against the request schema as you type, fields offered from the schema), send it,
 *   see the reply and every frame. The page script bundles this repository's browser runtime (esbuild, IIFE so
 *   it also runs from `file://`).
 *
 * Only this repository has guides and a browser runtime: the module is left out of the tools package, and the
 * CLI runs it only when `docs/`, `README.md` and `runtime/` sit beside the output folder.
 */
import { build } from "esbuild";
import { renderMermaidSVG } from "beautiful-mermaid";
import { Marked, type Tokens } from "marked";
import MiniSearch from "minisearch";
import { readdir, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { markdownHeader } from "../emit/header.js";
import { sectionId } from "../emit/html.js";
import { SITE_CSS } from "./style.js";

/** Where the site lives under `generated/`; the reference page is its index.html. */
export const SITE_DIR = "docs/html";
/** From a guide page (`generated/docs/html/guides/x.html`) back to the repository root. */
const TO_REPO = "../../../../";

export interface SiteInput {
  /** The repository root (README.md, docs/, runtime/). */
  readonly root: string;
  /** Every other generated file (relative to `generated/`): the Markdown reference is read from it. */
  readonly generated: ReadonlyMap<string, string>;
}

interface Guide {
  /** Repository path: `README.md` or `docs/x.md`. */
  readonly path: string;
  /** Page under the site: `guides/x.html`. */
  readonly page: string;
  readonly title: string;
  readonly text: string;
}

interface SearchDoc {
  id: number;
  title: string;
  url: string;
  kind: "guide" | "command" | "type";
  text: string;
  excerpt: string;
}

const escapeHtml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens (as test/docs.references.test.ts). */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const pageOf = (path: string): string => `guides/${path === "README.md" ? "readme" : posix.basename(path, ".md")}.html`;

/** Plain text of Markdown, for the search index. */
function plain(markdown: string): string {
  return markdown
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`/g, "")
    .replace(/[*_>#|]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Where a link in the guide at `from` (repository path) points on the site, relative to the guides/ folder. */
export function rewriteGuideHref(href: string, from: string, guides: ReadonlySet<string>): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#")) return href;
  const hash = href.indexOf("#");
  const path = decodeURI(hash < 0 ? href : href.slice(0, hash));
  const fragment = hash < 0 ? "" : href.slice(hash);
  const target = posix.normalize(posix.join(posix.dirname(from), path)) + (path.endsWith("/") ? "/" : "");
  if (guides.has(target)) return posix.basename(pageOf(target)) + fragment;
  const reference = target.startsWith("generated/") ? sectionId(target.slice("generated/".length)) : undefined;
  if (reference !== undefined) return `../index.html#${reference}`;
  return TO_REPO + encodeURI(target) + fragment;
}

function diagram(code: string): string {
  // The SVG imports a web font; the site downloads nothing, so the system font is used instead.
  const svg = renderMermaidSVG(code).replace(/@import url\([^)]*\);?/g, "");
  return `<figure class="diagram">${svg}</figure>\n`;
}

function renderGuide(guide: Guide, guides: ReadonlySet<string>): { html: string; sections: { id: string; title: string; text: string }[] } {
  const seen = new Map<string, number>();
  const headingId = (text: string): string => {
    const base = slug(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}-${n}`;
  };
  const marked = new Marked({
    gfm: true,
    async: false,
    walkTokens(token) {
      if (token.type === "link" || token.type === "image") (token as Tokens.Link).href = rewriteGuideHref((token as Tokens.Link).href, guide.path, guides);
    },
    renderer: {
      heading(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Heading): string {
        const id = headingId(token.text);
        return `<h${token.depth} id="${escapeHtml(id)}"><a class="anchor" href="#${escapeHtml(id)}" aria-hidden="true">#</a>${this.parser.parseInline(token.tokens)}</h${token.depth}>\n`;
      },
      code(token: Tokens.Code): string {
        if (token.lang === "mermaid") return diagram(token.text);
        const lang = token.lang ? ` class="language-${escapeHtml(token.lang)}"` : "";
        return `<pre><code${lang}>${escapeHtml(token.text)}</code></pre>\n`;
      },
      html(token: Tokens.HTML | Tokens.Tag): string {
        const text = token.text.trim();
        // Anchors (`<a id="q15"></a>`, inline: the opening and the closing tag come one by one) pass through.
        const anchor = /^<a\s+(id|name)="([^"]+)"\s*>(<\/a>)?$/.exec(text);
        if (anchor) return `<a id="${escapeHtml(anchor[2] ?? "")}">${anchor[3] ?? ""}`;
        if (text === "</a>") return text;
        const skip = /^<!--\s*snippet:\s*skip\s*\((.*)\)\s*-->$/.exec(text);
        if (skip) return `<p class="snippet-skip">Not run by the snippet tests: ${escapeHtml(skip[1] ?? "")}</p>\n`;
        if (/^<!--[\s\S]*-->$/.test(text)) return "";
        return escapeHtml(token.text);
      },
    },
  });
  const html = marked.parse(guide.text, { async: false });
  // Sections for the search index: the page up to its first heading, then each heading down to level 4.
  const sections: { id: string; title: string; text: string }[] = [];
  const ids = new Map<string, number>();
  let current = { id: "", title: guide.title, text: "" };
  let fenced = false;
  for (const line of guide.text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^(#{1,4})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      sections.push(current);
      const base = slug(heading[2] ?? "");
      const n = ids.get(base) ?? 0;
      ids.set(base, n + 1);
      current = { id: n === 0 ? base : `${base}-${n}`, title: `${guide.title} › ${plain(heading[2] ?? "")}`, text: "" };
    } else current.text += `${line}\n`;
  }
  sections.push(current);
  return { html, sections: sections.filter((s) => s.text.trim() !== "" || s.id !== "") };
}

interface Shell {
  title: string;
  /** From the page to the site root: "" or "../". */
  up: string;
  body: string;
  guides: readonly Guide[];
  current?: string;
  scripts?: readonly string[];
}

/** The layout every page of the site shares: a header with the site search, the guide list, the content. */
function shell(s: Shell): string {
  const nav = s.guides
    .map((g) => `<li><a href="${s.up}${g.page}"${g.page === s.current ? ' aria-current="page"' : ""}>${escapeHtml(g.title)}</a></li>`)
    .join("\n");
  const scripts = (s.scripts ?? []).map((src) => `<script src="${s.up}${src}"></script>`).join("\n");
  return `${markdownHeader("README.md, docs/*.md and the reference (the docs site)").trimEnd()}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(s.title)} · openflow-spec</title>
<link rel="stylesheet" href="${s.up}assets/site.css">
</head>
<body>
<header class="site">
<a class="brand" href="${s.up}guides/readme.html">openflow-spec</a>
<nav aria-label="Site"><a href="${s.up}index.html">Reference</a> <a href="${s.up}guides/sequences.html">Diagrams</a> <a href="${s.up}try.html">Try it</a></nav>
<form class="site-search" action="${s.up}search.html" role="search"><input name="q" type="search" placeholder="Search guides, commands, fields, errors" aria-label="Search the docs"></form>
</header>
<div class="layout">
<aside><nav aria-label="Guides"><ul>
${nav}
</ul></nav></aside>
<main>
${s.body}
</main>
</div>
${scripts}
</body>
</html>
`;
}

/** Request fields of a command from its reference page's table (name, type, required, description). */
function requestFields(page: string): { name: string; type: string; required: boolean; description: string }[] {
  const at = page.search(/^## Request\b/m);
  if (at < 0) return [];
  const fields: { name: string; type: string; required: boolean; description: string }[] = [];
  for (const line of page.slice(at).split("\n").slice(1)) {
    if (line.startsWith("## ")) break;
    const m = /^\| `([^`]+)` \| (.*?) \| (yes|no) \| (.*) \|$/.exec(line);
    if (m) fields.push({ name: m[1] ?? "", type: (m[2] ?? "").replace(/\\\|/g, "|"), required: m[3] === "yes", description: plain(m[4] ?? "") });
  }
  return fields;
}

async function bundle(entry: string, root: string): Promise<string> {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "silent",
    absWorkingDir: root,
  });
  const text = result.outputFiles[0]?.text;
  if (text === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return `// Code generated by openflow-spec (esbuild bundle of ${entry}). DO NOT EDIT.\n${text}`;
}

export async function emitSite(input: SiteInput): Promise<Map<string, string>> {
  const names = (await readdir(join(input.root, "docs"))).filter((f) => f.endsWith(".md")).sort();
  const guides: Guide[] = [];
  for (const path of ["README.md", ...names.map((n) => `docs/${n}`)]) {
    const text = await readFile(join(input.root, path), "utf8");
    const title = path === "README.md" ? "Overview" : plain(/^# (.*)$/m.exec(text)?.[1] ?? path);
    guides.push({ path, page: pageOf(path), title, text });
  }
  const paths = new Set(guides.map((g) => g.path));
  const out = new Map<string, string>();
  const docs: SearchDoc[] = [];
  const add = (doc: Omit<SearchDoc, "id" | "excerpt">): void => {
    docs.push({ ...doc, id: docs.length, excerpt: doc.text.slice(0, 160) });
  };
  for (const guide of guides) {
    const { html, sections } = renderGuide(guide, paths);
    out.set(`${SITE_DIR}/${guide.page}`, shell({ title: guide.title, up: "../", body: html, guides, current: guide.page }));
    for (const s of sections) add({ title: s.title, url: `${guide.page}${s.id ? `#${s.id}` : ""}`, kind: "guide", text: plain(s.text) });
  }
  // The reference: one entry per command and per shared type, with its whole page (fields, errors, notes).
  const commands: { name: string; purpose: string; fields: ReturnType<typeof requestFields> }[] = [];
  for (const [path, text] of [...input.generated].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const id = sectionId(path);
    if (id === undefined || id === "home") continue;
    const name = /^# `?([^`\n]+)`?/m.exec(text)?.[1] ?? path;
    const kind = path.startsWith("docs/commands/") ? "command" : "type";
    add({ title: name, url: `index.html#${id}`, kind, text: plain(text.replace(/^<!--.*?-->\n/, "")) });
    if (kind === "command" && /\| Direction \| client → server|\| Direction \| both/.test(text) && !text.includes("> **Deprecated.**")) {
      commands.push({ name, purpose: /^\| Purpose \| (.*) \|$/m.exec(text)?.[1] ?? "", fields: requestFields(text) });
    }
  }
  const options = { fields: ["title", "text"], storeFields: ["title", "url", "kind", "excerpt"], searchOptions: { boost: { title: 3 }, prefix: true } };
  const index = new MiniSearch<SearchDoc>(options);
  index.addAll(docs);
  out.set(`${SITE_DIR}/assets/search-index.js`, `// Code generated by openflow-spec (minisearch index of the docs). DO NOT EDIT.\nwindow.OPENFLOW_SEARCH = ${JSON.stringify({ options, index: index.toJSON() })};\n`);
  out.set(`${SITE_DIR}/assets/commands.js`, `// Code generated by openflow-spec (the commands a client sends, with their request fields). DO NOT EDIT.\nwindow.OPENFLOW_COMMANDS = ${JSON.stringify(commands)};\n`);
  out.set(`${SITE_DIR}/assets/site.css`, SITE_CSS);
  // The reference page (emitted for every spec) links the site only here, where the site exists.
  const reference = input.generated.get(`${SITE_DIR}/index.html`);
  if (reference === undefined || !reference.includes("<!-- site-links -->")) throw new Error(`${SITE_DIR}/index.html has no <!-- site-links --> marker (templates/reference.html.hbs)`);
  // Its links to the guides (up three folders, then docs/NAME.md) open the rendered guide instead of raw Markdown.
  const toGuides = (html: string): string =>
    html.replace(/href="\.\.\/\.\.\/\.\.\/((?:docs\/[\w-]+|README)\.md)(#[^"]*)?"/g, (whole, path: string, fragment: string | undefined) =>
      paths.has(path) ? `href="${pageOf(path)}${fragment ?? ""}"` : whole,
    );
  out.set(
    `${SITE_DIR}/index.html`,
    toGuides(reference.replace("<!-- site-links -->", '<p class="site-links"><a href="guides/readme.html">Guides</a> <a href="search.html">Search everything</a> <a href="try.html">Try it</a></p>')),
  );
  const [searchJs, tryJs] = await Promise.all([bundle("generator/site/browser/search.ts", input.root), bundle("generator/site/browser/try.ts", input.root)]);
  out.set(`${SITE_DIR}/assets/search.js`, searchJs);
  out.set(`${SITE_DIR}/assets/try.js`, tryJs);
  out.set(
    `${SITE_DIR}/search.html`,
    shell({
      title: "Search",
      up: "",
      guides,
      body: `<h1>Search</h1>
<p><input id="q" type="search" placeholder="wiqid, collectionname, Unknown command, Q15 ..." aria-label="Search the docs" autofocus></p>
<p id="count" aria-live="polite"></p>
<ol id="results"></ol>`,
      scripts: ["assets/search-index.js", "assets/search.js"],
    }),
  );
  out.set(
    `${SITE_DIR}/try.html`,
    shell({
      title: "Try it",
      up: "",
      guides,
      body: `<h1>Try it</h1>
<p>Send any command to an OpenFlow server and see the reply and every frame. Start a local one with
<code>npx openflow-spec-tools serve</code> (it prints the admin password), or use any server you may test against.</p>
<form id="connect-form" class="try-grid">
<label>Server <input id="url" value="ws://127.0.0.1:3000/" spellcheck="false"></label>
<label>User <input id="username" value="admin" autocomplete="username"></label>
<label>Password <input id="password" type="password" autocomplete="current-password"></label>
<p><button id="connect" type="submit">Connect</button> <span id="status" aria-live="polite">not connected</span></p>
</form>
<form id="send-form" class="try-grid">
<label>Command <select id="command"></select></label>
<p id="purpose"></p>
<label>Add a field <select id="add-field"><option value="">(the request's fields)</option></select></label>
<div class="wide"><span class="label">Payload (JSON): Ctrl+Space completes a field</span><div id="payload" class="editor"></div></div>
<p id="validation" class="wide" aria-live="polite"></p>
<p><button id="send" type="submit" disabled>Send</button></p>
</form>
<h2>Reply</h2>
<pre id="reply"></pre>
<h2>Frames</h2>
<ol id="frames" class="frames"></ol>`,
      scripts: ["assets/commands.js", "assets/try.js"],
    }),
  );
  return out;
}

/** `files` (the generator's output) with the site's pages added; the site's reference page replaces the plain one. */
export async function withSiteFiles(files: ReadonlyMap<string, string>, root: string): Promise<Map<string, string>> {
  const pages = await emitSite({ root, generated: files });
  return new Map([...files, ...pages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
