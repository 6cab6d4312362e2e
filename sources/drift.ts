/**
 * `sources drift`: the maintainer's reading list after an upstream release. For every link of a label whose
 * checkout is given, the cited lines are compared between the pinned commit and a newer one (`git diff -U0`);
 * each link whose lines changed, or whose file is gone, is listed with the claim it supports and where the lines
 * are now. A file git's rename detection followed is compared at its new path (and listed, since the link's path is
 * stale).
 */
import { GitCheckout, type Hunk } from "./git.js";
import { type SourceLabel } from "./labels.js";
import { type Citation } from "./links.js";

export interface DriftEntry {
  readonly citation: Citation;
  readonly label: SourceLabel;
  /** The commit compared with. */
  readonly to: string;
  /** What happened to the cited lines. */
  readonly change: "changed" | "file-gone";
  /** The file's path at `to` when git's rename detection followed it there. */
  readonly path?: string;
  /** Where the cited lines are at `to` (approximate when lines inside the range changed). */
  readonly now?: { start: number; end: number };
}

/** Whether a hunk touches the old lines [start, end]. A pure insertion counts when it falls between two cited lines. */
export function hunkTouches(h: Hunk, start: number, end: number): boolean {
  if (h.oldCount === 0) return h.oldStart >= start && h.oldStart < end;
  return h.oldStart <= end && h.oldStart + h.oldCount - 1 >= start;
}

/** Where old line `line` is in the new file: shifted by every hunk that ends before it. */
export function mapLine(hunks: readonly Hunk[], line: number): number {
  let shift = 0;
  for (const h of hunks) {
    const before = h.oldCount === 0 ? h.oldStart < line : h.oldStart + h.oldCount - 1 < line;
    if (before) shift += h.newCount - h.oldCount;
  }
  return line + shift;
}

export class DriftError extends Error {
  override name = "DriftError";
}

/**
 * The links whose cited lines differ at `to` (a revision resolved in each label's checkout). Links of labels
 * without a checkout are not compared.
 */
export async function driftCitations(citations: readonly Citation[], checkouts: ReadonlyMap<SourceLabel, GitCheckout>, to: string): Promise<DriftEntry[]> {
  const targets = new Map<SourceLabel, string>();
  for (const [label, checkout] of checkouts) {
    const commit = await checkout.resolve(to);
    if (commit === undefined) throw new DriftError(`${to} is not a commit in the ${label} checkout ${checkout.dir}`);
    targets.set(label, commit);
  }
  const out: DriftEntry[] = [];
  const hunkCache = new Map<string, Promise<Hunk[]>>();
  for (const c of citations) {
    const t = c.target;
    if (!t || !c.label) continue;
    const checkout = checkouts.get(c.label);
    const target = targets.get(c.label);
    if (!checkout || target === undefined) continue;
    if ((await checkout.resolve(t.commit)) === undefined) throw new DriftError(`the pinned commit ${t.commit} of ${c.label} is not in ${checkout.dir}`);
    let path = t.path;
    if ((await checkout.read(target, path)) === undefined) {
      const renamed = await checkout.renamedTo(t.commit, target, t.path);
      if (renamed === undefined) {
        out.push({ citation: c, label: c.label, to: target, change: "file-gone" });
        continue;
      }
      path = renamed;
    }
    const key = `${t.commit}..${target}:${t.path}`;
    let hunks = hunkCache.get(key);
    if (!hunks) {
      hunks = checkout.hunks(t.commit, target, t.path, path);
      hunkCache.set(key, hunks);
    }
    const list = await hunks;
    const moved = path === t.path ? {} : { path };
    if (list.some((h) => hunkTouches(h, t.start, t.end))) {
      out.push({ citation: c, label: c.label, to: target, change: "changed", ...moved, now: { start: mapLine(list, t.start), end: mapLine(list, t.end) } });
    } else if (path !== t.path) {
      // Renamed with the cited lines intact: still worth a look (the link's path is stale).
      out.push({ citation: c, label: c.label, to: target, change: "changed", path, now: { start: mapLine(list, t.start), end: mapLine(list, t.end) } });
    }
  }
  return out;
}
