/**
 * Generator timings: full generation (load -> write into a temp dir) and `--check` against the committed
 * generated/, each measured in-process (warm) and as a fresh `openflow-spec generate` process (cold, including
 * module loading). Targets: < 5 s each on the 2-core box. Run: `npx tsx bench/generate.ts [--runs N]`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../cli/generate.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runsArg = process.argv.indexOf("--runs");
const runs = Math.max(1, Math.min(20, runsArg >= 0 ? Number(process.argv[runsArg + 1]) || 3 : 3));
const TARGET_MS = 5000;
const quiet = { stdout: () => undefined, stderr: (t: string) => void process.stderr.write(t) };

function stats(samples: number[]): { min: number; median: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

async function timeIt(fn: () => Promise<void> | void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

const out = mkdtempSync(join(tmpdir(), "openflow-bench-gen-"));
const base = ["--schemas", join(root, "schemas"), "--templates", join(root, "templates")];
try {
  const rows: [string, number[]][] = [];
  rows.push([
    "generate, in-process (warm)",
    await timeIt(async () => {
      if ((await main([...base, "--out", join(out, "generated")], quiet)) !== 0) throw new Error("generate failed");
    }),
  ]);
  rows.push([
    "check, in-process (warm)",
    await timeIt(async () => {
      if ((await main([...base, "--out", join(root, "generated"), "--check"], quiet)) !== 0) throw new Error("generated/ is stale: run npm run generate");
    }),
  ]);
  const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
  rows.push([
    "generate, fresh process (cold)",
    await timeIt(() => {
      execFileSync(process.execPath, [tsx, join(root, "cli/main.ts"), "generate", ...base, "--out", join(out, "generated-cold")], { stdio: "ignore", timeout: 60_000 });
    }),
  ]);
  rows.push([
    "check, fresh process (cold)",
    await timeIt(() => {
      execFileSync(process.execPath, [tsx, join(root, "cli/main.ts"), "generate", ...base, "--out", join(root, "generated"), "--check"], { stdio: "ignore", timeout: 60_000 });
    }),
  ]);

  process.stdout.write(`generator benchmark (${runs} runs each, target < ${TARGET_MS} ms)\n\n`);
  process.stdout.write(`${"case".padEnd(32)} ${"min ms".padStart(8)} ${"median".padStart(8)} ${"max ms".padStart(8)}  target\n`);
  let over = 0;
  for (const [name, samples] of rows) {
    const s = stats(samples);
    const ok = s.median < TARGET_MS;
    if (!ok) over++;
    process.stdout.write(`${name.padEnd(32)} ${s.min.toFixed(0).padStart(8)} ${s.median.toFixed(0).padStart(8)} ${s.max.toFixed(0).padStart(8)}  ${ok ? "ok" : "OVER"}\n`);
  }
  process.exitCode = over === 0 ? 0 : 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
