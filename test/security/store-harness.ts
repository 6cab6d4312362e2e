/**
 * In-process harness for the store and handler suites: the server's state without sockets (createServerContext),
 * handlers called directly as a given user, and a byte-exact snapshot of every stored document.
 */
import type { AnyDoc } from "../../server/store.js";
import { buildHandlers, createServerContext } from "../../server/server.js";
import type { Connection } from "../../server/connection.js";
import type { ServerContext } from "../../server/context.js";
import type { TokenUser } from "../../server/auth.js";
import type { ServerOptions } from "../../server/options.js";

export interface InProcess {
  readonly server: ServerContext;
  /** Signed-in users by username. */
  readonly users: Record<string, TokenUser>;
  /** Run a handler as `username`: the reply payload, or the thrown error. */
  call(username: string, command: string, payload: AnyDoc): Promise<{ ok: true; reply: AnyDoc } | { ok: false; error: Error }>;
  /** Like call, failing on an error. */
  must(username: string, command: string, payload: AnyDoc): Promise<AnyDoc>;
  /** Every stored document of every collection as JSON text, by collection and id. */
  snapshot(): Map<string, string>;
}

const handlers = buildHandlers();

/** A server state with these password users (`admin` in admins). */
export async function inProcess(names: readonly string[] = ["admin", "alice", "bob"], options: ServerOptions = {}): Promise<InProcess> {
  const { context: server } = await createServerContext({
    users: names.map((n) => ({ username: n, password: `pw-${n}`, ...(n === "admin" ? { roles: ["admins"] } : {}) })),
    ...options,
  });
  const users: Record<string, TokenUser> = {};
  for (const n of names) {
    const doc = server.auth.findUserByUsername(n);
    const user = doc ? server.auth.reload({ _id: String(doc._id) }) : undefined;
    if (!user) throw new Error(`user ${n} missing`);
    users[n] = user;
  }
  const conn = { id: "in-process", remote: "127.0.0.1:0", closed: false } as unknown as Connection;
  async function call(username: string, command: string, payload: AnyDoc) {
    const handler = handlers.get(command);
    if (!handler) throw new Error(`no handler ${command}`);
    const user = server.auth.reload({ _id: (users[username] as TokenUser)._id }) as TokenUser;
    try {
      const reply = await handler({ server, conn, command, payload: structuredClone(payload), user, jwt: "", requestJwt: undefined });
      return { ok: true as const, reply };
    } catch (error) {
      return { ok: false as const, error: error as Error };
    }
  }
  return {
    server,
    users,
    call,
    async must(username, command, payload) {
      const r = await call(username, command, payload);
      if (!r.ok) throw r.error;
      return r.reply;
    },
    snapshot() {
      const out = new Map<string, string>();
      for (const name of server.store.names()) for (const doc of server.store.all(name)) out.set(`${name}/${String(doc._id)}`, JSON.stringify(doc));
      return out;
    },
  };
}
