/**
 * `sources verify`: every source link of a schemas directory checked against the upstream checkouts. A link must
 * parse as a GitHub link at a label's pinned commit with a line range; with that label's checkout given, the commit
 * must exist there, the file at that commit, the range inside the file, the link's `symbol` inside the range, and
 * (for an error claim) the error text inside the range (quote.ts: `<name>` placeholders match anything).
 */
import { GitCheckout } from "./git.js";
import { SOURCE_LABELS, PINS, type SourceLabel, type Pins } from "./labels.js";
import { type Citation } from "./links.js";
import { quotedIn } from "./quote.js";

export interface SourceProblem {
  readonly file: string;
  readonly pointer: string;
  readonly url: string;
  readonly message: string;
}

export interface VerifyResult {
  /** Links found. */
  readonly links: number;
  /** Links read in a checkout (the others belong to labels without --checkout). */
  readonly checked: number;
  /** Labels without a checkout that had links, with how many. */
  readonly unchecked: Readonly<Partial<Record<SourceLabel, number>>>;
  readonly problems: readonly SourceProblem[];
}

/** The lines [start, end] (1-based, inclusive) of a text, or undefined when the range is not inside it. */
export function linesOf(text: string, start: number, end: number): string | undefined {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (start < 1 || end < start || end > lines.length) return undefined;
  return lines.slice(start - 1, end).join("\n");
}

/** The number of lines of a text (a final newline does not start another line). */
export function lineCount(text: string): number {
  const lines = text.split("\n");
  return lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
}

/** Checks every citation; `checkouts` maps a label to its checkout (labels absent are checked offline only). */
export async function verifyCitations(citations: readonly Citation[], checkouts: ReadonlyMap<SourceLabel, GitCheckout>, pins: Pins = PINS): Promise<VerifyResult> {
  const problems: SourceProblem[] = [];
  const unchecked: Partial<Record<SourceLabel, number>> = {};
  let checked = 0;
  const problem = (c: Citation, message: string): void => void problems.push({ file: c.file, pointer: c.pointer, url: c.url, message });

  for (const c of citations) {
    const t = c.target;
    if (!t) {
      problem(c, "not a GitHub link at a commit with a line range (https://github.com/<owner>/<repo>/blob/<commit>/<path>#L<a>-L<b>)");
      continue;
    }
    if (!c.label) {
      problem(c, `${t.repo} at ${t.commit} is not the commit of any implementation label (${SOURCE_LABELS.map((l) => `${l} ${pins[l].repo}@${pins[l].commit.slice(0, 8)}`).join(", ")})`);
      continue;
    }
    if (c.filedUnder !== undefined && c.filedUnder !== c.label) {
      problem(c, `filed under ${c.filedUnder} but points at ${c.label}'s commit`);
      continue;
    }
    if (t.end < t.start) {
      problem(c, `range L${t.start}-L${t.end} ends before it starts`);
      continue;
    }
    const checkout = checkouts.get(c.label);
    if (!checkout) {
      unchecked[c.label] = (unchecked[c.label] ?? 0) + 1;
      continue;
    }
    checked++;
    if ((await checkout.resolve(t.commit)) === undefined) {
      problem(c, `commit ${t.commit} is not in the ${c.label} checkout ${checkout.dir} (fetch it, or is it the checkout of another repository?)`);
      continue;
    }
    const text = await checkout.read(t.commit, t.path);
    if (text === undefined) {
      problem(c, `${t.path} does not exist at ${t.commit.slice(0, 8)}`);
      continue;
    }
    const range = linesOf(text, t.start, t.end);
    if (range === undefined) {
      problem(c, `range L${t.start}-L${t.end} lies outside ${t.path} (${lineCount(text)} lines)`);
      continue;
    }
    if (c.symbol !== undefined && !range.includes(c.symbol)) problem(c, `symbol ${JSON.stringify(c.symbol)} is not in ${t.path} L${t.start}-L${t.end}`);
    if (c.kind === "error" && c.text !== undefined && !quotedIn(c.text, range)) {
      problem(c, `error text ${JSON.stringify(c.text)} does not appear in ${t.path} L${t.start}-L${t.end}`);
    }
  }
  return { links: citations.length, checked, unchecked, problems };
}
