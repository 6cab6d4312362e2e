/**
 * One proxied connection: two websockets, every message forwarded unchanged (the received bytes, text or binary
 * as received) in both directions, with back-pressure and close propagation.
 *
 * Back-pressure: after forwarding, when more than `highWaterBytes` wait to be written to the receiving side (or
 * the capture file is behind), the sending side is paused (ws `pause()`: its socket is not read, so TCP pushes
 * back on the sender). It resumes once that backlog is written. Memory per direction therefore stays below
 * `highWaterBytes` plus one message plus one socket read.
 *
 * Across connections, an optional shared MemoryBudget (./budget.ts) also counts what each side's receiver holds of
 * a message still arriving and what waits to be written, and pauses sides when the proxy as a whole holds too much.
 *
 * Closing: when one side closes, the other is closed with the same code and reason. 1005 (no code) is passed on
 * as a close without code and 1006 (the connection dropped without a close frame) as a dropped connection, so
 * the far peer observes the same code.
 */
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import type { Direction } from "../validator/findings.js";
import type { BudgetedSocket, BudgetGroup, MemoryBudget } from "./budget.js";

export type Side = "client" | "upstream";

export interface CloseInfo {
  /** The side that closed first. */
  by: Side;
  code: number;
  reason: string;
}

export interface PipeOptions {
  highWaterBytes: number;
  /** True while the capture output is behind: both sides stay paused until `resume()` is called. */
  sinkBackedUp?: () => boolean;
  /** Every message, after it was handed to the other side. */
  onMessage?: (dir: Direction, data: Buffer, isBinary: boolean) => void;
  /** Once, when the first side closes. */
  onClose?: (info: CloseInfo) => void;
  /** The proxy-wide memory budget, with the raw sockets under each websocket (to see what their receivers hold). */
  budget?: { budget: MemoryBudget; clientSocket: Duplex; upstreamSocket: Duplex };
}

export interface PipeStats {
  /** Messages forwarded per direction. */
  messages: Record<Direction, number>;
  /** Largest backlog seen towards the client (s2c) and towards the upstream (c2s), in bytes. */
  peakBuffered: Record<Direction, number>;
  /** How often reading from the sender was paused, per direction of the traffic that was held back. */
  pauses: Record<Direction, number>;
}

const OPEN = 1;
const CLOSED = 3;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class Pipe {
  readonly stats: PipeStats = { messages: { c2s: 0, s2c: 0 }, peakBuffered: { c2s: 0, s2c: 0 }, pauses: { c2s: 0, s2c: 0 } };
  /** Resolves with the close information once both sockets are closed. */
  readonly closed: Promise<CloseInfo>;
  private first: CloseInfo | undefined;
  /** Bytes handed to either socket and not yet written (counted in the budget). */
  private outstanding = 0;
  private ended = false;
  private readonly sides = new Map<WebSocket, BudgetedSocket>();
  private readonly group: BudgetGroup | undefined;

  constructor(
    readonly client: WebSocket,
    readonly upstream: WebSocket,
    private readonly options: PipeOptions,
  ) {
    const shared = options.budget;
    this.group = shared?.budget.group();
    if (shared && this.group) {
      const group = this.group;
      for (const [ws, raw, other] of [
        [client, shared.clientSocket, upstream],
        [upstream, shared.upstreamSocket, client],
      ] as const) {
        const side: BudgetedSocket = { ws, group, held: 0, pausedByBudget: false, resume: () => this.maybeResume(ws, other) };
        this.sides.set(ws, side);
        shared.budget.register(side);
        // Runs after ws's own listener has parsed the chunk: what its receiver holds now is known.
        raw.on("data", () => {
          if (!this.ended) shared.budget.update(side);
        });
      }
    }
    this.forward(client, upstream, "c2s");
    this.forward(upstream, client, "s2c");
    const gone = (ws: WebSocket): Promise<void> => new Promise((resolve) => (ws.readyState === CLOSED ? resolve() : ws.once("close", () => resolve())));
    client.on("close", (code, reason) => this.closedBy("client", code, reason));
    upstream.on("close", (code, reason) => this.closedBy("upstream", code, reason));
    // Errors end in a close event; without a listener they would end the process.
    client.on("error", () => {});
    upstream.on("error", () => {});
    this.closed = Promise.all([gone(client), gone(upstream)]).then(() => {
      this.release();
      return this.first as CloseInfo;
    });
  }

  /** Both sockets closed: nothing they held or were to write is in memory any more. */
  private release(): void {
    if (this.ended) return;
    this.ended = true;
    const shared = this.options.budget?.budget;
    if (!shared) return;
    if (this.group) {
      if (this.outstanding > 0) shared.release(this.outstanding, this.group);
      shared.unregister(this.group);
    }
    this.outstanding = 0;
  }

  /** Resume both sides if nothing is backed up any more (called when the capture file drains). */
  resume(): void {
    this.maybeResume(this.client, this.upstream);
    this.maybeResume(this.upstream, this.client);
  }

  /** Close both sides with this code (proxy shutdown). */
  close(code: number, reason: string): void {
    for (const ws of [this.client, this.upstream]) closeWith(ws, code, reason);
  }

  private forward(from: WebSocket, to: WebSocket, dir: Direction): void {
    from.on("message", (raw, isBinary) => {
      if (to.readyState !== OPEN) return; // the other side is closing: nobody can receive it any more
      const data = toBuffer(raw);
      const shared = this.options.budget?.budget;
      const side = this.sides.get(from);
      if (shared) {
        const size = data.length;
        // The message left the receiver: its bytes now count as waiting to be written (not twice).
        if (side && !this.ended) shared.delivered(side);
        this.outstanding += size;
        shared.add(size, this.group);
        to.send(data, { binary: isBinary }, () => {
          if (!this.ended) {
            this.outstanding -= size;
            shared.release(size, this.group);
          }
          this.maybeResume(from, to);
        });
      } else {
        to.send(data, { binary: isBinary }, () => this.maybeResume(from, to));
      }
      this.stats.messages[dir]++;
      if (to.bufferedAmount > this.stats.peakBuffered[dir]) this.stats.peakBuffered[dir] = to.bufferedAmount;
      this.options.onMessage?.(dir, data, isBinary);
      if (!from.isPaused && (to.bufferedAmount > this.options.highWaterBytes || this.options.sinkBackedUp?.())) {
        from.pause();
        this.stats.pauses[dir]++;
      }
    });
  }

  private maybeResume(from: WebSocket, to: WebSocket): void {
    if (!from.isPaused || from.readyState !== OPEN) return;
    if (to.bufferedAmount > this.options.highWaterBytes / 2 || this.options.sinkBackedUp?.()) return;
    const side = this.sides.get(from);
    if (side && this.options.budget?.budget.holds(side)) return;
    if (side) side.pausedByBudget = false;
    from.resume();
  }

  private closedBy(by: Side, code: number, reason: Buffer): void {
    if (this.first) return;
    this.first = { by, code, reason: reason.toString() };
    closeWith(by === "client" ? this.upstream : this.client, code, this.first.reason);
    this.options.onClose?.(this.first);
  }
}

/** Close `ws` so that its peer sees `code` (see the module comment for 1005 and 1006). */
export function closeWith(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === CLOSED) return;
  if (ws.isPaused) ws.resume(); // a paused socket would never read the peer's close frame
  if (code === 1006) {
    ws.terminate();
    return;
  }
  try {
    if (code === 1005) ws.close();
    else ws.close(code, reason);
  } catch {
    ws.terminate();
  }
}
