import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { generateFiles } from "../generator/generate.js";
import { withSiteFiles } from "../generator/site/index.js";
import { checkOutput } from "../generator/write.js";

const root = resolve(import.meta.dirname, "..");

describe("generated/ is up to date with schemas/", () => {
  it("matches what the generator would write (run `npm run generate` after editing schemas, README.md or docs/)", async () => {
    // In this repository the output also holds the docs site (README.md and docs/*.md rendered), as `npm run generate` writes it.
    const files = await withSiteFiles(await generateFiles({ schemasDir: resolve(root, "schemas"), templatesDir: resolve(root, "templates") }), root);
    const result = await checkOutput(files, resolve(root, "generated"));
    expect(result, "stale generated/ output: run `npm run generate`").toEqual({ changed: [], missing: [], extra: [] });
  });
});
