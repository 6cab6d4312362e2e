/**
 * Subscriptions: what the client registered on the server (queues, exchanges, watches) together with their
 * handlers, and the manager that owns them. The core calls the manager on connect (`restore`), on push
 * (`onPush`: deliveries, watch events, `queueclosed`), when the link drops (`connectionLost`) and on close
 * (`close`); the manager reaches the connection only through the small `SubscriptionHost` interface, so it runs
 * without sockets in tests. Server-side names can change on every registration (generated queue names, new
 * watch ids); the maps here follow them.
 */
import { OpenFlowError } from "./errors.js";
import type { WireMessage } from "./framing.js";
import { redactText, type Logger } from "./logger.js";
import type { CallOptions } from "./symbols.js";

/** One message delivered to a queue or exchange consumer. */
export interface QueueDelivery<T = unknown> {
  /** Queue the message arrived on (the current server-side name). */
  readonly queuename: string;
  /** The message body. Unless the sender set `striptoken`, it carries the sender's `__jwt` and `__user`. */
  readonly data: T;
  /** The sender's reply queue, if it wants an answer. */
  readonly replyto: string | undefined;
  /** The sender's correlation id, echoed by `reply`; undefined when the sender set none. */
  readonly correlationId: string | undefined;
  /** The routing key, for a message published to an exchange; undefined for a direct queue message. */
  readonly routingkey: string | undefined;
  /** The exchange the message was published to; undefined for a direct queue message. */
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

  /** End and let go of every buffered item (the client closed): later `next()` calls return done at once. */
  release(): void {
    this.end();
    this.items = [];
    this.head = 0;
    this.failure = undefined;
  }

  /** Items waiting to be read. */
  get size(): number {
    return this.items.length - this.head;
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

/** Events a watch keeps for its iterator before the oldest are dropped. */
export const WATCH_BUFFER = 10_000;

/** Registering a queue again after `queueclosed` gives up after this many attempts (with backoff). */
const MAX_QUEUE_REREGISTER_ATTEMPTS = 10;

/** Sends one request and resolves with its decoded reply payload. */
export type SendRequest = (command: string, payload: unknown, options?: CallOptions) => Promise<unknown>;

/** What the manager needs from the connection; the core implements it, tests fake it. */
export interface SubscriptionHost {
  /** A request through the offline gate: while disconnected it waits for the session like any call. */
  request: SendRequest;
  /** Connected and signed in. */
  isOpen(): boolean;
  /** Answer a server-started message (`replyto` = its id). */
  reply(to: WireMessage, command: string, data: string): void;
  /** Answer it with an `error` frame carrying plain text. */
  replyError(to: WireMessage, text: string): void;
  /** A backoff sleep that ends early (resolves) when the client closes. */
  sleep(ms: number): Promise<void>;
  /** Backoff delay before re-registration attempt `attempt` (0-based). */
  backoff(attempt: number): number;
  /** A problem that failed no call: logged and emitted as the client's `error` event. */
  report(error: OpenFlowError, context: string): void;
  readonly log: Logger;
}

/** How `onPush` dealt with a server-started message. */
export type PushOutcome =
  /** Answered here (a delivery acked or nacked): nothing else may answer it. */
  | "answered"
  /** Routed to a subscription; generic `onCommand` handlers still see it. */
  | "handled"
  /** Not for any subscription. */
  | "ignored";

export interface ExchangeSpec {
  exchangename: string;
  algorithm: "direct" | "fanout" | "topic" | "header";
  routingkey?: string;
  addqueue?: boolean;
}

/** Owns queue and exchange consumers and watches: registration, routing, acks, restore and release. */
export class SubscriptionManager {
  private readonly queues = new Set<QueueSubscription>();
  private readonly queueByName = new Map<string, QueueSubscription>();
  private readonly watches = new Set<WatchSubscription>();
  private readonly watchById = new Map<string, WatchSubscription>();
  private closed = false;

  constructor(private readonly host: SubscriptionHost) {}

  /** What is held right now (tests and diagnostics): subscriptions and events buffered for iterators. */
  get retained(): { queues: number; watches: number; bufferedEvents: number } {
    let bufferedEvents = 0;
    for (const watch of this.watches) bufferedEvents += watch.stream.size;
    return { queues: this.queues.size, watches: this.watches.size, bufferedEvents };
  }

  // ---------------------------------------------------------------- queues and exchanges

  /** Register a queue (name "" = server-generated) with a handler; it is restored after reconnects. */
  async consumeQueue(queuename: string, handler: QueueHandler, options: CallOptions = {}): Promise<QueueSubscription> {
    if (typeof queuename !== "string") throw new OpenFlowError("usage", "consumeQueue: queuename must be a string (\"\" for a server-generated name)");
    if (typeof handler !== "function") throw new OpenFlowError("usage", "consumeQueue: handler must be a function");
    const sub: QueueSubscription = { kind: "queue", requested: queuename, queuename: "", handler, active: false, closed: false };
    return this.adopt(sub, options);
  }

  /** Register an exchange (and its bound queue) with a handler; restored after reconnects. */
  async consumeExchange(exchange: ExchangeSpec, handler: QueueHandler, options: CallOptions = {}): Promise<QueueSubscription> {
    if (!exchange || typeof exchange.exchangename !== "string" || exchange.exchangename === "") {
      throw new OpenFlowError("usage", "consumeExchange: exchangename must be a non-empty string");
    }
    if (typeof handler !== "function") throw new OpenFlowError("usage", "consumeExchange: handler must be a function");
    const sub: QueueSubscription = {
      kind: "exchange",
      requested: "",
      exchange: { exchangename: exchange.exchangename, algorithm: exchange.algorithm, routingkey: exchange.routingkey ?? "", ...(exchange.addqueue === undefined ? {} : { addqueue: exchange.addqueue }) },
      queuename: "",
      handler,
      active: false,
      closed: false,
    };
    return this.adopt(sub, options);
  }

  private async adopt(sub: QueueSubscription, options: CallOptions): Promise<QueueSubscription> {
    await this.register(sub, this.host.request, options);
    if (this.closed) {
      // The client closed while the registration was on its way: nothing to keep.
      this.forget(sub);
      throw new OpenFlowError("closed", `${sub.kind === "queue" ? "registerqueue" : "registerexchange"}: client closed`);
    }
    this.queues.add(sub);
    return sub;
  }

  private async register(sub: QueueSubscription, send: SendRequest, options: CallOptions = {}): Promise<void> {
    const reply = (sub.kind === "queue" ? await send("registerqueue", { queuename: sub.requested }, options) : await send("registerexchange", sub.exchange, options)) as {
      queuename?: unknown;
    } | null;
    const name = typeof reply?.queuename === "string" ? reply.queuename : sub.requested;
    if (sub.queuename && this.queueByName.get(sub.queuename) === sub) this.queueByName.delete(sub.queuename);
    sub.queuename = name;
    sub.active = true;
    if (name !== "" && !sub.closed && !this.closed) this.queueByName.set(name, sub);
  }

  private forget(sub: QueueSubscription): void {
    sub.closed = true;
    sub.active = false;
    this.queues.delete(sub);
    if (this.queueByName.get(sub.queuename) === sub) this.queueByName.delete(sub.queuename);
  }

  /** Stop consuming: `closequeue` on the server, forget the handler. */
  async closeSubscription(sub: QueueSubscription, options: CallOptions = {}): Promise<void> {
    if (sub.closed) return;
    this.forget(sub);
    if (sub.queuename !== "" && this.host.isOpen()) await this.host.request("closequeue", { queuename: sub.queuename }, options);
  }

  /** `queueclosed` / `exchangeclosed` (the server lost AMQP): register that queue again in the background. */
  private onQueueClosed(payload: unknown): PushOutcome {
    const p = (payload ?? {}) as { queuename?: unknown };
    const sub = typeof p.queuename === "string" ? this.queueByName.get(p.queuename) : undefined;
    if (!sub || sub.closed) return "ignored";
    sub.active = false;
    void this.reregister(sub);
    return "handled";
  }

  /** Register again with backoff until it works, the link drops (a reconnect restores it) or the client closes. */
  private async reregister(sub: QueueSubscription): Promise<void> {
    for (let attempt = 0; attempt < MAX_QUEUE_REREGISTER_ATTEMPTS; attempt++) {
      await this.host.sleep(this.host.backoff(attempt));
      if (sub.closed || sub.active || this.closed || !this.host.isOpen()) return;
      try {
        await this.register(sub, this.host.request);
        this.host.log.info(`${sub.kind} ${sub.queuename} registered again after it was closed by the server`);
        return;
      } catch (err) {
        this.host.log.warn(`registering ${sub.kind} ${sub.requested || sub.queuename} again failed: ${OpenFlowError.from(err).message}`);
      }
    }
    this.host.report(new OpenFlowError("server", `gave up registering ${sub.kind} ${sub.requested || sub.queuename} again`), "queue lost");
  }

  /** A `queuemessage` for one of our consumers: run its handler, then ack, nack or reply. */
  private async onQueueMessage(message: WireMessage, payload: unknown): Promise<PushOutcome> {
    const p = (payload && typeof payload === "object" ? payload : {}) as Record<string, unknown>;
    const queuename = typeof p.queuename === "string" ? p.queuename : "";
    const sub = this.queueByName.get(queuename);
    if (!sub || sub.closed) return "ignored";
    let settled = false;
    const ack = () => {
      if (settled) return;
      settled = true;
      // A small ack: the server only looks at the command, and echoing a large body back would double traffic.
      this.host.reply(message, message.command, JSON.stringify({ queuename, correlationId: p.correlationId ?? null }));
    };
    const nack = (reason?: string) => {
      if (settled) return;
      settled = true;
      this.host.replyError(message, redactText(reason ?? "nack message"));
    };
    const replyto = typeof p.replyto === "string" && p.replyto !== "" ? p.replyto : undefined;
    const correlationId = typeof p.correlationId === "string" ? p.correlationId : undefined;
    const reply = async (data: unknown) => {
      if (!replyto) throw new OpenFlowError("usage", `message on ${queuename} has no replyto queue`);
      await this.host.request("queuemessage", { queuename: replyto, correlationId, data, striptoken: true, expiration: 10_000 });
    };
    const delivery: QueueDelivery = {
      queuename,
      data: p.data,
      replyto,
      correlationId,
      routingkey: typeof p.routingkey === "string" ? p.routingkey : undefined,
      exchangename: typeof p.exchangename === "string" ? p.exchangename : typeof p.exchange === "string" ? p.exchange : undefined,
      payload: p,
      ack,
      nack,
      reply,
    };
    try {
      const result = await sub.handler(delivery);
      if (result !== undefined && replyto && !settled) {
        reply(result).catch((err: unknown) => this.host.report(OpenFlowError.from(err), `reply to ${replyto} failed`));
      }
      ack();
    } catch (err) {
      nack(err instanceof Error ? err.message : String(err));
    }
    return "answered";
  }

  // ---------------------------------------------------------------- watches

  /** Watch a collection; events go to `handler` and to the returned subscription's iterator. */
  async watchCollection(collectionname: string, paths: unknown[], handler?: (event: unknown) => void, options: CallOptions = {}): Promise<WatchSubscription> {
    if (typeof collectionname !== "string" || collectionname === "") throw new OpenFlowError("usage", "watchCollection: collectionname must be a non-empty string");
    if (!Array.isArray(paths)) throw new OpenFlowError("usage", "watchCollection: paths must be an array");
    const reply = (await this.host.request("watch", { collectionname, paths }, options)) as { id?: unknown; result?: unknown } | null;
    const watch: WatchSubscription = { collectionname, paths, id: watchIdOf(reply), handler, stream: new EventBuffer(WATCH_BUFFER), closed: false };
    if (this.closed) {
      watch.closed = true;
      watch.stream.release();
      throw new OpenFlowError("closed", "watch: client closed", { command: "watch" });
    }
    this.watches.add(watch);
    this.watchById.set(watch.id, watch);
    return watch;
  }

  /** Stop watching: `unwatch` on the server; the iterator ends after the events already buffered. */
  async unwatch(watch: WatchSubscription, options: CallOptions = {}): Promise<void> {
    if (watch.closed) return;
    watch.closed = true;
    this.watches.delete(watch);
    if (this.watchById.get(watch.id) === watch) this.watchById.delete(watch.id);
    watch.stream.end();
    if (this.host.isOpen()) await this.host.request("unwatch", { id: watch.id }, options);
  }

  private onWatchEvent(payload: unknown): PushOutcome {
    const p = (payload ?? {}) as { id?: unknown; result?: unknown };
    const watch = typeof p.id === "string" ? this.watchById.get(p.id) : undefined;
    if (!watch || watch.closed) return "ignored";
    watch.stream.push(p.result);
    if (watch.handler) {
      try {
        watch.handler(p.result);
      } catch (err) {
        this.host.report(OpenFlowError.from(err, "usage"), `watch handler for ${watch.collectionname} threw`);
      }
    }
    return "handled";
  }

  // ---------------------------------------------------------------- called by the core

  /** A server-started message: deliveries, watch events and queue losses are routed here. */
  onPush(command: string, message: WireMessage, payload: unknown): PushOutcome | Promise<PushOutcome> {
    switch (command) {
      case "watchevent":
        return this.onWatchEvent(payload);
      case "queueclosed":
      case "exchangeclosed":
        return this.onQueueClosed(payload);
      case "queuemessage":
        return this.onQueueMessage(message, payload);
      default:
        return "ignored";
    }
  }

  /** The link dropped: every consumer is inactive until `restore` registers it again. */
  connectionLost(): void {
    for (const sub of this.queues) sub.active = false;
  }

  /**
   * Register queues, exchanges and watches again on a new connection (after sign-in, before the offline gate
   * opens, so `send` bypasses the gate). Failures are reported, not fatal.
   */
  async restore(send: SendRequest): Promise<void> {
    this.queueByName.clear();
    for (const sub of [...this.queues]) {
      if (sub.closed) continue;
      try {
        await this.register(sub, send);
      } catch (err) {
        this.host.report(OpenFlowError.from(err, "server"), `restoring ${sub.kind} ${sub.requested || "(server-named)"} failed`);
      }
    }
    this.watchById.clear();
    for (const watch of [...this.watches]) {
      if (watch.closed) continue;
      try {
        const reply = (await send("watch", { collectionname: watch.collectionname, paths: watch.paths })) as { id?: unknown; result?: unknown } | null;
        watch.id = watchIdOf(reply);
        if (!watch.closed) this.watchById.set(watch.id, watch);
      } catch (err) {
        this.host.report(OpenFlowError.from(err, "server"), `restoring watch on ${watch.collectionname} failed`);
      }
    }
  }

  /**
   * The client closed: end every watch and let go of its buffered events (iterators return done at once),
   * mark every consumer closed, and drop all references, so a closed client holds no subscription state.
   */
  close(): void {
    this.closed = true;
    for (const watch of this.watches) {
      watch.closed = true;
      watch.stream.release();
    }
    for (const sub of this.queues) {
      sub.closed = true;
      sub.active = false;
    }
    this.watches.clear();
    this.watchById.clear();
    this.queues.clear();
    this.queueByName.clear();
  }
}

function watchIdOf(reply: { id?: unknown; result?: unknown } | null): string {
  const id = reply?.id ?? reply?.result;
  if (typeof id !== "string" || id === "") throw new OpenFlowError("protocol", "watch reply carries no watch id", { command: "watch" });
  return id;
}
