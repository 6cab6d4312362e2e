/** `npm run docs:diff-rules`: rewrites the rule table in README.md from diff/rules.ts. */
import { readFileSync, writeFileSync } from "node:fs";
import { withRulesTable } from "./rules-markdown.js";

const file = new URL("../README.md", import.meta.url);
const before = readFileSync(file, "utf8");
const after = withRulesTable(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(after === before ? "README.md rule table is up to date\n" : "README.md rule table rewritten\n");
