/**
 * Read-only access to one upstream checkout (a clone or a bare git directory) through the `git` command:
 * files at a commit, whether a commit exists, and which lines of a file changed between two commits. Every call
 * has a time limit; results are cached per checkout (a file at a commit never changes).
 */
import { execFile } from "node:child_process";

/** One hunk of `git diff -U0`: lines [oldStart, oldStart+oldCount) of the old file became newCount new lines. */
export interface Hunk {
  readonly oldStart: number;
  readonly oldCount: number;
  readonly newStart: number;
  readonly newCount: number;
}

export class GitError extends Error {
  override name = "GitError";
}

const TIMEOUT_MS = 60_000;

export class GitCheckout {
  private readonly files = new Map<string, Promise<string | undefined>>();
  private readonly commits = new Map<string, Promise<string | undefined>>();

  /** `dir`: a work tree or a bare repository. */
  constructor(readonly dir: string) {}

  private git(args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      // safe.directory: the checkouts may belong to another user (a shared mirror); we only read them.
      execFile("git", ["-c", "safe.directory=*", "-C", this.dir, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return reject(new GitError("git is not installed (needed to read the checkouts)"));
        if (err && (err as { killed?: boolean }).killed) return reject(new GitError(`git ${args[0]} in ${this.dir} timed out`));
        resolve({ ok: !err, stdout, stderr });
      });
    });
  }

  /** Throws a GitError unless `dir` is a git repository. */
  async check(): Promise<void> {
    const r = await this.git(["rev-parse", "--git-dir"]);
    if (!r.ok) throw new GitError(`${this.dir} is not a git repository (${r.stderr.trim() || "git rev-parse failed"})`);
  }

  /** The full commit id a revision names, or undefined when the checkout has no such commit. */
  resolve(rev: string): Promise<string | undefined> {
    let cached = this.commits.get(rev);
    if (!cached) {
      cached = this.git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]).then((r) => (r.ok ? r.stdout.trim() : undefined));
      this.commits.set(rev, cached);
    }
    return cached;
  }

  /** The text of `path` at `commit`, or undefined when the commit has no such file. */
  read(commit: string, path: string): Promise<string | undefined> {
    const key = `${commit}:${path}`;
    let cached = this.files.get(key);
    if (!cached) {
      cached = this.git(["cat-file", "blob", key]).then((r) => (r.ok ? r.stdout : undefined));
      this.files.set(key, cached);
    }
    return cached;
  }

  /** The hunks of `path` between two commits (empty when unchanged); `toPath` when the file was renamed. */
  async hunks(from: string, to: string, path: string, toPath: string = path): Promise<Hunk[]> {
    const r = await this.git(["diff", "-U0", "--no-color", "--no-ext-diff", `${from}:${path}`, `${to}:${toPath}`]);
    if (!r.ok) throw new GitError(`git diff ${from}:${path} ${to}:${toPath} failed: ${r.stderr.trim()}`);
    return parseHunks(r.stdout);
  }

  private readonly renames = new Map<string, Promise<Map<string, string>>>();

  /** Where `path` went between two commits by git's rename detection, or undefined (deleted, or never renamed). */
  async renamedTo(from: string, to: string, path: string): Promise<string | undefined> {
    const key = `${from}..${to}`;
    let table = this.renames.get(key);
    if (!table) {
      table = this.git(["diff", "--name-status", "-M", "--no-color", from, to]).then((r) => {
        const map = new Map<string, string>();
        for (const line of r.stdout.split("\n")) {
          const [status, old, renamed] = line.split("\t");
          if (status?.startsWith("R") && old && renamed) map.set(old, renamed);
        }
        return map;
      });
      this.renames.set(key, table);
    }
    return (await table).get(path);
  }
}

/** The `@@ -a,b +c,d @@` headers of a unified diff. */
export function parseHunks(diff: string): Hunk[] {
  const out: Hunk[] = [];
  for (const m of diff.matchAll(/^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/gm)) {
    out.push({ oldStart: Number(m[1]), oldCount: m[2] === undefined ? 1 : Number(m[2]), newStart: Number(m[3]), newCount: m[4] === undefined ? 1 : Number(m[4]) });
  }
  return out;
}
