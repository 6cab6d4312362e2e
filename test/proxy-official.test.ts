/**
 * The official client `@openiap/openflow-api` through `openflow-spec proxy` against the local server: a session
 * of signin, CRUD, a queue round trip, a watch and chunked messages. The proxy's live check finds nothing, the
 * capture file validates clean with the same validator `openflow-spec validate` runs, and the real password and
 * tokens appear nowhere in it while the fields that held them are still present.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, type RunningProxy } from "../proxy/index.js";
import { startServer, type RunningServer } from "../server/index.js";
import { openCaptureFile, type CaptureFile } from "../validator/capture-file.js";
import type { Finding } from "../validator/findings.js";
import { REDACTED } from "../validator/redact.js";
import { validateInput } from "../validator/run.js";
import { officialConnect, waitFor } from "./server-helpers.js";

const require = createRequire(import.meta.url);
const api = require("@openiap/openflow-api") as any;
const { WebSocketClient, NoderedUtil, ApiConfig } = api;
ApiConfig.log_error = false;

const ADMIN_PASSWORD = "admin-secret-pw-4711";
const ALICE_PASSWORD = "alice-secret-pw-0815";

let dir = "";
let server: RunningServer;
let proxy: RunningProxy;
let capture: CaptureFile;
const live: Finding[] = [];
const clients: any[] = [];
/** Every jwt the session saw: none may be in the capture. */
const tokens = new Set<string>();
/** What the server received, to compare with what the clients sent through the proxy. */
let serverIn = 0;

/** Some api helpers take the connection from this static field. */
function use(ws: any): void {
  WebSocketClient.instance = ws;
}

const client = (): Promise<any> => officialConnect(WebSocketClient, proxy.url, clients);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "openflow-proxy-"));
  // A small package size: the signin reply (with its jwt) and large documents travel in several chunks.
  server = await startServer({
    packageSize: 700,
    users: [
      { username: "admin", password: ADMIN_PASSWORD, roles: ["admins"] },
      { username: "alice", password: ALICE_PASSWORD },
    ],
    onFrame: (direction) => {
      if (direction === "in") serverIn++;
    },
  });
  capture = await openCaptureFile(join(dir, "session.ndjson"));
  proxy = await startProxy({ upstream: server.url, capture, onFinding: (f) => live.push(f) });
});

afterAll(async () => {
  for (const ws of clients) ws.close();
  await proxy?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the official client through the proxy", () => {
  let admin: any;

  it("signs in", async () => {
    admin = await client();
    use(admin);
    const reply = await NoderedUtil.SigninWithUsername({ username: "admin", password: ADMIN_PASSWORD });
    expect(reply.user.username).toBe("admin");
    expect(reply.websocket_package_size).toBe(700);
    tokens.add(reply.jwt);
  });

  it("inserts, queries, updates and deletes", async () => {
    use(admin);
    const inserted = await NoderedUtil.InsertOne({ collectionname: "entities", item: { _type: "test", name: "one", n: 1 } });
    expect(inserted._id).toMatch(/^[0-9a-f]{24}$/);
    await NoderedUtil.InsertMany({ collectionname: "entities", items: [{ _type: "test", name: "two", n: 2 }] });
    const found = await NoderedUtil.Query({ collectionname: "entities", query: { _type: "test" }, orderby: { n: 1 } });
    expect(found.map((d: any) => d.name)).toEqual(["one", "two"]);
    const updated = await NoderedUtil.UpdateOne({ collectionname: "entities", item: { ...inserted, n: 10 } });
    expect(updated.n).toBe(10);
    await NoderedUtil.DeleteOne({ collectionname: "entities", id: inserted._id });
    expect(await NoderedUtil.Count({ collectionname: "entities", query: { _type: "test" } })).toBe(1);
  });

  it("receives a watch event", async () => {
    use(admin);
    let deliver: (e: any) => void = () => {};
    const id = await NoderedUtil.Watch({ collectionname: "entities", aggregates: [], callback: (event: any) => deliver(event) });
    const arrived = waitFor<any>((resolve) => (deliver = resolve), 5_000, "watch event");
    await NoderedUtil.InsertOne({ collectionname: "entities", item: { _type: "watched", name: "w" } });
    expect((await arrived).fullDocument.name).toBe("w");
    await NoderedUtil.UnWatch({ id });
  });

  it("runs a queue round trip between two clients", async () => {
    const worker = await client();
    const signed = await NoderedUtil.SigninWithUsername({ username: "alice", password: ALICE_PASSWORD, websocket: worker });
    tokens.add(signed.jwt);
    await NoderedUtil.RegisterQueue({
      websocket: worker,
      queuename: "proxy.worker",
      callback: (msg: any, ack: (ok: boolean, result?: unknown) => void) => ack(true, { echoed: msg.data.text }),
    });
    use(admin);
    let deliver: (m: any) => void = () => {};
    const replyQueue = await NoderedUtil.RegisterQueue({
      websocket: admin,
      queuename: "",
      callback: (msg: any, ack: (ok: boolean) => void) => {
        ack(true);
        deliver(msg);
      },
    });
    const reply = waitFor<any>((resolve) => (deliver = resolve), 5_000, "queue reply");
    await NoderedUtil.Queue({ websocket: admin, queuename: "proxy.worker", replyto: replyQueue, data: { text: "ping?" }, correlationId: "c-1" });
    const msg = await reply;
    expect(msg.data.echoed).toBe("ping?");
    await NoderedUtil.CloseQueue({ websocket: admin, queuename: replyQueue });
  });

  it("sends and receives a chunked message", async () => {
    use(admin);
    const text = "chunk ".repeat(600) + "ünïcödé";
    const inserted = await NoderedUtil.InsertOne({ collectionname: "big", item: { text } });
    expect(inserted.text).toBe(text);
    const found = await NoderedUtil.Query({ collectionname: "big", query: {} });
    expect(found[0].text).toBe(text);
  });

  it("checked everything live without a finding, and forwarded every message", async () => {
    for (const ws of clients.splice(0)) ws.close();
    await proxy.close();
    await capture.close();
    expect(live).toEqual([]);
    expect(proxy.checkStats?.connections).toBe(2);
    expect(proxy.checkStats?.messages).toBeGreaterThan(20);
    // Every frame the clients sent reached the server.
    const lines = readFileSync(join(dir, "session.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.dir === "c2s")).toHaveLength(serverIn);
  });

  it("wrote a capture that validates clean, with connection ids, timestamps and chunks as sent", async () => {
    const file = join(dir, "session.ndjson");
    const findings: Finding[] = [];
    const summary = await validateInput(createReadStream(file), { file, mode: "capture", onFinding: (f) => findings.push(f) });
    expect(findings).toEqual([]);
    expect(summary.messages).toBeGreaterThan(20);
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(new Set(lines.map((l) => l.conn))).toEqual(new Set(["p1", "p2"]));
    for (const l of lines) expect(Number.isNaN(Date.parse(l.ts))).toBe(false);
    expect(lines.filter((l) => l.event === "close")).toHaveLength(2);
    const chunked = lines.filter((l) => l.frame?.count > 1);
    expect(chunked.some((l) => l.dir === "c2s" && l.frame.command === "insertone")).toBe(true);
    expect(chunked.some((l) => l.dir === "s2c" && l.frame.command === "signin")).toBe(true);
  });

  it("redacted every password and token, keeping the fields", () => {
    const text = readFileSync(join(dir, "session.ndjson"), "utf8");
    expect(tokens.size).toBe(2);
    for (const secret of [ADMIN_PASSWORD, ALICE_PASSWORD, ...tokens]) expect(text.includes(secret)).toBe(false);
    // The token signature alone must not leak either (a jwt can be split across chunks).
    for (const token of tokens) expect(text.includes(token.split(".")[2] as string)).toBe(false);
    // Reassemble the recorded messages: the redacted fields are still there, holding the marker.
    const messages = new Map<string, { command: string; parts: string[] }>();
    for (const l of text.trim().split("\n").map((line) => JSON.parse(line))) {
      if (!l.frame || typeof l.frame !== "object") continue;
      const key = `${l.conn}/${l.dir}/${l.frame.id}`;
      const m = messages.get(key) ?? { command: l.frame.command, parts: [] };
      m.parts[l.frame.index ?? 0] = l.frame.data ?? "";
      messages.set(key, m);
    }
    const payloads = [...messages.values()].flatMap((m) => {
      try {
        return [{ command: m.command, payload: JSON.parse(m.parts.join("")) }];
      } catch {
        return [];
      }
    });
    const signin = payloads.find((p) => p.command === "signin" && p.payload.username === "admin");
    expect(signin?.payload.password).toBe(REDACTED);
    const signinReply = payloads.find((p) => p.command === "signin" && p.payload.user?.username === "admin");
    expect(signinReply?.payload.jwt).toBe(REDACTED);
    const delivery = payloads.find((p) => p.command === "queuemessage" && p.payload.data?.text === "ping?" && p.payload.data.__jwt);
    expect(delivery?.payload.data.__jwt).toBe(REDACTED);
  });
});
