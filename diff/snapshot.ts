/**
 * `npm run diff:baseline`, run when a spec version is released: spec/baseline/ becomes a copy of schemas/ and the
 * acknowledged-breaks list is emptied, so the next breaking change is measured against what was released.
 */
import { cpSync, rmSync } from "node:fs";
import { writeAcknowledged } from "./acknowledged.js";

const root = new URL("../", import.meta.url);
const baseline = new URL("spec/baseline/", root);
rmSync(baseline, { recursive: true, force: true });
cpSync(new URL("schemas/", root), baseline, { recursive: true, filter: (src) => !src.endsWith("~") });
writeAcknowledged(new URL("spec/acknowledged-breaks.json", root).pathname, []);
process.stdout.write("spec/baseline/ is now a copy of schemas/; spec/acknowledged-breaks.json is empty\n");
