/**
 * One websocket client: framing in both directions (runtime/framing.ts), the session (user, token, agent),
 * requests the server started and waits on (queuemessage deliveries), and an in-order processing chain.
 */
import type { WebSocket } from "ws";
import { encodeMessageText, newFrameId, Reassembler, type WireMessage } from "../runtime/framing.js";
import type { TokenUser } from "./auth.js";
import type { ResolvedOptions } from "./options.js";

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
  private readonly pending = new Map<string, ReplyCallback>();
  private chain: Promise<void> = Promise.resolve();
  private readonly closeHandlers: (() => void)[] = [];

  constructor(
    private readonly ws: WebSocket,
    readonly remote: string,
    private readonly options: ResolvedOptions,
  ) {
    this.connectedAt = options.now();
    this.lastSeen = this.connectedAt;
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

  /** Send one websocket text message as is. */
  sendText(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.options.limits.maxBufferedBytes) {
      // The client stopped reading: everything sent to it would stay in this process's memory. terminate()
      // makes the socket CLOSED at once (so this runs once); the close event then disposes the connection.
      this.options.logger.warn(`[${this.id}] closing: ${this.ws.bufferedAmount} bytes unsent (the client does not read)`);
      this.ws.terminate();
      return;
    }
    this.options.onFrame?.("out", text, this.id);
    this.ws.send(text);
  }

  /**
   * Send a logical message, chunked at the announced package size. `single` sends one frame whatever the size,
   * as the real server does for watchevent, queueclosed and exchangeclosed.
   */
  send(message: WireMessage, single = false): void {
    const texts = encodeMessageText({ priority: 1, ...message }, single ? Number.MAX_SAFE_INTEGER : this.options.packageSize);
    for (const text of texts) this.sendText(text);
  }

  /** Send a reply (new id, replyto = request id) with this payload. */
  reply(requestId: string, command: string, payload: unknown): void {
    this.send({ id: newFrameId(), replyto: requestId, command, data: payload === undefined ? "" : JSON.stringify(payload) });
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

  /** Run `task` after every earlier task of this connection (messages are handled in arrival order). */
  enqueue(task: () => Promise<void>): void {
    // Never leave the chain rejected: with no later message to attach a handler, a rejection would be unhandled
    // and end the process.
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.options.logger.error(`[${this.id}] message handling failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
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
