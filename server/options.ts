/**
 * Options of the local server and their defaults. Every knob lives here, so the rest of the server reads one
 * resolved object and tests can shorten any timer.
 */

/** A user the server knows at start. `roles` are role names; unknown names become new roles. */
export interface UserSpec {
  username: string;
  password: string;
  roles?: string[];
  /** Display name; defaults to the username. */
  name?: string;
}

export interface ServerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

/** Which error reply style the server uses (../docs/protocol.md#errors). */
export type ErrorStyle = "latest" | "2021";

export interface RateLimitOptions {
  /** Points per window (the real server: 30). */
  points?: number;
  /** Window length in ms (the real server: 1000). */
  durationMs?: number;
}

export interface HeartbeatOptions {
  /** Close a connection that sent nothing for this long (the real server: 60 s). 0 disables. */
  timeoutMs?: number;
  /** How often silent and unsigned connections are checked (the real server: 10 s). */
  intervalMs?: number;
  /** Close a connection that has not signed in after this long (server-latest: 120 s; here 10 s, a per-connection timer). 0 disables. */
  signinTimeoutMs?: number;
}

export interface LimitOptions {
  /** Largest reassembled payload, in UTF-16 code units. */
  maxMessageChars?: number;
  /** Largest `count` of one chunked message. */
  maxChunks?: number;
  /** Largest single websocket frame in bytes (ws `maxPayload`). */
  maxFrameBytes?: number;
  /** Most half-received messages per connection. */
  maxPartialMessages?: number;
  /** Most characters held for one connection's half-received messages together (default 2 x maxMessageChars). */
  maxPendingChars?: number;
  /**
   * Most bytes waiting to be written to one client (it stopped reading; watch events and deliveries pile up in
   * memory). Beyond this the connection is closed. Default 4 x maxFrameBytes.
   */
  maxBufferedBytes?: number;
  /** A half-received message is dropped after this long. */
  partialTimeoutMs?: number;
  /** Most open websocket connections (signed in or not); more are refused at the upgrade with 503. */
  maxConnections?: number;
  /** Most connections that have not signed in yet; more are refused at the upgrade with 503. */
  maxUnauthenticatedConnections?: number;
  /** Most bytes a connection that has not signed in may have half-received (socket and reassembly); beyond it is closed. */
  maxUnauthenticatedPendingBytes?: number;
  /** Most bytes half-received by all connections together (socket frames and chunked messages); beyond, the connection that adds more is closed. */
  maxTotalPendingBytes?: number;
  /** Reply bytes waiting to be written to one client above which its next request waits (back-pressure, never a disconnect). */
  maxInflightReplyBytes?: number;
  /** A client with bytes waiting that reads none of them for this long is closed as not reading. 0 disables. */
  writeStallTimeoutMs?: number;
  /** Requests of one connection received but not yet handled; beyond, the server stops reading that socket until they are. */
  maxPendingRequests?: number;
  /** Messages waiting in all broker queues together; a publish beyond is refused. */
  maxQueuedMessages?: number;
  /** Queues one connection may consume (registerqueue, registerexchange with addqueue). */
  maxQueuesPerConnection?: number;
  /** Exchanges on the server (they are never removed). */
  maxExchanges?: number;
  /** Watches one connection may hold. */
  maxWatchesPerConnection?: number;
  /** Work units one query, count, update filter or pipeline may spend (see server/querylimits.ts). */
  maxQueryWork?: number;
  /** Wall-clock bound of one query or pipeline evaluation, a backstop to maxQueryWork (units undercount some work). */
  maxQueryMs?: number;
  /** Most bytes (JSON text) of one query or aggregate result; a larger reply is refused with a limit error. */
  maxReplyBytes?: number;
  /** Work units one watch `$match` filter may spend on one change; beyond, that change does not match it. */
  maxWatchFilterWork?: number;
  /** Most characters of one watch request's filters (JSONPath strings and `$match` stages, as JSON). */
  maxWatchFilterChars?: number;
  /** Most items of one array an expression produces ($range, $map, $concatArrays, $push ...). */
  maxExpressionItems?: number;
  /** Most characters of one string an expression produces. */
  maxExpressionChars?: number;
  /** Longest regular expression source accepted (they run on RE2, in linear time). */
  maxRegexChars?: number;
  /** Password hashes (scrypt) computed at once; further signins wait in line. */
  maxConcurrentHashes?: number;
  /** Signins waiting for a hashing slot; beyond, a signin is refused at once as busy. */
  maxQueuedHashes?: number;
  /** Signins one client address may have waiting for a hashing slot or a slow-down (default half of maxQueuedHashes). */
  maxQueuedHashesPerAddress?: number;
  /** Signins for one username that may wait at once (default half of maxQueuedHashes: many clients of one user sign in at once). */
  maxQueuedHashesPerUser?: number;
  /** Failed password signins of one username from one address within signinFailureWindowMs before its signins there are slowed down. */
  signinFailuresPerUser?: number;
  /** Failed password signins from one address (any usernames) within signinFailureWindowMs before its signins are slowed down. */
  signinFailuresPerAddress?: number;
  /** Window of the failed-signin counters. */
  signinFailureWindowMs?: number;
  /** First slow-down after the free failures; it doubles with each further failure (OWASP: throttle, do not lock out). */
  signinDelayBaseMs?: number;
  /** Longest slow-down of one signin: the right password always gets through within it. */
  signinMaxDelayMs?: number;
  /** Connections one client address may hold (default half of maxConnections). */
  maxConnectionsPerAddress?: number;
  /** Signed-in connections of one user (default a quarter of maxConnections); a signin beyond is refused. */
  maxConnectionsPerUser?: number;
  /** Connections not signed in from one address (default half of maxUnauthenticatedConnections). */
  maxUnauthenticatedConnectionsPerAddress?: number;
  /** Half-received bytes of one address's connections together (default half of maxTotalPendingBytes). */
  maxTotalPendingBytesPerAddress?: number;
  /** Half-received bytes of one user's connections together (default a quarter of maxTotalPendingBytes). */
  maxTotalPendingBytesPerUser?: number;
  /** Exchanges one address may create (default half of maxExchanges). */
  maxExchangesPerAddress?: number;
  /** Exchanges one user may create (default a quarter of maxExchanges). */
  maxExchangesPerUser?: number;
  /** Broker queues on the server (consumed, or created by a publish to a new name). */
  maxQueues?: number;
  /** Queues one address may create (default half of maxQueues). */
  maxQueuesPerAddress?: number;
  /** Queues one user may create (default a quarter of maxQueues). */
  maxQueuesPerUser?: number;
  /** Messages one address's publishes may have waiting (default half of maxQueuedMessages). */
  maxQueuedMessagesPerAddress?: number;
  /** Messages one user's publishes may have waiting (default a quarter of maxQueuedMessages). */
  maxQueuedMessagesPerUser?: number;
  /** Largest stored document, as JSON text: MongoDB's 16 MiB BSON limit. */
  maxDocumentBytes?: number;
  /** Bytes (JSON text) of all stored documents and history together. */
  maxStoredBytes?: number;
  /** Bytes one user's documents and the history of his changes may take (default a quarter of maxStoredBytes). */
  maxStoredBytesPerUser?: number;
  /** Versions larger than this are not kept in history (server-latest's history_obj_max_kb_size, 10 MiB there). */
  historyMaxDocumentBytes?: number;
  /** A full copy in `<collection>_hist` every this many versions, deltas between (server-latest's history_delta_count). */
  historyFullEvery?: number;
  /** Most roles one user's role expansion (nested roles) yields; the rest are ignored and logged. */
  maxRoles?: number;
}

/** Observe every websocket text message the server receives ("in") or sends ("out"). For tests and tracing. */
export type FrameTap = (direction: "in" | "out", text: string, connectionId: string) => void;

export interface ServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Users created at start. Default: one admin user `admin` with a random password (see `adminPassword`). */
  users?: UserSpec[];
  /** Password of the default admin when `users` is not given; random when omitted. */
  adminPassword?: string;
  /** Chunk size announced as `websocket_package_size` and used for the server's own messages (default 25000). */
  packageSize?: number;
  /** Error reply style (default "latest"). */
  errorStyle?: ErrorStyle;
  /** Lifetime of normal tokens in seconds (default 300, like `shorttoken_expires_in` 5m). */
  shortTokenSeconds?: number;
  /** Lifetime of `longtoken` tokens in seconds (default 365 days). */
  longTokenSeconds?: number;
  /** How often connection tokens are checked for refresh (default 10 s). */
  refreshCheckIntervalMs?: number;
  /** A token that expires within this many ms is refreshed (default 60 s). */
  refreshBeforeExpiryMs?: number;
  /** HS256 secret for tokens; random per server when omitted. */
  jwtSecret?: string | Uint8Array;
  limits?: LimitOptions;
  /** Per-connection rate limit like the real server's; off unless given (true = 30 points per second). */
  rateLimit?: boolean | RateLimitOptions;
  heartbeat?: HeartbeatOptions;
  /** Delay before a nacked queue message is delivered again (the real server: 1000 ms). */
  requeueDelayMs?: number;
  /** Default queue message expiration in ms (the real server: 60000). */
  defaultExpirationMs?: number;
  /** Validate every incoming payload against the schemas (default true). */
  validate?: boolean;
  logger?: ServerLogger;
  /** Clock in ms since the epoch; injectable for tests. */
  now?: () => number;
  onFrame?: FrameTap;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  users: UserSpec[] | undefined;
  adminPassword: string | undefined;
  packageSize: number;
  errorStyle: ErrorStyle;
  shortTokenSeconds: number;
  longTokenSeconds: number;
  refreshCheckIntervalMs: number;
  refreshBeforeExpiryMs: number;
  jwtSecret: Uint8Array | undefined;
  limits: Required<LimitOptions>;
  rateLimit: Required<RateLimitOptions> | undefined;
  heartbeat: Required<HeartbeatOptions>;
  requeueDelayMs: number;
  defaultExpirationMs: number;
  validate: boolean;
  logger: ServerLogger;
  now: () => number;
  onFrame: FrameTap | undefined;
}

export const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} };

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`server option ${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${String(value)}`);
  }
  return value;
}

/** Longest delay Node timers take; a longer one runs after 1 ms (an interval would then spin every millisecond). */
const MAX_TIMER_MS = 2_147_483_647;

function timer(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const ms = positive(name, value, fallback, allowZero);
  if (ms > MAX_TIMER_MS) throw new RangeError(`server option ${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${ms}`);
  return ms;
}

/** Per-address shares are half of the global cap, per-user shares a quarter (server/shares.ts). */
export const ADDRESS_SHARE = 1 / 2;
export const USER_SHARE = 1 / 4;

/** MongoDB's largest document (BSON), 16 MiB: server-latest relays the driver's error above it. */
export const MONGODB_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** A share of `global`: the option when given, else the fraction (at least 1). */
function share(name: keyof LimitOptions, limits: LimitOptions, global: number, fraction: number): number {
  return positive(`limits.${name}`, limits[name] as number | undefined, Math.max(1, Math.floor(global * fraction)));
}

export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`server option port must be 0..65535, got ${String(port)}`);
  const packageSize = positive("packageSize", options.packageSize, 25_000);
  if (!Number.isInteger(packageSize)) throw new RangeError(`server option packageSize must be an integer, got ${packageSize}`);
  const errorStyle = options.errorStyle ?? "latest";
  if (errorStyle !== "latest" && errorStyle !== "2021") throw new RangeError(`server option errorStyle must be "latest" or "2021", got ${String(errorStyle)}`);
  const limits = options.limits ?? {};
  const maxMessageChars = positive("limits.maxMessageChars", limits.maxMessageChars, 32 * 1024 * 1024);
  const maxFrameBytes = positive("limits.maxFrameBytes", limits.maxFrameBytes, 32 * 1024 * 1024);
  const maxConnections = positive("limits.maxConnections", limits.maxConnections, 1_000);
  const maxUnauthenticatedConnections = positive("limits.maxUnauthenticatedConnections", limits.maxUnauthenticatedConnections, 100);
  const maxTotalPendingBytes = positive("limits.maxTotalPendingBytes", limits.maxTotalPendingBytes, 256 * 1024 * 1024);
  const maxExchanges = positive("limits.maxExchanges", limits.maxExchanges, 10_000);
  const maxQueuedMessages = positive("limits.maxQueuedMessages", limits.maxQueuedMessages, 100_000);
  const maxQueuedHashes = positive("limits.maxQueuedHashes", limits.maxQueuedHashes, 64);
  const maxQueues = positive("limits.maxQueues", limits.maxQueues, 10_000);
  const maxStoredBytes = positive("limits.maxStoredBytes", limits.maxStoredBytes, 1024 * 1024 * 1024);
  const heartbeat = options.heartbeat ?? {};
  const rate = options.rateLimit;
  const secret = options.jwtSecret;
  return {
    port,
    host: options.host ?? "127.0.0.1",
    users: options.users,
    adminPassword: options.adminPassword,
    packageSize,
    errorStyle,
    shortTokenSeconds: positive("shortTokenSeconds", options.shortTokenSeconds, 300),
    longTokenSeconds: positive("longTokenSeconds", options.longTokenSeconds, 365 * 24 * 3600),
    refreshCheckIntervalMs: timer("refreshCheckIntervalMs", options.refreshCheckIntervalMs, 10_000),
    refreshBeforeExpiryMs: positive("refreshBeforeExpiryMs", options.refreshBeforeExpiryMs, 60_000, true),
    jwtSecret: typeof secret === "string" ? new TextEncoder().encode(secret) : secret,
    limits: {
      maxMessageChars,
      maxPendingChars: positive("limits.maxPendingChars", limits.maxPendingChars, 2 * maxMessageChars),
      maxChunks: positive("limits.maxChunks", limits.maxChunks, 100_000),
      maxFrameBytes,
      maxBufferedBytes: positive("limits.maxBufferedBytes", limits.maxBufferedBytes, 4 * maxFrameBytes),
      maxPartialMessages: positive("limits.maxPartialMessages", limits.maxPartialMessages, 1_000),
      partialTimeoutMs: positive("limits.partialTimeoutMs", limits.partialTimeoutMs, 60_000),
      maxConnections,
      maxUnauthenticatedConnections,
      maxUnauthenticatedPendingBytes: positive("limits.maxUnauthenticatedPendingBytes", limits.maxUnauthenticatedPendingBytes, 64 * 1024),
      maxTotalPendingBytes,
      maxInflightReplyBytes: positive("limits.maxInflightReplyBytes", limits.maxInflightReplyBytes, 8 * 1024 * 1024),
      writeStallTimeoutMs: timer("limits.writeStallTimeoutMs", limits.writeStallTimeoutMs, 30_000, true),
      maxPendingRequests: positive("limits.maxPendingRequests", limits.maxPendingRequests, 256),
      maxQueuedMessages,
      maxQueuesPerConnection: positive("limits.maxQueuesPerConnection", limits.maxQueuesPerConnection, 100),
      maxExchanges,
      maxWatchesPerConnection: positive("limits.maxWatchesPerConnection", limits.maxWatchesPerConnection, 100),
      maxQueryWork: positive("limits.maxQueryWork", limits.maxQueryWork, 100_000),
      maxQueryMs: positive("limits.maxQueryMs", limits.maxQueryMs, 50),
      maxReplyBytes: positive("limits.maxReplyBytes", limits.maxReplyBytes, 20 * 1024 * 1024),
      maxWatchFilterWork: positive("limits.maxWatchFilterWork", limits.maxWatchFilterWork, 1_000),
      maxWatchFilterChars: positive("limits.maxWatchFilterChars", limits.maxWatchFilterChars, 16 * 1024),
      maxExpressionItems: positive("limits.maxExpressionItems", limits.maxExpressionItems, 100_000),
      maxExpressionChars: positive("limits.maxExpressionChars", limits.maxExpressionChars, 4 * 1024 * 1024),
      maxRegexChars: positive("limits.maxRegexChars", limits.maxRegexChars, 8_192),
      maxConcurrentHashes: positive("limits.maxConcurrentHashes", limits.maxConcurrentHashes, 1),
      maxQueuedHashes,
      signinFailuresPerUser: positive("limits.signinFailuresPerUser", limits.signinFailuresPerUser, 5),
      signinFailuresPerAddress: positive("limits.signinFailuresPerAddress", limits.signinFailuresPerAddress, 50),
      signinFailureWindowMs: positive("limits.signinFailureWindowMs", limits.signinFailureWindowMs, 15 * 60_000),
      signinDelayBaseMs: timer("limits.signinDelayBaseMs", limits.signinDelayBaseMs, 250),
      signinMaxDelayMs: timer("limits.signinMaxDelayMs", limits.signinMaxDelayMs, 5_000),
      maxRoles: positive("limits.maxRoles", limits.maxRoles, 1_000),
      maxConnectionsPerAddress: share("maxConnectionsPerAddress", limits, maxConnections, ADDRESS_SHARE),
      maxConnectionsPerUser: share("maxConnectionsPerUser", limits, maxConnections, USER_SHARE),
      maxUnauthenticatedConnectionsPerAddress: share("maxUnauthenticatedConnectionsPerAddress", limits, maxUnauthenticatedConnections, ADDRESS_SHARE),
      maxTotalPendingBytesPerAddress: share("maxTotalPendingBytesPerAddress", limits, maxTotalPendingBytes, ADDRESS_SHARE),
      maxTotalPendingBytesPerUser: share("maxTotalPendingBytesPerUser", limits, maxTotalPendingBytes, USER_SHARE),
      maxExchangesPerAddress: share("maxExchangesPerAddress", limits, maxExchanges, ADDRESS_SHARE),
      maxExchangesPerUser: share("maxExchangesPerUser", limits, maxExchanges, USER_SHARE),
      maxQueues,
      maxQueuesPerAddress: share("maxQueuesPerAddress", limits, maxQueues, ADDRESS_SHARE),
      maxQueuesPerUser: share("maxQueuesPerUser", limits, maxQueues, USER_SHARE),
      maxQueuedMessagesPerAddress: share("maxQueuedMessagesPerAddress", limits, maxQueuedMessages, ADDRESS_SHARE),
      maxQueuedMessagesPerUser: share("maxQueuedMessagesPerUser", limits, maxQueuedMessages, USER_SHARE),
      maxQueuedHashesPerAddress: share("maxQueuedHashesPerAddress", limits, maxQueuedHashes, ADDRESS_SHARE),
      // Half, not a quarter: a test suite or the fuzzer signs many clients in as one user at once.
      maxQueuedHashesPerUser: share("maxQueuedHashesPerUser", limits, maxQueuedHashes, ADDRESS_SHARE),
      maxDocumentBytes: positive("limits.maxDocumentBytes", limits.maxDocumentBytes, MONGODB_MAX_DOCUMENT_BYTES),
      maxStoredBytes,
      maxStoredBytesPerUser: share("maxStoredBytesPerUser", limits, maxStoredBytes, USER_SHARE),
      historyMaxDocumentBytes: positive("limits.historyMaxDocumentBytes", limits.historyMaxDocumentBytes, 1024 * 1024),
      historyFullEvery: positive("limits.historyFullEvery", limits.historyFullEvery, 1_000),
    },
    rateLimit:
      rate === undefined || rate === false
        ? undefined
        : {
            points: positive("rateLimit.points", rate === true ? undefined : rate.points, 30),
            durationMs: positive("rateLimit.durationMs", rate === true ? undefined : rate.durationMs, 1_000),
          },
    heartbeat: {
      timeoutMs: positive("heartbeat.timeoutMs", heartbeat.timeoutMs, 60_000, true),
      intervalMs: timer("heartbeat.intervalMs", heartbeat.intervalMs, 10_000),
      signinTimeoutMs: timer("heartbeat.signinTimeoutMs", heartbeat.signinTimeoutMs, 10_000, true),
    },
    requeueDelayMs: timer("requeueDelayMs", options.requeueDelayMs, 1_000, true),
    defaultExpirationMs: positive("defaultExpirationMs", options.defaultExpirationMs, 60_000),
    validate: options.validate ?? true,
    logger: options.logger ?? silentLogger,
    now: options.now ?? Date.now,
    onFrame: options.onFrame,
  };
}
