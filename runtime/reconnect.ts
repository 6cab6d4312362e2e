/**
 * Reconnect policy: exponential backoff with jitter, a maximum delay and an optional give-up. Pure functions;
 * the client owns the timer.
 */

export interface ReconnectPolicy {
  /** Reconnect after an unexpected close. Default true. */
  enabled: boolean;
  /** Delay before the first attempt, ms. Default 250. */
  initialDelayMs: number;
  /** Upper bound for one delay, ms. Default 30 000. */
  maxDelayMs: number;
  /** Growth factor per attempt. Default 2. */
  multiplier: number;
  /**
   * Fraction of each delay that is random, 0..1. Default 0.5: a delay is uniformly in [base/2, base], so a fleet
   * of robots that lost the same server does not come back in lockstep.
   */
  jitter: number;
  /** Give up after this many failed attempts in a row (then the client closes). Default Infinity. */
  maxAttempts: number;
}

export const defaultReconnectPolicy: ReconnectPolicy = {
  enabled: true,
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Delay before attempt number `attempt` (0-based), given a random number in [0, 1). */
export function backoffDelay(attempt: number, policy: ReconnectPolicy, random: number): number {
  const exponent = Math.min(Math.max(0, attempt), 64);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * Math.pow(policy.multiplier, exponent));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(base * (1 - jitter + jitter * random)));
}

/** True when another attempt is allowed after `failures` failed attempts in a row. */
export function shouldRetry(failures: number, policy: ReconnectPolicy): boolean {
  return policy.enabled && failures < policy.maxAttempts;
}

/**
 * Whether failed reconnect attempt number `failures` (1-based) is worth a warning: the first three, then attempts
 * 4, 8, 16, 32, ... A server that stays down for a day costs a handful of lines instead of thousands; the attempts
 * in between are logged at debug level.
 */
export function reportReconnectFailure(failures: number): boolean {
  return failures <= 3 || (Number.isInteger(failures) && (failures & (failures - 1)) === 0);
}

/** The next attempt number `reportReconnectFailure` reports after `failures`. */
export function nextReportedFailure(failures: number): number {
  let next = failures + 1;
  while (!reportReconnectFailure(next)) next += 1;
  return next;
}
