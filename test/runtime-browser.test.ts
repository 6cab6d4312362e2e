/**
 * The runtime in a real browser: runtime/index.ts is bundled for the browser platform (a Node built-in or `ws`
 * anywhere on the import graph fails the bundle), loaded into headless Chromium from a loopback page, and used
 * against the local server through the browser's native WebSocket: sign in, insert, query, a watch event.
 *
 * Needs Chromium (Debian package `chromium`; .ci/run installs it). Without it the test is skipped locally, but
 * fails under CI=true so CI can never pass without running it.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../server/index.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const haveChromium = existsSync(executablePath);

describe.skipIf(!haveChromium && process.env["CI"] !== "true")("runtime in a browser (headless Chromium)", () => {
  let bundle = "";
  let page: Server;
  let pageUrl = "";
  let server: RunningServer;
  let browser: Browser | undefined;

  beforeAll(async () => {
    expect(haveChromium, `Chromium not found at ${executablePath} (install the Debian package chromium)`).toBe(true);
    // The client plus the validation entry, as an app that turns validation on imports them.
    const result = await build({
      stdin: { contents: 'export * from "./runtime/index.ts";\nexport { validators } from "./runtime/validate.ts";\n', resolveDir: ROOT, loader: "ts" },
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    bundle = result.outputFiles[0]?.text ?? "";
    page = createServer((req, res) => {
      if (req.url === "/runtime.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
      } else {
        // A strict CSP: no eval, so the precompiled validators and the runtime must work without it.
        res.writeHead(200, { "content-type": "text/html", "content-security-policy": "script-src 'self' 'unsafe-inline'" });
        res.end("<!doctype html><title>openflow-spec</title>");
      }
    });
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    server = await startServer({ users: [{ username: "web", password: "web-pw", roles: ["admins"] }] });
    browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((resolve) => page?.close(resolve));
  });

  it("bundles for the browser without Node built-ins or ws", () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/from\s*["'](node:|ws["'])/);
    expect(bundle).not.toMatch(/require\(["'](node:)?(net|tls|http|https|fs|crypto|ws)["']\)/);
  });

  it("signs in, inserts, queries and receives a watch event over the browser's WebSocket", async () => {
    const tab = await browser!.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (err) => errors.push(err.message));
    await tab.goto(pageUrl);
    // Plain text, not a function: vitest would rewrite a dynamic import inside a function body.
    const script = `
      const { connect, validators } = await import(${JSON.stringify(`${pageUrl}runtime.js`)});
      const client = await connect(${JSON.stringify(server.url)}, { username: "web", password: "web-pw", logLevel: "error", validation: "strict", validators });
      const typo = await client.query({ collectionname: "entities", query: {}, tpo: 1 }).then(() => "sent", (e) => e.code);
      const events = [];
      let seen;
      const arrived = new Promise((resolve) => (seen = resolve));
      await client.watchCollection("entities", [], (change) => { events.push(String(change.operationType)); seen(); });
      await client.insertOne({ collectionname: "entities", item: { _type: "browser", name: "from chromium" } });
      const found = await client.query({ collectionname: "entities", query: { _type: "browser" } });
      await Promise.race([arrived, new Promise((_r, reject) => setTimeout(() => reject(new Error("no watch event within 5 s")), 5000))]);
      const out = { user: client.user && client.user.username, names: (found.result || []).map((d) => d.name), events, native: typeof WebSocket, typo };
      client.close();
      return out;`;
    const result = await tab.evaluate(`(async () => {${script}})()`);
    expect(errors).toEqual([]);
    expect(result).toEqual({ user: "web", names: ["from chromium"], events: ["insert"], native: "function", typo: "validation" });
  }, 30_000);
});
