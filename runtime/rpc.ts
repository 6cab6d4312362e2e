/**
 * The sender side of queue request/reply (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#queues-and-exchanges): one managed reply queue per
 * client (a server-named queue, registered on first use and again after reconnects), a correlation map, a timeout
 * and an AbortSignal per call, and the sender's token kept out of the message body (`striptoken`, quirk Q10).
 * A call may take one answer (`rpc`) or follow several messages with the same correlation id (robot invocations:
 * ./robots.ts). Kept out of the main entry: it is reachable only through `openflow-spec/robots`.
 */
import type { OpenFlowClient, QueueConsumer } from "./client.js";
import { OpenFlowError } from "./errors.js";
import { newFrameId } from "./framing.js";
import type { QueueDelivery } from "./subscriptions.js";

/** Options of `rpc`. */
export interface RpcOptions {
  /** Reject with code "timeout" when no answer arrives within this many ms. Default 30 000. */
  timeoutMs?: number;
  /** Abort the wait (and forget any late answer): rejects with code "aborted". */
  signal?: AbortSignal;
  /**
   * Message TTL in ms (`expiration`): a message nobody consumed by then comes back as `timeout` (the call rejects
   * with code "timeout"). Default: `timeoutMs`.
   */
  expiration?: number;
  /**
   * Keep the sender's token out of the body (`striptoken`, default true). Without it the server adds the sender's
   * `__jwt` and `__user` to an object body, and every consumer of the queue can act as the sender (Q10).
   */
  striptoken?: boolean;
  /** The correlation id (default: a new random id). Answers must carry it. */
  correlationId?: string;
  /** Publish to an exchange instead of a queue (`queue` is then the routing key). */
  exchange?: string;
}

/** One answer that arrived on the reply queue for a call. */
export interface RpcAnswer {
  readonly data: unknown;
  readonly correlationId: string;
  readonly delivery: QueueDelivery;
}

/**
 * Follows one correlation id: called for each answer; return true when the call is settled (the waiter is then
 * forgotten). Throwing rejects the call with what was thrown.
 */
export type AnswerHandler = (answer: RpcAnswer) => boolean;

interface Waiter {
  onAnswer: AnswerHandler;
  fail: (error: OpenFlowError) => void;
}

/** Default wait of `rpc` for an answer. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000;

/** The reply queue of one client, shared by all its calls. */
class ReplyQueue {
  private consumer: QueueConsumer | undefined;
  private starting: Promise<QueueConsumer> | undefined;
  private readonly waiters = new Map<string, Waiter>();

  constructor(private readonly client: OpenFlowClient) {}

  /** The current server-side name of the reply queue, registering it on first use. */
  async name(): Promise<string> {
    if (!this.consumer) {
      this.starting ??= this.client.consumeQueue("", (delivery) => this.route(delivery));
      try {
        this.consumer = await this.starting;
      } finally {
        this.starting = undefined;
      }
    }
    return this.consumer.queuename;
  }

  private route(delivery: QueueDelivery): void {
    const correlationId = delivery.correlationId ?? "";
    const waiter = this.waiters.get(correlationId);
    // An answer for a call that already settled, timed out or was aborted: acked and dropped.
    if (!waiter) return;
    let done: boolean;
    try {
      done = waiter.onAnswer({ data: delivery.data, correlationId, delivery });
    } catch (err) {
      this.waiters.delete(correlationId);
      waiter.fail(OpenFlowError.from(err, "server"));
      return;
    }
    if (done) this.waiters.delete(correlationId);
  }

  expect(correlationId: string, waiter: Waiter): void {
    if (this.waiters.has(correlationId)) throw new OpenFlowError("usage", `a call with correlation id ${correlationId} is already waiting`);
    this.waiters.set(correlationId, waiter);
  }

  forget(correlationId: string): void {
    this.waiters.delete(correlationId);
  }

  get waiting(): number {
    return this.waiters.size;
  }
}

const replyQueues = new WeakMap<OpenFlowClient, ReplyQueue>();

function replyQueueOf(client: OpenFlowClient): ReplyQueue {
  let queue = replyQueues.get(client);
  if (!queue) replyQueues.set(client, (queue = new ReplyQueue(client)));
  return queue;
}

/** Calls still waiting for answers on this client's reply queue (diagnostics and tests). */
export function pendingRpcCalls(client: OpenFlowClient): number {
  return replyQueues.get(client)?.waiting ?? 0;
}

/** True when `data` is the dead letter the server sends to `replyto` for a message that expired unconsumed. */
export function isExpiredMessage(data: unknown): boolean {
  if (data === "timeout") return true;
  return typeof data === "object" && data !== null && !Array.isArray(data) && (data as { command?: unknown }).command === "timeout";
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new OpenFlowError("usage", `${name} must be a positive number of milliseconds, got ${String(value)}`);
  return value;
}

/**
 * Publish `data` to `queue` with a reply queue and a correlation id, and follow the answers with `onAnswer` until
 * it returns true, the timeout passes, or the signal aborts. The building block of `rpc` and `invokeRobot`.
 */
export async function publishAndFollow(client: OpenFlowClient, queue: string, data: unknown, options: RpcOptions, onAnswer: AnswerHandler): Promise<void> {
  if (typeof queue !== "string" || queue === "") throw new OpenFlowError("usage", "rpc: queue must be a non-empty string");
  const timeoutMs = positive("timeoutMs", options.timeoutMs, DEFAULT_RPC_TIMEOUT_MS);
  const expiration = positive("expiration", options.expiration, timeoutMs);
  const signal = options.signal;
  if (signal?.aborted) throw new OpenFlowError("aborted", `rpc to ${queue} aborted before it was sent`);
  const replies = replyQueueOf(client);
  const replyto = await replies.name();
  const correlationId = options.correlationId ?? newFrameId();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const cleanup = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    replies.forget(correlationId);
  };
  const settled = new Promise<void>((resolve, reject) => {
    replies.expect(correlationId, {
      onAnswer: (answer) => {
        const done = onAnswer(answer);
        if (done) {
          cleanup();
          resolve();
        }
        return done;
      },
      fail: (error) => {
        cleanup();
        reject(error);
      },
    });
    timer = setTimeout(() => {
      cleanup();
      reject(new OpenFlowError("timeout", `no answer from ${queue} within ${timeoutMs} ms (correlation id ${correlationId})`));
    }, timeoutMs);
    onAbort = () => {
      cleanup();
      reject(new OpenFlowError("aborted", `rpc to ${queue} aborted (correlation id ${correlationId})`));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const publish: Record<string, unknown> = {
    queuename: options.exchange ? "" : queue,
    replyto,
    correlationId,
    data,
    expiration: Math.ceil(expiration),
    striptoken: options.striptoken ?? true,
  };
  if (options.exchange) {
    // Both spellings: server-2021 reads `exchange`, server-latest `exchangename` (Q14).
    publish.exchange = options.exchange;
    publish.exchangename = options.exchange;
    publish.routingkey = queue;
  }
  try {
    await client.requestUntyped("queuemessage", publish, signal ? { signal } : {});
  } catch (err) {
    cleanup();
    settled.catch(() => {});
    throw OpenFlowError.from(err, "server");
  }
  return settled;
}

/**
 * Queue request/reply, the sender side: publish `data` to `queue` with this client's managed reply queue and a
 * fresh correlation id, and resolve with the first answer's data. Rejects with an OpenFlowError: "timeout" (no
 * answer within `timeoutMs`, or the message expired unconsumed), "aborted" (the signal), or the publish's own error.
 * The sender's token stays out of the body unless `striptoken: false`.
 */
export async function rpc<T = unknown>(client: OpenFlowClient, queue: string, data: unknown, options: RpcOptions = {}): Promise<T> {
  let result: unknown;
  await publishAndFollow(client, queue, data, options, (answer) => {
    if (isExpiredMessage(answer.data)) {
      throw new OpenFlowError("timeout", `nobody consumed the message on ${queue} before it expired (correlation id ${answer.correlationId})`);
    }
    result = answer.data;
    return true;
  });
  return result as T;
}
