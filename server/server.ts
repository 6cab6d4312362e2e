/**
 * `startServer(options)`: an HTTP server whose websocket endpoint (`/`, `/ws`, `/ws/v1`, like server-latest)
 * speaks the legacy OpenFlow protocol, with the state in memory. Timers: heartbeat (silent and unsigned
 * clients), token refresh (`refreshtoken` before expiry), sweeps for half-received messages and expired queue
 * messages. `close()` tells consumers their queues are gone, closes every socket and stops every timer.
 *
 * Limits across connections (options.ts `limits`): total connections and connections not signed in are capped
 * at the upgrade (503); the bytes half-received (websocket frames still arriving, chunked messages not yet
 * complete) are capped per unauthenticated connection and for all connections together, so many peers that
 * each stay under the per-connection limits cannot exhaust memory together; a client that reads nothing for
 * limits.writeStallTimeoutMs while bytes wait for it is closed.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { Auth } from "./auth.js";
import { mayConsume, watchSessions } from "./authz.js";
import { Broker } from "./broker.js";
import { Connection } from "./connection.js";
import type { Handler, ServerContext } from "./context.js";
import { handleText } from "./dispatch.js";
import { FileStore } from "./files.js";
import { randomName } from "./ids.js";
import { resolveOptions, type ResolvedOptions, type ServerOptions, type UserSpec } from "./options.js";
import { queryLimitsOf, withQueryLimits } from "./querylimits.js";
import { addressOf, Tally } from "./shares.js";
import { Store } from "./store.js";
import { Watches } from "./watches.js";
import { dataHandlers } from "./handlers/data.js";
import { fileHandlers } from "./handlers/files.js";
import { messagingHandlers } from "./handlers/messaging.js";
import { otherHandlers } from "./handlers/other.js";
import { watchHandlers } from "./handlers/watch.js";
import { workflowHandlers } from "./handlers/workflow.js";
import { workitemHandlers } from "./handlers/workitems.js";

export interface RunningServer {
  /** `ws://host:port/` */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The users created at start (with the generated admin password when no users were given). */
  readonly users: readonly UserSpec[];
  /** The live state, for tests that want to look inside. */
  readonly context: ServerContext;
  /** Number of open connections. */
  readonly connectionCount: number;
  /** Delete a queue as if the broker lost it: its consumers receive `queueclosed`. */
  dropQueue(name: string): boolean;
  /** Stop accepting, close every connection, stop every timer. Idempotent. */
  close(): Promise<void>;
}

const PATHS = new Set(["/", "/ws", "/ws/v1"]);

export function buildHandlers(): Map<string, Handler> {
  return new Map(Object.entries({ ...dataHandlers, ...watchHandlers, ...messagingHandlers, ...workitemHandlers, ...workflowHandlers, ...fileHandlers, ...otherHandlers }));
}

class LocalServer implements ServerContext {
  readonly store: Store;
  readonly files = new FileStore();
  readonly auth: Auth;
  readonly broker: Broker;
  readonly watches: Watches;
  readonly connections = new Set<Connection>();
  /** Bytes half-received by all connections together (frames arriving plus chunked messages). */
  pendingBytes = 0;
  /** The same bytes by address and by user, for the shares. */
  readonly pending: Tally;

  constructor(readonly options: ResolvedOptions) {
    const l = options.limits;
    this.store = new Store(l);
    this.pending = new Tally("half-received bytes", {
      option: "limits.maxTotalPendingBytes", global: l.maxTotalPendingBytes, perAddress: l.maxTotalPendingBytesPerAddress, perUser: l.maxTotalPendingBytesPerUser,
    });
    this.auth = new Auth(this.store, options.now, { shortSeconds: options.shortTokenSeconds, longSeconds: options.longTokenSeconds }, options.jwtSecret, options.limits, options.logger);
    this.broker = new Broker({
      now: options.now,
      requeueDelayMs: options.requeueDelayMs,
      logger: options.logger,
      mayDeliver: (conn, queue) => mayConsume(this, conn, queue),
      queuedMessages: { option: "limits.maxQueuedMessages", global: l.maxQueuedMessages, perAddress: l.maxQueuedMessagesPerAddress, perUser: l.maxQueuedMessagesPerUser },
      maxQueuesPerConnection: l.maxQueuesPerConnection,
      queues: { option: "limits.maxQueues", global: l.maxQueues, perAddress: l.maxQueuesPerAddress, perUser: l.maxQueuesPerUser },
      exchanges: { option: "limits.maxExchanges", global: l.maxExchanges, perAddress: l.maxExchangesPerAddress, perUser: l.maxExchangesPerUser },
    });
    this.watches = new Watches(this.store, options.now, options.limits.maxWatchesPerConnection);
    watchSessions(this, (conn, why) => {
      options.logger.info(`[${conn.id}] closing: ${why}`);
      conn.close(1000, "session ended: user disabled or removed");
    });
  }

  now(): number {
    return this.options.now();
  }

  stamp(): string {
    return new Date(this.options.now()).toISOString();
  }
}

/**
 * The server's state and its users without any socket: what `startServer` serves, for in-process tests that
 * call the handlers (`buildHandlers`) directly.
 */
export async function createServerContext(options: ServerOptions = {}): Promise<{ context: ServerContext; users: UserSpec[] }> {
  const resolved = resolveOptions(options);
  const server = new LocalServer(resolved);
  const users: UserSpec[] = resolved.users ?? [{ username: "admin", password: resolved.adminPassword ?? randomName(16), roles: ["admins"], name: "Administrator" }];
  await server.auth.init(users);
  return { context: server, users };
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const resolved = resolveOptions(options);
  const log = resolved.logger;
  const created = await createServerContext(options);
  const server = created.context as LocalServer;
  const users = created.users;
  const dispatcher = { handlers: buildHandlers() };

  const http = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" });
    res.end("OpenFlow-compatible websocket server: connect with ws:// on /, /ws or /ws/v1\n");
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: resolved.limits.maxFrameBytes });
  const limits = resolved.limits;
  const queryLimits = queryLimitsOf(limits);
  // Sockets that never upgrade count too (the HTTP server holds them until its header timeout).
  http.maxConnections = limits.maxConnections + limits.maxUnauthenticatedConnections;
  http.headersTimeout = 10_000;
  http.requestTimeout = 10_000;

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (!PATHS.has(path)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    const refusal = admission(server, addressOf(req.socket.remoteAddress ? `${req.socket.remoteAddress}:0` : "?:0"));
    if (refusal) {
      log.warn(`refusing a connection from ${req.socket.remoteAddress ?? "?"}: ${refusal}`);
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${refusal}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const remote = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
    const conn = new Connection(ws, remote, resolved);
    server.connections.add(conn);
    conn.onClose(() => {
      server.connections.delete(conn);
      server.watches.removeConnection(conn);
      server.broker.removeConnection(conn);
    });
    log.debug?.(`[${conn.id}] connected from ${remote}`);
    // The sign-in deadline is the connection's own timer: a pool of idle unauthenticated sockets drains within
    // heartbeat.signinTimeoutMs, whatever the heartbeat interval.
    const signinTimeout = resolved.heartbeat.signinTimeoutMs;
    if (signinTimeout > 0) {
      let deadline: ReturnType<typeof setTimeout>;
      const expire = (extended: boolean) => {
        if (conn.closed || conn.signedIn) return;
        // A signin still being checked (the hashing line is long on a busy machine) gets one more period.
        if (!extended && conn.pendingRequests > 0) {
          deadline = setTimeout(() => expire(true), signinTimeout).unref();
          return;
        }
        log.info(`[${conn.id}] closing: not signed in after ${signinTimeout} ms`);
        conn.close(1000, "signin timeout");
        conn.terminate();
      };
      deadline = setTimeout(() => expire(false), signinTimeout).unref();
      conn.onClose(() => clearTimeout(deadline));
    }
    // Bytes of frames still arriving: ws holds them until the frame is complete. ws's own data listener runs
    // first and emits a completed message synchronously, so a chunk that completed one is not counted.
    let completed = false;
    req.socket.on("data", (chunk: Buffer) => {
      if (conn.closed) return;
      if (completed) completed = false;
      else conn.receivingBytes += chunk.length;
      account(server, conn);
    });
    ws.on("message", (data, isBinary) => {
      conn.receivingBytes = 0;
      completed = true;
      if (isBinary) {
        conn.sendText(JSON.stringify({ command: "error", data: "binary websocket messages are not part of the protocol", priority: 1 }));
        account(server, conn);
        return;
      }
      const text = data.toString();
      resolved.onFrame?.("in", text, conn.id);
      try {
        withQueryLimits(queryLimits, () => handleText(server, dispatcher, conn, text));
      } catch (err) {
        // Defensive: handleText reports its own failures; anything else must not take the server down.
        log.error(`[${conn.id}] unexpected failure: ${(err as Error).stack ?? String(err)}`);
      }
      account(server, conn);
    });
    ws.on("close", () => {
      log.debug?.(`[${conn.id}] closed`);
      conn.disposed();
      conn.receivingBytes = 0;
      account(server, conn);
    });
    ws.on("error", (err) => log.warn(`[${conn.id}] socket error: ${err.message}`));
  });

  // Listen before starting any timer, so a failed start (port in use) leaves nothing running.
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      wss.close();
      reject(err);
    };
    http.once("error", failed);
    http.listen(resolved.port, resolved.host, () => {
      http.off("error", failed);
      resolve();
    });
  });
  const heartbeat = setInterval(() => {
    const now = server.now();
    const hb = resolved.heartbeat;
    for (const conn of server.connections) {
      for (const expired of conn.reassembler.sweep(now)) log.debug?.(`[${conn.id}] ${expired.message}`);
      account(server, conn);
      const stalled = conn.writeStalledFor(now);
      if (limits.writeStallTimeoutMs > 0 && stalled >= limits.writeStallTimeoutMs) {
        log.warn(`[${conn.id}] closing: ${conn.bufferedBytes} bytes waited ${stalled} ms and the client read none (not reading)`);
        conn.terminate();
      } else if (hb.timeoutMs > 0 && now - conn.lastSeen >= hb.timeoutMs) {
        log.info(`[${conn.id}] closing: silent for ${now - conn.lastSeen} ms`);
        conn.close(1000, "heartbeat timeout");
        conn.terminate();
      }
    }
    server.broker.sweep();
  }, resolved.heartbeat.intervalMs);

  let refreshing = false;
  const refresh = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    void refreshTokens(server).finally(() => {
      refreshing = false;
    });
  }, resolved.refreshCheckIntervalMs);

  const address = http.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `ws://${host}:${address.port}/`;
  log.info(`listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host: resolved.host,
    users,
    context: server,
    get connectionCount() {
      return server.connections.size;
    },
    dropQueue: (name) => server.broker.deleteQueue(name.toLowerCase(), true),
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        clearInterval(refresh);
        server.broker.closeAll();
        for (const ws of wss.clients) ws.close(1001, "server closing");
        await new Promise((r) => setTimeout(r, 20));
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections?.();
        });
        log.info("stopped");
      })();
      return closing;
    },
  };
}

/**
 * Why a new connection from `address` is refused now, or undefined when it may come in. Signed-in or not, an
 * address holds at most limits.maxConnectionsPerAddress. Connections not signed in never lock newcomers out:
 * when their pool (or the address's share of it) is full, the oldest one of the address holding the most
 * (the newcomer's own address when its share is full) is closed to make room. A flood of idle sockets thus
 * churns itself, and a client that signs in within the deadline is served.
 */
function admission(server: LocalServer, address: string): string | undefined {
  const limits = server.options.limits;
  const { maxConnections, maxConnectionsPerAddress, maxUnauthenticatedConnections, maxUnauthenticatedConnectionsPerAddress } = limits;
  let fromAddress = 0;
  const unauthenticated = new Map<string, Connection[]>();
  let unauthenticatedCount = 0;
  for (const conn of server.connections) {
    if (conn.closed) continue;
    if (conn.address === address) fromAddress++;
    if (!conn.signedIn) {
      unauthenticatedCount++;
      let list = unauthenticated.get(conn.address);
      if (!list) unauthenticated.set(conn.address, (list = []));
      list.push(conn);
    }
  }
  const evict = (victims: Connection[] | undefined, why: string): boolean => {
    const oldest = victims?.reduce((a, b) => (a.connectedAt <= b.connectedAt ? a : b));
    if (!oldest) return false;
    server.options.logger.warn(`[${oldest.id}] closing: ${why}`);
    oldest.close(1013, "too many connections not signed in; sign in sooner");
    oldest.terminate();
    server.connections.delete(oldest);
    return true;
  };
  const own = unauthenticated.get(address);
  if ((own?.length ?? 0) >= maxUnauthenticatedConnectionsPerAddress) {
    evict(own, `a newer connection from ${address} needs room (limits.maxUnauthenticatedConnectionsPerAddress ${maxUnauthenticatedConnectionsPerAddress})`);
    fromAddress--;
  } else if (unauthenticatedCount >= maxUnauthenticatedConnections) {
    let most: Connection[] | undefined;
    for (const list of unauthenticated.values()) if (!most || list.length > most.length) most = list;
    if (most && most.length > (own?.length ?? 0)) {
      if (most === own) fromAddress--;
      evict(most, `a connection from another address needs room (limits.maxUnauthenticatedConnections ${maxUnauthenticatedConnections})`);
    } else {
      return `too many connections that have not signed in (limits.maxUnauthenticatedConnections ${maxUnauthenticatedConnections})`;
    }
  }
  if (server.connections.size >= maxConnections) return `too many connections (limits.maxConnections ${maxConnections})`;
  if (fromAddress >= maxConnectionsPerAddress) return `too many connections from ${address} (limits.maxConnectionsPerAddress ${maxConnectionsPerAddress})`;
  return undefined;
}

/**
 * Bring the server's totals of half-received bytes (all, per address, per user) up to date with this
 * connection's, and close the connection when it goes over its own limit (not signed in), its address's or
 * its user's share, or the total (it is the one adding bytes).
 */
function account(server: LocalServer, conn: Connection): void {
  const now = conn.closed ? 0 : conn.receivingBytes + conn.reassembler.pendingChars;
  const tally = server.pending;
  tally.remove(conn.address, conn.accountedUser, conn.accountedPendingBytes);
  conn.accountedUser = conn.user?._id;
  tally.add(conn.address, conn.accountedUser, now);
  conn.accountedPendingBytes = now;
  server.pendingBytes = tally.total;
  if (conn.closed || now === 0) return;
  const { maxUnauthenticatedPendingBytes } = server.options.limits;
  let reason: string | undefined;
  if (!conn.signedIn && now > maxUnauthenticatedPendingBytes) reason = `${now} bytes half-received before signin (limits.maxUnauthenticatedPendingBytes ${maxUnauthenticatedPendingBytes})`;
  else reason = tally.refusal(conn.address, conn.accountedUser, 0)?.replace(/^Too many half-received bytes/, "half-received bytes");
  if (!reason) return;
  server.options.logger.warn(`[${conn.id}] closing: ${reason}`);
  conn.reassembler.clear();
  conn.receivingBytes = 0;
  tally.remove(conn.address, conn.accountedUser, conn.accountedPendingBytes);
  server.pendingBytes = tally.total;
  conn.accountedPendingBytes = 0;
  conn.close(1009, "too much half-received data");
  conn.terminate();
}

/** Push `refreshtoken` to every connection whose token expires soon; close those whose user is gone. */
async function refreshTokens(server: LocalServer): Promise<void> {
  const { refreshBeforeExpiryMs, logger } = server.options;
  for (const conn of [...server.connections]) {
    if (conn.closed || !conn.user || !conn.jwt) continue;
    if (conn.tokenExpiresAt - server.now() >= refreshBeforeExpiryMs) continue;
    const user = server.auth.reload(conn.user);
    if (!user) {
      logger.info(`[${conn.id}] closing: user ${conn.user._id} no longer exists`);
      conn.close(1000, "user removed");
      continue;
    }
    // A refresh always issues a short token, even for longtoken sessions (Q11).
    const issued = await server.auth.issue(user, false);
    if (conn.closed) continue;
    conn.user = user;
    conn.jwt = issued.jwt;
    conn.tokenExpiresAt = issued.expiresAt;
    conn.push("refreshtoken", { jwt: issued.jwt, user, validate_only: false, longtoken: false, supports_watch: false });
  }
}
