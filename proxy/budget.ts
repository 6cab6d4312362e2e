/**
 * One memory budget for every connection of a proxy: the bytes it holds on behalf of its peers, whoever sent them.
 * Counted are (1) bytes a websocket has read but not yet delivered as a message (a message still arriving),
 * (2) messages handed to a socket but not yet written to it, and (3) messages waiting for the capture and the live
 * check. When the total passes `limit`, every socket that delivers more data is paused (its TCP window closes, so
 * the sender is slowed, nothing is dropped) until the total is back under half the limit.
 *
 * A message can only leave the proxy once it has arrived whole, so pausing every socket in the middle of a
 * message could stall for ever. One socket at a time, the *leader*, may therefore keep reading while the budget
 * is exceeded, until its message is complete; then the next paused socket holding a partial message takes over.
 * The proxy's memory for traffic is so bounded by `limit` + one message (`maxMessageBytes`) + one socket read
 * (64 KiB) per connection, however many connections there are.
 */
import type { WebSocket } from "ws";

/** What the budget tracks of one websocket. */
export interface BudgetedSocket {
  readonly ws: WebSocket;
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
 * Bytes a ws receiver holds: read from the socket and not yet delivered (whole fragments plus unparsed bytes).
 * Reads ws 8's receiver fields; `test/security/proxy-hostile.test.ts` fails if a ws upgrade renames them.
 */
export function receiverHeld(ws: WebSocket): number {
  const r = (ws as unknown as { _receiver?: { _bufferedBytes?: unknown; _messageLength?: unknown } })._receiver;
  if (!r) return 0;
  const buffered = typeof r._bufferedBytes === "number" ? r._bufferedBytes : 0;
  const message = typeof r._messageLength === "number" ? r._messageLength : 0;
  return buffered + message;
}

export class MemoryBudget {
  readonly stats: BudgetStats = { held: 0, peak: 0, pauses: 0, leaders: 0 };
  private readonly sockets = new Set<BudgetedSocket>();
  /** Sockets paused by the budget, to resume once under half the limit. */
  private readonly paused = new Set<BudgetedSocket>();
  private leader: BudgetedSocket | undefined;

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError(`proxy memory budget must be positive, got ${limit}`);
  }

  get over(): boolean {
    return this.stats.held > this.limit;
  }

  add(bytes: number): void {
    this.stats.held += bytes;
    if (this.stats.held > this.stats.peak) this.stats.peak = this.stats.held;
  }

  /** Bytes left the proxy; resumes the paused sockets once the total is under half the limit. */
  release(bytes: number): void {
    this.stats.held -= bytes;
    if (this.stats.held <= this.limit / 2) this.resumeAll();
  }

  register(socket: BudgetedSocket): void {
    this.sockets.add(socket);
  }

  /** The socket closed: its receiver's bytes are gone. */
  unregister(socket: BudgetedSocket): void {
    if (!this.sockets.delete(socket)) return;
    this.paused.delete(socket);
    this.setHeld(socket, 0);
    if (this.leader === socket) {
      this.leader = undefined;
      this.electLeader();
    }
  }

  /**
   * After `socket` read data (or delivered a message): account its receiver's bytes and pause it when over budget.
   * Returns true when the socket may keep reading.
   */
  update(socket: BudgetedSocket): boolean {
    this.setHeld(socket, receiverHeld(socket.ws));
    if (this.leader === socket && socket.held === 0) this.leader = undefined;
    if (!this.over) return true;
    if (this.leader === socket) return true;
    if (this.leader === undefined && socket.held > 0) {
      this.leader = socket;
      this.stats.leaders++;
      return true;
    }
    if (!socket.pausedByBudget && !socket.ws.isPaused) {
      socket.ws.pause();
      socket.pausedByBudget = true;
      this.paused.add(socket);
      this.stats.pauses++;
    }
    if (this.leader === undefined) this.electLeader();
    return false;
  }

  /**
   * Whether the budget keeps `socket` paused now; if so the budget takes it over and resumes it once memory is
   * released (the caller leaves it paused).
   */
  holds(socket: BudgetedSocket): boolean {
    if (!this.over || this.leader === socket) return false;
    if (!socket.pausedByBudget) {
      socket.pausedByBudget = true;
      this.paused.add(socket);
    }
    if (this.leader === undefined) this.electLeader();
    return this.leader !== socket;
  }

  private setHeld(socket: BudgetedSocket, held: number): void {
    const delta = held - socket.held;
    socket.held = held;
    if (delta > 0) this.add(delta);
    else if (delta < 0) this.release(-delta);
  }

  /** Let the paused socket holding the largest partial message (the nearest to done, likely) finish it. */
  private electLeader(): void {
    if (!this.over) return;
    let best: BudgetedSocket | undefined;
    for (const s of this.paused) if (s.held > 0 && (!best || s.held > best.held)) best = s;
    if (!best) return;
    this.leader = best;
    this.stats.leaders++;
    best.pausedByBudget = false;
    this.paused.delete(best);
    best.resume();
  }

  private resumeAll(): void {
    if (this.paused.size === 0) return;
    this.leader = undefined;
    const all = [...this.paused];
    this.paused.clear();
    for (const s of all) {
      s.pausedByBudget = false;
      s.resume();
    }
  }
}
