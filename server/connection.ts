/**
 * One websocket client: framing in both directions (runtime/framing.ts), the session (user, token, agent),
 * requests the server started and waits on (queuemessage deliveries), and an in-order processing chain.
 *
 * Back-pressure, both ways: the next request of a connection runs only once the replies waiting to be written
 * to it are under limits.maxInflightReplyBytes (a client that asked for several large replies gets them one
 * after the other, never a disconnect), and the socket stops being read while limits.maxPendingRequests
 * requests wait. A client is closed as "not reading" only when bytes wait and none were written for
 * limits.writeStallTimeoutMs, or when pushed messages (watch events, deliveries) exceed limits.maxBufferedBytes.
 */
import type { WebSocket } from "ws";
import { encodeMessageText, newFrameId, Reassembler, type WireMessage } from "../runtime/framing.js";
import type { TokenUser } from "./auth.js";
import type { ResolvedOptions } from "./options.js";

import { addressOf } from "./shares.js";

let nextConnection = 1;

export type ReplyCallback = (reply: WireMessage) => void;

export class Connection {
  readonly id = `c${nextConnection++}`;
  readonly reassembler: Reassembler;
  readonly connectedAt: number;
  lastSeen: number;
  user: TokenUser | undefined;
  jwt: string | undefined;
  tokenExpiresAt = 0;
  clientagent = "unknown";
  clientversion = "";
  closed = false;
  /** Fixed rate-limit window: start and points consumed in it. */
  rateWindowStart = 0;
  ratePoints = 0;
  /** Bytes of websocket frames received but not yet complete (counted by server.ts). */
  receivingBytes = 0;
  /** Half-received bytes of this connection last added to the server's total (server.ts). */
  accountedPendingBytes = 0;
  /** The user those bytes were counted for (server.ts: per-user shares), if it was signed in then. */
  accountedUser: string | undefined;
  /** The client's address (the remote without its port): per-address shares count by it. */
  readonly address: string;
  /** When a write to this client last made progress (or started on an empty buffer). */
  private lastWriteProgress: number;
  private readonly pending = new Map<string, ReplyCallback>();
  private chain: Promise<void> = Promise.resolve();
  private queuedRequests = 0;
  private writableWaiters: (() => void)[] = [];
  private readonly closeHandlers: (() => void)[] = [];

  constructor(
    private readonly ws: WebSocket,
    readonly remote: string,
    private readonly options: ResolvedOptions,
  ) {
    this.address = addressOf(remote);
    this.connectedAt = options.now();
    this.lastSeen = this.connectedAt;
    this.lastWriteProgress = this.connectedAt;
    this.reassembler = new Reassembler({
      maxMessageChars: options.limits.maxMessageChars,
      maxChunks: options.limits.maxChunks,
      maxPartialMessages: options.limits.maxPartialMessages,
      maxPendingChars: options.limits.maxPendingChars,
      partialTimeoutMs: options.limits.partialTimeoutMs,
    });
  }

  get signedIn(): boolean {
    return this.user !== undefined && this.jwt !== undefined;
  }

  /** Requests received and not yet handled (waiting in the chain). */
  get pendingRequests(): number {
    return this.queuedRequests;
  }

  /** Bytes waiting to be written to this client. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** How long bytes have waited for this client without any being written (0 when nothing waits). */
  writeStalledFor(now: number): number {
    return this.ws.bufferedAmount > 0 ? now - this.lastWriteProgress : 0;
  }

  /**
   * Send one websocket text message as is. `reply`: an answer to this client's own request; those are bounded
   * by the back-pressure of the request chain, so only pushed messages count against maxBufferedBytes.
   */
  sendText(text: string, reply = false): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (!reply && this.ws.bufferedAmount > this.options.limits.maxBufferedBytes) {
      // The client stopped reading: everything pushed to it would stay in this process's memory. terminate()
      // makes the socket CLOSED at once (so this runs once); the close event then disposes the connection.
      this.options.logger.warn(`[${this.id}] closing: ${this.ws.bufferedAmount} bytes unsent (the client does not read)`);
      this.ws.terminate();
      return;
    }
    this.options.onFrame?.("out", text, this.id);
    if (this.ws.bufferedAmount === 0) this.lastWriteProgress = this.options.now();
    this.ws.send(text, () => this.wrote());
  }

  /** A write completed: progress, and wake the request chain when the backlog is under the in-flight limit. */
  private wrote(): void {
    this.lastWriteProgress = this.options.now();
    if (this.writableWaiters.length > 0 && (this.closed || this.ws.bufferedAmount <= this.options.limits.maxInflightReplyBytes)) {
      for (const wake of this.writableWaiters.splice(0)) wake();
    }
  }

  /** Resolves once the bytes waiting for this client are at most limits.maxInflightReplyBytes (or it closed). */
  private writable(): Promise<void> {
    if (this.closed || this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount <= this.options.limits.maxInflightReplyBytes) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  /**
   * Send a logical message, chunked at the announced package size. `single` sends one frame whatever the size,
   * as the real server does for watchevent, queueclosed and exchangeclosed.
   */
  send(message: WireMessage, single = false, reply = false): void {
    const texts = encodeMessageText({ priority: 1, ...message }, single ? Number.MAX_SAFE_INTEGER : this.options.packageSize);
    for (const text of texts) this.sendText(text, reply);
  }

  /** Send a reply (new id, replyto = request id) with this payload. */
  reply(requestId: string, command: string, payload: unknown): void {
    this.send({ id: newFrameId(), replyto: requestId, command, data: payload === undefined ? "" : JSON.stringify(payload) }, false, true);
  }

  /** Start a request of the server's own; `onReply` gets the client's answer (any command). */
  request(command: string, payload: unknown, onReply?: ReplyCallback): string {
    const id = newFrameId();
    if (onReply) this.pending.set(id, onReply);
    this.send({ id, command, data: JSON.stringify(payload) });
    return id;
  }

  /** Push a command that expects no reply. */
  push(command: string, payload: unknown, single = false): void {
    this.send({ id: newFrameId(), command, data: JSON.stringify(payload) }, single);
  }

  /** Complete a server-started request; false when nothing waited for this id. */
  settle(reply: WireMessage): boolean {
    const id = reply.replyto;
    if (!id) return false;
    const callback = this.pending.get(id);
    if (!callback) return false;
    this.pending.delete(id);
    callback(reply);
    return true;
  }

  /**
   * Run `task` after every earlier task of this connection (messages are handled in arrival order), once the
   * replies already waiting for the client are under the in-flight limit. Each task starts on a new turn of
   * the event loop: without it, ten requests sent at once ran back to back in one turn (their awaits resolve
   * as microtasks), and every other client waited for all ten.
   */
  enqueue(task: () => Promise<void>): void {
    if (++this.queuedRequests > this.options.limits.maxPendingRequests && !this.ws.isPaused) this.ws.pause();
    // Never leave the chain rejected: with no later message to attach a handler, a rejection would be unhandled
    // and end the process.
    this.chain = this.chain
      .then(() => this.writable())
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(task)
      .catch((err: unknown) => {
        this.options.logger.error(`[${this.id}] message handling failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      })
      .finally(() => {
        if (--this.queuedRequests <= this.options.limits.maxPendingRequests / 2 && this.ws.isPaused && !this.closed) this.ws.resume();
      });
  }

  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }

  /** Called once when the socket is gone: forget state and run the close handlers. */
  disposed(): void {
    if (this.closed) return;
    this.closed = true;
    this.reassembler.clear();
    this.pending.clear();
    for (const wake of this.writableWaiters.splice(0)) wake();
    for (const handler of this.closeHandlers.splice(0)) {
      try {
        handler();
      } catch {
        // A failing cleanup must not stop the others.
      }
    }
  }

  close(code = 1000, reason = ""): void {
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  terminate(): void {
    this.ws.terminate();
  }
}
