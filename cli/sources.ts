/**
 * `openflow-spec sources verify|drift`: the source links of the command files checked against checkouts of the
 * upstream repositories (the logic is in sources/; this module parses the arguments and prints).
 *
 *   sources verify [--schemas DIR] --checkout LABEL=DIR ...   every link resolves, ranges, symbols, quoted errors
 *   sources drift  [--schemas DIR] --checkout LABEL=DIR ... --to REV   the claims whose cited lines changed
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { runCommand, textOption, type CliIo, type CommandSpec, type OptionValues } from "./command.js";
import { UsageError } from "./usage.js";
import { SOURCE_LABELS, isSourceLabel, type SourceLabel } from "../sources/labels.js";
import { GitCheckout, GitError } from "../sources/git.js";
import { collectCitations, type Citation } from "../sources/links.js";
import { verifyCitations } from "../sources/verify.js";
import { driftCitations, DriftError } from "../sources/drift.js";

export const command: CommandSpec = {
  name: "sources",
  usage: "verify|drift [options]",
  description: `verify: every source link of schemas/commands (implementation links, and the links of each error and note
claim) is checked in the checkout of its label: the commit exists, the file exists at it, the line range lies inside
the file, the link's symbol lies inside the range, and an error text appears in its range (<name> placeholders
match anything). Links of labels without a checkout are only checked for form.
drift: lists every link whose cited lines changed between its pinned commit and --to (a newer commit, tag or
branch of the checkout): the claims a maintainer re-reads after an upstream release.`,
  options: {
    schemas: { type: "string", valueName: "DIR", default: "schemas", description: "the schemas directory" },
    checkout: { type: "string", multiple: true, valueName: "LABEL=DIR", description: `an upstream clone or bare git directory for a label (${SOURCE_LABELS.join(", ")}); repeatable` },
    to: { type: "string", valueName: "REV", description: "drift: the newer commit to compare with" },
    format: { type: "string", valueName: "FORMAT", choices: ["text", "json"], default: "text", description: "report format" },
  },
  positionals: { min: 1, max: 1 },
  epilog: `examples:
  openflow-spec sources verify --checkout server-latest=../openflow --checkout server-2021=../openflow
  openflow-spec sources drift --checkout server-latest=../openflow --to origin/master

exit codes: 0 clean (verify: no problem; drift: no cited line changed), 1 problems or changed lines, 2 usage.`,
  run: async ({ values, positionals }, io) => run(positionals[0] as string, values, io),
};

async function checkoutsFrom(values: OptionValues): Promise<Map<SourceLabel, GitCheckout>> {
  const given = (values["checkout"] as string[] | undefined) ?? [];
  const out = new Map<SourceLabel, GitCheckout>();
  for (const entry of given) {
    const eq = entry.indexOf("=");
    const label = eq < 0 ? entry : entry.slice(0, eq);
    const dir = eq < 0 ? "" : entry.slice(eq + 1);
    if (!isSourceLabel(label)) throw new UsageError(`--checkout ${JSON.stringify(entry)}: the label must be one of ${SOURCE_LABELS.join(", ")} (LABEL=DIR)`);
    if (dir === "") throw new UsageError(`--checkout ${label}: needs a directory (LABEL=DIR)`);
    if (out.has(label)) throw new UsageError(`--checkout ${label} is given twice`);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`--checkout ${label}=${dir}: no such directory`);
    const checkout = new GitCheckout(resolve(dir));
    try {
      await checkout.check();
    } catch (err) {
      if (err instanceof GitError) throw new UsageError(`--checkout ${label}=${dir}: ${err.message}`);
      throw err;
    }
    out.set(label, checkout);
  }
  return out;
}

const where = (c: { file: string; pointer: string }): string => `${c.file}#${c.pointer}`;

function claimText(c: Citation): string {
  if (c.kind === "implementation") return `${c.filedUnder ?? c.label} ${c.what}`;
  const text = c.text ?? "";
  return `${c.kind} ${JSON.stringify(text.length > 90 ? `${text.slice(0, 87)}...` : text)}`;
}

async function run(verb: string, values: OptionValues, io: CliIo): Promise<number> {
  if (verb !== "verify" && verb !== "drift") throw new UsageError(`unknown verb ${JSON.stringify(verb)}: verify or drift (see --help)`);
  const schemas = textOption(values, "schemas", "a schemas directory") ?? "schemas";
  const info = await stat(`${schemas}/commands`).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`--schemas ${schemas}: no commands/ folder there`);
  const to = textOption(values, "to", "a commit, tag or branch");
  if (verb === "drift" && to === undefined) throw new UsageError("drift needs --to REV (the newer commit to compare with)");
  if (verb === "verify" && to !== undefined) throw new UsageError("--to belongs to drift");
  const checkouts = await checkoutsFrom(values);
  if (checkouts.size === 0) throw new UsageError(`needs at least one --checkout LABEL=DIR (${SOURCE_LABELS.join(", ")})`);
  const { pins, citations } = await collectCitations(schemas);
  const json = values["format"] === "json";

  if (verb === "verify") {
    const result = await verifyCitations(citations, checkouts, pins);
    if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    else {
      for (const p of result.problems) io.stdout(`${where(p)}: ${p.message}\n  ${p.url}\n`);
      const skipped = Object.entries(result.unchecked).map(([l, n]) => `${l} ${n}`);
      io.stdout(`openflow-spec sources verify: ${result.links} links, ${result.checked} read in ${checkouts.size} checkout${checkouts.size === 1 ? "" : "s"}${skipped.length ? ` (not read, no checkout: ${skipped.join(", ")})` : ""}, ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}\n`);
    }
    return result.problems.length === 0 ? 0 : 1;
  }

  let entries;
  try {
    entries = await driftCitations(citations, checkouts, to as string);
  } catch (err) {
    if (err instanceof DriftError) throw new UsageError(err.message);
    throw err;
  }
  if (json) {
    io.stdout(`${JSON.stringify(entries.map((e) => ({ file: e.citation.file, pointer: e.citation.pointer, kind: e.citation.kind, text: e.citation.text, url: e.citation.url, label: e.label, to: e.to, change: e.change, path: e.path, now: e.now })), null, 2)}\n`);
  } else {
    for (const e of entries) {
      const t = e.citation.target;
      const what = t ? `${t.path} L${t.start}-L${t.end}` : e.citation.url;
      const at = e.path ? ` of ${e.path}` : "";
      const now = e.change === "file-gone" ? `the file is gone at ${e.to.slice(0, 8)}` : `${e.path ? "moved" : "changed"} (now about L${e.now?.start}-L${e.now?.end}${at} at ${e.to.slice(0, 8)})`;
      io.stdout(`${where(e.citation)}: ${claimText(e.citation)}\n  ${e.label} ${what}: ${now}\n`);
    }
    io.stdout(`openflow-spec sources drift: ${entries.length} link${entries.length === 1 ? "" : "s"} to re-read\n`);
  }
  return entries.length === 0 ? 0 : 1;
}

/** In-process entry (tests). */
export function main(argv: string[], io: CliIo): Promise<number> {
  return runCommand(command, argv, io);
}
