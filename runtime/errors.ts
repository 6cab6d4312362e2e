/**
 * One error class for everything the runtime, the server and the tools report, with a closed set of codes
 * (connect-es ConnectError). The error table of https://github.com/openflow-spec/openflow-spec/blob/main/docs/client.md#errors documents every code; keep them in sync.
 */

export const errorCodes = [
  "timeout",
  "aborted",
  "closed",
  "offline",
  "server",
  "auth",
  "rate-limited",
  "unsupported",
  "protocol",
  "validation",
  "usage",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** One line per code: what happened and what the caller can do. Listed in the table of https://github.com/openflow-spec/openflow-spec/blob/main/docs/client.md#errors. */
export const errorCodeDescriptions: Readonly<Record<ErrorCode, string>> = {
  timeout: "No reply arrived within the call's timeoutMs (or the message stayed half-received too long).",
  aborted: "The caller's AbortSignal fired before the reply arrived.",
  closed: "The connection closed (or the client was closed) while the request was pending.",
  offline: "The client is disconnected and the request was not sent: offline mode \"fail\", too many requests waiting, or no connection within offline.maxWaitMs (or the request's timeoutMs, when shorter). Safe to retry.",
  server: "The server answered with an error: an `error` command (server-latest) or an `error` field in the reply (server-2021).",
  auth: "Sign-in was refused or the token was rejected.",
  "rate-limited": "The server answered \"Rate limit exceeded\" and the retry policy gave up.",
  unsupported: "The server does not know the command (\"Unknown command ...\").",
  protocol: "A peer broke the wire protocol: malformed frame, bad chunks, oversized message, unparsable reply.",
  validation: "A payload failed schema validation (validation mode \"strict\").",
  usage: "The API was called wrongly (bad argument or option).",
};

export interface OpenFlowErrorOptions {
  /** Wire command the error belongs to, when known. */
  command?: string | undefined;
  /** Frame id of the message concerned, when known. */
  id?: string | undefined;
  /** The server's own error text, kept verbatim for `server`, `auth`, `rate-limited` and `unsupported`. */
  serverMessage?: string | undefined;
  /** JSON pointer or other location detail (validation and protocol errors). */
  pointer?: string | undefined;
  /** Extra structured detail (for example validation issues). */
  details?: unknown;
  cause?: unknown;
}

export class OpenFlowError extends Error {
  override name = "OpenFlowError";
  /**
   * What went wrong, from a closed set: test it with `OpenFlowError.is(error, code)`.
   * @see https://github.com/openflow-spec/openflow-spec/blob/main/docs/client.md#errors
   */
  readonly code: ErrorCode;
  /** The command the failure belongs to, when there is one. */
  readonly command: string | undefined;
  /** The frame id of the request or message, when there is one. */
  readonly id: string | undefined;
  /** The server's own error text, unchanged, for errors the server sent. */
  readonly serverMessage: string | undefined;
  /** JSON pointer to the offending field (validation and protocol errors). */
  readonly pointer: string | undefined;
  /** Extra structured detail (for example validation issues). */
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: OpenFlowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.command = options.command;
    this.id = options.id;
    this.serverMessage = options.serverMessage;
    this.pointer = options.pointer;
    this.details = options.details;
  }

  /** Wrap anything thrown into an OpenFlowError; an OpenFlowError is returned unchanged. */
  static from(value: unknown, fallback: ErrorCode = "protocol"): OpenFlowError {
    if (value instanceof OpenFlowError) return value;
    if (value instanceof Error) return new OpenFlowError(fallback, value.message, { cause: value });
    return new OpenFlowError(fallback, typeof value === "string" ? value : safeString(value));
  }

  /** True when `value` is an OpenFlowError, optionally of the given code. */
  static is(value: unknown, code?: ErrorCode): value is OpenFlowError {
    return value instanceof OpenFlowError && (code === undefined || value.code === code);
  }
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
