/**
 * `OpenFlowClient`: the generated typed command methods (`generated/client.ts`) on top of `ClientCore`, plus
 * the managed parts a long-running program needs: queue and exchange consumers, watches with async
 * iteration, events, and `close()`.
 */
import { ClientCore, type ClientEvents, type ClientOptions, type ConnectionState } from "./core.js";
import type { Listener } from "./events.js";
import type { SessionState } from "./session.js";
import type { QueueHandler, QueueSubscription, WatchSubscription } from "./subscriptions.js";
import type { CallOptions, PushCore, PushHandler, RequestCore } from "./symbols.js";
import { OpenFlowCommands } from "./commands.js";
import type { Base, ChangeEvent, ClientCommandName, Entity, ReplyOf, RequestOf, TokenUser, WithDocuments } from "../generated/types.js";

/** The arguments of `client.request(command, ...)`: the payload may be left out when its type requires nothing. */
export type RequestArgs<K extends ClientCommandName> = {} extends RequestOf<K>
  ? [payload?: RequestOf<K>, options?: CallOptions]
  : [payload: RequestOf<K>, options?: CallOptions];

/** What `client.request(command)` resolves with: the command's reply payload (`void` for commands nobody answers). */
export type RequestResult<K extends ClientCommandName> = [ReplyOf<K>] extends [never] ? void : ReplyOf<K>;

/** A watch event whose `fullDocument` is your document type `T` (with the base entity fields). */
export type DocumentChangeEvent<T extends object = Base> = WithDocuments<ChangeEvent, "fullDocument", Entity<T>>;

/** A registered queue or exchange consumer. */
export interface QueueConsumer {
  /** Current server-side queue name (server-generated names change after a reconnect). */
  readonly queuename: string;
  /** Exchange name, for exchange consumers. */
  readonly exchangename: string | undefined;
  /** False while the server has it closed (AMQP lost) or the client is reconnecting. */
  readonly active: boolean;
  /** Stop consuming (`closequeue`). */
  close(options?: CallOptions): Promise<void>;
}

/** A collection watch: events arrive at the handler and through async iteration. */
export interface Watch<E = ChangeEvent> extends AsyncIterable<E> {
  /** Current server-side watch id (changes after a reconnect). */
  readonly id: string;
  readonly collectionname: string;
  /** Events dropped because the iterator was not read fast enough (buffer of 10 000). */
  readonly dropped: number;
  /** Stop watching (`unwatch`) and end iteration. */
  unwatch(options?: CallOptions): Promise<void>;
}

export class OpenFlowClient extends OpenFlowCommands {
  readonly #core: ClientCore;

  /** Use `connect()`; the constructor takes an already-configured core. */
  constructor(core: ClientCore) {
    super(core);
    this.#core = core;
  }

  /** Current connection state. */
  get state(): ConnectionState {
    return this.#core.state;
  }

  /** The signed-in user (the token's user), updated on `refreshtoken`; undefined before the first signin. */
  get user(): TokenUser | undefined {
    return this.#core.sessionState?.user as TokenUser | undefined;
  }

  /** The newest jwt of this connection. Keep it secret: it is never logged. */
  get jwt(): string | undefined {
    return this.#core.sessionState?.jwt;
  }

  /**
   * Send a command the spec knows, by its wire name: the payload is checked against its request type and the
   * promise resolves with its reply type (`request("query", {...})` gives a `QueryReply`). A misspelt command name
   * is a compile error; use `requestUntyped` for commands the spec does not know.
   */
  request<K extends ClientCommandName>(command: K, ...args: RequestArgs<K>): Promise<RequestResult<K>> {
    const [payload, options] = args;
    return this.#core.request(command, payload, options) as Promise<RequestResult<K>>;
  }

  /**
   * Send any command string with any payload, unchecked by the type system (custom commands of your server, or
   * commands newer than this spec). Resolves with the reply payload as `unknown`: narrow it yourself.
   */
  requestUntyped(command: string, payload?: unknown, options?: CallOptions): Promise<unknown> {
    return this.#core.request(command, payload, options);
  }

  /** Handle a command the server starts. The handler's return value is the reply; throwing replies `error`. */
  onCommand(command: string, handler: PushHandler): () => void {
    return this.#core.onCommand(command, handler);
  }

  /** Listen to client events (state, tokenrefreshed, queueclosed, exchangeclosed, reconnected, error). */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#core.events.on(event, listener);
  }

  /** Token refreshed by the server. Returns a function that removes the listener. */
  onTokenRefreshed(listener: (session: SessionState) => void): () => void {
    return this.#core.events.on("tokenrefreshed", listener);
  }

  /** Connection state changes. */
  onStateChange(listener: Listener<ClientEvents["state"]>): () => void {
    return this.#core.events.on("state", listener);
  }

  /**
   * Consume a queue (`""` = a server-generated name). Returning from the handler acks; returning a value also
   * replies to the sender's `replyto` queue; throwing nacks. Re-registered after reconnects.
   */
  async consumeQueue<T = unknown>(queuename: string, handler: QueueHandler<T>, options?: CallOptions): Promise<QueueConsumer> {
    return consumer(this.#core, await this.#core.consumeQueue(queuename, handler as QueueHandler, options));
  }

  /** Consume an exchange through its bound queue; same handler contract as `consumeQueue`. */
  async consumeExchange<T = unknown>(
    exchange: { exchangename: string; algorithm: "direct" | "fanout" | "topic" | "header"; routingkey?: string; addqueue?: boolean },
    handler: QueueHandler<T>,
    options?: CallOptions,
  ): Promise<QueueConsumer> {
    return consumer(this.#core, await this.#core.consumeExchange(exchange, handler as QueueHandler, options));
  }

  /**
   * Watch a collection for changes (`paths`: match paths, server-latest style). Events (MongoDB change events,
   * `fullDocument` typed by your document type `T`) go to `handler` if given, and can be read with `for await`;
   * breaking out of the loop unwatches. Restored after reconnects.
   */
  async watchCollection<T extends object = Base>(
    collectionname: string,
    paths: unknown[] = [],
    handler?: (event: DocumentChangeEvent<T>) => void,
    options?: CallOptions,
  ): Promise<Watch<DocumentChangeEvent<T>>> {
    const sub = await this.#core.watchCollection(collectionname, paths, handler as ((event: unknown) => void) | undefined, options);
    return watchOf<DocumentChangeEvent<T>>(this.#core, sub);
  }

  /** Close: pending and waiting requests fail with "closed"; no reconnect. */
  close(): void {
    this.#core.close();
  }
}

function consumer(core: ClientCore, sub: QueueSubscription): QueueConsumer {
  return {
    get queuename() {
      return sub.queuename;
    },
    get exchangename() {
      return sub.exchange?.exchangename;
    },
    get active() {
      return sub.active && !sub.closed;
    },
    close: (options?: CallOptions) => core.closeSubscription(sub, options),
  };
}

function watchOf<E>(core: ClientCore, sub: WatchSubscription): Watch<E> {
  return {
    get id() {
      return sub.id;
    },
    collectionname: sub.collectionname,
    get dropped() {
      return sub.stream.dropped;
    },
    unwatch: (options?: CallOptions) => core.unwatch(sub, options),
    [Symbol.asyncIterator](): AsyncIterator<E> {
      return {
        next: () => sub.stream.next() as Promise<IteratorResult<E>>,
        return: async () => {
          await core.unwatch(sub).catch(() => {});
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/**
 * Connect to `url` (ws:// or wss://, path `/`, `/ws` or `/ws/v1`) and sign in. Resolves once signed in;
 * rejects with an OpenFlowError ("auth", "closed", "timeout", "usage") when the first attempt fails.
 */
export async function connect(url: string, options: ClientOptions): Promise<OpenFlowClient> {
  const core = new ClientCore(url, options);
  await core.start();
  return new OpenFlowClient(core);
}

export type { RequestCore, PushCore };
