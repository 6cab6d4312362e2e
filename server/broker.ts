/**
 * An in-memory stand-in for the AMQP bridge (../docs/protocol.md#queues-and-exchanges): queues with consumers (round robin), exchanges
 * (fanout, direct, topic), delivery as a server-started `queuemessage` that waits for the consumer's reply
 * (reply `queuemessage` = ack, reply `error` = nack and re-queue after a delay), message expiration with a
 * "timeout" dead letter to the reply queue, and `queueclosed`/`exchangeclosed` when a queue goes away.
 * Messages waiting in all queues together are capped (limits.maxQueuedMessages): a publish beyond is refused
 * by name, so publishing to queues nobody consumes cannot exhaust memory. So are the queues one connection
 * consumes (limits.maxQueuesPerConnection) and the exchanges (limits.maxExchanges, never swept).
 */
import type { Connection } from "./connection.js";
import { commandError, unsupportedError } from "./errors.js";
import { randomName } from "./ids.js";
import type { ServerLogger } from "./options.js";
import { Tally, type ShareLimits } from "./shares.js";

export interface BrokerMessage {
  data: unknown;
  replyto: string;
  correlationId: string;
  routingkey: string;
  exchangename: string;
  expiresAt: number;
  error?: unknown;
  /** Who published it (the shares of limits.maxQueuedMessages count by it). */
  origin?: Origin;
}

/** The address and user behind a publish, a queue or an exchange. */
export interface Origin {
  address: string | undefined;
  user: string | undefined;
}

const NOBODY: Origin = { address: undefined, user: undefined };

interface Consumer {
  conn: Connection;
  tag: string;
}

interface InFlight {
  queue: BrokerQueue;
  message: BrokerMessage;
  conn: Connection;
}

interface BrokerQueue {
  name: string;
  consumers: Consumer[];
  messages: BrokerMessage[];
  /** Auto-named queues belong to one connection and go away with it. */
  owner: Connection | undefined;
  next: number;
  /** Who made it exist (limits.maxQueues shares). */
  origin: Origin;
}

export type ExchangeAlgorithm = "direct" | "fanout" | "topic";

interface Binding {
  queue: string;
  routingkey: string;
  conn: Connection;
}

interface Exchange {
  name: string;
  algorithm: ExchangeAlgorithm;
  bindings: Binding[];
}

/** Most unacknowledged deliveries per consumer (the real server's prefetch). */
const PREFETCH = 50;

export interface BrokerOptions {
  now: () => number;
  requeueDelayMs: number;
  logger: ServerLogger;
  /**
   * Asked before each delivery: may the consumer on `conn` still receive from `queue` (server/authz.ts: its
   * rights and roles as they are now)? A consumer refused here is dropped from the queue.
   */
  mayDeliver?: (conn: Connection, queue: string) => boolean;
  /** Messages waiting in all queues together, and the shares of one address and one user. */
  queuedMessages?: ShareLimits;
  /** Most queues one connection consumes (default 100). */
  maxQueuesPerConnection?: number;
  /** Queues on the server, and the shares of one address and one user. */
  queues?: ShareLimits;
  /** Exchanges (never removed), and the shares of one address and one user. */
  exchanges?: ShareLimits;
}

const UNLIMITED = (option: string): ShareLimits => ({ option, global: Infinity, perAddress: Infinity, perUser: Infinity });

function originOf(conn: Connection): Origin {
  return { address: conn.address, user: conn.user?._id };
}

/**
 * AMQP topic matching: `*` is one word, `#` zero or more words. Linear in pattern words x key words (a table
 * of reachable key positions), so a pattern of many `#` cannot make one publish block the server: the naive
 * backtracking took 10 s for `#.#.#.#.#.#.#.#.#.#.c` against a 31-word key.
 */
export function topicMatches(pattern: string, key: string): boolean {
  const k = key.split(".");
  // reach[j]: the pattern words seen so far match exactly the first j key words.
  let reach: boolean[] = new Array<boolean>(k.length + 1).fill(false);
  reach[0] = true;
  for (const word of pattern.split(".")) {
    const next: boolean[] = new Array<boolean>(k.length + 1).fill(false);
    if (word === "#") {
      let any = false;
      for (let j = 0; j <= k.length; j++) {
        any = any || reach[j] === true;
        next[j] = any;
      }
    } else {
      for (let j = 1; j <= k.length; j++) next[j] = reach[j - 1] === true && (word === "*" || word === k[j - 1]);
    }
    reach = next;
  }
  return reach[k.length] === true;
}

export class Broker {
  private readonly queues = new Map<string, BrokerQueue>();
  private readonly exchanges = new Map<string, Exchange>();
  private readonly inflight = new Map<Connection, Set<InFlight>>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;
  /** Messages waiting in all queues (not in flight), in total, by address and by user. */
  private readonly waiting: Tally;
  private readonly queueTally: Tally;
  private readonly exchangeTally: Tally;

  constructor(private readonly options: BrokerOptions) {
    this.waiting = new Tally("queued messages", options.queuedMessages ?? UNLIMITED("limits.maxQueuedMessages"));
    this.queueTally = new Tally("queues", options.queues ?? UNLIMITED("limits.maxQueues"));
    this.exchangeTally = new Tally("exchanges", options.exchanges ?? UNLIMITED("limits.maxExchanges"));
  }

  private countIn(message: BrokerMessage): void {
    const o = message.origin ?? NOBODY;
    this.waiting.add(o.address, o.user);
  }

  private countOut(message: BrokerMessage): void {
    const o = message.origin ?? NOBODY;
    this.waiting.remove(o.address, o.user);
  }

  /** Start consuming `name` (auto-named `<agent>.<random>` when empty). Returns the real queue name. */
  registerQueue(conn: Connection, requested: string): string {
    const name = requested === "" ? `${conn.clientagent}.${randomName(12)}`.toLowerCase() : requested.toLowerCase();
    if (name === "openflow") throw commandError("Access denied");
    const existing = this.queues.get(name);
    if (!existing?.consumers.some((c) => c.conn === conn)) {
      const max = this.options.maxQueuesPerConnection ?? 100;
      let consumed = 0;
      for (const q of this.queues.values()) if (q.consumers.some((c) => c.conn === conn)) consumed++;
      if (consumed >= max) throw commandError(`Too many queues: this connection consumes ${consumed} (limits.maxQueuesPerConnection); close some first`);
    }
    const queue = this.ensureQueue(name, requested === "" ? conn : undefined, originOf(conn));
    if (queue.owner && queue.owner !== conn) throw commandError(`Access denied, queue ${name} is exclusive to another connection`);
    if (!queue.consumers.some((c) => c.conn === conn)) queue.consumers.push({ conn, tag: `amq.ctag-${randomName(16)}` });
    this.pump(queue);
    return name;
  }

  /** Declare an exchange and (when `addqueue`) bind a new auto-named queue that this connection consumes. */
  registerExchange(conn: Connection, name: string, algorithm: string, routingkey: string, addqueue: boolean): { exchangename: string; queuename: string } {
    if (name === "" || name.toLowerCase() === "openflow") throw commandError("Access denied");
    if (algorithm === "") throw commandError("algorithm is mandatory, as either direct, fanout, topic or header");
    if (algorithm === "header") throw unsupportedError("registerexchange with algorithm header");
    if (algorithm !== "direct" && algorithm !== "fanout" && algorithm !== "topic") throw commandError("invalid algorithm must be either direct, fanout, topic or header");
    // Publishing lower-cases exchange names (server-latest), so registration does too.
    name = name.toLowerCase();
    let exchange = this.exchanges.get(name);
    if (!exchange) {
      const origin = originOf(conn);
      const refusal = this.exchangeTally.refusal(origin.address, origin.user);
      if (refusal) throw commandError(refusal);
      exchange = { name, algorithm, bindings: [] };
      this.exchanges.set(name, exchange);
      this.exchangeTally.add(origin.address, origin.user);
    } else if (exchange.algorithm !== algorithm) {
      throw commandError(`exchange ${name} already exists with algorithm ${exchange.algorithm}`);
    }
    if (!addqueue) return { exchangename: name, queuename: "" };
    const queuename = this.registerQueue(conn, "");
    exchange.bindings.push({ queue: queuename, routingkey, conn });
    return { exchangename: name, queuename };
  }

  /** Stop this connection's consumption of `name`; its own auto-named queue is deleted. */
  closeQueue(conn: Connection, requested: string): void {
    const name = requested.toLowerCase();
    const queue = this.queues.get(name);
    if (!queue) return;
    queue.consumers = queue.consumers.filter((c) => c.conn !== conn);
    if (queue.owner === conn) this.deleteQueue(name, false);
  }

  /**
   * Publish to a queue (created on demand, so a message can wait for its consumer) or through an exchange.
   * Refused when the messages it adds would go over limits.maxQueuedMessages or the publisher's address or
   * user share of it, or a new queue over limits.maxQueues or its shares.
   */
  publish(target: { queuename: string; exchangename: string }, message: BrokerMessage, origin: Origin = NOBODY): void {
    const stamped: BrokerMessage = { ...message, origin };
    if (target.exchangename !== "") {
      const exchange = this.exchanges.get(target.exchangename.toLowerCase());
      if (!exchange) throw commandError(`Unknown exchange ${target.exchangename} or access denied`);
      const routed = new Set<string>();
      for (const b of exchange.bindings) {
        const hit = exchange.algorithm === "fanout" || (exchange.algorithm === "direct" ? b.routingkey === message.routingkey : topicMatches(b.routingkey, message.routingkey));
        if (hit) routed.add(b.queue);
      }
      this.assertRoom(origin, routed.size);
      for (const name of routed) this.enqueue(this.ensureQueue(name, undefined, origin), { ...stamped, exchangename: exchange.name });
      return;
    }
    if (target.queuename === "openflow") throw commandError("Access denied");
    this.assertRoom(origin, 1);
    this.enqueue(this.ensureQueue(target.queuename.toLowerCase(), undefined, origin), stamped);
  }

  private assertRoom(origin: Origin, messages: number): void {
    const refusal = this.waiting.refusal(origin.address, origin.user, Math.max(messages, 1));
    if (refusal) throw commandError(refusal);
  }

  /** Forget a connection: its consumers and bindings go, its own queues are deleted, its unacked messages return. */
  removeConnection(conn: Connection): void {
    const flights = this.inflight.get(conn);
    this.inflight.delete(conn);
    for (const flight of flights ?? []) {
      flight.queue.messages.unshift(flight.message);
      this.countIn(flight.message);
    }
    for (const exchange of this.exchanges.values()) exchange.bindings = exchange.bindings.filter((b) => b.conn !== conn);
    for (const queue of [...this.queues.values()]) {
      queue.consumers = queue.consumers.filter((c) => c.conn !== conn);
      if (queue.owner === conn) this.deleteQueue(queue.name, false);
      else this.pump(queue);
    }
  }

  /** Delete a queue; its consumers get `queueclosed` (and exchange consumers `exchangeclosed`) when `notify`. */
  deleteQueue(name: string, notify = true): boolean {
    const queue = this.queues.get(name);
    if (!queue) return false;
    this.forget(queue);
    for (const exchange of this.exchanges.values()) {
      const bound = exchange.bindings.filter((b) => b.queue === name);
      exchange.bindings = exchange.bindings.filter((b) => b.queue !== name);
      if (notify) for (const b of bound) b.conn.push("exchangeclosed", { routingkey: "", queuename: name, exchangename: exchange.name }, true);
    }
    if (notify) for (const c of queue.consumers) c.conn.push("queueclosed", { queuename: name }, true);
    return true;
  }

  /** What the real server does when it loses AMQP: every queue and exchange closes, consumers are told. */
  closeAll(): void {
    for (const name of [...this.queues.keys()]) this.deleteQueue(name, true);
    this.exchanges.clear();
    this.exchangeTally.clear();
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * Drop expired messages that nobody consumed (dead-lettering "timeout" to their reply queue), then forget
   * queues left with nothing: no consumer, no message, none in flight. Publishing creates queues on demand, so
   * without this every name a client ever published to would stay in memory for good.
   */
  sweep(): void {
    for (const queue of [...this.queues.values()]) this.dropExpired(queue);
    let busy: Set<BrokerQueue> | undefined;
    for (const queue of [...this.queues.values()]) {
      if (queue.messages.length > 0 || queue.consumers.length > 0 || queue.owner !== undefined) continue;
      busy ??= new Set([...this.inflight.values()].flatMap((set) => [...set].map((f) => f.queue)));
      if (!busy.has(queue)) this.forget(queue);
    }
    // Recount exactly: the running counts are kept at every change, this only corrects drift.
    this.waiting.clear();
    for (const queue of this.queues.values()) for (const m of queue.messages) this.countIn(m);
  }

  /** Remove a queue from the broker, with its waiting messages and its count in limits.maxQueues. */
  private forget(queue: BrokerQueue): void {
    if (this.queues.get(queue.name) !== queue) return;
    this.queues.delete(queue.name);
    for (const m of queue.messages) this.countOut(m);
    this.queueTally.remove(queue.origin.address, queue.origin.user);
  }

  /** The connection an auto-named (exclusive) queue belongs to; undefined for shared or unknown names. */
  ownerOf(name: string): Connection | undefined {
    return this.queues.get(name.toLowerCase())?.owner;
  }

  /** Names of the exchanges `queue` is bound to. */
  exchangesOf(queue: string): string[] {
    return [...this.exchanges.values()].filter((e) => e.bindings.some((b) => b.queue === queue)).map((e) => e.name);
  }

  queueNames(): string[] {
    return [...this.queues.keys()];
  }

  /** Messages waiting in all queues together. */
  get queuedMessages(): number {
    return this.waiting.total;
  }

  pendingCount(name: string): number {
    return this.queues.get(name.toLowerCase())?.messages.length ?? 0;
  }

  private ensureQueue(name: string, owner: Connection | undefined, origin: Origin): BrokerQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      const refusal = this.queueTally.refusal(origin.address, origin.user);
      if (refusal) throw commandError(refusal);
      queue = { name, consumers: [], messages: [], owner, next: 0, origin };
      this.queues.set(name, queue);
      this.queueTally.add(origin.address, origin.user);
    }
    return queue;
  }

  private enqueue(queue: BrokerQueue, message: BrokerMessage): void {
    queue.messages.push(message);
    this.countIn(message);
    this.pump(queue);
  }

  private dropExpired(queue: BrokerQueue): void {
    const now = this.options.now();
    const keep: BrokerMessage[] = [];
    for (const m of queue.messages) {
      if (m.expiresAt > now) keep.push(m);
      else if (m.replyto && m.replyto !== queue.name && !(typeof m.data === "object" && m.data !== null && (m.data as { command?: unknown }).command === "timeout")) {
        const target = this.queues.get(m.replyto);
        if (target) {
          const timeout: BrokerMessage = { data: { command: "timeout" }, replyto: "", correlationId: m.correlationId, routingkey: "", exchangename: "", expiresAt: now + 10_000 };
          target.messages.push(timeout);
          this.countIn(timeout);
          this.pump(target);
        }
      }
    }
    if (keep.length !== queue.messages.length) for (const m of queue.messages) if (m.expiresAt <= now) this.countOut(m);
    queue.messages = keep;
  }

  private flights(conn: Connection): Set<InFlight> {
    let set = this.inflight.get(conn);
    if (!set) {
      set = new Set();
      this.inflight.set(conn, set);
    }
    return set;
  }

  private pickConsumer(queue: BrokerQueue): Consumer | undefined {
    const n = queue.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = queue.consumers[(queue.next + i) % n];
      if (c && !c.conn.closed && this.flights(c.conn).size < PREFETCH) {
        queue.next = (queue.next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private pump(queue: BrokerQueue): void {
    if (this.closed) return;
    this.dropExpired(queue);
    const allowed = this.options.mayDeliver;
    if (allowed && queue.messages.length > 0) queue.consumers = queue.consumers.filter((c) => c.conn.closed || allowed(c.conn, queue.name));
    for (let guard = 0; guard < 10_000 && queue.messages.length > 0; guard++) {
      const consumer = this.pickConsumer(queue);
      if (!consumer) return;
      const message = queue.messages.shift() as BrokerMessage;
      this.countOut(message);
      this.deliver(queue, consumer, message);
    }
  }

  private deliver(queue: BrokerQueue, consumer: Consumer, message: BrokerMessage): void {
    const flight: InFlight = { queue, message, conn: consumer.conn };
    const set = this.flights(consumer.conn);
    set.add(flight);
    const payload: Record<string, unknown> = {
      queuename: queue.name,
      data: message.data,
      replyto: message.replyto,
      correlationId: message.correlationId,
      consumerTag: consumer.tag,
      routingkey: message.routingkey,
      exchangename: message.exchangename,
    };
    if (message.error !== undefined) payload.error = message.error;
    consumer.conn.request("queuemessage", payload, (reply) => {
      if (!set.delete(flight)) return;
      if (reply.command === "error") {
        // nack: back into the queue after the requeue delay (amqp_requeue_time).
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          const current = this.queues.get(queue.name);
          if (!current) return;
          current.messages.unshift(message);
          this.countIn(message);
          this.pump(current);
        }, this.options.requeueDelayMs);
        this.timers.add(timer);
      }
      this.pump(queue);
    });
  }
}
