/**
 * The docs site (generated/docs/html/: the guides, search, try it, and the reference) opened from disk in headless
 * Chromium, with every request that is not a file of the site (or the local server's websocket) refused:
 * - search finds guide text, command fields, error texts and quirks (`wiqid`, `collectionname`,
 *   `Unknown command`, `Q15`), and a result opens its page at the right place;
 * - every link of every site page, the reference's included, resolves: a page of the site (and the element its
 *   fragment names), or a file of the repository; no link leads to a Markdown file that has a rendered page (the
 *   reference's links to the protocol guide open the rendered guide);
 * - the sequence diagrams are inline SVG;
 * - at 390 px the content uses the width (no page-wide horizontal scroll, the text column ≥ 340 px), the reference
 *   page too;
 * - try it: connect to a local `openflow-spec serve` (in-process), pick `query`, see the schema check (text and
 *   lint mark) react to a misspelt field, complete a field in the editor, send, and see the reply and the frames.
 *
 * Needs Chromium (Debian package `chromium`); skipped without it except under CI=true, like runtime-browser.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../server/index.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const haveChromium = existsSync(executablePath);
const SITE = join(ROOT, "generated", "docs", "html");
const GUIDES = readdirSync(join(SITE, "guides")).filter((f) => f.endsWith(".html")).sort();
const PAGES = [...GUIDES.map((g) => `guides/${g}`), "search.html", "try.html", "index.html"];
const url = (page: string): string => pathToFileURL(join(SITE, page)).href;

describe.skipIf(!haveChromium && process.env["CI"] !== "true")("docs site in headless Chromium", () => {
  let browser: Browser | undefined;
  let server: RunningServer | undefined;
  const errors: string[] = [];
  const refused: string[] = [];

  async function open(page: string, width = 1200): Promise<Page> {
    if (!browser) throw new Error("no browser");
    const tab = await browser.newPage({ viewport: { width, height: 900 } });
    tab.on("pageerror", (err) => errors.push(`${page}: ${err.message}`));
    await tab.route("**/*", (route) => {
      const target = route.request().url();
      if (target.startsWith("file:") && fileURLToPath(target.split(/[?#]/)[0] ?? "").startsWith(SITE)) return route.continue();
      refused.push(target);
      return route.abort();
    });
    await tab.goto(page.startsWith("file:") ? page : url(page));
    return tab;
  }

  beforeAll(async () => {
    expect(haveChromium, `Chromium not found at ${executablePath} (install the Debian package chromium)`).toBe(true);
    expect(GUIDES).toContain("readme.html");
    browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 30_000,
    });
    server = await startServer({ users: [{ username: "web", password: "web-password", roles: ["admins"] }] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("search finds guide text, fields, error texts and quirks", async () => {
    const tab = await open("search.html");
    const results = async (q: string): Promise<{ title: string; href: string }[]> => {
      await tab.fill("#q", q);
      return tab.$$eval("#results li > a", (links) => links.map((a) => ({ title: a.textContent ?? "", href: a.getAttribute("href") ?? "" })));
    };
    for (const q of ["wiqid", "collectionname", "Unknown command", "websocket_package_size", "allowScripts"]) {
      expect((await results(q)).length, q).toBeGreaterThan(0);
    }
    const quirk = await results("Q15");
    expect(quirk[0]?.title).toMatch(/Q15/);
    expect((await results("Unknown command")).some((r) => r.href.startsWith("index.html#command-"))).toBe(true);
    expect(await results("zzqxnotaword")).toEqual([]);
    expect(await tab.textContent("#count")).toBe("Nothing matches.");
    // A result opens its page at the section: the Q15 section of the protocol guide.
    await results("Q15");
    await tab.click("#results li:first-child > a");
    await tab.waitForURL(/guides\/protocol\.html#q15/);
    expect(await tab.evaluate(() => document.getElementById(decodeURIComponent(location.hash.slice(1)))?.textContent ?? "")).toMatch(/^#?Q15: /);
    // The header's search box of any page leads to the search page with the query.
    const guide = await open("guides/client.html");
    await guide.fill("header input[name=q]", "reconnect");
    await guide.press("header input[name=q]", "Enter");
    await guide.waitForURL(/search\.html\?q=reconnect/);
    expect(await guide.$$eval("#results li", (items) => items.length)).toBeGreaterThan(0);
    await tab.close();
    await guide.close();
  }, 60_000);

  it("resolves every link of every site page; none leads to a Markdown file with a rendered page", async () => {
    const idsOf = new Map<string, Set<string>>();
    const problems: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      const tab = await open(page);
      idsOf.set(page, new Set(await tab.$$eval("[id]", (els) => els.map((e) => e.id))));
      const links = await tab.$$eval("a[href]", (anchors) => anchors.map((a) => ({ href: a.getAttribute("href") ?? "", url: (a as HTMLAnchorElement).href })));
      await tab.close();
      for (const { href, url: target } of links) {
        checked++;
        if (target.startsWith("https://")) continue;
        if (!target.startsWith("file:")) {
          problems.push(`${page}: ${href}: unexpected link`);
          continue;
        }
        const [path, fragment] = target.split("#") as [string, string | undefined];
        const file = fileURLToPath(path.split("?")[0] ?? path);
        if (!file.startsWith(ROOT) || !existsSync(file)) problems.push(`${page}: ${href}: no such file`);
        else if (/\.md$/.test(file) && (file === join(ROOT, "README.md") || file.startsWith(join(ROOT, "docs")) || file.startsWith(join(ROOT, "generated", "docs")))) {
          problems.push(`${page}: ${href}: raw Markdown of a page the site renders`);
        } else if (fragment && file.startsWith(SITE) && file.endsWith(".html")) {
          const rel = file.slice(SITE.length + 1);
          if (!idsOf.has(rel) && rel !== "index.html") {
            const tab = await open(rel);
            idsOf.set(rel, new Set(await tab.$$eval("[id]", (els) => els.map((e) => e.id))));
            await tab.close();
          }
          if (rel === "index.html") {
            if (!readFileSync(file, "utf8").includes(`id="${decodeURIComponent(fragment)}"`)) problems.push(`${page}: ${href}: the reference has no such section`);
          } else if (!idsOf.get(rel)?.has(decodeURIComponent(fragment))) problems.push(`${page}: ${href}: no element with that id`);
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(problems).toEqual([]);
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);

  it("renders the sequence diagrams as inline SVG", async () => {
    const tab = await open("guides/sequences.html");
    const diagrams = await tab.$$eval("figure.diagram svg", (svgs) => svgs.map((s) => s.getBoundingClientRect().height));
    expect(diagrams.length).toBeGreaterThanOrEqual(6);
    for (const height of diagrams) expect(height).toBeGreaterThan(50);
    expect(await tab.$$eval("code.language-mermaid", (c) => c.length)).toBe(0);
    await tab.close();
  });

  it("uses the width of a 390 px screen", async () => {
    for (const page of ["guides/readme.html", "guides/protocol.html", "guides/ci.html", "try.html", "search.html", "index.html"]) {
      const tab = await open(page, 390);
      const layout = await tab.evaluate(() => ({ scroll: document.documentElement.scrollWidth, main: document.querySelector("main")?.getBoundingClientRect().width ?? 0 }));
      expect(layout.scroll, `${page} scrolls sideways`).toBeLessThanOrEqual(390);
      expect(layout.main, `${page}: content column`).toBeGreaterThanOrEqual(340);
      await tab.close();
    }
  }, 60_000);

  it("try it: connects to serve, checks the payload against the schema, sends it, shows reply and frames", async () => {
    if (!server) throw new Error("no server");
    const tab = await open(`${url("try.html")}?url=${encodeURIComponent(server.url)}`);
    // The server's websocket is the one request besides the site's files.
    expect(await tab.inputValue("#url")).toBe(server.url);
    await tab.fill("#username", "web");
    await tab.fill("#password", "web-password");
    await tab.click("#connect");
    await tab.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("signed in as web"), undefined, { timeout: 20_000 });
    await tab.selectOption("#command", "query");
    // The required fields are filled in; a field is offered from the schema; a misspelt one is flagged.
    const payload = async (): Promise<Record<string, unknown>> => JSON.parse(await tab.$eval("#payload .cm-content", (el) => (el as HTMLElement).innerText)) as Record<string, unknown>;
    const type = async (text: string): Promise<void> => {
      await tab.click("#payload .cm-content");
      await tab.keyboard.press("Control+A");
      await tab.keyboard.insertText(text);
    };
    expect(await payload()).toHaveProperty("collectionname");
    await tab.selectOption("#add-field", "top");
    expect(await payload()).toHaveProperty("top", 0);
    await type(JSON.stringify({ collectionname: "users", query: {}, tpo: 1 }));
    await tab.waitForFunction(() => (document.getElementById("validation")?.textContent ?? "").includes("/tpo"));
    // The editor marks the misspelt field (a lint mark on it).
    await tab.waitForSelector("#payload .cm-lintRange-error", { timeout: 5_000 });
    // Completion inside the editor: the request's fields, with their types.
    await type('{"collectionname": "users", "query": {"username": "web"}, }');
    await tab.keyboard.press("ArrowLeft");
    await tab.keyboard.type("to");
    await tab.waitForSelector(".cm-tooltip-autocomplete li", { timeout: 5_000 });
    expect(await tab.$$eval(".cm-tooltip-autocomplete li", (items) => items.map((li) => li.textContent ?? ""))).toContainEqual(expect.stringContaining("top"));
    await tab.keyboard.press("Enter");
    expect(await payload()).toEqual({ collectionname: "users", query: { username: "web" }, top: 0 });
    await type(JSON.stringify({ collectionname: "users", query: { username: "web" }, top: 1 }));
    await tab.waitForFunction(() => document.getElementById("validation")?.textContent === "valid query request");
    await tab.click("#send");
    await tab.waitForFunction(() => (document.getElementById("reply")?.textContent ?? "").includes('"result"'), undefined, { timeout: 20_000 });
    const reply = JSON.parse((await tab.textContent("#reply")) ?? "{}") as { result?: { username?: string }[] };
    expect(reply.result?.[0]?.username).toBe("web");
    const frames = await tab.$$eval("#frames li", (items) => items.map((li) => ({ dir: li.className, text: li.textContent ?? "" })));
    expect(frames.some((f) => f.dir === "out" && f.text.includes('"command":"signin"'))).toBe(true);
    expect(frames.some((f) => f.dir === "out" && f.text.includes('"command":"query"'))).toBe(true);
    expect(frames.some((f) => f.dir === "in" && f.text.includes('"command":"query"'))).toBe(true);
    expect(refused.filter((r) => !r.startsWith("ws:"))).toEqual([]);
    expect(errors).toEqual([]);
    await tab.close();
  }, 60_000);
});
