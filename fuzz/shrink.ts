/**
 * Shrinking a failing sequence to a minimal one: delta debugging (ddmin) over the steps, where a candidate
 * "still fails" when running it breaks the same invariant on the same command. Each try is a real run against
 * the server (fresh connections, fresh names), so the number of tries and the time are both bounded; the
 * smallest failing sequence found within the bounds is returned (1-minimal when the bounds were not hit). Then the
 * failing step's payload loses every top-level field the failure does not need.
 */
import type { Failure } from "./runner.js";
import type { Step } from "./steps.js";

export interface ShrinkBounds {
  maxRuns: number;
  maxMs: number;
}

export interface ShrinkResult {
  steps: Step[];
  runs: number;
  /** True when a bound stopped the search before the sequence was 1-minimal. */
  bounded: boolean;
}

/** `tryRun` runs a candidate and returns its failure, if any. */
export async function shrink(steps: readonly Step[], failure: Failure, tryRun: (candidate: Step[]) => Promise<Failure | undefined>, bounds: ShrinkBounds): Promise<ShrinkResult> {
  const started = Date.now();
  let runs = 0;
  let current = steps.slice(0, failure.step + 1);
  const same = (f: Failure | undefined) => f !== undefined && f.invariant === failure.invariant && f.command === failure.command;
  const out = () => runs >= bounds.maxRuns || Date.now() - started >= bounds.maxMs;
  let granularity = 2;
  while (current.length >= 2) {
    if (out()) return { steps: current, runs, bounded: true };
    const size = Math.ceil(current.length / granularity);
    let reduced = false;
    for (let start = 0; start < current.length; start += size) {
      if (out()) return { steps: current, runs, bounded: true };
      // Complements first: removing one chunk keeps the rest (the usual way a sequence gets shorter).
      const candidate = [...current.slice(0, start), ...current.slice(start + size)];
      if (candidate.length === 0) continue;
      runs++;
      const f = await tryRun(candidate);
      if (same(f)) {
        current = candidate.slice(0, (f as Failure).step + 1);
        granularity = Math.max(granularity - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (granularity >= current.length) break;
      granularity = Math.min(current.length, granularity * 2);
    }
  }
  // Then the failing step's own payload: drop its top-level fields one at a time while the failure stays.
  const lastIndex = current.length - 1;
  const last = current[lastIndex];
  if (last && last.payload && typeof last.payload === "object" && !Array.isArray(last.payload)) {
    let payload = last.payload as Record<string, unknown>;
    for (const key of Object.keys(payload)) {
      if (out()) return { steps: current, runs, bounded: true };
      const { [key]: _dropped, ...smaller } = payload;
      const candidate = [...current.slice(0, lastIndex), { ...last, payload: smaller }];
      runs++;
      const f = await tryRun(candidate);
      if (same(f) && (f as Failure).step === lastIndex) {
        payload = smaller;
        current = candidate;
      }
    }
  }
  return { steps: current, runs, bounded: false };
}
