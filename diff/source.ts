/**
 * Where the two schema trees come from: a directory on disk, or a git revision of the repository's `schemas/`
 * (read with `git ls-tree` and one `git cat-file --batch`, so no checkout is touched). A tree is the parsed JSON of
 * every `*.json` file, keyed by its path relative to the schemas directory (`commands/query.json`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { loadSchemas, loadFromTexts, type LoadedSchemas } from "../generator/load.js";
import { GeneratorError, formatIssue } from "../generator/errors.js";

export interface SchemaTree {
  /** What the tree was read from, for reports: a directory path or `git:<revision>`. */
  readonly label: string;
  /** The schemas directory as a path relative to the working directory or repository root (`schemas`), for file annotations. */
  readonly root: string;
  /** Parsed files keyed by path relative to the schemas directory, `/`-separated, sorted. */
  readonly files: ReadonlyMap<string, unknown>;
}

/** A base or head that cannot be read: not a directory, not a revision, no schemas there, or invalid JSON. */
export class DiffSourceError extends Error {
  override name = "DiffSourceError";
}

export interface SourceOptions {
  /** Directory the arguments are relative to (default: process.cwd()). */
  cwd?: string;
  /** The schemas directory in the working tree, and its path inside a git revision (default `schemas`). */
  schemasDir?: string;
}

/** Turns a generator load failure into a source error that names the tree. */
async function loaded(label: string, root: string, load: () => Promise<LoadedSchemas> | LoadedSchemas): Promise<SchemaTree> {
  try {
    const { files } = await load();
    return { label, root, files: new Map(files.map((f) => [f.path, f.json])) };
  } catch (err) {
    if (err instanceof GeneratorError) throw new DiffSourceError(`${label}: ${err.issues.map(formatIssue).join("; ")}`);
    throw err;
  }
}

/** Reads a schemas directory: `dir` itself when it has `commands/`, else `dir/schemas`. */
export async function loadDirectory(dir: string, options: SourceOptions = {}): Promise<SchemaTree> {
  const schemasDir = options.schemasDir ?? "schemas";
  const cwd = resolve(options.cwd ?? process.cwd());
  dir = resolve(cwd, dir);
  const candidates = [dir, resolve(dir, schemasDir)];
  const found = candidates.find((d) => existsSync(resolve(d, "commands")) && statSync(resolve(d, "commands")).isDirectory());
  if (!found) throw new DiffSourceError(`${dir}: no commands/ folder here or in ${schemasDir}/ (not a schemas directory)`);
  const root = relative(cwd, found).split(sep).join("/") || ".";
  return loaded(root, root, () => loadSchemas(found));
}

function git(cwd: string, args: string[], input?: Buffer): { ok: boolean; stdout: Buffer; stderr: string } {
  const r = spawnSync("git", args, { cwd, input, maxBuffer: 1 << 30 });
  if (r.error) return { ok: false, stdout: Buffer.alloc(0), stderr: r.error.message };
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.toString("utf8").trim() };
}

function resolveCommit(root: string, revision: string): string | undefined {
  const commit = git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`]);
  return commit.ok ? commit.stdout.toString("utf8").trim() : undefined;
}

const SHALLOW_HINT = "set `fetch-depth: 0` on actions/checkout (or run `git fetch --unshallow`) so the history holds the base revision";

/**
 * A revision that does not resolve in a shallow clone (what CI checkouts are by default: `actions/checkout` fetches
 * one commit) is usually just history that was not fetched. With a remote, fetch the rest of the history
 * (`git fetch --unshallow`), then the branch of that name if it is still unknown (a single-branch clone has only its
 * own), and resolve again; without one, or if that fails, say how to get the history. Returns the commit id.
 */
function fetchMissingHistory(root: string, revision: string): string {
  const notFound = `${revision}: neither a directory nor a git revision of ${root}`;
  const shallow = git(root, ["rev-parse", "--is-shallow-repository"]);
  if (!shallow.ok || shallow.stdout.toString("utf8").trim() !== "true") throw new DiffSourceError(notFound);
  const remotes = git(root, ["remote"]).stdout.toString("utf8").split("\n").filter((r) => r !== "");
  const remote = remotes.includes("origin") ? "origin" : remotes[0];
  if (remote === undefined) throw new DiffSourceError(`${notFound}: this clone is shallow and has no remote to fetch the missing history from; ${SHALLOW_HINT}`);
  const unshallow = git(root, ["fetch", "--quiet", "--unshallow", remote]);
  let sha = resolveCommit(root, revision);
  if (sha === undefined && /^[\w][\w./-]*$/.test(revision) && !revision.includes("..")) {
    // `diff main` in a pull request's checkout: the base branch was never fetched; fetch it as <remote>/<name>.
    const branch = git(root, ["fetch", "--quiet", remote, `+refs/heads/${revision}:refs/remotes/${remote}/${revision}`]);
    if (branch.ok) sha = resolveCommit(root, `${remote}/${revision}`);
  }
  if (sha === undefined) {
    const why = unshallow.ok ? "its history does not hold it either" : `fetching it failed (${unshallow.stderr || "git fetch --unshallow failed"})`;
    throw new DiffSourceError(`${notFound}: this clone was shallow; fetched the missing history (remote ${remote}), but ${why}; ${SHALLOW_HINT}`);
  }
  return sha;
}

/** Reads the schemas directory as it was at a git revision (`HEAD~1`, `main`, a tag, a commit id). */
export async function loadRevision(revision: string, options: SourceOptions = {}): Promise<SchemaTree> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const label = `git:${revision}`;
  const top = git(cwd, ["rev-parse", "--show-toplevel"]);
  if (!top.ok) throw new DiffSourceError(`${revision}: not a directory, and ${cwd} is not inside a git repository (${top.stderr || "git failed"})`);
  const root = top.stdout.toString("utf8").trim();
  const sha = resolveCommit(root, revision) ?? fetchMissingHistory(root, revision);
  const prefix = relative(root, resolve(cwd, options.schemasDir ?? "schemas")).split(sep).join("/");
  if (prefix.startsWith("..")) throw new DiffSourceError(`${options.schemasDir}: outside the git repository ${root}`);
  const listing = git(root, ["ls-tree", "-r", "-z", sha, "--", `${prefix}/`]);
  if (!listing.ok) throw new DiffSourceError(`${label}: git ls-tree failed: ${listing.stderr}`);
  const blobs: { path: string; id: string }[] = [];
  for (const entry of listing.stdout.toString("utf8").split("\0")) {
    const m = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (m && m[2]!.endsWith(".json")) blobs.push({ id: m[1]!, path: m[2]!.slice(prefix.length + 1) });
  }
  if (!blobs.some((b) => b.path.startsWith("commands/"))) throw new DiffSourceError(`${label}: no ${prefix}/commands/*.json at ${sha.slice(0, 12)}`);
  const batch = git(root, ["cat-file", "--batch"], Buffer.from(blobs.map((b) => b.id).join("\n") + "\n"));
  if (!batch.ok) throw new DiffSourceError(`${label}: git cat-file failed: ${batch.stderr}`);
  const texts = new Map<string, string>();
  let at = 0;
  for (const blob of blobs) {
    const headerEnd = batch.stdout.indexOf(10, at);
    const header = batch.stdout.subarray(at, headerEnd).toString("utf8");
    const size = Number(/^[0-9a-f]+ blob (\d+)$/.exec(header)?.[1] ?? NaN);
    if (!Number.isFinite(size)) throw new DiffSourceError(`${label}: cannot read ${prefix}/${blob.path} from git (${header})`);
    texts.set(blob.path, batch.stdout.subarray(headerEnd + 1, headerEnd + 1 + size).toString("utf8"));
    at = headerEnd + 1 + size + 1;
  }
  return loaded(`${label}:${prefix}`, prefix, () => loadFromTexts(texts));
}

/** A directory when `spec` names one, else a git revision. */
export async function loadSource(spec: string, options: SourceOptions = {}): Promise<SchemaTree> {
  const path = resolve(options.cwd ?? process.cwd(), spec);
  if (existsSync(path) && statSync(path).isDirectory()) return loadDirectory(path, options);
  return loadRevision(spec, options);
}
