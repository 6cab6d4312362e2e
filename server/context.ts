/** The shared state handlers work on, and the handler signature. */
import type { Auth, TokenUser } from "./auth.js";
import type { Broker } from "./broker.js";
import type { Connection } from "./connection.js";
import type { FileStore } from "./files.js";
import type { ResolvedOptions } from "./options.js";
import type { AnyDoc, Store } from "./store.js";
import type { Watches } from "./watches.js";

export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly store: Store;
  readonly auth: Auth;
  readonly broker: Broker;
  readonly watches: Watches;
  readonly files: FileStore;
  readonly connections: ReadonlySet<Connection>;
  now(): number;
  /** ISO text of now. */
  stamp(): string;
}

export interface HandlerContext {
  readonly server: ServerContext;
  readonly conn: Connection;
  /** The wire command, lower-cased. */
  readonly command: string;
  /** The request payload with `jwt` taken out (a fresh copy the handler may change and return). */
  readonly payload: AnyDoc;
  /** The effective user: from the payload's `jwt` when given, otherwise the connection's. */
  readonly user: TokenUser;
  /** The effective token. */
  readonly jwt: string;
  /** The `jwt` the request carried in its payload, if any. */
  readonly requestJwt: string | undefined;
}

/** A command handler: returns the reply payload (usually the request echo plus results) or throws. */
export type Handler = (ctx: HandlerContext) => Promise<AnyDoc> | AnyDoc;

/** Handlers that run before signin (no user yet). */
export type SessionHandler = (ctx: Omit<HandlerContext, "user" | "jwt"> & { user: TokenUser | undefined; jwt: string | undefined }) => Promise<AnyDoc> | AnyDoc;
