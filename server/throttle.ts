/**
 * Keeping password signins from starving everyone else, and guessing slow, without a lockout anyone can trigger.
 *
 * - `HashGate`: scrypt runs on libuv's thread pool (4 threads), which token verification and file I/O need too,
 *   so only a few hashes run at once and a bounded line waits. The line has fair shares: one address may hold
 *   at most limits.maxQueuedHashesPerAddress places and one username limits.maxQueuedHashesPerUser; when the line
 *   is full, a newcomer from an address with fewer places than the address holding the most takes the newest
 *   place of that address (which is answered "busy"). A flood from many addresses thus cannot keep a client from
 *   another address out of the line, and none from its own share.
 * - `SigninThrottle` follows OWASP's authentication guidance (throttle, do not lock out): failures are counted per
 *   (username, address) and per address within a window; past the free failures every further signin of that
 *   pair (or address) waits a delay that doubles with each failure, up to limits.signinMaxDelayMs. The right
 *   password still signs in after the delay: a third party failing on purpose slows the owner down at most by
 *   that much, never locks him out, and a success clears the pair's count.
 */
import { authError } from "./errors.js";

/** Who a signin is for: the client's address and the username (lower case); either may be empty. */
export interface SigninKey {
  address: string;
  user: string;
}

interface Waiter {
  key: SigninKey;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface GateLimits {
  concurrency: number;
  queue: number;
  perAddress: number;
  perUser: number;
}

function busy(detail: string): Error {
  return authError(`Server busy: ${detail}; try again later`);
}

export class HashGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private limits: GateLimits;

  constructor(concurrency: number, queueLimit: number) {
    this.limits = { concurrency, queue: queueLimit, perAddress: queueLimit, perUser: queueLimit };
  }

  configure(concurrency: number, queueLimit: number, perAddress = queueLimit, perUser = queueLimit): void {
    this.limits = { concurrency, queue: queueLimit, perAddress, perUser };
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private count(pick: (key: SigninKey) => string, value: string): number {
    let n = 0;
    for (const w of this.waiting) if (pick(w.key) === value) n++;
    return n;
  }

  /** Take a place in the line for `key`, or throw "busy" naming the limit that is full. */
  private enqueue(key: SigninKey): Promise<void> {
    const { queue, perAddress, perUser } = this.limits;
    if (key.address && this.count((k) => k.address, key.address) >= perAddress) {
      throw busy(`${perAddress} password checks from ${key.address} are waiting (limits.maxQueuedHashesPerAddress)`);
    }
    if (key.user && this.count((k) => k.user, key.user) >= perUser) throw busy(`${perUser} password checks for ${key.user} are waiting (limits.maxQueuedHashesPerUser)`);
    if (this.waiting.length >= queue) {
      // Fair share of a full line: the address holding the most places gives its newest one up, if it holds more than ours.
      const counts = new Map<string, number>();
      for (const w of this.waiting) counts.set(w.key.address, (counts.get(w.key.address) ?? 0) + 1);
      let most = "";
      let mostCount = 0;
      for (const [address, n] of counts) if (n > mostCount) [most, mostCount] = [address, n];
      const own = counts.get(key.address) ?? 0;
      if (mostCount <= own) throw busy(`${this.waiting.length} password checks are waiting (limits.maxQueuedHashes)`);
      const at = this.waiting.map((w) => w.key.address).lastIndexOf(most);
      const [victim] = this.waiting.splice(at, 1);
      victim?.reject(busy(`a signin from another address took this place in the line (limits.maxQueuedHashes ${queue}, shared fairly by address)`));
    }
    return new Promise<void>((resolve, reject) => this.waiting.push({ key, resolve, reject }));
  }

  /** Run `work` when a slot is free; refused with an auth error when the line (or the key's share) is full. */
  async run<T>(work: () => Promise<T>, key: SigninKey = { address: "", user: "" }): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      await this.enqueue(key);
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; `running` only drops when nobody waits.
      if (next) next.resolve();
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

/** Failed attempts per key in a fixed window, forgetting the oldest keys beyond `maxKeys`. */
export class FailureCounter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    /** Most keys remembered; the oldest are forgotten first (an attacker varying usernames cannot grow it). */
    private readonly maxKeys = 10_000,
  ) {}

  /** Failures of `key` in its current window. */
  failures(key: string): number {
    const w = this.windows.get(key);
    if (w && this.now() - w.start >= this.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w?.failures ?? 0;
  }

  fail(key: string): void {
    const w = this.failures(key) > 0 ? this.windows.get(key) : undefined;
    if (w) {
      w.failures++;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
    this.windows.set(key, { start: this.now(), failures: 1 });
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }
}

export interface ThrottleLimits {
  signinFailuresPerUser: number;
  signinFailuresPerAddress: number;
  signinFailureWindowMs: number;
  signinDelayBaseMs: number;
  signinMaxDelayMs: number;
}

/** Progressive slow-down of signins by (username, address) and by address (see the module comment). */
export class SigninThrottle {
  private readonly pairs: FailureCounter;
  private readonly addresses: FailureCounter;

  constructor(
    private readonly limits: ThrottleLimits,
    now: () => number,
  ) {
    this.pairs = new FailureCounter(limits.signinFailureWindowMs, now);
    this.addresses = new FailureCounter(limits.signinFailureWindowMs, now);
  }

  private static pair(key: SigninKey): string {
    return `${key.user}\u0000${key.address}`;
  }

  /** Milliseconds the next signin for `key` waits before its password is checked (0: none). */
  delayFor(key: SigninKey): number {
    const { signinFailuresPerUser, signinFailuresPerAddress, signinDelayBaseMs, signinMaxDelayMs } = this.limits;
    const step = (failures: number, free: number) => (failures < free ? 0 : Math.min(signinMaxDelayMs, signinDelayBaseMs * 2 ** Math.min(failures - free, 30)));
    const byPair = step(this.pairs.failures(SigninThrottle.pair(key)), signinFailuresPerUser);
    const byAddress = key.address ? step(this.addresses.failures(key.address), signinFailuresPerAddress) : 0;
    return Math.max(byPair, byAddress);
  }

  failed(key: SigninKey): void {
    this.pairs.fail(SigninThrottle.pair(key));
    if (key.address) this.addresses.fail(key.address);
  }

  succeeded(key: SigninKey): void {
    this.pairs.reset(SigninThrottle.pair(key));
  }
}
