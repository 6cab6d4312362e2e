/**
 * Keeping password signins from starving everyone else. scrypt runs on libuv's thread pool (4 threads), which
 * token verification and file I/O need too: a flood of signins used to queue hundreds of hashes there and every
 * other client's next command waited seconds. `HashGate` lets a few hashes run at once and a bounded line wait
 * (beyond it a signin is refused as busy at once); `FailureCounter` refuses a username from one address, or an
 * address, that failed too often within a window before any hash is computed.
 */
import { authError } from "./errors.js";

export class HashGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private concurrency: number,
    private queueLimit: number,
  ) {}

  configure(concurrency: number, queueLimit: number): void {
    this.concurrency = concurrency;
    this.queueLimit = queueLimit;
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Run `work` when a slot is free; refused with an auth error when the line is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        throw authError(`Server busy: ${this.waiting.length} password checks are waiting (limits.maxQueuedHashes); try again later`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; `running` only drops when nobody waits.
      if (next) next();
      else this.running--;
    }
  }
}

/** Password hashing is a process-wide resource (one libuv pool), so is its gate; each server sets its limits. */
export const hashGate = new HashGate(1, 64);

interface Window {
  start: number;
  failures: number;
}

/** Failed attempts per key in a fixed window; a key at `max` failures is refused until its window ends. */
export class FailureCounter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly what: string,
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    /** Most keys remembered; the oldest are forgotten first (an attacker varying usernames cannot grow it). */
    private readonly maxKeys = 10_000,
  ) {}

  private current(key: string): Window | undefined {
    const w = this.windows.get(key);
    if (w && this.now() - w.start >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  /** Throws an auth error naming the key when it is refused for now. */
  /** Refuses a key at its limit; `shown` is how the message names it (default: the key). */
  check(key: string, shown = key): void {
    const w = this.current(key);
    if (w && w.failures >= this.max) {
      const wait = Math.ceil((w.start + this.windowMs - this.now()) / 1000);
      throw authError(`Too many failed signins for ${this.what} ${shown}; try again in ${wait} s`);
    }
  }

  fail(key: string): void {
    const w = this.current(key);
    if (w) {
      w.failures++;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
    this.windows.set(key, { start: this.now(), failures: 1 });
  }

  get size(): number {
    return this.windows.size;
  }
}
