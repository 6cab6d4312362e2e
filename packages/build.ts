/**
 * Builds the two npm packages from this one tree (nothing is moved, nothing ships twice):
 *
 * - `openflow-spec` (packages/openflow-spec/package.json): the client. `dist/runtime` and `dist/generated` (types,
 *   typed client, command table, validators). Depends on `ws` only.
 * - `openflow-spec-tools` (packages/openflow-spec-tools/package.json): the `openflow-spec-tools` command, also
 *   installed as `openflow-spec` (validate, serve,
 *   generate, lint, diff, proxy, ...) and the server/validator/proxy libraries: `dist/cli`, `dist/server`,
 *   `dist/validator`, `dist/generator`, `dist/diff`, `dist/proxy`, `dist/sources`, `schemas/`, `templates/`. Depends on `openflow-spec` (same version) and the generator's toolchain.
 *
 * Each package ships its own README (packages/<name>/README.md, absolute links only: npm shows it outside the
 * repository). Each package is staged in a temporary directory (its package.json + the build output it lists in `files`), and
 * `npm pack` writes the tarball. In the tools package, the compiled imports that reach into the client
 * (`../runtime/framing.js`, ...) are rewritten to the client package's public entries; an import of a client module
 * that is not mapped below fails the build, naming the file.
 *
 * `npx tsx packages/build.ts [--out DIR]` (default `.tmp/packages`) prints the tarball paths.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The client package's entry for each client module the tools import (keys relative to dist/). */
const CLIENT_ENTRIES: Readonly<Record<string, string>> = {
  "runtime/index.js": "openflow-spec",
  "runtime/errors.js": "openflow-spec",
  "runtime/framing.js": "openflow-spec/framing",
  "runtime/validate.js": "openflow-spec/validation",
  "generated/commands.js": "openflow-spec/generated/commands",
  // The client runtime's public entry exports these modules' public names (values and types).
  "runtime/client.js": "openflow-spec",
  "runtime/core.js": "openflow-spec",
  "runtime/logger.js": "openflow-spec",
  "runtime/session.js": "openflow-spec",
  "runtime/subscriptions.js": "openflow-spec",
  "generated/types.js": "openflow-spec",
  "runtime/robots.js": "openflow-spec/robots",
};

interface PackagePlan {
  readonly dir: string;
  /** Build output copied into the package: [from (repo-relative), to (package-relative)]. */
  readonly copy: readonly (readonly [string, string])[];
  /** Rewrite imports that leave the package into the client package. */
  readonly rewriteClientImports: boolean;
}

const PLANS: readonly PackagePlan[] = [
  {
    dir: "packages/openflow-spec",
    copy: [
      ["dist/runtime", "dist/runtime"],
      ["dist/generated", "dist/generated"],
    ],
    rewriteClientImports: false,
  },
  {
    dir: "packages/openflow-spec-tools",
    copy: [
      ["dist/cli", "dist/cli"],
      ["dist/server", "dist/server"],
      ["dist/validator", "dist/validator"],
      ["dist/generator", "dist/generator"],
      ["dist/diff", "dist/diff"],
      ["dist/proxy", "dist/proxy"],
      ["dist/robot", "dist/robot"],
      ["dist/sources", "dist/sources"],
      ["dist/fuzz", "dist/fuzz"],
      ["schemas", "schemas"],
      ["templates", "templates"],
    ],
    rewriteClientImports: true,
  },
];

const SOURCE_DIRS = ["runtime", "server", "generator", "generated", "cli", "validator", "diff", "proxy", "robot", "sources", "fuzz"];

/**
 * Only build output whose source still exists is packed: an incremental build never deletes the output of a
 * source file that was moved or removed, so dist/ may hold stale modules.
 */
function hasSource(distFile: string): boolean {
  const rel = relative(join(REPO, "dist"), distFile);
  if (rel.startsWith("..")) return true; // not build output (schemas/, templates/)
  if (statSync(distFile).isDirectory()) return true;
  const stem = rel.replace(/\.d\.ts$/, "").replace(/\.js$/, "");
  return [".ts", ".js"].some((ext) => {
    try {
      return statSync(join(REPO, stem + ext)).isFile();
    } catch {
      return false;
    }
  });
}

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Runs the TypeScript build (incremental) unless dist/ is newer than every source file. */
export async function ensureBuilt(): Promise<void> {
  const stamp = join(REPO, "dist", ".tsbuildinfo");
  let built = 0;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestMtime(join(REPO, d))), ...["tsconfig.json", "tsconfig.build.json"].map((f) => statSync(join(REPO, f)).mtimeMs));
  if (built > sources) return;
  await run(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "tsconfig.build.json")], { cwd: REPO, timeout: 300_000 });
  // tsc leaves its build info untouched when no output changed (a regenerated but identical file): mark it fresh.
  const now = new Date();
  utimesSync(stamp, now, now);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/**
 * `../runtime/framing.js` (from dist/server/x.js) -> `openflow-spec/framing`. Only specifiers that resolve into
 * dist/runtime or dist/generated are touched; everything else stays relative.
 */
export function rewriteClientImports(text: string, fileInDist: string, file: string): string {
  const specifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])((?:\.\.?\/)+(?:runtime|generated)\/[\w./-]+\.js)\2/g;
  return text.replace(specifier, (whole, lead: string, quote: string, spec: string) => {
    const target = relative("/dist", resolve("/dist", dirname(fileInDist), spec)).replace(/\\/g, "/");
    if (!target.startsWith("runtime/") && !target.startsWith("generated/")) return whole;
    const entry = CLIENT_ENTRIES[target];
    if (entry === undefined) throw new Error(`${file}: imports ${spec} (dist/${target}), which the openflow-spec package does not export; add it to CLIENT_ENTRIES and its exports`);
    return `${lead}${quote}${entry}${quote}`;
  });
}

/**
 * Every bare import in the staged JavaScript must name a dependency the package declares (or a Node built-in):
 * a library another branch adds to the tools would otherwise install here but crash where users install them.
 */
function checkDependencies(stage: string): void {
  const pkg = JSON.parse(readFileSync(join(stage, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
  const declared = new Set([String(pkg["name"]), ...Object.keys(pkg["dependencies"] ?? {}), ...Object.keys(pkg["optionalDependencies"] ?? {}), ...Object.keys(pkg["peerDependencies"] ?? {})]);
  const missing: string[] = [];
  for (const file of filesUnder(join(stage, "dist"))) {
    if (!file.endsWith(".js")) continue;
    for (const m of readFileSync(file, "utf8").matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g)) {
      const spec = m[1] ?? "";
      if (spec.startsWith("node:")) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec);
      if (!declared.has(name)) missing.push(`${relative(stage, file)} imports ${spec}`);
    }
  }
  if (missing.length > 0) throw new Error(`undeclared dependencies in the ${String(pkg["name"])} package (add them to its package.json under packages/):\n  ${missing.join("\n  ")}`);
}

/** The package.json to publish: the committed one, with the version (and the tools' client dependency) of the repository. */
function manifest(plan: PackagePlan, version: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO, plan.dir, "package.json"), "utf8")) as { version: string; dependencies?: Record<string, string> };
  pkg.version = version;
  if (pkg.dependencies?.["openflow-spec"] !== undefined) pkg.dependencies["openflow-spec"] = version;
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** Stage one package in `stage` (a fresh directory). */
function stagePackage(plan: PackagePlan, stage: string, version: string): void {
  writeFileSync(join(stage, "package.json"), manifest(plan, version));
  // Each package has its own short README (absolute links only: npm shows it outside the repository).
  cpSync(join(REPO, plan.dir, "README.md"), join(stage, "README.md"));
  for (const [from, to] of plan.copy) {
    // generator/site builds this repository's docs site from its guides: not part of what the tools install.
    const filter = (src: string): boolean => !src.endsWith(".tsbuildinfo") && !src.includes(`${join("dist", "generator", "site")}`) && hasSource(src);
    cpSync(join(REPO, from), join(stage, to), { recursive: true, filter });
  }
  if (plan.rewriteClientImports) rewriteAll(stage);
  checkDependencies(stage);
}

function rewriteAll(stage: string): void {
  const dist = join(stage, "dist");
  for (const file of filesUnder(dist)) {
    if (!/\.(js|d\.ts)$/.test(file)) continue;
    const text = readFileSync(file, "utf8");
    const rewritten = rewriteClientImports(text, relative(dist, file), relative(stage, file));
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

export interface BuiltPackages {
  /** Tarball of the client package `openflow-spec`. */
  client: string;
  /** Tarball of `openflow-spec-tools`. */
  tools: string;
  version: string;
}

/** Build (if stale), stage and `npm pack` both packages into `outDir`. */
export async function buildPackages(outDir: string): Promise<BuiltPackages> {
  await ensureBuilt();
  const version = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
  mkdirSync(outDir, { recursive: true });
  const tarballs: string[] = [];
  const stages = mkdtempSync(join(tmpdir(), "openflow-spec-stage-"));
  try {
    for (const plan of PLANS) {
      const stage = join(stages, plan.dir.split("/").pop() ?? "package");
      mkdirSync(stage);
      stagePackage(plan, stage, version);
      const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", outDir], { cwd: stage, timeout: 120_000 });
      const [info] = JSON.parse(stdout) as { filename: string }[];
      if (!info) throw new Error(`npm pack wrote nothing for ${plan.dir}`);
      tarballs.push(join(outDir, info.filename));
    }
  } finally {
    rmSync(stages, { recursive: true, force: true });
  }
  const [client, tools] = tarballs as [string, string];
  return { client, tools, version };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const at = process.argv.indexOf("--out");
  const out = resolve(at > 0 ? (process.argv[at + 1] ?? ".tmp/packages") : join(REPO, ".tmp", "packages"));
  buildPackages(out).then(
    (built) => process.stdout.write(`${built.client}\n${built.tools}\n`),
    (err: unknown) => {
      process.stderr.write(`packages/build.ts: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
