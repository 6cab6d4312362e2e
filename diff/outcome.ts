/**
 * The verdict on a diff: the worst severity for clients and for servers, the semver bump the spec needs, and
 * which findings fail the run (at or above `--fail-on`, and not acknowledged by the maintainer).
 */
import { rules, atLeast, worse, type Bump, type Severity } from "./rules.js";
import type { Finding, SpecDiff } from "./spec.js";

export interface JudgedFinding extends Finding {
  /** Listed in the acknowledged-breaks file: reported, but does not fail the run. */
  readonly acknowledged: boolean;
  /** At or above the fail-on threshold for a side, and not acknowledged. */
  readonly failing: boolean;
}

export interface Outcome {
  readonly base: string;
  readonly head: string;
  readonly findings: readonly JudgedFinding[];
  readonly clients: Severity;
  readonly servers: Severity;
  /** Semver part of the spec version to raise: major for any breaking change, minor for additions. */
  readonly bump: Bump | "none";
  readonly failOn: Severity;
  /** No failing finding: exit 0. */
  readonly ok: boolean;
}

export interface JudgeOptions {
  /** Lowest severity that fails (default "error"). */
  failOn?: "error" | "warn";
  /** Whether a finding is acknowledged (default: none is). */
  acknowledged?: (finding: Finding) => boolean;
}

/** The worse severity of a finding over both sides. */
export function worst(f: Pick<Finding, "clients" | "servers">): Severity {
  return worse(f.clients, f.servers);
}

export function judge(diff: SpecDiff, options: JudgeOptions = {}): Outcome {
  const failOn = options.failOn ?? "error";
  const findings = diff.findings.map((f): JudgedFinding => {
    const acknowledged = options.acknowledged?.(f) ?? false;
    return { ...f, acknowledged, failing: !acknowledged && atLeast(worst(f), failOn) };
  });
  let clients: Severity = "safe";
  let servers: Severity = "safe";
  let bump: Bump | "none" = "none";
  const rank = { none: 0, minor: 1, major: 2 } as const;
  for (const f of findings) {
    clients = worse(clients, f.clients);
    servers = worse(servers, f.servers);
    const b: Bump = worst(f) === "error" ? "major" : rules[f.rule].bump;
    if (rank[b] > rank[bump]) bump = b;
  }
  return { base: diff.base, head: diff.head, findings, clients, servers, bump, failOn, ok: !findings.some((f) => f.failing) };
}

/** "breaks clients", "may break servers", "breaks clients, may break servers", "info", "safe". */
export function verdict(f: Pick<Finding, "clients" | "servers">): string {
  const parts: string[] = [];
  const both = f.clients === f.servers;
  for (const side of both ? (["both"] as const) : (["clients", "servers"] as const)) {
    const s = side === "both" ? f.clients : f[side];
    const who = side === "both" ? "clients and servers" : side;
    if (s === "error") parts.push(`breaks ${who}`);
    else if (s === "warn") parts.push(`may break ${who}`);
  }
  if (parts.length > 0) return parts.join(", ");
  return worst(f) === "info" ? "info" : "safe";
}
