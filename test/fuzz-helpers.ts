/**
 * Helpers for the fuzz tests: run `fuzz`/`replay` in-process with captured output, and start `serve` with two users
 * and, optionally, a planted defect. Defects are planted from outside the handlers: `onFrame` sees each incoming
 * frame before it is handled, and the connection it arrived on can be found in the live server context, so a test
 * can wrap that connection's `reply`, close it, or change the store behind the server's back.
 */
import { runCommand, type CliIo, type CommandSpec } from "../cli/command.js";
import type { Connection } from "../server/connection.js";
import { startServer, type RunningServer } from "../server/index.js";
import type { ServerOptions } from "../server/options.js";

export const USERS = [
  { username: "alice", password: "pw-alice" },
  { username: "bob", password: "pw-bob" },
];
export const ALICE = "alice:pw-alice";
export const BOB = "bob:pw-bob";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(spec: CommandSpec, argv: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), ...(process.env.OFS_PROGRESS ? { stderrIsTTY: true } : {}) };
  const code = await runCommand(spec, argv, io);
  return { code, stdout, stderr };
}

/** A frame as `onFrame` sees it, parsed, with the connection it came in on. */
export interface Incoming {
  conn: Connection;
  command: string;
  frame: Record<string, unknown>;
  /** The payload when the frame is one whole message with JSON data; undefined otherwise. */
  payload: Record<string, unknown> | undefined;
}

/** Start `serve` (alice, bob) with `plant` called for every incoming frame before the server handles it. */
export async function serveWithDefect(plant: ((incoming: Incoming, server: RunningServer) => void) | undefined, options: ServerOptions = {}): Promise<RunningServer> {
  let running: RunningServer | undefined;
  const server = await startServer({
    users: USERS,
    ...options,
    onFrame: (dir, text, connectionId) => {
      options.onFrame?.(dir, text, connectionId);
      if (dir !== "in" || !plant || !running) return;
      const conn = [...running.context.connections].find((c) => c.id === connectionId);
      if (!conn) return;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(text) as Record<string, unknown>;
      } catch {
        frame = { command: "", data: text };
      }
      let payload: Record<string, unknown> | undefined;
      if ((frame.count === undefined || frame.count === 1) && typeof frame.data === "string") {
        try {
          const p = JSON.parse(frame.data) as unknown;
          if (p && typeof p === "object" && !Array.isArray(p)) payload = p as Record<string, unknown>;
        } catch {
          payload = undefined;
        }
      }
      plant({ conn, command: String(frame.command ?? "").toLowerCase(), frame, payload }, running);
    },
  });
  running = server;
  return server;
}

/** Wrap a connection's `reply` once (marks it so a second call does not wrap again). */
export function wrapReplies(conn: Connection, change: (command: string, payload: unknown) => unknown): void {
  const c = conn as Connection & { __wrapped?: boolean };
  if (c.__wrapped) return;
  c.__wrapped = true;
  const original = conn.reply.bind(conn);
  conn.reply = (requestId: string, command: string, payload: unknown) => original(requestId, command, change(command, payload));
}
