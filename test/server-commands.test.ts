/**
 * Every command string the spec knows, sent to the local server with each request example from its schema:
 * the server must answer every one (a reply with the same command, or an `error`), never stay silent, never
 * crash, and keep serving. ping/pong are dropped like server-latest does; client-sent error, refreshtoken and
 * watchevent come back with the same id (Q19).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newFrameId } from "../runtime/framing.js";
import { knownCommands, validatePayload } from "../runtime/validate.js";
import { startServer, type RunningServer } from "../server/index.js";
import { rawPeer, type RawPeer } from "./server-helpers.js";

const DROPPED = new Set(["ping", "pong"]);
const SENT_BACK = new Set(["error", "refreshtoken", "watchevent"]);

function examples(command: string): unknown[] {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, "..", "schemas", "commands", `${command}.json`), "utf8"));
  const list = schema.$defs?.request?.examples;
  return Array.isArray(list) && list.length > 0 ? list : [{}];
}

let server: RunningServer;
let peer: RawPeer;
const crashes: string[] = [];

beforeAll(async () => {
  server = await startServer({ users: [{ username: "admin", password: "pw", roles: ["admins"] }], logger: { info() {}, warn() {}, error: (m) => crashes.push(m) } });
  peer = await rawPeer(server.url);
  expect((await peer.request("signin", { username: "admin", password: "pw" })).command).toBe("signin");
});

afterAll(async () => {
  peer.close();
  await server.close();
});

describe("every known command", () => {
  it("is answered for each schema example (reply or error), and replies validate", async () => {
    const commands = knownCommands().filter((c) => c !== "signin");
    expect(commands.length).toBeGreaterThan(70);
    const outcomes: string[] = [];
    for (const command of commands) {
      for (const example of examples(command)) {
        const payload = typeof example === "object" && example !== null ? { ...(example as object), jwt: undefined } : example;
        if (DROPPED.has(command)) {
          const id = peer.send(command, payload);
          await new Promise((r) => setTimeout(r, 20));
          expect(peer.frames.some((f) => f.replyto === id)).toBe(false);
          continue;
        }
        if (SENT_BACK.has(command)) {
          const id = newFrameId();
          peer.send(command, payload, 25_000, id);
          const back = await peer.next((f) => f.id === id);
          expect(back.command).toBe(command);
          expect(back.replyto).toBeUndefined();
          continue;
        }
        const reply = await peer.request(command, payload);
        expect([command, "error"]).toContain(reply.command);
        if (reply.command === "error") {
          expect(typeof reply.payload.message).toBe("string");
          outcomes.push(`${command}: ${reply.payload.message}`);
        } else {
          expect(validatePayload(command, "reply", reply.payload)).toEqual([]);
          outcomes.push(`${command}: ok`);
        }
      }
    }
    if (process.env.SHOW_OUTCOMES) console.log(outcomes.join("\n"));
    expect(crashes).toEqual([]);
    // A few that must really work from their examples, and the honest refusals.
    expect(outcomes.filter((o) => o.endsWith(": ok")).length).toBeGreaterThan(20);
    expect(outcomes.some((o) => /not supported by this server/.test(o))).toBe(true);
    expect(outcomes.some((o) => /^mapreduce: Unknown command mapreduce$/.test(o))).toBe(true);
    expect((await peer.request("count", { collectionname: "entities", query: {} })).command).toBe("count");
  });
});
