/** The local OpenFlow-compatible server: `startServer(options)` and its option and result types. */
export { startServer, type RunningServer } from "./server.js";
export type { ServerOptions, UserSpec, ServerLogger, ErrorStyle, RateLimitOptions, HeartbeatOptions, LimitOptions, FrameTap } from "./options.js";
export type { TokenUser } from "./auth.js";
export { Rights, WellknownIds } from "./acl.js";
