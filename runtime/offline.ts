/**
 * Offline policy: what a request does while the client is not connected and signed in (initial connect,
 * reconnect backoff, session restore). "wait" parks it, bounded in count and time, until the session is back;
 * "fail" rejects at once with code "offline". A wait that ends (offline.maxWaitMs, or the request's own timeout when
 * shorter) also rejects with "offline": the request was not sent. Requests already sent when a connection drops are not replayed
 * (the server may have run them); they fail with code "closed".
 */
import type { Clock, TimerHandle } from "./clock.js";
import { OpenFlowError } from "./errors.js";

export interface OfflinePolicy {
  /** "wait" (default): park requests until signed in again; "fail": reject with "offline" at once. */
  mode: "wait" | "fail";
  /** Longest a request waits for the connection, ms. Default 30 000. */
  maxWaitMs: number;
  /** Most requests waiting at once; more fail with "offline". Default 1 000. */
  maxQueued: number;
}

export const defaultOfflinePolicy: OfflinePolicy = { mode: "wait", maxWaitMs: 30_000, maxQueued: 1_000 };

interface Waiter {
  resolve(): void;
  reject(error: OpenFlowError): void;
  timer: TimerHandle | undefined;
  cleanup: (() => void) | undefined;
}

/** A gate requests pass when online. Waiters are released in arrival order. */
export class OfflineGate {
  private online = false;
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: OfflinePolicy,
  ) {}

  get isOpen(): boolean {
    return this.online;
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Resolve when online. Rejects with "offline" (fail-fast policy, queue full, waited too long), "aborted",
   * or whatever `fail` is later called with. `deadline` (absolute clock time) caps the wait further.
   */
  wait(command: string, signal?: AbortSignal, deadline?: number): Promise<void> {
    if (this.online) return Promise.resolve();
    if (this.policy.mode === "fail") {
      return Promise.reject(new OpenFlowError("offline", `not connected: ${command} not sent (offline policy "fail")`, { command }));
    }
    if (this.waiters.size >= this.policy.maxQueued) {
      return Promise.reject(new OpenFlowError("offline", `not connected and ${this.policy.maxQueued} requests already waiting: ${command} not sent`, { command }));
    }
    if (signal?.aborted) return Promise.reject(abortError(command));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, cleanup: undefined };
      const now = this.clock.now();
      const wait = Math.max(0, Math.min(this.policy.maxWaitMs, deadline === undefined ? Infinity : deadline - now));
      const finish = () => {
        this.waiters.delete(waiter);
        if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
        waiter.cleanup?.();
      };
      waiter.resolve = () => {
        finish();
        resolve();
      };
      waiter.reject = (error) => {
        finish();
        reject(error);
      };
      waiter.timer = this.clock.setTimeout(() => {
        // Always "offline": the request was never sent (safe to retry), whichever limit ended the wait. "timeout" is
        // kept for requests that were sent and got no reply.
        const callerFirst = deadline !== undefined && deadline - now < this.policy.maxWaitMs;
        const limit = callerFirst ? `the request's timeout (${Math.round(deadline - now)} ms)` : `${this.policy.maxWaitMs} ms (offline.maxWaitMs)`;
        waiter.reject(new OpenFlowError("offline", `not connected within ${limit}: ${command} not sent`, { command }));
      }, wait);
      if (signal) {
        const onAbort = () => waiter.reject(abortError(command));
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.waiters.add(waiter);
    });
  }

  /** Go online and release every waiter (in arrival order). */
  open(): void {
    this.online = true;
    for (const waiter of [...this.waiters]) waiter.resolve();
  }

  /** Go offline; new requests wait or fail by policy. */
  shut(): void {
    this.online = false;
  }

  /** Reject every waiter (client closed or reconnect gave up). */
  fail(error: (command?: string) => OpenFlowError): void {
    this.online = false;
    for (const waiter of [...this.waiters]) waiter.reject(error());
  }
}

export function abortError(command: string, reason?: unknown): OpenFlowError {
  const detail = reason instanceof Error ? `: ${reason.message}` : typeof reason === "string" ? `: ${reason}` : "";
  return new OpenFlowError("aborted", `${command} aborted by the caller${detail}`, { command, cause: reason });
}
