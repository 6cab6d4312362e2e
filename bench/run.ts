/**
 * `npm run bench`: runs every benchmark in its own process, one after another (the box has 2 cores, so
 * running them side by side would only measure contention). Each prints its own table of ratios.
 * Pass names to run a subset: `npm run bench -- client validate`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const all = ["generate", "validate", "client", "proxy", "dos", "fuzz"] as const;
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((name) => !(all as readonly string[]).includes(name));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark(s) ${unknown.join(", ")}; known: ${all.join(", ")}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    process.stderr.write(`bench: ${name}.ts is missing\n`);
    failed += 1;
    continue;
  }
  process.stdout.write(`\n=== bench/${name}.ts ===\n`);
  const result = spawnSync(process.execPath, ["--import", "tsx", "--expose-gc", file], { stdio: "inherit", timeout: 20 * 60_000 });
  if (result.status !== 0) {
    process.stderr.write(`bench: ${name} exited with ${result.status ?? result.signal}\n`);
    failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
