/**
 * Properties of the generator as a whole: deterministic, idempotent, never mutates its input, and `--check`
 * catches hand edits, missing and extra files.
 */
import { describe, expect, it } from "vitest";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { main } from "../cli/generate.js";
import { generateFromLoaded } from "../generator/generate.js";
import { loadFromTexts } from "../generator/load.js";
import { writeOutput, checkOutput } from "../generator/write.js";
import { captureIo, fixtureTexts, generateTexts, projectTemplates, readTree, ROOT, tempDir, writeTree } from "./fixtures/generator/helpers.js";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

describe("generator properties", () => {
  it("gives byte-identical output across runs and never mutates the (deep-frozen) input", async () => {
    const texts = await fixtureTexts("basic");
    const loaded = loadFromTexts(texts);
    for (const file of loaded.files) deepFreeze(file.json);
    const snapshot = JSON.stringify(loaded.files);
    const templates = await projectTemplates();
    const first = (await generateFromLoaded(loaded, templates)).files;
    const second = (await generateFromLoaded(loaded, templates)).files;
    expect(JSON.stringify(loaded.files)).toBe(snapshot);
    expect([...second.entries()]).toEqual([...first.entries()]);
    // A fresh parse of the same texts gives the same bytes too (no hidden state between runs).
    expect([...(await generateTexts(texts)).entries()]).toEqual([...first.entries()]);
  });

  it("runs on the real schemas with deep-frozen input", async () => {
    const texts = await readTree(join(ROOT, "schemas"));
    const loaded = loadFromTexts(texts);
    for (const file of loaded.files) deepFreeze(file.json);
    const { files, model } = await generateFromLoaded(loaded, await projectTemplates());
    expect(model.commands.length).toBeGreaterThan(0);
    expect(files.get("docs/README.md")).toContain(`(${model.commands.length} commands)`);
  });

  it("is idempotent on disk, and --check reports changed, missing and extra files", async () => {
    const dir = await tempDir("props");
    const schemas = join(dir, "schemas");
    const out = join(dir, "generated");
    await writeTree(schemas, await fixtureTexts("basic"));
    const args = ["--schemas", schemas, "--out", out, "--templates", join(ROOT, "templates")];

    expect(await main(args, captureIo().io)).toBe(0);
    const once = await readTree(out);
    expect(await main(args, captureIo().io)).toBe(0);
    expect(await readTree(out)).toEqual(once);

    const clean = captureIo();
    expect(await main([...args, "--check"], clean.io)).toBe(0);
    expect(clean.out()).toMatch(/up to date/);

    // A hand edit, a deleted file and a stray file are all reported; nothing is written.
    await writeFile(join(out, "client.ts"), (await readFile(join(out, "client.ts"), "utf8")) + "// hand edit\n");
    await rm(join(out, "docs/commands/getthing.md"));
    await writeFile(join(out, "stray.ts"), "export {};\n");
    const before = await readTree(out);
    const stale = captureIo();
    expect(await main([...args, "--check"], stale.io)).toBe(1);
    expect(stale.err()).toMatch(/changed: .*client\.ts/);
    expect(stale.err()).toMatch(/missing: .*docs\/commands\/getthing\.md/);
    expect(stale.err()).toMatch(/extra: +.*stray\.ts/);
    expect(await readTree(out)).toEqual(before);

    // Regenerating repairs all three.
    expect(await main(args, captureIo().io)).toBe(0);
    expect(await readTree(out)).toEqual(once);
  });

  it("writeOutput replaces the directory as a whole and checkOutput agrees afterwards", async () => {
    const dir = await tempDir("write");
    const out = join(dir, "out");
    await writeTree(out, new Map([["old.txt", "old\n"]]));
    const files = new Map([["a.txt", "a\n"], ["nested/b.txt", "b\n"]]);
    await writeOutput(files, out);
    expect(await readTree(out)).toEqual(files);
    expect(await checkOutput(files, out)).toEqual({ changed: [], missing: [], extra: [] });
    await expect(writeOutput(new Map([["../escape.txt", "x"]]), out)).rejects.toThrow(/outside the output directory/);
    expect(await readTree(out)).toEqual(files);
  });

  it("rejects bad arguments with a usage error", async () => {
    for (const [args, want] of [
      [["--nope"], /unknown option '--nope'/],
      [["--chek"], /unknown option '--chek' \(did you mean --check\?\)/],
      [["--schemas"], /--schemas needs a value/],
      [["--schemas="], /--schemas needs a directory/],
    ] as const) {
      const io = captureIo();
      expect(await main([...args], io.io)).toBe(2);
      expect(io.err()).toMatch(want);
    }
    const help = captureIo();
    expect(await main(["--help"], help.io)).toBe(0);
    expect(help.out()).toMatch(/--check/);
  });
});
