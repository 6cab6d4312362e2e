/**
 * Fuzz benchmark: a longer `openflow-spec fuzz` run against `serve` than `npm test` affords, in both error styles
 * and at three package sizes, with several seeds; prints requests per second and every failure. Exits 1 when
 * anything is found (a failure here is a bug in `serve` or in the spec: fix it, or list it as a known difference in
 * docs/testing-servers.md), so it also serves as the long regression run of the fuzzer.
 *
 *   npx tsx bench/fuzz.ts            about 5 x 60 s
 *   npx tsx bench/fuzz.ts --quick    5 x 10 s (smoke)
 */
import { runCommand, type CliIo } from "../cli/command.js";
import { command as fuzzCommand } from "../cli/fuzz.js";
import { startServer } from "../server/index.js";
import type { ErrorStyle } from "../server/options.js";

const quick = process.argv.includes("--quick");
const seconds = quick ? 10 : 60;
const runs: { errorStyle: ErrorStyle; packageSize: number; seed: number }[] = [
  { errorStyle: "latest", packageSize: 25_000, seed: 1001 },
  { errorStyle: "2021", packageSize: 25_000, seed: 1002 },
  { errorStyle: "latest", packageSize: 150, seed: 1003 },
  { errorStyle: "2021", packageSize: 300, seed: 1004 },
  { errorStyle: "latest", packageSize: 4096, seed: 1005 },
];

const users = [
  { username: "alice", password: "bench-alice" },
  { username: "bob", password: "bench-bob" },
];

let failed = 0;
process.stdout.write(`| error style | package size | seed | requests | seconds | requests/s | failures |\n|---|---|---|---|---|---|---|\n`);
for (const run of runs) {
  const server = await startServer({ users, errorStyle: run.errorStyle, packageSize: run.packageSize });
  let stdout = "";
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => process.stderr.write(t) };
  const code = await runCommand(fuzzCommand, [server.url, "--user", "alice:bench-alice", "--user", "bob:bench-bob", "--seed", String(run.seed), "--requests", "1000000", "--duration", String(seconds), "--format", "json"], io);
  await server.close();
  const report = JSON.parse(stdout) as { requests: number; durationMs: number; failures: { invariant: string; command: string; message: string; steps: { note: string }[] }[] };
  const s = report.durationMs / 1000;
  process.stdout.write(`| ${run.errorStyle} | ${run.packageSize} | ${run.seed} | ${report.requests} | ${s.toFixed(1)} | ${(report.requests / s).toFixed(0)} | ${report.failures.length} |\n`);
  for (const f of report.failures) process.stdout.write(`  ${f.invariant} ${f.command}: ${f.message}\n    ${f.steps.map((st) => st.note).join("\n    ")}\n`);
  if (code !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
