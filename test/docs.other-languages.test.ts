/**
 * docs/other-languages.md runs as written: its blocks are executed in order in a fresh project directory, the way a
 * reader would. A block after `<!-- snippet: file NAME -->` is saved as NAME; every `sh` block is run with `sh -e`,
 * except one whose `<!-- snippet: skip (reason) -->` does not name this test (it needs the registry). The blocks
 * that need the prepared project name this test in their skip reason, so the generic docs snippet runner leaves
 * them to it. The project looks
 * like the reader's: `openflow-spec-tools` installed (node_modules/.bin/openflow-spec runs this repository's CLI),
 * `@asyncapi/parser` and `@asyncapi/modelina` installed (this repository's copies), and the clone's `spec/`.
 * Then the guide's claims about the Modelina output are checked on what the snippets produced.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const guide = readFileSync(join(root, "docs/other-languages.md"), "utf8");
const havePython = spawnSync("python3", ["--version"]).status === 0;

interface Block {
  lang: string;
  code: string;
  file?: string;
  skip?: string;
  line: number;
}

/** The fenced blocks of a Markdown text with the snippet marker on the line before each, if any. */
function blocksOf(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i] as string);
    const marker = /^<!-- snippet: (file (\S+)|skip \((.+)\)) -->$/.exec(lines[start - 1] ?? "");
    blocks.push({
      lang: open[1] ?? "",
      code: `${body.join("\n")}\n`,
      line: start + 1,
      ...(marker?.[2] !== undefined ? { file: marker[2] } : {}),
      ...(marker?.[3] !== undefined ? { skip: marker[3] } : {}),
    });
  }
  return blocks;
}

describe.skipIf(!havePython && process.env["CI"] !== "true")("docs/other-languages.md snippets", () => {
  const work = mkdtempSync(join(tmpdir(), "openflow-other-languages-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("every block is a file, a shell command or marked skip with a reason", () => {
    const blocks = blocksOf(guide);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const b of blocks) expect(b.file !== undefined || b.skip !== undefined || b.lang === "sh", `line ${b.line}`).toBe(true);
  });

  it("runs every block in order in a fresh project", { timeout: 300_000 }, () => {
    writeFileSync(join(work, "package.json"), `${JSON.stringify({ name: "reader-project", private: true, type: "commonjs" })}\n`);
    mkdirSync(join(work, "node_modules/.bin"), { recursive: true });
    symlinkSync(join(root, "node_modules/@asyncapi"), join(work, "node_modules/@asyncapi"));
    symlinkSync(join(root, "spec"), join(work, "spec"));
    const cli = join(work, "node_modules/.bin/openflow-spec");
    writeFileSync(cli, `#!/bin/sh\nexec "${join(root, "node_modules/.bin/tsx")}" "${join(root, "cli/main.ts")}" "$@"\n`);
    chmodSync(cli, 0o755);
    for (const block of blocksOf(guide)) {
      if (block.skip !== undefined && !block.skip.includes("test/docs.other-languages.test.ts")) continue;
      if (block.file !== undefined) {
        writeFileSync(join(work, block.file), block.code);
        continue;
      }
      const run = spawnSync("sh", ["-e", "-c", block.code], { cwd: work, encoding: "utf8", timeout: 240_000, stdio: ["ignore", "pipe", "pipe"] });
      expect(run.status, `docs/other-languages.md line ${block.line}: ${block.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
    }
    // What the guide says about the output is what the snippets produced.
    const models = readdirSync(join(work, "models")).filter((m) => m.endsWith(".py"));
    expect(models).toContain("query_request.py");
    expect(models.some((m) => /^anonymous_schema\d+\.py$/.test(m))).toBe(true);
    const common = models.map((m) => readFileSync(join(work, "models", m), "utf8")).find((t) => t.includes("trace_id"));
    expect(common).toMatch(/input\['trace_id'\]/);
    expect(common).not.toContain("'traceId'");
    expect(existsSync(join(work, "asyncapi.json"))).toBe(true);
  });
});
