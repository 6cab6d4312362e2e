/**
 * The three renderings of a migration report: `text` for a terminal, `json` for scripts (the documented keys:
 * `commands[]` with `command`, `status`, `protobuf`, `changes[]`, and `summary`), `markdown` for a pull request or
 * a wiki page.
 */
import type { MapChange, MigrationReport, ReportCommand } from "./report.js";

export type MigrationFormat = "text" | "json" | "markdown";

/** One change in words (the same wording as the generated command pages). */
export function describeChange(ch: MapChange): string {
  const field = ch.field === undefined ? "" : `${ch.field}`;
  switch (ch.kind) {
    case "renamed":
      return `${ch.direction} ${field} is renamed ${ch.to ?? "?"}`;
    case "moved":
      return `${ch.direction} ${field} moves to ${ch.to ?? "?"}`;
    case "json-text":
      return `${ch.direction} ${field} is JSON text`;
    case "retyped":
      return `${ch.direction} ${field} is ${ch.text ?? "of another type"}`;
    case "dropped":
      return `${ch.direction} ${field} has no protobuf field`;
    case "added":
      return `${ch.direction} ${field} exists only in protobuf`;
    case "not-echoed":
      return `${ch.direction} ${field} is not echoed back`;
    default:
      return `${ch.direction}: ${ch.text ?? ch.kind}`;
  }
}

function target(c: ReportCommand): string {
  if (!c.protobuf) return c.status === "unknown" ? "not in the spec" : "none";
  const p = c.protobuf;
  return `${p.command}${p.rpc ? ` (rpc ${p.rpc})` : ""}: ${p.request}${p.reply ? ` -> ${p.reply}` : ""}`;
}

function summaryLine(r: MigrationReport): string {
  const s = r.summary;
  return `${s.commands} command${s.commands === 1 ? "" : "s"} in ${s.messages} message${s.messages === 1 ? "" : "s"}: ${s.direct} direct, ${s.renamed} renamed, ${s.reshaped} reshaped, ${s.none} none${s.unknown > 0 ? `, ${s.unknown} unknown` : ""}; ${s.usedChanges} field change${s.usedChanges === 1 ? "" : "s"} touch fields the app uses`;
}

export function formatReport(report: MigrationReport, format: MigrationFormat): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "markdown") return markdown(report);
  const lines: string[] = [];
  for (const c of report.commands) {
    lines.push(`${c.command}  ${c.status}  ${target(c)}  (${c.messages} message${c.messages === 1 ? "" : "s"})`);
    if (c.instead) lines.push(`  instead: ${c.instead}`);
    for (const ch of c.changes) lines.push(`  ${ch.used ? "*" : "-"} ${describeChange(ch)}`);
  }
  lines.push("", summaryLine(report), "(* a field the captured traffic has)");
  return `${lines.join("\n")}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function markdown(r: MigrationReport): string {
  const lines = ["# Migration report: legacy → OpenIAP protobuf", "", summaryLine(r) + ".", "", "| Command | Status | Protobuf | Messages | Changes the app meets |", "|---|---|---|---|---|"];
  for (const c of r.commands) {
    const used = c.changes.filter((ch) => ch.used).map((ch) => cell(describeChange(ch)));
    lines.push(`| \`${c.command}\` | ${c.status} | ${cell(target(c))} | ${c.messages} | ${c.instead ? cell(c.instead) : used.length > 0 ? used.join("<br>") : "none"} |`);
  }
  const detailed = r.commands.filter((c) => c.changes.length > 0);
  if (detailed.length > 0) {
    lines.push("", "## Every field change of these commands", "");
    for (const c of detailed) {
      lines.push(`### \`${c.command}\` → \`${c.protobuf?.command ?? ""}\``, "");
      for (const ch of c.changes) lines.push(`- ${describeChange(ch)}${ch.used ? " (used)" : ""}`);
      lines.push("");
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
