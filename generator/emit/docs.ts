/**
 * Emits Markdown docs with the handlebars templates of `templates/`: `docs/README.md` (index of every command) and
 * `docs/commands/<name>.md`. Handlebars is used for prose only; values are inserted without HTML escaping and table
 * cells are escaped for Markdown by the `cell` helper.
 */
import Handlebars from "handlebars";
import type { CommandModel, DefModel, FieldModel, PayloadModel, SpecModel } from "../model.js";
import { hasHandler, hasMethod } from "./client.js";
import { markdownHeader } from "./header.js";

/** Template texts by file name (`README.md.hbs`, `command.md.hbs`, `fields.md.hbs`). */
export type Templates = ReadonlyMap<string, string>;

export const TEMPLATE_FILES = ["README.md.hbs", "command.md.hbs", "fields.md.hbs"] as const;

/** Escapes text for one Markdown table cell. */
export function markdownCell(text: unknown): string {
  return String(text ?? "")
    .replace(/\r?\n+/g, " ")
    .replace(/\|/g, "\\|")
    .trim();
}

function statusText(list: unknown): string {
  return Array.isArray(list) && list.length > 0 ? list.join(", ") : "—";
}

function payloadView(p: PayloadModel): Record<string, unknown> {
  const own = p.fields.filter((f) => f.inheritedFrom === undefined);
  const inherited = p.fields.filter((f): f is FieldModel & { inheritedFrom: string } => f.inheritedFrom !== undefined);
  const from = [...new Set(inherited.map((f) => f.inheritedFrom))].join(", ");
  return { ...p, ownFields: own, inherited, inheritedFrom: from, shapeText: p.shape.replace(/\\\|/g, "|") };
}

const DIRECTION_TEXT: Record<string, string> = {
  c2s: "client → server (`c2s`)",
  s2c: "server → client (`s2c`)",
  both: "either side (`both`)",
};

/** Server status tokens meaning the server answers a client-sent request (so a failure comes back to the client). */
const ANSWERS = new Set(["yes", "echo", "broken", "fails"]);

/**
 * How each server reports a failed `c` request: the server's own style when it answers the command, the
 * unknown-command reply when it does not know a client-started command, nothing when it never answers one.
 */
function errorStyles(c: CommandModel, error: string): string[] {
  const styles: string[] = [];
  for (const label of ["server-2021", "server-latest"] as const) {
    const tokens = c.implementations[label] ?? [];
    const latest = label === "server-latest";
    if (tokens.some((t) => ANSWERS.has(t))) {
      styles.push(
        latest
          ? `server-latest: an \`error\` reply with \`{"message", "error"}\`, e.g. \`${JSON.stringify({ message: error, error })}\``
          : `server-2021: a \`${c.name}\` reply whose payload carries the text in \`error\`, e.g. \`${JSON.stringify({ error })}\``,
      );
    } else if (tokens.length === 0 && c.direction !== "s2c") {
      const unknown = `Unknown command ${c.name}`;
      styles.push(
        `${label}: does not know \`${c.name}\` and answers with an \`error\` reply \`${JSON.stringify(latest ? { message: unknown, error: unknown } : { message: unknown })}\`` +
          (latest ? "" : " (no `error` key, so api-latest resolves it as a success, Q8)"),
      );
    }
  }
  return styles;
}

/** The command's own `$defs` shapes, then the shared shapes its field types name, each with where it is defined. */
function typesView(c: CommandModel, defs: readonly DefModel[]): { name: string; description: string; file: string; pointer: string }[] {
  const view = (d: DefModel): { name: string; description: string; file: string; pointer: string } => ({
    name: d.typeName,
    description: markdownCell((d.schema as { description?: unknown }).description ?? ""),
    file: d.file,
    pointer: d.pointer === "" ? "" : `#${d.pointer}`,
  });
  const local = c.localDefs.map(view);
  const typeTexts = [c.request, ...(c.reply ? [c.reply] : [])].flatMap((p) => p.fields.filter((f) => f.inheritedFrom === undefined).map((f) => f.type));
  const named = new Set(typeTexts.flatMap((t) => t.match(/[A-Z][A-Za-z0-9]*/g) ?? []));
  const localNames = new Set(local.map((d) => d.name));
  const shared = defs.filter((d) => named.has(d.typeName) && !localNames.has(d.typeName)).map(view);
  return [...local, ...shared.sort((a, b) => (a.name < b.name ? -1 : 1))];
}

function commandView(c: CommandModel, defs: readonly DefModel[]): Record<string, unknown> {
  const error = c.errors[0] ?? "<message>";
  return {
    ...c,
    header: markdownHeader(`schemas/${c.file}`).trimEnd(),
    directionText: DIRECTION_TEXT[c.direction] ?? c.direction,
    method: hasMethod(c) ? c.methodName : undefined,
    handler: hasHandler(c) ? c.handlerName : undefined,
    request: payloadView(c.request),
    reply: c.reply ? payloadView(c.reply) : undefined,
    errorStyles: errorStyles(c, error),
    types: typesView(c, defs),
  };
}

export function emitDocs(model: SpecModel, templates: Templates): Map<string, string> {
  // A private handlebars environment per run: no helpers or partials leak between runs.
  const hbs = Handlebars.create();
  hbs.registerHelper("cell", (text: unknown) => markdownCell(text));
  hbs.registerHelper("status", (list: unknown) => statusText(list));
  hbs.registerHelper("json", (value: unknown) => JSON.stringify(value, null, 2));
  hbs.registerHelper("add", (a: unknown, b: unknown) => Number(a) + Number(b));
  const template = (name: (typeof TEMPLATE_FILES)[number]): string => {
    const text = templates.get(name);
    if (text === undefined) throw new Error(`template templates/${name} is missing`);
    return text;
  };
  hbs.registerPartial("fields", template("fields.md.hbs"));
  const options = { noEscape: true, strict: false } as const;
  const index = hbs.compile(template("README.md.hbs"), options);
  const page = hbs.compile(template("command.md.hbs"), options);

  const out = new Map<string, string>();
  out.set(
    "docs/README.md",
    tidy(index({ header: markdownHeader("schemas/commands/*.json").trimEnd(), commands: model.commands.map((c) => commandView(c, model.defs)) })),
  );
  for (const c of model.commands) out.set(`docs/commands/${c.name}.md`, tidy(page(commandView(c, model.defs))));
  return out;
}

/** Collapses runs of blank lines the templates' conditionals leave behind; one trailing newline. */
function tidy(text: string): string {
  return text.replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
