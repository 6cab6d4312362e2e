/**
 * Emits Markdown docs with the handlebars templates of `templates/`: `docs/README.md` (index of every command) and
 * `docs/commands/<name>.md`. Handlebars is used for prose only; values are inserted without HTML escaping and table
 * cells are escaped for Markdown by the `cell` helper.
 */
import Handlebars from "handlebars";
import type { CommandModel, FieldModel, PayloadModel, SpecModel } from "../model.js";
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

function commandView(c: CommandModel): Record<string, unknown> {
  const error = c.errors[0] ?? "<message>";
  return {
    ...c,
    header: markdownHeader(`schemas/${c.file}`).trimEnd(),
    directionText: DIRECTION_TEXT[c.direction] ?? c.direction,
    method: hasMethod(c) ? c.methodName : undefined,
    handler: hasHandler(c) ? c.handlerName : undefined,
    request: payloadView(c.request),
    reply: c.reply ? payloadView(c.reply) : undefined,
    errorExample2021: JSON.stringify({ error }),
    errorExampleLatest: JSON.stringify({ message: error, error }),
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
    tidy(index({ header: markdownHeader("schemas/commands/*.json").trimEnd(), commands: model.commands.map(commandView) })),
  );
  for (const c of model.commands) out.set(`docs/commands/${c.name}.md`, tidy(page(commandView(c))));
  return out;
}

/** Collapses runs of blank lines the templates' conditionals leave behind; one trailing newline. */
function tidy(text: string): string {
  return text.replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
