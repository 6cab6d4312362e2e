/**
 * Every source link of a schemas directory, with what it stands for: the implementation links of
 * `x-openflow.sources`, the links of the protobuf migration map (`x-openflow.protobuf.sources`), and the links of
 * each error and note claim (`{text, labels?, sources: [{url, what,
 * symbol?}]}`). Read straight from the command files (plain JSON), so the tool also runs on a schemas directory
 * the generator would refuse.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { labelOf, PINS, pinsFromMetaSchema, type SourceLabel, type Pins } from "./labels.js";

/** A GitHub link at a fixed commit with a line range, taken apart. */
export interface ParsedUrl {
  readonly repo: string;
  readonly commit: string;
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

const URL_RE = /^https:\/\/github\.com\/([^/\s]+\/[^/\s]+)\/blob\/([0-9a-f]{40})\/([^#\s]+)#L([0-9]+)(?:-L([0-9]+))?$/;

/** Parses `https://github.com/<owner>/<repo>/blob/<commit>/<path>#L10-L20` (or `#L10`); undefined when it is not one. */
export function parseSourceUrl(url: string): ParsedUrl | undefined {
  const m = URL_RE.exec(url);
  if (!m) return undefined;
  const start = Number(m[4]);
  const end = m[5] === undefined ? start : Number(m[5]);
  return { repo: m[1] as string, commit: m[2] as string, path: decodeURIComponent(m[3] as string), start, end };
}

/** Which part of a command file a link supports. */
export type CitationKind = "implementation" | "error" | "note" | "protobuf";

/** One source link of one command file. */
export interface Citation {
  /** `commands/getfile.json` */
  readonly file: string;
  /** JSON pointer of the link object inside the file. */
  readonly pointer: string;
  readonly kind: CitationKind;
  /** The claim's text (error text or note); undefined for implementation links. */
  readonly text?: string;
  readonly url: string;
  readonly what: string;
  readonly symbol?: string;
  /** The label the link's repository and commit belong to; undefined when no label pins that commit. */
  readonly label?: SourceLabel;
  /** The label the file files the link under (`x-openflow.sources.<label>`), for implementation links. */
  readonly filedUnder?: string;
  /** The URL taken apart; undefined when the URL is not a GitHub link with a line range. */
  readonly target?: ParsedUrl;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function citation(pins: Pins, file: string, pointer: string, kind: CitationKind, link: unknown, text?: string, filedUnder?: string): Citation | undefined {
  if (!isObject(link) || typeof link["url"] !== "string") return undefined;
  const url = link["url"];
  const target = parseSourceUrl(url);
  const label = target ? labelOf(target.repo, target.commit, pins) : undefined;
  return {
    file,
    pointer,
    kind,
    ...(text !== undefined ? { text } : {}),
    url,
    what: typeof link["what"] === "string" ? link["what"] : "",
    ...(typeof link["symbol"] === "string" ? { symbol: link["symbol"] } : {}),
    ...(label ? { label } : {}),
    ...(filedUnder !== undefined ? { filedUnder } : {}),
    ...(target ? { target } : {}),
  };
}

/** The citations of one parsed command file. */
export function citationsOf(file: string, doc: unknown, pins: Pins = PINS): Citation[] {
  const out: Citation[] = [];
  if (!isObject(doc) || !isObject(doc["x-openflow"])) return out;
  const meta = doc["x-openflow"];
  const sources = meta["sources"];
  if (isObject(sources)) {
    for (const [label, links] of Object.entries(sources)) {
      if (!Array.isArray(links)) continue;
      links.forEach((link, i) => {
        const c = citation(pins, file, `/x-openflow/sources/${label}/${i}`, "implementation", link, undefined, label);
        if (c) out.push(c);
      });
    }
  }
  const protobuf = meta["protobuf"];
  if (isObject(protobuf) && Array.isArray(protobuf["sources"])) {
    (protobuf["sources"] as unknown[]).forEach((link, i) => {
      const c = citation(pins, file, `/x-openflow/protobuf/sources/${i}`, "protobuf", link);
      if (c) out.push(c);
    });
  }
  for (const kind of ["error", "note"] as const) {
    const list = meta[kind === "error" ? "errors" : "notes"];
    if (!Array.isArray(list)) continue;
    list.forEach((claim, i) => {
      if (!isObject(claim) || typeof claim["text"] !== "string" || !Array.isArray(claim["sources"])) return;
      const text = claim["text"];
      (claim["sources"] as unknown[]).forEach((link, j) => {
        const c = citation(pins, file, `/x-openflow/${kind}s/${i}/sources/${j}`, kind, link, text);
        if (c) out.push(c);
      });
    });
  }
  return out;
}

/** The pins of a schemas directory: its meta-schema's (meta/command.schema.json), else this repository's. */
export async function pinsOf(schemasDir: string): Promise<Pins> {
  const text = await readFile(join(schemasDir, "meta", "command.schema.json"), "utf8").catch(() => undefined);
  if (text === undefined) return PINS;
  try {
    return pinsFromMetaSchema(JSON.parse(text));
  } catch {
    return PINS;
  }
}

/** Every citation of every `commands/*.json` under a schemas directory, in file order, with the pins used. */
export async function collectCitations(schemasDir: string): Promise<{ pins: Pins; citations: Citation[] }> {
  const pins = await pinsOf(schemasDir);
  const dir = join(schemasDir, "commands");
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  const out: Citation[] = [];
  for (const name of names) {
    const file = `commands/${name}`;
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(join(dir, name), "utf8"));
    } catch (err) {
      throw new Error(`${file}: cannot read as JSON: ${(err as Error).message}`);
    }
    out.push(...citationsOf(file, doc, pins));
  }
  return { pins, citations: out };
}
