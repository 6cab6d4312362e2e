/**
 * The injectable clock. Every timer in the runtime goes through one of these, so tests drive time by hand
 * (vscode-jsonrpc `ral.ts`) and the runtime never reads `Date.now()` behind the caller's back.
 */

/** Opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic-enough scale; only differences are used. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Longest delay platform timers take (2^31 - 1 ms, about 24.8 days). Node and browsers run a longer one after
 * 1 ms instead, so a `connectTimeoutMs` or `offline.maxWaitMs` of 30 days failed at once and a 30-day request
 * timeout re-armed its timer every millisecond; longer delays are capped here (the correlator re-checks
 * deadlines when its timer fires).
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The platform clock (`Date.now`, global `setTimeout`); works in Node and browsers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, Math.min(ms, MAX_TIMER_DELAY_MS)),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};

/**
 * A manual clock for tests and simulations: time moves only through `advance`, and due callbacks run in
 * deadline order (ties in creation order).
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; seq: number; callback: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = ++this.seq;
    this.timers.set(handle, { at: this.time + Math.max(0, ms), seq: handle, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of timers still scheduled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, running every callback that falls due (including ones scheduled meanwhile). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      let next: { handle: number; at: number; seq: number } | undefined;
      for (const [handle, t] of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = { handle, at: t.at, seq: t.seq };
      }
      if (!next) break;
      const timer = this.timers.get(next.handle);
      this.timers.delete(next.handle);
      this.time = Math.max(this.time, next.at);
      timer?.callback();
    }
    this.time = target;
  }
}
