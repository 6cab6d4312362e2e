/**
 * Rate-limit policy. server-latest allows 30 messages per second per connection and answers the excess with
 * an uncorrelated `error` frame "Rate limit exceeded" that carries the request's id (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#error-uncorrelated, https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#rate-limits);
 * a multi-frame request over the limit gets no answer at all.
 *
 * The client therefore does two things:
 * - **pacing**: a token bucket over outgoing frames. Mode "auto" (the default) sends at full speed until the
 *   server first says "Rate limit exceeded", then paces that connection at `messagesPerSecond`; a number
 *   paces from the start; `false` never paces. Full speed by default matters because local and test servers
 *   have no limit, and pacing an unlimited server would cost 100x in throughput.
 * - **retry**: a rate-limited request is sent again (new id) after a backoff, up to `retries` times, then
 *   fails with code "rate-limited".
 */
import type { Clock, TimerHandle } from "./clock.js";

export interface RateLimitPolicy {
  /** "auto" (default): pace only after the server reported the limit; a number: always pace; false: never. */
  pacing: "auto" | number | false;
  /** Frames per second once pacing is on. Default 25 (server-latest allows 30, replies included). */
  messagesPerSecond: number;
  /** Burst size of the bucket. Default 5. */
  burst: number;
  /** Retries of one request after "Rate limit exceeded". Default 3. */
  retries: number;
  /** Delay before the first retry, ms; doubles per retry. Default 300. */
  retryDelayMs: number;
}

export const defaultRateLimitPolicy: RateLimitPolicy = {
  pacing: "auto",
  messagesPerSecond: 25,
  burst: 5,
  retries: 3,
  retryDelayMs: 300,
};

const rateLimitText = /rate limit exceeded/i;

/** True when a server error text is the rate limiter's. */
export function isRateLimitText(text: string): boolean {
  return rateLimitText.test(text);
}

/** Classic token bucket; pure, time passed in. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }

  /** Take one token if available (returns 0), else return the ms until one will be. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}

/**
 * Sends frames through an optional token bucket. While unpaced, `send` writes straight through (no timer,
 * no queue). While paced, frames wait in FIFO order behind one timer.
 */
export class Pacer {
  private bucket: TokenBucket | undefined;
  private readonly queue: string[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly write: (text: string) => void,
  ) {}

  get paced(): boolean {
    return this.bucket !== undefined;
  }

  /** Frames waiting for a token. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Start pacing at `ratePerSecond` (no-op when already pacing). */
  enable(ratePerSecond: number, burst: number): void {
    if (this.bucket) return;
    this.bucket = new TokenBucket(ratePerSecond, Math.max(1, burst), this.clock.now());
  }

  send(text: string): void {
    if (!this.bucket || (this.queued === 0 && this.bucket.take(this.clock.now()) === 0)) {
      this.write(text);
      return;
    }
    this.queue.push(text);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || !this.bucket) return;
    const wait = this.bucket.take(this.clock.now());
    if (wait === 0) {
      this.flushOne();
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, wait);
  }

  private flushOne(): void {
    const text = this.queue[this.head];
    this.queue[this.head++] = "";
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (text !== undefined) this.write(text);
    if (this.queued > 0) this.schedule();
  }

  /** Drop queued frames and stop pacing (connection closed; the next connection starts unpaced in "auto"). */
  reset(keepPacing: boolean): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    if (!keepPacing) this.bucket = undefined;
  }
}
