/**
 * Recorded traffic from a real peer: the official `@openiap/openflow-api` client talks to the local server, every
 * frame of every connection is captured with its direction, and `openflow-spec validate` must find nothing wrong
 * in those captures (reassembly at a small package size, pairing, server pushes acknowledged).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../server/index.js";
import { main } from "../cli/validate.js";
import { CaptureValidator } from "../validator/capture.js";
import { officialInbox, officialQuietLogger, waitFor } from "./server-helpers.js";

const require = createRequire(import.meta.url);
const api = require("@openiap/openflow-api") as any;
const { WebSocketClient, NoderedUtil, ApiConfig } = api;
ApiConfig.log_error = false;
const quiet = officialQuietLogger;

/** Capture lines per server connection: `{"dir","frame"}` with in = c2s, out = s2c. */
const captures = new Map<string, string[]>();
const tap = (direction: "in" | "out", text: string, connection: string): void => {
  const lines = captures.get(connection) ?? [];
  captures.set(connection, lines);
  lines.push(`{"dir":"${direction === "in" ? "c2s" : "s2c"}","frame":${text}}`);
};

let server: RunningServer;
let small: RunningServer;
const clients: any[] = [];
const dir = mkdtempSync(join(tmpdir(), "validate-peer-"));

async function client(url: string, username: string): Promise<any> {
  const ws = new WebSocketClient(quiet, url, true);
  clients.push(ws);
  await ws.Connect();
  await NoderedUtil.SigninWithUsername({ username, password: `${username}-pw`, websocket: ws });
  return ws;
}


beforeAll(async () => {
  const users = [
    { username: "admin", password: "admin-pw", roles: ["admins"] },
    { username: "alice", password: "alice-pw" },
  ];
  server = await startServer({ users, onFrame: tap });
  small = await startServer({ users, packageSize: 150, onFrame: (d, t, c) => tap(d, t, `small-${c}`) });
});

afterAll(async () => {
  for (const ws of clients) ws.close();
  await server?.close();
  await small?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("captures of the official client against the local server", () => {
  it("records a session with data commands, a watch and a queue round trip", async () => {
    const admin = await client(server.url, "admin");
    const worker = await client(server.url, "alice");
    WebSocketClient.instance = admin;
    const item = await NoderedUtil.InsertOne({ collectionname: "entities", item: { _type: "test", name: "one" } });
    expect(await NoderedUtil.Query({ collectionname: "entities", query: { _type: "test" } })).toHaveLength(1);

    let deliverEvent: (e: unknown) => void = () => {};
    const watchId = await NoderedUtil.Watch({ collectionname: "entities", aggregates: [], callback: (e: unknown) => deliverEvent(e) });
    const event = waitFor((resolve) => (deliverEvent = resolve), 5_000, "watch event");
    await NoderedUtil.UpdateOne({ collectionname: "entities", item: { ...item, name: "two" } });
    await event;
    await NoderedUtil.UnWatch({ id: watchId });

    // Server-started queuemessage to the worker, acknowledged by the official client's echo reply.
    const inbox = await officialInbox(NoderedUtil, worker, "peer.worker");
    await NoderedUtil.Queue({ websocket: admin, queuename: "peer.worker", data: { text: "hello" } });
    const delivered = inbox.next();
    expect((await delivered).data.text).toBe("hello");
  });

  it("records chunked traffic in both directions at a 150-character package size", async () => {
    const ws = await client(small.url, "admin");
    WebSocketClient.instance = ws;
    const text = "chunk ".repeat(150) + "ünïcödé";
    const inserted = await NoderedUtil.InsertOne({ collectionname: "big", item: { text } });
    expect(inserted.text).toBe(text);
  });

  it("validates every recorded capture without findings", async () => {
    // Let the last acknowledgements (queuemessage echo) reach the server before reading the captures.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const [connection, lines] of captures) writeFileSync(join(dir, `${connection}.ndjson`), `${lines.join("\n")}\n`);
    expect(readdirSync(dir).length).toBeGreaterThanOrEqual(3);
    let out = "";
    const code = await main(["--format", "json", dir], { stdout: (t) => void (out += t), stderr: () => {} });
    const report = JSON.parse(out) as { findings: unknown[]; summary: { frames: number; messages: number } };
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    // Chunked messages were reassembled: more frames than messages.
    expect(report.summary.frames).toBeGreaterThan(report.summary.messages);
    const all = [...captures.values()].flat().join("\n");
    for (const command of ['"command":"queuemessage"', '"command":"watchevent"', '"command":"signin"']) expect(all).toContain(command);
    // Chunked both ways: a c2s message and an s2c message of several frames.
    expect(all).toMatch(/"dir":"c2s","frame":\{[^\n]*"count":[2-9]/);
    expect(all).toMatch(/"dir":"s2c","frame":\{[^\n]*"count":[2-9]/);
    // The server-started queuemessage was acknowledged by the client (a c2s queuemessage with replyto).
    expect(all).toMatch(/"dir":"c2s","frame":\{[^\n]*"replyto":"[^"]+","command":"queuemessage"/);
  });

  it("finds the one problem when a recorded capture is damaged", () => {
    type Line = { dir: string; frame: { command: string; replyto?: string } };
    const parsed = (l: string): Line => JSON.parse(l) as Line;
    const isPush = (l: string): boolean => parsed(l).dir === "s2c" && parsed(l).frame.command === "queuemessage" && !parsed(l).frame.replyto;
    const isAck = (l: string): boolean => parsed(l).dir === "c2s" && parsed(l).frame.command === "queuemessage" && !!parsed(l).frame.replyto;
    const worker = [...captures.values()].find((lines) => lines.some(isPush));
    expect(worker).toBeDefined();
    const withoutAck = (worker as string[]).filter((l) => !isAck(l));
    expect(withoutAck.length).toBe((worker as string[]).length - 1);
    const v = new CaptureValidator({ file: "worker" });
    withoutAck.forEach((line, i) => v.push(line, { line: i + 1 }));
    expect(v.finish().map((f) => [f.code, f.command, f.dir])).toEqual([["unacknowledged-push", "queuemessage", "s2c"]]);
  });
});
