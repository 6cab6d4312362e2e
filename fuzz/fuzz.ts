/**
 * `fuzz`: plans and runs the episodes (stateful flows at the server's package size and at a small one, invalid
 * input, then random requests from the schemas until the request or time budget is spent), shrinks each failure
 * to a minimal sequence, runs that once more to capture its frames, and returns the report. The command line
 * (cli/fuzz.ts) supplies the connections and prints the report.
 */
import { prng } from "./arbitrary.js";
import { flows, invalidSteps } from "./flows.js";
import { randomCommands, randomStep } from "./generate.js";
import { pooled, type Connector } from "./link.js";
import { replayFileText, type ReplayMeta } from "./replayfile.js";
import { runSequence, type Failure, type RunOptions } from "./runner.js";
import { shrink, type ShrinkBounds } from "./shrink.js";
import { loadSpec, type CommandSpecInfo } from "./spec.js";
import type { Step } from "./steps.js";
import type { LoggedFrame } from "./wire.js";

/** Every name the fuzzer creates starts with this, then the seed and the run number: `ofsfuzz_42_7_data`. */
export const NAME_PREFIX = "ofsfuzz_";

/** The small package size flows run at besides the server's own (the runtime's lower bound is 100). */
export const SMALL_PACKAGE_SIZE = 128;

export interface FuzzConfig {
  connect: Connector;
  /** Sign-ins given (1 or 2). */
  users: number;
  seed: number;
  maxRequests: number;
  durationMs: number;
  /** Only these commands (undefined: all). */
  commands?: ReadonlySet<string> | undefined;
  readOnly: boolean;
  allowAdmin: boolean;
  slowMs?: number | undefined;
  timeoutMs: number;
  /** The second user is an administrator (sees everything): the ACL flow would prove nothing. */
  secondUserIsAdmin?: boolean;
  shrink?: Partial<ShrinkBounds>;
  /** Stop after this many distinct failures. */
  maxFailures?: number;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

export interface FuzzFailure extends Failure {
  /** The minimal sequence. */
  steps: Step[];
  /** Frames of the minimal sequence's last run. */
  frames: LoggedFrame[];
  shrinkRuns: number;
  shrinkBounded: boolean;
  /** The replay file's text (written to --out DIR by the command line). */
  replay: string;
  /** File name for the replay (no directory). */
  replayName: string;
}

export interface FuzzReport {
  seed: number;
  prefix: string;
  requests: number;
  durationMs: number;
  episodes: number;
  flows: string[];
  skipped: string[];
  randomCommands: string[];
  rateLimited: number;
  cleanup: { removed: number; failed: number };
  failures: FuzzFailure[];
  /** True when --requests or --duration ended the run. */
  budgetReached: boolean;
}

interface Episode {
  name: string;
  steps: Step[];
}

/** Is this command allowed by --read-only, --allow-admin and --commands? */
export function commandAllowed(info: CommandSpecInfo, config: Pick<FuzzConfig, "readOnly" | "allowAdmin" | "commands">, ignoreList = false): boolean {
  if (config.readOnly && info.effect !== "read") return false;
  if (info.effect === "admin" && !config.allowAdmin) return false;
  if (!ignoreList && config.commands && !config.commands.has(info.command)) return false;
  return true;
}

function plan(config: FuzzConfig, skipped: string[]): { fixed: Episode[]; random: string[] } {
  const spec = loadSpec();
  const allowed = (c: string) => {
    const info = spec.commands.get(c);
    return info !== undefined && commandAllowed(info, config, true);
  };
  const wanted = (commands: string[]) => !config.commands || commands.some((c) => config.commands?.has(c));
  const random = randomCommands(spec, (info) => commandAllowed(info, config));
  let everyCommand: Episode | undefined;
  if (random.length > 0) {
    // Every command once, valid, on a collection that holds a document: a wrong reply of any of them is found on
    // the first pass, not by a lucky seed.
    const seedDoc: Step[] = allowed("insertone") ? [{ as: 0, note: "every command: a document to work on", command: "insertone", payload: { collectionname: "${P}_data", item: { _type: "fuzz", name: "${P}_seed", n: 1 } }, expect: "ok" }] : [];
    everyCommand = { name: "every command once", steps: [...seedDoc, ...random.map((c, i) => randomStep(spec, c, config.seed + i, { invalid: false }))] };
  }
  const fixed: Episode[] = [];
  for (const chunk of [undefined, SMALL_PACKAGE_SIZE]) {
    const at = chunk === undefined ? "server package size" : `package size ${chunk}`;
    // After the flows at the server's package size, before the small one.
    if (chunk !== undefined && everyCommand) fixed.push(everyCommand);
    for (const flow of flows) {
      const label = `${flow.name} (${at})`;
      if (!wanted(flow.commands)) continue;
      if (!flow.commands.every(allowed)) {
        if (chunk === undefined) skipped.push(`${flow.name}: ${config.readOnly ? "--read-only" : "needs an admin command"}`);
        continue;
      }
      if (flow.twoUsers && config.users < 2) {
        if (chunk === undefined) skipped.push(`${flow.name}: needs a second --user`);
        continue;
      }
      if (flow.twoUsers && config.secondUserIsAdmin) {
        if (chunk === undefined) skipped.push(`${flow.name}: the second user is an administrator (sees everything)`);
        continue;
      }
      fixed.push({ name: label, steps: flow.steps(chunk) });
    }
    const invalid = invalidSteps(chunk).filter((s) => (spec.commands.get(s.command) ? allowed(s.command) && wanted([s.command]) : !config.commands));
    if (invalid.length > 0) fixed.push({ name: `invalid input (${at})`, steps: invalid });
  }
  return { fixed, random };
}

/** Run the fuzzer. Throws only for programming errors; server problems are failures in the report. */
export async function fuzz(config: FuzzConfig): Promise<FuzzReport> {
  const pool = pooled(config.connect);
  try {
    return await fuzzWith({ ...config, connect: pool.connect });
  } finally {
    pool.close();
  }
}

async function fuzzWith(config: FuzzConfig): Promise<FuzzReport> {
  const started = Date.now();
  const spec = loadSpec();
  const skipped: string[] = [];
  const { fixed, random } = plan(config, skipped);
  const rand = prng(config.seed);
  const style: RunOptions["style"] = { seen: undefined };
  let requests = 0;
  let runNumber = 0;
  let rateLimited = 0;
  const cleanup = { removed: 0, failed: 0 };
  const failures: FuzzFailure[] = [];
  const seen = new Set<string>();
  const maxFailures = config.maxFailures ?? 5;
  const bounds: ShrinkBounds = { maxRuns: config.shrink?.maxRuns ?? 40, maxMs: config.shrink?.maxMs ?? 30_000 };
  const overBudget = () => requests >= config.maxRequests || Date.now() - started >= config.durationMs;
  let budgetReached = false;

  const run = async (steps: Step[], bounded: boolean) => {
    runNumber++;
    const result = await runSequence(steps, {
      connect: config.connect,
      users: config.users,
      prefix: `${NAME_PREFIX}${config.seed}_${runNumber}`,
      timeoutMs: config.timeoutMs,
      slowMs: config.slowMs,
      allowAdmin: config.allowAdmin,
      style,
      onRequest: () => requests++,
      ...(bounded ? { shouldStop: overBudget } : {}),
    });
    rateLimited += result.rateLimited;
    cleanup.removed += result.cleanup.removed;
    cleanup.failed += result.cleanup.failed;
    return result;
  };

  const episodes: Episode[] = [...fixed];
  let done = 0;
  let randomIndex = 0;
  for (;;) {
    if (overBudget()) {
      budgetReached = true;
      break;
    }
    if (failures.length >= maxFailures) break;
    let episode = episodes[done];
    if (!episode) {
      if (random.length === 0) break;
      // A batch of random requests: commands, validity and package size from the seed.
      const steps: Step[] = [];
      for (let i = 0; i < 8; i++) {
        const command = random[Math.floor(rand() * random.length)] as string;
        const seed = (config.seed * 1_000_003 + randomIndex++) | 0;
        steps.push(randomStep(spec, command, seed, { invalid: rand() < 0.3, chunkSize: rand() < 0.5 ? undefined : SMALL_PACKAGE_SIZE }));
      }
      episode = { name: `random batch ${randomIndex / 8}`, steps };
      episodes.push(episode);
    }
    done++;
    config.progress?.(`${((Date.now() - started) / 1000).toFixed(1)}s ${episode.name}: ${episode.steps.length} steps`);
    const result = await run(episode.steps, true);
    const failure = result.failure;
    if (!failure) continue;
    const key = `${failure.invariant}\u0000${failure.command}`;
    if (seen.has(key)) continue;
    seen.add(key);
    config.progress?.(`  ${failure.invariant} at step ${failure.step + 1} (${failure.note}); shrinking`);
    const shrunk = await shrink(episode.steps, failure, async (candidate) => (await run(candidate, false)).failure, bounds);
    // One more run of the minimal sequence, for its frames (and to confirm it still fails).
    let last = await run(shrunk.steps, false);
    let finalFailure = last.failure;
    let steps = shrunk.steps;
    if (!finalFailure || finalFailure.invariant !== failure.invariant) {
      // Flaky under shrinking: report the original sequence instead.
      steps = episode.steps.slice(0, failure.step + 1);
      last = await run(steps, false);
      finalFailure = last.failure ?? failure;
    }
    const meta: ReplayMeta = { version: 1, seed: config.seed, failure: { invariant: finalFailure.invariant, message: finalFailure.message, note: finalFailure.note, command: finalFailure.command, step: finalFailure.step }, steps };
    failures.push({
      ...finalFailure,
      steps,
      frames: last.frames,
      shrinkRuns: shrunk.runs,
      shrinkBounded: shrunk.bounded,
      replay: replayFileText(meta, last.frames),
      replayName: `fuzz-${config.seed}-${failures.length + 1}-${finalFailure.invariant}-${finalFailure.command.replace(/[^a-z0-9_]/gi, "_")}.ndjson`,
    });
  }
  return {
    seed: config.seed,
    prefix: `${NAME_PREFIX}${config.seed}_`,
    requests,
    durationMs: Date.now() - started,
    episodes: done,
    flows: fixed.map((e) => e.name),
    skipped,
    randomCommands: random,
    rateLimited,
    cleanup,
    failures,
    budgetReached,
  };
}

/** `fuzz --replay FILE`: run a replay file's steps once more with the same checks. */
export async function replaySteps(meta: ReplayMeta, config: Pick<FuzzConfig, "connect" | "users" | "timeoutMs" | "slowMs" | "allowAdmin">): Promise<{ failure: Failure | undefined; frames: LoggedFrame[]; cleanup: { removed: number; failed: number } }> {
  const pool = pooled(config.connect);
  const result = await runSequence(meta.steps, {
    connect: pool.connect,
    users: config.users,
    prefix: `${NAME_PREFIX}${meta.seed}_replay${Date.now() % 100000}`,
    timeoutMs: config.timeoutMs,
    slowMs: config.slowMs,
    allowAdmin: config.allowAdmin,
    style: { seen: undefined },
  }).finally(() => pool.close());
  return { failure: result.failure, frames: result.frames, cleanup: result.cleanup };
}
