/**
 * The connection engine behind `OpenFlowClient`: owns the socket, and wires framing, correlation, heartbeat,
 * session, reconnect, rate limiting, the offline gate and push dispatch together. Each of those concerns lives
 * in its own module as plain state; this file only connects them to the socket and the clock. Queue and
 * exchange consumers and watches live in the subscription manager (`subscriptions.ts`), which this file calls
 * on connect (restore), on push, when the link drops and on close.
 */
import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { Correlator, parsePayload, serverError } from "./correlation.js";
import { OpenFlowError } from "./errors.js";
import { Emitter } from "./events.js";
import { defaultReassemblyLimits, forEachFrameText, newFrameId, parseFrame, Reassembler, type ReassemblyLimits, type WireMessage } from "./framing.js";
import { defaultHeartbeatOptions, Heartbeat, type HeartbeatOptions } from "./heartbeat.js";
import { consoleLogger, redactText, safeLogger, type Logger, type LogLevel } from "./logger.js";
import { abortError, defaultOfflinePolicy, OfflineGate, type OfflinePolicy } from "./offline.js";
import { defaultRateLimitPolicy, isRateLimitText, Pacer, type RateLimitPolicy } from "./ratelimit.js";
import { backoffDelay, defaultReconnectPolicy, nextReportedFailure, reportReconnectFailure, shouldRetry, type ReconnectPolicy } from "./reconnect.js";
import { checkCredentials, Session, type Credentials, type SessionState, type SigninExtras } from "./session.js";
import { SubscriptionManager, type ExchangeSpec, type QueueHandler, type QueueSubscription, type WatchSubscription } from "./subscriptions.js";
import type { CallOptions, PushContext, PushHandler, RequestCore, PushCore } from "./symbols.js";
import { onSocketMessage, openSocket, safeUrl, type SocketLike, type TlsOptions, type WebSocketConstructor } from "./transport.js";
import { loadPayloadCheck, type PayloadCheck, type ValidationMode } from "./validation.js";

/** Connection states. "open" means connected and signed in. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** Payload of the `state` event. */
export interface StateChange {
  /** The state entered. */
  state: ConnectionState;
  /** The state left. */
  previous: ConnectionState;
  /** Why the connection left "open" or why the client closed, when there was a problem. */
  error?: OpenFlowError;
}

/** Events a client emits (`client.on(...)`). */
export type ClientEvents = {
  /** The connection state changed. */
  state: [StateChange];
  /** The server sent a new jwt (`refreshtoken`); `client.jwt` and `client.user` already hold it. */
  tokenrefreshed: [SessionState];
  /** The server lost AMQP and closed this queue; the client tries to register it again. */
  queueclosed: [
    {
      /** The server-side name of the closed queue. */
      queuename: string;
    },
  ];
  /** The server closed this exchange (server-started `exchangeclosed`); the client tries to register it again. */
  exchangeclosed: [
    {
      /** The exchange that was closed. */
      exchangename: string;
      /** The queue that was bound to it. */
      queuename: string;
    },
  ];
  /** Signed in again after a reconnect, with queues, exchanges and watches restored. */
  reconnected: [];
  /** A problem that did not fail a call: a malformed frame, a stray server error, a failed restore. */
  error: [OpenFlowError];
};

/** A cheap request used as the heartbeat's liveness probe (any reply, even an error, proves the link). */
export interface ProbeRequest {
  /** The command sent. Default "count". */
  command: string;
  /** Its payload. Default `{ collectionname: "users", query: { _id: "openflow-spec-liveness-probe" } }`. */
  payload: unknown;
}

/**
 * Options of `connect(url, options)` and `new OpenFlowClient(url, options)`. Every field is optional except a way
 * to sign in (`username` + `password`, `jwt`, or `credentials`).
 * @see https://github.com/openflow-spec/openflow-spec/blob/main/docs/client.md#options
 */
export interface ClientOptions {
  /**
   * How to sign in: `{ username, password }` or `{ jwt }`. Default: none; then `username`/`password` or `jwt` at the
   * top level must be given (a client without credentials fails with code "usage").
   */
  credentials?: Credentials;
  /** User name to sign in with, together with `password`. Default: none (see `credentials`). */
  username?: string;
  /** Password for `username`. Default: none. Never logged (every log line is redacted). */
  password?: string;
  /** Sign in with this token instead of a password. Default: none. Replaced by the server's `refreshtoken`s. */
  jwt?: string;
  /** Extra signin fields (clientagent, clientversion, longtoken, impersonate). Default `{ clientagent: "openflow-spec" }`. */
  signin?: SigninExtras;
  /** Per-request timeout, ms (`Infinity` for none); a call's own `timeoutMs` overrides it. Default 30 000. */
  timeoutMs?: number;
  /** Longest wait for the websocket to open, ms. Default 15 000. */
  connectTimeoutMs?: number;
  /**
   * Reconnect after an unexpected close: exponential backoff with jitter, or `false` to never reconnect. Default
   * `{ enabled: true, initialDelayMs: 250, maxDelayMs: 30 000, multiplier: 2, jitter: 0.5, maxAttempts: Infinity }`.
   */
  reconnect?: Partial<ReconnectPolicy> | false;
  /**
   * What a request does while not connected: "wait" (bounded) or "fail" at once with code "offline". Default
   * `{ mode: "wait", maxWaitMs: 30 000, maxQueued: 1 000 }`.
   */
  offline?: Partial<OfflinePolicy>;
  /**
   * Heartbeat timings, or `false` to disable pings and liveness checks. Default
   * `{ intervalMs: 10 000, idleTimeoutMs: 30 000, probeTimeoutMs: 10 000 }`.
   */
  heartbeat?: Partial<HeartbeatOptions> | false;
  /** Liveness probe. Default: `count` of a non-existent `_id` in `users` (indexed, answered by every server). */
  probe?: ProbeRequest;
  /**
   * Pacing and retries for servers that rate-limit. Default
   * `{ pacing: "auto", messagesPerSecond: 25, burst: 5, retries: 3, retryDelayMs: 300 }`.
   */
  rateLimit?: Partial<RateLimitPolicy>;
  /** Reassembly limits for incoming messages. Defaults: 128 Mi chars, 1 M chunks, 1 000 partial, 256 Mi chars half-received in total, 60 s. */
  limits?: Partial<ReassemblyLimits>;
  /** Receives redacted log lines. Default: the console, at `logLevel`. */
  logger?: Logger;
  /** Lowest level logged: "debug", "info", "warn", "error" or "silent". Default "warn". */
  logLevel?: LogLevel;
  /**
   * Check payloads against the generated schemas: "warn" logs, "strict" rejects (requests before sending, checked
   * closed; replies after receiving, checked open). Default "off".
   */
  validation?: ValidationMode;
  /**
   * The payload check used when validation is on: `validators` from `openflow-spec/validation`. Default: none; Node
   * then loads that entry by itself, a browser bundle fails `connect` with code "usage".
   */
  validators?: PayloadCheck;
  /** WebSocket constructor. Default: the global one (browsers, Node 22+), else `ws` in Node. */
  WebSocket?: WebSocketConstructor;
  /** Trusted CAs, or accepting any certificate (Node only). Default: the system's verification, on. */
  tls?: TlsOptions;
  /** Options passed to a `ws`-compatible constructor (headers, perMessageDeflate...). Node only. Default: none. */
  wsOptions?: Record<string, unknown>;
  /** Injected clock (tests). Default: the system clock (`Date.now`, `setTimeout`). */
  clock?: Clock;
  /** Random source for the reconnect jitter (tests). Default `Math.random`. */
  random?: () => number;
}

interface Resolved {
  url: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  reconnect: ReconnectPolicy;
  offline: OfflinePolicy;
  heartbeat: HeartbeatOptions | false;
  probe: ProbeRequest;
  rateLimit: RateLimitPolicy;
  limits: ReassemblyLimits;
  validation: ValidationMode;
  validators: PayloadCheck | undefined;
  WebSocket: WebSocketConstructor | undefined;
  tls: TlsOptions | undefined;
  wsOptions: Record<string, unknown> | undefined;
}

/** Server-started commands that never get a reply (x-openflow.replyExpected false in their schemas; https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#server-commands). */
const noReply = new Set(["refreshtoken", "watchevent", "queueclosed", "exchangeclosed", "pong", "error"]);

function positive(name: string, value: number | undefined, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new OpenFlowError("usage", `option ${name} must be a positive number${allowInfinity ? " or Infinity" : ""}, got ${String(value)}`);
  }
  return value;
}

function resolveOptions(url: string, options: ClientOptions): Resolved {
  if (typeof url !== "string" || !/^wss?:\/\//i.test(url)) {
    throw new OpenFlowError("usage", `url must start with ws:// or wss://, got ${typeof url === "string" ? JSON.stringify(safeUrl(url)) : typeof url}`);
  }
  const validation = options.validation ?? "off";
  if (!["off", "warn", "strict"].includes(validation)) throw new OpenFlowError("usage", `option validation must be "off", "warn" or "strict", got ${String(validation)}`);
  const reconnect = options.reconnect === false ? { ...defaultReconnectPolicy, enabled: false } : { ...defaultReconnectPolicy, ...options.reconnect };
  const offline = { ...defaultOfflinePolicy, ...options.offline };
  if (offline.mode !== "wait" && offline.mode !== "fail") throw new OpenFlowError("usage", `option offline.mode must be "wait" or "fail", got ${String(offline.mode)}`);
  const heartbeat = options.heartbeat === false ? false : { ...defaultHeartbeatOptions, ...options.heartbeat };
  if (heartbeat) {
    positive("heartbeat.intervalMs", heartbeat.intervalMs, 1);
    positive("heartbeat.idleTimeoutMs", heartbeat.idleTimeoutMs, 1);
    positive("heartbeat.probeTimeoutMs", heartbeat.probeTimeoutMs, 1);
  }
  const rateLimit = { ...defaultRateLimitPolicy, ...options.rateLimit };
  if (rateLimit.pacing !== "auto" && rateLimit.pacing !== false && !(typeof rateLimit.pacing === "number" && rateLimit.pacing > 0)) {
    throw new OpenFlowError("usage", `option rateLimit.pacing must be "auto", false or a positive number, got ${String(rateLimit.pacing)}`);
  }
  return {
    url,
    timeoutMs: positive("timeoutMs", options.timeoutMs, 30_000, true),
    connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs, 15_000),
    reconnect,
    offline,
    heartbeat,
    probe: options.probe ?? { command: "count", payload: { collectionname: "users", query: { _id: "openflow-spec-liveness-probe" } } },
    rateLimit,
    limits: { ...defaultReassemblyLimits, maxMessageChars: 128 * 1024 * 1024, maxPendingChars: 256 * 1024 * 1024, ...options.limits },
    validation,
    validators: options.validators,
    WebSocket: options.WebSocket,
    tls: options.tls,
    wsOptions: options.wsOptions,
  };
}

function credentialsOf(options: ClientOptions): Credentials {
  if (options.credentials) return checkCredentials(options.credentials);
  if (options.jwt !== undefined) return checkCredentials({ jwt: options.jwt });
  return checkCredentials({ username: options.username, password: options.password });
}

/** Copy a caller's payload and add the per-call fields that travel inside it (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#payload-fields, https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#per-command-jwt). */
function payloadWith(command: string, payload: unknown, options: CallOptions): unknown {
  const extra = options.jwt !== undefined || options.traceId !== undefined || options.spanId !== undefined;
  if (payload === undefined || payload === null) {
    if (!extra) return {};
    payload = {};
  }
  if (!extra) return payload;
  if (typeof payload !== "object" || Array.isArray(payload)) {
    throw new OpenFlowError("usage", `${command}: options jwt/traceId/spanId need an object payload`, { command });
  }
  const out: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  if (options.jwt !== undefined) out.jwt = options.jwt;
  if (options.traceId !== undefined) out.traceId = options.traceId;
  if (options.spanId !== undefined) out.spanId = options.spanId;
  return out;
}

export class ClientCore implements RequestCore, PushCore {
  readonly events: Emitter<ClientEvents>;
  readonly log: Logger;
  private readonly o: Resolved;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly session: Session;
  private readonly correlator: Correlator;
  private readonly reassembler: Reassembler;
  private readonly gate: OfflineGate;
  private readonly pacer: Pacer;
  private heartbeat: Heartbeat | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private socket: SocketLike | undefined;
  /** Stops listening to the current socket's messages. */
  private unlisten: (() => void) | undefined;
  /** Hands one frame's text to the pacer (bound once: it runs for every outgoing frame). */
  private readonly sendText = (text: string): void => this.pacer.send(text);
  private currentState: ConnectionState = "connecting";
  private establishing = false;
  /** Cancels the websocket being opened (close() during connect or reconnect). */
  private opening: AbortController | undefined;
  /** Backoff sleeps in progress (reconnect, queue re-registration); close() ends them all. */
  private readonly sleepers = new Set<{ timer: TimerHandle; resolve(): void }>();
  private readonly handlers = new Map<string, Set<PushHandler>>();
  /** Queue and exchange consumers and watches. */
  readonly subscriptions: SubscriptionManager;
  private check: PayloadCheck | undefined;

  constructor(url: string, options: ClientOptions = {}) {
    this.o = resolveOptions(url, options);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = safeLogger(options.logger ?? consoleLogger(options.logLevel ?? "warn"), options.logLevel ?? "debug");
    this.events = new Emitter((err) => this.log.error("event listener threw", { error: err }));
    this.session = new Session(credentialsOf(options), options.signin);
    this.correlator = new Correlator(this.clock);
    this.reassembler = new Reassembler(this.o.limits);
    this.gate = new OfflineGate(this.clock, this.o.offline);
    this.pacer = new Pacer(this.clock, (text) => this.write(text));
    if (typeof this.o.rateLimit.pacing === "number") this.pacer.enable(this.o.rateLimit.pacing, this.o.rateLimit.burst);
    this.subscriptions = new SubscriptionManager({
      request: (command, payload, callOptions) => this.request(command, payload, callOptions),
      isOpen: () => this.currentState === "open",
      reply: (to, command, data) => this.replyRaw(to, command, data),
      replyError: (to, text) => this.replyError(to, text),
      sleep: (ms) => this.sleep(ms),
      backoff: (attempt) => backoffDelay(attempt + 2, this.o.reconnect, this.random()),
      report: (error, context) => this.reportError(error, context),
      log: this.log,
    });
    if (this.o.tls?.dangerouslyDisableTlsVerification) {
      this.log.warn("TLS certificate verification is DISABLED (dangerouslyDisableTlsVerification): anyone on the network path can read and change this connection");
    }
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** A method, so TypeScript does not narrow the state across awaits. */
  private isClosed(): boolean {
    return this.currentState === "closed";
  }

  get sessionState(): SessionState | undefined {
    return this.session.state;
  }

  /** Chunk size currently used for outgoing data. */
  get chunkSize(): number {
    return this.session.chunkSize;
  }

  /** Number of requests waiting for a reply. */
  get pendingRequests(): number {
    return this.correlator.size;
  }

  private setState(state: ConnectionState, error?: OpenFlowError): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    this.log.info(`connection ${previous} -> ${state}`, error ? { error: error.message } : undefined);
    this.events.emit("state", error ? { state, previous, error } : { state, previous });
  }

  /** Connect and sign in. Rejects (and closes the client) when the first attempt fails. */
  async start(): Promise<void> {
    if (this.o.validation !== "off") this.check = await loadPayloadCheck(this.o.validators);
    try {
      await this.establish(false);
    } catch (err) {
      const error = OpenFlowError.from(err, "closed");
      this.shutdown(error);
      throw error;
    }
  }

  // ---------------------------------------------------------------- connection lifecycle

  private async establish(restore: boolean): Promise<void> {
    this.establishing = true;
    try {
      const opening = new AbortController();
      this.opening = opening;
      const socket = await openSocket(this.o.url, {
        WebSocket: this.o.WebSocket,
        tls: this.o.tls,
        wsOptions: this.o.wsOptions,
        connectTimeoutMs: this.o.connectTimeoutMs,
        clock: this.clock,
        signal: opening.signal,
      }).finally(() => {
        if (this.opening === opening) this.opening = undefined;
      });
      if (this.currentState === "closed") {
        forceClose(socket);
        throw new OpenFlowError("closed", "client closed while connecting");
      }
      this.attach(socket);
      await this.signin();
      if (restore) await this.subscriptions.restore((command, payload) => this.exchange(command, payload, {}));
      if (this.socket !== socket) throw new OpenFlowError("closed", "connection lost during sign-in");
    } catch (err) {
      if (this.socket) this.drop(this.socket, "sign-in failed", false);
      throw err;
    } finally {
      this.establishing = false;
    }
    this.setState("open");
    this.gate.open();
  }

  private attach(socket: SocketLike): void {
    this.socket = socket;
    this.reassembler.clear();
    this.unlisten = onSocketMessage(socket, (data) => {
      if (this.socket === socket) this.receive(data);
    });
    socket.onclose = (event) => {
      this.drop(socket, `closed by peer (code ${event?.code ?? "?"}${event?.reason ? `: ${event.reason}` : ""})`, true);
    };
    socket.onerror = (event) => {
      const message = (event as { message?: string; error?: Error })?.error?.message ?? (event as { message?: string })?.message ?? "socket error";
      this.log.warn(`websocket error: ${message}`);
    };
    if (this.o.heartbeat) {
      this.heartbeat = new Heartbeat(this.o.heartbeat, this.clock.now());
      this.armHeartbeat();
    }
  }

  /** The connection is gone: settle everything that was in flight on it, then reconnect or close. */
  private drop(socket: SocketLike, reason: string, reconnect: boolean): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
    socket.onclose = null;
    socket.onerror = null;
    forceClose(socket);
    this.stopHeartbeat();
    this.pacer.reset(typeof this.o.rateLimit.pacing === "number");
    this.reassembler.clear();
    this.gate.shut();
    this.correlator.failAll((id, command) => new OpenFlowError("closed", `${command}: connection lost before the reply (${reason})`, { id, command }));
    this.subscriptions.connectionLost();
    if (this.currentState === "closed") this.log.debug(`connection closed: ${reason}`);
    else this.log.warn(`connection lost: ${reason}`);
    if (!reconnect || this.establishing || this.currentState === "closed") return;
    if (this.currentState === "open" && this.o.reconnect.enabled) {
      this.setState("reconnecting", new OpenFlowError("closed", reason));
      void this.reconnectLoop();
    } else {
      this.shutdown(new OpenFlowError("closed", `connection lost: ${reason}`));
    }
  }

  private async reconnectLoop(): Promise<void> {
    let failures = 0;
    while (this.currentState === "reconnecting") {
      if (!shouldRetry(failures, this.o.reconnect)) {
        this.shutdown(new OpenFlowError("closed", `gave up reconnecting after ${failures} failed attempts`));
        return;
      }
      await this.sleep(backoffDelay(failures, this.o.reconnect, this.random()));
      if (this.currentState !== "reconnecting") return;
      try {
        await this.establish(true);
        this.log.info("reconnected");
        this.events.emit("reconnected");
        return;
      } catch (err) {
        failures += 1;
        const error = OpenFlowError.from(err, "closed");
        if (reportReconnectFailure(failures)) {
          const next = nextReportedFailure(failures);
          this.log.warn(`reconnect attempt ${failures} failed: ${error.message}${next > failures + 1 ? ` (still retrying; attempts before ${next} are logged at debug level)` : ""}`);
        } else this.log.debug(`reconnect attempt ${failures} failed: ${error.message}`);
        if (error.code === "auth") {
          this.shutdown(error);
          return;
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: undefined as TimerHandle,
        resolve: () => {
          this.sleepers.delete(sleeper);
          resolve();
        },
      };
      sleeper.timer = this.clock.setTimeout(() => sleeper.resolve(), ms);
      this.sleepers.add(sleeper);
    });
  }

  /** Sign in on the current socket: newest jwt first, then username/password if that jwt is refused. */
  private async signin(): Promise<void> {
    const first = this.session.signinPayload(false);
    try {
      this.session.applySignin(await this.exchange("signin", first, {}));
    } catch (err) {
      const retryWithPassword = OpenFlowError.is(err, "auth") && this.session.state !== undefined && this.session.hasPassword;
      if (!retryWithPassword) throw err;
      this.log.info("stored jwt refused, signing in with username/password");
      this.session.applySignin(await this.exchange("signin", this.session.signinPayload(true), {}));
    }
    this.log.debug("signed in", { chunkSize: this.session.chunkSize });
  }

  private reportError(error: OpenFlowError, context: string): void {
    this.log.error(`${context}: ${error.message}`);
    this.events.emit("error", error);
  }

  /** Close the client: fail every pending and waiting request with "closed", close the socket. Idempotent. */
  close(): void {
    this.shutdown();
  }

  private shutdown(error?: OpenFlowError): void {
    if (this.currentState === "closed") return;
    this.setState("closed", error);
    this.opening?.abort();
    for (const sleeper of [...this.sleepers]) {
      this.clock.clearTimeout(sleeper.timer);
      sleeper.resolve();
    }
    const socket = this.socket;
    if (socket) this.drop(socket, error ? error.message : "client closed", false);
    const reason = error ? `: ${error.message}` : "";
    this.gate.fail(() => new OpenFlowError("closed", `client closed${reason}`, { cause: error }));
    this.correlator.failAll((id, command) => new OpenFlowError("closed", `${command}: client closed${reason}`, { id, command }));
    this.correlator.disarm();
    this.subscriptions.close();
    this.handlers.clear();
    this.events.clear();
  }

  // ---------------------------------------------------------------- heartbeat

  private armHeartbeat(): void {
    const hb = this.heartbeat;
    if (!hb) return;
    const due = hb.nextDue();
    if (!Number.isFinite(due)) return;
    this.heartbeatTimer = this.clock.setTimeout(() => this.onHeartbeat(), Math.max(0, due - this.clock.now()));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.heartbeat = undefined;
  }

  private onHeartbeat(): void {
    this.heartbeatTimer = undefined;
    const hb = this.heartbeat;
    const socket = this.socket;
    if (!hb || !socket) return;
    const now = this.clock.now();
    for (const partial of this.reassembler.sweep(now)) this.failPartial(partial);
    for (const action of hb.tick(now)) {
      if (action === "ping") this.sendMessage({ id: newFrameId(), command: "ping" });
      else if (action === "probe") {
        const timeoutMs = this.o.heartbeat ? this.o.heartbeat.probeTimeoutMs : 10_000;
        this.exchange(this.o.probe.command, this.o.probe.payload, { timeoutMs }).catch(() => {
          // Any reply, even an error, has already counted as traffic; a missing one is the heartbeat's business.
        });
      } else if (action === "dead") {
        const o = this.o.heartbeat as HeartbeatOptions;
        this.drop(socket, `no traffic for ${o.idleTimeoutMs + o.probeTimeoutMs} ms (heartbeat)`, true);
        return;
      }
    }
    this.armHeartbeat();
  }

  private failPartial(error: OpenFlowError): void {
    const replyto = (error.details as { replyto?: string } | undefined)?.replyto;
    if (replyto && this.correlator.fail(replyto, error)) return;
    this.reportError(error, "incomplete message dropped");
  }

  // ---------------------------------------------------------------- sending

  private write(text: string): void {
    const socket = this.socket;
    if (!socket) return;
    socket.send(text);
    this.heartbeat?.outbound(this.clock.now());
  }

  private sendMessage(message: WireMessage): void {
    forEachFrameText(message, this.session.chunkSize, this.sendText);
  }

  /**
   * Send one request on the current socket and wait for its reply, bypassing the offline gate (used for
   * signin, restore and probes, and by `request` once the gate is open).
   */
  private exchange(command: string, payload: unknown, options: CallOptions, data?: string): Promise<unknown> {
    if (!this.socket) return Promise.reject(new OpenFlowError("closed", `${command}: not connected`, { command }));
    const timeoutMs = options.timeoutMs ?? this.o.timeoutMs;
    const deadline = this.clock.now() + timeoutMs;
    return this.exchangeUntil(command, data ?? JSON.stringify(payload), deadline, timeoutMs, options);
  }

  private exchangeUntil(command: string, data: string, deadline: number, timeoutMs: number, options: CallOptions): Promise<unknown> {
    const id = newFrameId();
    const promise = this.correlator.track(id, command, { deadline, timeoutMs, signal: options.signal });
    const message: WireMessage = { id, command, data };
    if (options.priority !== undefined) message.priority = options.priority;
    this.sendMessage(message);
    return promise;
  }

  /** Send a command and resolve with the decoded reply payload (see RequestCore). */
  async request(command: string, payload?: unknown, options: CallOptions = {}): Promise<unknown> {
    if (typeof command !== "string" || command === "") throw new OpenFlowError("usage", "request: command must be a non-empty string");
    if (this.currentState === "closed") throw new OpenFlowError("closed", `${command}: client is closed`, { command });
    const timeoutMs = positive("timeoutMs", options.timeoutMs, this.o.timeoutMs, true);
    if (options.signal?.aborted) throw abortError(command, options.signal.reason);
    const body = payloadWith(command, payload, options);
    if (this.check) this.validate(command, "request", body);
    const data = JSON.stringify(body);
    const deadline = this.clock.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      // close() during a rate-limit backoff: settle now instead of waiting at the (failed) gate until the deadline.
      if (this.isClosed()) throw new OpenFlowError("closed", `${command}: client is closed`, { command });
      if (!this.gate.isOpen) await this.gate.wait(command, options.signal, deadline);
      try {
        const reply = await this.exchangeUntil(command, data, deadline, timeoutMs, options);
        if (this.check) this.validate(command, "reply", reply);
        if (command.length === 6 && command.toLowerCase() === "signin") this.adoptSignin(body, reply);
        return reply;
      } catch (err) {
        if (!OpenFlowError.is(err, "rate-limited") || attempt >= this.o.rateLimit.retries) throw err;
        const delay = backoffDelay(attempt, { ...defaultReconnectPolicy, initialDelayMs: this.o.rateLimit.retryDelayMs }, this.random());
        if (this.clock.now() + delay >= deadline) throw err;
        this.log.debug(`${command} rate-limited, retry ${attempt + 1} in ${delay} ms`);
        await this.sleepAbortable(delay, command, options.signal);
      }
    }
  }

  /** A `signin` sent through `request` that binds the connection also updates the session (newest jwt). */
  private adoptSignin(body: unknown, reply: unknown): void {
    const b = body as { validate_only?: unknown; validateonly?: unknown } | null;
    if (b && (b.validate_only === true || b.validateonly === true)) return;
    try {
      this.session.applySignin(reply);
    } catch {
      // not a binding signin reply
    }
  }

  /** A backoff sleep that the caller's signal aborts and close() ends (it is one of `sleepers`). */
  private sleepAbortable(ms: number, command: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        this.sleepers.delete(sleeper);
        signal?.removeEventListener("abort", onAbort);
      };
      const sleeper = {
        timer: undefined as TimerHandle,
        resolve: () => {
          finish();
          resolve();
        },
      };
      const onAbort = () => {
        this.clock.clearTimeout(sleeper.timer);
        finish();
        reject(abortError(command, signal?.reason));
      };
      sleeper.timer = this.clock.setTimeout(() => sleeper.resolve(), ms);
      this.sleepers.add(sleeper);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private validate(command: string, kind: "request" | "reply", payload: unknown): void {
    const problems = this.check?.(command.toLowerCase(), kind, payload);
    if (problems === undefined) return;
    const error = new OpenFlowError("validation", `${command} ${kind} payload is invalid: ${redactText(problems)}`, { command, details: problems });
    if (this.o.validation === "strict") throw error;
    this.log.warn(error.message);
  }

  // ---------------------------------------------------------------- receiving

  private receive(data: unknown): void {
    const now = this.clock.now();
    this.heartbeat?.inbound(now);
    if (typeof data !== "string") {
      this.reportError(new OpenFlowError("protocol", "binary websocket message ignored (the protocol uses text messages only)"), "bad frame");
      return;
    }
    let frame;
    try {
      frame = parseFrame(data);
    } catch (err) {
      const error = OpenFlowError.from(err);
      // A malformed frame that still names a pending request fails that request now rather than by timeout.
      const replyto = replytoOf(data);
      if (replyto !== undefined && this.correlator.fail(replyto, error)) return;
      this.reportError(error, "bad frame ignored");
      return;
    }
    let result;
    try {
      result = this.reassembler.push(frame, now);
    } catch (err) {
      const error = OpenFlowError.from(err);
      if (frame.replyto && this.correlator.fail(frame.replyto, error)) return;
      this.reportError(error, "bad message dropped");
      return;
    }
    if (result.done) this.handle(result.message);
    else if (!this.heartbeat && this.sweepTimer === undefined) this.armSweep();
  }

  /** Without a heartbeat (which sweeps on every tick), half-received messages still need their timeout. */
  private armSweep(): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      for (const partial of this.reassembler.sweep(this.clock.now())) this.failPartial(partial);
      if (this.reassembler.pending > 0 && this.socket) this.armSweep();
    }, Math.max(1, Math.ceil(this.o.limits.partialTimeoutMs / 2)));
  }

  private handle(message: WireMessage): void {
    if (message.replyto) {
      if (this.correlator.reply(message)) return;
      if (message.command.toLowerCase() === "ping") this.replyRaw(message, "pong", message.data ?? "");
      else this.log.debug(`unmatched reply to ${message.replyto} (${message.command}) dropped`);
      return;
    }
    const command = message.command.toLowerCase();
    switch (command) {
      case "ping":
        this.replyRaw(message, "pong", message.data ?? "");
        return;
      case "pong":
        return;
      case "error":
        this.onUncorrelatedError(message);
        return;
      default:
        void this.dispatch(command, message);
    }
  }

  /** An `error` frame without replyto: the rate limiter's (same id as our request), or a parse complaint. */
  private onUncorrelatedError(message: WireMessage): void {
    const parsed = parsePayload(message.data);
    const value = parsed.ok ? parsed.value : parsed.text;
    const fields = value && typeof value === "object" ? (value as { error?: unknown; message?: unknown }) : undefined;
    const text = typeof value === "string" ? value : String(fields?.error ?? fields?.message ?? JSON.stringify(value));
    const command = this.correlator.commandOf(message.id);
    if (isRateLimitText(text)) {
      if (this.o.rateLimit.pacing === "auto" && !this.pacer.paced) {
        this.log.warn(`server rate limit hit; pacing this connection at ${this.o.rateLimit.messagesPerSecond} messages/s`);
        this.pacer.enable(this.o.rateLimit.messagesPerSecond, this.o.rateLimit.burst);
      }
      if (command !== undefined) {
        this.correlator.fail(message.id, serverError(text, command, message.id));
        return;
      }
    } else if (command !== undefined) {
      this.correlator.fail(message.id, serverError(text, command, message.id));
      return;
    }
    this.reportError(new OpenFlowError("server", `server reported an error: ${redactText(text.slice(0, 500))}`, { serverMessage: redactText(text) }), "uncorrelated error");
  }

  // ---------------------------------------------------------------- server-started commands

  onCommand(command: string, handler: PushHandler): () => void {
    if (typeof command !== "string" || command === "" || typeof handler !== "function") {
      throw new OpenFlowError("usage", "onCommand(command, handler): command must be a non-empty string and handler a function");
    }
    const key = command.toLowerCase();
    let set = this.handlers.get(key);
    if (!set) {
      set = new Set();
      this.handlers.set(key, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  private replyRaw(to: WireMessage, command: string, data: string): void {
    if (!this.socket) return;
    this.sendMessage({ id: newFrameId(), replyto: to.id, command, data });
  }

  private replyError(to: WireMessage, text: string): void {
    // Plain text, as the official client sends it (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#error-client); always with replyto (never Q19's loop).
    this.replyRaw(to, "error", text);
  }

  private async dispatch(command: string, message: WireMessage): Promise<void> {
    const parsed = parsePayload(message.data);
    if (!parsed.ok) {
      this.reportError(new OpenFlowError("protocol", `${command} from server: data is not JSON (${parsed.reason})`, { command, id: message.id }), "bad push");
      if (!noReply.has(command)) this.replyError(message, "data is not JSON");
      return;
    }
    const payload = parsed.value;
    let handled = false;
    try {
      switch (command) {
        case "refreshtoken": {
          const state = this.session.applyRefresh(payload);
          if (state) {
            this.log.debug("token refreshed");
            this.events.emit("tokenrefreshed", state);
          } else this.log.warn("refreshtoken without jwt ignored");
          handled = true;
          break;
        }
        case "queueclosed":
        case "exchangeclosed": {
          const p = (payload ?? {}) as { queuename?: unknown; exchangename?: unknown };
          const queuename = typeof p.queuename === "string" ? p.queuename : "";
          if (command === "queueclosed") this.events.emit("queueclosed", { queuename });
          else this.events.emit("exchangeclosed", { exchangename: typeof p.exchangename === "string" ? p.exchangename : "", queuename });
          break;
        }
      }
      let outcome = this.subscriptions.onPush(command, message, payload);
      if (typeof outcome !== "string") outcome = await outcome;
      if (outcome === "answered") return;
      if (outcome === "handled") handled = true;
    } catch (err) {
      this.reportError(OpenFlowError.from(err), `handling ${command} failed`);
    }
    const set = this.handlers.get(command);
    if (!set || set.size === 0) {
      if (noReply.has(command)) {
        if (!handled) this.log.debug(`${command} without a handler ignored`);
      } else {
        this.log.warn(`server sent unknown command ${command}; answered with an error`);
        this.replyError(message, command === "queuemessage" ? "no consumer for this queue" : "Unknown command");
      }
      return;
    }
    const context: PushContext = { command: message.command, id: message.id };
    let result: unknown;
    let failure: unknown;
    for (const handler of [...set]) {
      try {
        const value = await handler(payload, context);
        if (result === undefined) result = value;
      } catch (err) {
        failure ??= err;
      }
    }
    if (noReply.has(command)) {
      if (failure !== undefined) this.reportError(OpenFlowError.from(failure, "usage"), `${command} handler threw`);
      return;
    }
    let data = message.data ?? "";
    if (failure === undefined && result !== undefined) {
      try {
        data = JSON.stringify(result) ?? "";
      } catch (err) {
        // A circular or BigInt-holding return value: answer `error` rather than leave the server waiting (and
        // an unhandled rejection here would take a Node process down).
        failure = new OpenFlowError("usage", `${command} handler returned a value that cannot be sent as JSON: ${(err as Error).message}`, { command, cause: err });
        this.reportError(failure as OpenFlowError, `${command} handler`);
      }
    }
    if (failure !== undefined) this.replyError(message, redactText(failure instanceof Error ? failure.message : String(failure)));
    else this.replyRaw(message, message.command, data);
  }

  // ---------------------------------------------------------------- subscriptions (see subscriptions.ts)

  consumeQueue(queuename: string, handler: QueueHandler, options?: CallOptions): Promise<QueueSubscription> {
    return this.subscriptions.consumeQueue(queuename, handler, options);
  }

  consumeExchange(exchange: ExchangeSpec, handler: QueueHandler, options?: CallOptions): Promise<QueueSubscription> {
    return this.subscriptions.consumeExchange(exchange, handler, options);
  }

  closeSubscription(sub: QueueSubscription, options?: CallOptions): Promise<void> {
    return this.subscriptions.closeSubscription(sub, options);
  }

  watchCollection(collectionname: string, paths: unknown[], handler?: (event: unknown) => void, options?: CallOptions): Promise<WatchSubscription> {
    return this.subscriptions.watchCollection(collectionname, paths, handler, options);
  }

  unwatch(watch: WatchSubscription, options?: CallOptions): Promise<void> {
    return this.subscriptions.unwatch(watch, options);
  }
}

/** Best-effort `replyto` of a frame that failed validation (error path only, so parsing twice is fine). */
function replytoOf(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { replyto?: unknown } | null;
    return value && typeof value.replyto === "string" && value.replyto !== "" ? value.replyto : undefined;
  } catch {
    return undefined;
  }
}

/** Close without waiting for a closing handshake when the platform allows it (`ws.terminate`). */
function forceClose(socket: SocketLike): void {
  try {
    const terminate = (socket as { terminate?: () => void }).terminate;
    if (typeof terminate === "function") terminate.call(socket);
    else socket.close();
  } catch {
    // already closed
  }
}
