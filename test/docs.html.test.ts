/**
 * The HTML reference (generated/docs/html/index.html, written and drift-checked by `npm run generate`) opened from
 * disk in headless Chromium with every network request refused: every command of schemas/commands/ and every shared
 * type is listed, the search box finds a command by name and Enter opens it, and every link resolves (in-page
 * anchors to an element, relative links to a file of the repository, guide anchors to a section).
 *
 * Needs Chromium (Debian package `chromium`); skipped without it except under CI=true, like runtime-browser.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./fixtures/generator/helpers.js";

const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const haveChromium = existsSync(executablePath);
const HTML = join(ROOT, "generated", "docs", "html", "index.html");

const commandNames = readdirSync(join(ROOT, "schemas", "commands"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => (JSON.parse(readFileSync(join(ROOT, "schemas", "commands", f), "utf8")) as { "x-openflow": { command: string } })["x-openflow"].command)
  .sort();
const typePages = readdirSync(join(ROOT, "generated", "docs", "types")).length;

describe.skipIf(!haveChromium && process.env["CI"] !== "true")("HTML reference in headless Chromium", () => {
  let browser: Browser | undefined;
  let tab: Page;
  const errors: string[] = [];
  const refused: string[] = [];

  beforeAll(async () => {
    expect(haveChromium, `Chromium not found at ${executablePath} (install the Debian package chromium)`).toBe(true);
    browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 30_000,
    });
    tab = await browser.newPage();
    tab.on("pageerror", (err) => errors.push(err.message));
    // Everything is inline: any request that is not the page itself is refused and recorded.
    await tab.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:") && url.split("#")[0] === pathToFileURL(HTML).href) return route.continue();
      refused.push(url);
      return route.abort();
    });
    await tab.goto(pathToFileURL(HTML).href);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const visible = (list: string): Promise<string[]> =>
    tab.$$eval(`${list} li:not([hidden]) a`, (links) => links.map((a) => a.textContent ?? ""));

  it("lists every command of schemas/commands and every shared type", async () => {
    expect(commandNames.length).toBeGreaterThan(0);
    expect((await visible("#command-list")).sort()).toEqual(commandNames);
    expect(await tab.$$eval("#type-list li", (items) => items.length)).toBe(typePages);
    // The start page is the index; command sections are hidden until opened.
    expect(await tab.isVisible("#home")).toBe(true);
    expect(await tab.isVisible("#command-query")).toBe(false);
  });

  it("finds a command by name and opens it with Enter", async () => {
    await tab.fill("#search", "popworkitem");
    const found = await visible("#command-list");
    expect(found).toContain("popworkitem");
    expect(found).not.toContain("query");
    await tab.press("#search", "Enter");
    await tab.waitForFunction(() => location.hash === "#command-popworkitem");
    expect(await tab.isVisible("#command-popworkitem")).toBe(true);
    expect(await tab.textContent("#command-popworkitem h1")).toBe("popworkitem");
    expect(await tab.isVisible("#home")).toBe(false);

    // A shared type linked from a field opens its own section.
    await tab.click('#command-popworkitem a[href="#type-StoredWorkitem"]');
    await tab.waitForFunction(() => location.hash === "#type-StoredWorkitem");
    expect(await tab.isVisible("#type-StoredWorkitem")).toBe(true);

    await tab.fill("#search", "no-such-command-anywhere");
    expect(await visible("#command-list")).toEqual([]);
    expect(await tab.isVisible("#no-match")).toBe(true);
    await tab.fill("#search", "");
    expect((await visible("#command-list")).length).toBe(commandNames.length);
  });

  it("resolves every internal link", async () => {
    const links = await tab.$$eval("a[href]", (anchors) =>
      anchors.map((a) => {
        const href = a.getAttribute("href") ?? "";
        return { href, url: (a as HTMLAnchorElement).href, target: href.startsWith("#") ? document.getElementById(decodeURIComponent(href.slice(1))) !== null : null };
      }),
    );
    expect(links.length).toBeGreaterThan(commandNames.length);
    const problems: string[] = [];
    const guideAnchors = new Set([...readFileSync(join(ROOT, "docs", "protocol.md"), "utf8").matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    for (const { href, url, target } of links) {
      if (href.startsWith("#")) {
        if (!target) problems.push(`${href}: no element with that id`);
      } else if (url.startsWith("file:")) {
        const [path, fragment] = url.split("#") as [string, string | undefined];
        const file = fileURLToPath(path);
        if (!file.startsWith(ROOT) || !existsSync(file)) problems.push(`${href}: no such file in the repository`);
        else if (file === join(ROOT, "docs", "protocol.md") && fragment && !guideAnchors.has(fragment)) problems.push(`${href}: no such section in the guide`);
      } else if (!url.startsWith("https://")) problems.push(`${href}: unexpected link`);
    }
    expect(problems).toEqual([]);
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
  });
});
