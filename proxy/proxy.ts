/**
 * The recording proxy: listens for websocket clients (ws:// or, with a key and certificate, wss://), opens one
 * upstream connection per client, and forwards every message unchanged both ways (./pipe.ts). Each message can
 * be written to a capture (validator/recorder.ts, secrets redacted by default) and checked live by the
 * validator (validator/connections.ts: one CaptureValidator per connection, finished when it closes), both in a
 * worker thread off the forwarding path (./checking.ts).
 *
 * Nothing a client sends is trusted: its handshake is checked before anything opens upstream (./handshake.ts:
 * HTTP 400 for bad headers or a path leaving the configured upstream path, and for anything unforeseen, never an
 * exit), all connections share one memory budget with fair shares (./budget.ts), and peer-chosen text is escaped
 * before it reaches a log line (validator/report/escape.ts).
 *
 * The client's websocket handshake is completed only once the upstream accepted its own: a refused or failing
 * upstream answers the client's handshake with an HTTP error (the upstream's status when it sent one, 502 when
 * it could not be reached, 504 after `connectTimeoutMs`), so a client never sees an open socket to nowhere.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import type { ConnectionsStats } from "../validator/connections.js";
import type { Direction, Finding } from "../validator/findings.js";
import { displayText } from "../validator/report/escape.js";
import { MemoryBudget, type BudgetStats } from "./budget.js";
import { Checking } from "./checking.js";
import { checkClientHandshake, isRefusal } from "./handshake.js";
import { closeWith, Pipe, type CloseInfo, type PipeStats } from "./pipe.js";

export interface ProxyLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Where capture lines go (validator/capture-file.ts opens a file). */
export interface CaptureSink {
  write(line: string): void;
  readonly backedUp?: boolean;
  onDrain?(handler: () => void): void;
}

export interface ProxyOptions {
  /** `ws://` or `wss://` URL of the server. A client's request path other than `/` is appended to its path. */
  upstream: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Serve wss:// with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Certificates to trust for a wss:// upstream instead of the system's (PEM). */
  ca?: string | Buffer;
  /** Verify the upstream's certificate (default true). false accepts any certificate: only for a test server. */
  verifyUpstream?: boolean;
  /** Capture output; omit to record nothing. */
  capture?: CaptureSink;
  /**
   * Capture file the checking worker writes itself (created or truncated), instead of `capture`: the lines never
   * pass through the proxy's thread. Write errors are in `captureError` after `close()`.
   */
  captureFile?: string;
  /** Redact secrets in the capture (default true). */
  redact?: boolean;
  /** Check traffic live; findings go here as they are found. */
  onFinding?: (finding: Finding) => void;
  /** Pause reading a side once this many bytes wait to be written to the other (default 1 MiB). */
  highWaterBytes?: number;
  /** Largest websocket message accepted from either side (default 100 MiB, as ws). */
  maxMessageBytes?: number;
  /**
   * Bytes the proxy may hold for all connections together (messages arriving, waiting to be written, waiting for
   * the capture and the check) before it stops reading from the connections holding more than their share
   * (default 128 MiB). The proxy then holds at most twice this + one message + one socket read per socket
   * (./budget.ts).
   */
  maxBufferedBytes?: number;
  /**
   * Record and check in a worker thread (default true), so that parsing, validating, redacting and writing the
   * capture never delay forwarding; false runs them on the proxy's thread after each turn's forwarding.
   */
  checkInWorker?: boolean;
  /** Give up on an upstream handshake after this long (default 10 s). */
  connectTimeoutMs?: number;
  logger?: ProxyLogger;
}

export interface ProxyConnectionInfo {
  id: string;
  stats: PipeStats;
  /** Resolves once both sockets are closed. */
  closed: Promise<CloseInfo>;
}

export interface RunningProxy {
  /** ws:// or wss:// URL clients connect to. */
  readonly url: string;
  readonly port: number;
  /** Connections currently open, by id. */
  readonly connections: ReadonlyMap<string, ProxyConnectionInfo>;
  /** Totals of the live check (undefined without `onFinding`). */
  readonly checkStats: ConnectionsStats | undefined;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Client handshakes refused before anything was opened upstream (bad headers, a path outside the upstream's). */
  readonly handshakeErrors: number;
  /** The proxy-wide memory budget: bytes held now, the peak, and how often it paused a sender. */
  readonly memory: Readonly<BudgetStats>;
  /** After `close()`: why the `captureFile` could not be written, if it could not. */
  readonly captureError: string | undefined;
  /**
   * Stop: refuse new clients, close every connection (code 1001), finish the live check (unanswered requests
   * are reported) and write out held capture lines. Does not close the capture sink.
   */
  close(): Promise<void>;
}

const silent: ProxyLogger = { info() {}, warn() {} };

/** Headers of the client's handshake passed on to the upstream (credentials and identification). */
const FORWARDED_HEADERS = ["authorization", "cookie", "user-agent", "origin"];

/** Answer a handshake with an HTTP error and close. The reason is reduced to printable ASCII (it may quote a peer). */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const reason = message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
  const code = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
  const body = `${reason}\n`;
  try {
    socket.end(`HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  } catch {
    socket.destroy();
  }
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  let base: URL;
  try {
    base = new URL(options.upstream);
  } catch {
    throw new TypeError(`proxy upstream must be a ws:// or wss:// URL, got ${JSON.stringify(options.upstream)}`);
  }
  if (base.protocol !== "ws:" && base.protocol !== "wss:") throw new TypeError(`proxy upstream must be a ws:// or wss:// URL, got ${JSON.stringify(options.upstream)}`);
  if (options.captureFile !== undefined && options.checkInWorker === false) throw new TypeError("proxy captureFile is written by the checking worker: with checkInWorker false, pass capture (openCaptureFile) instead");
  const logger = options.logger ?? silent;
  const highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
  const maxPayload = options.maxMessageBytes ?? 100 * 1024 * 1024;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const verify = options.verifyUpstream ?? true;
  const sink = options.capture;
  const wantsChecking = sink !== undefined || options.captureFile !== undefined || options.onFinding !== undefined;
  const sinkBackedUp = sink && "backedUp" in sink ? () => sink.backedUp === true : undefined;

  const connections = new Map<string, ProxyConnectionInfo & { pipe: Pipe }>();
  const connecting = new Set<WebSocket>();
  let nextId = 1;
  let accepted = 0;
  let handshakeErrors = 0;
  const budget = new MemoryBudget(options.maxBufferedBytes ?? 128 * 1024 * 1024);
  let stopping = false;
  sink?.onDrain?.(() => {
    for (const c of connections.values()) c.pipe.resume();
  });

  const protocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    // Bytes are forwarded as received; the receiving peer judges the UTF-8 (and closes with 1007, passed back).
    skipUTF8Validation: true,
    handleProtocols: (_offered, req) => protocols.get(req) ?? false,
  });
  const http: HttpServer = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createHttpServer();
  http.on("request", (_req, res) => {
    res.writeHead(426, { "Content-Type": "text/plain", Upgrade: "websocket" }).end("openflow-spec proxy: connect with a websocket client\n");
  });

  // Recording and checking run off the forwarding path (./checking.ts: a worker thread unless `checkInWorker` is
  // false), fed once per turn of the event loop; what waits for them counts in the memory budget.
  const checking = wantsChecking
    ? new Checking({
        worker: options.checkInWorker ?? true,
        captureFile: sink === undefined ? options.captureFile : undefined,
        capture: sink !== undefined || options.captureFile !== undefined,
        redact: options.redact ?? true,
        check: options.onFinding !== undefined,
        budget,
        line: (text) => sink?.write(text),
        finding: (f) => options.onFinding?.(f),
        failed: (message) => logger.warn(message),
      })
    : undefined;

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    try {
      upgrade(req, socket, head);
    } catch (err) {
      // Nothing a client sends may end the process or touch another connection: whatever was not foreseen is a 400.
      handshakeErrors++;
      logger.warn(`refused a handshake: ${displayText((err as Error).message)}`);
      refuse(socket, 400, "Bad Request");
    }
  });

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (stopping) return refuse(socket, 503, "Service Unavailable");
    const checked = checkClientHandshake(req, base);
    if (isRefusal(checked)) {
      handshakeErrors++;
      logger.warn(`refused a handshake from ${req.socket.remoteAddress ?? "?"}: ${checked.status} ${checked.message}`);
      return refuse(socket, checked.status, checked.message);
    }
    const target = checked.target;
    // For logs: no user info or query string (either may carry a credential).
    const shown = displayText(((u) => `${u.protocol}//${u.host}${u.pathname}`)(new URL(target)));
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    const upstream = new WebSocket(target, checked.protocols, {
      headers,
      maxPayload,
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: connectTimeoutMs,
      rejectUnauthorized: verify,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    upstream.on("error", () => {}); // reported through the handlers below; a late second error must not throw
    connecting.add(upstream);
    let upstreamSocket: Duplex | undefined;
    upstream.once("upgrade", (res) => {
      upstreamSocket = res.socket;
    });
    let settled = false;
    const fail = (status: number, message: string): void => {
      if (settled) return;
      settled = true;
      connecting.delete(upstream);
      logger.warn(`upstream ${shown} refused a client: ${displayText(message)}`);
      refuse(socket, status, message);
      upstream.terminate();
    };
    // The client gave up while the upstream handshake was running.
    const abandoned = (): void => fail(499, "Client Closed Request");
    socket.once("close", abandoned);
    upstream.once("unexpected-response", (_r, res) => fail(res.statusCode ?? 502, `upstream answered ${res.statusCode ?? "?"} ${res.statusMessage ?? ""}`.trim()));
    upstream.once("error", (err) => fail(/timed out/i.test(err.message) ? 504 : 502, `upstream unreachable: ${err.message}`));
    upstream.once("open", () => {
      if (settled) return;
      settled = true;
      connecting.delete(upstream);
      socket.off("close", abandoned);
      if (upstream.protocol) protocols.set(req, upstream.protocol);
      if (stopping || socket.destroyed) {
        upstream.terminate();
        return;
      }
      let attached = false;
      // handleUpgrade answers a malformed client handshake with 400 itself and never calls back.
      setImmediate(() => attached || upstream.terminate());
      try {
        wss.handleUpgrade(req, socket, head, (client) => attach(client, upstream, socket, upstreamSocket, req, shown, () => (attached = true)));
      } catch (err) {
        handshakeErrors++;
        logger.warn(`refused a handshake: ${displayText((err as Error).message)}`);
        refuse(socket, 400, "Bad Request");
        upstream.terminate();
      }
    });
  };

  const attach = (client: WebSocket, upstream: WebSocket, socket: Duplex, upstreamSocket: Duplex | undefined, req: IncomingMessage, shown: string, mark: () => void): void => {
    mark();
    const id = `p${nextId++}`;
    accepted++;
    logger.info(`[${id}] ${req.socket.remoteAddress ?? "?"} <-> ${shown}`);
    checking?.event(id, "open");
    const pipe = new Pipe(client, upstream, {
      highWaterBytes,
      ...(sinkBackedUp ? { sinkBackedUp } : {}),
      ...(upstreamSocket ? { budget: { budget, clientSocket: socket, upstreamSocket } } : {}),
      ...(checking ? { onMessage: (dir: Direction, data: Buffer) => checking.message(id, dir, data) } : {}),
      onClose: (info) => {
        logger.info(`[${id}] closed by the ${info.by} with code ${info.code}${info.reason ? ` (${displayText(info.reason)})` : ""}`);
      },
    });
    const entry = { id, stats: pipe.stats, closed: pipe.closed, pipe };
    connections.set(id, entry);
    void pipe.closed.then((info) => {
      connections.delete(id);
      checking?.event(id, "close", { by: info.by, code: info.code, ...(info.reason ? { reason: info.reason } : {}) });
    });
  };

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${options.tls ? "wss" : "ws"}://${host}:${address.port}/`;

  return {
    url,
    port: address.port,
    connections,
    get checkStats() {
      return options.onFinding ? checking?.stats ?? { frames: 0, messages: 0, errors: 0, warnings: 0, connections: 0 } : undefined;
    },
    get accepted() {
      return accepted;
    },
    get handshakeErrors() {
      return handshakeErrors;
    },
    memory: budget.stats,
    get captureError() {
      return checking?.captureError;
    },
    async close() {
      if (stopping) return;
      stopping = true;
      for (const ws of connecting) ws.terminate();
      const all = [...connections.values()];
      for (const c of all) c.pipe.close(1001, "proxy stopping");
      // Bounded: a peer that never answers the close frame is dropped.
      const timer = setTimeout(() => {
        for (const c of all) for (const ws of [c.pipe.client, c.pipe.upstream]) closeWith(ws, 1006, "");
      }, 5_000);
      await Promise.all(all.map((c) => c.closed));
      clearTimeout(timer);
      // Let the close handlers above (capture event, check) run before finishing.
      await new Promise((resolve) => setImmediate(resolve));
      await checking?.finish();
      wss.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
