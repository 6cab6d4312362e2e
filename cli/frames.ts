/**
 * `--frames`: the wire frames of a connection, shown as they pass, with every secret replaced. Secret fields are
 * the ones the schemas mark (validator/secrets.ts: `password`, `jwt`, `__jwt`, `rawAssertion`, ...), replaced at
 * any depth of the frame's `data` (validator/redact.ts); anything that still looks like a token in free text goes
 * through the runtime's own redaction (runtime/logger.ts). The same functions redact `serve --record` captures.
 */
import WebSocket from "ws";
import { redactText, type WebSocketConstructor } from "../runtime/index.js";
import { redactFrame } from "../validator/redact.js";
import { secretFieldNames } from "../validator/secrets.js";

/** One frame's text with its secrets replaced (text that is not a JSON object only loses token-like strings). */
export function redactWireText(text: string): string {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return redactText(text);
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return redactText(text);
  return redactText(JSON.stringify(redactFrame(frame as Record<string, unknown>, secretFieldNames())));
}

/** Which way a frame went: `>` client to server, `<` server to client. */
export type FrameDirection = ">" | "<";

/**
 * A `ws` WebSocket constructor that hands every text frame, redacted, to `show` (sent ones before they leave).
 * Pass it as the client's `WebSocket` option.
 */
export function showingFrames(show: (direction: FrameDirection, redactedText: string) => void): WebSocketConstructor {
  return class FrameShowingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: Record<string, unknown>) {
      super(url, protocols, options);
      this.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary) show("<", redactWireText(data.toString()));
      });
    }

    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === "string") show(">", redactWireText(data));
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  } as unknown as WebSocketConstructor;
}
