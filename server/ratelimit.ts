/**
 * The per-connection limiter of the real server: a fixed window of `durationMs` in which every received message
 * consumes one point (rate-limiter-flexible's memory limiter behaves this way). Pure: the caller passes the clock.
 */
import type { RateLimitOptions } from "./options.js";

export interface RateState {
  rateWindowStart: number;
  ratePoints: number;
}

/** Consume one point and return the points consumed in the current window (over `points` = limited). */
export function consumePoint(state: RateState, limit: Required<RateLimitOptions>, now: number): number {
  if (now - state.rateWindowStart >= limit.durationMs) {
    state.rateWindowStart = now;
    state.ratePoints = 0;
  }
  state.ratePoints += 1;
  return state.ratePoints;
}
