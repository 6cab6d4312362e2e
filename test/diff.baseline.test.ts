/**
 * The spec check CI runs: the working tree's schemas/ against the released baseline (spec/baseline/), with the
 * maintainer's acknowledged breaks; and the rule table of docs/ci.md against diff/rules.ts.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { acknowledgedBy, diffSpecs, judge, loadDirectory, readAcknowledged, verdict } from "../diff/index.js";
import { withRulesTable } from "../diff/rules-markdown.js";

const root = resolve(import.meta.dirname, "..");

describe("spec compatibility with the baseline", () => {
  it("schemas/ has no unacknowledged breaking change since spec/baseline/ (npm run diff:accept acknowledges one, see docs/ci.md)", async () => {
    const acknowledged = readAcknowledged(join(root, "spec", "acknowledged-breaks.json"));
    const outcome = judge(diffSpecs(await loadDirectory(join(root, "spec", "baseline")), await loadDirectory(join(root, "schemas"))), {
      acknowledged: acknowledgedBy(acknowledged),
    });
    const failing = outcome.findings.filter((f) => f.failing).map((f) => `${f.rule} ${f.command} ${f.pointer || "(command)"}: ${verdict(f)}: ${f.message}`);
    expect(failing, "unacknowledged breaking changes (run `npm run diff:accept`, review, commit)").toEqual([]);
  });
});

describe("docs/ci.md", () => {
  it("holds the rule table generated from diff/rules.ts (npm run docs:diff-rules)", () => {
    const guide = readFileSync(join(root, "docs/ci.md"), "utf8");
    expect(withRulesTable(guide) === guide, "docs/ci.md rule table is stale: run npm run docs:diff-rules").toBe(true);
  });
});
