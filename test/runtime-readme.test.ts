/**
 * The README's runtime example, run exactly as written: the code block is read from README.md, saved at the
 * repository root (its imports are `./runtime/index.js` and `./server/index.js`) and run with tsx in a child
 * process, so the README cannot rot.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { ROOT } from "./fixtures/generator/helpers.js";

const run = promisify(execFile);
const file = join(ROOT, `.readme-example-${process.pid}.ts`);

afterAll(async () => {
  await rm(file, { force: true });
});

function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.indexOf("#### Example");
  expect(section, "README.md has a '#### Example' section").toBeGreaterThan(0);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  expect(match, "the Example section has a ts code block").not.toBeNull();
  return match?.[1] ?? "";
}

it("the README example runs as shown", async () => {
  const code = readmeExample();
  expect(code).toContain('from "./runtime/index.js"');
  await writeFile(file, code);
  const { stdout } = await run(process.execPath, ["--import", "tsx", file], { cwd: ROOT, timeout: 30_000 });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe("notes: [ 'hello' ]");
  expect(lines[1]).toMatch(/^consuming \S+/);
  expect(lines.at(-1)).toMatch(/^server does not know it: Unknown command nosuchcommand/);
}, 40_000);
