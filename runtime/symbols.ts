/**
 * The only runtime symbols that generated code may import (type-only). Keeping this list short makes the
 * boundary between generated data/types and handwritten behaviour visible (protobuf-es codegenv2/symbols.ts).
 */

/** Per-call options accepted by every generated client method and by `client.request`. */
export interface CallOptions {
  /** Abort the call; the promise rejects with an OpenFlowError of code "aborted". */
  signal?: AbortSignal;
  /** Reject with code "timeout" when no reply arrives within this many milliseconds. */
  timeoutMs?: number;
  /** Run this one command as another user: sent as `jwt` inside the payload (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#per-command-jwt). */
  jwt?: string;
  /** Frame priority (and payload priority as api-latest sends it). */
  priority?: number;
  /** OpenTelemetry ids, sent inside the payload where servers read them. */
  traceId?: string;
  spanId?: string;
}

/** What generated client methods call: send one command, resolve with the decoded reply payload. */
export interface RequestCore {
  request(command: string, payload: unknown, options?: CallOptions): Promise<unknown>;
}

/** Context handed to a handler of a command the server starts (queuemessage, watchevent, ...). */
export interface PushContext {
  /** Wire command string of the received frame. */
  readonly command: string;
  /** Frame id of the received message (the `replyto` of any answer). */
  readonly id: string;
}

/**
 * A handler for a server-started command. Its return value (if any) becomes the reply payload for commands that
 * expect one; throwing sends an `error` reply.
 */
export type PushHandler<P = unknown, R = unknown> = (payload: P, context: PushContext) => R | Promise<R>;

/** What generated handler registration calls. Returns a function that removes the handler. */
export interface PushCore {
  onCommand(command: string, handler: PushHandler): () => void;
}
