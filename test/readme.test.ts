/**
 * The README stays a front page: at most 10 KB (the guides live in docs/), with the sections the packaging test
 * reads (Install, Quick start), one "next" row per reader, and `npm run demo` only as the repository's own script.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./fixtures/generator/helpers.js";

const README = join(ROOT, "README.md");
const text = readFileSync(README, "utf8");

describe("README.md", () => {
  it("is at most 10 KB", () => {
    expect(statSync(README).size).toBeLessThanOrEqual(10 * 1024);
  });

  it("has what it is, Install, Quick start, Next, in that order", () => {
    const headings = text.split("\n").filter((l) => l.startsWith("## "));
    expect(headings.slice(0, 3)).toEqual(["## Install", "## Quick start", "## Next"]);
  });

  it("links each reader to a guide in docs/", () => {
    const next = text.slice(text.indexOf("## Next"), text.indexOf("\n## ", text.indexOf("## Next") + 1));
    for (const reader of ["app developer", "CI engineer", "testing a server", "protocol maintainer", "another language"]) {
      const row = next.split("\n").find((l) => l.startsWith("|") && l.includes(reader));
      expect(row, reader).toBeDefined();
      expect(row, reader).toMatch(/\]\(docs\/[\w-]+\.md(#[\w-]+)?\)/);
    }
  });

  it("calls npm run demo the repository's script, not the user's first command", () => {
    const at = text.indexOf("npm run demo");
    expect(at).toBeGreaterThan(text.indexOf("## Working on this repository"));
  });
});
