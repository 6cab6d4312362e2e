/** `npm run docs:diff-rules`: rewrites the rule table in docs/ci.md from diff/rules.ts. */
import { readFileSync, writeFileSync } from "node:fs";
import { withRulesTable } from "./rules-markdown.js";

const file = new URL("../docs/ci.md", import.meta.url);
const before = readFileSync(file, "utf8");
const after = withRulesTable(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(after === before ? "docs/ci.md rule table is up to date\n" : "docs/ci.md rule table rewritten\n");
