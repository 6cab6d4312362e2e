/**
 * The fuzz report in four formats: `text` (people), `json` (scripts: one document), `junit` (CI test reports: one
 * test case per flow or batch, failures as failed cases), `github` (GitHub Actions annotations, `::error`).
 */
import type { FuzzFailure, FuzzReport } from "./fuzz.js";

export type ReportFormat = "text" | "json" | "junit" | "github";

function frameLines(f: FuzzFailure, max = 40): string[] {
  const lines = f.frames.slice(0, max).map((fr) => `    ${fr.dir === "c2s" ? ">" : "<"} user${fr.as + 1} ${fr.text.length > 300 ? `${fr.text.slice(0, 300)}... (${fr.text.length} chars)` : fr.text}`);
  if (f.frames.length > max) lines.push(`    ... ${f.frames.length - max} more frames (see the replay file)`);
  return lines;
}

function stepLines(f: FuzzFailure): string[] {
  return f.steps.map((s, i) => `    ${i + 1}. user${s.as + 1} ${s.command}${s.frames ? ` [${s.frames}]` : ""}: ${s.note}`);
}

function summary(r: FuzzReport): string {
  return `openflow-spec fuzz: seed ${r.seed}, ${r.requests} requests, ${r.episodes} sequences, ${(r.durationMs / 1000).toFixed(1)} s, ${r.failures.length} failure${r.failures.length === 1 ? "" : "s"}${r.rateLimited ? `, rate limited ${r.rateLimited} times (backed off)` : ""}, cleanup ${r.cleanup.removed} removed${r.cleanup.failed ? `, ${r.cleanup.failed} NOT removed` : ""}: ${r.failures.length > 0 ? "FAILED" : "ok"}`;
}

function text(r: FuzzReport, replayPaths: ReadonlyMap<FuzzFailure, string>): string {
  const out: string[] = [];
  for (const f of r.failures) {
    out.push(`FAIL ${f.invariant}: ${f.message}`);
    out.push(`  at step ${f.step + 1} of the minimal sequence (${f.steps.length} step${f.steps.length === 1 ? "" : "s"}, ${f.shrinkRuns} shrink runs${f.shrinkBounded ? ", stopped by the shrink bounds" : ""}):`);
    out.push(...stepLines(f));
    out.push("  frames:");
    out.push(...frameLines(f));
    const path = replayPaths.get(f);
    out.push(path ? `  replay: openflow-spec fuzz --replay ${path} <url> --user ...` : "  replay file: give --out DIR to write it");
    out.push("");
  }
  if (r.skipped.length > 0) out.push(`skipped: ${r.skipped.join("; ")}`);
  out.push(`names used: ${r.prefix}* (removed at the end)`);
  out.push(summary(r));
  return `${out.join("\n")}\n`;
}

function json(r: FuzzReport, replayPaths: ReadonlyMap<FuzzFailure, string>): string {
  return `${JSON.stringify(
    {
      version: 1,
      seed: r.seed,
      prefix: r.prefix,
      requests: r.requests,
      durationMs: r.durationMs,
      sequences: r.episodes,
      flows: r.flows,
      skipped: r.skipped,
      randomCommands: r.randomCommands,
      rateLimited: r.rateLimited,
      cleanup: r.cleanup,
      budgetReached: r.budgetReached,
      failures: r.failures.map((f) => ({
        invariant: f.invariant,
        message: f.message,
        command: f.command,
        step: f.step,
        note: f.note,
        steps: f.steps,
        frames: f.frames.map((fr) => ({ user: fr.as + 1, dir: fr.dir, text: fr.text })),
        shrinkRuns: f.shrinkRuns,
        shrinkBounded: f.shrinkBounded,
        replay: replayPaths.get(f) ?? null,
      })),
      ok: r.failures.length === 0,
    },
    null,
    2,
  )}\n`;
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
}

function junit(r: FuzzReport, replayPaths: ReadonlyMap<FuzzFailure, string>): string {
  const cases: string[] = [];
  const failedBy = new Map<string, FuzzFailure[]>();
  for (const f of r.failures) failedBy.set(f.command, [...(failedBy.get(f.command) ?? []), f]);
  for (const name of r.flows) cases.push(`    <testcase classname="openflow-spec.fuzz.flows" name="${xml(name)}"/>`);
  for (const f of r.failures) {
    const body = [...stepLines(f), "frames:", ...frameLines(f), replayPaths.get(f) ? `replay: ${replayPaths.get(f)}` : ""].join("\n");
    cases.push(`    <testcase classname="openflow-spec.fuzz.${xml(f.invariant)}" name="${xml(`${f.command}: ${f.note}`)}">\n      <failure type="${xml(f.invariant)}" message="${xml(f.message)}">${xml(body)}</failure>\n    </testcase>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="openflow-spec fuzz" tests="${cases.length}" failures="${r.failures.length}" time="${(r.durationMs / 1000).toFixed(3)}">\n  <testsuite name="openflow-spec fuzz (seed ${r.seed})" tests="${cases.length}" failures="${r.failures.length}" time="${(r.durationMs / 1000).toFixed(3)}">\n${cases.join("\n")}\n  </testsuite>\n</testsuites>\n`;
}

function github(r: FuzzReport, replayPaths: ReadonlyMap<FuzzFailure, string>): string {
  const esc = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const lines = r.failures.map((f) => `::error title=${esc(`fuzz ${f.invariant}: ${f.command}`).replace(/[:,]/g, (c) => (c === ":" ? "%3A" : "%2C"))}::${esc(`${f.message}\nminimal sequence:\n${stepLines(f).join("\n")}${replayPaths.get(f) ? `\nreplay: ${replayPaths.get(f)}` : ""}`)}`);
  lines.push(summary(r));
  return `${lines.join("\n")}\n`;
}

/** The report in `format`; `replayPaths` gives the file each failure's replay was written to. */
export function formatReport(report: FuzzReport, format: ReportFormat, replayPaths: ReadonlyMap<FuzzFailure, string> = new Map()): string {
  switch (format) {
    case "json":
      return json(report, replayPaths);
    case "junit":
      return junit(report, replayPaths);
    case "github":
      return github(report, replayPaths);
    default:
      return text(report, replayPaths);
  }
}
