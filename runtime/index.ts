/**
 * Public entry of the runtime: `connect`, `OpenFlowClient`, `OpenFlowError` and the types around them.
 * Browser-safe: nothing here imports Node modules (`ws` is loaded lazily by the transport when needed).
 */
export { connect, OpenFlowClient, type DocumentChangeEvent, type QueueConsumer, type RequestArgs, type RequestResult, type Watch } from "./client.js";
export type { ClientEvents, ClientOptions, ConnectionState, ProbeRequest, StateChange } from "./core.js";
export { OpenFlowError, errorCodes, errorCodeDescriptions, type ErrorCode, type OpenFlowErrorOptions } from "./errors.js";
export type { CallOptions, PushContext, PushCore, PushHandler, RequestCore } from "./symbols.js";
// Every generated payload and entity type (QueryRequest, TokenUser, Entity<T>, CommandMap, ...), types only.
export type * from "../generated/types.js";
export type { QueueDelivery, QueueHandler } from "./subscriptions.js";
export type { Credentials, SessionState, SigninExtras } from "./session.js";
export type { ReconnectPolicy } from "./reconnect.js";
export type { OfflinePolicy } from "./offline.js";
export type { HeartbeatOptions } from "./heartbeat.js";
export type { RateLimitPolicy } from "./ratelimit.js";
export type { ReassemblyLimits } from "./framing.js";
export type { Logger, LogLevel } from "./logger.js";
export { consoleLogger, silentLogger, redact, redactText } from "./logger.js";
export type { Clock } from "./clock.js";
export type { TlsOptions, WebSocketConstructor } from "./transport.js";
export type { PayloadCheck, PayloadKind, ValidationMode } from "./validation.js";
