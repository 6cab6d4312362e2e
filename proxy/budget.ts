/**
 * One memory budget for every connection of a proxy: the bytes it holds on behalf of its peers, whoever sent them.
 * Counted are (1) bytes a websocket has read but not yet delivered as a message (a message still arriving),
 * (2) messages handed to a socket but not yet written to it, and (3) messages waiting for the capture and the live
 * check. When the total passes `limit`, a socket that delivers more data is paused (its TCP window closes, so
 * the sender is slowed, nothing is dropped) until the total is back within the limit, or its connection's use
 * is back under half its share.
 *
 * Fair shares: only a connection that holds at least its share (the limit divided by the connections open) is
 * paused, so a well-behaved connection keeps being served while another one floods or stalls.
 *
 * A message can only leave the proxy once it has arrived whole, so pausing every socket in the middle of a
 * message could stall for ever. One socket at a time, the *leader*, may therefore keep reading while the budget
 * is exceeded, until its message is complete; then the next paused socket holding a partial message takes over.
 * The proxy's memory for traffic is so bounded by twice the limit + one message (`maxMessageBytes`) + one socket
 * read (64 KiB) per socket, however many connections there are: what connections held when the limit was passed
 * (at most the limit) only shrinks, connections under their share add at most their shares (which sum to the
 * limit), and one leader adds one message.
 */
import type { WebSocket } from "ws";

/** One connection's share of the budget: what both its sockets hold and what waits to be written to them. */
export interface BudgetGroup {
  held: number;
  readonly sockets: BudgetedSocket[];
}

/** What the budget tracks of one websocket. */
export interface BudgetedSocket {
  readonly ws: WebSocket;
  readonly group: BudgetGroup;
  /** Bytes its receiver holds of a message not yet delivered, at the last update. */
  held: number;
  /** Paused by the budget (and to be resumed by it). */
  pausedByBudget: boolean;
  /** Resume reading when nothing else keeps this socket paused (the pipe's own high-water checks). */
  resume(): void;
}

export interface BudgetStats {
  /** Bytes held now. */
  held: number;
  /** Most bytes held at once so far. */
  peak: number;
  /** Times a socket was paused because the budget was exceeded. */
  pauses: number;
  /** Times a socket was allowed to finish its message while over the budget. */
  leaders: number;
}

/**
 * Bytes a ws receiver holds: read from the socket and not yet delivered (whole fragments, unparsed bytes, and
 * chunks queued in front of it).
 * Reads ws 8's receiver fields; `test/security/proxy-hostile.test.ts` fails if a ws upgrade renames them.
 */
export function receiverHeld(ws: WebSocket): number {
  const r = (ws as unknown as { _receiver?: { _bufferedBytes?: unknown; _messageLength?: unknown; writableLength?: unknown } })._receiver;
  if (!r) return 0;
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);
  // writableLength: chunks queued in front of the receiver (a Writable) while it waits to deliver a message.
  return num(r._bufferedBytes) + num(r._messageLength) + num(r.writableLength);
}

export class MemoryBudget {
  readonly stats: BudgetStats = { held: 0, peak: 0, pauses: 0, leaders: 0 };
  private readonly groups = new Set<BudgetGroup>();
  /** Sockets paused by the budget, to resume once memory is released. */
  private readonly paused = new Set<BudgetedSocket>();
  private leader: BudgetedSocket | undefined;
  /** The connection of the last leader, while the message it led is still unwritten. */
  private debt: BudgetGroup | undefined;

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError(`proxy memory budget must be positive, got ${limit}`);
  }

  get over(): boolean {
    return this.stats.held > this.limit;
  }

  /** A connection's fair share: the limit divided among the connections open now. */
  get share(): number {
    return this.limit / Math.max(1, this.groups.size);
  }

  /** A new connection's group; its sockets are added with `register`. */
  group(): BudgetGroup {
    const g: BudgetGroup = { held: 0, sockets: [] };
    this.groups.add(g);
    return g;
  }

  add(bytes: number, group?: BudgetGroup): void {
    this.stats.held += bytes;
    if (group) group.held += bytes;
    if (this.stats.held > this.stats.peak) this.stats.peak = this.stats.held;
  }

  /**
   * Bytes left the proxy. Resumes every paused socket once the total is within the limit, and the sockets of
   * `group` once that connection holds under half its share (so a stalled connection cannot keep others paused).
   */
  release(bytes: number, group?: BudgetGroup): void {
    this.stats.held -= bytes;
    if (group) group.held -= bytes;
    if (this.paused.size === 0) return;
    if (this.stats.held <= this.limit) this.resumeAll();
    else if (group && group.held <= this.share / 2) for (const s of group.sockets) if (s.pausedByBudget) this.resumeOne(s);
    if (this.leader === undefined && this.over) this.electLeader();
  }

  register(socket: BudgetedSocket): void {
    socket.group.sockets.push(socket);
  }

  /** The connection closed: what its sockets held is gone (the pipe releases its unwritten bytes itself). */
  unregister(group: BudgetGroup): void {
    if (!this.groups.delete(group)) return;
    for (const socket of group.sockets) {
      this.paused.delete(socket);
      this.setHeld(socket, 0);
      if (this.leader === socket) this.leader = undefined;
    }
    if (this.leader === undefined) this.electLeader();
  }

  /**
   * After `socket` read data (or delivered a message): account what its receiver holds, and pause it when the
   * proxy is over its limit and this connection holds at least its fair share. Returns true when it may read on.
   */
  update(socket: BudgetedSocket): boolean {
    this.setHeld(socket, receiverHeld(socket.ws));
    if (this.leader === socket && socket.held === 0) this.leader = undefined;
    if (!this.over || this.leader === socket || socket.group.held < this.share) return true;
    if (this.leader === undefined && this.eligible(socket)) {
      this.leader = socket;
      this.stats.leaders++;
      return true;
    }
    if (!socket.pausedByBudget && !socket.ws.isPaused) {
      socket.ws.pause();
      this.stats.pauses++;
    }
    this.mark(socket);
    if (this.leader === undefined) this.electLeader();
    return false;
  }

  /** `socket` delivered a whole message: a leader's turn ends with its message (then `update` as after a read). */
  delivered(socket: BudgetedSocket): boolean {
    if (this.leader === socket) {
      this.leader = undefined;
      this.debt = socket.group;
    }
    return this.update(socket);
  }

  /**
   * Whether the budget keeps `socket` paused now; if so the budget takes it over and resumes it once memory is
   * released (the caller leaves it paused).
   */
  holds(socket: BudgetedSocket): boolean {
    if (!this.over || this.leader === socket || socket.group.held < this.share) return false;
    this.mark(socket);
    if (this.leader === undefined) this.electLeader();
    return this.leader !== socket;
  }

  /**
   * A leader must be mid-message, its connection must hold nothing else (no earlier message still unwritten), and
   * the previous leader's message must have been written out: so at most one message is held beyond the limit.
   * (If the peer of that message stops reading, other messages larger than their connection's share wait until it
   * reads or closes; messages within the share keep flowing.)
   */
  private eligible(socket: BudgetedSocket): boolean {
    if (this.debt && (this.debt.held - this.debt.sockets.reduce((n, x) => n + x.held, 0) <= 0 || !this.groups.has(this.debt))) this.debt = undefined;
    return socket.held > 0 && socket.group.held === socket.held && this.debt === undefined;
  }

  private mark(socket: BudgetedSocket): void {
    if (socket.pausedByBudget) return;
    socket.pausedByBudget = true;
    this.paused.add(socket);
  }

  private setHeld(socket: BudgetedSocket, held: number): void {
    const delta = held - socket.held;
    socket.held = held;
    if (delta > 0) this.add(delta, socket.group);
    else if (delta < 0) this.release(-delta, socket.group);
  }

  /** Let the paused socket holding the largest partial message (the nearest to done, likely) finish it. */
  private electLeader(): void {
    if (!this.over) return;
    let best: BudgetedSocket | undefined;
    for (const s of this.paused) if (this.eligible(s) && (!best || s.held > best.held)) best = s;
    if (!best) return;
    this.leader = best;
    this.stats.leaders++;
    this.resumeOne(best);
  }

  private resumeOne(socket: BudgetedSocket): void {
    socket.pausedByBudget = false;
    this.paused.delete(socket);
    socket.resume();
  }

  private resumeAll(): void {
    this.leader = undefined;
    const all = [...this.paused];
    this.paused.clear();
    for (const s of all) {
      s.pausedByBudget = false;
      s.resume();
    }
  }
}
