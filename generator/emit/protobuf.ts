/**
 * The legacy ↔ protobuf migration map in prose: the "Protobuf" section of every command page and the migration
 * table page (`docs/migration.md`), both read from `x-openflow.protobuf` (one entry per command: the OpenIAP
 * protobuf message the server-latest protobuf path translates onto the same handler, or none).
 */
import type { CommandModel, ProtobufChange, ProtobufMap, SpecModel } from "../model.js";

/** One line of prose per change, in the order the file lists them. */
export function changeText(change: ProtobufChange): string {
  const field = change.field === undefined ? "" : `\`${change.field}\``;
  const where = change.direction === "request" ? "request" : "reply";
  switch (change.kind) {
    case "renamed":
      return `${where}: ${field} is renamed \`${change.to ?? "?"}\``;
    case "moved":
      return `${where}: ${field} moves to \`${change.to ?? "?"}\``;
    case "json-text":
      return `${where}: ${field} is JSON text (a string holding JSON)`;
    case "retyped":
      return `${where}: ${field} is ${change.text ?? "of another type"}`;
    case "dropped":
      return `${where}: ${field} has no protobuf field (not sent, or not received)`;
    case "added":
      return `${where}: ${field} exists only in the protobuf message${change.text ? ` (${change.text})` : ""}`;
    case "not-echoed":
      return `${where}: ${field} is not echoed back`;
    case "note":
      return `${where}: ${change.text ?? ""}`;
  }
}

/** The fields of the command page's "Protobuf" section. */
export function protobufView(c: CommandModel): Record<string, unknown> {
  const p: ProtobufMap = c.protobuf;
  if (p.status === "none") return { status: "none", instead: p.instead };
  return {
    status: p.status,
    command: p.command,
    rpc: p.rpc,
    request: p.request,
    reply: p.reply,
    replyCommand: p.replyCommand,
    changes: p.changes.map(changeText),
    sources: p.sources,
  };
}

const STATUS_TEXT: Readonly<Record<ProtobufMap["status"], string>> = {
  direct: "direct",
  renamed: "renamed",
  reshaped: "reshaped",
  none: "none",
};

/** `docs/migration.md`: every command, its protobuf counterpart and how much changes, with counts. */
export function migrationPage(model: SpecModel, header: string): string {
  const counts = { direct: 0, renamed: 0, reshaped: 0, none: 0 };
  const rows = model.commands.map((c) => {
    const p = c.protobuf;
    counts[p.status]++;
    const name = `[\`${c.name}\`](commands/${c.name}.md)${c.deprecated ? " ⚠️ deprecated" : ""}`;
    if (p.status === "none") return `| ${name} | none | — | ${cell(p.instead)} |`;
    const blocking = p.changes.filter((ch) => ch.kind !== "added" && ch.kind !== "not-echoed" && ch.kind !== "note").length;
    const target = `\`${p.command}\`${p.rpc ? ` (rpc \`${p.rpc}\`)` : ""}: \`${p.request}\`${p.reply ? ` → \`${p.reply}\`` : ""}`;
    return `| ${name} | ${STATUS_TEXT[p.status]} | ${target} | ${blocking === 0 ? "no field changes" : `${blocking} field change${blocking === 1 ? "" : "s"}`} |`;
  });
  const mapped = counts.direct + counts.renamed + counts.reshaped;
  return [
    header,
    "# Legacy ↔ protobuf migration map",
    "",
    "What each legacy command string becomes in the OpenIAP protobuf protocol ([openiap/proto](https://github.com/openiap/proto/tree/537c781eaef53642dd032e3f64638f71173b7528)",
    "at 537c781e, the proto files that server-latest's `@openiap/nodeapi` 0.0.38 ships), as server-latest's protobuf path",
    "(`WebServer.onMessage` in open-rpa/openflow at d9a48a2a) translates it onto the same handler. Each command page has a",
    "**Protobuf** section with the field-level changes and the code they were read from; `openflow-spec migrate-report`",
    "lists them for the commands a captured app really uses ([the migration guide](../../docs/migration.md)).",
    "",
    `${mapped} of ${model.commands.length} commands have a counterpart: ${counts.direct} direct, ${counts.renamed} renamed, ${counts.reshaped} reshaped; ${counts.none} have none.`,
    "",
    "**direct:** same command string, fields unchanged. **renamed:** another command string, fields unchanged. **reshaped:**",
    "fields renamed, moved, dropped, retyped or carried as JSON text. **none:** no protobuf message reaches the handler.",
    "",
    "| Command | Status | Protobuf | Changes |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
