/**
 * Test helpers for the server tests: a raw websocket peer that speaks frames directly (for garbage and edge
 * cases), and a frame recorder that validates everything a peer sent against the schemas.
 */
import WebSocket from "ws";
import { encodeMessageText, newFrameId, Reassembler, type WireFrame, type WireMessage } from "../runtime/framing.js";
import { decodeData, validateFrame, validatePayload } from "../runtime/validate.js";

export interface RawPeer {
  /** Every frame received, parsed (frames without JSON are kept as `{ raw }`). */
  readonly frames: (WireFrame & { raw?: string })[];
  sendText(text: string): void;
  /** Send a message (chunked at `chunkSize`), returning its id. */
  send(command: string, payload: unknown, chunkSize?: number, id?: string): string;
  /** Wait for a frame matching `predicate` (already received or future). */
  next(predicate: (f: WireFrame & { raw?: string }) => boolean, timeoutMs?: number): Promise<WireFrame & { raw?: string }>;
  /** Send a request and wait for the reassembled reply (any command) whose replyto is its id. */
  request(command: string, payload: unknown, chunkSize?: number): Promise<{ command: string; payload: any; frames: number }>;
  /** Stop reading from the socket (a client that no longer reads; the server's writes back up). */
  pause(): void;
  /** Read again after pause(). */
  resume(): void;
  /** Resolves when the socket closes. */
  readonly closed: Promise<void>;
  close(): void;
}

export async function rawPeer(url: string): Promise<RawPeer> {
  const ws = new WebSocket(url);
  const frames: (WireFrame & { raw?: string })[] = [];
  const waiters: { predicate: (f: WireFrame & { raw?: string }) => boolean; resolve: (f: WireFrame & { raw?: string }) => void }[] = [];
  const reassembler = new Reassembler();
  const replies = new Map<string, (m: WireMessage, frames: number) => void>();
  const frameCounts = new Map<string, number>();
  ws.on("message", (data) => {
    const text = data.toString();
    let frame: WireFrame & { raw?: string };
    try {
      frame = JSON.parse(text) as WireFrame;
    } catch {
      frame = { id: "", command: "", raw: text };
    }
    frames.push(frame);
    for (const w of [...waiters]) {
      if (w.predicate(frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frame);
      }
    }
    if (frame.replyto && replies.has(frame.replyto)) {
      frameCounts.set(frame.id, (frameCounts.get(frame.id) ?? 0) + 1);
      const result = reassembler.push(frame, Date.now());
      if (result.done) {
        const cb = replies.get(frame.replyto);
        replies.delete(frame.replyto);
        cb?.(result.message, frameCounts.get(frame.id) ?? 1);
      }
    }
  });
  const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const peer: RawPeer = {
    frames,
    closed,
    sendText: (text) => ws.send(text),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    send(command, payload, chunkSize = 25_000, id = newFrameId()) {
      const data = payload === undefined ? undefined : JSON.stringify(payload);
      for (const text of encodeMessageText({ id, command, data }, chunkSize)) ws.send(text);
      return id;
    },
    next(predicate, timeoutMs = 5_000) {
      const found = frames.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve: (f: WireFrame & { raw?: string }) => (clearTimeout(timer), resolve(f)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-3))}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    request(command, payload, chunkSize) {
      const id = newFrameId();
      const done = new Promise<{ command: string; payload: any; frames: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${command} within 5000 ms`)), 5_000);
        replies.set(id, (m, n) => {
          clearTimeout(timer);
          let parsed: unknown = m.data;
          try {
            parsed = m.data ? JSON.parse(m.data) : null;
          } catch {
            // plain text
          }
          resolve({ command: m.command, payload: parsed, frames: n });
        });
      });
      peer.send(command, payload, chunkSize, id);
      return done;
    },
    close: () => ws.close(),
  };
  return peer;
}

export interface CapturedIssue {
  text: string;
  problems: string[];
}

/**
 * Validate recorded frames of one direction: each frame against frame.json, each reassembled payload against
 * its command's request schema (no replyto) or reply schema (replyto set). Error frames may carry plain text.
 */
export function validateRecorded(texts: string[]): { checked: number; commands: Set<string>; issues: CapturedIssue[] } {
  const issues: CapturedIssue[] = [];
  const commands = new Set<string>();
  const reassembler = new Reassembler();
  let checked = 0;
  for (const text of texts) {
    const frame = JSON.parse(text) as WireFrame;
    const frameIssues = validateFrame(frame);
    if (frameIssues.length) issues.push({ text, problems: frameIssues.map((i) => i.message) });
    const command = frame.command.toLowerCase();
    if (command === "ping" || command === "pong") {
      checked++;
      continue;
    }
    const result = reassembler.push(frame, Date.now());
    if (!result.done) continue;
    checked++;
    commands.add(`${command}${frame.replyto ? " (reply)" : ""}`);
    const decoded = decodeData(result.message.data, { allowPlainText: command === "error" });
    if (!decoded.ok) {
      issues.push({ text, problems: [decoded.issue.message] });
      continue;
    }
    const problems = validatePayload(command, frame.replyto ? "reply" : "request", decoded.payload).map((i) => i.message);
    if (problems.length) issues.push({ text: text.slice(0, 400), problems });
  }
  return { checked, commands, issues };
}

/** Resolves with the first value `register` hands back, or rejects after `ms` naming `what` (bounded waits in tests). */
export function waitFor<T>(register: (resolve: (value: T) => void) => void, ms = 5_000, what = "event"): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** A logger for the official @openiap/openflow-api client that prints nothing. */
export const officialQuietLogger = { info() {}, verbose() {}, error() {}, debug() {}, silly() {} };

/** Opens a quiet connection of the official client (its `WebSocketClient` class) to `url` and adds it to `into`. */
export async function officialConnect(WebSocketClient: any, url: string, into: any[]): Promise<any> {
  const ws = new WebSocketClient(officialQuietLogger, url, true);
  into.push(ws);
  await ws.Connect();
  return ws;
}
