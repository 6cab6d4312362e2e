/**
 * The adversarial authorization suites' harness: a local server with password users `pw-<name>`, raw-frame
 * sessions, and assertions for a command that must succeed, one that must be refused, and a well-behaved client
 * that is still served with nothing crashed inside the server.
 */
import { expect } from "vitest";
import { startServer, type RunningServer } from "../../server/index.js";
import { rawPeer, type RawPeer } from "../server-helpers.js";

export interface Session {
  peer: RawPeer;
  id: string;
  jwt: string;
}

export interface Harness {
  readonly server: RunningServer;
  /** Error lines the server logged (a crash inside a handler). */
  readonly crashes: string[];
  /** Every peer opened, closed by `close()`. */
  readonly peers: RawPeer[];
  /** A signed-in admin, and the well-behaved client `stillServing` checks. */
  readonly admin: Session;
  readonly witness: Session;
  signin(name: string, extra?: Record<string, unknown>): Promise<Session>;
  /** A command that must succeed; its reply payload. */
  ok(s: Session | RawPeer, command: string, payload: Record<string, unknown>): Promise<any>;
  /** A command that must be refused with a message matching `pattern`; the message. */
  refused(s: Session | RawPeer, command: string, payload: Record<string, unknown>, pattern: RegExp): Promise<string>;
  /** The server still serves the witness, and nothing crashed inside it. */
  stillServing(): Promise<void>;
  close(): Promise<void>;
}

/** Start a server with these users (`admins` in the admins role); `adminName` and `witnessName` sign in. */
export async function startHarness(names: readonly string[], admins: readonly string[], adminName: string, witnessName: string): Promise<Harness> {
  const crashes: string[] = [];
  const peers: RawPeer[] = [];
  const server = await startServer({
    users: names.map((n) => ({ username: n, password: `pw-${n}`, ...(admins.includes(n) ? { roles: ["admins"] } : {}) })),
    logger: { info() {}, warn() {}, error: (m) => crashes.push(m) },
  });
  async function signin(name: string, extra: Record<string, unknown> = {}): Promise<Session> {
    const peer = await rawPeer(server.url);
    peers.push(peer);
    const reply = await peer.request("signin", { username: name, password: `pw-${name}`, ...extra });
    expect(reply.command, JSON.stringify(reply.payload)).toBe("signin");
    return { peer, id: reply.payload.user._id, jwt: reply.payload.jwt };
  }
  async function ok(s: Session | RawPeer, command: string, payload: Record<string, unknown>): Promise<any> {
    const reply = await ("peer" in s ? s.peer : s).request(command, payload);
    expect(reply.command, `${command}: ${JSON.stringify(reply.payload)}`).toBe(command);
    return reply.payload;
  }
  async function refused(s: Session | RawPeer, command: string, payload: Record<string, unknown>, pattern: RegExp): Promise<string> {
    const reply = await ("peer" in s ? s.peer : s).request(command, payload);
    expect(reply.command, `${command} should have been refused: ${JSON.stringify(reply.payload)}`).toBe("error");
    const message = String(reply.payload?.message ?? reply.payload);
    expect(message).toMatch(pattern);
    return message;
  }
  const admin = await signin(adminName);
  const witness = await signin(witnessName);
  return {
    server, crashes, peers, admin, witness, signin, ok, refused,
    async stillServing() {
      const reply = await ok(witness, "count", { collectionname: "entities", query: {} });
      expect(typeof reply.result).toBe("number");
      expect(crashes).toEqual([]);
    },
    async close() {
      for (const p of peers) p.close();
      await server.close();
    },
  };
}

/** Resolves when the server has closed `peer`'s socket; fails after 5 s. */
export function closedBy(peer: RawPeer): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not close the connection within 5 s")), 5_000);
    void peer.closed.then(() => (clearTimeout(timer), resolve()));
  });
}
