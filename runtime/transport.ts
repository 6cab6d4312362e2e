/**
 * Transport injection: the WebSocket the client talks through. Browsers use the native `WebSocket`; Node
 * loads `ws` with a dynamic import only when it is needed (no global WebSocket, or TLS options that only `ws`
 * understands), so the browser path never touches Node-only code. Tests and exotic platforms pass their own
 * constructor.
 */
import { OpenFlowError } from "./errors.js";

/** The subset of the WHATWG WebSocket API the runtime uses (both `ws` and browsers implement it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket constructor. The third argument is passed only to `ws`-compatible constructors (TLS options). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: Record<string, unknown>) => unknown;

/** TLS settings for `wss://` URLs. Verification is on unless explicitly disabled. */
export interface TlsOptions {
  /** Extra trusted CA certificate(s), PEM. Node (`ws`) only. */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /**
   * Accept any server certificate, including self-signed and wrong-host ones. Anyone on the network path can
   * then read and change the traffic, including your credentials. Node (`ws`) only; logged as a warning.
   */
  dangerouslyDisableTlsVerification?: boolean;
}

export interface OpenSocketOptions {
  WebSocket?: WebSocketConstructor | undefined;
  tls?: TlsOptions | undefined;
  /** Give up opening after this many ms. */
  connectTimeoutMs: number;
  /** Extra options handed to a `ws`-compatible constructor (for example `headers`, `perMessageDeflate`). */
  wsOptions?: Record<string, unknown> | undefined;
  clock: { setTimeout(cb: () => void, ms: number): unknown; clearTimeout(h: unknown): void };
  /** Give up opening at once (the client was closed): the socket is dropped and its timer cleared. */
  signal?: AbortSignal | undefined;
}

export const OPEN = 1;

function needsNodeOptions(tls: TlsOptions | undefined, wsOptions: Record<string, unknown> | undefined): boolean {
  return (tls !== undefined && (tls.ca !== undefined || tls.dangerouslyDisableTlsVerification === true)) || wsOptions !== undefined;
}

let wsModule: Promise<WebSocketConstructor> | undefined;

/** Load `ws` lazily; cached per process because module loading is global anyway. */
async function loadWs(): Promise<WebSocketConstructor> {
  // A variable specifier keeps bundlers from pulling `ws` into browser builds.
  const name = "ws";
  wsModule ??= import(/* @vite-ignore */ name).then((m: { default?: unknown; WebSocket?: unknown }) => (m.WebSocket ?? m.default) as WebSocketConstructor);
  return wsModule;
}

/** Pick the constructor: injected, else the global one (when no Node-only options are needed), else `ws`. */
export async function resolveWebSocket(options: Pick<OpenSocketOptions, "WebSocket" | "tls" | "wsOptions">): Promise<{ ctor: WebSocketConstructor; nodeOptions: boolean }> {
  if (options.WebSocket) return { ctor: options.WebSocket, nodeOptions: needsNodeOptions(options.tls, options.wsOptions) };
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (native && !needsNodeOptions(options.tls, options.wsOptions)) return { ctor: native, nodeOptions: false };
  try {
    return { ctor: await loadWs(), nodeOptions: true };
  } catch (err) {
    if (native) {
      throw new OpenFlowError("usage", "TLS options (ca, dangerouslyDisableTlsVerification) and wsOptions need the `ws` package, which is not available here", { cause: err });
    }
    throw new OpenFlowError("usage", "no WebSocket implementation: install `ws` (Node) or pass options.WebSocket", { cause: err });
  }
}

/** Open a socket and wait until it is open; rejects with code "closed" on failure or "timeout". */
export async function openSocket(url: string, options: OpenSocketOptions): Promise<SocketLike> {
  const { ctor, nodeOptions } = await resolveWebSocket(options);
  let socket: SocketLike;
  try {
    if (nodeOptions) {
      const wsOpts: Record<string, unknown> = { ...options.wsOptions };
      if (options.tls?.ca !== undefined) wsOpts.ca = options.tls.ca;
      if (options.tls?.dangerouslyDisableTlsVerification === true) wsOpts.rejectUnauthorized = false;
      socket = new ctor(url, [], wsOpts) as SocketLike;
    } else {
      socket = new ctor(url) as SocketLike;
    }
  } catch (err) {
    throw new OpenFlowError("usage", `cannot open websocket to ${safeUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return new Promise<SocketLike>((resolve, reject) => {
    let done = false;
    const timer = options.clock.setTimeout(() => {
      if (done) return;
      done = true;
      detach();
      try {
        socket.close();
      } catch {
        // already closing
      }
      reject(new OpenFlowError("timeout", `websocket to ${safeUrl(url)} did not open within ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    const detach = () => {
      socket.onopen = null;
      // Not null: `ws` emits "closed before the connection was established" as an `error` event when a socket
      // still connecting is closed (timeout, cancel), and an `error` event without a listener is an uncaught
      // exception that ends a Node process. The caller's own handler replaces this one on success.
      socket.onerror = () => {};
      socket.onclose = null;
      options.signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      if (done) return;
      done = true;
      options.clock.clearTimeout(timer);
      detach();
      try {
        const terminate = (socket as { terminate?: () => void }).terminate;
        if (typeof terminate === "function") terminate.call(socket);
        else socket.close();
      } catch {
        // already closing
      }
      reject(new OpenFlowError("closed", `opening websocket to ${safeUrl(url)} cancelled: client closed`));
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.onopen = () => {
      if (done) return;
      done = true;
      options.clock.clearTimeout(timer);
      detach();
      resolve(socket);
    };
    const fail = (event: unknown) => {
      if (done) return;
      done = true;
      options.clock.clearTimeout(timer);
      detach();
      reject(new OpenFlowError("closed", `websocket to ${safeUrl(url)} failed to open: ${describeOpenFailure(event, url)}`, { cause: event }));
    };
    socket.onerror = fail;
    socket.onclose = fail;
  });
}

/** The `ws` package's own events, which `ws` sockets (Node) have besides the WHATWG handlers. */
interface WsEvents {
  on(event: "message", listener: (data: { toString(): string }, isBinary: boolean) => void): unknown;
  off(event: "message", listener: (data: { toString(): string }, isBinary: boolean) => void): unknown;
  terminate(): void;
}

function isWs(socket: SocketLike): socket is SocketLike & WsEvents {
  const s = socket as Partial<WsEvents>;
  return typeof s.on === "function" && typeof s.off === "function" && typeof s.terminate === "function";
}

/**
 * Receive every message of `socket` (text as a string, binary as whatever the platform gives); returns a
 * function that stops listening. On a `ws` socket this listens to its own `message` event: `onmessage` would
 * build a `MessageEvent` for every frame (a 20 MB reply at 500-character chunks is 40 000 frames).
 */
export function onSocketMessage(socket: SocketLike, receive: (data: unknown) => void): () => void {
  if (isWs(socket)) {
    const listener = (data: { toString(): string }, isBinary: boolean) => receive(isBinary ? data : data.toString());
    socket.on("message", listener);
    return () => socket.off("message", listener);
  }
  socket.onmessage = (event) => receive(event.data);
  return () => {
    socket.onmessage = null;
  };
}

/**
 * Why a websocket did not open, in words that name the cause: refused connection, unknown host, an HTTP answer
 * instead of the upgrade, TLS. `ws` gives the Node error (code and text); browsers give no detail at all.
 */
export function describeOpenFailure(event: unknown, url: string): string {
  const e = event as { error?: { message?: string; code?: string }; message?: string; reason?: string; code?: number } | undefined;
  const message = e?.error?.message ?? e?.message ?? e?.reason ?? "";
  const code = e?.error?.code ?? /\b(E[A-Z_]{3,}|[A-Z_]*CERT[A-Z_]*|DEPTH_ZERO_SELF_SIGNED_CERT)\b/.exec(message)?.[1];
  let host = "";
  try {
    host = new URL(url).host;
  } catch {
    // the URL was checked before; keep the message generic
  }
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  if (status !== undefined) {
    return `the server answered the websocket upgrade with HTTP ${status} instead of switching protocols (is ${safeUrl(url)} an OpenFlow websocket endpoint? paths /, /ws or /ws/v1)`;
  }
  switch (code) {
    case "ECONNREFUSED":
      return `connection refused by ${host} (nothing listens on that port: is the server running?) [${message}]`;
    case "ENOTFOUND":
    case "EAI_NONAME":
      return `unknown host: the name in ${host} does not resolve (DNS lookup failed) [${message}]`;
    case "EAI_AGAIN":
      return `the host name in ${host} could not be resolved right now (temporary DNS failure) [${message}]`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${host} is not reachable over the network [${message}]`;
    case "ECONNRESET":
      return `${host} reset the connection during the websocket handshake (a proxy, or TLS to a plain port?) [${message}]`;
    default:
      break;
  }
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return `the TLS certificate of ${host} was not accepted (${code}; see the tls option) [${message}]`;
  }
  if (message !== "") return message;
  if (typeof e?.code === "number") return `closed with code ${e.code} before opening`;
  return "no detail from the WebSocket implementation (browsers hide the cause: refused connection, unknown host, TLS or HTTP error; the browser console shows it)";
}

/** The URL without user info or query string (which may carry tokens), for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}
