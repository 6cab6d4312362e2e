/**
 * A tiny scripted OpenFlow peer for the runtime's fault tests: a real `ws` server on 127.0.0.1 whose
 * behaviour per command is a function the test supplies. Not the project server: it only does what a
 * test tells it to, including misbehaving.
 */
import { WebSocketServer, type WebSocket } from "ws";
import { encodeMessageText, newFrameId, parseFrame, Reassembler, type WireMessage } from "../runtime/framing.js";

export interface Conn {
  ws: WebSocket;
  /** Every complete message received, in order. */
  received: WireMessage[];
  /** Send a reply to `to` (payload is JSON-encoded unless `raw`). */
  reply(to: WireMessage, payload: unknown, opts?: { command?: string; chunkSize?: number; raw?: boolean }): void;
  /** Send a server-started command. Returns its id. */
  push(command: string, payload: unknown, opts?: { chunkSize?: number }): string;
  sendText(text: string): void;
}

export type Script = (conn: Conn, message: WireMessage, payload: unknown) => void | "default";

/** A jwt-shaped string (so redaction tests see a realistic token). */
export function fakeJwt(n: number): string {
  return `eyJhbGciOiJIUzI1NiJ9.eyJkYXRhIjp7Im4iOi${n}fQ.c2lnbmF0dXJlX${n}`;
}

export class ScriptedServer {
  private wss: WebSocketServer | undefined;
  port = 0;
  conns: Conn[] = [];
  script: Script = () => "default";
  signins = 0;
  tokens = 0;
  /** Queue names registered (across connections), in order. */
  registered: string[] = [];
  watchesOpened: string[] = [];

  async start(port = 0): Promise<void> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", () => resolve());
      wss.once("error", reject);
    });
    this.wss = wss;
    this.port = (wss.address() as { port: number }).port;
    wss.on("connection", (ws) => this.accept(ws));
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  private accept(ws: WebSocket): void {
    const reassembler = new Reassembler();
    const conn: Conn = {
      ws,
      received: [],
      reply: (to, payload, opts = {}) => {
        const data = opts.raw ? (payload as string) : JSON.stringify(payload);
        for (const text of encodeMessageText({ id: newFrameId(), replyto: to.id, command: opts.command ?? to.command, data }, opts.chunkSize ?? 25_000)) ws.send(text);
      },
      push: (command, payload, opts = {}) => {
        const id = newFrameId();
        for (const text of encodeMessageText({ id, command, data: JSON.stringify(payload) }, opts.chunkSize ?? 25_000)) ws.send(text);
        return id;
      },
      sendText: (text) => ws.send(text),
    };
    this.conns.push(conn);
    ws.on("message", (raw) => {
      const result = reassembler.push(parseFrame(raw.toString()), Date.now());
      if (!result.done) return;
      const message = result.message;
      conn.received.push(message);
      let payload: unknown = null;
      try {
        payload = message.data ? JSON.parse(message.data) : null;
      } catch {
        payload = message.data;
      }
      if (this.script(conn, message, payload) === "default") this.defaults(conn, message, payload);
    });
  }

  /** Reasonable server-latest-like answers. */
  defaults(conn: Conn, message: WireMessage, payload: unknown): void {
    if (message.replyto) return;
    const p = (payload ?? {}) as Record<string, unknown>;
    switch (message.command) {
      case "signin": {
        this.signins += 1;
        if (p.password === "wrong" || p.jwt === "bad") {
          conn.reply(message, { message: "user failed logging in using local", error: "user failed logging in using local" }, { command: "error" });
          return;
        }
        conn.reply(message, { ...p, jwt: fakeJwt(++this.tokens), user: { _id: "u1", name: "tester", username: "tester" }, websocket_package_size: 4096, supports_watch: true });
        return;
      }
      case "ping":
      case "pong":
        return; // server-latest drops them
      case "registerqueue": {
        const name = p.queuename ? String(p.queuename) : `webapp.${Math.random().toString(36).slice(2, 8)}`;
        this.registered.push(name);
        conn.reply(message, { ...p, queuename: name });
        return;
      }
      case "registerexchange":
        conn.reply(message, { ...p, queuename: `q.${String(p.exchangename)}` });
        return;
      case "watch": {
        const id = `w${this.watchesOpened.length + 1}`;
        this.watchesOpened.push(id);
        conn.reply(message, { ...p, id, result: id });
        return;
      }
      default:
        conn.reply(message, { ...p, echoed: true });
    }
  }

  /** Close every connection abruptly (like a crashed server). */
  dropAll(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  async stop(): Promise<void> {
    const wss = this.wss;
    this.wss = undefined;
    if (!wss) return;
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}

/** Resolve when `predicate` holds, polling every 5 ms; reject after `ms`. */
export async function until(predicate: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
