/**
 * Correlation: pending requests by frame id, and turning a reply into a result or an error. Every tracked
 * request settles exactly once: reply, server error, timeout, abort, or `failAll` when the connection closes.
 *
 * Timeouts use one timer for the whole map, armed for the earliest deadline, instead of one timer per request:
 * with equal timeouts the deadlines only grow, so tracking a request is O(1) and arms nothing new.
 */
import type { Clock, TimerHandle } from "./clock.js";
import { OpenFlowError, type ErrorCode } from "./errors.js";
import type { WireMessage } from "./framing.js";
import { redactText } from "./logger.js";
import { abortError } from "./offline.js";
import { isRateLimitText } from "./ratelimit.js";

/** Result of interpreting one reply message. */
export type ReplyOutcome = { ok: true; payload: unknown } | { ok: false; error: OpenFlowError };

/** Texts by which servers reject credentials or tokens (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#error-command, https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#signin). */
const authText =
  /unknown username or password|failed logging in|missing jwt|invalid or expired jwt|not signed in|jwt (?:expired|malformed)|invalid signature|failed resolving token|disabled users? |not validated|token expired/i;
const unknownCommandText = /^\s*unknown (?:custom )?command\b/i;

/** Map a server error text to an error code (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#error-detection). */
export function classifyServerError(text: string, requestCommand: string): ErrorCode {
  if (unknownCommandText.test(text)) return "unsupported";
  if (isRateLimitText(text)) return "rate-limited";
  if (requestCommand.toLowerCase() === "signin" || authText.test(text)) return "auth";
  return "server";
}

/** Build the OpenFlowError for a server error text, keeping the server's message (redacted) and the command. */
export function serverError(text: string, requestCommand: string, id?: string): OpenFlowError {
  const clean = redactText(text);
  const code = classifyServerError(clean, requestCommand);
  return new OpenFlowError(code, `${requestCommand}: ${clean}`, { command: requestCommand, id, serverMessage: clean });
}

function errorText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === false || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object") {
    const message = (value as { message?: unknown }).message;
    if (typeof message === "string" && message !== "") return message;
    if (Object.keys(value).length === 0) return undefined;
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Parse `data` as JSON; `""`, null and missing give null (the schema contract's payload rule). */
export function parsePayload(data: string | null | undefined): { ok: true; value: unknown } | { ok: false; text: string; reason: string } {
  if (data === undefined || data === null || data === "") return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch (err) {
    return { ok: false, text: data, reason: (err as Error).message };
  }
}

/**
 * Decide whether a reply is a success: failed when its command is `error` or its payload has a non-empty
 * `error`; then the text is the payload's `error`, else its `message`, else the raw (non-JSON) data.
 */
export function interpretReply(message: WireMessage, requestCommand: string): ReplyOutcome {
  const parsed = parsePayload(message.data);
  // The length test first: no lower-cased copy of the command for every reply.
  const isErrorCommand = message.command.length === 5 && message.command.toLowerCase() === "error";
  if (!parsed.ok) {
    if (isErrorCommand) return { ok: false, error: serverError(parsed.text.slice(0, 10_000), requestCommand, message.replyto ?? undefined) };
    return {
      ok: false,
      error: new OpenFlowError("protocol", `${requestCommand}: reply data is not JSON (${parsed.reason})`, { command: requestCommand, id: message.replyto ?? undefined }),
    };
  }
  const payload = parsed.value;
  const fields = payload !== null && typeof payload === "object" && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  const text = errorText(fields?.error);
  if (text !== undefined) return { ok: false, error: serverError(text, requestCommand, message.replyto ?? undefined) };
  if (isErrorCommand) {
    const fallback = errorText(fields?.message) ?? (typeof payload === "string" && payload !== "" ? payload : undefined) ?? "error reply without a message";
    return { ok: false, error: serverError(fallback, requestCommand, message.replyto ?? undefined) };
  }
  return { ok: true, payload };
}

interface Pending {
  command: string;
  deadline: number;
  resolve(value: unknown): void;
  reject(error: OpenFlowError): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timeoutMs: number;
}

export interface TrackOptions {
  /** Absolute clock time after which the request fails with "timeout"; Infinity for none. */
  deadline: number;
  /** For the timeout message. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Interpret the reply (default `interpretReply`); lets the caller post-process the payload. */
}

/** Pending requests keyed by frame id. */
export class Correlator {
  private readonly pending = new Map<string, Pending>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.pending.size;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /** Command of a pending request, if any. */
  commandOf(id: string): string | undefined {
    return this.pending.get(id)?.command;
  }

  /** Track request `id`; the promise resolves with the reply payload or rejects with an OpenFlowError. */
  track(id: string, command: string, options: TrackOptions): Promise<unknown> {
    if (this.pending.has(id)) {
      return Promise.reject(new OpenFlowError("usage", `request id ${id} is already pending`, { id, command }));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(command, signal.reason));
    return new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { command, deadline: options.deadline, resolve, reject, signal, onAbort: undefined, timeoutMs: options.timeoutMs };
      if (signal) {
        entry.onAbort = () => this.fail(id, abortError(command, signal.reason));
        signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.pending.set(id, entry);
      if (entry.deadline < this.timerAt) this.arm(entry.deadline);
    });
  }

  private take(id: string): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    if (entry.signal && entry.onAbort) entry.signal.removeEventListener("abort", entry.onAbort);
    return entry;
  }

  /**
   * Settle the request a reply answers (`message.replyto`). Returns false when nothing was pending under that
   * id (late, duplicate or stray reply), in which case nothing happens.
   */
  reply(message: WireMessage): boolean {
    const id = message.replyto;
    if (!id) return false;
    const entry = this.take(id);
    if (!entry) return false;
    const outcome = interpretReply(message, entry.command);
    if (outcome.ok) entry.resolve(outcome.payload);
    else entry.reject(outcome.error);
    return true;
  }

  /** Reject one pending request. Returns false when it was not pending. */
  fail(id: string, error: OpenFlowError): boolean {
    const entry = this.take(id);
    if (!entry) return false;
    entry.reject(error);
    return true;
  }

  /** Reject every pending request (connection closed). */
  failAll(makeError: (id: string, command: string) => OpenFlowError): void {
    const ids = [...this.pending.keys()];
    for (const id of ids) {
      const entry = this.take(id);
      if (entry) entry.reject(makeError(id, entry.command));
    }
    this.disarm();
  }

  /** Stop the timer (client closed). Pending requests are untouched; call failAll first. */
  disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private arm(at: number): void {
    if (!Number.isFinite(at)) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, at - this.clock.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: string[] = [];
    for (const [id, entry] of this.pending) {
      if (entry.deadline <= now) expired.push(id);
      else if (entry.deadline < next) next = entry.deadline;
    }
    for (const id of expired) {
      const entry = this.take(id);
      if (entry) entry.reject(new OpenFlowError("timeout", `${entry.command}: no reply within ${entry.timeoutMs} ms`, { command: entry.command, id }));
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
  }
}
