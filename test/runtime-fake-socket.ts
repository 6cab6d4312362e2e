/**
 * An in-memory WebSocket for driving the client core without a network: opens on the next microtask, records
 * every frame the client sends, answers `signin` (and any command in `answers`) with a reply chunked at 1 000.
 */
import { encodeMessageText, parseFrame, type WireFrame } from "../runtime/framing.js";

export interface FakeSocket {
  onmessage: ((e: { data: unknown }) => void) | null;
  close(): void;
}

export function fakeSocketClass(sent: WireFrame[], sockets: FakeSocket[], answers: Record<string, unknown> = {}) {
  const replies: Record<string, unknown> = { signin: { jwt: "j.w.t", user: { name: "fake" }, websocket_package_size: 1000 }, ...answers };
  return class FakeWebSocket {
    readyState = 0;
    onopen: ((e: unknown) => void) | null = null;
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onclose: ((e: { code?: number }) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    constructor(_url: string) {
      sockets.push(this);
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen?.({});
      });
    }
    send(text: string): void {
      const frame = parseFrame(text);
      sent.push(frame);
      const answer = replies[frame.command];
      if (answer === undefined) return;
      for (const reply of encodeMessageText({ id: `r-${frame.id}`, replyto: frame.id, command: frame.command, data: JSON.stringify(answer) }, 1000)) {
        queueMicrotask(() => this.onmessage?.({ data: reply }));
      }
    }
    close(): void {
      this.readyState = 3;
      queueMicrotask(() => this.onclose?.({ code: 1006 }));
    }
  };
}
