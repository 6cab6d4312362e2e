import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { generateFiles } from "../generator/generate.js";
import { checkOutput } from "../generator/write.js";

const root = resolve(import.meta.dirname, "..");

describe("generated/ is up to date with schemas/", () => {
  it("matches what the generator would write (run `npm run generate` after editing schemas)", async () => {
    const files = await generateFiles({ schemasDir: resolve(root, "schemas"), templatesDir: resolve(root, "templates") });
    const result = await checkOutput(files, resolve(root, "generated"));
    expect(result, "stale generated/ output: run `npm run generate`").toEqual({ changed: [], missing: [], extra: [] });
  });
});
