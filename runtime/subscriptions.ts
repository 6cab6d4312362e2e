/**
 * What the client registered on the server (queues, exchanges, watches) together with their handlers, so a
 * reconnect can register them again and route pushes to them. Server-side names can change on every
 * registration (generated queue names, new watch ids); the maps here follow them.
 */
import { OpenFlowError } from "./errors.js";

/** One message delivered to a queue or exchange consumer. */
export interface QueueDelivery<T = unknown> {
  /** Queue the message arrived on (the current server-side name). */
  readonly queuename: string;
  /** The message body. Unless the sender set `striptoken`, it carries the sender's `__jwt` and `__user`. */
  readonly data: T;
  /** The sender's reply queue, if it wants an answer. */
  readonly replyto: string | undefined;
  readonly correlationId: string | undefined;
  readonly routingkey: string | undefined;
  readonly exchangename: string | undefined;
  /** The whole `queuemessage` payload as received. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** Ack now (otherwise the handler's normal return acks). */
  ack(): void;
  /** Nack now: the server re-queues the message. Otherwise a throwing handler nacks. */
  nack(reason?: string): void;
  /** Send `data` to the sender's `replyto` queue with its `correlationId` (a separate `queuemessage`). */
  reply(data: unknown): Promise<void>;
}

/**
 * Handles a delivery. Returning normally acks; a returned value other than undefined is also sent to the
 * sender's `replyto` queue (when it has one). Throwing nacks with the error's message.
 */
export type QueueHandler<T = unknown> = (delivery: QueueDelivery<T>) => unknown;

export interface QueueSubscription {
  kind: "queue" | "exchange";
  /** Name asked for ("" = let the server pick one on every registration). */
  requested: string;
  /** Exchange parameters (kind "exchange"). */
  exchange?: { exchangename: string; algorithm: string; routingkey: string; addqueue?: boolean };
  /** Current server-side queue name ("" until registered, or an exchange without queue). */
  queuename: string;
  handler: QueueHandler;
  active: boolean;
  closed: boolean;
}

export interface WatchSubscription {
  collectionname: string;
  paths: unknown[];
  /** Current server-side watch id. */
  id: string;
  handler: ((event: unknown) => void) | undefined;
  stream: EventBuffer<unknown>;
  closed: boolean;
}

/**
 * A bounded FIFO turned async iterator. When a consumer is slower than the producer, the oldest events are
 * dropped (counted in `dropped`) rather than letting memory grow without limit.
 */
export class EventBuffer<T> {
  private items: T[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private failure: OpenFlowError | undefined;
  dropped = 0;

  constructor(private readonly max: number) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (this.items.length - this.head > this.max) {
      this.head += 1;
      this.dropped += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Stop: pending and later `next()` calls return done (after the buffered items), or reject with `error`. */
  end(error?: OpenFlowError): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head] as T;
      this.items[this.head] = undefined as T;
      this.head += 1;
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiting) return Promise.reject(new OpenFlowError("usage", "only one next() call may wait at a time"));
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}
