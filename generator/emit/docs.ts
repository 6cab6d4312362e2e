/**
 * Emits the Markdown reference with the handlebars templates of `templates/`: `docs/README.md` (index of every
 * command and shared type), `docs/commands/<name>.md` and `docs/types/<Type>.md` (one page per shared shape of
 * `schemas/defs/`). Handlebars is used for prose only; values are inserted without HTML escaping and table cells
 * are escaped for Markdown by the `cell` helper. Shared type names in field types link to their page, and
 * `docs/protocol.md#<anchor>` citations in schema text become links to the protocol guide.
 */
import { migrationPage, protobufView } from "./protobuf.js";
import Handlebars from "handlebars";
import type { SchemaFile } from "../load.js";
import { collectFields, makeResolver, summarizeType, type CommandModel, type DefModel, type FieldModel, type PayloadModel, type SpecModel } from "../model.js";
import { ID_BASE } from "../validate.js";
import { isObject, type JsonObject } from "../walk.js";
import { hasHandler, hasMethod } from "./client.js";
import { markdownHeader } from "./header.js";
import { parseSourceUrl } from "../../sources/links.js";
import { labelOf } from "../../sources/labels.js";
import type { Claim } from "../model.js";

/** Template texts by file name (`README.md.hbs`, `command.md.hbs`, ...). */
export type Templates = ReadonlyMap<string, string>;

export const TEMPLATE_FILES = ["README.md.hbs", "command.md.hbs", "fields.md.hbs", "type.md.hbs", "reference.html.hbs"] as const;

/** Path of a command page and of a shared type page under `generated/`. */
export const commandPage = (name: string): string => `docs/commands/${name}.md`;
export const typePage = (typeName: string): string => `docs/types/${typeName}.md`;

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

/** Text of one page: where the repository root and the docs root are, seen from the page, and the shared types. */
interface PageContext {
  /** Relative path from the page to the repository root (`../../../` for `generated/docs/commands/x.md`). */
  readonly root: string;
  /** Relative path from the page to `generated/docs/`. */
  readonly docs: string;
  readonly shared: ReadonlySet<string>;
}

/** Citations of the guide in schema text (`docs/protocol.md#<anchor>`) become links to it. */
export function linkCitations(text: string, ctx: PageContext): string {
  return text.replace(/(?<![\w./-])docs\/protocol\.md#([a-z0-9-]+)/g, (m, anchor: string) => `[${m}](${ctx.root}docs/protocol.md#${anchor})`);
}

/** Shared type names in a type summary (outside quoted enum values) become links to their pages. */
export function linkTypeNames(typeText: string, ctx: PageContext): string {
  return typeText
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\b[A-Z][A-Za-z0-9]*\b/g, (name) => (ctx.shared.has(name) ? `[${name}](${ctx.docs}types/${name}.md)` : name))))
    .join("");
}

function fieldView(f: FieldModel, ctx: PageContext): Record<string, unknown> {
  return { ...f, type: linkTypeNames(f.type, ctx), description: linkCitations(f.description, ctx) };
}

function fieldsView(fields: readonly FieldModel[], ctx: PageContext): Record<string, unknown> {
  const own = fields.filter((f) => f.inheritedFrom === undefined);
  const inherited = fields.filter((f): f is FieldModel & { inheritedFrom: string } => f.inheritedFrom !== undefined);
  const from = [...new Set(inherited.map((f) => f.inheritedFrom))].map((name) => linkTypeNames(name, ctx)).join(", ");
  return { ownFields: own.map((f) => fieldView(f, ctx)), inherited, inheritedFrom: from };
}

function payloadView(p: PayloadModel, ctx: PageContext): Record<string, unknown> {
  return { ...p, ...fieldsView(p.fields, ctx), description: linkCitations(p.description, ctx), shapeText: linkTypeNames(p.shape.replace(/\\\|/g, "|"), ctx) };
}

const DIRECTION_TEXT: Record<string, string> = {
  c2s: "client → server (`c2s`)",
  s2c: "server → client (`s2c`)",
  both: "either side (`both`)",
};

/** Server status tokens meaning the server answers a client-sent request (so a failure comes back to the client). */
const ANSWERS = new Set(["yes", "echo", "broken", "fails"]);

/** Fixed ids of the example frames: a request and the reply to it. */
const REQUEST_ID = "x7k2m9q1a";
const REPLY_ID = "p0c8d3n2z";

/** One wire frame as a single JSON line, `data` holding the payload's JSON text. */
function frameText(frame: { id: string; replyto?: string; command: string; payload: unknown }): string {
  const { payload, ...head } = frame;
  return JSON.stringify({ ...head, data: JSON.stringify(payload), count: 1, index: 0 });
}

interface ErrorStyleView {
  readonly text: string;
  readonly frame: string;
}

/**
 * How each server reports a failed `c` request, as prose and as the reply frame: the server's own style when it
 * answers the command, the unknown-command reply when it does not know a client-started command, nothing when it
 * never answers one.
 */
function errorStyles(c: CommandModel, request: unknown): ErrorStyleView[] {
  const error = c.errors[0] ?? "<message>";
  const styles: ErrorStyleView[] = [];
  const reply = (command: string, payload: unknown): string => frameText({ id: REPLY_ID, replyto: REQUEST_ID, command, payload });
  for (const label of ["server-2021", "server-latest"] as const) {
    const tokens = c.implementations[label] ?? [];
    const latest = label === "server-latest";
    if (tokens.some((t) => ANSWERS.has(t))) {
      styles.push(
        latest
          ? {
              text: `server-latest: an \`error\` reply with \`{"message", "error"}\`, e.g. \`${JSON.stringify({ message: error, error })}\``,
              frame: reply("error", { message: error, error }),
            }
          : {
              text: `server-2021: a \`${c.name}\` reply whose payload carries the text in \`error\`, e.g. \`${JSON.stringify({ error })}\``,
              frame: reply(c.name, { ...(isObject(request) ? request : {}), error }),
            },
      );
    } else if (tokens.length === 0 && c.direction !== "s2c") {
      const unknown = `Unknown command ${c.name}`;
      const payload = latest ? { message: unknown, error: unknown } : { message: unknown };
      styles.push({
        text:
          `${label}: does not know \`${c.name}\` and answers with an \`error\` reply \`${JSON.stringify(payload)}\`` +
          (latest ? "" : " (no `error` key, so api-latest resolves it as a success, Q8)"),
        frame: reply("error", payload),
      });
    }
  }
  return styles;
}

/** Named shapes of one command: its own `$defs`, then the shared shapes its field types name. */
function typesView(c: CommandModel, defs: readonly DefModel[], ctx: PageContext): { name: string; description: string; file: string; pointer: string; page?: string }[] {
  const view = (d: DefModel, shared: boolean): { name: string; description: string; file: string; pointer: string; page?: string } => ({
    name: d.typeName,
    description: markdownCell(linkCitations(String((d.schema as { description?: unknown }).description ?? ""), ctx)),
    file: d.file,
    pointer: d.pointer === "" ? "" : `#${d.pointer}`,
    ...(shared ? { page: `${ctx.docs}types/${d.typeName}.md` } : {}),
  });
  const local = c.localDefs.map((d) => view(d, false));
  const named = namesIn([c.request, ...(c.reply ? [c.reply] : [])].flatMap((p) => p.fields.filter((f) => f.inheritedFrom === undefined).map((f) => f.type)));
  const localNames = new Set(local.map((d) => d.name));
  const shared = defs.filter((d) => named.has(d.typeName) && !localNames.has(d.typeName)).map((d) => view(d, true));
  return [...local, ...shared.sort((a, b) => (a.name < b.name ? -1 : 1))];
}

function namesIn(typeTexts: readonly string[]): Set<string> {
  return new Set(typeTexts.flatMap((t) => t.replace(/"(?:[^"\\]|\\.)*"/g, "").match(/\b[A-Z][A-Za-z0-9]*\b/g) ?? []));
}

const CONNECT = `import { connect } from "openflow-spec";\n\nconst client = await connect("ws://127.0.0.1:3000/", { username: "robot", password: "secret" });\n`;

function firstExample(p: PayloadModel | undefined): unknown {
  return p?.examples[0];
}

/**
 * The example a Usage snippet shows: the first one whose top-level keys are all fields of the payload. Examples may
 * also record the extras a real peer sends (api-latest adds queue defaults to getworkitemqueue), which the closed
 * request types of the client refuse, so such an example would not compile in a snippet.
 */
function usageExample(p: PayloadModel): unknown {
  const known = new Set(p.fields.map((f) => f.name.split(/[.[]/)[0]));
  return p.examples.find((e) => isObject(e) && Object.keys(e).every((k) => known.has(k))) ?? p.examples[0];
}

/** A payload example as a TypeScript object literal: JSON with identifier keys unquoted. */
function tsLiteral(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2).replace(/^(\s*)"([A-Za-z_$][\w$]*)": /gm, "$1$2: ");
}

function exampleString(example: unknown, key: string, fallback: string): string {
  const value = isObject(example) ? example[key] : undefined;
  return JSON.stringify(typeof value === "string" && value !== "" ? value : fallback);
}

/** A TypeScript call through the generated client (the high-level helper where one exists), or a sentence. */
function usageView(c: CommandModel): { code?: string; text?: string } {
  const request = usageExample(c.request);
  const collection = exampleString(request, "collectionname", "entities");
  switch (c.name) {
    case "signin":
      return { text: "`connect()` signs in (and signs in again after every reconnect); `client.signin(payload)` re-validates a credential.", code: CONNECT };
    case "watch":
      return {
        text: "`watchCollection` sends `watch`, receives the `watchevent` frames and registers the watch again after a reconnect.",
        code: `${CONNECT}\nconst watch = await client.watchCollection(${collection}, ["$.[?(@._type == 'test')]"], (change) => console.log(change));\n// or: for await (const change of watch) { ... }\nawait watch.unwatch();\n`,
      };
    case "unwatch":
    case "watchevent":
      return {
        text: `\`watchCollection\` handles \`${c.name}\`: events arrive at its handler (or \`for await\`), \`watch.unwatch()\` sends \`unwatch\`.`,
        code: `${CONNECT}\nconst watch = await client.watchCollection(${collection}, [], (change) => console.log(change));\nawait watch.unwatch();\n`,
      };
    case "registerqueue":
    case "closequeue":
      return {
        text: "`consumeQueue` sends `registerqueue`, answers every delivered `queuemessage` (return = ack and reply, throw = nack) and registers again after a reconnect; `consumer.close()` sends `closequeue`.",
        code: `${CONNECT}\nconst consumer = await client.consumeQueue<{ n: number }>("", (delivery) => ({ doubled: delivery.data.n * 2 }));\nconsole.log("consuming", consumer.queuename);\nawait consumer.close();\n`,
      };
    case "registerexchange":
      return {
        text: "`consumeExchange` sends `registerexchange` and consumes the bound queue like `consumeQueue`.",
        code: `${CONNECT}\nconst consumer = await client.consumeExchange({ exchangename: ${exampleString(request, "exchangename", "events")}, algorithm: "fanout" }, (delivery) => {\n  console.log(delivery.data);\n});\nawait consumer.close();\n`,
      };
    case "queuemessage":
      return {
        text: "`client.queueMessage(payload)` publishes; deliveries arrive at the handler of `consumeQueue` / `consumeExchange`, which answers them.",
        code: `${CONNECT}\nawait client.${c.methodName}(${tsLiteral(request)});\n\nconst consumer = await client.consumeQueue("my-queue", (delivery) => console.log(delivery.data));\n`,
      };
    case "refreshtoken":
      return { text: "The client replaces its token and user by itself and emits `tokenrefreshed`.", code: `${CONNECT}\nclient.onTokenRefreshed((session) => console.log("new token for", session.user));\n` };
    case "ping":
    case "pong":
    case "error":
      return { text: `The client sends and answers \`${c.name}\` by itself (see the protocol guide).` };
  }
  if (hasMethod(c)) return { code: `${CONNECT}\nconst reply = await client.${c.methodName}(${tsLiteral(request)});\n` };
  if (hasHandler(c)) return { code: `${CONNECT}\nclient.${c.handlerName}((payload) => {\n  console.log(payload);\n});\n` };
  return { text: `No typed method: no server answers \`${c.name}\`, so \`client.request("${c.name}", payload)\` would wait until its timeout.` };
}

interface SourceLink {
  readonly url: string;
  readonly what: string;
}

/** `x-openflow.sources` of a command file: links into each implementation's code, when the file has them. */
function sourcesView(file: SchemaFile | undefined): { label: string; links: SourceLink[] }[] {
  const xo = file && isObject(file.json) ? (file.json as JsonObject)["x-openflow"] : undefined;
  const sources = isObject(xo) ? xo["sources"] : undefined;
  if (!isObject(sources)) return [];
  return Object.keys(sources)
    .map((label) => ({
      label,
      links: (Array.isArray(sources[label]) ? (sources[label] as unknown[]) : [])
        .filter((s): s is JsonObject => isObject(s) && typeof s["url"] === "string")
        .map((s) => ({ url: String(s["url"]), what: typeof s["what"] === "string" ? s["what"] : "source" })),
    }))
    .filter((s) => s.links.length > 0);
}

/** One error or note with its links, each named by the implementation its commit belongs to. */
function claimView(claim: Claim, ctx: PageContext): Record<string, unknown> {
  return {
    text: claim.text,
    linked: linkCitations(claim.text, ctx),
    proposed: claim.proposed,
    links: claim.sources.map((s) => {
      const target = parseSourceUrl(s.url);
      const label = target ? labelOf(target.repo, target.commit) : undefined;
      return { url: s.url, what: s.what, label: label ?? target?.repo ?? "source", symbol: s.symbol };
    }),
  };
}

function commandView(c: CommandModel, defs: readonly DefModel[], files: ReadonlyMap<string, SchemaFile>, ctx: PageContext): Record<string, unknown> {
  const request = firstExample(c.request);
  const reply = firstExample(c.reply);
  return {
    ...c,
    header: markdownHeader(`schemas/${c.file}`).trimEnd(),
    description: linkCitations(c.description, ctx),
    deprecation: c.deprecation === undefined ? undefined : linkCitations(c.deprecation, ctx),
    notes: c.notes.map((n) => linkCitations(n, ctx)),
    errorClaims: c.errorClaims.map((claim) => claimView(claim, ctx)),
    noteClaims: c.noteClaims.map((claim) => claimView(claim, ctx)),
    directionText: DIRECTION_TEXT[c.direction] ?? c.direction,
    method: hasMethod(c) ? c.methodName : undefined,
    handler: hasHandler(c) ? c.handlerName : undefined,
    request: payloadView(c.request, ctx),
    reply: c.reply ? payloadView(c.reply, ctx) : undefined,
    usage: usageView(c),
    requestFrame: request === undefined ? undefined : frameText({ id: REQUEST_ID, command: c.name, payload: request }),
    replyFrame: reply === undefined || c.replyCommand === null ? undefined : frameText({ id: REPLY_ID, replyto: REQUEST_ID, command: c.replyCommand, payload: reply }),
    errorStyles: errorStyles(c, request),
    sources: sourcesView(files.get(c.file)),
    types: typesView(c, defs, ctx),
    protobuf: protobufView(c),
  };
}

/** Everything a shared type page shows: its fields, its shape, its examples, and what uses it. */
function typeView(d: DefModel, fields: readonly FieldModel[], shape: string, usedBy: { commands: string[]; types: string[] }, ctx: PageContext): Record<string, unknown> {
  const schema = d.schema as { description?: unknown; examples?: unknown };
  return {
    header: markdownHeader(`schemas/${d.file}`).trimEnd(),
    name: d.typeName,
    file: d.file,
    pointer: d.pointer === "" ? "" : `#${d.pointer}`,
    description: linkCitations(typeof schema.description === "string" ? schema.description : "", ctx),
    ...fieldsView(fields, ctx),
    shapeText: linkTypeNames(shape.replace(/\\\|/g, "|"), ctx),
    examples: Array.isArray(schema.examples) ? schema.examples : [],
    usedByCommands: usedBy.commands,
    usedByTypes: usedBy.types,
  };
}

export function emitDocs(model: SpecModel, templates: Templates, schemaFiles: readonly SchemaFile[] = []): Map<string, string> {
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
  const typeTemplate = hbs.compile(template("type.md.hbs"), options);

  const files = new Map(schemaFiles.map((f) => [f.path, f] as const));
  const resolver = makeResolver({ byId: new Map(schemaFiles.map((f) => [ID_BASE + f.path, f] as const)) });
  const shared = new Set(model.defs.map((d) => d.typeName));
  const inDocs: PageContext = { root: "../../", docs: "", shared };
  const inPage: PageContext = { root: "../../../", docs: "../", shared };

  // Fields and shape of every shared type, then who names it (commands' own fields, other types' fields).
  const typeFields = new Map(model.defs.map((d) => [d.typeName, collectFields(d.schema, ID_BASE + d.file, resolver)] as const));
  const usedBy = new Map(model.defs.map((d) => [d.typeName, { commands: new Set<string>(), types: new Set<string>() }] as const));
  for (const c of model.commands) {
    const texts = [c.request, ...(c.reply ? [c.reply] : [])].flatMap((p) => [p.shape, ...p.fields.map((f) => f.inheritedFrom ?? f.type)]);
    for (const name of namesIn(texts)) usedBy.get(name)?.commands.add(c.name);
  }
  for (const [typeName, fields] of typeFields) {
    for (const name of namesIn(fields.map((f) => f.inheritedFrom ?? f.type))) if (name !== typeName) usedBy.get(name)?.types.add(typeName);
  }
  const sorted = (set: Set<string> | undefined): string[] => [...(set ?? [])].sort();

  const out = new Map<string, string>();
  out.set(
    "docs/README.md",
    tidy(
      index({
        header: markdownHeader("schemas/commands/*.json, schemas/defs/*.json").trimEnd(),
        commands: model.commands.map((c) => ({ ...c, purpose: linkCitations(c.purpose, inDocs) })),
        types: [...model.defs]
          .sort((a, b) => (a.typeName < b.typeName ? -1 : 1))
          .map((d) => ({ name: d.typeName, file: d.file, description: markdownCell(linkCitations(String((d.schema as { description?: unknown }).description ?? ""), inDocs)) })),
        robots: (model.robotCommands ?? []).map((r) => ({ name: r.name, sender: r.sender, stage: r.stage, typeName: r.typeName, file: r.file, purpose: r.purpose })),
      }),
    ),
  );
  // Robot commands (bodies inside queuemessage data): one type page each, with who sends it, its stage and sources.
  for (const r of model.robotCommands ?? []) {
    const def: DefModel = { typeName: r.typeName, file: r.file, pointer: "", schemaUri: r.schemaUri, schema: r.schema };
    const shape = summarizeType(r.schema, resolver, r.schemaUri);
    const view = typeView(def, r.fields, shape, { commands: ["queuemessage"], types: [] }, inPage);
    const about = [
      linkCitations(r.description, inPage),
      `A robot command: the JSON body inside \`queuemessage.data\` whose \`command\` is \`${r.name}\`, sent by the ${r.sender}; stage \`${r.stage}\` of the sequence ([protocol guide](${inPage.root}docs/protocol.md#robot-commands)). Implementations: ${r.labels.join(", ")}.`,
      ...(r.notes.length > 0 ? [r.notes.map((n) => `- ${linkCitations(n, inPage)}`).join("\n")] : []),
      `Read from:\n\n${r.sources.map((s) => `- [${s.what}](${s.url})`).join("\n")}`,
    ].join("\n\n");
    out.set(typePage(r.typeName), tidy(typeTemplate({ ...view, description: about })));
  }
  for (const c of model.commands) out.set(commandPage(c.name), tidy(page(commandView(c, model.defs, files, inPage))));
  out.set("docs/migration.md", tidy(migrationPage(model, markdownHeader("schemas/commands/*.json (x-openflow.protobuf)").trimEnd())));
  for (const d of model.defs) {
    const shape = summarizeType(d.schema, resolver, ID_BASE + d.file);
    const used = usedBy.get(d.typeName);
    out.set(typePage(d.typeName), tidy(typeTemplate(typeView(d, typeFields.get(d.typeName) ?? [], shape, { commands: sorted(used?.commands), types: sorted(used?.types) }, inPage))));
  }
  return out;
}

/** Collapses runs of blank lines the templates' conditionals leave behind; one trailing newline. */
function tidy(text: string): string {
  return text.replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
