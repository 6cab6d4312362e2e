/**
 * `openflow-spec generate` with bad directory arguments: each is a usage error (exit 2, message on stderr) that
 * names the option and the path, checked before anything is generated, and nothing on disk changes. The output
 * directory is replaced as a whole, so --out must never be a file, a folder of someone else's files, or overlap
 * the schemas or templates.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../cli/generate.js";
import { captureIo, fixtureTexts, readTree, ROOT, tempDir, writeTree } from "./fixtures/generator/helpers.js";

const TEMPLATES = join(ROOT, "templates");

/** Runs generate and expects exit 2 with a stderr message matching `want` (after the command prefix). */
async function expectUsage(args: string[], want: RegExp): Promise<void> {
  const io = captureIo();
  expect(await main(args, io.io)).toBe(2);
  expect(io.err().replace(/^openflow-spec generate: /, "").trimEnd()).toMatch(want);
}

describe("generate: bad directory arguments", () => {
  it("rejects a missing, non-directory or empty --schemas and a missing --templates", async () => {
    const dir = await tempDir("args");
    const file = join(dir, "file.json");
    await writeFile(file, "{}\n");
    await mkdir(join(dir, "empty"));
    await writeFile(join(dir, "empty", "readme.txt"), "no schemas here\n");
    const out = join(dir, "out");
    const cases: [string[], RegExp][] = [
      [["--schemas", join(dir, "nope")], /^--schemas .*nope: no such directory$/],
      [["--schemas", file], /^--schemas .*file\.json: not a directory$/],
      [["--schemas", join(dir, "empty")], /^--schemas .*empty: no \*\.json schema files in this directory$/],
      [["--schemas", join(ROOT, "schemas"), "--templates", join(dir, "nope")], /^--templates .*nope: no such directory$/],
    ];
    for (const [args, want] of cases) {
      await expectUsage([...args, "--out", out, ...(args.includes("--templates") ? [] : ["--templates", TEMPLATES])], want);
    }
    expect((await readTree(dir)).has("out/.gitattributes")).toBe(false);
  });

  it("refuses an --out that is a file, holds foreign files, or overlaps the schemas or templates", async () => {
    const dir = await tempDir("out");
    const schemas = join(dir, "schemas");
    await writeTree(schemas, await fixtureTexts("basic"));
    const file = join(dir, "notes.txt");
    await writeFile(file, "keep me\n");
    const foreign = join(dir, "mine");
    await writeTree(foreign, new Map([["keep.txt", "keep me too\n"]]));
    const before = await readTree(dir);
    const cases: [string, RegExp][] = [
      [file, /^--out .*notes\.txt: exists and is not a directory/],
      [foreign, /^--out .*mine: holds files that openflow-spec generate did not write/],
      [join(schemas, "commands"), /^--out .*commands: overlaps --schemas/],
      [dir, /^--out .*: overlaps --schemas/],
    ];
    for (const [out, want] of cases) {
      await expectUsage(["--schemas", schemas, "--templates", TEMPLATES, "--out", out], want);
    }
    expect(await readTree(dir)).toEqual(before);
    // A new directory, then the same one again (it now carries the marker), are fine.
    const fresh = join(dir, "generated");
    expect(await main(["--schemas", schemas, "--templates", TEMPLATES, "--out", fresh], captureIo().io)).toBe(0);
    expect(await main(["--schemas", schemas, "--templates", TEMPLATES, "--out", fresh], captureIo().io)).toBe(0);
  });

  it("exits 2 with one line on stderr through the dispatcher", () => {
    const r = spawnSync("node_modules/.bin/tsx", ["cli/main.ts", "generate", "--check", "--schemas", "does/not/exist"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("openflow-spec generate: --schemas does/not/exist: no such directory\n");
  });
});
