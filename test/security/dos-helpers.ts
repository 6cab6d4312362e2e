/**
 * Shared pieces of the denial-of-service tests: a server with a given limits block, a signed-in raw peer, and
 * the well-behaved client's check (a small `count` round trip answered normally) run after each attack.
 */
import { afterEach, expect } from "vitest";
import { startServer, type RunningServer } from "../../server/server.js";
import type { ServerOptions, ServerLogger } from "../../server/options.js";
import { rawPeer, type RawPeer } from "../server-helpers.js";

const opened: { close(): unknown }[] = [];

/** Remember something to close after the test (`closeAfterEach`); servers and peers of these helpers are. */
export function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}

/** Close everything tracked, newest first (peers before their server), after each test of the calling file. */
export function closeAfterEach(): void {
  afterEach(async () => {
    for (const resource of opened.splice(0).reverse()) await resource.close();
  });
}

export const users = [
  { username: "admin", password: "pw-admin", roles: ["admins"] },
  { username: "alice", password: "pw-alice" },
  { username: "mallory", password: "pw-mallory" },
];

export interface Logged extends ServerLogger {
  readonly warnings: string[];
}

export function logger(): Logged {
  const warnings: string[] = [];
  return { warnings, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(`error: ${m}`) };
}

export async function server(options: ServerOptions = {}): Promise<RunningServer & { log: Logged }> {
  const log = logger();
  const running = await startServer({ users, logger: log, ...options });
  return track(Object.assign(running, { log }));
}

export async function signedIn(url: string, username = "alice"): Promise<RawPeer> {
  const peer = track(await rawPeer(url));
  const reply = await peer.request("signin", { username, password: `pw-${username}` });
  expect(reply.command).toBe("signin");
  return peer;
}

/** The well-behaved client: signs in (or reuses `peer`) and gets a normal `count` answer. */
export async function stillServes(url: string, peer?: RawPeer): Promise<void> {
  const client = peer ?? (await signedIn(url, "alice"));
  const reply = await client.request("count", { collectionname: "entities", query: {} });
  expect(reply.command).toBe("count");
  expect(typeof reply.payload.result).toBe("number");
  if (!peer) client.close();
}

/** The error text of a failed request (latest style: command "error", payload {message}). */
export function errorOf(reply: { command: string; payload: any }): string {
  expect(reply.command).toBe("error");
  return String(reply.payload?.message ?? reply.payload?.error ?? "");
}
